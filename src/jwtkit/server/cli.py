"""The token service's commands of the ``jwtkit`` console script (click).

``jwtkit serve`` runs the service under uvicorn (with httptools and uvloop, the ``server``
extra's, when they can be imported); the admin commands work on the same database:
``jwtkit users add|list|disable|enable|set-password|set-profile``, ``jwtkit clients
add|list|remove``,
``jwtkit keys list|rotate|retire`` and ``jwtkit db status|upgrade`` (the schema's version and
migrations). :func:`register` adds them to the ``jwtkit`` group that
:mod:`jwtkit._console` builds.

Every command takes ``--database`` and ``--config``; the other settings come from ``JWTKIT_*``
variables and the TOML file (:mod:`jwtkit.server.config`). Only ``serve`` creates state (the
database, the development key file and their folder), and ``db upgrade`` the database's schema:
the other admin commands need the service's existing database, and the ones that only list
open it read-only. Errors are one message on
stderr: exit status 2 for bad usage or settings, 1 for a failure (a store error, an existing
user, a missing database, a taken port...), never a traceback. Heavy dependencies (FastAPI,
uvicorn, argon2) are imported by the commands that need them, so ``jwtkit --help`` works with
the ``cli`` extra alone.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import importlib
import inspect
import logging
import os
import shlex
import shutil
import socket
import sys
import sysconfig
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from .._command_errors import CommandFailed, UsageProblem, warn
from .._oauth import is_client_id, is_scope_token
from .._urls import redacted_url
from ._extras import MissingExtra, require
from .config import (
    ACCESS_TOKEN_ALGORITHMS,
    CONFIG_ENV_VAR,
    DEMO_CLIENT_ID,
    DEMO_PASSWORD,
    DEMO_USERNAME,
    ENVIRONMENTS,
    LOG_FORMATS,
    LOG_LEVELS,
    ConfigError,
    Settings,
    env_var,
    load_settings,
)

if TYPE_CHECKING:
    from .models import Client
    from .storage import Access, SchemaStatus, Store

__all__ = ["CommandFailed", "UsageProblem", "register"]

_P = ParamSpec("_P")
_T = TypeVar("_T")
_DEFAULT_ISSUER = Settings.__dataclass_fields__["issuer"].default


def _handled(function: Callable[_P, _T]) -> Callable[_P, _T]:
    """Turn the service's exceptions into one-line click errors (never a traceback)."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            from .storage import DatabaseMissing, StoreError  # noqa: PLC0415 - server extra
        except ImportError as exc:
            raise UsageProblem(str(MissingExtra(exc.name or "anyio", "server"))) from None
        try:
            return function(*args, **kwargs)
        except (ConfigError, MissingExtra) as exc:
            raise UsageProblem(str(exc)) from None
        except DatabaseMissing as exc:
            raise CommandFailed(
                f"database: {exc.location} does not exist; point --database, "
                f"{env_var('database')} or --config at the service's database, or start the "
                "service once with `jwtkit serve` to create it"
            ) from None
        except StoreError as exc:
            raise CommandFailed(f"database: {exc}") from None

    return wrapper


def _settings(database: str | None, config: str | None, **cli: Any) -> Settings:
    return load_settings(cli={"database": database, **cli}, config_file=config)


def _run(
    settings: Settings, work: Callable[[Store], Awaitable[_T]], access: Access = "write"
) -> _T:
    """Open the store of ``settings``, run ``work`` on it, close it. Only ``serve`` passes
    ``access="create"``; the admin commands need an existing database (``"write"``), which
    the listing ones only read (``"read"``)."""
    import anyio  # noqa: PLC0415 - server extra

    from .storage import open_store  # noqa: PLC0415

    async def main() -> _T:
        store = open_store(settings.database, access=access)
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()

    return anyio.run(main)


def _time(value: float | None) -> str:
    if value is None:
        return "-"
    return datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    for row in (headers, *rows):
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo("  ".join(cells).rstrip())


def _store_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option(
        "--config",
        type=click.Path(dir_okay=False),
        help=f"TOML settings file (default: ${env_var('config')}).",
    )(function)
    return click.option(
        "--database",
        help=f"SQLite file or store URL (default: ${env_var('database')}, "
        f"else {Settings.__dataclass_fields__['database'].default}).",
    )(function)


def _stdin_is_terminal() -> bool:
    return bool(sys.stdin and sys.stdin.isatty())


def _check_password_source(password_stdin: bool) -> None:
    """Refuse to prompt when standard input is not a terminal: getpass would read the piped
    text with a Python warning instead of prompting. Checked before anything else is done."""
    if not password_stdin and not _stdin_is_terminal():
        raise UsageProblem(
            "standard input is not a terminal: pass --password-stdin to read the password from it"
        )


def _read_password(password_stdin: bool, prompt: str) -> str:
    """The password from standard input or a hidden prompt (see :func:`_check_password_source`)."""
    if password_stdin:
        line = sys.stdin.readline()
        given = line[:-1] if line.endswith("\n") else line
        if not given:
            raise UsageProblem("no password on standard input")
        return given
    typed: str = click.prompt(prompt, hide_input=True, confirmation_prompt=True)
    return typed


