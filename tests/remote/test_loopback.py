"""End to end over real sockets on 127.0.0.1: a JWKS server that rotates its keys during the
test, a server that dribbles its response headers (the overall ``timeout``), and the project's
own token service as a real issuer (discovery, /token, key rotation).

Cache time comes from a FrozenClock; the only waiting is for servers to start and, bounded,
for a fetch to hit its ``timeout`` against the dribbling server.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import pytest

import jwtkit
from jwtkit import KeyNotFound
from jwtkit.remote import AsyncJWKSClient, JWKSClient, JWKSFetchError
from jwtkit.testing import FrozenClock


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class JWKSServer:
    """A real HTTP server on a loopback port serving a JWK Set that the test swaps."""

    def __init__(self) -> None:
        self.body = b'{"keys": []}'
        self.status = 200
        self.headers: dict[str, str] = {"Content-Type": "application/jwk-set+json"}
        self.requests: list[str] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with owner._lock:
                    owner.requests.append(self.path)
                    status, body, headers = owner.status, owner.body, dict(owner.headers)
                if self.path == "/old-place":
                    status, body, headers = 301, b"", {"Location": "/jwks"}
                elif self.path != "/jwks":
                    status, body = 404, b'{"error": "not found"}'
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output clean

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/jwks"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def publish(self, *keys: jwtkit.Key) -> None:
        document = {"keys": [key.public_key().to_jwk() for key in keys]}
        with self._lock:
            self.body = json.dumps(document).encode()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def jwks_server() -> Iterator[JWKSServer]:
    server = JWKSServer()
    try:
        yield server
    finally:
        server.stop()


class DribblingServer:
    """A raw socket on a loopback port that answers every request with a status line, then
    one header line every ``interval`` seconds and never the end of the headers: each read is
    quick, the response never completes (a slow-loris answer). It gives up after ``lifetime``
    seconds or when the client hangs up, so a test against an unbounded client still ends."""

    def __init__(self, interval: float = 0.3, lifetime: float = 6.0, *, body: bool = False) -> None:
        self.interval = interval
        #: Dribble the body instead: complete headers, no Content-Length (the body ends with the
        #: connection), then one byte of a JWK Set at a time.
        self.body = body
        self.lifetime = lifetime
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/jwks"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            thread = threading.Thread(target=self._dribble, args=(connection,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _dribble(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(self.lifetime)
            try:
                connection.recv(65536)  # the request
                connection.sendall(b"HTTP/1.1 200 OK\r\n")
                if self.body:
                    connection.sendall(b"Connection: close\r\n\r\n")
                for line in range(int(self.lifetime / self.interval)):
                    if self._stop.wait(self.interval):
                        return
                    byte = b'{"keys": []}'[line : line + 1] or b" "
                    header = f"X-Slow-{line}: {line}\r\n".encode()
                    connection.sendall(byte if self.body else header)
            except OSError:
                return  # the client hung up

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for thread in self._threads:
            thread.join(timeout=10)
        self.listener.close()


@pytest.fixture
def dribbler() -> Iterator[DribblingServer]:
    server = DribblingServer()
    try:
        yield server
    finally:
        server.stop()


def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait (at most 5 s) for another thread to get somewhere; not a wait for an expiry."""
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


TIMEOUT = 1.0
#: A bound on a fetch that the timeout stops: not a performance assertion, just far below the
#: lifetime of the dribbling server (what an unbounded fetch would take).
BOUND = TIMEOUT * 2 + 0.5


def test_sync_timeout_bounds_slow_headers_for_the_fetch_and_its_waiters(
    dribbler: DribblingServer,
) -> None:
    client = JWKSClient(dribbler.url, timeout=TIMEOUT)
    outcomes: dict[str, tuple[BaseException, float]] = {}

    def lookup(name: str) -> None:
        started = time.monotonic()
        try:
            client.get_keyset()
        except BaseException as exc:  # checked below
            outcomes[name] = (exc, time.monotonic() - started)

    fetching = threading.Thread(target=lookup, args=("fetching",))
    waiting = threading.Thread(target=lookup, args=("waiting",))
    try:
        fetching.start()
        _until(lambda: dribbler.connections == 1, "the fetch to connect")
        waiting.start()
        _until(lambda: client._waiters == 1, "the second thread to wait for the fetch")
    finally:
        fetching.join(timeout=dribbler.lifetime + 5)
        waiting.join(timeout=dribbler.lifetime + 5)
        client.close()
    assert set(outcomes) == {"fetching", "waiting"}
    for error, elapsed in outcomes.values():
        assert isinstance(error, JWKSFetchError)
        assert error.message.startswith(f"JWKS from 127.0.0.1:{urlsplit(dribbler.url).port}")
        assert "timed out after 1s" in error.message
        assert elapsed < BOUND
    assert dribbler.connections == 1  # one fetch, shared


