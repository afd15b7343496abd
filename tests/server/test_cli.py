"""The ``jwtkit`` command: admin commands through click's runner, ``serve`` with uvicorn
replaced by a recorder, the composition root's error handling, and real subprocesses.

The admin commands need the service's database: the ``database`` fixture is the state that a
first ``jwtkit serve`` leaves (schema and first signing key)."""

from __future__ import annotations

import base64
import dataclasses
import importlib
import json
import logging
import os
import shlex
import socket
import sqlite3
import stat
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import anyio
import click
import httpx
import pytest
from click.testing import CliRunner, Result
from conftest import FAST_ARGON2, PASSWORD, TEST_KEK, free_port

import jwtkit
from jwtkit import _console
from jwtkit._keys import mldsa_support
from jwtkit.server import cli as server_cli
from jwtkit.server.app import create_app
from jwtkit.server.client_assertions import CLIENT_ASSERTION_TYPE
from jwtkit.server.config import Settings, env_var
from jwtkit.server.models import Client, User
from jwtkit.server.passwords import PasswordHasher
from jwtkit.server.storage import SQLiteStore
from jwtkit.server.storage.sqlite import MIGRATION_SUMMARIES, MIGRATIONS
from jwtkit.server.tokens import hash_client_secret, verify_client_secret

OTHER_KEK = base64.urlsafe_b64encode(bytes(range(32, 64))).decode().rstrip("=")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands read JWTKIT_* from os.environ: start from none but fast Argon2 and a KEK."""
    monkeypatch.setattr(
        os, "environ", {k: v for k, v in os.environ.items() if not k.startswith("JWTKIT_")}
    )
    for name, value in FAST_ARGON2.items():
        os.environ[env_var(name)] = str(value)
    os.environ[env_var("key_encryption_key")] = TEST_KEK


def started_once(database: str) -> str:
    """Create ``database`` as a first ``jwtkit serve`` does (its preflight): only ``serve``
    creates state."""
    server_cli._preflight(server_cli._settings(database, None))
    return database


@pytest.fixture
def database(tmp_path: Path) -> str:
    return started_once(str(tmp_path / "cli.db"))


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Standard input is a terminal (click's runner feeds the hidden prompt)."""
    monkeypatch.setattr(server_cli, "_stdin_is_terminal", lambda: True)


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(_console.build(), list(args), input=stdin)


def users_of(database: str) -> list[User]:
    async def read() -> list[User]:
        async with SQLiteStore(database) as store:
            return await store.list_users()

    return anyio.run(read)


# -- users -----------------------------------------------------------------------------------


def test_users_add_list_disable_enable(database: str, terminal: None) -> None:
    added = run(
        "users", "add", "alice", "--password-stdin", "--database", database, stdin=f"{PASSWORD}\n"
    )
    assert added.exit_code == 0, added.output
    assert "user alice created" in added.output
    (user,) = users_of(database)
    assert user.username == "alice"
    assert PASSWORD not in added.output

    prompted = run("users", "add", "bob", "--database", database, stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    assert PASSWORD not in prompted.output

    listing = run("users", "list", "--database", database)
    assert listing.exit_code == 0
    lines = listing.output.splitlines()
    assert lines[0].split() == ["USERNAME", "ID", "STATUS", "CREATED"]
    assert {line.split()[0] for line in lines[1:]} == {"alice", "bob"}

    disabled = run("users", "disable", "alice", "--database", database)
    assert disabled.exit_code == 0
    assert "disabled" in run("users", "list", "--database", database).output
    assert {u.username: u.disabled for u in users_of(database)} == {"alice": True, "bob": False}
    assert run("users", "enable", "alice", "--database", database).exit_code == 0
    assert not any(u.disabled for u in users_of(database))


def test_users_add_failures(database: str) -> None:
    run("users", "add", "alice", "--password-stdin", "--database", database, stdin=f"{PASSWORD}\n")
    duplicate = run(
        "users", "add", "alice", "--password-stdin", "--database", database, stdin=f"{PASSWORD}\n"
    )
    assert duplicate.exit_code == 1
    assert duplicate.output.strip() == "jwtkit: error: user 'alice' already exists"
    weak = run(
        "users", "add", "carol", "--password-stdin", "--database", database, stdin="123456\n"
    )
    assert weak.exit_code == 2
    assert "too short" in weak.output
    bad_name = run("users", "add", "c d", "--password-stdin", "--database", database, stdin="x\n")
    assert bad_name.exit_code == 2
    empty = run("users", "add", "carol", "--password-stdin", "--database", database, stdin="")
    assert empty.exit_code == 2
    assert "no password" in empty.output
    unknown = run("users", "disable", "nobody", "--database", database)
    assert unknown.exit_code == 1
    assert "no user 'nobody'" in unknown.output


def test_users_add_refuses_a_name_that_differs_only_in_case(database: str) -> None:
    """Usernames are unique ignoring case; the refusal is one line naming both."""
    add = ("users", "add", "--password-stdin", "--database", database)
    assert run(*add[:2], "alice", *add[2:], stdin=f"{PASSWORD}\n").exit_code == 0
    taken = run(*add[:2], "ALICE", *add[2:], stdin=f"{PASSWORD}\n")
    assert taken.exit_code == 1
    assert taken.output == (
        "jwtkit: error: user 'ALICE' already exists as 'alice' (usernames ignore case)\n"
    )
    assert [user.username for user in users_of(database)] == ["alice"]


def test_commands_refuse_a_database_whose_usernames_collide_in_case(tmp_path: Path) -> None:
    """A database of an earlier version holding ``bob`` and ``BOB`` is not migrated: one line
    names them and the way out, and nothing changes."""
    database = str(tmp_path / "old.db")
    conn = sqlite3.connect(database, isolation_level=None)
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at REAL)")
    for version, migration in enumerate(MIGRATIONS[:2], 1):
        for statement in migration:
            assert isinstance(statement, str)
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (?, 0)", (version,))
    for user_id, name in (("u1", "bob"), ("u2", "BOB")):
        conn.execute(
            "INSERT INTO users (id, username, password_hash, created_at) VALUES (?, ?, 'h', 0)",
            (user_id, name),
        )
    conn.close()
    result = run("users", "add", "carol", "--password-stdin", "--database", database, stdin="x\n")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert result.output.startswith("jwtkit: error: database: cannot upgrade the database")
    assert "'bob' (id u1)" in result.output
    assert "'BOB' (id u2)" in result.output
    assert "UPDATE users SET username" in result.output
    assert raw_versions(database) == [(1,), (2,)]


def raw_versions(database: str) -> list[Any]:
    conn = sqlite3.connect(database)
    try:
        return conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    finally:
        conn.close()


def test_users_set_password(database: str) -> None:
    run("users", "add", "alice", "--password-stdin", "--database", database, stdin=f"{PASSWORD}\n")
    (before,) = users_of(database)
    changed = run(
        "users",
        "set-password",
        "alice",
        "--password-stdin",
        "--database",
        database,
        stdin="a whole new passphrase\n",
    )
    assert changed.exit_code == 0, changed.output
    (after,) = users_of(database)
    assert after.password_hash != before.password_hash
    assert after.tokens_valid_after > 0
    assert after.token_generation == before.token_generation + 1  # its access tokens are refused
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    assert anyio.run(hasher.verify, after.password_hash, "a whole new passphrase")
    missing = run(
        "users",
        "set-password",
        "bob",
        "--password-stdin",
        "--database",
        database,
        stdin="a whole new passphrase\n",
    )
    assert missing.exit_code == 1


def _profile(database: str, username: str = "alice") -> tuple[str | None, bool, str | None]:
    (user,) = (u for u in users_of(database) if u.username == username)
    return user.email, user.email_verified, user.name


