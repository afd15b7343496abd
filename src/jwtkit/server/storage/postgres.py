"""The PostgreSQL backend of the token service's :class:`~.base.Store` (several hosts, one
database), on psycopg 3 with an :class:`psycopg_pool.AsyncConnectionPool`.

Every connection of the pool is in autocommit mode: a single statement is its own
transaction, and the few operations of several statements run in an explicit transaction
(``READ COMMITTED``, PostgreSQL's default). No operation reads a value and writes something
computed from it in a later statement without a lock on that row, so no isolation anomaly
(lost update, write skew) can happen at this level; each atomicity promise of the protocol
holds across connections, processes and hosts:

* :meth:`PostgresStore.rotate_refresh_token`: the compare-and-set ``UPDATE refresh_tokens ...
  WHERE token_hash = ... AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > now
  ... RETURNING``, then the successor's ``INSERT``, in one transaction. A concurrent rotation
  of the same token waits for the row lock and then re-evaluates the ``WHERE`` on the row as
  committed (``READ COMMITTED`` re-checks an updated row): it matches no row, so exactly one
  call sees ``"rotated"``. The loser reads the token afterwards, in a statement that sees the
  winner's commit (rotation and successor), to tell ``reused`` from ``grace``.
* :meth:`~PostgresStore.redeem_code`: the compare-and-set ``UPDATE ... WHERE redeemed_at IS
  NULL AND expires_at > now RETURNING``. A call that does not win reads the code with
  ``SELECT ... FOR UPDATE`` (waiting for a concurrent :meth:`~PostgresStore.record_code_grant`
  and reading what it recorded) and marks the reuse in the same transaction. The grant is
  ``UPDATE ... WHERE reused_at IS NULL``: whichever of the two takes the row lock first, the
  other sees its effect, so a grant recorded after a reuse answers ``False``.
* :meth:`~PostgresStore.use_once`, :meth:`~PostgresStore.record_failure`,
  :meth:`~PostgresStore.revoke_jti`, :meth:`~PostgresStore.grant_consent`: one ``INSERT ...
  ON CONFLICT ... DO UPDATE`` each (the unique index serializes concurrent inserts of one
  key; the update works on the latest committed row). ``use_once``'s update has a ``WHERE``
  (the record has expired): its row count says whether this call recorded the key.
* :meth:`~PostgresStore.reserve_attempt`: one transaction that first locks every bucket's
  row in bucket order (an upsert that inserts a missing bucket or touches the existing one:
  ``INSERT ... ON CONFLICT (bucket) DO UPDATE``, which locks the row, like ``SELECT ... FOR
  UPDATE`` but also for a bucket not stored yet), reads its counts, and only then counts the
  attempt in each, or rolls back when one bucket is full. Concurrent reservations of a
  bucket thus take turns; the fixed lock order rules out deadlocks.
  :meth:`~PostgresStore.settle_attempt` works on the buckets in the same order.
* :meth:`~PostgresStore.set_password`, :meth:`~PostgresStore.rehash_password`,
  :meth:`~PostgresStore.rehash_client_secret`, the revocations, the session updates: one
  ``UPDATE`` each, whose ``WHERE`` and ``SET`` see the latest committed row (``token_generation
  = token_generation + 1``: two concurrent changes give two generations).
  :meth:`~PostgresStore.revoke_family` counts the active tokens in the same statement that
  revokes them (``WITH ... UPDATE ... RETURNING``).
* :meth:`~PostgresStore.add_user`: usernames are unique ignoring ASCII case through a unique
  index on ``lower(username COLLATE "C")`` (under the ``C`` collation ``lower()`` folds ASCII
  letters only, whatever the database's locale: SQLite's ``NOCASE``). Usernames are ASCII
  (``check_username``), so this is the case folding of every valid name.

A transaction that PostgreSQL aborts to break a deadlock or a serialization conflict (SQLSTATE
``40P01``, ``40001``) did nothing, and is run again (a few times) before the error is reported.

**Connections.** The pool keeps ``pool_min_size`` connections open and opens up to
``pool_size``; a call waits up to ``pool_timeout`` seconds for one. A connection that the server
has closed (a restart, a failover, an idle timeout) is noticed before use without a round trip
(its socket has become readable: the server's goodbye or end of file) and replaced, so the store
recovers by itself when the server is back; meanwhile calls fail with
:class:`~.base.StoreError` (the service answers 503). Every driver error becomes a
:class:`~.base.StoreError` whose message names neither values nor the URL's password.

**Migrations.** :data:`MIGRATIONS` is the PostgreSQL schema, versioned separately from
SQLite's: version 1 is the whole current schema (no PostgreSQL database predates it).
:meth:`PostgresStore.open` with ``access="create"`` applies the missing ones in one transaction
(DDL is transactional in PostgreSQL) under a transaction-level advisory lock, so that services
starting together migrate once.

Types: times are ``double precision`` (SQLite's ``REAL``: a Python float, exactly), hashes and
encrypted keys ``bytea``, flags ``boolean``, lists JSON text (kept character for character).
"""

from __future__ import annotations

import json
import math
import re
import select
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qsl, urlencode

from ..._urls import redacted_url
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
from .base import (
    Access,
    Conflict,
    DatabaseMissing,
    SchemaStatus,
    StoreError,
    schema_status,
)

try:
    import psycopg
    import psycopg.errors
    from psycopg.conninfo import conninfo_to_dict
    from psycopg_pool import AsyncConnectionPool
except ImportError as exc:  # pragma: no cover - exercised by tests/server/test_postgres_store.py
    raise MissingExtra(exc.name or "psycopg", "postgresql") from exc

__all__ = ["MIGRATIONS", "MIGRATION_SUMMARIES", "PostgresStore"]

_T = TypeVar("_T")
Connection = psycopg.AsyncConnection[tuple[Any, ...]]

