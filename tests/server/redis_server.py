"""A real Redis server for the tests of the ``redis`` setting.

``redis_server`` (a session fixture) starts ``redis-server`` from ``PATH`` on a free loopback
port, with nothing written to disk (``--save ''``, ``--appendonly no``) and its folder in a
temporary directory, and stops it at the end of the run. Without ``redis-server`` the tests
that need it are skipped (``apt-get install redis-server``), except on CI (``CI=true``), where
they fail. ``JWTKIT_TEST_REDIS_URL=redis://...`` uses an existing server instead (its
database is emptied before each test; such a server cannot be stopped by the outage tests,
which are skipped then).

``redis_url`` (a test fixture) is the URL of an empty database on a running server. A
test stops and restarts the server with :meth:`RedisServer.stop` and :meth:`RedisServer.start`
(same port, same URL) to play a Redis outage.

A test module uses them by importing them: ``from redis_server import redis_server_fixture,
redis_url_fixture``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

#: The environment variable naming an existing server to use instead of starting one.
URL_VARIABLE = "JWTKIT_TEST_REDIS_URL"
INSTALL = "apt-get install redis-server"
#: Seconds a starting server has to answer PING, and a stopping one to exit.
_TIMEOUT = 15.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A ``redis-server`` process on loopback that a test may stop and start again; or, with
    ``external`` set, a server this run did not start (never stopped)."""

    def __init__(
        self, url: str, *, program: str | None = None, folder: Path | None = None, port: int = 0
    ) -> None:
        self.url = url
        self.port = port
        self._program = program
        self._folder = folder
        self._process: subprocess.Popen[bytes] | None = None

    @classmethod
    def spawn(cls, program: str, folder: Path) -> RedisServer:
        """Start ``program`` on a free loopback port, its files in ``folder``."""
        port = _free_port()
        server = cls(f"redis://127.0.0.1:{port}/0", program=program, folder=folder, port=port)
        server.start()
        return server

    @property
    def external(self) -> bool:
        return self._program is None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server (again) on its port, and wait until it answers."""
        if self._program is None or self._folder is None:
            pytest.skip(f"{URL_VARIABLE} names a server this run cannot stop or start")
        if self.running:
            return
        self._process = subprocess.Popen(  # noqa: S603 - a fixed program and arguments
            [
                self._program,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self._folder),
                "--unixsocket",
                str(self._folder / "redis.sock"),
                "--unixsocketperm",
                "700",
                "--logfile",
                str(self._folder / "redis.log"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + _TIMEOUT
        while not _answers_ping(self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                log = (self._folder / "redis.log").read_text(errors="replace")[-2000:]
                self.stop()
                pytest.fail(f"redis-server did not start on port {self.port}:\n{log}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop the server (an outage): connections drop, new ones are refused."""
        if self._program is None:
            pytest.skip(f"{URL_VARIABLE} names a server this run cannot stop or start")
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=_TIMEOUT)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
            process.kill()
            process.wait()

    def flush(self) -> None:
        """Empty the database of :attr:`url` (a fresh state for each test)."""
        client = redis.Redis.from_url(self.url)
        try:
            client.flushdb()
        finally:
            client.close()


@pytest.fixture(scope="session", name="redis_server")
def redis_server_fixture() -> Iterator[RedisServer]:
    """A Redis server for the whole run (see the module's docstring)."""
    url = os.environ.get(URL_VARIABLE)
    if url:
        yield RedisServer(url)
        return
    program = shutil.which("redis-server")
    if program is None:
        message = f"redis-server is not installed: {INSTALL}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with tempfile.TemporaryDirectory(prefix="jwtkit-redis-") as folder:
        server = RedisServer.spawn(program, Path(folder))
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(name="redis_url")
def redis_url_fixture(redis_server: RedisServer) -> str:
    """The URL of an empty Redis database on a running server."""
    if not redis_server.external:
        redis_server.start()  # a test that stopped it may have failed before starting it
    redis_server.flush()
    return redis_server.url