def _check_password(password: str, username: str) -> None:
    from .passwords import PasswordPolicyError, check_policy  # noqa: PLC0415 - server extra

    try:
        check_policy(password, username=username)
    except PasswordPolicyError as exc:
        raise UsageProblem(str(exc)) from None


# -- serve -----------------------------------------------------------------------------------


def _issuer_for(settings: Settings) -> Settings:
    """In development, follow ``--host``/``--port`` when no issuer was configured."""
    default = Settings()
    if settings.issuer != _DEFAULT_ISSUER or settings.environment != "development":
        return settings
    if (settings.host, settings.port) == (default.host, default.port) or settings.port == 0:
        return settings
    host = settings.host if settings.host in {"localhost", "127.0.0.1"} else "127.0.0.1"
    if settings.host == "::1":
        host = "[::1]"
    return dataclasses.replace(settings, issuer=f"http://{host}:{settings.port}")


def _display_path(path: str) -> str:
    """``path`` as a command line can give it from the current directory: relative when it is
    below it (``.venv/bin/jwtkit``, ``./jwtkit``), else absolute; quoted for a POSIX shell."""
    absolute = os.path.abspath(path)
    here = os.getcwd()
    if absolute.startswith(here.rstrip(os.sep) + os.sep):
        relative = absolute[len(here.rstrip(os.sep)) + 1 :]
        absolute = relative if os.sep in relative else os.curdir + os.sep + relative
    return shlex.quote(absolute)


def _program() -> str:
    """How to run this very ``jwtkit`` again: ``jwtkit`` when that name on PATH is this
    program, else the path it was started by (``.venv/bin/jwtkit`` after ``make serve``), else
    this environment's ``jwtkit`` script, else ``python -m jwtkit``."""
    script = sys.argv[0] if sys.argv else ""
    if os.path.basename(script) not in {"jwtkit", "jwtkit.exe"} or not os.path.isfile(script):
        installed = os.path.join(sysconfig.get_path("scripts"), "jwtkit")
        script = installed if os.path.isfile(installed) else ""
    if not script:
        return f"{_display_path(sys.executable)} -m jwtkit"
    on_path = shutil.which("jwtkit")
    if on_path is not None and os.path.samefile(on_path, script):
        return "jwtkit"
    return _display_path(script)


def _state_options(database: str | None, config: str | None, settings: Settings) -> str:
    """The options an admin command needs to reach the state of this ``serve``: ``--database``
    and ``--config`` when they (or their variables) were given."""
    options = ""
    if database is not None or env_var("database") in os.environ:
        # Never the password: a database URL's is left to PGPASSWORD or ~/.pgpass.
        shown = redacted_url(settings.database, plain=settings.database)
        options += f" --database {shlex.quote(shown)}"
    config_file = config if config is not None else os.environ.get(CONFIG_ENV_VAR) or None
    if config_file is not None:
        options += f" --config {shlex.quote(config_file)}"
    return options


def _banner(settings: Settings, state_options: str) -> str:
    base = settings.issuer
    add_user = f"{_program()} users add alice{state_options}"
    database = redacted_url(settings.database, plain=settings.database)
    lines = [f"jwtkit token service: {base}  ({settings.environment}; database {database})"]
    if settings.redis is not None:
        lines.append(f"  shared through: {redacted_url(settings.redis)} (limits, key changes)")
    if settings.docs_enabled:
        lines.append(f"  API docs:       {base}/docs")
    page = f"  token page:     {base}/  (decode and verify a token in the browser"
    if settings.demo_enabled and settings.environment == "development":
        page += f"; walk a sign-in through as {DEMO_USERNAME} / {DEMO_PASSWORD}"
    lines.append(page + ")")
    lines.append(f"  create a user:  {add_user}")
    if settings.registration_enabled:
        lines.append(
            f"                  or: curl -s {base}/users -H 'Content-Type: application/json' "
            """-d '{"username": "alice", "password": "<password>"}'"""
        )
    if settings.password_grant_enabled:
        lines.append(
            f"  get a token:    curl -s {base}/token -d grant_type=password "
            "-d username=alice -d password='<password>'"
        )
    lines.append(
        f"  call an API:    curl -s {base}/userinfo -H 'Authorization: Bearer <access_token>'"
    )
    lines.append(f"  OpenID Connect: {base}/.well-known/openid-configuration")
    return "\n".join(lines)