def test_users_add_with_a_profile(database: str) -> None:
    """``jwtkit users add NAME --email E --name N [--email-verified]`` (OpenID Connect Core
    §5.1); without the options the user has no profile, as before."""
    added = run(
        "users",
        "add",
        "alice",
        "--email",
        "alice.smith+jwt@mail.example.com",
        "--name",
        "Alice Smith",
        "--email-verified",
        "--password-stdin",
        "--database",
        database,
        stdin=f"{PASSWORD}\n",
    )
    assert added.exit_code == 0, added.output
    assert _profile(database) == ("alice.smith+jwt@mail.example.com", True, "Alice Smith")
    plain = run(
        "users",
        "add",
        "bob",
        "--email",
        "bob@example.com",
        "--password-stdin",
        "--database",
        database,
        stdin=f"{PASSWORD}\n",
    )
    assert plain.exit_code == 0, plain.output
    assert _profile(database, "bob") == ("bob@example.com", False, None)
    bare = run(
        "users", "add", "carol", "--password-stdin", "--database", database, stdin=f"{PASSWORD}\n"
    )
    assert bare.exit_code == 0, bare.output
    assert _profile(database, "carol") == (None, False, None)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--email", "alice"), "e-mail address"),
        (("--email", "alice@"), "e-mail address"),
        (("--email", "a b@example.com"), "e-mail address"),
        (("--email", '"a"@example.com'), "e-mail address"),
        (("--email", "a..b@example.com"), "e-mail address"),
        (("--email", "a@-example.com"), "e-mail address"),
        (("--email", "a@example..com"), "e-mail address"),
        (("--email", "é@example.com"), "e-mail address"),
        (("--email", "a" * 65 + "@example.com"), "e-mail address"),
        (
            ("--email", "a@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + "." + "e" * 61),
            "e-mail address",
        ),
        (("--name", " Alice"), "name"),
        (("--name", "Alice\tSmith"), "name"),
        (("--name", "x" * 201), "name"),
        (("--email-verified",), "--email-verified needs --email"),
    ],
)
def test_users_add_refuses_a_bad_profile(
    database: str, options: tuple[str, ...], message: str
) -> None:
    """A usage error (exit status 2), before any password is read; nobody is added."""
    result = run(
        "users",
        "add",
        "alice",
        *options,
        "--password-stdin",
        "--database",
        database,
        stdin=f"{PASSWORD}\n",
    )
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert users_of(database) == []


def test_users_set_profile(database: str) -> None:
    """Each option changes its field and keeps the others; a new address is unverified unless
    said otherwise; '' removes a value."""
    run("users", "add", "alice", "--password-stdin", "--database", database, stdin=f"{PASSWORD}\n")
    (before,) = users_of(database)

    def set_profile(*options: str) -> Result:
        return run("users", "set-profile", "ALICE", *options, "--database", database)

    result = set_profile("--email", "alice@example.com", "--name", "Alice Smith")
    assert result.exit_code == 0, result.output
    assert "email alice@example.com (unverified), name Alice Smith" in result.output
    assert _profile(database) == ("alice@example.com", False, "Alice Smith")
    assert set_profile("--email-verified").exit_code == 0
    assert _profile(database) == ("alice@example.com", True, "Alice Smith")
    assert set_profile("--name", "Alice S.").exit_code == 0  # the address stays verified
    assert _profile(database) == ("alice@example.com", True, "Alice S.")
    assert set_profile("--email", "alice@example.com").exit_code == 0  # the same address
    assert _profile(database) == ("alice@example.com", True, "Alice S.")
    assert set_profile("--email", "alice@example.org").exit_code == 0  # a new one: unverified
    assert _profile(database) == ("alice@example.org", False, "Alice S.")
    assert set_profile("--email", "a@example.net", "--email-verified").exit_code == 0
    assert _profile(database) == ("a@example.net", True, "Alice S.")
    assert set_profile("--email-unverified").exit_code == 0
    assert _profile(database) == ("a@example.net", False, "Alice S.")
    removed = set_profile("--email", "", "--name", "")
    assert removed.exit_code == 0, removed.output
    assert "email -, name -" in removed.output
    assert _profile(database) == (None, False, None)
    (after,) = users_of(database)  # nothing else changed
    assert (after.password_hash, after.token_generation) == (before.password_hash, 0)

    no_address = set_profile("--email-verified")
    assert no_address.exit_code == 1
    assert "has no e-mail address to verify" in no_address.output
    assert set_profile().exit_code == 2
    assert "nothing to change" in set_profile().output
    bad = set_profile("--email", "not an address")
    assert (bad.exit_code, "e-mail address" in bad.output) == (2, True)
    unknown = run("users", "set-profile", "bob", "--name", "Bob", "--database", database)
    assert (unknown.exit_code, "no user 'bob'" in unknown.output) == (1, True)
    assert _profile(database) == (None, False, None)


# -- clients ---------------------------------------------------------------------------------


def test_clients_add_list_remove(database: str) -> None:
    added = run(
        "clients",
        "add",
        "backend",
        "--scope",
        "read write",
        "--scope",
        "admin",
        "--database",
        database,
    )
    assert added.exit_code == 0, added.output
    secret_lines = [
        line for line in added.output.splitlines() if line.startswith("client_secret: ")
    ]
    assert len(secret_lines) == 1
    secret = secret_lines[0].split(": ", 1)[1]
    assert len(secret) == 43

    async def stored() -> Any:
        async with SQLiteStore(database) as store:
            return await store.client_by_id("backend")

    client = anyio.run(stored)
    assert client.scopes == ("read", "write", "admin")
    assert client.grant_types == ("client_credentials",)
    # A server-made 256-bit secret is stored as its SHA-256 digest (no Argon2: see
    # docs/server.md), never in clear.
    assert client.secret_hash == hash_client_secret(secret)
    assert client.secret_hash.startswith("sha256$")
    assert secret not in client.secret_hash
    assert verify_client_secret(client.secret_hash, secret)
    assert not verify_client_secret(client.secret_hash, secret + "x")

    public = run(
        "clients",
        "add",
        "spa",
        "--public",
        "--grant",
        "password",
        "--grant",
        "refresh_token",
        "--database",
        database,
    )
    assert public.exit_code == 0
    assert "client_secret" not in public.output
    listing = run("clients", "list", "--database", database).output
    assert "backend" in listing
    assert "public" in listing
    assert secret not in listing
    assert run("clients", "remove", "spa", "--database", database).exit_code == 0
    assert "spa" not in run("clients", "list", "--database", database).output
    gone = run("clients", "remove", "spa", "--database", database)
    assert gone.exit_code == 1


def test_clients_add_resource_servers(database: str) -> None:
    """``--resource-server`` lets a client introspect the access tokens of its
    audiences (RFC 7662 §4): the service's audience unless ``--audience`` names others."""
    own = run("clients", "add", "api", "--resource-server", "--database", database)
    assert own.exit_code == 0, own.output
    assert "resource server of jwtkit" in own.output
    others = (
        "clients",
        "add",
        "gateway",
        "--resource-server",
        "--audience",
        "https://a.example.com",
        "--audience",
        "b",
        "--database",
        database,
    )
    assert run(*others).exit_code == 0
    assert run("clients", "add", "plain", "--database", database).exit_code == 0

    async def stored() -> dict[str, tuple[str, ...]]:
        async with SQLiteStore(database) as store:
            return {c.id: c.audiences for c in await store.list_clients()}

    assert anyio.run(stored) == {
        "api": ("jwtkit",),
        "gateway": ("https://a.example.com", "b"),
        "plain": (),
    }
    listing = run("clients", "list", "--database", database).output.splitlines()
    assert "RESOURCE_SERVER_OF" in listing[0]
    assert "https://a.example.com,b" in next(line for line in listing if "gateway" in line)
    plain = next(line for line in listing if line.startswith("plain"))
    assert plain.split()[5] == "-"
    alone = run("clients", "add", "x", "--audience", "a", "--database", database)
    assert alone.exit_code == 2
    assert "--audience is for a --resource-server" in alone.output
    public = run(
        "clients",
        "add",
        "x",
        "--resource-server",
        "--public",
        "--grant",
        "password",
        "--database",
        database,
    )
    assert public.exit_code == 2
    assert "cannot be --public" in public.output
    spaced = run(
        "clients", "add", "x", "--resource-server", "--audience", "a b", "--database", database
    )
    assert spaced.exit_code == 2


def test_a_client_added_by_the_cli_gets_tokens_from_the_service(database: str) -> None:
    added = run("clients", "add", "backend", "--scope", "read", "--database", database)
    assert added.exit_code == 0, added.output
    secret = added.output.split("client_secret: ", 1)[1].split()[0]
    settings = Settings(database=database, key_encryption_key=TEST_KEK, **FAST_ARGON2)

    async def client_credentials(client_secret: str) -> httpx.Response:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                return await http.post(
                    "/token",
                    data={"grant_type": "client_credentials"},
                    auth=("backend", client_secret),
                )

    answer = anyio.run(client_credentials, secret)
    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == "read"
    assert anyio.run(client_credentials, secret + "x").status_code == 401


