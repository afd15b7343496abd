"""What only the SQLite backend promises: WAL, migrations, durability, errors, permissions.

The behaviour every backend shares is in ``test_store_contract.py``.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from jwtkit.server.models import Client, RefreshToken, SigningKeyRecord, User
from jwtkit.server.storage import (
    Conflict,
    DatabaseMissing,
    SQLiteStore,
    StoreError,
    open_store,
)
from jwtkit.server.storage.sqlite import MIGRATION_SUMMARIES, MIGRATIONS, _transaction

pytestmark = pytest.mark.anyio

T0 = 1_700_000_000.0
HASH = bytes(range(32))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "jwtkit.db"


def user(user_id: str = "u1", username: str = "alice") -> User:
    return User(id=user_id, username=username, password_hash="$argon2id$x", created_at=T0)


def token(token_hash: bytes = HASH, user_id: str | None = "u1") -> RefreshToken:
    return RefreshToken(
        token_hash=token_hash,
        family_id="fam",
        user_id=user_id,
        client_id="app",
        scope="openid",
        issued_at=T0,
        expires_at=T0 + 3600,
        family_expires_at=T0 + 86400,
    )


def raw(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection, to look at (or damage) the file behind the store's back."""
    return sqlite3.connect(path, isolation_level=None)


def raw_query(path: Path, sql: str) -> list[Any]:
    conn = raw(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def python(script: str, *args: str, **popen: Any) -> subprocess.Popen[str]:
    """This interpreter running one of this module's scripts."""
    return subprocess.Popen([sys.executable, "-c", script, *args], text=True, **popen)  # noqa: S603


@pytest.fixture
def umask_zero() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


# pragmas ------------------------------------------------------------------------------------
async def test_database_is_in_wal_mode(db: Path) -> None:
    async with SQLiteStore(db) as store:
        await store.add_user(user())
        assert raw_query(db, "PRAGMA journal_mode") == [("wal",)]
        assert (db.parent / "jwtkit.db-wal").exists()


@pytest.mark.parametrize(("synchronous", "level"), [("FULL", 2), ("NORMAL", 1)])
async def test_connection_pragmas(db: Path, synchronous: Any, level: int) -> None:
    async with SQLiteStore(db, synchronous=synchronous, busy_timeout=2.5) as store:
        pragmas = await store._read(
            lambda c: [
                c.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("foreign_keys", "synchronous", "busy_timeout")
            ]
        )
    assert pragmas == [1, level, 2500]


async def test_foreign_keys_are_enforced_and_are_not_a_conflict(db: Path) -> None:
    async with SQLiteStore(db) as store:
        with pytest.raises(StoreError, match="FOREIGN KEY") as caught:
            await store.add_refresh_token(token(user_id="nobody"))
        assert not isinstance(caught.value, Conflict)
        assert not isinstance(caught.value, sqlite3.Error)


def test_invalid_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="busy_timeout"):
        SQLiteStore("x.db", busy_timeout=-1)
    with pytest.raises(ValueError, match="busy_timeout"):
        SQLiteStore("x.db", busy_timeout=float("nan"))
    with pytest.raises(ValueError, match="synchronous"):
        SQLiteStore("x.db", synchronous="OFF")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="access"):
        SQLiteStore("x.db", access="append")  # type: ignore[arg-type]
    assert repr(SQLiteStore("x.db")) == "SQLiteStore('x.db')"


# access: only "create" creates ---------------------------------------------------------------
@pytest.mark.parametrize("access", ["write", "read"])
async def test_only_create_access_creates_the_database(tmp_path: Path, access: Any) -> None:
    store = SQLiteStore(tmp_path / "jwtkit.db", access=access)
    with pytest.raises(DatabaseMissing) as caught:
        await store.open()
    assert caught.value.location == str(tmp_path / "jwtkit.db")
    assert str(caught.value) == f"there is no database at {tmp_path / 'jwtkit.db'}"
    assert isinstance(caught.value, StoreError)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(StoreError, match="not open"):
        await store.list_users()


async def test_a_relative_missing_database_is_named_by_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatabaseMissing) as caught:
        await open_store(".jwtkit/jwtkit.db", access="write").open()
    assert caught.value.location == str(tmp_path / ".jwtkit" / "jwtkit.db")
    assert list(tmp_path.iterdir()) == []


async def test_write_access_uses_an_existing_database(db: Path) -> None:
    async with SQLiteStore(db):
        pass
    async with SQLiteStore(db, access="write") as store:
        await store.add_user(user())
        assert await store.user_by_name("alice") == user()
        assert await store.schema_version() == len(MIGRATIONS)


async def test_write_access_migrates_an_existing_empty_file(db: Path) -> None:
    db.touch()
    async with SQLiteStore(db, access="write") as store:
        assert await store.schema_version() == len(MIGRATIONS)


async def test_read_access_reads_and_never_writes(db: Path) -> None:
    async with SQLiteStore(db) as store:
        await store.add_user(user())
    before = db.read_bytes()
    async with SQLiteStore(db, access="read") as reader:
        assert await reader.list_users() == [user()]
        assert await reader.user_by_name("alice") == user()  # the lookup connection
        with pytest.raises(StoreError, match="readonly"):
            await reader.add_user(user("u2", "bob"))
    assert db.read_bytes() == before