def _listen(host: str, port: int) -> socket.socket:
    """The service's listening socket, bound before anything is printed (as uvicorn binds
    it: IPv6 when the host has a colon, ``SO_REUSEADDR``, inheritable for its workers), so a
    taken port is one line and ``--port 0`` has its real number from the start."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)  # uvicorn's default backlog: connections wait for the app
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if exc.errno == errno.EADDRINUSE:
            hint = "choose another with --port, or make serve PORT=..."
        else:
            hint = "choose another with --host/--port, or make serve HOST=... PORT=..."
        raise CommandFailed(
            f"cannot listen on {address}: {reason[:1].lower()}{reason[1:]} ({hint})"
        ) from None
    sock.set_inheritable(True)
    return sock


#: uvicorn's options for its HTTP/1.1 parser and its event loop: (option, the fast module the
#: ``server`` extra installs, uvicorn's pure-Python fallback, what the fallback is).
_HTTP_STACK = (
    ("http", "httptools", "h11", "the h11 parser"),
    ("loop", "uvloop", "asyncio", "asyncio's event loop"),
)


def _http_stack() -> tuple[dict[str, str], list[tuple[str, str]]]:
    """uvicorn's ``http`` and ``loop`` options, chosen explicitly: httptools and uvloop, on
    which the service's routes answer 1.6 to 1.9 times the requests per second of h11 and
    asyncio's loop (docs/performance.md). A missing one is replaced by its fallback and
    listed, with what replaced it, in the second value; uvloop is never missing on Windows,
    which it does not support (the extra does not install it there)."""
    options: dict[str, str] = {}
    missing: list[tuple[str, str]] = []
    for option, fast, fallback, described in _HTTP_STACK:
        options[option] = fallback
        if option == "loop" and sys.platform == "win32":
            continue
        try:
            importlib.import_module(fast)
        except ImportError:
            missing.append((fast, described))
        else:
            options[option] = fast
    return options, missing


def _log_http_fallback(missing: list[tuple[str, str]]) -> None:
    """One line in the service's log (uvicorn's Config has set it up) when the ``server``
    extra's httptools or uvloop cannot be imported."""
    if missing:
        names = " and ".join(name for name, _ in missing)
        instead = " and ".join(described for _, described in missing)
        are, them = ("are", "them") if len(missing) > 1 else ("is", "it")
        logging.getLogger("jwtkit.server").info(
            "%s %s not installed: uvicorn uses %s instead (slower; "
            "pip install 'jwtkit[server]' installs %s)",
            names,
            are,
            instead,
            them,
        )


def _worker_supervisor(config: Any, sock: socket.socket) -> Any:
    """uvicorn's supervisor of ``config.workers`` processes serving on ``sock``. uvicorn 0.51
    made each worker build its own server; before, the supervisor took ``target=Server.run``."""
    import uvicorn  # noqa: PLC0415 - server extra
    from uvicorn.supervisors import Multiprocess  # noqa: PLC0415

    if "target" in inspect.signature(Multiprocess).parameters:  # uvicorn < 0.51
        legacy: Any = Multiprocess  # typed after the installed release
        return legacy(config, target=uvicorn.Server(config).run, sockets=[sock])
    return Multiprocess(config, sockets=[sock])


def _create_state_folders(settings: Settings) -> None:
    """Create the folder of the SQLite database and of the development key file (the default
    ``.jwtkit/``) with mode 0700 when it is missing; only ``serve`` creates state."""
    from .storage import SQLiteStore, open_store  # noqa: PLC0415 - server extra

    store = open_store(settings.database)  # not opened: it only parses the setting
    paths = {"database": store.path} if isinstance(store, SQLiteStore) else {}
    if settings.key_encryption_key is None and settings.environment == "development":
        paths["key file"] = settings.key_file
    for what, path in paths.items():
        folder = os.path.dirname(os.path.abspath(path))
        if os.path.isdir(folder):  # also ":memory:": the current directory
            continue
        try:
            os.mkdir(folder, 0o700)
        except OSError as exc:
            raise CommandFailed(
                f"cannot create the folder {folder} for the {what}: {exc.strerror}"
            ) from None


def _preflight(settings: Settings) -> None:
    """Open the store and load the keys once before uvicorn starts, so that a wrong
    key-encryption key or an unusable database is one line here, not a traceback from the
    app's lifespan. Creates the schema and the first signing key on a fresh database (and the
    key file in development)."""
    quiet = logging.getLogger("jwtkit")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the lifespan logs the same warnings again, properly
    try:

        async def nothing(ring: Any) -> None:
            return None

        _with_keyring(settings, nothing, access="create")
    finally:
        quiet.setLevel(level)