def _clients(database: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        async with SQLiteStore(database) as store:
            return {c.id: c for c in await store.list_clients()}

    return anyio.run(read)


def test_clients_add_with_jwks_registers_a_client_that_signs(database: str, tmp_path: Path) -> None:
    """``--jwks``: the client's public keys are stored exactly as the file has them, no secret
    is made or printed, and the listing names each client's authentication method."""
    key = jwtkit.Key.generate("ES256", kid="svc-1")
    text = json.dumps({"keys": [key.public_key().to_jwk()]}, indent=2) + "\r\n"
    path = tmp_path / "client-jwks.json"
    path.write_bytes(text.encode())
    added = run("clients", "add", "svc", "--jwks", str(path), "--database", database)
    assert added.exit_code == 0, added.output
    assert "client_secret" not in added.output
    assert "confidential client svc created" in added.output
    assert "private_key_jwt" in added.output
    assert run("clients", "add", "backend", "--database", database).exit_code == 0
    assert (
        run(
            "clients", "add", "spa", "--public", "--grant", "password", "--database", database
        ).exit_code
        == 0
    )
    clients = _clients(database)
    svc = clients["svc"]
    assert (svc.jwks, svc.secret_hash, svc.public) == (text, None, False)
    assert svc.grant_types == ("client_credentials",)
    assert clients["backend"].jwks is None
    listing = run("clients", "list", "--database", database).output.splitlines()
    assert listing[0].split()[:4] == ["CLIENT_ID", "TYPE", "AUTH_METHOD", "GRANTS"]
    rows = {line.split()[0]: line.split()[:3] for line in listing[1:]}
    assert rows == {
        "backend": ["backend", "confidential", "client_secret"],
        "spa": ["spa", "public", "none"],
        "svc": ["svc", "confidential", "private_key_jwt"],
    }


def test_a_client_added_with_jwks_gets_tokens_with_an_assertion(
    database: str, tmp_path: Path
) -> None:
    key = jwtkit.Key.generate("EdDSA")
    path = tmp_path / "client-jwks.json"
    path.write_text(json.dumps({"keys": [key.public_key().to_jwk()]}))
    added = run(
        "clients", "add", "svc", "--scope", "read", "--jwks", str(path), "--database", database
    )
    assert added.exit_code == 0, added.output
    settings = Settings(database=database, key_encryption_key=TEST_KEK, **FAST_ARGON2)

    async def client_credentials(signer: jwtkit.Key) -> httpx.Response:
        app = create_app(settings)
        assertion = jwtkit.encode(
            {"iss": "svc", "sub": "svc", "aud": settings.issuer, "jti": os.urandom(8).hex()},
            signer,
            expires_in=60,
        )
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                return await http.post(
                    "/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_assertion_type": CLIENT_ASSERTION_TYPE,
                        "client_assertion": assertion,
                    },
                )

    answer = anyio.run(client_credentials, key)
    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == "read"
    assert anyio.run(client_credentials, jwtkit.Key.generate("EdDSA")).status_code == 401


def _jwks_file(tmp_path: Path, content: object) -> str:
    path = tmp_path / "jwks.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


_EC = jwtkit.Key.generate("ES256")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"keys": [_EC.to_jwk(private=True)]}, "key 0 is a private key"),
        (
            {"keys": [{"kty": "oct", "k": base64.urlsafe_b64encode(os.urandom(32)).decode()}]},
            "key 0 is a symmetric ('oct') key",
        ),
        ("{not json", "not a JWK Set"),
        ({"keys": []}, "the JWK Set has no key"),
        ({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}, "key 0 cannot be used"),
        (b"\xff\xfe{}", "not UTF-8 text"),
    ],
    ids=["private", "symmetric", "unparseable", "empty", "bad-key", "not-utf8"],
)
def test_clients_add_refuses_a_jwks_that_is_not_public_signature_keys(
    database: str, tmp_path: Path, content: object, message: str
) -> None:
    path = _jwks_file(tmp_path, content)
    refused = run("clients", "add", "svc", "--jwks", path, "--database", database)
    assert refused.exit_code == 2, refused.output
    assert message in refused.output
    assert f"--jwks {path}: " in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    assert "client_secret" not in refused.output
    assert _clients(database) == {}


def test_clients_add_jwks_usage_problems(database: str, tmp_path: Path) -> None:
    missing = run(
        "clients", "add", "svc", "--jwks", str(tmp_path / "none.json"), "--database", database
    )
    assert missing.exit_code == 2
    assert "--jwks: cannot read" in missing.output
    good = _jwks_file(tmp_path, {"keys": [_EC.public_key().to_jwk()]})
    public = run(
        "clients", "add", "spa", "--public", "--grant", "password", "--jwks", good,
        "--database", database,
    )  # fmt: skip
    assert public.exit_code == 2
    assert "--jwks is for a confidential client" in public.output
    assert _clients(database) == {}


def test_clients_add_failures(database: str) -> None:
    assert run("clients", "add", "a b", "--database", database).exit_code == 2
    assert run("clients", "add", "x", "--scope", 'a"b', "--database", database).exit_code == 2
    public_cc = run("clients", "add", "x", "--public", "--database", database)
    assert public_cc.exit_code == 2
    assert "client_credentials" in public_cc.output
    for name in (" padded", "a\tb", "x" * 201):
        bad_name = run("clients", "add", "x", "--name", name, "--database", database)
        assert bad_name.exit_code == 2
        assert "the client name must be 1 to 200 printable characters" in bad_name.output
    assert (
        run("clients", "add", "named", "--name", "Billing", "--database", database).exit_code == 0
    )
    assert run("clients", "add", "x", "--database", database).exit_code == 0
    duplicate = run("clients", "add", "x", "--database", database)
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.output


def test_clients_add_authorization_code_clients(database: str) -> None:
    """``--redirect-uri`` and ``--first-party`` are stored as given (the URIs in order) and
    listed; the authorization_code grant is registrable."""
    web = run(
        "clients",
        "add",
        "web",
        "--grant",
        "authorization_code",
        "--grant",
        "refresh_token",
        "--redirect-uri",
        "https://app.example.com/cb?x=1,2",
        "--redirect-uri",
        "https://app.example.com/other",
        "--first-party",
        "--scope",
        "openid",
        "--database",
        database,
    )
    assert web.exit_code == 0, web.output
    assert "first-party confidential client web created" in web.output
    assert "redirect URIs https://app.example.com/cb?x=1,2 https://app.example.com/other" in (
        web.output
    )
    assert "client_secret: " in web.output
    native = (
        "clients",
        "add",
        "native",
        "--public",
        "--grant",
        "authorization_code",
        "--redirect-uri",
        "com.example.app:/oauth2redirect",
        "--redirect-uri",
        "http://127.0.0.1/callback",
        "--database",
        database,
    )
    added = run(*native)
    assert added.exit_code == 0, added.output
    assert "public client native created" in added.output
    assert run("clients", "add", "plain", "--database", database).exit_code == 0

    async def stored() -> dict[str, tuple[tuple[str, ...], tuple[str, ...], bool]]:
        async with SQLiteStore(database) as store:
            return {
                c.id: (c.grant_types, c.redirect_uris, c.first_party)
                for c in await store.list_clients()
            }

    assert anyio.run(stored) == {
        "native": (
            ("authorization_code",),
            ("com.example.app:/oauth2redirect", "http://127.0.0.1/callback"),
            False,
        ),
        "plain": (("client_credentials",), (), False),
        "web": (
            ("authorization_code", "refresh_token"),
            ("https://app.example.com/cb?x=1,2", "https://app.example.com/other"),
            True,
        ),
    }
    listing = run("clients", "list", "--database", database).output.splitlines()
    header = listing[0].split()
    assert header[-3:] == ["FIRST_PARTY", "CREATED", "REDIRECT_URIS"]
    rows = {line.split()[0]: line.split() for line in listing[1:]}
    assert rows["web"][6] == "yes"
    assert rows["web"][-2:] == ["https://app.example.com/cb?x=1,2", "https://app.example.com/other"]
    assert rows["native"][6] == "no"
    assert rows["native"][-2:] == ["com.example.app:/oauth2redirect", "http://127.0.0.1/callback"]
    assert (rows["plain"][6], rows["plain"][-1]) == ("no", "-")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--grant", "authorization_code"), "needs at least one redirect URI"),
        (
            ("--redirect-uri", "https://app.example.com/cb"),
            "redirect URIs are only for the authorization_code grant",
        ),
        (
            ("--grant", "authorization_code", "--redirect-uri", "https://a.example/cb#x"),
            "must not have a fragment",
        ),
        (
            ("--grant", "authorization_code", "--redirect-uri", "http://a.example/cb"),
            "http is only for a loopback host",
        ),
        (
            ("--grant", "authorization_code", "--redirect-uri", "https://*.example/cb"),
            "wildcards are not allowed",
        ),
        (
            ("--grant", "authorization_code", "--redirect-uri", "com.example.app:/cb"),
            "a private-use scheme is for native apps",
        ),
        (
            ("--grant", "authorization_code", "--redirect-uri", "/cb"),
            "must be an absolute URI",
        ),
        (("--grant", "implicit"), "Invalid value for '--grant'"),
    ],
)
def test_clients_add_refuses_bad_redirect_uris(
    database: str, arguments: tuple[str, ...], message: str
) -> None:
    refused = run("clients", "add", "x", *arguments, "--database", database)
    assert refused.exit_code == 2
    assert message in refused.output
    assert "Traceback" not in refused.output
    assert "client_secret" not in refused.output
    if not message.startswith("Invalid value"):  # click's own errors show the usage too
        assert refused.output.startswith("jwtkit: error: ")
        assert refused.output.count("\n") == 1
    assert run("clients", "list", "--database", database).output.count("\n") <= 1