#: The key of the advisory lock that serializes migrations (the bytes of "jwtkit").
MIGRATION_LOCK = int.from_bytes(b"jwtkit", "big")
#: How often a transaction aborted by a deadlock or serialization conflict is run again.
_RETRIES = 5
#: SQLSTATEs of a transaction aborted to break a deadlock or a serialization conflict.
_RETRYABLE = {"40001", "40P01"}
#: The server's answer to a connection to a database that does not exist.
_NO_DATABASE = re.compile(r'FATAL:\s+database ".*" does not exist')
#: The URL options of the pool, taken out of the URL before libpq reads it.
_POOL_OPTIONS = ("pool_size", "pool_min_size", "pool_timeout")

#: The schema, one entry per version: migration N is ``MIGRATIONS[N - 1]``. Append only;
#: never edit a released migration. Version 1 is the whole schema of SQLite's version 7.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE users (
            id TEXT PRIMARY KEY,
            username TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            disabled BOOLEAN NOT NULL DEFAULT FALSE,
            tokens_valid_after DOUBLE PRECISION NOT NULL DEFAULT 0,
            token_generation BIGINT NOT NULL DEFAULT 0 CHECK (token_generation >= 0),
            email TEXT,
            email_verified BOOLEAN NOT NULL DEFAULT FALSE,
            name TEXT
        )""",
        'CREATE UNIQUE INDEX users_username_nocase ON users (lower(username COLLATE "C"))',
        """CREATE TABLE clients (
            id TEXT PRIMARY KEY,
            secret_hash TEXT,
            grant_types TEXT NOT NULL,
            scopes TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            audiences TEXT NOT NULL DEFAULT '[]',
            redirect_uris TEXT NOT NULL DEFAULT '[]',
            first_party BOOLEAN NOT NULL DEFAULT FALSE,
            post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
            id_token_signed_response_alg TEXT,
            jwks TEXT
        )""",
        """CREATE TABLE refresh_tokens (
            token_hash BYTEA PRIMARY KEY,
            family_id TEXT NOT NULL,
            user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
            client_id TEXT NOT NULL,
            scope TEXT NOT NULL,
            issued_at DOUBLE PRECISION NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL,
            family_expires_at DOUBLE PRECISION NOT NULL,
            rotated_at DOUBLE PRECISION,
            successor_hash BYTEA,
            revoked_at DOUBLE PRECISION,
            resource TEXT NOT NULL DEFAULT '[]'
        )""",
        "CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)",
        "CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id)",
        "CREATE INDEX refresh_tokens_client ON refresh_tokens (client_id)",
        "CREATE INDEX refresh_tokens_family_expiry ON refresh_tokens (family_expires_at)",
        """CREATE TABLE revoked_jtis (
            jti TEXT PRIMARY KEY,
            expires_at DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX revoked_jtis_expiry ON revoked_jtis (expires_at)",
        """CREATE TABLE signing_keys (
            kid TEXT PRIMARY KEY,
            seq BIGINT GENERATED ALWAYS AS IDENTITY,
            algorithm TEXT NOT NULL,
            public_jwk TEXT NOT NULL,
            encrypted_private BYTEA NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'retired')),
            created_at DOUBLE PRECISION NOT NULL,
            activated_at DOUBLE PRECISION,
            retired_at DOUBLE PRECISION,
            publish_until DOUBLE PRECISION
        )""",
        """CREATE TABLE rate_limits (
            bucket TEXT PRIMARY KEY,
            failures INTEGER NOT NULL,
            pending INTEGER NOT NULL DEFAULT 0 CHECK (pending >= 0),
            window_end DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX rate_limits_window_end ON rate_limits (window_end)",
        """CREATE TABLE login_sessions (
            sid TEXT PRIMARY KEY,
            cookie_hash BYTEA NOT NULL UNIQUE,
            user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            auth_time DOUBLE PRECISION NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            idle_expires_at DOUBLE PRECISION NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL,
            ended_at DOUBLE PRECISION
        )""",
        "CREATE INDEX login_sessions_user ON login_sessions (user_id)",
        """CREATE TABLE consents (
            user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            client_id TEXT NOT NULL,
            scopes TEXT NOT NULL,
            granted_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (user_id, client_id)
        )""",
        """CREATE TABLE authorization_codes (
            code_hash BYTEA PRIMARY KEY,
            client_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            redirect_uri TEXT,
            scope TEXT NOT NULL,
            code_challenge TEXT NOT NULL,
            nonce TEXT,
            sid TEXT NOT NULL,
            auth_time DOUBLE PRECISION NOT NULL,
            issued_at DOUBLE PRECISION NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL,
            purge_after DOUBLE PRECISION NOT NULL,
            resource TEXT NOT NULL DEFAULT '[]',
            redeemed_at DOUBLE PRECISION,
            reused_at DOUBLE PRECISION,
            family_id TEXT,
            access_jti TEXT,
            access_expires_at DOUBLE PRECISION
        )""",
        "CREATE INDEX authorization_codes_purge ON authorization_codes (purge_after)",
        """CREATE TABLE used_once (
            key TEXT PRIMARY KEY,
            expires_at DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX used_once_expiry ON used_once (expires_at)",
    ),
    # 2: DPoP (RFC 9449): the JWK SHA-256 thumbprint a refresh family is bound to (§5.8, public
    # clients) and the dpop_jkt of an authorization request a code is bound to (§10). Existing
    # rows are bound to no key: NULL.
    (
        "ALTER TABLE refresh_tokens ADD COLUMN dpop_jkt TEXT",
        "ALTER TABLE authorization_codes ADD COLUMN dpop_jkt TEXT",
    ),
)

#: What each migration does, one line each (``jwtkit db status``).
MIGRATION_SUMMARIES: tuple[str, ...] = (
    "the whole schema (users, clients, refresh tokens, revocations, signing keys, rate"
    " limits, login sessions, consents, authorization codes, values used once)",
    "DPoP key bindings: refresh_tokens.dpop_jkt, authorization_codes.dpop_jkt",
)