def test_sync_timeout_bounds_a_slow_body_that_ends_with_the_connection() -> None:
    """The watchdog's shutdown ends a body delimited by the connection's end: httpx sees a
    complete response, the fetch must still report the timeout (not a truncated document)."""
    server = DribblingServer(body=True)
    clock = FrozenClock()  # the deadline between reads never passes: the watchdog ends it
    try:
        with JWKSClient(server.url, timeout=TIMEOUT, clock=clock) as client:
            started = time.monotonic()
            with pytest.raises(JWKSFetchError, match=r"timed out after 1s \(timeout\)$"):
                client.get_keyset()
            assert time.monotonic() - started < BOUND
    finally:
        server.stop()


@pytest.mark.anyio
async def test_async_timeout_bounds_slow_headers_for_the_fetch_and_its_waiters(
    dribbler: DribblingServer,
) -> None:
    outcomes: dict[str, tuple[BaseException, float]] = {}

    async with AsyncJWKSClient(dribbler.url, timeout=TIMEOUT) as client:

        async def lookup(name: str) -> None:
            started = time.monotonic()
            try:
                await client.aget_keyset()
            except BaseException as exc:  # checked below
                outcomes[name] = (exc, time.monotonic() - started)

        with anyio.fail_after(dribbler.lifetime + 5):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(lookup, "fetching")
                while dribbler.connections == 0:
                    await anyio.sleep(0.005)
                tasks.start_soon(lookup, "waiting")
                while client._waiters == 0:
                    await anyio.sleep(0.005)
    assert set(outcomes) == {"fetching", "waiting"}
    for error, elapsed in outcomes.values():
        assert isinstance(error, JWKSFetchError)
        assert "timed out after 1s" in error.message
        assert elapsed < BOUND
    assert dribbler.connections == 1


def _token(key: jwtkit.Key) -> str:
    return jwtkit.encode({"sub": "42", "iss": "https://id.example"}, key, algorithm="ES256")


def test_sync_client_follows_a_real_server_through_rotation_and_outage(
    jwks_server: JWKSServer,
) -> None:
    first = jwtkit.Key.generate("ES256", kid="first")
    second = jwtkit.Key.generate("ES256", kid="second")
    jwks_server.publish(first)
    clock = FrozenClock()
    client = JWKSClient(jwks_server.url, clock=clock, cache_ttl=600, cooldown=30, max_stale=600)
    verifier = jwtkit.Verifier(client, algorithms=["ES256"], issuer="https://id.example")
    try:
        assert verifier.decode(_token(first))["sub"] == "42"
        assert verifier.decode(_token(first))["sub"] == "42"
        assert jwks_server.requests == ["/jwks"]

        jwks_server.publish(second)  # rotation at the issuer: the old key is gone
        with pytest.raises(KeyNotFound):
            verifier.decode(_token(second))  # within the cooldown: no request
        assert len(jwks_server.requests) == 1
        clock.advance(30)
        assert verifier.decode(_token(second))["sub"] == "42"  # unknown kid: one refetch
        assert len(jwks_server.requests) == 2
        with pytest.raises(KeyNotFound):
            verifier.decode(_token(first))

        jwks_server.status = 500  # an outage: the last good keys keep serving
        clock.advance(600)
        assert verifier.decode(_token(second))["sub"] == "42"
        assert len(jwks_server.requests) == 3
        jwks_server.stop()  # now nobody listens at all
        clock.advance(600)  # past max_stale
        with pytest.raises(JWKSFetchError, match=r"JWKS from 127\.0\.0\.1:\d+: ConnectError"):
            verifier.decode(_token(second))
    finally:
        client.close()


def test_real_redirects_and_size_cap(jwks_server: JWKSServer) -> None:
    key = jwtkit.Key.generate("ES256", kid="k")
    jwks_server.publish(key)
    moved = jwks_server.url.replace("/jwks", "/old-place")
    with JWKSClient(moved, clock=FrozenClock()) as client:
        assert client.get_key("k") == key.public_key()
    assert jwks_server.requests == ["/old-place", "/jwks"]
    jwks_server.publish(*[jwtkit.Key.generate("ES256", kid=f"k{n}") for n in range(30)])
    with (
        JWKSClient(jwks_server.url, max_bytes=2048) as small,
        pytest.raises(JWKSFetchError, match="larger than 2048 bytes"),
    ):
        small.get_keyset()