def test_a_code_flow_client_added_here_reaches_the_token_endpoint(database: str) -> None:
    """A confidential client registered for authorization_code with a logout URI and an ID-token
    algorithm: the token endpoint checks its codes (an unknown one is invalid_grant), demands
    its secret, and the metadata lists the grant."""
    added = run(
        "clients",
        "add",
        "web",
        "--grant",
        "authorization_code",
        "--redirect-uri",
        "https://app.example.com/cb",
        "--post-logout-redirect-uri",
        "https://app.example.com/bye",
        "--id-token-alg",
        "RS256",
        "--database",
        database,
    )
    assert added.exit_code == 0, added.output
    secret = added.output.split("client_secret: ", 1)[1].split()[0]
    settings = Settings(database=database, key_encryption_key=TEST_KEK, **FAST_ARGON2)

    async def exchange() -> tuple[httpx.Response, httpx.Response, httpx.Response, Client | None]:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                form = {
                    "grant_type": "authorization_code",
                    "code": "x",
                    "redirect_uri": "https://app.example.com/cb",
                    "code_verifier": "v" * 43,
                }
                authenticated = await http.post("/token", data=form, auth=("web", secret))
                public = await http.post("/token", data={**form, "client_id": "web"})
                metadata = await http.get("/.well-known/oauth-authorization-server")
                stored = await app.state.service.store.client_by_id("web")
                return authenticated, public, metadata, stored

    authenticated, public, metadata, stored = anyio.run(exchange)
    assert authenticated.status_code == 400, authenticated.text
    assert authenticated.json()["error"] == "invalid_grant"
    assert public.status_code == 401
    assert public.json()["error"] == "invalid_client"
    assert "authorization_code" in metadata.json()["grant_types_supported"]
    assert stored is not None
    assert stored.post_logout_redirect_uris == ("https://app.example.com/bye",)
    assert stored.id_token_signed_response_alg == "RS256"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--id-token-alg", "HS256"), "--id-token-alg: one of RS256"),
        (("--post-logout-redirect-uri", "http://evil.example/"), "loopback"),
    ],
)
def test_code_flow_options_are_checked(
    database: str, options: tuple[str, ...], message: str
) -> None:
    added = run(
        "clients",
        "add",
        "web",
        "--grant",
        "authorization_code",
        "--redirect-uri",
        "https://app.example.com/cb",
        *options,
        "--database",
        database,
    )
    assert added.exit_code == 2, added.output
    assert message in added.output


# -- keys ------------------------------------------------------------------------------------


def keys_of(database: str) -> list[tuple[str, str, str]]:
    """``jwtkit keys list``: (kid, algorithm, status) of every key, oldest first."""
    listing = run("keys", "list", "--database", database)
    assert listing.exit_code == 0, listing.output
    header, *lines = listing.output.splitlines()
    assert header.split()[:3] == ["KID", "ALG", "STATUS"]
    return [(line.split()[0], line.split()[1], line.split()[2]) for line in lines]


def test_keys_list_rotate_retire(database: str) -> None:
    # one active key for access tokens (signing_algorithm), one for ID tokens (RS256)
    (first, _, _), (id_token_key, _, _) = keys = keys_of(database)
    assert [key[1:] for key in keys] == [("ES256", "active"), ("RS256", "active")]
    pending = run("keys", "rotate", "--database", database)
    assert pending.exit_code == 0, pending.output
    assert "(ES256): published now" in pending.output
    assert "the previous ES256 key stays published" in pending.output
    statuses = {kid: status for kid, _, status in keys_of(database)}
    assert statuses[first] == statuses[id_token_key] == "active"
    assert sorted(statuses.values()) == ["active", "active", "pending"]
    active_retire = run(
        "keys", "retire", "--database", database, "--", first
    )  # a kid may start with "-"
    assert active_retire.exit_code == 1
    assert "the active key of its algorithm ES256" in active_retire.output
    now = run(
        "keys", "rotate", "--activate-after", "0", "--algorithm", "RS256", "--database", database
    )
    assert now.exit_code == 0, now.output
    assert "(RS256): published now" in now.output
    statuses = {kid: status for kid, _, status in keys_of(database)}
    assert (statuses[first], statuses[id_token_key]) == ("active", "retired")
    retired = run("keys", "retire", "--database", database, "--", id_token_key)
    assert retired.exit_code == 0, retired.output
    assert retired.output == f"signing key {id_token_key} retired and unpublished\n"
    assert run("keys", "retire", "no-such-kid", "--database", database).exit_code == 1


def test_keys_rotate_refuses_an_algorithm_the_ring_does_not_keep(database: str) -> None:
    before = keys_of(database)
    refused = run("keys", "rotate", "--algorithm", "EdDSA", "--database", database)
    assert refused.exit_code == 1
    assert refused.output == (
        "jwtkit: error: no signing keys of the algorithm 'EdDSA' are kept: the key ring keeps "
        "ES256, RS256 (the algorithm settings)\n"
    )
    assert keys_of(database) == before
    assert _console.main(["keys", "rotate", "--algorithm", "HS256", "--database", database]) == 2
    # named in id_token_algorithms, it is kept: a new key, published before it signs (only
    # the service creates the key of a new algorithm, active at once)
    os.environ[env_var("id_token_algorithms")] = "RS256 EdDSA"
    rotated = run("keys", "rotate", "--algorithm", "EdDSA", "--database", database)
    assert rotated.exit_code == 0, rotated.output
    assert [key[1:] for key in keys_of(database)] == [
        ("ES256", "active"),
        ("RS256", "active"),
        ("EdDSA", "pending"),
    ]


@pytest.mark.skipif(
    mldsa_support.MLDSA_MODULE is None, reason="this cryptography release cannot sign with ML-DSA"
)
def test_keys_rotate_an_ml_dsa_key_named_by_published_algorithms(database: str) -> None:
    refused = run("keys", "rotate", "--algorithm", "ML-DSA-65", "--database", database)
    assert refused.exit_code == 1
    assert "no signing keys of the algorithm 'ML-DSA-65' are kept" in refused.output
    os.environ[env_var("published_algorithms")] = "ML-DSA-65"
    rotated = run("keys", "rotate", "--algorithm", "ML-DSA-65", "--database", database)
    assert rotated.exit_code == 0, rotated.output
    assert "(ML-DSA-65): published now" in rotated.output
    assert [key[1:] for key in keys_of(database)] == [
        ("ES256", "active"),
        ("RS256", "active"),
        ("ML-DSA-65", "pending"),
    ]


def test_keys_retire_an_algorithm_no_longer_configured(database: str) -> None:
    [(old, _, _), _] = keys_of(database)
    os.environ[env_var("signing_algorithm")] = "PS256"
    assert [key[1:] for key in keys_of(database)] == [("ES256", "active"), ("RS256", "active")]
    retired = run("keys", "retire", "--database", database, "--", old)
    assert retired.exit_code == 0, retired.output
    assert retired.output.startswith(
        f"signing key {old} (ES256) retired: it signs no more and stays published until "
    )
    assert retired.output.endswith(
        ", when the tokens it signed have expired; retire it again to unpublish it now\n"
    )
    # the admin command created no PS256 key: the service does, when it starts
    assert [key[1:] for key in keys_of(database)] == [("ES256", "retired"), ("RS256", "active")]
    again = run("keys", "retire", "--database", database, "--", old)
    assert again.output == f"signing key {old} retired and unpublished\n"


def test_keys_with_a_wrong_key_encryption_key(database: str) -> None:
    assert run("keys", "list", "--database", database).exit_code == 0
    os.environ[env_var("key_encryption_key")] = OTHER_KEK
    wrong = run("keys", "list", "--database", database)
    assert wrong.exit_code == 2
    assert "wrong key_encryption_key" in wrong.output
    assert "Traceback" not in wrong.output


# -- db --------------------------------------------------------------------------------------


class _FiveMigrations(SQLiteStore):
    migrations = MIGRATIONS[:5]