# Every statement spelled out: column lists match the models' fields.
_USER_BY_ID = (
    "SELECT id, username, password_hash, created_at, disabled, tokens_valid_after, "
    "token_generation, email, email_verified, name FROM users WHERE id = %s"
)
_USER_BY_NAME = (
    "SELECT id, username, password_hash, created_at, disabled, tokens_valid_after, "
    'token_generation, email, email_verified, name FROM users WHERE lower(username COLLATE "C") '
    '= lower(%s::text COLLATE "C")'
)
_ALL_USERS = (
    "SELECT id, username, password_hash, created_at, disabled, tokens_valid_after, "
    'token_generation, email, email_verified, name FROM users ORDER BY username COLLATE "C"'
)
_INSERT_USER = (
    "INSERT INTO users (id, username, password_hash, created_at, disabled, tokens_valid_after, "
    "token_generation, email, email_verified, name) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, "
    "%s)"
)
_CLIENT_BY_ID = (
    "SELECT id, secret_hash, grant_types, scopes, created_at, name, audiences, redirect_uris, "
    "first_party, post_logout_redirect_uris, id_token_signed_response_alg, jwks FROM clients "
    "WHERE id = %s"
)
_ALL_CLIENTS = (
    "SELECT id, secret_hash, grant_types, scopes, created_at, name, audiences, redirect_uris, "
    "first_party, post_logout_redirect_uris, id_token_signed_response_alg, jwks FROM clients "
    'ORDER BY id COLLATE "C"'
)
_INSERT_CLIENT = (
    "INSERT INTO clients (id, secret_hash, grant_types, scopes, created_at, name, audiences, "
    "redirect_uris, first_party, post_logout_redirect_uris, id_token_signed_response_alg, jwks) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_SELECT_TOKEN = (
    "SELECT token_hash, family_id, user_id, client_id, scope, issued_at, expires_at, "
    "family_expires_at, rotated_at, successor_hash, revoked_at, resource, dpop_jkt FROM "
    "refresh_tokens WHERE token_hash = %s"
)
_INSERT_TOKEN = (
    "INSERT INTO refresh_tokens (token_hash, family_id, user_id, client_id, scope, issued_at, "
    "expires_at, family_expires_at, rotated_at, successor_hash, revoked_at, resource, dpop_jkt) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
# The compare-and-set of a rotation: only an active token of the same family is exchanged.
_ROTATE_TOKEN = (
    "UPDATE refresh_tokens SET rotated_at = %(now)s, successor_hash = %(new)s WHERE token_hash = "
    "%(presented)s AND family_id = %(family)s AND rotated_at IS NULL AND revoked_at IS NULL AND "
    "expires_at > %(now)s AND family_expires_at > %(now)s RETURNING token_hash, family_id, "
    "user_id, client_id, scope, issued_at, expires_at, family_expires_at, rotated_at, "
    "successor_hash, revoked_at, resource, dpop_jkt"
)
# Revoke every unrevoked token of a family (or a user) and count the active ones among them,
# in one statement.
_REVOKE = {
    "family_id": (
        "WITH revoked AS (UPDATE refresh_tokens SET revoked_at = %(now)s WHERE family_id = "
        "%(value)s AND revoked_at IS NULL RETURNING rotated_at, expires_at, family_expires_at) "
        "SELECT count(*) FROM revoked WHERE rotated_at IS NULL AND expires_at > %(now)s AND "
        "family_expires_at > %(now)s"
    ),
    "user_id": (
        "WITH revoked AS (UPDATE refresh_tokens SET revoked_at = %(now)s WHERE user_id = "
        "%(value)s AND revoked_at IS NULL RETURNING rotated_at, expires_at, family_expires_at) "
        "SELECT count(*) FROM revoked WHERE rotated_at IS NULL AND expires_at > %(now)s AND "
        "family_expires_at > %(now)s"
    ),
}
# A family is revoked when none of its records is unrevoked; one not stored counts as revoked.
_FAMILY_LIVE = "SELECT 1 FROM refresh_tokens WHERE family_id = %s AND revoked_at IS NULL LIMIT 1"
_JTI_REVOKED = "SELECT 1 FROM revoked_jtis WHERE jti = %s AND expires_at > %s"
_REVOKE_JTI = (
    "INSERT INTO revoked_jtis AS r (jti, expires_at) VALUES (%s, %s) ON CONFLICT (jti)"
    " DO UPDATE SET expires_at = GREATEST(r.expires_at, excluded.expires_at)"
)
_ALL_KEYS = (
    "SELECT kid, algorithm, public_jwk, encrypted_private, status, created_at, activated_at, "
    "retired_at, publish_until FROM signing_keys ORDER BY created_at, seq"
)
_INSERT_KEY = (
    "INSERT INTO signing_keys (kid, algorithm, public_jwk, encrypted_private, status, "
    "created_at, activated_at, retired_at, publish_until) VALUES (%s, %s, %s, %s, %s, %s, %s, "
    "%s, %s)"
)
_UPDATE_KEY = (
    "UPDATE signing_keys SET algorithm = %s, public_jwk = %s, encrypted_private = %s,"
    " status = %s, created_at = %s, activated_at = %s, retired_at = %s, publish_until = %s"
    " WHERE kid = %s"
)
# Fixed-window failure counter: a new window starts at the first failure after the last ended
# (attempts still in progress from the ended window are not carried over).
_RECORD_FAILURE = (
    "INSERT INTO rate_limits AS r (bucket, failures, pending, window_end)"
    " VALUES (%(bucket)s, 1, 0, %(end)s) ON CONFLICT (bucket) DO UPDATE SET"
    " failures = CASE WHEN r.window_end <= %(now)s THEN 1 ELSE r.failures + 1 END,"
    " pending = CASE WHEN r.window_end <= %(now)s THEN 0 ELSE r.pending END,"
    " window_end = CASE WHEN r.window_end <= %(now)s THEN excluded.window_end"
    " ELSE r.window_end END"
    " RETURNING failures, window_end"
)
_FAILURES = "SELECT failures, window_end FROM rate_limits WHERE bucket = %s AND window_end > %s"
# Lock a bucket's row, inserting it (as a window that has already ended: nothing counted) when
# missing; answers what it holds. Rolled back with the reservation when it is refused.
_LOCK_BUCKET = (
    "INSERT INTO rate_limits AS r (bucket, failures, pending, window_end)"
    " VALUES (%(bucket)s, 0, 0, %(now)s) ON CONFLICT (bucket) DO UPDATE SET bucket = r.bucket"
    " RETURNING failures + pending, window_end"
)
# One attempt in progress more, in the current window or a new one.
_ADD_PENDING = (
    "UPDATE rate_limits SET"
    " failures = CASE WHEN window_end <= %(now)s THEN 0 ELSE failures END,"
    " pending = CASE WHEN window_end <= %(now)s THEN 1 ELSE pending + 1 END,"
    " window_end = CASE WHEN window_end <= %(now)s THEN %(end)s ELSE window_end END"
    " WHERE bucket = %(bucket)s RETURNING window_end"
)
# One attempt in progress fewer, only in the window it was counted in.
_END_PENDING = (
    "UPDATE rate_limits SET pending = GREATEST(pending - 1, 0) WHERE bucket = %s"
    " AND window_end = %s"
)
_SESSION_BY_COOKIE = (
    "SELECT sid, cookie_hash, user_id, auth_time, created_at, idle_expires_at, expires_at, "
    "ended_at FROM login_sessions WHERE cookie_hash = %s"
)
_SESSION_BY_SID = (
    "SELECT sid, cookie_hash, user_id, auth_time, created_at, idle_expires_at, expires_at, "
    "ended_at FROM login_sessions WHERE sid = %s"
)
_INSERT_SESSION = (
    "INSERT INTO login_sessions (sid, cookie_hash, user_id, auth_time, created_at, "
    "idle_expires_at, expires_at, ended_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)
_INSERT_CODE = (
    "INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, "
    "code_challenge, nonce, sid, auth_time, issued_at, expires_at, purge_after, resource, "
    "redeemed_at, reused_at, family_id, access_jti, access_expires_at, dpop_jkt) VALUES (%s, %s, "
    "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_REDEEM_CODE = (
    "UPDATE authorization_codes SET redeemed_at = %(now)s WHERE code_hash = %(code)s AND "
    "redeemed_at IS NULL AND expires_at > %(now)s RETURNING code_hash, client_id, user_id, "
    "redirect_uri, scope, code_challenge, nonce, sid, auth_time, issued_at, expires_at, "
    "purge_after, resource, redeemed_at, reused_at, family_id, access_jti, access_expires_at, "
    "dpop_jkt"
)
# The latest committed state of a code, locked until the end of the transaction: a grant
# being recorded is waited for and read.
_LOCK_CODE = (
    "SELECT code_hash, client_id, user_id, redirect_uri, scope, code_challenge, nonce, sid, "
    "auth_time, issued_at, expires_at, purge_after, resource, redeemed_at, reused_at, family_id, "
    "access_jti, access_expires_at, dpop_jkt FROM authorization_codes WHERE code_hash = %s FOR "
    "UPDATE"
)
_USE_ONCE = (
    "INSERT INTO used_once AS u (key, expires_at) VALUES (%s, %s) ON CONFLICT (key)"
    " DO UPDATE SET expires_at = excluded.expires_at WHERE u.expires_at <= %s"
)
_PURGE = (
    "DELETE FROM revoked_jtis WHERE expires_at <= %(now)s",
    "DELETE FROM refresh_tokens WHERE family_expires_at <= %(now)s",
    "DELETE FROM rate_limits WHERE window_end <= %(now)s",
    "DELETE FROM login_sessions WHERE ended_at IS NOT NULL OR expires_at <= %(now)s"
    " OR idle_expires_at <= %(now)s",
    "DELETE FROM authorization_codes WHERE purge_after <= %(now)s",
    "DELETE FROM used_once WHERE expires_at <= %(now)s",
)


def _pool_options(url: str) -> tuple[str, dict[str, str]]:
    """Split the pool's own options (:data:`_POOL_OPTIONS`) from the libpq URL."""
    location, question, query = url.partition("?")
    if not question:
        return url, {}
    options = parse_qsl(query, keep_blank_values=True)
    ours = {k: v for k, v in options if k in _POOL_OPTIONS}
    rest = urlencode([(k, v) for k, v in options if k not in _POOL_OPTIONS])
    return (f"{location}?{rest}" if rest else location), ours


def _number(options: dict[str, str], name: str, default: float, *, integer: bool) -> float:
    text = options.get(name)
    if text is None:
        return default
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        value = -1
    if not (math.isfinite(value) and value > 0):
        kind = "a whole number" if integer else "a number of seconds"
        raise StoreError(f"the PostgreSQL URL option {name} must be {kind} > 0")
    return value


def _is_stale(conn: Connection) -> bool:
    """Whether an idle connection has something to read: the server's goodbye (a restart, an
    idle timeout) or the end of the stream. Answered without a round trip."""
    fd = conn.pgconn.socket
    if not hasattr(select, "poll"):  # pragma: no cover - Windows
        return bool(select.select([fd], [], [], 0)[0])
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def _message(exc: BaseException) -> str:
    """The driver's message in one line, without the details that may quote values."""
    diag = getattr(exc, "diag", None)
    primary = diag.message_primary if diag is not None else None
    text = primary or str(exc) or type(exc).__name__
    return " ".join(text.split())


async def _one(conn: Connection, sql: str, parameters: Any) -> Any:
    cursor = await conn.execute(sql, parameters)
    return await cursor.fetchone()


async def _count(conn: Connection, sql: str, parameters: Any) -> int:
    cursor = await conn.execute(sql, parameters)
    return cursor.rowcount


class PostgresStore:
    """A :class:`~.base.Store` in a PostgreSQL database (``postgresql://user:pass@host/db``).

    The URL is libpq's (every connection parameter works, ``?sslmode=verify-full`` for
    instance) plus the pool's options: ``pool_size`` (most connections, default 10),
    ``pool_min_size`` (kept open, default 1) and ``pool_timeout`` (seconds a call waits for a
    connection, default 5; also the connect timeout). ``access`` (:data:`~.base.Access`):
    ``"create"`` creates and migrates the schema in the existing database; ``"write"`` needs
    the schema (and migrates an older one); ``"read"`` needs the current schema and never
    writes (its sessions are read-only). ``clock`` gives the time where the protocol passes
    none (:meth:`remove_client`, the migration log).
    """

    #: The schema migrations this code knows (a subclass may extend them, e.g. in tests).
    migrations: tuple[tuple[str, ...], ...] = MIGRATIONS
    #: One line per migration (``jwtkit db status``).
    summaries: tuple[str, ...] = MIGRATION_SUMMARIES

    def __init__(
        self,
        url: str,
        *,
        access: Access = "create",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if access not in ("create", "write", "read"):
            raise ValueError("access must be 'create', 'write' or 'read'")
        self.location = redacted_url(url)
        conninfo, options = _pool_options(url)
        try:
            parameters = conninfo_to_dict(conninfo)
        except psycopg.Error as exc:
            problem = _message(exc).replace(conninfo, self.location)
            raise StoreError(
                f"the PostgreSQL URL {self.location} is not valid: {problem}"
            ) from None
        self._password = str(parameters.get("password") or "")
        self.pool_size = int(_number(options, "pool_size", 10, integer=True))
        self.pool_min_size = int(_number(options, "pool_min_size", 1, integer=True))
        self.pool_timeout = _number(options, "pool_timeout", 5.0, integer=False)
        if self.pool_min_size > self.pool_size:
            raise StoreError("the PostgreSQL URL option pool_min_size must not exceed pool_size")
        self._conninfo = conninfo
        # libpq waits whole seconds, at least 2 (a URL's own connect_timeout wins).
        self._connect_options: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in parameters:
            self._connect_options["connect_timeout"] = max(2, math.ceil(self.pool_timeout))
        self.access = access
        self._clock = clock
        self._pool: AsyncConnectionPool[Connection] | None = None

    def __repr__(self) -> str:
        return f"PostgresStore({self.location!r})"

    async def __aenter__(self) -> PostgresStore:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # plumbing ---------------------------------------------------------------------------
    def _error(self, exc: BaseException) -> StoreError:
        """The :class:`~.base.StoreError` of a driver error (the password scrubbed)."""
        text = _message(exc)
        if self._password:
            text = text.replace(self._password, "***")
        sqlstate = getattr(exc, "sqlstate", None)
        if isinstance(exc, psycopg.errors.UniqueViolation):
            diag = exc.diag
            return Conflict(f"already exists ({diag.table_name}: {diag.constraint_name})")
        if isinstance(exc, psycopg.OperationalError) and (
            sqlstate is None or sqlstate.startswith(("08", "57"))
        ):
            return StoreError(f"PostgreSQL at {self.location} is unavailable: {text}")
        return StoreError(f"PostgreSQL error: {text}")

    async def _connect(self) -> Connection:
        """A connection outside the pool (opening, migrations, :meth:`schema_status`)."""
        try:
            return await psycopg.AsyncConnection.connect(self._conninfo, **self._connect_options)
        except psycopg.OperationalError as exc:
            # libpq reports a failed connection without its SQLSTATE (3D000 here).
            if _NO_DATABASE.search(str(exc)):
                raise StoreError(
                    f"the PostgreSQL database of {self.location} does not exist: create it"
                    " (createdb), then start again"
                ) from None
            raise self._error(exc) from None

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Connection]:
        """A connection of the pool; one the server has closed meanwhile is replaced."""
        pool = self._pool
        if pool is None:
            raise StoreError("the PostgreSQL store is not open")
        while True:
            conn = await pool.getconn()
            if not _is_stale(conn):
                break
            await conn.close()  # the pool discards it and opens another
            await pool.putconn(conn)
        try:
            yield conn
        finally:
            await pool.putconn(conn)

    async def _run(self, work: Callable[[Connection], Awaitable[_T]]) -> _T:
        """``work`` on a connection of the pool; driver errors become StoreErrors, and work
        aborted by a deadlock or serialization conflict (which did nothing) runs again."""
        for attempt in range(_RETRIES):
            try:
                async with self._connection() as conn:
                    return await work(conn)
            except psycopg.Error as exc:
                if exc.sqlstate in _RETRYABLE and attempt + 1 < _RETRIES:
                    continue
                raise self._error(exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _transaction(self, work: Callable[[Connection], Awaitable[_T]]) -> _T:
        """``work`` in one transaction (``READ COMMITTED``), rolled back if it fails."""

        async def run(conn: Connection) -> _T:
            async with conn.transaction():
                return await work(conn)

        return await self._run(run)

    async def _fetchone(self, sql: str, parameters: Any) -> Any:
        return await self._run(lambda c: _one(c, sql, parameters))

    async def _fetchall(self, sql: str) -> list[tuple[Any, ...]]:
        async def fetch(conn: Connection) -> list[tuple[Any, ...]]:
            cursor = await conn.execute(sql)
            return await cursor.fetchall()

        return await self._run(fetch)

    async def _update(self, sql: str, parameters: Any) -> bool:
        """One statement; whether it changed a row."""
        return bool(await self._run(lambda c: _count(c, sql, parameters)))

    # lifecycle --------------------------------------------------------------------------
    async def open(self) -> None:
        """Connect, check or migrate the schema (see :data:`~.base.Access`), and start the
        pool. Does nothing if the store is already open."""
        if self._pool is not None:
            return
        conn = await self._connect()
        try:
            if self.access == "read":
                await self._check_schema(conn)
            else:
                await self._migrate(conn)
        except psycopg.Error as exc:
            raise self._error(exc) from None
        finally:
            await conn.close()
        pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            self._conninfo,
            kwargs=self._connect_options,
            min_size=self.pool_min_size,
            max_size=self.pool_size,
            timeout=self.pool_timeout,
            configure=self._configure if self.access == "read" else None,
            open=False,
            name="jwtkit",
        )
        await pool.open(wait=False)
        self._pool = pool

    @staticmethod
    async def _configure(conn: Connection) -> None:
        """A read-only store's connections: every transaction is read-only."""
        await conn.execute("SET default_transaction_read_only = on")

    async def close(self) -> None:
        """Close the pool's connections (after the calls running now). Idempotent."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _schema_version(self, conn: Connection) -> int | None:
        """The version recorded in the database (``None``: no table in its schema yet); a
        newer one than this code knows and another program's tables are StoreErrors."""
        cursor = await conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        tables = {row[0] for row in await cursor.fetchall()}
        if not tables:
            return None
        if "schema_version" not in tables:
            raise StoreError(
                f"the PostgreSQL database of {self.location} has tables but is not a jwtkit"
                " one (it has no schema_version table); choose another database or schema"
            )
        row = await _one(conn, "SELECT COALESCE(MAX(version), 0) FROM schema_version", ())
        current = int(row[0])
        latest = len(self.migrations)
        if current > latest:
            raise StoreError(
                f"the database {self.location} has schema version {current}, newer than this"
                f" jwtkit supports ({latest}): upgrade jwtkit"
            )
        return current

    async def _check_schema(self, conn: Connection) -> None:
        """For ``access="read"``: the schema must exist and be the current one."""
        current = await self._schema_version(conn)
        if current is None:
            raise DatabaseMissing(self.location)
        if current < len(self.migrations):
            raise StoreError(
                f"the database {self.location} has schema version {current}, older than this"
                f" jwtkit's ({len(self.migrations)}); run `jwtkit db upgrade`"
            )

    async def _migrate(self, conn: Connection) -> None:
        """Apply the missing migrations in one transaction, under the advisory lock that
        makes concurrent openers wait for each other (the later ones find the work done)."""
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            current = await self._schema_version(conn)
            if current is None and self.access != "create":
                raise DatabaseMissing(self.location)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version"
                " (version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"
            )
            for version in range((current or 0) + 1, len(self.migrations) + 1):
                for step in self.migrations[version - 1]:
                    await conn.execute(step)
                await conn.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (%s, %s)",
                    (version, self._clock()),
                )

    async def ping(self) -> None:
        """Read one row (the schema version) through the pool, as a lookup does: a database
        that does not answer within the pool's timeout is a :class:`~.base.StoreError`."""
        await self._fetchone("SELECT version FROM schema_version LIMIT 1", ())

    async def schema_version(self) -> int:
        """The schema version of the open database (the last migration applied)."""
        row = await self._fetchone("SELECT MAX(version) FROM schema_version", ())
        return int(row[0])

    async def schema_status(self) -> SchemaStatus:
        """Where the schema stands, read on a connection of its own (the store need not be
        open; nothing is written)."""
        conn = await self._connect()
        try:
            current = await self._schema_version(conn)
        except psycopg.Error as exc:
            raise self._error(exc) from None
        finally:
            await conn.close()
        return schema_status(current or 0, self.migrations, self.summaries)

    # users ------------------------------------------------------------------------------
    async def add_user(self, user: User) -> None:
        """Insert ``user``; :class:`~.base.Conflict` if the id exists or the username does,
        ignoring ASCII case (the unique index on ``lower(username COLLATE "C")``)."""
        values = (
            user.id,
            user.username,
            user.password_hash,
            user.created_at,
            user.disabled,
            user.tokens_valid_after,
            user.token_generation,
            user.email,
            user.email_verified,
            user.name,
        )
        await self._update(_INSERT_USER, values)

    async def user_by_id(self, user_id: str) -> User | None:
        row = await self._fetchone(_USER_BY_ID, (user_id,))
        return None if row is None else rows.user(row)

    async def user_by_name(self, username: str) -> User | None:
        """The user with this username ignoring ASCII case, or ``None``."""
        row = await self._fetchone(_USER_BY_NAME, (username,))
        return None if row is None else rows.user(row)

    async def list_users(self) -> list[User]:
        """Every user, by username (byte order, as SQLite's)."""
        return [rows.user(row) for row in await self._fetchall(_ALL_USERS)]

    async def set_password(
        self, user_id: str, password_hash: str, tokens_valid_after: float
    ) -> bool:
        """Store a new hash and the time of the change; add one to ``token_generation`` in the
        same statement."""
        return await self._update(
            "UPDATE users SET password_hash = %s, tokens_valid_after = %s,"
            " token_generation = token_generation + 1 WHERE id = %s",
            (password_hash, tokens_valid_after, user_id),
        )

    async def rehash_password(self, user_id: str, old_hash: str, new_hash: str) -> bool:
        """Compare-and-set: replace ``old_hash`` only if it is still the stored hash."""
        return await self._update(
            "UPDATE users SET password_hash = %s WHERE id = %s AND password_hash = %s",
            (new_hash, user_id, old_hash),
        )

    async def set_disabled(self, user_id: str, disabled: bool) -> bool:
        return await self._update(
            "UPDATE users SET disabled = %s WHERE id = %s", (disabled, user_id)
        )

    async def set_profile(
        self, user_id: str, *, email: str | None, email_verified: bool, name: str | None
    ) -> bool:
        return await self._update(
            "UPDATE users SET email = %s, email_verified = %s, name = %s WHERE id = %s",
            (email, email_verified, name, user_id),
        )

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
            client.first_party,
            json.dumps(list(client.post_logout_redirect_uris)),
            client.id_token_signed_response_alg,
            client.jwks,
        )
        await self._update(_INSERT_CLIENT, values)

    async def client_by_id(self, client_id: str) -> Client | None:
        row = await self._fetchone(_CLIENT_BY_ID, (client_id,))
        return None if row is None else rows.client(row)

    async def list_clients(self) -> list[Client]:
        """Every client, by id (byte order)."""
        return [rows.client(row) for row in await self._fetchall(_ALL_CLIENTS)]

    async def rehash_client_secret(self, client_id: str, old_hash: str, new_hash: str) -> bool:
        """Compare-and-set: replace a client's ``old_hash`` only if it is still stored."""
        return await self._update(
            "UPDATE clients SET secret_hash = %s WHERE id = %s AND secret_hash = %s",
            (new_hash, client_id, old_hash),
        )

    async def remove_client(self, client_id: str) -> bool:
        """Delete a client and revoke (at ``clock()``) every refresh token issued to it, in
        one transaction."""
        now = self._clock()

        async def remove(conn: Connection) -> bool:
            if not await _count(conn, "DELETE FROM clients WHERE id = %s", (client_id,)):
                return False
            await conn.execute(
                "UPDATE refresh_tokens SET revoked_at = %s"
                " WHERE client_id = %s AND revoked_at IS NULL",
                (now, client_id),
            )
            return True

        return await self._transaction(remove)

    # refresh tokens ---------------------------------------------------------------------
    async def add_refresh_token(self, token: RefreshToken) -> None:
        """Store a token (the first of a new family); :class:`~.base.Conflict` if its hash
        exists, :class:`~.base.StoreError` if its ``user_id`` names no user."""
        await self._update(_INSERT_TOKEN, rows.token_values(token))

    async def refresh_token(self, token_hash: bytes) -> RefreshToken | None:
        row = await self._fetchone(_SELECT_TOKEN, (bytes(token_hash),))
        return None if row is None else rows.refresh_token(row)

    async def rotate_refresh_token(
        self, token_hash: bytes, new: RefreshToken, now: float, grace_period: float
    ) -> RotationOutcome:
        """Atomically exchange an active token for ``new`` (RFC 9700 §4.14.2): the
        compare-and-set ``UPDATE ... RETURNING`` and the successor's ``INSERT`` in one
        transaction (see the module's notes). :class:`ValueError` if ``new`` belongs to
        another family than the active token it would replace (nothing is stored)."""
        presented = bytes(token_hash)
        new_values = rows.token_values(new)
        swap = {"now": now, "new": new_values[0], "presented": presented, "family": new.family_id}

        async def rotate(conn: Connection) -> RotationOutcome:
            row = await _one(conn, _ROTATE_TOKEN, swap)
            if row is not None:
                await conn.execute(_INSERT_TOKEN, new_values)
                return RotationOutcome("rotated", token=rows.refresh_token(row))
            row = await _one(conn, _SELECT_TOKEN, (presented,))
            if row is None:
                return RotationOutcome("unknown")
            old = rows.refresh_token(row)
            if old.revoked_at is not None:
                return RotationOutcome("revoked", token=old)
            if old.rotated_at is not None:
                # Grace covers only the immediate predecessor of the still-active token.
                if grace_period > 0 and now - old.rotated_at < grace_period:
                    following = await _one(conn, _SELECT_TOKEN, (old.successor_hash,))
                    if following is not None and rows.is_active(rows.refresh_token(following), now):
                        return RotationOutcome(
                            "grace", token=old, successor_hash=old.successor_hash
                        )
                return RotationOutcome("reused", token=old)
            if old.expires_at <= now or old.family_expires_at <= now:
                return RotationOutcome("expired", token=old)
            raise ValueError("the new refresh token must belong to the presented token's family")

        return await self._transaction(rotate)

    async def revoke_family(self, family_id: str, now: float) -> int:
        """Revoke every token of a family; return how many were active (0 or 1)."""
        return await self._revoke("family_id", family_id, now)

    async def revoke_user_families(self, user_id: str, now: float) -> int:
        """Revoke every refresh family of a user; return how many tokens were active."""
        return await self._revoke("user_id", user_id, now)

    async def _revoke(self, column: Literal["family_id", "user_id"], value: str, now: float) -> int:
        row = await self._fetchone(_REVOKE[column], {"now": now, "value": value})
        return int(row[0])

    async def is_family_revoked(self, family_id: str) -> bool:
        """Whether the family was revoked or is not stored."""
        return await self._fetchone(_FAMILY_LIVE, (family_id,)) is None

    # revoked access tokens --------------------------------------------------------------
    async def revoke_jti(self, jti: str, expires_at: float) -> None:
        """Remember a revoked access token until its ``exp`` (the later one if revoked twice)."""
        await self._update(_REVOKE_JTI, (jti, expires_at))

    async def is_jti_revoked(self, jti: str, now: float) -> bool:
        return await self._fetchone(_JTI_REVOKED, (jti, now)) is not None

    # signing keys -----------------------------------------------------------------------
    async def add_signing_key(self, record: SigningKeyRecord) -> None:
        """Insert a key; :class:`~.base.Conflict` if its ``kid`` exists."""
        await self._update(_INSERT_KEY, rows.key_values(record))

    async def signing_keys(self) -> list[SigningKeyRecord]:
        """Every stored signing key, oldest first (``created_at``, then insertion order)."""
        return [SigningKeyRecord(*row) for row in await self._fetchall(_ALL_KEYS)]

    async def update_signing_key(self, record: SigningKeyRecord) -> None:
        """Replace the stored record with the same ``kid``; :class:`~.base.StoreError` if none."""
        if not await self._update(_UPDATE_KEY, (*rows.key_values(record)[1:], record.kid)):
            raise StoreError("there is no signing key with this kid")

    # rate limits ------------------------------------------------------------------------
    async def record_failure(self, bucket: str, now: float, window: float) -> tuple[int, float]:
        """Count one failure in ``bucket``'s fixed window (one upsert that answers the new
        count); return (failures, seconds to reset)."""
        row = await self._fetchone(
            _RECORD_FAILURE, {"bucket": bucket, "end": now + window, "now": now}
        )
        return int(row[0]), float(row[1]) - now

    async def failures(self, bucket: str, now: float) -> tuple[int, float]:
        """(failures in the current window, seconds until it resets); (0, 0.0) if none."""
        row = await self._fetchone(_FAILURES, (bucket, now))
        return (0, 0.0) if row is None else (int(row[0]), float(row[1]) - now)

    async def clear_failures(self, bucket: str) -> None:
        await self._update("DELETE FROM rate_limits WHERE bucket = %s", (bucket,))

    async def reserve_attempt(
        self, limits: Sequence[tuple[str, int]], now: float, window: float
    ) -> AttemptReservation:
        """Lock every bucket's row (in bucket order), check them, then count the attempt in
        each, in one transaction; a refusal rolls back and so counts nothing."""
        buckets = tuple(limits)

        async def reserve(conn: Connection) -> AttemptReservation:
            async with conn.transaction():
                used = {}
                for bucket in sorted({bucket for bucket, _ in buckets}):
                    used[bucket] = await _one(conn, _LOCK_BUCKET, {"bucket": bucket, "now": now})
                waits = [
                    float(used[bucket][1]) - now
                    for bucket, limit in buckets
                    if used[bucket][1] > now and used[bucket][0] >= limit
                ]
                if waits:
                    raise _Refused(max(waits))  # rolls back the rows locked or inserted
                windows = []
                for bucket, _ in buckets:
                    row = await _one(
                        conn, _ADD_PENDING, {"bucket": bucket, "now": now, "end": now + window}
                    )
                    windows.append((bucket, float(row[0])))
                return AttemptReservation(True, tuple(windows))

        try:
            return await self._run(reserve)
        except _Refused as refused:
            return AttemptReservation(False, retry_after=refused.retry_after)

    async def settle_attempt(
        self,
        windows: Sequence[tuple[str, float]],
        now: float,
        window: float,
        *,
        failed: bool,
        forget: Sequence[str] = (),
    ) -> None:
        """End an admitted attempt in one transaction, bucket by bucket in the order
        :meth:`reserve_attempt` locks them (no deadlock between the two)."""
        reserved, cleared = tuple(windows), set(forget)

        async def settle(conn: Connection) -> None:
            for bucket in sorted({bucket for bucket, _ in reserved} | cleared):
                for each, window_end in reserved:
                    if each != bucket:
                        continue
                    await conn.execute(_END_PENDING, (bucket, window_end))
                    if failed:
                        await conn.execute(
                            _RECORD_FAILURE, {"bucket": bucket, "end": now + window, "now": now}
                        )
                if bucket in cleared:
                    await conn.execute(
                        "UPDATE rate_limits SET failures = 0 WHERE bucket = %s", (bucket,)
                    )

        await self._transaction(settle)

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
        await self._update(_INSERT_SESSION, values)

    async def session_by_cookie(self, cookie_hash: bytes) -> LoginSession | None:
        row = await self._fetchone(_SESSION_BY_COOKIE, (bytes(cookie_hash),))
        return None if row is None else rows.session(row)

    async def session_by_sid(self, sid: str) -> LoginSession | None:
        row = await self._fetchone(_SESSION_BY_SID, (sid,))
        return None if row is None else rows.session(row)

    async def touch_session(self, sid: str, idle_expires_at: float) -> None:
        """Move the idle expiry forward, capped at the absolute expiry."""
        await self._update(
            "UPDATE login_sessions SET idle_expires_at = LEAST(GREATEST(idle_expires_at, %s),"
            " expires_at) WHERE sid = %s AND ended_at IS NULL",
            (idle_expires_at, sid),
        )

    async def end_session(self, sid: str, now: float) -> bool:
        return await self._update(
            "UPDATE login_sessions SET ended_at = %s WHERE sid = %s AND ended_at IS NULL",
            (now, sid),
        )

    async def end_user_sessions(self, user_id: str, now: float) -> int:
        return await self._run(
            lambda c: _count(
                c,
                "UPDATE login_sessions SET ended_at = %s WHERE user_id = %s AND ended_at IS NULL",
                (now, user_id),
            )
        )

    # consents ---------------------------------------------------------------------------
    async def consent(self, user_id: str, client_id: str) -> Consent | None:
        row = await self._fetchone(
            "SELECT user_id, client_id, scopes, granted_at FROM consents"
            " WHERE user_id = %s AND client_id = %s",
            (user_id, client_id),
        )
        if row is None:
            return None
        return Consent(row[0], row[1], tuple(json.loads(row[2])), row[3])

    async def grant_consent(self, consent: Consent) -> None:
        """Store ``consent``, replacing an earlier one of the same user and client."""
        await self._update(
            "INSERT INTO consents (user_id, client_id, scopes, granted_at)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (user_id, client_id) DO UPDATE"
            " SET scopes = excluded.scopes, granted_at = excluded.granted_at",
            (
                consent.user_id,
                consent.client_id,
                json.dumps(list(consent.scopes)),
                consent.granted_at,
            ),
        )

    # authorization codes ----------------------------------------------------------------
    async def add_code(self, code: AuthorizationCode) -> None:
        """Store a new code; :class:`~.base.Conflict` if its hash exists."""
        values = rows.code_values(code)
        await self._update(_INSERT_CODE, values)

    async def redeem_code(self, code_hash: bytes, now: float) -> CodeRedemption:
        """The compare-and-set of a code's single use (see the module's notes)."""
        key = bytes(code_hash)

        async def redeem(conn: Connection) -> CodeRedemption:
            won = await _one(conn, _REDEEM_CODE, {"now": now, "code": key})
            if won is not None:
                return CodeRedemption("redeemed", rows.code(won))
            row = await _one(conn, _LOCK_CODE, (key,))
            if row is None:
                return CodeRedemption("unknown")
            code = rows.code(row)
            if code.redeemed_at is None:
                return CodeRedemption("expired", code)
            if code.reused_at is None:
                await conn.execute(
                    "UPDATE authorization_codes SET reused_at = %s WHERE code_hash = %s",
                    (now, key),
                )
            return CodeRedemption("reused", code)

        return await self._transaction(redeem)

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
            "UPDATE authorization_codes SET family_id = %s, access_jti = %s,"
            " access_expires_at = %s"
            " WHERE code_hash = %s AND redeemed_at IS NOT NULL AND reused_at IS NULL",
            (family_id, access_jti, access_expires_at, bytes(code_hash)),
        )

    # values used once -------------------------------------------------------------------
    async def use_once(self, key: str, expires_at: float, now: float) -> bool:
        """Record ``key`` until ``expires_at`` unless an unexpired record exists: one upsert
        whose row count answers."""
        return await self._update(_USE_ONCE, (key, expires_at, now))

    # housekeeping -----------------------------------------------------------------------
    async def purge(self, now: float) -> int:
        """Delete what has expired (see :meth:`.Store.purge`) in one transaction; return how
        many rows went."""

        async def purge(conn: Connection) -> int:
            return sum([await _count(conn, statement, {"now": now}) for statement in _PURGE])

        return await self._transaction(purge)


class _Refused(Exception):
    """A refused reservation: raised inside its transaction, so that it rolls back."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after
