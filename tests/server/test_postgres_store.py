"""What only the PostgreSQL backend promises: URLs and pool options, migrations, access modes,
``jwtkit db status|upgrade``, errors that never show the password, atomicity across separate
stores (each with its own pool, as separate processes), and a server restart survived.

The contract suite (``test_store_contract.py``) runs every other rule on PostgreSQL too. The
server is the session's (``tests/server/servers.py``): a new database per test.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import psycopg
import psycopg.errors
import pytest
from click.testing import CliRunner, Result
from conftest import RunApp
from servers import PostgresDatabases
from test_store_contract import (
    T0,
    make_client,
    make_code,
    make_token,
    make_user,
    token_hash,
    with_family,
)

from jwtkit import _console
from jwtkit._urls import redacted_url
from jwtkit.server.config import env_var
from jwtkit.server.storage import (
    Conflict,
    DatabaseMissing,
    SchemaStatus,
    StoreError,
    open_store,
)
from jwtkit.server.storage.postgres import MIGRATION_SUMMARIES, MIGRATIONS, PostgresStore

pytestmark = pytest.mark.anyio

PASSWORD_HINT = "hunter2"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def sql(url: str, statement: str, *parameters: object) -> list[tuple[Any, ...]]:
    """Run one statement on ``url`` (autocommit); its rows, if any."""
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement, parameters)
        return cursor.fetchall() if cursor.description else []


def with_password(url: str, password: str) -> str:
    """``url`` with another password."""
    scheme, _, rest = url.partition("://")
    user_info, _, location = rest.rpartition("@")
    return f"{scheme}://{user_info.partition(':')[0]}:{password}@{location}"


def password_of(url: str) -> str:
    return url.partition("://")[2].rpartition("@")[0].partition(":")[2]


@pytest.fixture
async def store(postgres_url: str) -> AsyncIterator[PostgresStore]:
    opened = PostgresStore(postgres_url)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


# URLs and options ---------------------------------------------------------------------------
@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "POSTGRESQL"])
def test_open_store_picks_postgres_and_never_shows_the_password(scheme: str) -> None:
    store = open_store(f"{scheme}://jwtkit:{PASSWORD_HINT}@db.example:5433/jwtkit")
    assert isinstance(store, PostgresStore)
    assert store.location == f"{scheme.lower()}://jwtkit@db.example:5433/jwtkit"
    assert PASSWORD_HINT not in repr(store)
    assert (store.pool_size, store.pool_min_size, store.pool_timeout) == (10, 1, 5.0)
    assert store.access == "create"


def test_pool_options_are_read_from_the_url_and_kept_from_libpq() -> None:
    store = PostgresStore(
        "postgresql://u:pw@h/db?pool_size=3&application_name=jwtkit&pool_min_size=2"
        "&pool_timeout=0.5&connect_timeout=7",
        access="read",
    )
    assert (store.pool_size, store.pool_min_size, store.pool_timeout) == (3, 2, 0.5)
    assert store._conninfo == "postgresql://u:pw@h/db?application_name=jwtkit&connect_timeout=7"
    assert store._connect_options == {"autocommit": True}  # the URL's connect_timeout wins
    only_ours = PostgresStore("postgresql://u@h/db?pool_timeout=9.5")
    assert only_ours._conninfo == "postgresql://u@h/db"
    assert only_ours._connect_options == {"autocommit": True, "connect_timeout": 10}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("pool_size=0", "pool_size must be a whole number > 0"),
        ("pool_size=two", "pool_size must be a whole number > 0"),
        ("pool_min_size=-1", "pool_min_size must be a whole number > 0"),
        ("pool_timeout=inf", "pool_timeout must be a number of seconds > 0"),
        ("pool_timeout=", "pool_timeout must be a number of seconds > 0"),
        ("pool_size=2&pool_min_size=3", "pool_min_size must not exceed pool_size"),
        ("colour=blue", 'not valid: invalid URI query parameter: "colour"'),
    ],
)
def test_bad_urls_are_store_errors_without_the_password(query: str, message: str) -> None:
    with pytest.raises(StoreError, match=message) as caught:
        open_store(f"postgresql://u:{PASSWORD_HINT}@h/db?{query}")
    assert PASSWORD_HINT not in str(caught.value)


def test_a_url_quoted_by_libpq_is_redacted() -> None:
    with pytest.raises(StoreError, match="not valid") as caught:
        open_store(f"postgresql://u:{PASSWORD_HINT}@[bad/db")
    assert PASSWORD_HINT not in str(caught.value)
    assert "postgresql://u@[bad/db" in str(caught.value)


def test_access_must_be_known() -> None:
    with pytest.raises(ValueError, match="access"):
        PostgresStore("postgresql://h/db", access="delete")  # type: ignore[arg-type]


def test_without_the_extra_the_message_is_the_install_line() -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from jwtkit.server.storage import open_store\n"
        "try:\n"
        "    open_store('postgresql://h/db')\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == (
        "a postgresql:// database needs the 'postgresql' extra: pip install 'jwtkit[postgresql]'"
    )


# migrations ---------------------------------------------------------------------------------
async def test_open_creates_the_schema_in_an_empty_database(postgres_url: str) -> None:
    store = PostgresStore(postgres_url, clock=lambda: T0)
    latest = len(MIGRATIONS)
    every = tuple(enumerate(MIGRATION_SUMMARIES, start=1))
    assert await store.schema_status() == SchemaStatus(0, latest, every)
    async with store:
        assert await store.schema_version() == latest
        assert await store.schema_status() == SchemaStatus(latest, latest)
    applied = sql(postgres_url, "SELECT version, applied_at FROM schema_version ORDER BY version")
    assert applied == [(version, T0) for version in range(1, latest + 1)]
    tables = {row[0] for row in sql(postgres_url, "SELECT tablename FROM pg_tables")}
    assert {"users", "clients", "refresh_tokens", "used_once", "schema_version"} <= tables
    assert len(MIGRATION_SUMMARIES) == len(MIGRATIONS)


async def test_opening_again_migrates_nothing(postgres_url: str) -> None:
    async with PostgresStore(postgres_url, clock=lambda: T0):
        pass
    async with PostgresStore(postgres_url, clock=lambda: T0 + 1) as again:
        assert await again.schema_version() == len(MIGRATIONS)
    applied = sql(postgres_url, "SELECT version, applied_at FROM schema_version ORDER BY version")
    assert applied == [(version, T0) for version in range(1, len(MIGRATIONS) + 1)]


class _Extended(PostgresStore):
    migrations = (*MIGRATIONS, ("CREATE TABLE extra (x TEXT)", "INSERT INTO extra VALUES ('a')"))


class _Broken(PostgresStore):
    migrations = (*MIGRATIONS, ("CREATE TABLE extra (x TEXT)", "THIS IS NOT SQL"))


async def test_a_later_migration_is_applied_and_a_failing_one_changes_nothing(
    postgres_url: str,
) -> None:
    async with PostgresStore(postgres_url):
        pass
    with pytest.raises(StoreError, match="PostgreSQL error: syntax error"):
        await _Broken(postgres_url).open()
    assert sql(postgres_url, "SELECT to_regclass('extra') IS NULL") == [(True,)]
    latest = len(MIGRATIONS)
    pending = await _Extended(postgres_url).schema_status()
    assert pending == SchemaStatus(latest, latest + 1, ((latest + 1, ""),))
    async with _Extended(postgres_url) as store:
        assert await store.schema_version() == latest + 1
    assert sql(postgres_url, "SELECT x FROM extra") == [("a",)]


async def test_concurrent_opens_of_an_empty_database_migrate_once(postgres_url: str) -> None:
    stores = [PostgresStore(postgres_url) for _ in range(8)]
    await asyncio.gather(*(each.open() for each in stores))
    try:
        assert [await each.schema_version() for each in stores] == [len(MIGRATIONS)] * 8
    finally:
        await asyncio.gather(*(each.close() for each in stores))
    assert sql(postgres_url, "SELECT count(*) FROM schema_version") == [(len(MIGRATIONS),)]


async def test_a_newer_schema_and_another_programs_tables_are_refused(postgres_url: str) -> None:
    sql(postgres_url, "CREATE TABLE orders (id INT)")
    for access in ("create", "write", "read"):
        with pytest.raises(StoreError, match="is not a jwtkit one"):
            await PostgresStore(postgres_url, access=access).open()
    sql(postgres_url, "DROP TABLE orders")
    async with PostgresStore(postgres_url):
        pass
    sql(postgres_url, "INSERT INTO schema_version VALUES (99, 0)")
    with pytest.raises(StoreError, match="schema version 99, newer than this jwtkit supports"):
        await PostgresStore(postgres_url).open()
    with pytest.raises(StoreError, match="schema version 99"):
        await PostgresStore(postgres_url).schema_status()


async def test_a_damaged_schema_table_is_a_store_error(postgres_url: str) -> None:
    sql(postgres_url, "CREATE TABLE schema_version (x INT)")
    with pytest.raises(StoreError, match=r"PostgreSQL error: column .*version.* does not exist"):
        await PostgresStore(postgres_url).open()
    with pytest.raises(StoreError, match="does not exist"):
        await PostgresStore(postgres_url).schema_status()


# access modes -------------------------------------------------------------------------------
@pytest.mark.parametrize("access", ["write", "read"])
async def test_write_and_read_need_the_schema(postgres_url: str, access: str) -> None:
    store = PostgresStore(postgres_url, access=access)  # type: ignore[arg-type]
    with pytest.raises(DatabaseMissing) as caught:
        await store.open()
    assert caught.value.location == redacted_url(postgres_url)
    assert password_of(postgres_url) not in str(caught.value)
    assert sql(postgres_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]


async def test_read_needs_the_current_schema_and_never_writes(postgres_url: str) -> None:
    async with PostgresStore(postgres_url):
        pass
    older = rf"older than this jwtkit's \({len(MIGRATIONS) + 1}\); run `jwtkit db upgrade`"
    with pytest.raises(StoreError, match=older):
        await _Extended(postgres_url, access="read").open()
    async with _Extended(postgres_url, access="write") as writer:  # "write" migrates
        await writer.add_user(make_user())
    async with _Extended(postgres_url, access="read") as reader:
        assert await reader.user_by_name("ALICE") == make_user()
        with pytest.raises(StoreError, match="read-only transaction"):
            await reader.add_user(make_user("u2", "bob"))
        with pytest.raises(StoreError, match="read-only transaction"):
            await reader.remove_client("app")


async def test_a_missing_database_names_createdb(postgres_server: PostgresDatabases) -> None:
    url = postgres_server.url("jwtkit_no_such_database")
    for access in ("create", "write", "read"):
        with pytest.raises(StoreError, match="does not exist: create it \\(createdb\\)") as e:
            await PostgresStore(url, access=access).open()
        assert password_of(url) not in str(e.value)


# errors never show the password -------------------------------------------------------------
async def test_a_wrong_password_is_unavailable_without_showing_it(postgres_url: str) -> None:
    wrong = with_password(postgres_url, PASSWORD_HINT)
    with pytest.raises(StoreError, match="password authentication failed") as caught:
        await PostgresStore(wrong).open()
    assert PASSWORD_HINT not in str(caught.value)
    assert "unavailable" in str(caught.value)


async def test_a_closed_port_is_unavailable_without_showing_the_password() -> None:
    with socket_closed_port() as port:
        url = f"postgresql://jwtkit:{PASSWORD_HINT}@127.0.0.1:{port}/jwtkit?pool_timeout=1"
        with pytest.raises(StoreError, match="is unavailable") as caught:
            await PostgresStore(url).open()
    assert PASSWORD_HINT not in str(caught.value)
    assert f"postgresql://jwtkit@127.0.0.1:{port}/jwtkit" in str(caught.value)


class socket_closed_port:  # noqa: N801 - used as a context manager
    """A loopback port on which nothing listens (bound, not listening, while in use)."""

    def __enter__(self) -> int:
        import socket

        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        port: int = self._socket.getsockname()[1]
        return port

    def __exit__(self, *exc_info: object) -> None:
        self._socket.close()


async def test_a_server_message_quoting_the_password_is_scrubbed(postgres_url: str) -> None:
    store = PostgresStore(postgres_url)
    password = password_of(postgres_url)
    error = store._error(psycopg.errors.RaiseException(f"the password is {password}"))
    assert password not in str(error)
    assert "the password is ***" in str(error)
    no_password = PostgresStore("postgresql://h/db")
    assert str(no_password._error(psycopg.Error())) == "PostgreSQL error: Error"


async def test_conflicts_name_the_constraint_not_the_value(store: PostgresStore) -> None:
    await store.add_user(make_user(username="secret-name"))
    with pytest.raises(Conflict) as caught:
        await store.add_user(make_user("u2", "SECRET-NAME"))
    assert str(caught.value) == "already exists (users: users_username_nocase)"
    with pytest.raises(StoreError, match="violates foreign key constraint") as fk:
        await store.add_refresh_token(make_token("x", user_id="nobody"))
    assert "nobody" not in str(fk.value)


async def test_usernames_fold_ascii_letters_only(store: PostgresStore) -> None:
    """As SQLite's NOCASE, whatever the database's locale: lower() under the C collation."""
    await store.add_user(make_user("u1", "ÉLISE"))
    assert await store.user_by_name("élise") is None
    await store.add_user(make_user("u2", "élise"))  # not a conflict: only ASCII folds
    plan = sql(
        store._conninfo,
        'EXPLAIN SELECT id FROM users WHERE lower(username COLLATE "C")'
        " = lower('alice'::text COLLATE \"C\")",
    )
    assert "users_username_nocase" in " ".join(row[0] for row in plan)


async def test_list_order_is_byte_order(store: PostgresStore) -> None:
    for number, name in enumerate(["bob", "Zed", "alice", "_x", "Alice2"]):
        await store.add_user(make_user(f"u{number}", name))
    assert [u.username for u in await store.list_users()] == sorted(
        ["bob", "Zed", "alice", "_x", "Alice2"]
    )
    for client_id in ["b", "B", "a-1", "a_1"]:
        await store.add_client(make_client(client_id))
    assert [c.id for c in await store.list_clients()] == sorted(["b", "B", "a-1", "a_1"])


# retries ------------------------------------------------------------------------------------
async def test_a_transaction_aborted_by_a_conflict_runs_again(store: PostgresStore) -> None:
    calls = 0

    async def flaky(conn: Any) -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise psycopg.errors.DeadlockDetected("deadlock detected")
        return "done"

    assert await store._run(flaky) == "done"
    assert calls == 3

    async def always(conn: Any) -> str:
        raise psycopg.errors.SerializationFailure("could not serialize access")

    with pytest.raises(StoreError, match="could not serialize access"):
        await store._run(always)


# atomicity across stores (separate pools, as separate processes) ----------------------------
StoreWork = Callable[[PostgresStore, int], Awaitable[Any]]


async def across_stores(url: str, work: StoreWork, stores: int = 5, each: int = 4) -> list[Any]:
    """``work`` run ``stores * each`` times at once, spread over separate stores."""
    opened = [PostgresStore(f"{url}?pool_size=4") for _ in range(stores)]
    await asyncio.gather(*(store.open() for store in opened))
    try:
        return await asyncio.gather(
            *(
                work(store, index * each + call)
                for index, store in enumerate(opened)
                for call in range(each)
            )
        )
    finally:
        await asyncio.gather(*(store.close() for store in opened))


async def test_rotations_across_stores_have_one_winner(
    store: PostgresStore, postgres_url: str
) -> None:
    first = await with_family(store)

    async def rotate(other: PostgresStore, index: int) -> str:
        outcome = await other.rotate_refresh_token(
            first.token_hash, make_token(f"n{index}"), T0 + 1, 0
        )
        return outcome.status

    statuses = await across_stores(postgres_url, rotate)
    assert sorted(statuses) == ["reused"] * 19 + ["rotated"]
    stored = [await store.refresh_token(token_hash(f"n{i}")) for i in range(20)]
    assert sum(token is not None for token in stored) == 1


async def test_redemptions_across_stores_have_one_winner_and_grants_follow_reuse(
    store: PostgresStore, postgres_url: str
) -> None:
    code = make_code()
    await store.add_code(code)

    async def redeem(other: PostgresStore, index: int) -> str:
        if index % 2:
            # a grant recorded while the code is being reused: answered False once reused
            await other.record_code_grant(code.code_hash, "fam", f"jti{index}", T0 + 900)
        return (await other.redeem_code(code.code_hash, T0 + 1)).status

    statuses = await across_stores(postgres_url, redeem)
    assert sorted(statuses) == ["redeemed"] + ["reused"] * 19
    assert await store.record_code_grant(code.code_hash, "fam", "late", T0 + 900) is False
    final = await store.redeem_code(code.code_hash, T0 + 2)
    assert final.code is not None
    assert final.code.reused_at is not None
    assert final.code.access_jti != "late"


async def test_uses_across_stores_have_one_winner(postgres_url: str) -> None:
    async with PostgresStore(postgres_url):
        pass

    async def use(other: PostgresStore, index: int) -> bool:
        return await other.use_once("jti-1", T0 + 60, T0)

    answers = await across_stores(postgres_url, use)
    assert sorted(answers) == [False] * 19 + [True]


async def test_reservations_across_stores_admit_exactly_the_limit(postgres_url: str) -> None:
    async with PostgresStore(postgres_url):
        pass

    async def reserve(other: PostgresStore, index: int) -> bool:
        # two buckets, named in both orders: locked in one order, so no deadlock
        limits = (("user:a", 5), ("ip:1", 7)) if index % 2 else (("ip:1", 7), ("user:a", 5))
        return (await other.reserve_attempt(limits, T0, 60)).admitted

    admitted = await across_stores(postgres_url, reserve)
    assert sum(admitted) == 5
    async with PostgresStore(postgres_url) as store:
        assert await store.failures("user:a", T0) == (0, 60.0)
        assert sql(postgres_url, "SELECT bucket, pending FROM rate_limits ORDER BY 1") == [
            ("ip:1", 5),
            ("user:a", 5),
        ]


async def test_settling_across_stores_counts_every_failure(postgres_url: str) -> None:
    async with PostgresStore(postgres_url) as store:
        reservations = [
            await store.reserve_attempt((("user:a", 50), ("ip:1", 50)), T0, 60) for _ in range(20)
        ]

    async def settle(other: PostgresStore, index: int) -> None:
        await other.settle_attempt(reservations[index].windows, T0 + 1, 60, failed=True)

    await across_stores(postgres_url, settle)
    assert sql(postgres_url, "SELECT bucket, failures, pending FROM rate_limits ORDER BY 1") == [
        ("ip:1", 20, 0),
        ("user:a", 20, 0),
    ]


# a server restart ---------------------------------------------------------------------------
async def test_the_store_survives_a_server_restart(postgres_server: PostgresDatabases) -> None:
    server = postgres_server.server
    if server is None:
        pytest.skip(f"the server of {os.environ.get('JWTKIT_TEST_POSTGRES_URL')} is not ours")
    name = postgres_server.create()
    url = postgres_server.url(name) + "?pool_timeout=0.5&pool_size=3"
    try:
        async with PostgresStore(url) as store:
            await store.add_user(make_user())
            await asyncio.gather(*(store.user_by_id("u1") for _ in range(6)))  # 3 connections
            # Restarted while idle: the closed connections are noticed and replaced at once.
            await asyncio.to_thread(server.restart)
            assert await store.user_by_id("u1") == make_user()
            assert await asyncio.gather(*(store.user_by_id("u1") for _ in range(6)))
            # Down: every call is a StoreError (the service's 503), quickly.
            await asyncio.to_thread(server.stop)
            started = time.monotonic()
            with pytest.raises(StoreError, match="is unavailable") as caught:
                await store.user_by_id("u1")
            assert time.monotonic() - started < 5
            assert password_of(url) not in str(caught.value)
            with pytest.raises(StoreError):
                await store.add_user(make_user("u2", "bob"))
            # Up again: the pool reconnects by itself (no reopening).
            await asyncio.to_thread(server.start)
            deadline = time.monotonic() + 30
            while True:
                try:
                    found = await store.user_by_name("alice")
                    break
                except StoreError:
                    assert time.monotonic() < deadline, "the store did not recover"
                    await asyncio.sleep(0.2)
            assert found == make_user()
            await store.add_user(make_user("u2", "bob"))
    finally:
        postgres_server.drop(name)


# jwtkit db status | upgrade, and the admin commands -----------------------------------------
def run(*args: str) -> Result:
    return CliRunner().invoke(_console.build(), list(args))


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        os, "environ", {k: v for k, v in os.environ.items() if not k.startswith("JWTKIT_")}
    )


def test_db_status_and_upgrade(postgres_url: str, clean_environment: None) -> None:
    redacted = redacted_url(postgres_url)
    status = run("db", "status", "--database", postgres_url)
    assert status.exit_code == 0, status.output
    latest = len(MIGRATIONS)
    assert status.output == (
        f"database: {redacted}\n"
        "schema version: 0\n"
        f"latest version: {latest}\n"
        "pending migrations:\n"
        + "".join(
            f"  {version}  {summary}\n"
            for version, summary in enumerate(MIGRATION_SUMMARIES, start=1)
        )
    )
    upgraded = run("db", "upgrade", "--database", postgres_url)
    assert upgraded.exit_code == 0, upgraded.output
    assert upgraded.output == (
        f"database {redacted}: schema version 0 -> {latest} ({latest} migration(s) applied)\n"
    )
    again = run("db", "upgrade", "--database", postgres_url)
    assert again.output == f"database {redacted}: schema version {latest}, up to date\n"
    done = run("db", "status", "--database", postgres_url)
    assert done.output.endswith(
        f"schema version: {latest}\nlatest version: {latest}\npending migrations: none\n"
    )
    for output in (status.output, upgraded.output, again.output, done.output):
        assert password_of(postgres_url) not in output


def test_db_status_of_a_later_jwtkit(
    postgres_url: str, clean_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("db", "upgrade", "--database", postgres_url).exit_code == 0
    monkeypatch.setattr(PostgresStore, "migrations", _Extended.migrations)
    monkeypatch.setattr(PostgresStore, "summaries", (*MIGRATION_SUMMARIES, "an extra table"))
    status = run("db", "status", "--database", postgres_url)
    latest = len(MIGRATIONS)
    assert status.output.endswith(
        f"schema version: {latest}\nlatest version: {latest + 1}\npending migrations:\n"
        f"  {latest + 1}  an extra table\n"
    )
    upgraded = run("db", "upgrade", "--database", postgres_url)
    assert upgraded.output.endswith(
        f"schema version {latest} -> {latest + 1} (1 migration(s) applied)\n"
    )


def test_admin_commands_need_the_schema_and_fail_in_one_line(
    postgres_url: str, clean_environment: None, postgres_server: PostgresDatabases
) -> None:
    redacted = redacted_url(postgres_url)
    listing = run("users", "list", "--database", postgres_url)
    assert listing.exit_code == 1
    assert listing.output.startswith(f"jwtkit: error: database: {redacted} does not exist;")
    assert run("db", "upgrade", "--database", postgres_url).exit_code == 0
    listing = run("users", "list", "--database", postgres_url)
    assert listing.exit_code == 0, listing.output
    assert listing.output.split() == ["USERNAME", "ID", "STATUS", "CREATED"]
    missing = postgres_server.url("jwtkit_no_such_database")
    for command in (("db", "status"), ("db", "upgrade"), ("users", "list")):
        failed = run(*command, "--database", missing)
        assert failed.exit_code == 1
        assert failed.output.count("\n") == 1
        assert "does not exist: create it (createdb)" in failed.output
        assert password_of(missing) not in failed.output


def test_serve_preflight_creates_the_schema_and_the_first_key(
    postgres_url: str, clean_environment: None
) -> None:
    from conftest import TEST_KEK

    from jwtkit.server import cli as server_cli

    os.environ[env_var("key_encryption_key")] = TEST_KEK
    server_cli._preflight(server_cli._settings(postgres_url, None))
    listing = run("keys", "list", "--database", postgres_url)
    assert listing.exit_code == 0, listing.output
    assert len(listing.output.splitlines()) >= 2


async def test_the_user_and_client_records_survive_a_round_trip_through_the_pool(
    store: PostgresStore,
) -> None:
    user = make_user(email="a@example.com", email_verified=True, name="Alice", disabled=True)
    await store.add_user(user)
    client = replace(make_client(), jwks='{"keys": [ ]}', first_party=True)
    await store.add_client(client)
    assert await store.user_by_id("u1") == user
    assert await store.client_by_id("app") == client


# the service on PostgreSQL ------------------------------------------------------------------
async def test_the_service_answers_503_while_the_database_refuses_and_recovers(
    postgres_server: PostgresDatabases, postgres_url: str, run_app: RunApp
) -> None:
    name = postgres_url.rpartition("/")[2]
    store = PostgresStore(f"{postgres_url}?pool_timeout=0.5")
    await store.open()
    try:
        async with run_app(store=store) as harness:
            await harness.register()
            assert (await harness.login()).status_code == 200
            # Connections dropped and refused (as during a failover): a 503, never a 500.
            sql(postgres_server.admin_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            sql(
                postgres_server.admin_url,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                name,
            )
            refused = await harness.login()
            assert refused.status_code == 503
            assert refused.json()["error"] == "temporarily_unavailable"
            sql(postgres_server.admin_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            deadline = time.monotonic() + 30
            while (answer := await harness.login()).status_code == 503:
                assert time.monotonic() < deadline, "the service did not recover"
                await asyncio.sleep(0.2)
            assert answer.status_code == 200, answer.text
    finally:
        await store.close()
