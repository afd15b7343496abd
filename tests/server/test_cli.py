"""The ``jwtkit`` command: admin commands through click's runner, ``serve`` with uvicorn
replaced by a recorder, the composition root's error handling, and one real subprocess."""

from __future__ import annotations

import base64
import importlib
import os
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
from conftest import FAST_ARGON2, PASSWORD, TEST_KEK

from jwtkit import _console
from jwtkit.server import cli as server_cli
from jwtkit.server.app import create_app
from jwtkit.server.config import Settings, env_var
from jwtkit.server.models import User
from jwtkit.server.passwords import PasswordHasher
from jwtkit.server.storage import SQLiteStore
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


@pytest.fixture
def database(tmp_path: Path) -> str:
    return str(tmp_path / "cli.db")


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(_console.build(), list(args), input=stdin)


def users_of(database: str) -> list[User]:
    async def read() -> list[User]:
        async with SQLiteStore(database) as store:
            return await store.list_users()

    return anyio.run(read)


# -- users -----------------------------------------------------------------------------------


def test_users_add_list_disable_enable(database: str) -> None:
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


def test_clients_add_failures(database: str) -> None:
    assert run("clients", "add", "a b", "--database", database).exit_code == 2
    assert run("clients", "add", "x", "--scope", 'a"b', "--database", database).exit_code == 2
    public_cc = run("clients", "add", "x", "--public", "--database", database)
    assert public_cc.exit_code == 2
    assert "client_credentials" in public_cc.output
    assert run("clients", "add", "x", "--database", database).exit_code == 0
    duplicate = run("clients", "add", "x", "--database", database)
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.output


# -- keys ------------------------------------------------------------------------------------


def test_keys_list_rotate_retire(database: str) -> None:
    listing = run("keys", "list", "--database", database)
    assert listing.exit_code == 0, listing.output
    (first,) = [line.split()[0] for line in listing.output.splitlines()[1:]]
    pending = run("keys", "rotate", "--database", database)
    assert pending.exit_code == 0, pending.output
    assert "published now" in pending.output
    statuses = {
        line.split()[0]: line.split()[2]
        for line in run("keys", "list", "--database", database).output.splitlines()[1:]
    }
    assert statuses[first] == "active"
    assert sorted(statuses.values()) == ["active", "pending"]
    active_retire = run("keys", "retire", first, "--database", database)
    assert active_retire.exit_code == 1
    assert "active key" in active_retire.output
    now = run(
        "keys", "rotate", "--activate-after", "0", "--algorithm", "EdDSA", "--database", database
    )
    assert now.exit_code == 0
    assert "EdDSA" in now.output
    retired = run("keys", "retire", first, "--database", database)
    assert retired.exit_code == 0, retired.output
    assert run("keys", "retire", "no-such-kid", "--database", database).exit_code == 1


def test_keys_with_a_wrong_key_encryption_key(database: str) -> None:
    assert run("keys", "list", "--database", database).exit_code == 0
    os.environ[env_var("key_encryption_key")] = OTHER_KEK
    wrong = run("keys", "list", "--database", database)
    assert wrong.exit_code == 2
    assert "wrong key_encryption_key" in wrong.output
    assert "Traceback" not in wrong.output


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


def test_an_aborted_prompt_exits_1(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
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
    def __init__(self) -> None:
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def __call__(self, app: Any, **kwargs: Any) -> None:
        self.calls.append((app, kwargs))


@pytest.fixture
def uvicorn_run(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    import uvicorn

    recorder = Recorder()
    monkeypatch.setattr(uvicorn, "run", recorder)
    return recorder


def test_serve_prints_how_to_start_and_runs_uvicorn(database: str, uvicorn_run: Recorder) -> None:
    result = run("serve", "--port", "9001", "--database", database, "--log-level", "debug")
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:9001" in result.output
    assert f"jwtkit users add alice --database {database}" in result.output
    assert "grant_type=password" in result.output
    ((app, options),) = uvicorn_run.calls
    assert app.state.settings.issuer == "http://127.0.0.1:9001"
    assert options["port"] == 9001
    assert options["host"] == "127.0.0.1"
    assert options["log_config"]["loggers"]["jwtkit"]["level"] == "DEBUG"


def test_serve_with_workers_hands_uvicorn_a_factory(database: str, uvicorn_run: Recorder) -> None:
    result = run(
        "serve",
        "--workers",
        "2",
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
    assert "or: curl" not in result.output  # registration is off
    assert "grant_type=password" not in result.output  # so is the password grant


def test_serve_workers_from_the_environment(database: str, uvicorn_run: Recorder) -> None:
    os.environ["JWTKIT_WORKERS"] = "3"
    result = run("serve", "--port", "9002", "--database", database)
    assert result.exit_code == 0, result.output
    ((_, options),) = uvicorn_run.calls
    assert options["workers"] == 3
    assert os.environ["JWTKIT_ISSUER"] == "http://127.0.0.1:9002"
    assert "JWTKIT_CONFIG" not in os.environ


def test_serve_refuses_bad_settings(database: str, uvicorn_run: Recorder) -> None:
    result = run("serve", "--issuer", "http://example.com", "--database", database)
    assert result.exit_code == 2
    assert "https" in result.output
    assert not uvicorn_run.calls


def test_serve_with_a_wrong_key_encryption_key_is_one_line(
    database: str, uvicorn_run: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("keys", "list", "--database", database).exit_code == 0
    os.environ[env_var("key_encryption_key")] = OTHER_KEK
    assert _console.main(["serve", "--database", database]) == 2
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
        ({"host": "0.0.0.0", "port": 9000}, "http://127.0.0.1:9000"),  # noqa: S104
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
    command = [sys.executable, "-m", "jwtkit._console"]
    env = dict(os.environ)
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