def test_db_upgrade_creates_and_migrates_and_status_reads(tmp_path: Path) -> None:
    path = tmp_path / "db.db"
    missing = run("db", "status", "--database", str(path))
    assert missing.exit_code == 1
    assert missing.output.startswith(f"jwtkit: error: database: {path} does not exist;")
    assert not path.exists()  # status never creates anything

    async def old() -> None:
        async with _FiveMigrations(path):
            pass

    anyio.run(old)
    status = run("db", "status", "--database", str(path))
    assert status.exit_code == 0, status.output
    latest = len(MIGRATIONS)
    assert status.output == (
        f"database: {path}\nschema version: 5\nlatest version: {latest}\npending migrations:\n"
        + "".join(f"  {n}  {MIGRATION_SUMMARIES[n - 1]}\n" for n in range(6, latest + 1))
    )
    upgraded = run("db", "upgrade", "--database", str(path))
    assert upgraded.output == (
        f"database {path}: schema version 5 -> {latest} ({latest - 5} migration(s) applied)\n"
    )
    assert run("db", "status", "--database", str(path)).output.endswith(
        "pending migrations: none\n"
    )
    fresh = tmp_path / "fresh.db"
    created = run("db", "upgrade", "--database", str(fresh))
    assert created.exit_code == 0, created.output
    assert f"schema version 0 -> {latest}" in created.output
    again = run("db", "upgrade", "--database", str(fresh))
    assert again.output == f"database {fresh}: schema version {latest}, up to date\n"