@click.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 8000).")
@_store_options
@click.option("--issuer", help="The iss of the tokens and base of the metadata URLs.")
@click.option("--environment", type=click.Choice(ENVIRONMENTS), help="Default: development.")
@click.option("--log-level", type=click.Choice(LOG_LEVELS), help="Default: info.")
@click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    help="text (default) or json: one JSON object per line.",
)
@click.option("--workers", type=int, help="Worker processes (default 1).")
@click.option(
    "--allow-registration/--no-allow-registration",
    default=None,
    help="Open POST /users (default: only in development).",
)
@click.option(
    "--password-grant/--no-password-grant",
    default=None,
    help="Allow the legacy password grant (default: only in development).",
)
@click.option(
    "--redis",
    help="Redis URL that several instances share (login limits, key changes), e.g. "
    "redis://:password@host:6379/0; needs jwtkit[redis].",
)
@click.option(
    "--forwarded-allow-ips",
    help="Proxies whose X-Forwarded-For is trusted (uvicorn's option; default 127.0.0.1). "
    "Rate limits count per client address: set this behind a reverse proxy.",
)
@_handled
def serve(
    host: str | None,
    port: int | None,
    database: str | None,
    config: str | None,
    issuer: str | None,
    environment: str | None,
    log_level: str | None,
    log_format: str | None,
    workers: int | None,
    allow_registration: bool | None,
    password_grant: bool | None,
    redis: str | None,
    forwarded_allow_ips: str | None,
) -> None:
    """Run the token service (uvicorn). Settings: options > JWTKIT_* > --config file."""
    cli = {
        "host": host,
        "port": port,
        "issuer": issuer,
        "environment": environment,
        "log_level": log_level,
        "log_format": log_format,
        "workers": workers,
        "allow_registration": allow_registration,
        "password_grant": password_grant,
        "redis": redis,
    }
    settings = _settings(database, config, **cli)
    try:
        import uvicorn  # noqa: PLC0415 - server extra

        from .app import create_app  # noqa: PLC0415
        from .log_format import JsonFormatter, log_config  # noqa: PLC0415
        from .metrics import multiprocess_folder  # noqa: PLC0415
    except ImportError as exc:
        missing = MissingExtra(exc.name or "uvicorn", "server")
        raise UsageProblem(str(missing)) from None
    if settings.redis is not None:
        require("redis.asyncio", "redis")  # before anything starts: MissingExtra
    with _listen(settings.host, settings.port) as sock:
        # --port 0: the port the system chose is the one to publish (issuer, banner).
        settings = _issuer_for(dataclasses.replace(settings, port=sock.getsockname()[1]))
        _create_state_folders(settings)
        _preflight(settings)
        banner = _banner(settings, _state_options(database, config, settings))
        if settings.log_format == "json":  # one line, as every other line of the log
            banner = JsonFormatter().format(
                logging.makeLogRecord(
                    {
                        "name": "jwtkit.server",
                        "levelno": logging.INFO,
                        "levelname": "INFO",
                        "msg": banner.splitlines()[0],
                    }
                )
            )
        click.echo(banner)
        stack, fallbacks = _http_stack()
        common: dict[str, Any] = {
            "host": settings.host,
            "port": settings.port,
            "log_config": log_config(settings.log_level, settings.log_format),
            "log_level": settings.log_level,
            # log_format json: the service writes the access log (with the duration).
            "access_log": settings.log_format == "text",
            "forwarded_allow_ips": forwarded_allow_ips,
            "proxy_headers": True,
            **stack,
        }
        if settings.workers == 1:
            app = create_app(settings, demo_user=True)
            server = uvicorn.Server(uvicorn.Config(app, **common))
            _log_http_fallback(fallbacks)  # after uvicorn's Config has set up the log
            server.run(sockets=[sock])
            if not server.started:
                raise CommandFailed("the service stopped before it started (see the log above)")
            return
        # Worker processes rebuild the settings from the environment (app_from_environment)
        # and serve on the socket bound here.
        for name, value in {**cli, "database": database, "issuer": settings.issuer}.items():
            if value is not None:
                os.environ[env_var(name)] = (
                    str(value).lower() if isinstance(value, bool) else str(value)
                )
        if config is not None:
            os.environ[env_var("config")] = config
        target = "jwtkit.server.app:app_from_environment"
        pool = uvicorn.Config(target, factory=True, workers=settings.workers, **common)
        _log_http_fallback(fallbacks)
        if not settings.metrics_enabled:
            _worker_supervisor(pool, sock).run()
            return
        # Each worker counts its own requests: prometheus_client's multiprocess mode adds
        # them up, so that a scrape of any worker reports the whole service.
        with multiprocess_folder():
            _worker_supervisor(pool, sock).run()


# -- users -----------------------------------------------------------------------------------


@click.group()
def users() -> None:
    """Manage users (people who log in with the password grant)."""


