"""Database servers for the test session: real ones, started on loopback, stopped at the end.

``postgres_server`` (session) is a PostgreSQL of its own: ``initdb`` into a temporary folder,
a free port on 127.0.0.1, the Unix socket in that folder, durability off (``fsync=off``: the
data is thrown away). ``postgres_url`` (per test) is a new, empty database on it, so that
every test starts from nothing. With ``JWTKIT_TEST_POSTGRES_URL`` set (a role that may
``CREATE DATABASE``), that server is used instead and none is started.

The binaries (``initdb``, ``pg_ctl``, ``postgres``) are looked for on the PATH, in
``/usr/lib/postgresql/<version>/bin`` (Debian's packages, the newest first) and in
``/usr/local/bin``. Without them the tests that need PostgreSQL are skipped with the line that
installs it (``apt-get install postgresql``), except in CI (``CI=true``), where they fail:
CI never skips them.

PostgreSQL refuses to run as root. Run as root (as CI is), the server runs as an unprivileged
user through ``runuser -u USER --`` (``setpriv`` where runuser is missing): the ``postgres``
system user when it exists, else a system user ``jwtkit-test`` that is created for it
(``useradd --system``; only ever as root). The temporary folder then belongs to that user.

A server of another kind (Redis, ...) is a subclass of :class:`_Server` (start, stop, a URL)
with a session fixture beside ``postgres_server``.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

#: How to install the PostgreSQL server on Debian and Ubuntu (the skip message).
INSTALL_POSTGRES = "apt-get install postgresql"
#: The system user that runs the servers when the tests run as root and there is no postgres.
TEST_USER = "jwtkit-test"
EXTERNAL_POSTGRES = "JWTKIT_TEST_POSTGRES_URL"


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def missing(what: str, install: str) -> None:
    """Skip (or, in CI, fail) the test that needs ``what``."""
    message = f"{what} is not installed: {install}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI never skips these tests)")
    pytest.skip(message)


def unprivileged_user() -> str | None:
    """The user that servers run as: ``None`` (the current one) unless running as root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", TEST_USER):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    subprocess.run(  # noqa: S603 - fixed arguments, only as root
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", TEST_USER],  # noqa: S607
        check=True,
        capture_output=True,
    )
    return TEST_USER


class _Server:
    """A server process for the test session, on loopback, its state in ``folder``."""

    #: What the server is, for messages.
    kind = "server"

    def __init__(self, folder: Path, user: str | None) -> None:
        self.folder = folder
        self.user = user
        self.port = free_port()

    def command(self, *argv: str | Path) -> list[str]:
        """``argv`` as the server's user (runuser or setpriv when running as root)."""
        arguments = [str(part) for part in argv]
        if self.user is None:
            return arguments
        if shutil.which("runuser"):
            return ["runuser", "-u", self.user, "--", *arguments]
        entry = pwd.getpwnam(self.user)  # pragma: no cover - util-linux without runuser
        return [
            "setpriv",
            f"--reuid={entry.pw_uid}",
            f"--regid={entry.pw_gid}",
            "--init-groups",
            *arguments,
        ]

    def run(self, *argv: str | Path) -> None:
        done = subprocess.run(  # noqa: S603 - the server's own binaries
            self.command(*argv), capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{self.kind}: {' '.join(map(str, argv))} failed:\n{done.stdout}{done.stderr}"
            )

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def restart(self) -> None:
        """Stop and start again (same port, same data)."""
        self.stop()
        self.start()


class PostgresServer(_Server):
    """A PostgreSQL cluster in ``folder`` (``initdb`` on first start)."""

    kind = "PostgreSQL"
    #: The server's settings (``-c name=value``) besides its address: durability off, since
    #: the tests' data is thrown away. A subclass may change them (benchmarks/instances.py
    #: runs a durable server).
    settings: tuple[str, ...] = (
        "fsync=off",
        "synchronous_commit=off",
        "full_page_writes=off",
        "max_connections=300",
        "log_min_messages=fatal",
    )

    def __init__(self, binaries: Path, folder: Path, user: str | None) -> None:
        super().__init__(folder, user)
        self.binaries = binaries
        self.data = folder / "data"
        self.password = secrets.token_urlsafe(12)
        self.admin_url = f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        if not self.data.exists():
            password_file = self.folder / "password"
            password_file.write_text(self.password)
            if self.user is not None:
                shutil.chown(password_file, self.user)
            self.run(
                self.binaries / "initdb",
                "-D",
                self.data,
                "-U",
                "postgres",
                f"--pwfile={password_file}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            )
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        options += "".join(f" -c {setting}" for setting in self.settings)
        self.run(
            self.binaries / "pg_ctl",
            "start",
            "-w",
            "-D",
            self.data,
            "-o",
            options,
            "-l",
            self.folder / "server.log",
        )

    def stop(self) -> None:
        self.run(self.binaries / "pg_ctl", "stop", "-w", "-m", "fast", "-D", self.data)


def postgres_binaries() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres, if any."""
    candidates = []
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).resolve().parent)
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda path: int(Path(path).parent.name) if Path(path).parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += [Path(path) for path in versions]
    candidates.append(Path("/usr/local/bin"))
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


class PostgresDatabases:
    """Makes databases on a server (``admin_url`` may ``CREATE DATABASE``)."""

    def __init__(self, admin_url: str, server: PostgresServer | None) -> None:
        self.admin_url = admin_url
        #: The server this session started (``None`` for an external one).
        self.server = server
        self._names = (f"jwtkit_test_{os.getpid()}_{n}" for n in range(1_000_000))

    def url(self, database: str) -> str:
        """The URL of ``database`` on this server."""
        parts = urlsplit(self.admin_url)
        return urlunsplit(parts._replace(path="/" + quote(database)))

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)

    def create(self) -> str:
        """A new, empty database; its name."""
        name = next(self._names)
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return name

    def drop(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresDatabases]:
    """The session's PostgreSQL (started here unless JWTKIT_TEST_POSTGRES_URL names one)."""
    external = os.environ.get(EXTERNAL_POSTGRES)
    if external:
        yield PostgresDatabases(external, None)
        return
    binaries = postgres_binaries()
    if binaries is None:
        missing("PostgreSQL", INSTALL_POSTGRES)
        return  # pragma: no cover - missing() raises
    user = unprivileged_user()
    folder = Path(tempfile.mkdtemp(prefix="jwtkit-pg-"))
    if user is not None:
        shutil.chown(folder, user, user)
    server = PostgresServer(binaries, folder, user)
    server.start()
    try:
        yield PostgresDatabases(server.admin_url, server)
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresDatabases) -> Iterator[str]:
    """The URL of a new, empty database for this test (dropped afterwards)."""
    name = postgres_server.create()
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop(name)