async def test_read_access_migrates_nothing(db: Path) -> None:
    db.touch()  # an empty SQLite database: no schema yet
    with pytest.raises(StoreError, match="schema version 0, older than this jwtkit's"):
        await SQLiteStore(db, access="read").open()
    assert db.stat().st_size == 0
    conn = raw(db)
    conn.execute("CREATE TABLE users (id TEXT)")
    conn.close()
    with pytest.raises(StoreError, match="not a jwtkit one"):
        await SQLiteStore(db, access="read").open()


async def test_read_access_refuses_a_newer_schema(db: Path) -> None:
    async with SQLiteStore(db):
        pass
    conn = raw(db)
    conn.execute("INSERT INTO schema_version VALUES (99, 0)")
    conn.close()
    with pytest.raises(StoreError, match="newer than this jwtkit"):
        await SQLiteStore(db, access="read").open()


async def test_read_access_to_a_path_with_uri_characters(tmp_path: Path) -> None:
    db = tmp_path / "a dir?#%" / "jwtkit.db"
    db.parent.mkdir()
    async with SQLiteStore(db) as store:
        await store.add_user(user())
    async with SQLiteStore(db, access="read") as reader:
        assert await reader.list_users() == [user()]


# migrations ---------------------------------------------------------------------------------
async def test_schema_version_is_recorded_once(db: Path) -> None:
    async with SQLiteStore(db, clock=lambda: T0) as store:
        assert await store.schema_version() == len(MIGRATIONS)
    async with SQLiteStore(db, clock=lambda: T0 + 1) as store:
        assert await store.schema_version() == len(MIGRATIONS)
    expected = [(n, T0) for n in range(1, len(MIGRATIONS) + 1)]
    assert raw_query(db, "SELECT version, applied_at FROM schema_version") == expected


async def test_reopening_keeps_the_data(db: Path) -> None:
    key = SigningKeyRecord("k1", "ES256", "{}", b"\x00\x01secret", "active", T0)
    client = Client("app", None, ("refresh_token",), ("openid",), T0)
    async with SQLiteStore(db) as store:
        await store.add_user(user())
        await store.add_client(client)
        await store.add_refresh_token(token())
        await store.add_signing_key(key)
        await store.revoke_jti("j1", T0 + 60)
        await store.record_failure("b", T0, 60)
    async with SQLiteStore(db) as store:
        assert await store.list_users() == [user()]
        assert await store.list_clients() == [client]
        assert await store.refresh_token(HASH) == token()
        assert await store.signing_keys() == [key]
        assert await store.is_jti_revoked("j1", T0) is True
        assert await store.failures("b", T0) == (1, 60.0)


class _WithMigration2(SQLiteStore):
    migrations = (*MIGRATIONS, ("CREATE TABLE extra (x TEXT)", "INSERT INTO extra VALUES ('a')"))


class _BrokenMigration2(SQLiteStore):
    migrations = (*MIGRATIONS, ("CREATE TABLE extra (x TEXT)", "THIS IS NOT SQL"))


async def test_missing_migrations_are_applied_on_open(db: Path) -> None:
    async with SQLiteStore(db) as store:
        await store.add_user(user())
    async with _WithMigration2(db) as store:
        assert await store.schema_version() == len(MIGRATIONS) + 1
        assert await store.user_by_id("u1") == user()
    assert raw_query(db, "SELECT x FROM extra") == [("a",)]


async def test_schema_status_reads_without_opening_or_writing(db: Path) -> None:
    with pytest.raises(DatabaseMissing):
        await SQLiteStore(db).schema_status()
    async with _OldSchema(db):
        pass
    status = await SQLiteStore(db).schema_status()
    assert (status.current, status.latest) == (5, len(MIGRATIONS))
    assert [version for version, _ in status.pending] == [6, 7, 8]
    assert all(summary for _, summary in status.pending)
    assert len(MIGRATION_SUMMARIES) == len(MIGRATIONS)
    assert raw_query(db, "SELECT MAX(version) FROM schema_version") == [(5,)]
    async with SQLiteStore(db) as store:
        assert (await store.schema_status()).pending == ()
    assert (await _WithMigration2(db).schema_status()).pending == ((len(MIGRATIONS) + 1, ""),)


async def test_schema_status_of_memory_and_of_a_file_that_is_not_a_database(
    tmp_path: Path,
) -> None:
    memory = SQLiteStore(":memory:")
    assert (await memory.schema_status()).current == 0
    async with memory:
        assert (await memory.schema_status()).current == len(MIGRATIONS)
    assert memory.location == ":memory:"
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not an SQLite database, not at all" * 100)
    with pytest.raises(StoreError, match="cannot read the database"):
        await SQLiteStore(garbage).schema_status()


class _OldSchema(SQLiteStore):
    migrations = MIGRATIONS[:5]


class _Version1(SQLiteStore):
    """The schema as jwtkit 0.1.0.dev0 left it (before the password generation)."""

    migrations = MIGRATIONS[:1]