def _profile_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--email``, ``--name`` and ``--email-verified/--email-unverified`` (OpenID Connect
    Core §5.1); an empty value removes an address or a name."""
    function = click.option(
        "--email-verified/--email-unverified",
        "email_verified",
        default=None,
        help="Whether you vouch for the e-mail address (default: unverified).",
    )(function)
    function = click.option("--name", help="The full name shown to clients ('' removes it).")(
        function
    )
    return click.option("--email", help="The e-mail address, local@domain ('' removes it).")(
        function
    )


def _checked_profile(email: str | None, name: str | None) -> None:
    """Usage error unless the given ``--email`` and ``--name`` are acceptable (``''`` is)."""
    from .users import check_profile  # noqa: PLC0415

    try:
        check_profile(email or None, name or None)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None


@users.command("add")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@_profile_options
@_store_options
@_handled
def users_add(
    username: str,
    password_stdin: bool,
    email: str | None,
    name: str | None,
    email_verified: bool | None,
    database: str | None,
    config: str | None,
) -> None:
    """Create a user; the password is prompted for (hidden) unless --password-stdin.
    --email, --name and --email-verified give the OpenID Connect profile."""
    import uuid  # noqa: PLC0415

    from .models import User  # noqa: PLC0415
    from .passwords import PasswordHasher  # noqa: PLC0415
    from .storage import Conflict  # noqa: PLC0415
    from .users import check_username  # noqa: PLC0415

    settings = _settings(database, config)
    try:
        check_username(username)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None
    _checked_profile(email, name)
    if email_verified and not email:
        raise UsageProblem("--email-verified needs --email")
    _check_password_source(password_stdin)
    hasher = PasswordHasher.from_settings(settings)

    async def add(store: Store) -> str:
        import time  # noqa: PLC0415

        # Asked for once the database is open: no password typed for a missing database.
        password = _read_password(password_stdin, "Password")
        _check_password(password, username)
        user = User(
            id=uuid.uuid4().hex,
            username=username,
            password_hash=await hasher.hash(password),
            created_at=time.time(),
            email=email or None,
            email_verified=bool(email_verified),
            name=name or None,
        )
        try:
            await store.add_user(user)
        except Conflict:
            existing = await store.user_by_name(username)
            if existing is not None and existing.username != username:
                raise CommandFailed(
                    f"user {username!r} already exists as {existing.username!r}"
                    " (usernames ignore case)"
                ) from None
            raise CommandFailed(f"user {username!r} already exists") from None
        return user.id

    user_id = _run(settings, add)
    click.echo(f"user {username} created (id {user_id})")


@users.command("list")
@_store_options
@_handled
def users_list(database: str | None, config: str | None) -> None:
    """List the users."""
    settings = _settings(database, config)

    async def read(store: Store) -> list[tuple[str, ...]]:
        return [
            (u.username, u.id, "disabled" if u.disabled else "active", _time(u.created_at))
            for u in await store.list_users()
        ]

    _table(("USERNAME", "ID", "STATUS", "CREATED"), _run(settings, read, access="read"))


def _set_disabled(username: str, disabled: bool, database: str | None, config: str | None) -> None:
    settings = _settings(database, config)

    async def change(store: Store) -> int:
        import time  # noqa: PLC0415

        user = await store.user_by_name(username)
        if user is None:
            raise CommandFailed(f"no user {username!r}")
        await store.set_disabled(user.id, disabled)
        return await store.revoke_user_families(user.id, time.time()) if disabled else 0

    revoked = _run(settings, change)
    if disabled:
        click.echo(f"user {username} disabled ({revoked} refresh tokens revoked)")
    else:
        click.echo(f"user {username} enabled")


@users.command("disable")
@click.argument("username")
@_store_options
@_handled
def users_disable(username: str, database: str | None, config: str | None) -> None:
    """Disable a user: logins fail, refresh tokens are revoked, access tokens are refused."""
    _set_disabled(username, True, database, config)


@users.command("enable")
@click.argument("username")
@_store_options
@_handled
def users_enable(username: str, database: str | None, config: str | None) -> None:
    """Enable a disabled user again."""
    _set_disabled(username, False, database, config)


@users.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@_store_options
@_handled
def users_set_password(
    username: str, password_stdin: bool, database: str | None, config: str | None
) -> None:
    """Set a user's password; revokes the user's refresh tokens and access tokens."""
    from .passwords import PasswordHasher  # noqa: PLC0415

    settings = _settings(database, config)
    _check_password_source(password_stdin)
    hasher = PasswordHasher.from_settings(settings)

    async def change(store: Store) -> int:
        import time  # noqa: PLC0415

        user = await store.user_by_name(username)
        if user is None:
            raise CommandFailed(f"no user {username!r}")
        # Asked for once the user is known: no password typed for a missing user or database.
        password = _read_password(password_stdin, "New password")
        _check_password(password, username)
        now = time.time()
        await store.set_password(user.id, await hasher.hash(password), now)
        return await store.revoke_user_families(user.id, now)

    revoked = _run(settings, change)
    click.echo(f"password of {username} changed ({revoked} refresh tokens revoked)")


@users.command("set-profile")
@click.argument("username")
@_profile_options
@_store_options
@_handled
def users_set_profile(
    username: str,
    email: str | None,
    name: str | None,
    email_verified: bool | None,
    database: str | None,
    config: str | None,
) -> None:
    """Change a user's e-mail address, name or its verified flag; what is not given is kept.
    A new address is unverified unless --email-verified."""
    if email is None and name is None and email_verified is None:
        raise UsageProblem("nothing to change: give --email, --name or --email-(un)verified")
    _checked_profile(email, name)
    settings = _settings(database, config)

    async def change(store: Store) -> tuple[str | None, bool, str | None]:
        user = await store.user_by_name(username)
        if user is None:
            raise CommandFailed(f"no user {username!r}")
        new_email = user.email if email is None else email or None
        # Only an administrator vouches for an address, and only for the one in front of them.
        if email_verified is not None:
            verified = email_verified
        else:
            verified = user.email_verified and new_email == user.email
        if verified and new_email is None:
            raise CommandFailed(f"user {username!r} has no e-mail address to verify")
        new_name = user.name if name is None else name or None
        await store.set_profile(user.id, email=new_email, email_verified=verified, name=new_name)
        return new_email, verified, new_name

    new_email, verified, new_name = _run(settings, change)
    shown_email = "-" if new_email is None else f"{new_email} ({'' if verified else 'un'}verified)"
    click.echo(f"profile of {username}: email {shown_email}, name {new_name or '-'}")


# -- clients ---------------------------------------------------------------------------------


@click.group()
def clients() -> None:
    """Manage OAuth clients (RFC 6749 §2): id, secret hash, allowed grants and scopes."""


@clients.command("add")
@click.argument("client_id")
@click.option(
    "--grant",
    "grants",
    multiple=True,
    type=click.Choice(["authorization_code", "client_credentials", "password", "refresh_token"]),
    help="An allowed grant (repeatable; default client_credentials). authorization_code needs "
    "--redirect-uri.",
)
@click.option("--scope", "scopes", multiple=True, help="An allowed scope (repeatable).")
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    help="A redirect URI of the authorization_code grant (repeatable; kept in this order, "
    "exactly as given): https, http only on 127.0.0.1, [::1] or localhost (any port at "
    "run time), or a private-use scheme such as com.example.app:/cb for a --public native app.",
)
@click.option(
    "--post-logout-redirect-uri",
    "post_logout_redirect_uris",
    multiple=True,
    help="Where /logout may send the browser back to (OpenID Connect RP-Initiated Logout; "
    "repeatable, exact; the same rules as --redirect-uri).",
)
@click.option(
    "--id-token-alg",
    default=None,
    help="The algorithm of this client's ID tokens (one of the id_token_algorithms setting; "
    "default RS256).",
)
@click.option("--name", default="", help="The name shown to users (1 to 200 printable characters).")
@click.option(
    "--public",
    is_flag=True,
    help="No secret (browser and native apps; not client_credentials).",
)
@click.option(
    "--first-party",
    is_flag=True,
    help="This service's own application: it will not be shown a consent page.",
)
@click.option(
    "--resource-server",
    is_flag=True,
    help="The client is a resource server: it may introspect the access tokens of its "
    "audiences (RFC 7662 §4). Every client may introspect its own tokens.",
)
@click.option(
    "--audience",
    "audiences",
    multiple=True,
    help="An audience (aud) the --resource-server serves (repeatable; default: the "
    "service's audience setting).",
)
@click.option(
    "--jwks",
    "jwks_file",
    type=click.Path(dir_okay=False),
    help="A file with the JWK Set of the client's public keys: instead of a secret, the client "
    "authenticates with a JWT signed by its private key (private_key_jwt, RFC 7523).",
)
@_store_options
@_handled
def clients_add(
    client_id: str,
    grants: tuple[str, ...],
    scopes: tuple[str, ...],
    redirect_uris: tuple[str, ...],
    post_logout_redirect_uris: tuple[str, ...],
    id_token_alg: str | None,
    name: str,
    public: bool,
    first_party: bool,
    resource_server: bool,
    audiences: tuple[str, ...],
    jwks_file: str | None,
    database: str | None,
    config: str | None,
) -> None:
    """Register a client and print its secret, once (only its SHA-256 is stored); with --jwks,
    register its public keys instead (no secret)."""
    import time  # noqa: PLC0415

    from .clients import (  # noqa: PLC0415
        check_client_name,
        check_post_logout_redirect_uris,
        check_registration,
    )
    from .credentials import hash_client_secret, new_client_secret  # noqa: PLC0415
    from .models import Client  # noqa: PLC0415
    from .storage import Conflict  # noqa: PLC0415

    if not is_client_id(client_id):
        raise UsageProblem("CLIENT_ID must be 1 to 128 printable ASCII characters, no spaces")
    if client_id == DEMO_CLIENT_ID:
        # The service answers for it itself while the demo setting is on: a stored client of
        # that id would be shadowed on some paths and not on others.
        raise UsageProblem(
            f"CLIENT_ID {DEMO_CLIENT_ID!r} is the token page's own demo client: choose another"
        )
    scope_tokens = tuple(dict.fromkeys(t for scope in scopes for t in scope.split()))
    if not all(is_scope_token(token) for token in scope_tokens):
        raise UsageProblem("--scope: scope tokens are printable ASCII without spaces, '\"', '\\'")
    grants = tuple(dict.fromkeys(grants or ("client_credentials",)))
    try:
        check_registration(grants, redirect_uris, public=public)
        check_post_logout_redirect_uris(grants, post_logout_redirect_uris, public=public)
        if name:
            check_client_name(name)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None
    if audiences and not resource_server:
        raise UsageProblem("--audience is for a --resource-server")
    if resource_server and public:
        raise UsageProblem("a --resource-server authenticates to introspect: it cannot be --public")
    if not all(is_client_id(audience) for audience in audiences):
        raise UsageProblem("--audience: 1 to 128 printable ASCII characters, no spaces")
    if jwks_file is not None and public:
        raise UsageProblem("--jwks is for a confidential client: it cannot be --public")
    jwks = None if jwks_file is None else _read_jwks(jwks_file)
    settings = _settings(database, config)
    if id_token_alg is not None and id_token_alg not in settings.id_token_algorithms:
        raise UsageProblem(
            f"--id-token-alg: one of {', '.join(settings.id_token_algorithms)} (the "
            "id_token_algorithms setting)"
        )
    if resource_server and not audiences:
        audiences = (settings.audience,)
    audiences = tuple(dict.fromkeys(audiences))
    secret = None if public or jwks is not None else new_client_secret()

    # 256 random bits: a fast digest is safe (nobody can guess the secret), and a slow
    # password hash would only make the token endpoint easy to flood (RFC 6749 §2.3.1).
    secret_hash = None if secret is None else hash_client_secret(secret)

    async def add(store: Store) -> None:
        client = Client(
            client_id,
            secret_hash,
            grants,
            scope_tokens,
            time.time(),
            name,
            audiences,
            redirect_uris,
            first_party,
            post_logout_redirect_uris=post_logout_redirect_uris,
            id_token_signed_response_alg=id_token_alg,
            jwks=jwks,
        )
        try:
            await store.add_client(client)
        except Conflict:
            raise CommandFailed(f"client {client_id!r} already exists") from None

    _run(settings, add)
    kind = ("first-party " if first_party else "") + ("public" if public else "confidential")
    served = f"; resource server of {', '.join(audiences)}" if audiences else ""
    redirects = f"; redirect URIs {' '.join(redirect_uris)}" if redirect_uris else ""
    keyed = "; authenticates with private_key_jwt" if jwks is not None else ""
    click.echo(
        f"{kind} client {client_id} created: grants {', '.join(grants)}{served}{redirects}{keyed}",
        err=True,
    )
    if secret is not None:
        click.echo(f"client_secret: {secret}")
        click.echo("Store the secret now: it is not shown again.", err=True)


def _read_jwks(path: str) -> str:
    """The text of a ``--jwks`` file, exactly as written, once it is a JWK Set of public
    signature keys (:func:`~.client_assertions.check_client_jwks`); a one-line
    :class:`UsageProblem` otherwise."""
    from .client_assertions import MAX_JWKS_LENGTH, check_client_jwks  # noqa: PLC0415

    try:
        with open(path, encoding="utf-8", newline="") as handle:
            text = handle.read(MAX_JWKS_LENGTH + 1)
    except OSError as exc:
        raise UsageProblem(f"--jwks: cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageProblem(f"--jwks {path}: not UTF-8 text") from None
    try:
        check_client_jwks(text)
    except ValueError as exc:
        raise UsageProblem(f"--jwks {path}: {exc}") from None
    return text


def _auth_method(client: Client) -> str:
    """How a client authenticates, in RFC 7591 terms (a secret: Basic or in the form)."""
    methods = [
        method
        for method, registered in (
            ("client_secret", client.secret_hash is not None),
            ("private_key_jwt", client.jwks is not None),
        )
        if registered
    ]
    return ",".join(methods) or "none"


@clients.command("list")
@_store_options
@_handled
def clients_list(database: str | None, config: str | None) -> None:
    """List the clients (never their secrets)."""
    settings = _settings(database, config)

    async def read(store: Store) -> list[tuple[str, ...]]:
        return [
            (
                c.id,
                "public" if c.public else "confidential",
                _auth_method(c),
                ",".join(c.grant_types) or "-",
                " ".join(c.scopes) or "-",
                ",".join(c.audiences) or "-",
                "yes" if c.first_party else "no",
                _time(c.created_at),
                # Last, separated by spaces: a URI has no space (a comma it may have).
                " ".join(c.redirect_uris) or "-",
            )
            for c in await store.list_clients()
        ]

    _table(
        (
            "CLIENT_ID",
            "TYPE",
            "AUTH_METHOD",
            "GRANTS",
            "SCOPES",
            "RESOURCE_SERVER_OF",
            "FIRST_PARTY",
            "CREATED",
            "REDIRECT_URIS",
        ),
        _run(settings, read, access="read"),
    )


@clients.command("remove")
@click.argument("client_id")
@_store_options
@_handled
def clients_remove(client_id: str, database: str | None, config: str | None) -> None:
    """Remove a client; its refresh tokens are revoked and its access tokens refused."""
    settings = _settings(database, config)

    async def remove(store: Store) -> bool:
        return await store.remove_client(client_id)

    if not _run(settings, remove):
        raise CommandFailed(f"no client {client_id!r}")
    click.echo(f"client {client_id} removed")


# -- keys ------------------------------------------------------------------------------------


@click.group()
def keys() -> None:
    """Manage signing keys: rotation publishes a key before it signs (RFC 7517 rollover)."""


def _with_keyring(
    settings: Settings, work: Callable[[Any], Awaitable[_T]], access: Access = "write"
) -> _T:
    """Run ``work`` on the key ring of the store (``access`` as for :func:`_run`; only
    ``"create"`` may create the development key file). A command that changes keys
    (``"write"``) tells the running instances through Redis when ``redis`` is set."""
    from .keyring import KeyRing, KeyRingError  # noqa: PLC0415 - server extra

    async def run(store: Store) -> _T:
        async with _announcer(settings if access == "write" else None) as announce:
            ring = await KeyRing.load(store, settings, access=access, on_change=announce)
            try:
                return await work(ring)
            except KeyRingError as exc:
                raise CommandFailed(str(exc)) from None

    return _run(settings, run, access)


@asynccontextmanager
async def _announcer(
    settings: Settings | None,
) -> AsyncIterator[Callable[[str], Awaitable[None]] | None]:
    """The key ring's ``on_change`` of an admin command: with the ``redis`` setting, each key
    change is published to the running instances, which reload their keys at once; a warning
    says so when Redis does not answer (they reload within 10 s anyway)."""
    if settings is None or settings.redis is None:
        yield None
        return
    from .broadcast import Broadcast  # noqa: PLC0415 - the redis extra
    from .redis_link import RedisLink  # noqa: PLC0415
    from .tokens import KEYRING_REFRESH_INTERVAL  # noqa: PLC0415

    link = RedisLink(settings.redis, settings.issuer)
    broadcast = Broadcast(link)
    delivered: list[bool] = []

    async def announce(kid: str) -> None:
        delivered.append(await broadcast.keys_changed(kid))

    # The service's outage message speaks of limits; this command says what concerns it.
    quiet = logging.getLogger("jwtkit.server.redis")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        yield announce
    finally:
        quiet.setLevel(level)
        await link.aclose()
    if not all(delivered):
        warn(
            f"Redis at {link.where} did not answer: the running instances of the service were "
            f"not told, and pick the change up within {KEYRING_REFRESH_INTERVAL:.0f} s"
        )


@keys.command("list")
@_store_options
@_handled
def keys_list(database: str | None, config: str | None) -> None:
    """List the signing keys, their algorithm and state (pending, active, retired)."""
    settings = _settings(database, config)

    async def read(ring: Any) -> list[tuple[str, ...]]:
        return [
            (
                r.kid,
                r.algorithm,
                r.status,
                _time(r.created_at),
                _time(r.activated_at),
                _time(r.publish_until),
            )
            for r in ring.records()
        ]

    rows = _with_keyring(settings, read, access="read")
    _table(("KID", "ALG", "STATUS", "CREATED", "SIGNS FROM", "PUBLISHED UNTIL"), rows)


@keys.command("rotate")
@click.option(
    "--activate-after",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds between publishing the new key and signing with it "
    "(default: twice the JWKS cache lifetime, 600). 0 after a key compromise.",
)
@click.option(
    "--algorithm",
    type=click.Choice(ACCESS_TOKEN_ALGORITHMS),
    help="Whose key to rotate: signing_algorithm (access tokens; the default), one of "
    "id_token_algorithms or one of published_algorithms. The keys of the other algorithms are "
    "left alone.",
)
@_store_options
@_handled
def keys_rotate(
    activate_after: float | None, algorithm: str | None, database: str | None, config: str | None
) -> None:
    """Create a new signing key of one algorithm: published now, signing after
    --activate-after seconds."""
    from .tokens import JWKS_MAX_AGE  # noqa: PLC0415

    settings = _settings(database, config)
    delay = 2 * JWKS_MAX_AGE if activate_after is None else activate_after

    async def rotate(ring: Any) -> Any:
        return await ring.rotate(activate_after=delay, algorithm=algorithm)

    record = _with_keyring(settings, rotate)
    click.echo(
        f"new signing key {record.kid} ({record.algorithm}): published now, "
        f"signs from {_time(record.activated_at)}; the previous {record.algorithm} key stays "
        "published until the tokens it signed have expired"
    )


@keys.command("retire")
@click.argument("kid")
@_store_options
@_handled
def keys_retire(kid: str, database: str | None, config: str | None) -> None:
    """Stop publishing a key now: tokens it signed stop verifying (after a compromise).

    The active key of an algorithm the settings no longer name stops signing instead, and
    stays published until the tokens it signed have expired (retire it again to unpublish it).
    """
    settings = _settings(database, config)

    async def retire(ring: Any) -> tuple[Any, bool]:
        record = await ring.retire(kid)
        return record, any(key.kid == record.kid for key in ring.verification_keys())

    record, published = _with_keyring(settings, retire)
    if published:
        click.echo(
            f"signing key {record.kid} ({record.algorithm}) retired: it signs no more and stays "
            f"published until {_time(record.publish_until)}, when the tokens it signed have "
            "expired; retire it again to unpublish it now"
        )
    else:
        click.echo(f"signing key {record.kid} retired and unpublished")


# -- db ---------------------------------------------------------------------------------------


@click.group()
def db() -> None:
    """The database's schema: its version and migrations (SQLite and PostgreSQL)."""