@pytest.mark.anyio
async def test_async_client_and_twenty_tasks_against_a_real_server(
    jwks_server: JWKSServer,
) -> None:
    first = jwtkit.Key.generate("ES256", kid="first")
    second = jwtkit.Key.generate("ES256", kid="second")
    jwks_server.publish(first)
    clock = FrozenClock()
    async with AsyncJWKSClient(jwks_server.url, clock=clock) as client:
        verifier = jwtkit.Verifier(client, algorithms=["ES256"])
        assert (await verifier.adecode(_token(first)))["sub"] == "42"
        jwks_server.publish(first, second)
        clock.advance(30)
        token = _token(second)
        results: list[dict[str, Any]] = []

        async def work() -> None:
            results.append(await verifier.adecode(token))

        async with anyio.create_task_group() as tasks:
            for _ in range(20):
                tasks.start_soon(work)
        assert [claims["sub"] for claims in results] == ["42"] * 20
        assert jwks_server.requests == ["/jwks", "/jwks"]  # one fetch for the 20 tasks
        assert verifier.decode(_token(first))["sub"] == "42"  # sync access: from the cache


# -- the project's token service as the issuer -----------------------------------------------

KEK = base64.urlsafe_b64encode(bytes(range(32))).decode().rstrip("=")
PASSWORD = "correct horse battery staple"


class TokenService:
    """``jwtkit.server.create_app`` served by uvicorn in a thread on a pre-bound loopback
    socket, its expiries driven by ``clock``."""

    def __init__(self, workdir: Path, clock: FrozenClock) -> None:
        import uvicorn

        from jwtkit.server.app import create_app
        from jwtkit.server.config import Settings

        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        port = self.socket.getsockname()[1]
        self.issuer = f"http://127.0.0.1:{port}"
        self.database = str(workdir / "jwtkit.db")
        settings = Settings(
            issuer=self.issuer,
            port=port,
            database=self.database,
            key_file=str(workdir / "kek.secret"),
            key_encryption_key=KEK,
            argon2_time_cost=1,
            argon2_memory_cost=8,
            argon2_parallelism=1,
        )
        config = uvicorn.Config(create_app(settings, clock=clock), log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:  # waiting for start-up, not for an expiry
            assert self.thread.is_alive(), "the token service stopped during start-up"
            assert time.monotonic() < deadline, "the token service did not start in time"
            time.sleep(0.01)

    def login(self, http: httpx.Client) -> str:
        answer = http.post(
            "/token", data={"grant_type": "password", "username": "alice", "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.socket.close()


def test_token_service_as_a_real_issuer_with_key_rotation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from jwtkit import _console
    from jwtkit.server.tokens import KEYRING_REFRESH_INTERVAL

    clock = FrozenClock(time.time())
    service = TokenService(tmp_path, clock)
    try:
        with httpx.Client(base_url=service.issuer, timeout=10, trust_env=False) as http:
            created = http.post("/users", json={"username": "alice", "password": PASSWORD})
            assert created.status_code == 201, created.text
            before = service.login(http)

            jwks = JWKSClient.from_issuer(service.issuer, clock=clock)
            assert jwks.url == f"{service.issuer}/.well-known/jwks.json"
            verifier = jwtkit.Verifier(
                jwks,
                algorithms=["ES256"],
                issuer=service.issuer,
                audience="jwtkit",
                typ="at+jwt",
                clock=clock,
            )
            claims = verifier.decode(before)
            assert claims["iss"] == service.issuer
            old_kid = jwtkit.decode_unverified(before).header["kid"]

            # `jwtkit keys rotate --activate-after 0`: a new key signs at once.
            for name in [name for name in os.environ if name.startswith("JWTKIT_")]:
                monkeypatch.delenv(name)
            monkeypatch.setenv("JWTKIT_KEY_ENCRYPTION_KEY", KEK)
            rotated = CliRunner().invoke(
                _console.build(),
                ["keys", "rotate", "--activate-after", "0", "--database", service.database],
            )
            assert rotated.exit_code == 0, rotated.output
            clock.advance(max(KEYRING_REFRESH_INTERVAL, 30) + 1)  # service reload, our cooldown

            after = service.login(http)
            new_kid = jwtkit.decode_unverified(after).header["kid"]
            assert new_kid != old_kid
            assert old_kid in {key.kid for key in jwks.get_keyset()}
            assert new_kid not in {key.kid for key in jwks.get_keyset()}
            assert verifier.decode(after)["sub"] == claims["sub"]  # refetched on the new kid
            assert jwks.get_key(new_kid).kid == new_kid
            assert verifier.decode(before)["sub"] == claims["sub"]  # still published
            jwks.close()
    finally:
        service.stop()