def test_db_commands_fail_in_one_line(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database " * 100)
    for command in ("status", "upgrade"):
        failed = run("db", command, "--database", str(garbage))
        assert failed.exit_code == 1
        assert failed.output.startswith("jwtkit: error: database:")
        assert failed.output.count("\n") == 1
    unknown = run("db", "status", "--database", "mysql://root:hunter2@db/x")
    assert unknown.exit_code == 1
    assert "hunter2" not in unknown.output


# -- errors ----------------------------------------------------------------------------------


def test_errors_are_one_line_with_exit_codes(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.environ[env_var("port")] = "not-a-number"
    assert _console.main(["users", "list", "--database", database]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "JWTKIT_PORT" in err
    del os.environ[env_var("port")]

    assert _console.main(["users", "list", "--database", str(tmp_path / "no" / "x.db")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("jwtkit: error: database:")
    assert err.count("\n") == 1

    assert _console.main(["users", "add"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Missing argument" in err

    assert _console.main(["nope"]) == 2
    assert _console.main(["users"]) == 2
    assert _console.main(["--version"]) == 0
    assert "jwtkit" in capsys.readouterr().out
    assert _console.main(["users", "list", "--database", database]) == 0


def test_other_database_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _console.main(["users", "list", "--database", "mysql://u:secret@db/x"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("jwtkit: error: database: unsupported database URL scheme 'mysql'")
    assert err.count("\n") == 1
    assert "secret" not in err
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.close()
    assert _console.main(["users", "add", "x", "--password-stdin", "--database", str(other)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("jwtkit: error: database: ")
    assert "not a jwtkit one" in err
    assert err.count("\n") == 1


def test_an_aborted_prompt_exits_1(
    database: str, monkeypatch: pytest.MonkeyPatch, terminal: None
) -> None:
    def abort(*args: Any, **kwargs: Any) -> str:
        raise click.Abort

    monkeypatch.setattr(click, "prompt", abort)
    assert _console.main(["users", "add", "alice", "--database", database]) == 1


def test_main_without_click(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "click", None)
    assert _console.main(["--help"]) == 2
    assert (
        capsys.readouterr().err.strip() == "jwtkit needs the 'cli' extra: pip install 'jwtkit[cli]'"
    )


def test_main_without_the_server_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], database: str
) -> None:
    monkeypatch.setitem(sys.modules, "jwtkit.server.storage", None)
    assert _console.main(["users", "list", "--database", database]) == 2
    assert "pip install 'jwtkit[server]'" in capsys.readouterr().err


def test_command_modules_are_composed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = types.ModuleType("jwtkit_test_commands")

    @click.command()
    def hello() -> None:
        click.echo("hello")

    def register(group: click.Group) -> None:
        group.add_command(hello)

    extra.register = register  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "jwtkit_test_commands", extra)
    monkeypatch.setattr(_console, "_COMMAND_MODULES", ("jwtkit.cli", "jwtkit_test_commands"))
    assert _console.main(["hello"]) == 0
    assert capsys.readouterr().out == "hello\n"


def test_a_command_module_whose_dependency_is_missing_is_reported(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing_import(name: str) -> Any:
        raise ModuleNotFoundError(f"No module named {'argon9'!r}", name="argon9")

    monkeypatch.setattr(importlib, "import_module", failing_import)
    assert _console.main(["--help"]) == 2
    assert "argon9" in capsys.readouterr().err


def test_keyboard_interrupt(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted() -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(_console, "build", interrupted)
    assert _console.main([]) == 130


def test_commands_may_return_an_exit_status(monkeypatch: pytest.MonkeyPatch) -> None:
    @click.command()
    def status() -> int:
        return 3

    monkeypatch.setattr(_console, "build", lambda: status)
    assert _console.main([]) == 3


# -- serve -----------------------------------------------------------------------------------


class Recorder:
    """Stands in for uvicorn's Config, Server and Multiprocess: records the app (or factory
    name) with the options, and the sockets each runner was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, dict[str, Any]]] = []
        self.runs: list[tuple[str, list[Any]]] = []
        self.started = True
        #: PROMETHEUS_MULTIPROC_DIR while the workers ran.
        self.metrics_folder: str | None = None
        recorder = self

        class Config:
            def __init__(self, app: Any, **kwargs: Any) -> None:
                recorder.calls.append((app, kwargs))

        class Server:
            def __init__(self, config: Config) -> None:
                self.started = False

            def run(self, sockets: list[Any]) -> None:
                recorder.runs.append(("server", [s.getsockname() for s in sockets]))
                self.started = recorder.started

        class Multiprocess:
            def __init__(self, config: Config, sockets: list[Any]) -> None:
                self.sockets = sockets

            def run(self) -> None:
                recorder.runs.append(("workers", [s.getsockname() for s in self.sockets]))
                recorder.metrics_folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")

        self.Config, self.Server, self.Multiprocess = Config, Server, Multiprocess


@pytest.fixture
def uvicorn_run(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    import uvicorn
    import uvicorn.supervisors

    recorder = Recorder()
    monkeypatch.setattr(uvicorn, "Config", recorder.Config)
    monkeypatch.setattr(uvicorn, "Server", recorder.Server)
    monkeypatch.setattr(uvicorn.supervisors, "Multiprocess", recorder.Multiprocess)
    return recorder


def test_serve_prints_how_to_start_and_runs_uvicorn(database: str, uvicorn_run: Recorder) -> None:
    port = free_port()
    result = run("serve", "--port", str(port), "--database", database, "--log-level", "debug")
    assert result.exit_code == 0, result.output
    assert f"http://127.0.0.1:{port}" in result.output
    assert f"jwtkit users add alice --database {database}" in result.output
    assert "grant_type=password" in result.output
    ((app, options),) = uvicorn_run.calls
    assert app.state.settings.issuer == f"http://127.0.0.1:{port}"
    assert options["port"] == port
    assert options["host"] == "127.0.0.1"
    assert options["log_config"]["loggers"]["jwtkit"]["level"] == "DEBUG"
    assert options["access_log"] is True  # text logs: uvicorn's access log
    # The server extra's parser and loop, chosen explicitly (not left to uvicorn's "auto").
    assert (options["http"], options["loop"]) == ("httptools", "uvloop")
    # uvicorn serves on the socket that serve bound before it printed anything.
    assert uvicorn_run.runs == [("server", [("127.0.0.1", port)])]


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize(
    ("missing", "stack", "line"),
    [
        (
            ("httptools", "uvloop"),
            ("h11", "asyncio"),
            "httptools and uvloop are not installed: uvicorn uses the h11 parser and asyncio's "
            "event loop instead (slower; pip install 'jwtkit[server]' installs them)",
        ),
        (
            ("uvloop",),
            ("httptools", "asyncio"),
            "uvloop is not installed: uvicorn uses asyncio's event loop instead (slower; "
            "pip install 'jwtkit[server]' installs it)",
        ),
    ],
)
def test_serve_falls_back_to_h11_and_asyncio_with_a_log_line(
    database: str,
    uvicorn_run: Recorder,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    workers: str,
    missing: tuple[str, ...],
    stack: tuple[str, str],
    line: str,
) -> None:
    for name in missing:
        monkeypatch.setitem(sys.modules, name, None)  # import fails: not installed
    caplog.set_level(logging.INFO, logger="jwtkit.server")
    result = run("serve", "--port", "0", "--workers", workers, "--database", database)
    assert result.exit_code == 0, result.output
    ((_, options),) = uvicorn_run.calls
    assert (options["http"], options["loop"]) == stack
    assert [r.getMessage() for r in caplog.records if r.name == "jwtkit.server"] == [line]


def test_serve_on_windows_uses_asyncio_without_a_word(
    database: str,
    uvicorn_run: Recorder,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """uvloop does not exist on Windows (the extra does not install it there): asyncio's
    loop is the normal case, not a fallback worth a log line."""
    monkeypatch.setattr(sys, "platform", "win32")
    caplog.set_level(logging.INFO, logger="jwtkit.server")
    result = run("serve", "--port", "0", "--database", database)
    assert result.exit_code == 0, result.output
    ((_, options),) = uvicorn_run.calls
    assert (options["http"], options["loop"]) == ("httptools", "asyncio")
    assert not [r for r in caplog.records if r.name == "jwtkit.server"]


def test_serve_with_workers_hands_uvicorn_a_factory(database: str, uvicorn_run: Recorder) -> None:
    result = run(
        "serve",
        "--workers",
        "2",
        "--port",
        "0",
        "--database",
        database,
        "--no-allow-registration",
        "--no-password-grant",
        "--config",
        os.devnull,
        "--log-level",
        "trace",
    )
    assert result.exit_code == 0, result.output
    ((target, options),) = uvicorn_run.calls
    assert target == "jwtkit.server.app:app_from_environment"
    assert options["factory"] is True
    assert options["workers"] == 2
    assert options["log_config"]["loggers"]["jwtkit"]["level"] == "DEBUG"
    assert os.environ["JWTKIT_DATABASE"] == database
    assert os.environ["JWTKIT_ALLOW_REGISTRATION"] == "false"
    assert os.environ["JWTKIT_CONFIG"] == os.devnull
    ((kind, [(host, port)]),) = uvicorn_run.runs
    assert (kind, host) == ("workers", "127.0.0.1")
    assert options["port"] == port != 0
    assert os.environ["JWTKIT_ISSUER"] == f"http://127.0.0.1:{port}"
    assert "or: curl" not in result.output  # registration is off
    assert "grant_type=password" not in result.output  # so is the password grant


def test_serve_with_workers_adds_up_their_metrics_in_a_private_folder(
    database: str, uvicorn_run: Recorder
) -> None:
    result = run("serve", "--workers", "2", "--port", "0", "--database", database)
    assert result.exit_code == 0, result.output
    folder = uvicorn_run.metrics_folder
    assert folder is not None
    assert os.path.basename(folder).startswith("jwtkit-metrics-")
    assert not os.path.exists(folder)  # removed when the workers stopped
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


def test_serve_with_workers_and_no_metrics_needs_no_folder(
    database: str, uvicorn_run: Recorder
) -> None:
    os.environ["JWTKIT_METRICS"] = "false"
    result = run("serve", "--workers", "2", "--port", "0", "--database", database)
    assert result.exit_code == 0, result.output
    assert uvicorn_run.runs[0][0] == "workers"
    assert uvicorn_run.metrics_folder is None


def test_serve_with_json_logs(database: str, uvicorn_run: Recorder) -> None:
    port = free_port()
    result = run("serve", "--port", str(port), "--database", database, "--log-format", "json")
    assert result.exit_code == 0, result.output
    (banner,) = result.output.splitlines()  # the banner is one line of the log, as JSON
    line = json.loads(banner)
    assert (line["level"], line["logger"]) == ("info", "jwtkit.server")
    assert line["message"].startswith(f"jwtkit token service: http://127.0.0.1:{port}  (")
    ((app, options),) = uvicorn_run.calls
    assert app.state.settings.log_format == "json"
    assert options["access_log"] is False  # the service writes its own, with the duration
    config = options["log_config"]
    assert config["formatters"]["default"]["()"] == "jwtkit.server.log_format.JsonFormatter"
    assert config["formatters"]["access"]["()"] == "jwtkit.server.log_format.JsonFormatter"
    assert config["loggers"]["jwtkit.access"]["handlers"] == ["access"]


def test_serve_workers_from_the_environment(database: str, uvicorn_run: Recorder) -> None:
    os.environ["JWTKIT_WORKERS"] = "3"
    port = free_port()
    result = run("serve", "--port", str(port), "--database", database)
    assert result.exit_code == 0, result.output
    ((_, options),) = uvicorn_run.calls
    assert options["workers"] == 3
    assert os.environ["JWTKIT_ISSUER"] == f"http://127.0.0.1:{port}"
    assert "JWTKIT_CONFIG" not in os.environ


def test_serve_refuses_bad_settings(database: str, uvicorn_run: Recorder) -> None:
    result = run("serve", "--issuer", "http://example.com", "--database", database)
    assert result.exit_code == 2
    assert "https" in result.output
    assert not uvicorn_run.calls
    assert not uvicorn_run.runs


def test_serve_with_a_wrong_key_encryption_key_is_one_line(
    database: str, uvicorn_run: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("keys", "list", "--database", database).exit_code == 0
    os.environ[env_var("key_encryption_key")] = OTHER_KEK
    assert _console.main(["serve", "--port", "0", "--database", database]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "cannot decrypt signing key" in err
    assert not uvicorn_run.calls


def test_serve_without_uvicorn(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    assert _console.main(["serve", "--database", database]) == 2
    assert "pip install 'jwtkit[server]'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("overrides", "issuer"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"port": 9000}, "http://127.0.0.1:9000"),
        ({"host": "localhost", "port": 9000}, "http://localhost:9000"),
        ({"host": "::1", "port": 9000}, "http://[::1]:9000"),
        (
            {"host": "0.0.0.0", "port": 9000, "environment": "development"},  # noqa: S104
            "http://127.0.0.1:9000",
        ),
        ({"port": 0}, "http://127.0.0.1:8000"),
        ({"port": 9000, "issuer": "http://localhost:1234"}, "http://localhost:1234"),
    ],
)
def test_development_issuer_follows_the_address(overrides: dict[str, Any], issuer: str) -> None:
    assert server_cli._issuer_for(Settings(**overrides)).issuer == issuer


def test_production_issuer_is_never_guessed() -> None:
    settings = Settings(
        issuer="https://id.example.com",
        environment="production",
        port=9000,
        key_encryption_key=TEST_KEK,
        argon2_memory_cost=19456,
    )
    assert server_cli._issuer_for(settings).issuer == "https://id.example.com"


# -- a real process --------------------------------------------------------------------------


def test_the_command_in_a_real_process(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "jwtkit"]
    env = dict(os.environ)
    started_once(str(tmp_path / "p.db"))
    added = subprocess.run(  # noqa: S603 - fixed arguments
        [
            *command,
            "users",
            "add",
            "alice",
            "--password-stdin",
            "--database",
            str(tmp_path / "p.db"),
        ],
        input=f"{PASSWORD}\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    listed = subprocess.run(  # noqa: S603 - fixed arguments
        [*command, "users", "list", "--database", str(tmp_path / "p.db")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0
    assert "alice" in listed.stdout
    failed = subprocess.run(  # noqa: S603 - fixed arguments
        [*command, "users", "list", "--database", str(tmp_path / "missing" / "p.db")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    assert failed.stderr.count("\n") == 1


# -- state: only serve creates it ------------------------------------------------------------


def _tree(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def test_serve_keeps_development_state_in_one_private_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uvicorn_run: Recorder
) -> None:
    monkeypatch.chdir(tmp_path)
    del os.environ[env_var("key_encryption_key")]  # development: the key file
    result = run("serve", "--port", "0")
    assert result.exit_code == 0, result.output
    state = tmp_path / ".jwtkit"
    assert [path.name for path in tmp_path.iterdir()] == [".jwtkit"]
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert {"jwtkit.db", "keys.secret"} <= set(os.listdir(state))
    for name in os.listdir(state):  # the database, its WAL files, the key file
        assert stat.S_IMODE((state / name).stat().st_mode) == 0o600, name
    assert "database .jwtkit/jwtkit.db" in result.output
    # The state is complete: the admin commands find it with the same (default) settings.
    assert run("keys", "list").exit_code == 0
    added = run("users", "add", "alice", "--password-stdin", stdin=f"{PASSWORD}\n")
    assert added.exit_code == 0, added.output
    assert "alice" in run("users", "list").output


def test_serve_reports_a_state_folder_it_cannot_create(
    tmp_path: Path, uvicorn_run: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "missing" / "state" / "jwtkit.db"
    assert _console.main(["serve", "--port", "0", "--database", str(database)]) == 1
    assert capsys.readouterr().err == (
        f"jwtkit: error: cannot create the folder {database.parent} for the database: "
        "No such file or directory\n"
    )
    assert not uvicorn_run.calls


def test_serve_creates_the_key_files_folder_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uvicorn_run: Recorder
) -> None:
    del os.environ[env_var("key_encryption_key")]
    os.environ[env_var("key_file")] = str(tmp_path / "secrets" / "kek")
    database = str(tmp_path / "db" / "jwtkit.db")
    assert run("serve", "--port", "0", "--database", database).exit_code == 0
    assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "secrets" / "kek").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "db").stat().st_mode) == 0o700


ADMIN_COMMANDS = [
    ("users", "list"),
    ("users", "add", "alice", "--password-stdin"),
    ("users", "disable", "alice"),
    ("users", "enable", "alice"),
    ("users", "set-password", "alice", "--password-stdin"),
    ("users", "set-profile", "alice", "--name", "Alice"),
    ("clients", "add", "backend"),
    ("clients", "list"),
    ("clients", "remove", "backend"),
    ("keys", "list"),
    ("keys", "rotate"),
    ("keys", "retire", "some-kid"),
]


@pytest.mark.parametrize("command", ADMIN_COMMANDS, ids=" ".join)
def test_admin_commands_never_create_a_database(
    command: tuple[str, ...],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    del os.environ[env_var("key_encryption_key")]  # development: a key file would be made
    assert _console.main(list(command)) == 1
    assert capsys.readouterr().err == (
        f"jwtkit: error: database: {tmp_path / '.jwtkit' / 'jwtkit.db'} does not exist; point "
        "--database, JWTKIT_DATABASE or --config at the service's database, or start the "
        "service once with `jwtkit serve` to create it\n"
    )
    assert _tree(tmp_path) == []


def test_admin_commands_find_the_service_state_through_its_settings(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    uvicorn_run: Recorder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    service, elsewhere = tmp_path / "service", tmp_path / "elsewhere"
    service.mkdir()
    elsewhere.mkdir()
    del os.environ[env_var("key_encryption_key")]
    monkeypatch.chdir(service)
    assert run("serve", "--port", "0").exit_code == 0
    state = service / ".jwtkit"

    monkeypatch.chdir(elsewhere)
    database = str(state / "jwtkit.db")
    added = run("users", "add", "alice", "--password-stdin", "--database", database, stdin=PASSWORD)
    assert added.exit_code == 0, added.output
    # The database is found, but the key file is looked for here: named, never created.
    assert _console.main(["keys", "list", "--database", database]) == 2
    assert capsys.readouterr().err == (
        f"jwtkit: error: key file {elsewhere / '.jwtkit' / 'keys.secret'} does not exist: point "
        "key_file (JWTKIT_KEY_FILE, or --config) at the service's key file, or start the "
        "service once with `jwtkit serve` to create it\n"
    )
    assert _tree(elsewhere) == []

    # Through the environment, as serve would read it.
    os.environ[env_var("database")] = database
    os.environ[env_var("key_file")] = str(state / "keys.secret")
    assert run("keys", "list").exit_code == 0
    assert "alice" in run("users", "list").output
    del os.environ[env_var("database")], os.environ[env_var("key_file")]

    # Through a --config file.
    config = elsewhere / "jwtkit.toml"
    config.write_text(
        f'database = "{state / "jwtkit.db"}"\nkey_file = "{state / "keys.secret"}"\n',
        encoding="utf-8",
    )
    listing = run("keys", "list", "--config", str(config))
    assert listing.exit_code == 0, listing.output
    assert "active" in listing.output
    assert "alice" in run("users", "list", "--config", str(config)).output

    # A key file that exists but is not the service's: named, with what to do.
    other = elsewhere / "other.secret"
    other.write_text(OTHER_KEK + "\n", encoding="ascii")
    os.environ[env_var("key_file")] = str(other)
    assert _console.main(["keys", "list", "--database", database]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"with the key file {other}: it is not the key file the signing keys were" in err
    assert "wrong key_encryption_key" not in err
    assert _tree(elsewhere) == ["jwtkit.toml", "other.secret"]


def test_listing_commands_open_the_database_read_only(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jwtkit.server import storage

    opened: list[str] = []
    real_open_store = storage.open_store

    def spy(url: str, **options: Any) -> Any:
        opened.append(options["access"])
        return real_open_store(url, **options)

    monkeypatch.setattr(storage, "open_store", spy)
    for command in (["users", "list"], ["clients", "list"], ["keys", "list"]):
        assert run(*command, "--database", database).exit_code == 0
    assert opened == ["read", "read", "read"]
    assert run("clients", "add", "backend", "--database", database).exit_code == 0
    assert opened[-1] == "write"


def test_keys_list_shows_due_transitions_without_writing_them(database: str) -> None:
    assert run("keys", "rotate", "--activate-after", "3600", "--database", database).exit_code == 0
    conn = sqlite3.connect(database)  # an hour later: the pending key's activation is due
    with conn:
        conn.execute("UPDATE signing_keys SET activated_at = 0 WHERE status = 'pending'")
    conn.close()

    def statuses() -> dict[str, str]:
        async def read() -> dict[str, str]:
            async with SQLiteStore(database) as store:
                return {record.kid: record.status for record in await store.signing_keys()}

        return anyio.run(read)

    stored = statuses()
    assert sorted(stored.values()) == ["active", "active", "pending"]
    shown = {kid: status for kid, _, status in keys_of(database)}
    assert sorted(shown.values()) == ["active", "active", "retired"]
    assert statuses() == stored


def test_a_password_is_asked_for_only_once_the_database_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, terminal: None
) -> None:
    def no_prompt(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("prompted before the database was found")

    monkeypatch.setattr(click, "prompt", no_prompt)
    missing = str(tmp_path / "missing.db")
    assert run("users", "add", "alice", "--database", missing).exit_code == 1
    assert run("users", "set-password", "alice", "--database", missing).exit_code == 1
    database = started_once(missing)
    assert run("users", "set-password", "nobody", "--database", database).exit_code == 1


# -- passwords from a pipe -------------------------------------------------------------------

NOT_A_TERMINAL = (
    "jwtkit: error: standard input is not a terminal: pass --password-stdin to read the "
    "password from it\n"
)


@pytest.mark.parametrize("command", [("users", "add"), ("users", "set-password")], ids=" ".join)
def test_a_piped_password_needs_password_stdin(
    command: tuple[str, ...], database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(*command, "alice", "--database", database, stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 2
    assert result.output == NOT_A_TERMINAL
    assert users_of(database) == []


@pytest.mark.parametrize("command", [("users", "add"), ("users", "set-password")], ids=" ".join)
def test_a_piped_password_in_a_real_process_is_one_line(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    """``echo pw | jwtkit users add alice``: no TTY, so no prompt (getpass would read the
    pipe with a GetPassWarning and its file/line prefix): one line and exit status 2."""
    database = started_once(str(tmp_path / "p.db"))
    piped = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "jwtkit", *command, "alice", "--database", database],
        input=f"{PASSWORD}\n{PASSWORD}\n",
        capture_output=True,
        text=True,
        env=dict(os.environ),
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert (piped.returncode, piped.stdout, piped.stderr) == (2, "", NOT_A_TERMINAL)


# -- serve: the listening socket comes first -------------------------------------------------


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_taken_port_is_one_line_before_anything_else(
    workers: str,
    tmp_path: Path,
    uvicorn_run: Recorder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    database = tmp_path / "fresh.db"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status = _console.main(
            ["serve", "--port", str(port), "--database", str(database), "--workers", workers]
        )
    assert status == 1
    assert capsys.readouterr() == (
        "",
        f"jwtkit: error: cannot listen on 127.0.0.1:{port}: address already in use "
        "(choose another with --port, or make serve PORT=...)\n",
    )
    assert not database.exists()  # no preflight either
    assert (uvicorn_run.calls, uvicorn_run.runs) == ([], [])


def test_an_address_that_is_not_ours_is_one_line(
    database: str, uvicorn_run: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    # 192.0.2.1 is TEST-NET-1 (RFC 5737): no interface of this machine has it.
    args = ["serve", "--host", "192.0.2.1", "--environment", "development"]
    assert _console.main([*args, "--database", database]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("jwtkit: error: cannot listen on 192.0.2.1:8000: ")
    assert err.endswith(" (choose another with --host/--port, or make serve HOST=... PORT=...)\n")
    assert err.count("\n") == 1


def test_a_taken_ipv6_port_is_named_in_brackets(
    database: str, uvicorn_run: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        taken = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        taken.bind(("::1", 0))
    except OSError:  # pragma: no cover - a machine without IPv6 loopback
        pytest.skip("no IPv6 loopback")
    with taken:
        taken.listen()
        port = taken.getsockname()[1]
        assert _console.main(["serve", "--host", "::1", "--port", str(port)]) == 1
    assert f"cannot listen on [::1]:{port}: address already in use" in capsys.readouterr().err


def test_serve_on_port_0_publishes_the_port_it_got(database: str, uvicorn_run: Recorder) -> None:
    result = run("serve", "--port", "0", "--database", database)
    assert result.exit_code == 0, result.output
    ((kind, [(_, port)]),) = uvicorn_run.runs
    assert kind == "server"
    ((app, options),) = uvicorn_run.calls
    assert port != 0
    assert options["port"] == port
    assert app.state.settings.issuer == f"http://127.0.0.1:{port}"
    assert result.output.startswith(f"jwtkit token service: http://127.0.0.1:{port}  (")
    assert ":8000" not in result.output


def test_serve_on_port_0_keeps_an_explicit_issuer(database: str, uvicorn_run: Recorder) -> None:
    issuer = "http://localhost:1234"
    result = run("serve", "--port", "0", "--issuer", issuer, "--database", database)
    assert result.exit_code == 0, result.output
    ((app, options),) = uvicorn_run.calls
    assert options["port"] != 0
    assert app.state.settings.issuer == "http://localhost:1234"


def test_a_server_that_stops_during_start_up_is_one_line(
    database: str, uvicorn_run: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    uvicorn_run.started = False
    assert _console.main(["serve", "--port", "0", "--database", database]) == 1
    assert capsys.readouterr().err == (
        "jwtkit: error: the service stopped before it started (see the log above)\n"
    )


# -- serve: the banner's commands run as printed ---------------------------------------------


def _script(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n", encoding="ascii")
    path.chmod(0o755)
    return path


def _create_a_user_line(output: str) -> str:
    (line,) = [line for line in output.splitlines() if "create a user:" in line]
    return line.split("create a user:", 1)[1].strip()


def test_banner_says_jwtkit_when_jwtkit_on_path_is_this_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uvicorn_run: Recorder
) -> None:
    script = _script(tmp_path / "venv" / "bin" / "jwtkit")
    monkeypatch.setattr(sys, "argv", [str(script), "serve"])
    monkeypatch.setitem(os.environ, "PATH", str(script.parent))
    monkeypatch.chdir(tmp_path)
    result = run("serve", "--port", "0")
    assert result.exit_code == 0, result.output
    assert _create_a_user_line(result.output) == "jwtkit users add alice"


@pytest.mark.parametrize(
    ("started_as", "printed"),
    [
        ("venv/bin/jwtkit", "venv/bin/jwtkit"),  # make serve: .venv/bin/jwtkit
        ("jwtkit", "./jwtkit"),  # a bare name would be looked up on PATH
        ("../outside/jwtkit", "{tmp}/outside/jwtkit"),  # not below: absolute
        ("my tools/jwtkit", "'my tools/jwtkit'"),  # quoted for the shell
    ],
)
def test_banner_names_the_program_that_started_serve_when_jwtkit_on_path_is_not_it(
    started_as: str,
    printed: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    uvicorn_run: Recorder,
) -> None:
    here = tmp_path / "project"
    _script(here / started_as)
    other = _script(tmp_path / "elsewhere" / "jwtkit")  # another installation on PATH
    monkeypatch.setattr(sys, "argv", [started_as, "serve"])
    monkeypatch.setitem(os.environ, "PATH", str(other.parent))
    monkeypatch.chdir(here)
    result = run("serve", "--port", "0")
    assert result.exit_code == 0, result.output
    program = printed.format(tmp=tmp_path)
    assert _create_a_user_line(result.output) == f"{program} users add alice"


def test_banner_falls_back_to_this_environments_script_or_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uvicorn_run: Recorder
) -> None:
    import sysconfig

    scripts = tmp_path / "scripts"
    monkeypatch.setattr(sys, "argv", ["-c", "serve"])  # python -c / python -m
    monkeypatch.setattr(sysconfig, "get_path", lambda name: str(scripts))
    monkeypatch.setitem(os.environ, "PATH", str(scripts))
    monkeypatch.chdir(tmp_path)
    result = run("serve", "--port", "0")
    python = shlex.quote(sys.executable)
    assert _create_a_user_line(result.output) == f"{python} -m jwtkit users add alice"

    _script(scripts / "jwtkit")
    assert _create_a_user_line(run("serve", "--port", "0").output) == "jwtkit users add alice"
    monkeypatch.setitem(os.environ, "PATH", "")
    assert _create_a_user_line(run("serve", "--port", "0").output) == (
        "scripts/jwtkit users add alice"
    )


def test_banner_carries_the_options_that_reach_the_same_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uvicorn_run: Recorder
) -> None:
    monkeypatch.setattr(sys, "argv", ["-c", "serve"])
    monkeypatch.setitem(os.environ, "PATH", "")
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "my settings.toml"
    config.write_text('database = "from-config.db"\n', encoding="utf-8")

    def options(*args: str) -> str:
        result = run("serve", "--port", "0", *args)
        assert result.exit_code == 0, result.output
        return _create_a_user_line(result.output).split(" users add alice", 1)[1]

    assert options() == ""
    assert options("--database", "a b.db") == " --database 'a b.db'"
    assert options("--config", str(config)) == f" --config '{config}'"
    os.environ[env_var("config")] = str(config)
    assert options() == f" --config '{config}'"
    os.environ[env_var("database")] = "from-env.db"
    assert options() == f" --database from-env.db --config '{config}'"


def test_banner_never_shows_a_database_password() -> None:
    url = "postgresql://jwtkit:hunter2@db.example/jwtkit?sslmode=require"
    settings = Settings(database=url)
    banner = server_cli._banner(settings, server_cli._state_options(url, None, settings))
    assert "hunter2" not in banner
    assert "database postgresql://jwtkit@db.example/jwtkit?sslmode=require)" in banner
    assert "--database 'postgresql://jwtkit@db.example/jwtkit?sslmode=require'" in banner


def test_banner_lists_the_api_docs_only_when_they_are_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uvicorn_run: Recorder
) -> None:
    monkeypatch.chdir(tmp_path)
    shown = run("serve", "--port", "0")
    assert shown.exit_code == 0, shown.output
    assert "  API docs:       http://127.0.0.1:" in shown.output
    monkeypatch.setitem(os.environ, env_var("docs"), "false")
    hidden = run("serve", "--port", "0")
    assert hidden.exit_code == 0, hidden.output
    assert "API docs" not in hidden.output
    assert "create a user:" in hidden.output


def test_banner_shows_the_password_grant_only_when_it_is_on() -> None:
    development = Settings(issuer="http://127.0.0.1:8000")
    assert "grant_type=password" in server_cli._banner(development, "")
    production = Settings(
        issuer="https://id.example.com",
        environment="production",
        key_encryption_key=TEST_KEK,
        argon2_memory_cost=19456,
    )
    assert "grant_type=password" not in server_cli._banner(production, "")
    enabled = dataclasses.replace(production, password_grant=True)
    assert "grant_type=password" in server_cli._banner(enabled, "")


def test_serve_refuses_development_by_default_on_a_public_address(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    uvicorn_run: Recorder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Attack finding 3: `serve --host 0.0.0.0` with no environment set does not start a
    development service (open registration, a key file in the working directory)."""
    monkeypatch.chdir(tmp_path)
    del os.environ[env_var("key_encryption_key")]
    for args in (["--host", "0.0.0.0"], ["--issuer", "https://id.example.com"]):  # noqa: S104
        assert _console.main(["serve", *args]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.startswith("jwtkit: error: environment (JWTKIT_ENVIRONMENT): not set")
        assert err.count("\n") == 1
    assert not uvicorn_run.calls
    assert list(tmp_path.iterdir()) == []  # no database, no key file


def test_banner_points_to_the_token_page_and_the_demo_user_only_in_development() -> None:
    development = server_cli._banner(Settings(issuer="http://127.0.0.1:8000"), "")
    assert "  token page:     http://127.0.0.1:8000/  (decode and verify" in development
    assert "walk a sign-in through as demo / jwtkit-demo-password" in development
    production = Settings(
        issuer="https://id.example.com",
        environment="production",
        key_encryption_key=TEST_KEK,
        argon2_memory_cost=19456,
    )
    shown = server_cli._banner(production, "")
    assert "  token page:     https://id.example.com/  (decode and verify" in shown
    assert "jwtkit-demo-password" not in shown
    demo_on = server_cli._banner(dataclasses.replace(production, demo=True), "")
    assert "jwtkit-demo-password" not in demo_on


def test_clients_add_refuses_the_demo_clients_id(database: str) -> None:
    refused = run("clients", "add", "jwtkit-demo", "--database", database)
    assert refused.exit_code == 2
    assert "'jwtkit-demo' is the token page's own demo client" in refused.output
    assert "Traceback" not in refused.output
