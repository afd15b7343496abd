"""The SQLite backend of the token service's :class:`~.base.Store` (the embedded default).

Two connections per store (a file; ``":memory:"`` has one):

* the **writer** runs every write, every multi-statement transaction and every multi-row read
  in a worker thread (``anyio.to_thread`` plus a lock), so a commit's fsync or a wait for
  another process's write lock never blocks the event loop;
* the **reader** (``PRAGMA query_only``, no busy wait) answers the single-row key lookups of
  the hot paths (:meth:`SQLiteStore.user_by_id`, ``user_by_name``, ``client_by_id``,
  ``refresh_token``, ``is_jti_revoked``, ``is_family_revoked``, ``failures``) directly on the
  event loop: a lookup takes a few microseconds, a hand-off to a worker thread about fifty, and
  under load the thread hand-offs contend for the GIL. In WAL mode a reader neither waits for
  the writer nor blocks it. Should a lookup still find the database busy (a WAL recovery, a
  checkpoint that truncates the log), it fails at once instead of waiting, and is retried in a
  worker thread on the writer connection with the full ``busy_timeout``: the event loop is
  never held for more than one lookup.

Several stores, threads or processes may share one database file: SQLite's own file locks
serialize writers.

Guarantees:

* **WAL** (``journal_mode=WAL``): readers never block the writer nor each other, and a commit
  is one append to the log. A lookup on the reader sees every commit that finished before it
  started (each lookup is its own read transaction, ended at once). ``synchronous=FULL`` by
  default: every commit is fsynced, so an acknowledged revocation, rotation or password change
  survives a killed process *and* a power loss (``NORMAL`` survives a killed process only; it
  is a constructor option).
* **Atomic writes**: every write runs in ``BEGIN IMMEDIATE`` (it takes the write lock first,
  so a read-modify-write never works on a stale snapshot); a busy database is waited for up to
  ``busy_timeout`` seconds. :meth:`SQLiteStore.rotate_refresh_token` is a compare-and-set
  (``UPDATE ... WHERE rotated_at IS NULL AND revoked_at IS NULL AND expires_at > now`` and
  its row count), so of any number of concurrent rotations exactly one wins (RFC 9700 §4.14.2).
* **Versioned migrations**: migration *N* is ``MIGRATIONS[N - 1]``, a list of SQL statements
  (or checks: functions of the connection that raise :class:`~.base.StoreError` to refuse);
  :meth:`SQLiteStore.open` applies the missing ones in one transaction and records each in
  ``schema_version``. A database written by a newer jwtkit is refused.
* **Usernames** are unique ignoring ASCII case (a ``UNIQUE`` index on ``username COLLATE
  NOCASE``) and looked up the same way; usernames are ASCII (``check_username``), so this is
  the Unicode case folding of every valid name.
* **Attempts** (:meth:`SQLiteStore.reserve_attempt`) are checked and counted in one
  ``BEGIN IMMEDIATE`` transaction, so of concurrent attempts no more than the limit are
  admitted, in one process or many.
* **Errors**: every ``sqlite3`` error becomes a :class:`~.base.StoreError`; a unique-key
  violation becomes :class:`~.base.Conflict`.
* **Permissions**: a new database file is created with mode ``0600``; SQLite gives its
  ``-wal`` and ``-shm`` files the database file's mode. An existing file is left as it is.
* **Access** (:data:`~.base.Access`): only ``access="create"`` (the default) creates the file.
  ``"write"`` and ``"read"`` open an existing file (SQLite's ``mode=rw`` / ``mode=ro``, so a
  file removed meanwhile is not recreated either) and raise :class:`~.base.DatabaseMissing`
  when there is none; ``"read"`` sets no pragma that writes, migrates nothing and refuses a
  database whose schema is not the current one.

Refresh tokens are stored by their SHA-256 (``BLOB``), never in clear; times are Unix seconds
(``REAL``).
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Literal, TypeVar

from .._extras import MissingExtra
from ..models import (
    AttemptReservation,
    AuthorizationCode,
    Client,
    CodeRedemption,
    Consent,
    LoginSession,
    RefreshToken,
    RotationOutcome,
    SigningKeyRecord,
    User,
)
from . import rows
from .base import Access, Conflict, DatabaseMissing, SchemaStatus, StoreError, schema_status

try:
    import anyio.to_thread
except ImportError as exc:  # pragma: no cover - anyio comes with the server extra
    raise MissingExtra("anyio", "server") from exc

__all__ = ["MIGRATIONS", "MIGRATION_SUMMARIES", "MigrationStep", "SQLiteStore"]

_T = TypeVar("_T")

_MEMORY = ":memory:"
#: SQLite's URI ``mode`` of a connection per access: "write" and "read" never create the file.
_URI_MODES: dict[Access, str] = {"write": "rw", "read": "ro"}

#: One step of a migration: an SQL statement, or a check of the database that raises
#: :class:`~.base.StoreError` to refuse the migration (nothing of it is applied then).
MigrationStep = str | Callable[[sqlite3.Connection], None]


#: How to rename a user by hand (no jwtkit command can open a database it must first migrate).
_RENAME_EXAMPLE = "sqlite3 <database> \"UPDATE users SET username = 'alice-2' WHERE id = '<id>'\""


def _refuse_case_collisions(conn: sqlite3.Connection) -> None:
    """Migration 3's check: usernames that differ only in case cannot become unique ignoring
    case without losing a user, so the migration is refused, naming them and the fix."""
    groups = conn.execute(
        "SELECT group_concat(quote(username) || ' (id ' || id || ')', ', ') FROM users"
        " GROUP BY username COLLATE NOCASE HAVING COUNT(*) > 1 ORDER BY MIN(username)"
    ).fetchall()
    if not groups:
        return
    path = conn.execute("PRAGMA database_list").fetchone()[2] or _MEMORY
    collisions = "; ".join(str(group[0]) for group in groups)
    raise StoreError(
        f"cannot upgrade the database {path!r}: usernames are now unique ignoring case, and"
        f" these users differ only in case: {collisions}. Nothing was changed. Rename all but"
        f" one user of each group ({_RENAME_EXAMPLE}), or remove them with the jwtkit version"
        " that wrote the database; then start again"
    )


#: The schema, one entry per version: migration N is ``MIGRATIONS[N - 1]``. Append only;
#: never edit a released migration (databases in the field already ran it).
MIGRATIONS: tuple[tuple[MigrationStep, ...], ...] = (
    (
        """CREATE TABLE users (
            id TEXT PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            created_at REAL NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
            tokens_valid_after REAL NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE clients (
            id TEXT PRIMARY KEY,
            secret_hash TEXT,
            grant_types TEXT NOT NULL,
            scopes TEXT NOT NULL,
            created_at REAL NOT NULL,
            name TEXT NOT NULL DEFAULT ''
        )""",
        """CREATE TABLE refresh_tokens (
            token_hash BLOB PRIMARY KEY CHECK (typeof(token_hash) = 'blob'),
            family_id TEXT NOT NULL,
            user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
            client_id TEXT NOT NULL,
            scope TEXT NOT NULL,
            issued_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            family_expires_at REAL NOT NULL,
            rotated_at REAL,
            successor_hash BLOB,
            revoked_at REAL
        )""",
        "CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)",
        "CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id)",
        "CREATE INDEX refresh_tokens_client ON refresh_tokens (client_id)",
        "CREATE INDEX refresh_tokens_family_expiry ON refresh_tokens (family_expires_at)",
        """CREATE TABLE revoked_jtis (
            jti TEXT PRIMARY KEY,
            expires_at REAL NOT NULL
        )""",
        "CREATE INDEX revoked_jtis_expiry ON revoked_jtis (expires_at)",
        """CREATE TABLE signing_keys (
            kid TEXT PRIMARY KEY,
            algorithm TEXT NOT NULL,
            public_jwk TEXT NOT NULL,
            encrypted_private BLOB NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'retired')),
            created_at REAL NOT NULL,
            activated_at REAL,
            retired_at REAL,
            publish_until REAL
        )""",
        """CREATE TABLE rate_limits (
            bucket TEXT PRIMARY KEY,
            failures INTEGER NOT NULL,
            window_end REAL NOT NULL
        )""",
        "CREATE INDEX rate_limits_window_end ON rate_limits (window_end)",
    ),
    # 2: the password generation carried by access tokens (exact where a whole-second iat is
    # not); existing users start at 0, as their tokens without the claim do.
    (
        "ALTER TABLE users ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0"
        " CHECK (token_generation >= 0)",
    ),
    # 3: usernames unique ignoring case (refused, changing nothing, while two
    # differ only in case); resource servers and their audiences (RFC 7662 §4); attempts in
    # progress, counted before a password is checked.
    (
        _refuse_case_collisions,
        "CREATE UNIQUE INDEX users_username_nocase ON users (username COLLATE NOCASE)",
        "ALTER TABLE clients ADD COLUMN audiences TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE rate_limits ADD COLUMN pending INTEGER NOT NULL DEFAULT 0"
        " CHECK (pending >= 0)",
    ),
    # 4: the user's profile for OpenID Connect userinfo (Core §5.1): e-mail address, whether
    # it is verified, full name; existing users have none (NULL) and nothing verified.
    (
        "ALTER TABLE users ADD COLUMN email TEXT",
        "ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0"
        " CHECK (email_verified IN (0, 1))",
        "ALTER TABLE users ADD COLUMN name TEXT",
    ),
    # 5: clients of the authorization code flow (OAuth 2.1 §2.3.1): their redirect URIs, a JSON
    # array in registration order, and whether they are first-party (no consent page). Existing
    # clients have no redirect URI and are not first-party: the built-in client named by the
    # first_party_client_id setting, stored or not, is first-party by that setting at run time
    # (jwtkit.server.clients.is_first_party), which a migration cannot read.
    (
        "ALTER TABLE clients ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE clients ADD COLUMN first_party INTEGER NOT NULL DEFAULT 0"
        " CHECK (first_party IN (0, 1))",
    ),
    # 6: the browser login of OpenID Connect: login sessions (the cookie's SHA-256, never the
    # cookie), remembered consents, authorization codes (their SHA-256 and what they are bound
    # to); RP-Initiated Logout's redirect URIs and the ID-token algorithm of a client; the
    # resource indicators (RFC 8707) of a refresh family. Existing rows have none of them.
    (
        "ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE clients ADD COLUMN id_token_signed_response_alg TEXT",
        "ALTER TABLE refresh_tokens ADD COLUMN resource TEXT NOT NULL DEFAULT '[]'",
        """CREATE TABLE login_sessions (
            sid TEXT PRIMARY KEY,
            cookie_hash BLOB NOT NULL UNIQUE,
            user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            auth_time REAL NOT NULL,
            created_at REAL NOT NULL,
            idle_expires_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            ended_at REAL
        )""",
        "CREATE INDEX login_sessions_user ON login_sessions (user_id)",
        """CREATE TABLE consents (
            user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            client_id TEXT NOT NULL,
            scopes TEXT NOT NULL,
            granted_at REAL NOT NULL,
            PRIMARY KEY (user_id, client_id)
        )""",
        """CREATE TABLE authorization_codes (
            code_hash BLOB PRIMARY KEY,
            client_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            redirect_uri TEXT,
            scope TEXT NOT NULL,
            code_challenge TEXT NOT NULL,
            nonce TEXT,
            sid TEXT NOT NULL,
            auth_time REAL NOT NULL,
            issued_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            purge_after REAL NOT NULL,
            resource TEXT NOT NULL DEFAULT '[]',
            redeemed_at REAL,
            reused_at REAL,
            family_id TEXT,
            access_jti TEXT,
            access_expires_at REAL
        )""",
        "CREATE INDEX authorization_codes_purge ON authorization_codes (purge_after)",
    ),
    # 7: clients that authenticate with a key (private_key_jwt, RFC 7523 §2.2): their JWK Set of
    # public keys, the JSON text as registered (existing clients have none: NULL); and the keys
    # recorded by use_once until they expire (the jti of client assertions, RFC 7523 §3).
    (
        "ALTER TABLE clients ADD COLUMN jwks TEXT",
        """CREATE TABLE used_once (
            key TEXT PRIMARY KEY,
            expires_at REAL NOT NULL
        )""",
        "CREATE INDEX used_once_expiry ON used_once (expires_at)",
    ),
    # 8: DPoP (RFC 9449): the JWK SHA-256 thumbprint a refresh family is bound to (§5.8, public
    # clients) and the dpop_jkt of an authorization request a code is bound to (§10). Existing
    # rows are bound to no key: NULL.
    (
        "ALTER TABLE refresh_tokens ADD COLUMN dpop_jkt TEXT",
        "ALTER TABLE authorization_codes ADD COLUMN dpop_jkt TEXT",
    ),
)

#: What each migration does, one line each (``jwtkit db status``).
MIGRATION_SUMMARIES: tuple[str, ...] = (
    "the tables",
    "users.token_generation (the password generation carried by access tokens)",
    "usernames unique ignoring case, clients.audiences, rate_limits.pending",
    "the user profile: users.email, users.email_verified, users.name",
    "clients of the authorization code flow: clients.redirect_uris, clients.first_party",
    "the browser login: login sessions, consents, authorization codes, logout redirect URIs,"
    " ID-token algorithms, resource indicators of refresh families",
    "clients that authenticate with a key (clients.jwks) and values used once",
    "DPoP key bindings: refresh_tokens.dpop_jkt, authorization_codes.dpop_jkt",
)

# Every statement spelled out (no string building): column lists match the models' fields.
_USER_BY_ID = (
    "SELECT id, username, password_hash, created_at, disabled, tokens_valid_after,"
    " token_generation, email, email_verified, name FROM users WHERE id = ?"
)
_USER_BY_NAME = (
    "SELECT id, username, password_hash, created_at, disabled, tokens_valid_after,"
    " token_generation, email, email_verified, name FROM users WHERE username = ? COLLATE NOCASE"
)
_ALL_USERS = (
    "SELECT id, username, password_hash, created_at, disabled, tokens_valid_after,"
    " token_generation, email, email_verified, name FROM users ORDER BY username"
)
_INSERT_USER = (
    "INSERT INTO users (id, username, password_hash, created_at, disabled, tokens_valid_after,"
    " token_generation, email, email_verified, name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_CLIENT_BY_ID = (
    "SELECT id, secret_hash, grant_types, scopes, created_at, name, audiences, redirect_uris,"
    " first_party, post_logout_redirect_uris, id_token_signed_response_alg, jwks FROM clients"
    " WHERE id = ?"
)
_ALL_CLIENTS = (
    "SELECT id, secret_hash, grant_types, scopes, created_at, name, audiences, redirect_uris,"
    " first_party, post_logout_redirect_uris, id_token_signed_response_alg, jwks FROM clients"
    " ORDER BY id"
)
_INSERT_CLIENT = (
    "INSERT INTO clients (id, secret_hash, grant_types, scopes, created_at, name, audiences,"
    " redirect_uris, first_party, post_logout_redirect_uris, id_token_signed_response_alg, jwks)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT_TOKEN = (
    "SELECT token_hash, family_id, user_id, client_id, scope, issued_at, expires_at,"
    " family_expires_at, rotated_at, successor_hash, revoked_at, resource, dpop_jkt"
    " FROM refresh_tokens WHERE token_hash = ?"
)
_SESSION_BY_COOKIE = (
    "SELECT sid, cookie_hash, user_id, auth_time, created_at, idle_expires_at, expires_at,"
    " ended_at FROM login_sessions WHERE cookie_hash = ?"
)
_SESSION_BY_SID = (
    "SELECT sid, cookie_hash, user_id, auth_time, created_at, idle_expires_at, expires_at,"
    " ended_at FROM login_sessions WHERE sid = ?"
)
_INSERT_SESSION = (
    "INSERT INTO login_sessions (sid, cookie_hash, user_id, auth_time, created_at,"
    " idle_expires_at, expires_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT_CODE = (
    "SELECT code_hash, client_id, user_id, redirect_uri, scope, code_challenge, nonce, sid,"
    " auth_time, issued_at, expires_at, purge_after, resource, redeemed_at, reused_at,"
    " family_id, access_jti, access_expires_at, dpop_jkt FROM authorization_codes"
    " WHERE code_hash = ?"
)
_INSERT_CODE = (
    "INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope,"
    " code_challenge, nonce, sid, auth_time, issued_at, expires_at, purge_after, resource,"
    " redeemed_at, reused_at, family_id, access_jti, access_expires_at, dpop_jkt)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_JTI_REVOKED = "SELECT 1 FROM revoked_jtis WHERE jti = ? AND expires_at > ?"
# A family is revoked when none of its records is unrevoked (every revocation revokes them all,
# and a revoked family gets no new record); one not stored at all counts as revoked. For a live
# family the first index entry answers.
_FAMILY_LIVE = "SELECT 1 FROM refresh_tokens WHERE family_id = ? AND revoked_at IS NULL LIMIT 1"
_FAILURES = "SELECT failures, window_end FROM rate_limits WHERE bucket = ? AND window_end > ?"
_INSERT_TOKEN = (
    "INSERT INTO refresh_tokens (token_hash, family_id, user_id, client_id, scope, issued_at,"
    " expires_at, family_expires_at, rotated_at, successor_hash, revoked_at, resource, dpop_jkt)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# The compare-and-set of a rotation: only an active token of the same family is exchanged.
_ROTATE_TOKEN = (
    "UPDATE refresh_tokens SET rotated_at = ?, successor_hash = ?"
    " WHERE token_hash = ? AND family_id = ? AND rotated_at IS NULL AND revoked_at IS NULL"
    " AND expires_at > ? AND family_expires_at > ?"
)
# (count of active tokens, then revoke every unrevoked one) by family or by user.
_REVOKE = {
    "family_id": (
        "SELECT COUNT(*) FROM refresh_tokens WHERE family_id = ? AND rotated_at IS NULL"
        " AND revoked_at IS NULL AND expires_at > ? AND family_expires_at > ?",
        "UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL",
    ),
    "user_id": (
        "SELECT COUNT(*) FROM refresh_tokens WHERE user_id = ? AND rotated_at IS NULL"
        " AND revoked_at IS NULL AND expires_at > ? AND family_expires_at > ?",
        "UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
    ),
}
_ALL_KEYS = (
    "SELECT kid, algorithm, public_jwk, encrypted_private, status, created_at, activated_at,"
    " retired_at, publish_until FROM signing_keys ORDER BY created_at, rowid"
)
_INSERT_KEY = (
    "INSERT INTO signing_keys (kid, algorithm, public_jwk, encrypted_private, status,"
    " created_at, activated_at, retired_at, publish_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPDATE_KEY = (
    "UPDATE signing_keys SET algorithm = ?, public_jwk = ?, encrypted_private = ?, status = ?,"
    " created_at = ?, activated_at = ?, retired_at = ?, publish_until = ? WHERE kid = ?"
)
# Fixed-window failure counter: a new window starts at the first failure after the last ended
# (attempts still in progress from the ended window are not carried over).
_RECORD_FAILURE = (
    "INSERT INTO rate_limits (bucket, failures, window_end) VALUES (?, 1, ?)"
    " ON CONFLICT (bucket) DO UPDATE SET"
    " failures = CASE WHEN window_end <= ? THEN 1 ELSE failures + 1 END,"
    " pending = CASE WHEN window_end <= ? THEN 0 ELSE pending END,"
    " window_end = CASE WHEN window_end <= ? THEN excluded.window_end ELSE window_end END"
)
# The same window rules for one attempt in progress more (reserve_attempt).
_ADD_PENDING = (
    "INSERT INTO rate_limits (bucket, failures, pending, window_end) VALUES (?, 0, 1, ?)"
    " ON CONFLICT (bucket) DO UPDATE SET"
    " failures = CASE WHEN window_end <= ? THEN 0 ELSE failures END,"
    " pending = CASE WHEN window_end <= ? THEN 1 ELSE pending + 1 END,"
    " window_end = CASE WHEN window_end <= ? THEN excluded.window_end ELSE window_end END"
)
_WINDOW_END = "SELECT window_end FROM rate_limits WHERE bucket = ?"
_USED = "SELECT failures + pending, window_end FROM rate_limits WHERE bucket = ? AND window_end > ?"
# One attempt in progress fewer, only in the window it was counted in.
_END_PENDING = (
    "UPDATE rate_limits SET pending = MAX(pending - 1, 0) WHERE bucket = ? AND window_end = ?"
)
# Record a key, or replace its expired record; the row count says whether this call did (an
# unexpired record fails the WHERE of the update: nothing changes, 0 rows).
_USE_ONCE = (
    "INSERT INTO used_once (key, expires_at) VALUES (?, ?) ON CONFLICT (key)"
    " DO UPDATE SET expires_at = excluded.expires_at WHERE used_once.expires_at <= ?"
)
_PURGE = (
    "DELETE FROM revoked_jtis WHERE expires_at <= ?",
    "DELETE FROM refresh_tokens WHERE family_expires_at <= ?",
    "DELETE FROM rate_limits WHERE window_end <= ?",
    "DELETE FROM login_sessions WHERE ended_at IS NOT NULL OR expires_at <= ?1"
    " OR idle_expires_at <= ?1",
    "DELETE FROM authorization_codes WHERE purge_after <= ?",
    "DELETE FROM used_once WHERE expires_at <= ?",
)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    """``True`` for SQLITE_BUSY / SQLITE_LOCKED ("database is locked", "... is busy")."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _create_private_file(path: str) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (an empty file is a new database)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreError(f"cannot create the database file {path!r}: {exc.strerror}") from exc
    os.close(fd)