def _pending_lines(status: SchemaStatus) -> list[str]:
    return [f"  {version}  {summary}".rstrip() for version, summary in status.pending]


@db.command("status")
@_store_options
@_handled
def db_status(database: str | None, config: str | None) -> None:
    """Show the schema version, the latest one and the migrations still to apply. Reads only."""
    import anyio  # noqa: PLC0415 - server extra

    from .storage import open_store  # noqa: PLC0415

    settings = _settings(database, config)
    store = open_store(settings.database, access="read")
    status = anyio.run(store.schema_status)
    click.echo(f"database: {store.location}")
    click.echo(f"schema version: {status.current}")
    click.echo(f"latest version: {status.latest}")
    if status.pending:
        click.echo("pending migrations:")
        click.echo("\n".join(_pending_lines(status)))
    else:
        click.echo("pending migrations: none")


@db.command("upgrade")
@_store_options
@_handled
def db_upgrade(database: str | None, config: str | None) -> None:
    """Migrate the schema to the latest version, creating it in a new database (the only
    admin command that does). `jwtkit serve` does the same when it starts."""
    import anyio  # noqa: PLC0415 - server extra

    from .storage import DatabaseMissing, open_store  # noqa: PLC0415

    settings = _settings(database, config)
    store = open_store(settings.database, access="create")

    async def upgrade() -> tuple[int, SchemaStatus]:
        try:
            before = (await store.schema_status()).current
        except DatabaseMissing:
            before = 0
        await store.open()
        try:
            return before, await store.schema_status()
        finally:
            await store.close()

    before, after = anyio.run(upgrade)
    if before == after.current:
        click.echo(f"database {store.location}: schema version {before}, up to date")
    else:
        click.echo(
            f"database {store.location}: schema version {before} -> {after.current}"
            f" ({after.current - before} migration(s) applied)"
        )


def register(group: click.Group) -> None:
    """Add ``serve``, ``users``, ``clients``, ``keys`` and ``db`` to the ``jwtkit`` group."""
    group.add_command(serve)
    group.add_command(users)
    group.add_command(clients)
    group.add_command(keys)
    group.add_command(db)