async def test_a_version_1_database_gains_the_password_generation(db: Path) -> None:
    """Migration 2 keeps every user, at generation 0 (their access tokens carry no generation
    claim), with the time of their last password change; a change then moves to 1."""
    async with _Version1(db):
        pass
    conn = raw(db)
    conn.execute(
        "INSERT INTO users (id, username, password_hash, created_at, disabled,"
        " tokens_valid_after) VALUES ('u1', 'alice', '$argon2id$x', ?, 0, ?)",
        (T0, T0 + 0.5),
    )
    conn.close()
    async with SQLiteStore(db) as store:
        assert await store.schema_version() == len(MIGRATIONS)
        migrated = await store.user_by_id("u1")
        assert migrated == User("u1", "alice", "$argon2id$x", T0, tokens_valid_after=T0 + 0.5)
        assert migrated.token_generation == 0
        assert await store.set_password("u1", "$argon2id$y", T0 + 9)
        changed = await store.user_by_id("u1")
        assert changed is not None
        assert (changed.token_generation, changed.tokens_valid_after) == (1, T0 + 9)
    conn = raw(db)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("UPDATE users SET token_generation = -1")
    conn.close()


class _Version2(SQLiteStore):
    """The schema before version 3 (usernames unique with case, no resource servers, no
    attempts in progress)."""

    migrations = MIGRATIONS[:2]


def _insert_users(db: Path, *names: str) -> None:
    conn = raw(db)
    for number, name in enumerate(names, 1):
        conn.execute(
            "INSERT INTO users (id, username, password_hash, created_at) VALUES (?, ?, 'h', ?)",
            (f"u{number}", name, T0),
        )
    conn.close()


async def test_a_version_2_database_gains_case_insensitive_usernames_and_resource_servers(
    db: Path,
) -> None:
    """Migration 3 keeps every user, client and rate-limit window."""
    async with _Version2(db):
        pass
    _insert_users(db, "Alice", "bob")
    conn = raw(db)
    conn.execute(
        "INSERT INTO clients (id, secret_hash, grant_types, scopes, created_at, name)"
        """ VALUES ('app', 'sha256$x', '["client_credentials"]', '["read"]', ?, 'The app')""",
        (T0,),
    )
    conn.execute("INSERT INTO rate_limits VALUES ('user:x', 1, ?)", (T0 + 60,))
    conn.close()
    async with SQLiteStore(db) as store:
        assert await store.schema_version() == len(MIGRATIONS)
        assert [u.username for u in await store.list_users()] == ["Alice", "bob"]
        found = await store.user_by_name("ALICE")
        assert found is not None
        assert (found.id, found.username) == ("u1", "Alice")
        with pytest.raises(Conflict):
            await store.add_user(user("u3", "BOB"))
        client = await store.client_by_id("app")
        assert client is not None
        assert (client.audiences, client.resource_server, client.name) == ((), False, "The app")
        assert await store.failures("user:x", T0) == (1, 60.0)
        reservation = await store.reserve_attempt((("user:x", 2),), T0, 60)
        assert reservation.admitted
        assert not (await store.reserve_attempt((("user:x", 2),), T0, 60)).admitted


class _Version3(SQLiteStore):
    """The schema before version 4 (users without e-mail address or name)."""

    migrations = MIGRATIONS[:3]


async def test_a_version_3_database_gains_an_empty_user_profile(db: Path) -> None:
    """Migration 4 keeps every user as it was, without e-mail address (unverified) or name;
    a profile can then be set, and the new column refuses a verified flag other than 0/1."""
    async with _Version3(db) as old:
        pass
    _insert_users(db, "Alice", "bob")
    async with _Version3(db) as old:
        await old.set_password("u1", "h2", T0 + 2)
    async with SQLiteStore(db) as store:
        assert await store.schema_version() == len(MIGRATIONS)
        alice = User("u1", "Alice", "h2", T0, tokens_valid_after=T0 + 2, token_generation=1)
        assert await store.user_by_name("alice") == alice
        assert (alice.email, alice.email_verified, alice.name) == (None, False, None)
        assert [u.username for u in await store.list_users()] == ["Alice", "bob"]
        assert await store.set_profile(
            "u2", email="bob@example.com", email_verified=True, name="Bob"
        )
        bob = await store.user_by_id("u2")
        assert bob is not None
        assert (bob.email, bob.email_verified, bob.name) == ("bob@example.com", True, "Bob")
    assert raw_query(db, "SELECT email, email_verified, name FROM users WHERE id = 'u1'") == [
        (None, 0, None)
    ]
    conn = raw(db)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("UPDATE users SET email_verified = 2")
    conn.close()


class _Version4(SQLiteStore):
    """The schema before version 5 (clients without redirect URIs or first-party flag)."""

    migrations = MIGRATIONS[:4]