class SQLiteStore:
    """A :class:`~.base.Store` in one SQLite file (or ``":memory:"``, for tests).

    ``busy_timeout`` is how long a write (or a lookup that found the database busy, retried in
    a worker thread) waits for another connection's lock before it fails with
    :class:`~.base.StoreError`. ``synchronous`` is ``"FULL"`` (fsync every commit:
    durable across power loss) or ``"NORMAL"`` (durable across a killed process; faster).
    ``clock`` gives the time where the protocol passes none (:meth:`remove_client`, the
    migration log). ``access`` (:data:`~.base.Access`): whether :meth:`open` may create the
    file (``"create"``), needs it to exist (``"write"``), or needs it to exist and only reads
    (``"read"``).

    .. warning::
       ``":memory:"`` lives and dies with this store object: nothing is persisted and other
       stores do not see it.
    """

    #: The schema migrations this code knows (a subclass may extend them, e.g. in tests).
    migrations: tuple[tuple[MigrationStep, ...], ...] = MIGRATIONS
    #: One line per migration (``jwtkit db status``).
    summaries: tuple[str, ...] = MIGRATION_SUMMARIES

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 5.0,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
        clock: Callable[[], float] = time.time,
        access: Access = "create",
    ) -> None:
        if not (math.isfinite(busy_timeout) and busy_timeout >= 0):
            raise ValueError("busy_timeout must be a finite number of seconds >= 0")
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be 'FULL' or 'NORMAL'")
        if access not in ("create", "write", "read"):
            raise ValueError("access must be 'create', 'write' or 'read'")
        self.path = os.fspath(path)
        #: What names the database in messages (the absolute path, or ``":memory:"``).
        self.location = self.path if self.path == _MEMORY else os.path.abspath(self.path)
        self.access = access
        self.busy_timeout = busy_timeout
        self.synchronous = synchronous
        self._clock = clock
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        # The read-only connection of the lookups (None for ":memory:" and when closed). Taken
        # without waiting: a lookup that finds it busy (another thread's) uses the writer.
        self._reader_lock = threading.Lock()
        self._reader: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    async def __aenter__(self) -> SQLiteStore:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # plumbing ---------------------------------------------------------------------------
    async def _read(self, operation: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``operation`` (one statement: its own snapshot) in a worker thread."""
        return await anyio.to_thread.run_sync(self._call, operation)

    async def _lookup(self, sql: str, parameters: tuple[object, ...]) -> Any:
        """The first row of a single-row ``SELECT`` by key (or ``None``), on the event loop.

        Runs on the read-only connection, whose busy timeout is zero: in WAL mode a read
        waits for no writer, and in the rare cases where SQLite answers ``SQLITE_BUSY`` to a
        reader (a WAL recovery or a truncating checkpoint by another process) it does so at
        once. Any such operational error, and a reader in use by another thread, sends the
        lookup to a worker thread on the writer connection, which waits up to
        ``busy_timeout`` and reports what still fails as a :class:`~.base.StoreError`.
        """
        if self._reader_lock.acquire(blocking=False):
            try:
                reader = self._reader
                if reader is not None:
                    try:
                        return _fetch_one(reader, sql, parameters)
                    except sqlite3.OperationalError:
                        pass  # busy or locked: retried below, off the event loop
                    except sqlite3.Error as exc:
                        raise StoreError(f"SQLite error: {exc}") from exc
            finally:
                self._reader_lock.release()
        return await self._read(partial(_fetch_one, sql=sql, parameters=parameters))

    async def _write(self, operation: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``operation`` in a ``BEGIN IMMEDIATE`` transaction in a worker thread."""
        return await anyio.to_thread.run_sync(self._call, partial(_transaction, operation))

    def _call(self, operation: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._lock:
            if self._conn is None:
                raise StoreError("the SQLite store is not open")
            try:
                return operation(self._conn)
            except sqlite3.IntegrityError as exc:
                if "UNIQUE constraint failed" in str(exc):
                    raise Conflict(f"already exists ({exc})") from exc
                raise StoreError(f"SQLite integrity error: {exc}") from exc
            except sqlite3.Error as exc:
                raise StoreError(f"SQLite error: {exc}") from exc

    # lifecycle --------------------------------------------------------------------------
    async def open(self) -> None:
        """Open (with ``access="create"``, creating the file with mode 0600 if needed), set
        the pragmas, migrate. :class:`~.base.DatabaseMissing` when another ``access`` finds
        no file.

        Does nothing if the store is already open.
        """
        await anyio.to_thread.run_sync(self._open)

    def _open(self) -> None:
        with self._lock:
            if self._conn is not None:
                return
            memory = self.path == _MEMORY
            if not memory and self.access == "create":
                _create_private_file(self.path)
            elif not memory and not os.path.exists(self.path):
                raise DatabaseMissing(os.path.abspath(self.path))
            try:
                conn = self._connect(timeout=self.busy_timeout, memory=memory)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open the database {self.path!r}: {exc}") from exc
            reader = None
            try:
                self._prepare(conn, memory=memory)
                if not memory:
                    reader = self._connect_reader()
            except sqlite3.Error as exc:
                conn.close()
                raise StoreError(f"cannot open the database {self.path!r}: {exc}") from exc
            except BaseException:
                conn.close()
                raise
            self._conn = conn
            with self._reader_lock:
                self._reader = reader

    def _connect(self, *, timeout: float, memory: bool) -> sqlite3.Connection:
        """A connection to the file: by name for ``"create"`` (and ``":memory:"``), else by
        a ``file:`` URI whose ``mode`` (``rw``, ``ro``) never creates the file."""
        uri_mode = None if memory else _URI_MODES.get(self.access)
        target = self.path
        if uri_mode is not None:
            target = f"{pathlib.Path(os.path.abspath(self.path)).as_uri()}?mode={uri_mode}"
        return sqlite3.connect(
            target,
            timeout=timeout,
            isolation_level=None,  # no implicit transactions: ours are explicit
            check_same_thread=False,  # worker threads take turns under their lock
            uri=uri_mode is not None,
        )

    def _prepare(self, conn: sqlite3.Connection, *, memory: bool) -> None:
        """Set the pragmas and migrate. Several processes (``--workers N``) may open a new
        database at the same moment; a switch to WAL or a migration that finds the file
        locked by another opener is tried again until ``busy_timeout`` has passed.

        With ``access="read"``: only check that the schema is the current one."""
        if self.access == "read":
            conn.execute("PRAGMA foreign_keys=ON")
            self._check_schema(conn)
            return
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                self._configure(conn, memory=memory)
                _transaction(self._migrate, conn)
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)  # another opener holds the lock for a few milliseconds

    def _connect_reader(self) -> sqlite3.Connection:
        """The read-only connection of :meth:`_lookup` (the file exists and is migrated)."""
        # timeout=0: never wait on the event loop, _lookup retries in a thread instead;
        # autocommit: every lookup is its own read transaction.
        reader = self._connect(timeout=0, memory=False)
        try:
            reader.execute("PRAGMA query_only=ON")
        except BaseException:
            reader.close()
            raise
        return reader

    def _configure(self, conn: sqlite3.Connection, *, memory: bool) -> None:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if not memory and str(mode).lower() != "wal":
            raise StoreError(
                f"cannot use write-ahead logging on {self.path!r} (journal mode {mode!r});"
                " put the database on a local file system"
            )
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA synchronous={self.synchronous}")

    def _schema_version(self, conn: sqlite3.Connection) -> int | None:
        """The version recorded in the file (``None``: an empty file, no table yet); a newer
        one than this code knows and another program's database are :class:`StoreError`."""
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        if not tables:
            return None
        if "schema_version" not in tables:
            raise StoreError(
                f"{self.path!r} is an SQLite database but not a jwtkit one"
                " (it has no schema_version table); choose another file"
            )
        current = _scalar(conn, "SELECT COALESCE(MAX(version), 0) FROM schema_version")
        latest = len(self.migrations)
        if current > latest:
            raise StoreError(
                f"the database {self.path!r} has schema version {current}, newer than this"
                f" jwtkit supports ({latest}): upgrade jwtkit"
            )
        return current

    def _check_schema(self, conn: sqlite3.Connection) -> None:
        """For ``access="read"``: the schema must be the current one (nothing is migrated)."""
        current = self._schema_version(conn) or 0
        if current < len(self.migrations):
            raise StoreError(
                f"the database {self.path!r} has schema version {current}, older than this"
                f" jwtkit's ({len(self.migrations)}); it is migrated when the service"
                " (or a command that writes) opens it"
            )

    def _migrate(self, conn: sqlite3.Connection) -> None:
        current = self._schema_version(conn) or 0
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version"
            " (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
        )
        latest = len(self.migrations)
        for version in range(current + 1, latest + 1):
            for step in self.migrations[version - 1]:
                if callable(step):
                    step(conn)
                else:
                    conn.execute(step)
            conn.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                (version, self._clock()),
            )

    async def close(self) -> None:
        """Close the connections (after a running operation finishes). Idempotent."""
        await anyio.to_thread.run_sync(self._close)

    def _close(self) -> None:
        with self._lock, self._reader_lock:
            conn, self._conn = self._conn, None
            reader, self._reader = self._reader, None
            if reader is not None:
                reader.close()
            if conn is not None:
                conn.close()

    async def ping(self) -> None:
        """Read one row of the file (the schema version) as a lookup does: on the event loop
        through the read-only connection, so a busy writer never delays it."""
        await self._lookup("SELECT version FROM schema_version LIMIT 1", ())

    async def schema_version(self) -> int:
        """The schema version of the open database (the last migration applied)."""
        return await self._read(lambda c: _scalar(c, "SELECT MAX(version) FROM schema_version"))

    async def schema_status(self) -> SchemaStatus:
        """Where the schema stands, read on a read-only connection of its own (the store need
        not be open; an open in-memory store answers for its own database).
        :class:`~.base.DatabaseMissing` when the file does not exist."""
        return await anyio.to_thread.run_sync(self._schema_status)

    def _schema_status(self) -> SchemaStatus:
        if self.path == _MEMORY:
            with self._lock:
                conn = self._conn
                current = 0 if conn is None else self._schema_version(conn)
        else:
            if not os.path.exists(self.path):
                raise DatabaseMissing(self.location)
            uri = f"{pathlib.Path(self.location).as_uri()}?mode=ro"
            try:
                conn = sqlite3.connect(uri, uri=True, timeout=self.busy_timeout)
                try:
                    current = self._schema_version(conn)
                finally:
                    conn.close()
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read the database {self.path!r}: {exc}") from exc
        return schema_status(current or 0, self.migrations, self.summaries)

    # users ------------------------------------------------------------------------------
    async def add_user(self, user: User) -> None:
        """Insert ``user``; :class:`~.base.Conflict` if the id exists or the username does,
        ignoring case."""
        values = (
            user.id,
            user.username,
            user.password_hash,
            user.created_at,
            int(user.disabled),
            user.tokens_valid_after,
            user.token_generation,
            user.email,
            int(user.email_verified),
            user.name,
        )
        await self._write(lambda c: c.execute(_INSERT_USER, values))

    async def user_by_id(self, user_id: str) -> User | None:
        """The user with this id, or ``None`` (a lookup on the event loop)."""
        row = await self._lookup(_USER_BY_ID, (user_id,))
        return None if row is None else rows.user(row)

    async def user_by_name(self, username: str) -> User | None:
        """The user with this username ignoring ASCII case, or ``None``."""
        row = await self._lookup(_USER_BY_NAME, (username,))
        return None if row is None else rows.user(row)

    async def list_users(self) -> list[User]:
        """Every user, by username."""
        found = await self._read(lambda c: c.execute(_ALL_USERS).fetchall())
        return [rows.user(row) for row in found]

    async def set_password(
        self, user_id: str, password_hash: str, tokens_valid_after: float
    ) -> bool:
        """Store a new hash and the time of the change; add one to ``token_generation`` in the
        same statement."""
        return await self._update(
            "UPDATE users SET password_hash = ?, tokens_valid_after = ?,"
            " token_generation = token_generation + 1 WHERE id = ?",
            (password_hash, tokens_valid_after, user_id),
        )

    async def rehash_password(self, user_id: str, old_hash: str, new_hash: str) -> bool:
        """Compare-and-set: replace ``old_hash`` only if it is still the stored hash."""
        return await self._update(
            "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?",
            (new_hash, user_id, old_hash),
        )

    async def set_disabled(self, user_id: str, disabled: bool) -> bool:
        """Disable or enable a user; ``False`` if there is no such user."""
        return await self._update(
            "UPDATE users SET disabled = ? WHERE id = ?", (int(disabled), user_id)
        )

    async def set_profile(
        self, user_id: str, *, email: str | None, email_verified: bool, name: str | None
    ) -> bool:
        """Replace the user's e-mail address, its verified flag and name in one ``UPDATE``;
        ``False`` if there is no such user."""
        return await self._update(
            "UPDATE users SET email = ?, email_verified = ?, name = ? WHERE id = ?",
            (email, int(email_verified), name, user_id),
        )

    async def _update(self, sql: str, parameters: tuple[object, ...]) -> bool:
        """One ``UPDATE``; whether it matched a row."""
        return bool(await self._write(lambda c: c.execute(sql, parameters).rowcount))

    # clients ----------------------------------------------------------------------------
    async def add_client(self, client: Client) -> None:
        """Insert ``client``; :class:`~.base.Conflict` if the id exists."""
        values = (
            client.id,
            client.secret_hash,
            json.dumps(list(client.grant_types)),
            json.dumps(list(client.scopes)),
            client.created_at,
            client.name,
            json.dumps(list(client.audiences)),
            json.dumps(list(client.redirect_uris)),
            int(client.first_party),
            json.dumps(list(client.post_logout_redirect_uris)),
            client.id_token_signed_response_alg,
            client.jwks,
        )
        await self._write(lambda c: c.execute(_INSERT_CLIENT, values))

    async def client_by_id(self, client_id: str) -> Client | None:
        """The client with this id, or ``None`` (a lookup on the event loop)."""
        row = await self._lookup(_CLIENT_BY_ID, (client_id,))
        return None if row is None else rows.client(row)

    async def list_clients(self) -> list[Client]:
        """Every client, by id."""
        found = await self._read(lambda c: c.execute(_ALL_CLIENTS).fetchall())
        return [rows.client(row) for row in found]

    async def rehash_client_secret(self, client_id: str, old_hash: str, new_hash: str) -> bool:
        """Compare-and-set: replace a client's ``old_hash`` by ``new_hash`` only if it is still
        the stored one (the service upgrades older Argon2 hashes of client secrets to SHA-256
        digests at their first successful use); ``False`` otherwise.
        """
        return await self._update(
            "UPDATE clients SET secret_hash = ? WHERE id = ? AND secret_hash = ?",
            (new_hash, client_id, old_hash),
        )

    async def remove_client(self, client_id: str) -> bool:
        """Delete a client and revoke (at ``clock()``) every refresh token issued to it."""
        now = self._clock()

        def remove(conn: sqlite3.Connection) -> bool:
            if not conn.execute("DELETE FROM clients WHERE id = ?", (client_id,)).rowcount:
                return False
            conn.execute(
                "UPDATE refresh_tokens SET revoked_at = ?"
                " WHERE client_id = ? AND revoked_at IS NULL",
                (now, client_id),
            )
            return True

        return await self._write(remove)

    # refresh tokens ---------------------------------------------------------------------
    async def add_refresh_token(self, token: RefreshToken) -> None:
        """Store a token (the first of a new family); :class:`~.base.Conflict` if its hash
        exists, :class:`~.base.StoreError` if its ``user_id`` names no user."""
        values = rows.token_values(token)
        await self._write(lambda c: c.execute(_INSERT_TOKEN, values))

    async def refresh_token(self, token_hash: bytes) -> RefreshToken | None:
        """The stored token with this SHA-256, or ``None`` (a lookup on the event loop)."""
        row = await self._lookup(_SELECT_TOKEN, (bytes(token_hash),))
        return None if row is None else rows.refresh_token(row)

    async def rotate_refresh_token(
        self, token_hash: bytes, new: RefreshToken, now: float, grace_period: float
    ) -> RotationOutcome:
        """Atomically exchange an active token for ``new`` (RFC 9700 §4.14.2).

        A compare-and-set inside ``BEGIN IMMEDIATE``: the ``UPDATE`` matches only an active
        token, so of concurrent calls (any connection, any process) one sees ``"rotated"``.
        ``outcome.token`` is the presented token as stored after the call (``None`` if
        unknown). :class:`ValueError` if ``new`` belongs to another family than the active
        token it would replace (nothing is stored).
        """
        presented = bytes(token_hash)
        new_values = rows.token_values(new)

        def rotate(conn: sqlite3.Connection) -> RotationOutcome:
            swapped = conn.execute(
                _ROTATE_TOKEN, (now, new_values[0], presented, new.family_id, now, now)
            ).rowcount
            if swapped:
                conn.execute(_INSERT_TOKEN, new_values)
            old = _token_in(conn, presented)
            if old is None:
                return RotationOutcome("unknown")
            if swapped:
                return RotationOutcome("rotated", token=old)
            if old.revoked_at is not None:
                return RotationOutcome("revoked", token=old)
            if old.rotated_at is not None:
                # Grace covers only the immediate predecessor of the still-active token.
                if grace_period > 0 and now - old.rotated_at < grace_period:
                    successor = _token_in(conn, old.successor_hash)
                    if successor is not None and rows.is_active(successor, now):
                        return RotationOutcome(
                            "grace", token=old, successor_hash=successor.token_hash
                        )
                return RotationOutcome("reused", token=old)
            if old.expires_at <= now or old.family_expires_at <= now:
                return RotationOutcome("expired", token=old)
            raise ValueError("the new refresh token must belong to the presented token's family")

        return await self._write(rotate)

    async def revoke_family(self, family_id: str, now: float) -> int:
        """Revoke every token of a family; return how many were active (0 or 1)."""
        return await self._revoke("family_id", family_id, now)

    async def revoke_user_families(self, user_id: str, now: float) -> int:
        """Revoke every refresh family of a user; return how many tokens were active (one per
        live family)."""
        return await self._revoke("user_id", user_id, now)

    async def _revoke(self, column: Literal["family_id", "user_id"], value: str, now: float) -> int:
        count_active, revoke = _REVOKE[column]

        def run(conn: sqlite3.Connection) -> int:
            active = _scalar(conn, count_active, (value, now, now))
            conn.execute(revoke, (now, value))
            return active

        return await self._write(run)

    async def is_family_revoked(self, family_id: str) -> bool:
        """Whether the family was revoked or is not stored (a lookup on the event loop)."""
        return await self._lookup(_FAMILY_LIVE, (family_id,)) is None

    # revoked access tokens --------------------------------------------------------------
    async def revoke_jti(self, jti: str, expires_at: float) -> None:
        """Remember a revoked access token until its ``exp`` (the later one if revoked twice)."""
        await self._write(
            lambda c: c.execute(
                "INSERT INTO revoked_jtis (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti)"
                " DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)",
                (jti, expires_at),
            )
        )

    async def is_jti_revoked(self, jti: str, now: float) -> bool:
        """Whether ``jti`` was revoked and its ``exp`` is still ahead of ``now`` (a lookup on
        the event loop)."""
        return await self._lookup(_JTI_REVOKED, (jti, now)) is not None

    # signing keys -----------------------------------------------------------------------
    async def add_signing_key(self, record: SigningKeyRecord) -> None:
        """Insert a key; :class:`~.base.Conflict` if its ``kid`` exists."""
        values = rows.key_values(record)
        await self._write(lambda c: c.execute(_INSERT_KEY, values))

    async def signing_keys(self) -> list[SigningKeyRecord]:
        """Every stored signing key, oldest first (``created_at``, then insertion order)."""
        found = await self._read(lambda c: c.execute(_ALL_KEYS).fetchall())
        return [SigningKeyRecord(*row) for row in found]

    async def update_signing_key(self, record: SigningKeyRecord) -> None:
        """Replace the stored record with the same ``kid``; :class:`~.base.StoreError` if none."""
        values = (*rows.key_values(record)[1:], record.kid)

        def update(conn: sqlite3.Connection) -> None:
            if not conn.execute(_UPDATE_KEY, values).rowcount:
                raise StoreError("there is no signing key with this kid")

        await self._write(update)

    # rate limits ------------------------------------------------------------------------
    async def record_failure(self, bucket: str, now: float, window: float) -> tuple[int, float]:
        """Count one failure in ``bucket``'s fixed window (a new ``window`` seconds long starts
        at the first failure after the last one ended); return (failures, seconds to reset)."""

        def record(conn: sqlite3.Connection) -> tuple[int, float]:
            conn.execute(_RECORD_FAILURE, (bucket, now + window, now, now, now))
            failures, window_end = conn.execute(
                "SELECT failures, window_end FROM rate_limits WHERE bucket = ?", (bucket,)
            ).fetchone()
            return int(failures), float(window_end) - now

        return await self._write(record)

    async def failures(self, bucket: str, now: float) -> tuple[int, float]:
        """(failures in the current window, seconds until it resets); (0, 0.0) if none."""
        row = await self._lookup(_FAILURES, (bucket, now))
        return (0, 0.0) if row is None else (int(row[0]), float(row[1]) - now)

    async def clear_failures(self, bucket: str) -> None:
        await self._write(
            lambda c: c.execute("DELETE FROM rate_limits WHERE bucket = ?", (bucket,))
        )

    async def reserve_attempt(
        self, limits: Sequence[tuple[str, int]], now: float, window: float
    ) -> AttemptReservation:
        """Check every bucket, then count the attempt in each, in one ``BEGIN IMMEDIATE``
        transaction (the write lock is held from the first read: no other connection or
        process counts in between)."""
        buckets = tuple(limits)

        def reserve(conn: sqlite3.Connection) -> AttemptReservation:
            waits = []
            for bucket, limit in buckets:
                row = conn.execute(_USED, (bucket, now)).fetchone()
                if row is not None and row[0] >= limit:
                    waits.append(float(row[1]) - now)
            if waits:
                return AttemptReservation(False, retry_after=max(waits))
            windows = []
            for bucket, _ in buckets:
                conn.execute(_ADD_PENDING, (bucket, now + window, now, now, now))
                window_end = _fetch_one(conn, _WINDOW_END, (bucket,))[0]
                windows.append((bucket, float(window_end)))
            return AttemptReservation(True, tuple(windows))

        return await self._write(reserve)

    async def settle_attempt(
        self,
        windows: Sequence[tuple[str, float]],
        now: float,
        window: float,
        *,
        failed: bool,
        forget: Sequence[str] = (),
    ) -> None:
        """End an admitted attempt in one transaction (see :class:`~.base.Store`)."""
        reserved, cleared = tuple(windows), tuple(forget)

        def settle(conn: sqlite3.Connection) -> None:
            for bucket, window_end in reserved:
                conn.execute(_END_PENDING, (bucket, window_end))
                if failed:
                    conn.execute(_RECORD_FAILURE, (bucket, now + window, now, now, now))
            for bucket in cleared:
                conn.execute("UPDATE rate_limits SET failures = 0 WHERE bucket = ?", (bucket,))

        await self._write(settle)

    # login sessions ---------------------------------------------------------------------
    async def add_session(self, session: LoginSession) -> None:
        """Store a new login session; :class:`~.base.Conflict` if its sid or cookie exists."""
        values = (
            session.sid,
            bytes(session.cookie_hash),
            session.user_id,
            session.auth_time,
            session.created_at,
            session.idle_expires_at,
            session.expires_at,
            session.ended_at,
        )
        await self._write(lambda c: c.execute(_INSERT_SESSION, values))

    async def session_by_cookie(self, cookie_hash: bytes) -> LoginSession | None:
        """The session of this cookie's SHA-256, or ``None`` (a lookup on the event loop)."""
        row = await self._lookup(_SESSION_BY_COOKIE, (bytes(cookie_hash),))
        return None if row is None else rows.session(row)

    async def session_by_sid(self, sid: str) -> LoginSession | None:
        """The session with this ``sid``, or ``None`` (a lookup on the event loop)."""
        row = await self._lookup(_SESSION_BY_SID, (sid,))
        return None if row is None else rows.session(row)

    async def touch_session(self, sid: str, idle_expires_at: float) -> None:
        """Move the idle expiry forward, capped at the absolute expiry."""
        await self._write(
            lambda c: c.execute(
                "UPDATE login_sessions SET idle_expires_at = MIN(MAX(idle_expires_at, ?),"
                " expires_at) WHERE sid = ? AND ended_at IS NULL",
                (idle_expires_at, sid),
            )
        )

    async def end_session(self, sid: str, now: float) -> bool:
        """End the session ``sid``; ``False`` if unknown or already ended."""
        return await self._update(
            "UPDATE login_sessions SET ended_at = ? WHERE sid = ? AND ended_at IS NULL",
            (now, sid),
        )

    async def end_user_sessions(self, user_id: str, now: float) -> int:
        """End every session of ``user_id``; return how many were not ended yet."""
        return await self._write(
            lambda c: (
                c.execute(
                    "UPDATE login_sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL",
                    (now, user_id),
                ).rowcount
            )
        )

    # consents ---------------------------------------------------------------------------
    async def consent(self, user_id: str, client_id: str) -> Consent | None:
        """What ``user_id`` granted ``client_id``, or ``None`` (a lookup on the event loop)."""
        row = await self._lookup(
            "SELECT user_id, client_id, scopes, granted_at FROM consents"
            " WHERE user_id = ? AND client_id = ?",
            (user_id, client_id),
        )
        if row is None:
            return None
        return Consent(row[0], row[1], tuple(json.loads(row[2])), row[3])

    async def grant_consent(self, consent: Consent) -> None:
        """Store ``consent``, replacing an earlier one of the same user and client."""
        values = (
            consent.user_id,
            consent.client_id,
            json.dumps(list(consent.scopes)),
            consent.granted_at,
        )
        await self._write(
            lambda c: c.execute(
                "INSERT INTO consents (user_id, client_id, scopes, granted_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes,"
                " granted_at = excluded.granted_at",
                values,
            )
        )

    # authorization codes ----------------------------------------------------------------
    async def add_code(self, code: AuthorizationCode) -> None:
        """Store a new code; :class:`~.base.Conflict` if its hash exists."""
        values = rows.code_values(code)
        await self._write(lambda c: c.execute(_INSERT_CODE, values))

    async def redeem_code(self, code_hash: bytes, now: float) -> CodeRedemption:
        """The compare-and-set of a code's single use (see :meth:`.Store.redeem_code`)."""
        key = bytes(code_hash)

        def redeem(conn: sqlite3.Connection) -> CodeRedemption:
            won = conn.execute(
                "UPDATE authorization_codes SET redeemed_at = ?"
                " WHERE code_hash = ? AND redeemed_at IS NULL AND expires_at > ?",
                (now, key, now),
            ).rowcount
            row = conn.execute(_SELECT_CODE, (key,)).fetchone()
            if row is None:
                return CodeRedemption("unknown")
            code = rows.code(row)
            if won:
                return CodeRedemption("redeemed", code)
            if code.redeemed_at is None:
                return CodeRedemption("expired", code)
            conn.execute(
                "UPDATE authorization_codes SET reused_at = ? WHERE code_hash = ?"
                " AND reused_at IS NULL",
                (now, key),
            )
            return CodeRedemption("reused", code)

        return await self._write(redeem)

    async def record_code_grant(
        self,
        code_hash: bytes,
        family_id: str | None,
        access_jti: str,
        access_expires_at: float,
    ) -> bool:
        """Record what a redeemed code's exchange issued; ``False`` if it was reused meanwhile
        (or is not a redeemed code)."""
        return await self._update(
            "UPDATE authorization_codes SET family_id = ?, access_jti = ?, access_expires_at = ?"
            " WHERE code_hash = ? AND redeemed_at IS NOT NULL AND reused_at IS NULL",
            (family_id, access_jti, access_expires_at, bytes(code_hash)),
        )

    # values used once -------------------------------------------------------------------
    async def use_once(self, key: str, expires_at: float, now: float) -> bool:
        """Record ``key`` until ``expires_at`` unless an unexpired record exists: one upsert in
        ``BEGIN IMMEDIATE`` (see :class:`~.base.Store`), so of concurrent calls with one key,
        in any connection or process, exactly one answers ``True``."""
        return bool(
            await self._write(lambda c: c.execute(_USE_ONCE, (key, expires_at, now)).rowcount)
        )

    # housekeeping -----------------------------------------------------------------------
    async def purge(self, now: float) -> int:
        """Delete revocations past their ``exp``, refresh tokens whose family has expired,
        rate-limit windows that have ended and :meth:`use_once` records that have expired;
        return how many rows went."""
        return await self._write(
            lambda c: sum(c.execute(statement, (now,)).rowcount for statement in _PURGE)
        )


def _scalar(conn: sqlite3.Connection, sql: str, parameters: tuple[object, ...] = ()) -> int:
    return int(conn.execute(sql, parameters).fetchone()[0])


def _fetch_one(conn: sqlite3.Connection, sql: str, parameters: tuple[object, ...]) -> Any:
    """The first row of ``sql`` (or ``None``); the statement is reset at once, so that no read
    transaction stays open on the connection (it would pin an old snapshot of the WAL)."""
    cursor = conn.execute(sql, parameters)
    try:
        return cursor.fetchone()
    finally:
        cursor.close()


def _token_in(conn: sqlite3.Connection, token_hash: bytes | None) -> RefreshToken | None:
    row = conn.execute(_SELECT_TOKEN, (token_hash,)).fetchone()
    return None if row is None else rows.refresh_token(row)


def _transaction(operation: Callable[[sqlite3.Connection], _T], conn: sqlite3.Connection) -> _T:
    """``operation`` inside ``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back if anything fails.

    ``IMMEDIATE`` takes the write lock before the first read, so a read-modify-write never
    works on a snapshot another connection has changed (in WAL mode that would fail with
    ``SQLITE_BUSY_SNAPSHOT`` instead of waiting).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = operation(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result