async def test_a_version_4_database_gains_clients_without_redirect_uris(db: Path) -> None:
    """Migration 5 keeps every client as it was, with no redirect URI and not first-party, the
    built-in first-party client too (the setting makes it first-party at run time); clients with
    redirect URIs can then be added, and the new column refuses a flag other than 0/1."""
    async with _Version4(db) as old:
        assert await old.schema_version() == 4
    conn = raw(db)
    conn.execute(
        "INSERT INTO clients (id, secret_hash, grant_types, scopes, created_at, name) VALUES"
        """ ('app', 'sha256$x', '["client_credentials"]', '["read"]', ?, ''),"""
        """ ('first-party', NULL, '["password", "refresh_token"]', '["openid"]', ?, 'ours')""",
        (T0, T0),
    )
    conn.close()
    async with SQLiteStore(db) as store:
        assert await store.schema_version() == len(MIGRATIONS)
        app = await store.client_by_id("app")
        assert app == Client("app", "sha256$x", ("client_credentials",), ("read",), T0)
        assert (app.redirect_uris, app.first_party) == ((), False)
        builtin = await store.client_by_id("first-party")
        assert builtin is not None
        assert (builtin.name, builtin.grant_types) == ("ours", ("password", "refresh_token"))
        assert (builtin.redirect_uris, builtin.first_party) == ((), False)
        web = Client(
            "web",
            None,
            ("authorization_code",),
            (),
            T0,
            redirect_uris=("https://b.example/cb", "https://a.example/cb"),
            first_party=True,
        )
        await store.add_client(web)
        assert await store.client_by_id("web") == web
    assert raw_query(db, "SELECT redirect_uris, first_party FROM clients ORDER BY id") == [
        ("[]", 0),
        ("[]", 0),
        ('["https://b.example/cb", "https://a.example/cb"]', 1),
    ]
    conn = raw(db)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("UPDATE clients SET first_party = 2")
    conn.close()


class _Version5(SQLiteStore):
    """The schema before version 6 (no login sessions, consents or authorization codes; no
    post-logout redirect URIs, ID-token algorithm or refresh-family resources)."""

    migrations = MIGRATIONS[:5]


async def test_a_version_5_database_gains_the_browser_login_tables(db: Path) -> None:
    """Migration 6 keeps clients and refresh tokens as they were, with no post-logout redirect
    URI, the default ID-token algorithm and no resource indicator; sessions, consents and codes
    can then be stored."""
    async with _Version5(db) as old:
        assert await old.schema_version() == 5
        await old.add_user(User("u1", "alice", "$argon2id$x", T0))
    conn = raw(db)
    conn.execute(
        "INSERT INTO clients (id, secret_hash, grant_types, scopes, created_at, name) VALUES"
        """ ('app', 'sha256$x', '["client_credentials"]', '["read"]', ?, '')""",
        (T0,),
    )
    conn.execute(
        "INSERT INTO refresh_tokens (token_hash, family_id, user_id, client_id, scope, issued_at,"
        " expires_at, family_expires_at) VALUES (x'01', 'fam', 'u1', 'app', '', ?, ?, ?)",
        (T0, T0 + 60, T0 + 120),
    )
    conn.commit()
    conn.close()
    async with SQLiteStore(db) as store:
        assert await store.schema_version() == len(MIGRATIONS)
        app = await store.client_by_id("app")
        assert app == Client("app", "sha256$x", ("client_credentials",), ("read",), T0)
        assert (app.post_logout_redirect_uris, app.id_token_signed_response_alg) == ((), None)
        token = await store.refresh_token(b"\x01")
        assert token is not None
        assert token.resource == ()
        assert await store.session_by_sid("nothing") is None
        assert await store.consent("u1", "app") is None


class _Version6(SQLiteStore):
    """The schema before version 7 (clients without keys, nothing used once)."""

    migrations = MIGRATIONS[:6]


async def test_a_version_6_database_gains_client_keys_and_values_used_once(db: Path) -> None:
    """Migration 7 keeps every client as it was, without keys (a public client stays public, a
    client with a secret keeps it); clients with keys can then be added, and use_once works."""
    async with _Version6(db) as old:
        assert await old.schema_version() == 6
    conn = raw(db)
    conn.execute(
        "INSERT INTO clients (id, secret_hash, grant_types, scopes, created_at, name) VALUES"
        """ ('app', 'sha256$x', '["client_credentials"]', '["read"]', ?, ''),"""
        """ ('spa', NULL, '["password"]', '[]', ?, '')""",
        (T0, T0),
    )
    conn.close()
    async with SQLiteStore(db) as store:
        assert await store.schema_version() == len(MIGRATIONS)
        app = await store.client_by_id("app")
        assert app == Client("app", "sha256$x", ("client_credentials",), ("read",), T0)
        assert (app.jwks, app.public) == (None, False)
        spa = await store.client_by_id("spa")
        assert spa is not None
        assert (spa.jwks, spa.public) == (None, True)
        keyed = Client("svc", None, ("client_credentials",), (), T0, jwks='{"keys": []}')
        await store.add_client(keyed)
        assert await store.client_by_id("svc") == keyed
        assert await store.use_once("k", T0 + 60, T0) is True
        assert await store.use_once("k", T0 + 60, T0) is False
    assert raw_query(db, "SELECT id, jwks FROM clients ORDER BY id") == [
        ("app", None),
        ("spa", None),
        ("svc", '{"keys": []}'),
    ]


async def test_a_database_with_usernames_differing_only_in_case_is_not_migrated(
    db: Path,
) -> None:
    """No user is lost: the migration is refused, naming the users and the way out, and the
    database stays at version 2 (the jwtkit that wrote it still works)."""
    async with _Version2(db):
        pass
    _insert_users(db, "alice", "carol", "ALICE", "Bob", "bob", "BOB")
    store = SQLiteStore(db)
    with pytest.raises(StoreError) as refusal:
        await store.open()
    message = str(refusal.value)
    assert str(db) in message
    assert "'alice' (id u1), 'ALICE' (id u3)" in message or "'ALICE' (id u3), 'alice' (id u1)" in (
        message
    )
    for name in ("'Bob' (id u4)", "'bob' (id u5)", "'BOB' (id u6)"):
        assert name in message
    assert "carol" not in message
    assert "UPDATE users SET username" in message
    assert "\n" not in message
    assert raw_query(db, "SELECT MAX(version) FROM schema_version") == [(2,)]
    assert raw_query(db, "SELECT COUNT(*) FROM users") == [(6,)]
    # Renamed as the message says, the database is migrated.
    conn = raw(db)
    conn.execute("UPDATE users SET username = 'alice-2' WHERE id = 'u3'")
    conn.execute("DELETE FROM users WHERE id IN ('u5', 'u6')")
    conn.close()
    async with SQLiteStore(db) as migrated:
        assert await migrated.schema_version() == len(MIGRATIONS)
        assert len(await migrated.list_users()) == 4


async def test_a_failing_migration_is_rolled_back_entirely(db: Path) -> None:
    async with SQLiteStore(db):
        pass
    store = _BrokenMigration2(db)
    with pytest.raises(StoreError, match="syntax error"):
        await store.open()
    tables = raw_query(db, "SELECT name FROM sqlite_master WHERE name = 'extra'")
    assert tables == []
    assert raw_query(db, "SELECT MAX(version) FROM schema_version") == [(len(MIGRATIONS),)]
    with pytest.raises(StoreError, match="not open"):
        await store.list_users()


async def test_a_database_from_a_newer_jwtkit_is_refused(db: Path) -> None:
    async with SQLiteStore(db):
        pass
    conn = raw(db)
    conn.execute("INSERT INTO schema_version VALUES (999, 0)")
    conn.close()
    store = SQLiteStore(db)
    with pytest.raises(StoreError, match=r"schema version 999, newer .* upgrade jwtkit"):
        await store.open()
    with pytest.raises(StoreError, match="not open"):
        await store.list_users()


async def test_another_applications_database_is_refused(db: Path) -> None:
    conn = raw(db)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.close()
    with pytest.raises(StoreError, match="not a jwtkit one"):
        await SQLiteStore(db).open()
    assert raw_query(db, "SELECT name FROM sqlite_master") == [("invoices",)]


def test_many_stores_can_create_the_same_new_database_at_once(db: Path) -> None:
    versions: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(10)

    async def start() -> None:
        barrier.wait(timeout=30)
        async with SQLiteStore(db) as store:
            versions.append(await store.schema_version())

    def run() -> None:
        try:
            anyio.run(start)
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=run) for _ in range(10)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert versions == [len(MIGRATIONS)] * 10
    assert raw_query(db, "SELECT COUNT(*) FROM schema_version") == [(len(MIGRATIONS),)]


# durability ---------------------------------------------------------------------------------
_WRITER = textwrap.dedent(
    """
    import sys, time, anyio
    from jwtkit.server.models import RefreshToken, User
    from jwtkit.server.storage import SQLiteStore

    async def main():
        store = SQLiteStore(sys.argv[1], synchronous=sys.argv[2])
        await store.open()
        await store.add_user(User("u1", "alice", "$argon2id$x", 1.0))
        await store.add_refresh_token(RefreshToken(
            bytes(range(32)), "fam", "u1", "app", "openid", 1.0, 2e9, 3e9))
        print("committed", flush=True)
        time.sleep(60)

    anyio.run(main)
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("synchronous", ["FULL", "NORMAL"])
async def test_committed_data_survives_a_killed_process(db: Path, synchronous: str) -> None:
    child = python(_WRITER, str(db), synchronous, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line == "committed\n", child.stderr.read() if child.stderr else ""
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate()
    assert child.returncode == -signal.SIGKILL
    assert (db.parent / "jwtkit.db-wal").stat().st_size > 0  # never checkpointed
    async with SQLiteStore(db) as store:
        assert await store.user_by_name("alice") is not None
        stored = await store.refresh_token(HASH)
        assert stored is not None
        assert stored.user_id == "u1"


_ROTATOR = textwrap.dedent(
    """
    import sys, anyio
    from jwtkit.server.models import RefreshToken
    from jwtkit.server.storage import SQLiteStore

    async def main():
        async with SQLiteStore(sys.argv[1]) as store:
            new = RefreshToken(sys.argv[2].encode().ljust(32, b"."), "fam", "u1", "app",
                               "openid", 1.0, 2e9, 3e9)
            print("ready", flush=True)
            sys.stdin.readline()
            outcome = await store.rotate_refresh_token(bytes(range(32)), new, 10.0, 0.0)
            print(outcome.status, flush=True)

    anyio.run(main)
    """
)


async def test_concurrent_rotations_in_separate_processes_have_one_winner(db: Path) -> None:
    async with SQLiteStore(db) as store:
        await store.add_user(user())
        await store.add_refresh_token(token())
    children = [
        python(_ROTATOR, str(db), f"p{i}", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        for i in range(4)
    ]
    outputs = []
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline() == "ready\n"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=60)[0].strip() for child in children]
    finally:
        for child in children:
            if child.poll() is None:  # pragma: no cover - only on failure
                child.kill()
                child.communicate()
    assert sorted(outputs) == ["reused", "reused", "reused", "rotated"]


# errors -------------------------------------------------------------------------------------
async def test_a_corrupt_file_is_a_store_error(db: Path) -> None:
    db.write_bytes(b"this is not an SQLite database, just some bytes\n" * 100)
    with pytest.raises(StoreError, match="not a database") as caught:
        await SQLiteStore(db).open()
    assert isinstance(caught.value.__cause__, sqlite3.DatabaseError)


async def test_a_directory_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open"):
        await SQLiteStore(tmp_path).open()


async def test_a_missing_directory_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot create the database file"):
        await SQLiteStore(tmp_path / "missing" / "jwtkit.db").open()


async def test_errors_during_operations_are_store_errors(db: Path) -> None:
    async with SQLiteStore(db) as store:
        conn = raw(db)
        conn.execute("DROP TABLE signing_keys")
        conn.close()
        with pytest.raises(StoreError, match="no such table") as caught:
            await store.signing_keys()
        assert not isinstance(caught.value, sqlite3.Error)


async def test_a_write_lock_held_too_long_is_a_store_error(db: Path) -> None:
    async with SQLiteStore(db, busy_timeout=0.05) as store:
        other = raw(db)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreError, match="locked"):
                await store.add_user(user())
            assert await store.list_users() == []  # WAL: readers are not blocked
        finally:
            other.execute("ROLLBACK")
            other.close()
        await store.add_user(user())


async def test_conflict_messages_carry_no_secrets(db: Path) -> None:
    async with SQLiteStore(db) as store:
        await store.add_user(user())
        with pytest.raises(Conflict) as caught:
            await store.add_user(user(user_id="u2"))
    assert "$argon2id$x" not in str(caught.value)
    assert "users.username" in str(caught.value)


async def test_wal_refused_by_the_file_system_is_a_store_error(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NoWal(sqlite3.Connection):
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            if sql.startswith("PRAGMA journal_mode"):
                return super().execute("SELECT 'delete'")
            return super().execute(sql, *args)

    connect = sqlite3.connect

    def connect_without_wal(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        return connect(*args, factory=NoWal, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect_without_wal)
    with pytest.raises(StoreError, match="write-ahead logging"):
        await SQLiteStore(db).open()


def test_a_transaction_already_ended_is_not_rolled_back_twice(db: Path) -> None:
    conn = raw(db)

    def commit_then_fail(c: sqlite3.Connection) -> None:
        c.execute("CREATE TABLE t (x)")
        c.execute("COMMIT")
        raise RuntimeError("after commit")

    with pytest.raises(RuntimeError, match="after commit"):
        _transaction(commit_then_fail, conn)
    assert not conn.in_transaction
    conn.close()


# lookups on the event loop ------------------------------------------------------------------
async def _fill(store: SQLiteStore) -> None:
    """One record of each kind a lookup reads."""
    await store.add_user(user())
    await store.add_client(Client("app", "sha256$x", ("client_credentials",), ("read",), T0))
    await store.add_refresh_token(token())
    await store.revoke_jti("j1", T0 + 60)
    await store.record_failure("user:alice", T0, 60)


async def _lookups(store: SQLiteStore) -> list[object]:
    return [
        await store.user_by_id("u1"),
        await store.user_by_name("alice"),
        await store.client_by_id("app"),
        await store.refresh_token(HASH),
        await store.is_jti_revoked("j1", T0),
        await store.failures("user:alice", T0),
    ]


EXPECTED = [
    user(),
    user(),
    Client("app", "sha256$x", ("client_credentials",), ("read",), T0),
    token(),
    True,
    (1, 60.0),
]


async def test_key_lookups_run_on_the_event_loop(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with SQLiteStore(db) as store:
        await _fill(store)

        def no_thread(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("a key lookup went to a worker thread")

        with monkeypatch.context() as patched:
            patched.setattr(anyio.to_thread, "run_sync", no_thread)
            assert await _lookups(store) == EXPECTED
            assert await store.user_by_id("nobody") is None
            assert not await store.is_jti_revoked("j1", T0 + 60)
            assert await store.failures("user:alice", T0 + 60) == (0, 0.0)


async def test_lookups_see_commits_and_wait_for_no_writer(db: Path) -> None:
    async with SQLiteStore(db, busy_timeout=5.0) as store:
        other = raw(db)
        other.execute("BEGIN IMMEDIATE")
        other.execute(
            "INSERT INTO users (id, username, password_hash, created_at) VALUES ('u1', 'alice',"
            " '$argon2id$x', ?)",
            (T0,),
        )
        try:
            # Another connection holds the write lock: the lookup neither waits nor sees
            # the uncommitted row (it would wait 5 s for the lock otherwise).
            with anyio.fail_after(1):
                assert await store.user_by_id("u1") is None
            other.execute("COMMIT")
            assert await store.user_by_id("u1") == user()
        finally:
            other.close()
        # A write of the store itself is seen by the next lookup.
        await store.set_disabled("u1", True)
        disabled = await store.user_by_id("u1")
        assert disabled is not None
        assert disabled.disabled


async def test_lookups_leave_no_read_transaction_open(db: Path) -> None:
    async with SQLiteStore(db) as store:
        await _fill(store)
        assert await _lookups(store) == EXPECTED
        # A reader that kept a statement open would pin the log: TRUNCATE could not finish.
        busy, _, _ = raw_query(db, "PRAGMA wal_checkpoint(TRUNCATE)")[0]
        assert busy == 0
        assert (db.parent / "jwtkit.db-wal").stat().st_size == 0


async def test_the_lookup_connection_is_read_only(db: Path) -> None:
    async with SQLiteStore(db) as store:
        reader = store._reader
        assert reader is not None
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.execute("DELETE FROM users")


class _BusyReader:
    """Stands for the lookup connection when SQLite answers SQLITE_BUSY (or another error)."""

    def __init__(self, error: sqlite3.Error) -> None:
        self.error = error
        self.calls = 0

    def execute(self, *args: object) -> sqlite3.Cursor:
        self.calls += 1
        raise self.error

    def close(self) -> None:
        pass


async def test_a_busy_lookup_is_retried_in_a_worker_thread(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with SQLiteStore(db) as store:
        await _fill(store)
        busy = _BusyReader(sqlite3.OperationalError("database is locked"))
        monkeypatch.setattr(store, "_reader", busy)
        threads: list[object] = []
        run_sync = anyio.to_thread.run_sync

        async def counting(function: Any, *args: Any, **kwargs: Any) -> Any:
            threads.append(function)
            return await run_sync(function, *args, **kwargs)

        monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
        assert await _lookups(store) == EXPECTED
        assert busy.calls == len(threads) == len(EXPECTED)


async def test_other_lookup_errors_are_store_errors(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with SQLiteStore(db) as store:
        monkeypatch.setattr(store, "_reader", _BusyReader(sqlite3.DatabaseError("malformed")))
        with pytest.raises(StoreError, match="malformed") as caught:
            await store.user_by_id("u1")
        assert isinstance(caught.value.__cause__, sqlite3.DatabaseError)


async def test_a_lookup_connection_in_use_by_another_thread_is_not_waited_for(db: Path) -> None:
    async with SQLiteStore(db) as store:
        await _fill(store)
        with store._reader_lock:  # as if a lookup ran in another thread
            with anyio.fail_after(5):
                assert await _lookups(store) == EXPECTED


async def test_a_closed_store_refuses_lookups(db: Path) -> None:
    store = SQLiteStore(db)
    await store.open()
    await _fill(store)
    await store.close()
    assert store._reader is None
    with pytest.raises(StoreError, match="not open"):
        await store.user_by_id("u1")


async def test_a_lookup_connection_that_cannot_be_opened_is_a_store_error(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NoQueryOnly(sqlite3.Connection):
        closed = 0

        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            if sql.startswith("PRAGMA query_only"):
                raise sqlite3.OperationalError("cannot be read-only")
            return super().execute(sql, *args)

        def close(self) -> None:
            NoQueryOnly.closed += 1
            super().close()

    connect = sqlite3.connect

    def connect_without_query_only(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        return connect(*args, factory=NoQueryOnly, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect_without_query_only)
    store = SQLiteStore(db)
    with pytest.raises(StoreError, match="cannot be read-only"):
        await store.open()
    assert NoQueryOnly.closed == 2  # the lookup connection and the writer
    with pytest.raises(StoreError, match="not open"):
        await store.user_by_id("u1")


async def test_rehash_client_secret_is_a_compare_and_set(db: Path) -> None:
    async with SQLiteStore(db) as store:
        await store.add_client(Client("app", "$argon2id$old", ("client_credentials",), (), T0))
        assert not await store.rehash_client_secret("app", "$argon2id$other", "sha256$new")
        assert not await store.rehash_client_secret("ghost", "$argon2id$old", "sha256$new")
        assert await store.rehash_client_secret("app", "$argon2id$old", "sha256$new")
        stored = await store.client_by_id("app")
        assert stored is not None
        assert stored.secret_hash == "sha256$new"


# files --------------------------------------------------------------------------------------
@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.usefixtures("umask_zero")
async def test_new_database_files_are_private(db: Path) -> None:
    async with SQLiteStore(db) as store:
        await store.add_user(user())
        for name in ("jwtkit.db", "jwtkit.db-wal", "jwtkit.db-shm"):
            mode = stat.S_IMODE((db.parent / name).stat().st_mode)
            assert mode == 0o600, name


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
async def test_an_existing_files_permissions_are_kept(db: Path) -> None:
    db.touch()
    db.chmod(0o640)
    async with SQLiteStore(db) as store:
        await store.add_user(user())
    assert stat.S_IMODE(db.stat().st_mode) == 0o640


async def test_memory_databases_are_private_to_their_store() -> None:
    async with SQLiteStore(":memory:") as first, SQLiteStore(":memory:") as second:
        await first.add_user(user())
        assert await first.user_by_id("u1") == user()
        assert await second.user_by_id("u1") is None
    assert not Path(":memory:").exists()


# open_store ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("jwtkit.db", "jwtkit.db"),
        ("./data/jwtkit.db", "./data/jwtkit.db"),
        ("/var/lib/jwtkit/jwtkit.db", "/var/lib/jwtkit/jwtkit.db"),
        ("sqlite:///jwtkit.db", "jwtkit.db"),
        ("sqlite:///data/jwtkit.db", "data/jwtkit.db"),
        ("sqlite:////var/lib/jwtkit/jwtkit.db", "/var/lib/jwtkit/jwtkit.db"),
        ("SQLite:///:memory:", ":memory:"),
    ],
)
def test_open_store_picks_sqlite(url: str, path: str) -> None:
    store = open_store(url, busy_timeout=1.5)
    assert isinstance(store, SQLiteStore)
    assert (store.path, store.busy_timeout, store.access) == (path, 1.5, "create")
    reader = open_store(url, access="read")
    assert isinstance(reader, SQLiteStore)
    assert (reader.path, reader.access) == (path, "read")


def test_open_store_reads_sqlite_url_options() -> None:
    store = open_store("sqlite:///jwtkit.db?busy_timeout=10&synchronous=normal")
    assert isinstance(store, SQLiteStore)
    assert (store.path, store.busy_timeout, store.synchronous) == ("jwtkit.db", 10.0, "NORMAL")
    default = open_store("sqlite:///jwtkit.db")
    assert isinstance(default, SQLiteStore)
    assert default.synchronous == "FULL"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///x.db?mode=ro", "unknown SQLite URL option.*'mode'"),
        ("sqlite:///x.db?synchronous=OFF", "synchronous must be FULL or NORMAL"),
        ("sqlite:///x.db?busy_timeout=soon", "busy_timeout must be a number"),
        ("sqlite:///x.db?busy_timeout=-1", "busy_timeout must be a number"),
    ],
)
def test_open_store_refuses_bad_sqlite_url_options(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        open_store(url)


@pytest.mark.parametrize(
    "url", ["redis://:hunter2@cache.example:6379/0", "rediss://:hunter2@cache.example:6379/0"]
)
def test_a_redis_url_is_not_a_database(url: str) -> None:
    """Redis is shared beside the database (the redis setting), never instead of it."""
    with pytest.raises(StoreError, match=r"is not a database: .*the redis setting") as e:
        open_store(url)
    assert "hunter2" not in str(e.value)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty"),
        ("mysql://root:hunter2@localhost/db", "unsupported database URL scheme 'mysql'"),
        (
            "postgresql+psycopg://jwtkit:hunter2@db.example/jwtkit",
            "unsupported database URL scheme 'postgresql\\+psycopg'.*postgresql://",
        ),
        ("sqlite://", "sqlite:///relative/path.db"),
        ("sqlite:///", "sqlite:///relative/path.db"),
        ("sqlite://host/jwtkit.db", "sqlite:///relative/path.db"),
    ],
)
def test_open_store_refuses_bad_urls(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message) as caught:
        open_store(url)
    assert "hunter2" not in str(caught.value)


async def test_open_store_result_opens(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    await store.open()
    try:
        await store.add_user(user())
    finally:
        await store.close()
    assert (tmp_path / "x.db").exists()


def test_open_retries_while_another_opener_holds_the_lock(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers starting together on a new file: a 'locked' answer while switching to WAL or
    migrating is tried again (until busy_timeout), other errors are not."""
    attempts: list[int] = []
    real_configure = SQLiteStore._configure

    def flaky(self: SQLiteStore, conn: sqlite3.Connection, *, memory: bool) -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise sqlite3.OperationalError("database is locked")
        real_configure(self, conn, memory=memory)

    monkeypatch.setattr(SQLiteStore, "_configure", flaky)

    async def open_and_close() -> int:
        async with SQLiteStore(db) as store:
            return await store.schema_version()

    assert anyio.run(open_and_close) == len(MIGRATIONS)
    assert len(attempts) == 3

    def always_locked(self: SQLiteStore, conn: sqlite3.Connection, *, memory: bool) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(SQLiteStore, "_configure", always_locked)

    async def open_quickly() -> None:
        await SQLiteStore(db, busy_timeout=0.05).open()

    with pytest.raises(StoreError, match="locked"):
        anyio.run(open_quickly)

    def broken(self: SQLiteStore, conn: sqlite3.Connection, *, memory: bool) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(SQLiteStore, "_configure", broken)
    with pytest.raises(StoreError, match="disk I/O error"):
        anyio.run(open_quickly)
