"""The jwtkit token service under load, side by side with a FastAPI-tutorial baseline.

Starts ``jwtkit serve`` (temporary SQLite database, a random key-encryption key) and
``benchmarks/baseline_app.py`` (FastAPI + PyJWT HS256, written like FastAPI's OAuth2/JWT
tutorial) under uvicorn, with the same worker count, each on a free port of 127.0.0.1, and
drives them with a load generator on loopback: raw asyncio streams, HTTP/1.1 keep-alive, N
concurrent connections for a fixed time, bounded in requests and in time. The baseline runs
with uvicorn's defaults, as its tutorial runs it: httptools and uvloop when they are installed,
as ``pip install "fastapi[standard]"`` and jwtkit's ``server`` extra install them; ``jwtkit
serve`` selects the same two. ``http_stack.py`` compares the HTTP stacks themselves.

Scenarios (issue 3, "Performance"):

1. ``GET /userinfo`` with a valid access token, against the baseline's ``GET /users/me``
   (target: jwtkit >= 1.5x the baseline's req/s);
2. ``POST /token`` ``grant_type=refresh_token`` (RFC 6749 §6): every connection presents the
   refresh token returned by its previous request, so every request is a rotation
   (RFC 9700 §4.14.2);
3. ``POST /token`` ``grant_type=client_credentials`` (RFC 6749 §4.4, ``client_secret_basic``);
4. login throughput (password grant, RFC 6749 §4.3) as a function of the Argon2 parameters,
   jwtkit and baseline, plus client_credentials at each setting (client secrets are SHA-256
   digests, so that row should not move).

Before the scenarios, the client's own ceiling is measured against a canned-response server,
so that the report shows the load generator is not the bottleneck. ``GET /healthz`` (the same
app's cheapest route) gives the floor: what any endpoint costs on this uvicorn + FastAPI stack.
The two sides of scenario 1 run interleaved (baseline, jwtkit, baseline, jwtkit). Every
non-2xx answer is an error; the login limits of the service count failures only, so the
successful logins of the sweep are never refused.

Usage::

    python benchmarks/service.py            # full run (about 2.5 minutes), Markdown on stdout
    python benchmarks/service.py --quick    # 3 s per scenario (about 80 s)
    python benchmarks/service.py --profile  # also: where /userinfo's time goes (+1 minute)
    python benchmarks/service.py --json out.json   # also write the raw numbers

Every server runs in its own process group and is terminated at the end, also on Ctrl-C or an
error. By default the servers are pinned to the first ``--workers`` CPUs and the load generator
to the others (when there are enough), so that they do not compete for a core.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import io
import json
import math
import os
import platform
import pstats
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from time import perf_counter
from typing import Any
from urllib.parse import quote, urlencode

__all__ = ["Result", "main"]

HOST = "127.0.0.1"
HERE = Path(__file__).resolve().parent
USERNAME = "benchuser"
PASSWORD = "bench-" + "correct-horse-battery"
CLIENT_ID = "bench-service"
CLIENT_SCOPE = "api:read"
#: (time_cost, memory_cost KiB) settings of the login sweep; parallelism stays 4.
ARGON2_SWEEP = ((1, 19456), (2, 19456), (3, 65536), (4, 65536))
DEFAULT_ARGON2 = (3, 65536, 4)  # jwtkit's defaults (docs/server-configuration.md)
#: Hard bound on the requests of one scenario, whatever the duration.
MAX_REQUESTS = 2_000_000
REQUEST_TIMEOUT = 30.0
START_TIMEOUT = 60.0
#: The env flags of this script only (never JWTKIT_* names: the service refuses unknown ones).
PROFILE_ENV = "SERVICE_BENCH_CPROFILE"
WHAT_IF_ENV = "SERVICE_BENCH_WHAT_IF"

# ``serve`` and the admin commands on a group of their own: the same click commands as the
# ``jwtkit`` console script, without depending on the other command layers (jwtkit.cli).
_MAIN = """
import click
from jwtkit.server.cli import register
group = click.Group("jwtkit")
register(group)
def main():
    return group.main(standalone_mode=True)
"""
_SERVE = _MAIN + "main()\n"
# --profile's "what if" experiments: patches applied inside the server process before it starts,
# to measure the changes proposed for src/jwtkit/server/ (they are NOT what jwtkit does):
# - inline: single-row SQLite reads run on the event loop instead of a worker thread;
# - cache: verified access-token claims are kept per token string (bounded; exp rechecked on
#   every hit; dropped when the verification keys change); revocation and user checks still run;
# - starlette: GET /userinfo as a plain Starlette route instead of a FastAPI endpoint.
_WHAT_IF = f"""
import os
what_if = os.environ.get({WHAT_IF_ENV!r}, "").split("+")
if "inline" in what_if:
    from jwtkit.server.storage.sqlite import SQLiteStore

    async def _inline_read(self, operation):
        return self._call(operation)

    SQLiteStore._read = _inline_read
if "cache" in what_if:
    from jwtkit.server.access_tokens import AccessTokens

    _decode = AccessTokens.decode

    async def _cached_decode(self, token):
        cache = self.__dict__.setdefault("_what_if_cache", {{}})
        keys = self.keyring.verification_keys()
        if cache.get(None) is not keys:
            cache.clear()
            cache[None] = keys
        claims = cache.get(token)
        if claims is None or claims["exp"] <= self.clock():
            claims = await _decode(self, token)
            if len(cache) < 10000:
                cache[token] = claims
        return dict(claims)

    AccessTokens.decode = _cached_decode
if "starlette" in what_if:
    import jwtkit.server.http.app as service_app
    from jwtkit.server.http import errors, requests
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    _add_routes = service_app.add_routes

    def _with_plain_userinfo(app):
        _add_routes(app)

        async def userinfo(request):
            service = requests.service_of(request)
            claims = await service.verify_access_token(requests.bearer_token(request))
            return JSONResponse(claims, headers=errors.NO_STORE)

        app.router.routes.insert(0, Route("/userinfo", userinfo, methods=["GET"]))

    service_app.add_routes = _with_plain_userinfo
"""
WHAT_IF = (
    ("", "as committed"),
    ("inline", "SQLite reads on the event loop"),
    ("inline+cache", "... + verified-token cache"),
    ("inline+starlette", "... + plain Starlette route (no cache)"),
    ("inline+cache+starlette", "all three"),
)

# uvicorn re-raises SIGTERM after its graceful shutdown, with the previous handler: this one
# turns it into SystemExit so that the profile is written.
_SERVE_PROFILED = (
    _MAIN
    + f"""
import cProfile, os, signal, sys
signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
profiler = cProfile.Profile()
profiler.enable()
try:
    main()
finally:
    profiler.disable()
    profiler.dump_stats(os.environ[{PROFILE_ENV!r}])
"""
)


# --------------------------------------------------------------------------------------------
# HTTP/1.1 on raw asyncio streams (less client overhead than an HTTP library)


def http_get(path: str, headers: Mapping[str, str] | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def http_post_form(
    path: str, form: Mapping[str, str], headers: Mapping[str, str] | None = None
) -> bytes:
    body = urlencode(form).encode("ascii")
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {HOST}",
        "Content-Type: application/x-www-form-urlencoded",
        f"Content-Length: {len(body)}",
    ]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def basic_auth(client_id: str, secret: str) -> str:
    """``client_secret_basic`` (RFC 6749 §2.3.1: both parts form-urlencoded first)."""
    pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


class ProtocolError(Exception):
    """The server's answer is not an HTTP/1.1 response this client understands."""


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, server closes) of one response with a Content-Length."""
    head = await reader.readuntil(b"\r\n\r\n")
    try:
        status = int(head[9:12])
    except ValueError:
        raise ProtocolError("bad status line") from None
    length = -1
    close = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            close = True
        elif name == b"transfer-encoding":
            raise ProtocolError("chunked responses are not supported")
    if length < 0:
        raise ProtocolError("no Content-Length")
    body = await reader.readexactly(length) if length else b""
    return status, body, close


async def fetch(port: int, raw: bytes, timeout: float = REQUEST_TIMEOUT) -> tuple[int, bytes]:
    """One request on a new connection (set-up and readiness checks)."""

    async def run() -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            writer.write(raw)
            status, body, _ = await read_response(reader)
            return status, body
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    return await asyncio.wait_for(run(), timeout)


async def fetch_json(port: int, raw: bytes, expect: int = 200) -> Any:
    status, body = await fetch(port, raw)
    if status != expect:
        raise RuntimeError(f"set-up request failed: HTTP {status}: {body[:300]!r}")
    return json.loads(body)


# --------------------------------------------------------------------------------------------
# the load generator


class Job:
    """What one connection sends, and whether an answer counts as a success (2xx)."""

    def __init__(self, raw: bytes = b"") -> None:
        self.raw = raw

    def request(self) -> bytes:
        return self.raw

    def answer(self, status: int, body: bytes) -> bool:
        return 200 <= status < 300


class RefreshJob(Job):
    """A refresh-token chain: each request presents the token the previous one returned."""

    def __init__(self, refresh_token: str) -> None:
        super().__init__()
        self.refresh_token = refresh_token
        self.broken = False

    def request(self) -> bytes:
        form = {"grant_type": "refresh_token", "refresh_token": self.refresh_token}
        return http_post_form("/token", form)

    def answer(self, status: int, body: bytes) -> bool:
        if not 200 <= status < 300:
            self.broken = True  # the chain's state is unknown now: stop this connection
            return False
        self.refresh_token = json.loads(body)["refresh_token"]
        return True


@dataclass
class Result:
    """One scenario against one server."""

    scenario: str
    server: str
    connections: int
    duration: float
    latencies: array[float] = field(default_factory=lambda: array("d"))
    errors: int = 0
    error_kinds: Counter[str] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.requests / self.duration

    def percentile(self, fraction: float) -> float:
        """Nearest-rank percentile of the latencies, in seconds (NaN without data)."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        rank = max(math.ceil(fraction * len(ordered)), 1)
        return ordered[rank - 1]


@dataclass
class _Window:
    start: float
    end: float
    count: int = 0


async def _connection(port: int, job: Job, window: _Window, result: Result) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while True:
            started = perf_counter()
            if started >= window.end or window.count >= MAX_REQUESTS:
                return
            window.count += 1
            try:
                writer.write(job.request())
                status, body, close = await read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ProtocolError) as exc:
                result.errors += 1
                result.error_kinds[type(exc).__name__] += 1
                if isinstance(job, RefreshJob):
                    return  # the rotation's outcome is unknown
                writer.close()
                reader, writer = await asyncio.open_connection(HOST, port)
                continue
            finished = perf_counter()
            if not job.answer(status, body):
                result.errors += 1
                result.error_kinds[f"HTTP {status}"] += 1
                if getattr(job, "broken", False):
                    return
            elif window.start <= finished <= window.end:
                result.latencies.append(finished - started)
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection(HOST, port)
    finally:
        writer.close()


async def run_load(
    port: int,
    jobs: Sequence[Job],
    duration: float,
    *,
    scenario: str,
    server: str,
    warmup: float = 1.0,
) -> Result:
    """Drive ``len(jobs)`` connections for ``warmup + duration`` seconds; measure the last
    ``duration``. Stops by itself: at the deadline, after :data:`MAX_REQUESTS` requests, or
    (hard bound) :data:`REQUEST_TIMEOUT` seconds after the deadline."""
    result = Result(scenario, server, len(jobs), duration)
    now = perf_counter()
    window = _Window(now + warmup, now + warmup + duration)
    tasks = [asyncio.ensure_future(_connection(port, job, window, result)) for job in jobs]
    try:
        _, pending = await asyncio.wait(tasks, timeout=warmup + duration + REQUEST_TIMEOUT)
    finally:
        for task in tasks:
            task.cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    result.errors += len(pending)
    if pending:
        result.error_kinds["no answer (timeout)"] += len(pending)
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            raise outcome
    measured = min(perf_counter(), window.end) - window.start
    result.duration = max(measured, 1e-9)
    return result


# --------------------------------------------------------------------------------------------
# the canned-response server (the client's own ceiling)

_CANNED = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n"
    b'{"status":"ok"}'
)


class _Canned(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        count = self.buffer.count(b"\r\n\r\n")
        if count:
            self.buffer = self.buffer[self.buffer.rfind(b"\r\n\r\n") + 4 :]
            self.transport.write(_CANNED * count)


def canned_server(port: int) -> None:
    """Answer every request with the same 200 as fast as asyncio allows (GET only)."""

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Canned, HOST, port)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


# --------------------------------------------------------------------------------------------
# server processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def clean_environment(**extra: str) -> dict[str, str]:
    """The parent's environment without JWTKIT_*/BASELINE_* variables, plus ``extra``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("JWTKIT_", "BASELINE_", "SERVICE_BENCH_"))
    }
    env.update(extra)
    return env


class Servers:
    """Started server processes (each in its own process group), all stopped on exit."""

    def __init__(self, workdir: Path, server_cpus: set[int] | None) -> None:
        self.workdir = workdir
        self.server_cpus = server_cpus
        self.running: list[tuple[str, subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, argv: list[str], env: Mapping[str, str]) -> subprocess.Popen[bytes]:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                argv,
                cwd=self.workdir,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if self.server_cpus and hasattr(os, "sched_setaffinity"):
            with contextlib.suppress(OSError):
                os.sched_setaffinity(process.pid, self.server_cpus)
        self.running.append((name, process, log))
        return process

    def log_tail(self, process: subprocess.Popen[bytes], lines: int = 30) -> str:
        for _, candidate, log in self.running:
            if candidate is process:
                text = log.read_text(errors="replace").splitlines()
                return "\n".join(text[-lines:])
        return ""

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        """SIGTERM to the process group, SIGKILL after 10 s; forget the process."""
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        else:
            # The leader is gone; its workers may not be.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        self.running = [entry for entry in self.running if entry[1] is not process]

    def stop_all(self) -> None:
        for _, process, _ in list(self.running):
            self.stop(process)


async def wait_ready(
    servers: Servers, process: subprocess.Popen[bytes], port: int, path: str
) -> None:
    """Poll ``GET path`` until the server answers (any HTTP status) or fail."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited with status {process.returncode}:\n{servers.log_tail(process)}"
            )
        with contextlib.suppress(OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            await fetch(port, http_get(path), timeout=2.0)
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"server not ready after {START_TIMEOUT:g} s:\n{servers.log_tail(process)}")


@dataclass
class Config:
    duration: float
    sweep_duration: float
    warmup: float
    connections: int
    login_connections: int
    workers: int
    log_level: str
    profile: bool


def jwtkit_env(argon2: tuple[int, int, int], kek: str, profile_out: Path | None) -> dict[str, str]:
    env = clean_environment(
        JWTKIT_KEY_ENCRYPTION_KEY=kek,
        JWTKIT_ARGON2_TIME_COST=str(argon2[0]),
        JWTKIT_ARGON2_MEMORY_COST=str(argon2[1]),
        JWTKIT_ARGON2_PARALLELISM=str(argon2[2]),
    )
    if profile_out is not None:
        env[PROFILE_ENV] = str(profile_out)
    return env


async def create_database(path: Path) -> None:
    """A new, empty jwtkit database (schema only), as the first start of the service makes."""
    from jwtkit.server.storage import open_store

    store = open_store(str(path), access="create")
    await store.open()
    await store.close()


def jwtkit_cli(args: list[str], env: Mapping[str, str], cwd: Path, stdin: str = "") -> str:
    """Run a ``jwtkit`` admin command; its stdout."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-c", _SERVE, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=dict(env),
        cwd=cwd,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"jwtkit {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done.stdout


@dataclass
class Jwtkit:
    """A running ``jwtkit serve`` with a user and a confidential client."""

    port: int
    process: subprocess.Popen[bytes]
    client_secret: str


async def start_jwtkit(
    servers: Servers,
    config: Config,
    argon2: tuple[int, int, int],
    name: str,
    profile_out: Path | None = None,
    what_if: str = "",
) -> Jwtkit:
    """A fresh database (user and client created with the admin commands), then ``serve``
    (under cProfile with ``profile_out``; patched by the ``what_if`` experiments)."""
    database = servers.workdir / f"{name}-{secrets.token_hex(4)}.db"
    env = jwtkit_env(argon2, secrets.token_urlsafe(32), profile_out)
    if what_if:
        env[WHAT_IF_ENV] = what_if
    store = ["--database", str(database)]
    await create_database(database)  # the admin commands never create one
    jwtkit_cli(
        ["users", "add", USERNAME, "--password-stdin", *store], env, servers.workdir, PASSWORD
    )
    added = jwtkit_cli(
        ["clients", "add", CLIENT_ID, "--scope", CLIENT_SCOPE, *store], env, servers.workdir
    )
    secret = next(
        line.split(":", 1)[1].strip()
        for line in added.splitlines()
        if line.startswith("client_secret:")
    )
    port = free_port()
    code = _SERVE if profile_out is None else _SERVE_PROFILED
    if what_if:
        code = _WHAT_IF + code
    argv = [sys.executable, "-c", code, "serve", "--host", HOST, "--port", str(port), *store]
    argv += ["--workers", str(config.workers), "--log-level", config.log_level]
    process = servers.start(name, argv, env)
    await wait_ready(servers, process, port, "/healthz")
    return Jwtkit(port, process, secret)


@dataclass
class Baseline:
    port: int
    process: subprocess.Popen[bytes]


async def start_baseline(
    servers: Servers, config: Config, argon2: tuple[int, int, int], name: str
) -> Baseline:
    env = clean_environment(
        BASELINE_SECRET_KEY=secrets.token_hex(32),
        BASELINE_USERNAME=USERNAME,
        BASELINE_PASSWORD=PASSWORD,
        BASELINE_ARGON2_TIME_COST=str(argon2[0]),
        BASELINE_ARGON2_MEMORY_COST=str(argon2[1]),
        BASELINE_ARGON2_PARALLELISM=str(argon2[2]),
    )
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "baseline_app:app"]
    argv += ["--host", HOST, "--port", str(port), "--workers", str(config.workers)]
    argv += ["--log-level", config.log_level]
    process = servers.start(name, argv, env)
    await wait_ready(servers, process, port, "/users/me")
    return Baseline(port, process)


# --------------------------------------------------------------------------------------------
# scenarios


def jwtkit_login_request() -> bytes:
    form = {"grant_type": "password", "username": USERNAME, "password": PASSWORD}
    return http_post_form("/token", form)


def baseline_login_request() -> bytes:
    return http_post_form("/token", {"username": USERNAME, "password": PASSWORD})


def client_credentials_request(secret: str) -> bytes:
    headers = {"Authorization": basic_auth(CLIENT_ID, secret)}
    return http_post_form("/token", {"grant_type": "client_credentials"}, headers)


async def jwtkit_logins(port: int, count: int) -> list[dict[str, Any]]:
    """``count`` password-grant logins (a few at a time): each starts a refresh family."""
    gate = asyncio.Semaphore(4)

    async def one() -> dict[str, Any]:
        async with gate:
            answer: dict[str, Any] = await fetch_json(port, jwtkit_login_request())
            return answer

    return list(await asyncio.gather(*(one() for _ in range(count))))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def describe(result: Result) -> str:
    return (
        f"  {result.server:8} {result.scenario:32} {result.rate:9,.0f} req/s  "
        f"p50 {result.percentile(0.5) * 1e3:8.2f} ms  p99 {result.percentile(0.99) * 1e3:8.2f} ms"
        f"  errors {result.errors}"
    )


async def measure(
    port: int,
    jobs: Sequence[Job],
    duration: float,
    scenario: str,
    server: str,
    warmup: float,
) -> Result:
    result = await run_load(port, jobs, duration, scenario=scenario, server=server, warmup=warmup)
    log(describe(result))
    return result


async def client_ceiling(servers: Servers, config: Config) -> Result:
    port = free_port()
    process = servers.start(
        "canned",
        [sys.executable, str(Path(__file__).resolve()), "--canned-server", str(port)],
        clean_environment(),
    )
    try:
        await wait_ready(servers, process, port, "/")
        jobs = [Job(http_get("/userinfo")) for _ in range(config.connections)]
        return await measure(
            port, jobs, min(config.duration, 5.0), "canned response", "canned", config.warmup
        )
    finally:
        servers.stop(process)


@dataclass
class SweepRow:
    """One Argon2 setting of the login sweep."""

    argon2: tuple[int, int, int]
    verify_seconds: float  # one Argon2id verify in this process, on the load generator's CPUs
    login: Result
    client_credentials: Result
    baseline_login: Result


@dataclass
class Report:
    info: dict[str, Any]
    config: Config
    ceiling: Result | None = None
    main: list[Result] = field(default_factory=list)
    sweep: list[SweepRow] = field(default_factory=list)
    profile: str = ""


def merged(parts: Sequence[Result]) -> Result:
    """One result from interleaved segments of the same scenario on the same server."""
    first = parts[0]
    result = Result(first.scenario, first.server, first.connections, 0.0)
    for part in parts:
        result.latencies.extend(part.latencies)
        result.duration += part.duration
        result.errors += part.errors
        result.error_kinds.update(part.error_kinds)
    return result


def bearer(path: str, token: str) -> Job:
    return Job(http_get(path, {"Authorization": f"Bearer {token}"}))


async def userinfo_side_by_side(
    jwtkit_port: int,
    jwtkit_tokens: Sequence[str],
    baseline_port: int,
    baseline_token: str,
    config: Config,
    label: str = "GET /userinfo",
) -> tuple[Result, Result]:
    """Scenario 1, interleaved (baseline, jwtkit, baseline, jwtkit: half the duration each),
    so that a slow patch of the machine does not land on one side only."""
    half, connections = config.duration / 2, config.connections
    base_parts, jwtkit_parts = [], []
    for _ in range(2):
        jobs = [bearer("/users/me", baseline_token) for _ in range(connections)]
        base_parts.append(
            await run_load(
                baseline_port,
                jobs,
                half,
                scenario="GET /users/me",
                server="baseline",
                warmup=config.warmup,
            )
        )
        jobs = [
            bearer("/userinfo", jwtkit_tokens[i % len(jwtkit_tokens)]) for i in range(connections)
        ]
        jwtkit_parts.append(
            await run_load(
                jwtkit_port, jobs, half, scenario=label, server="jwtkit", warmup=config.warmup
            )
        )
    base, ours = merged(base_parts), merged(jwtkit_parts)
    log(describe(base))
    log(describe(ours))
    return base, ours


async def main_scenarios(servers: Servers, config: Config, report: Report) -> None:
    """Scenarios 1-3 at the default Argon2 parameters."""
    connections, duration, warmup = config.connections, config.duration, config.warmup
    log("starting the servers (default Argon2 parameters)...")
    service = await start_jwtkit(servers, config, DEFAULT_ARGON2, "jwtkit")
    baseline = await start_baseline(servers, config, DEFAULT_ARGON2, "baseline")
    try:
        logins = await jwtkit_logins(service.port, connections)
        base_token = (await fetch_json(baseline.port, baseline_login_request()))["access_token"]
        # 1. the protected resource: one access token per connection on jwtkit (so that
        #    nothing could profit from seeing one token only); the tutorial's tokens of one
        #    user differ only in exp, one is used for all.
        tokens = [answer["access_token"] for answer in logins]
        report.main.extend(
            await userinfo_side_by_side(service.port, tokens, baseline.port, base_token, config)
        )
        # The floor: the same app's cheapest FastAPI route (no token, no database).
        jobs = [Job(http_get("/healthz")) for _ in range(connections)]
        floor = await measure(
            service.port, jobs, duration / 2, "GET /healthz (floor)", "jwtkit", warmup
        )
        report.main.append(floor)
        # 2. refresh with rotation: one chain per connection
        chains = [RefreshJob(answer["refresh_token"]) for answer in logins]
        report.main.append(
            await measure(
                service.port, chains, duration, "POST /token refresh_token", "jwtkit", warmup
            )
        )
        # 3. client_credentials with client_secret_basic: Argon2-bound, fewer connections
        raw = client_credentials_request(service.client_secret)
        report.main.append(
            await measure(
                service.port,
                [Job(raw) for _ in range(config.login_connections)],
                duration,
                "POST /token client_credentials",
                "jwtkit",
                warmup,
            )
        )
    finally:
        servers.stop(service.process)
        servers.stop(baseline.process)


async def login_sweep(servers: Servers, config: Config, report: Report) -> None:
    """Logins/s (and client_credentials/s) for each Argon2 setting, jwtkit and baseline."""
    duration, warmup = config.sweep_duration, min(config.warmup, 0.5)
    connections = config.login_connections
    for time_cost, memory_cost in ARGON2_SWEEP:
        argon2 = (time_cost, memory_cost, DEFAULT_ARGON2[2])
        log(f"login sweep: time_cost={time_cost}, memory_cost={memory_cost} KiB...")
        service = await start_jwtkit(servers, config, argon2, f"jwtkit-t{time_cost}")
        try:
            login = await measure(
                service.port,
                [Job(jwtkit_login_request()) for _ in range(connections)],
                duration,
                f"password login t={time_cost} m={memory_cost}",
                "jwtkit",
                warmup,
            )
            raw = client_credentials_request(service.client_secret)
            credentials = await measure(
                service.port,
                [Job(raw) for _ in range(connections)],
                duration,
                f"client_credentials t={time_cost} m={memory_cost}",
                "jwtkit",
                warmup,
            )
        finally:
            servers.stop(service.process)
        baseline = await start_baseline(servers, config, argon2, f"baseline-t{time_cost}")
        try:
            base_login = await measure(
                baseline.port,
                [Job(baseline_login_request()) for _ in range(connections)],
                duration,
                f"password login t={time_cost} m={memory_cost}",
                "baseline",
                warmup,
            )
        finally:
            servers.stop(baseline.process)
        report.sweep.append(
            SweepRow(argon2, argon2_verify_time(argon2), login, credentials, base_login)
        )


def argon2_verify_time(argon2: tuple[int, int, int]) -> float:
    """Seconds for one Argon2id verify with these parameters, in this process."""
    from argon2 import PasswordHasher as Argon2Hasher
    from argon2 import Type

    time_cost, memory_cost, parallelism = argon2
    hasher = Argon2Hasher(
        time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
    )
    stored = hasher.hash(PASSWORD)
    best = math.inf
    for _ in range(5):
        started = perf_counter()
        hasher.verify(stored, PASSWORD)
        best = min(best, perf_counter() - started)
    return best


# --------------------------------------------------------------------------------------------
# where /userinfo's time goes


def _timeit(call: Callable[[], Any], seconds: float = 0.5) -> float:
    """Seconds per call (best of 3 batches of about ``seconds / 3``)."""
    count = 1
    while True:
        started = perf_counter()
        for _ in range(count):
            call()
        elapsed = perf_counter() - started
        if elapsed > 0.02:
            break
        count *= 4
    count = max(int(count * (seconds / 3) / elapsed), 1)
    best = math.inf
    for _ in range(3):
        started = perf_counter()
        for _ in range(count):
            call()
        best = min(best, (perf_counter() - started) / count)
    return best


async def _atimeit(call: Callable[[], Any], seconds: float = 0.5) -> float:
    """Seconds per awaited call (best of 3 batches)."""
    count = 200
    best = math.inf
    for _ in range(3):
        started = perf_counter()
        for _ in range(count):
            await call()
        elapsed = perf_counter() - started
        best = min(best, elapsed / count)
        count = max(int(count * (seconds / 3) / max(elapsed, 1e-9)), 1)
    return best


async def userinfo_breakdown(workdir: Path) -> list[tuple[str, float]]:
    """Time each step of ``GET /userinfo`` in this process (no HTTP server, no network)."""
    import httpx
    import jwt as pyjwt
    from argon2 import PasswordHasher as Argon2Hasher

    from jwtkit.server.app import create_app
    from jwtkit.server.config import Settings
    from jwtkit.server.models import User

    sys.path.insert(0, str(HERE))
    os.environ.setdefault("BASELINE_ARGON2_TIME_COST", "1")
    os.environ.setdefault("BASELINE_ARGON2_MEMORY_COST", "1024")
    import baseline_app

    settings = Settings(
        database=str(workdir / "profile.db"),
        key_encryption_key=secrets.token_urlsafe(32),
        argon2_time_cost=1,
        argon2_memory_cost=1024,
    )
    app = create_app(settings)
    rows: list[tuple[str, float]] = []
    async with app.router.lifespan_context(app):
        service = app.state.service
        user_hash = Argon2Hasher(time_cost=1, memory_cost=1024).hash(PASSWORD)
        await service.store.add_user(User("u1", USERNAME, user_hash, time.time()))
        token = service._access_response("u1", "first-party", "openid", time.time())["access_token"]
        verifier = service._access_verifier()
        claims = verifier.decode(token)
        base_token = baseline_app.create_access_token({"sub": USERNAME})
        key = baseline_app.SECRET_KEY
        rows.append(
            (
                "baseline: PyJWT HS256 `jwt.decode`",
                _timeit(lambda: pyjwt.decode(base_token, key, algorithms=["HS256"])),
            )
        )
        rows.append(
            (
                "jwtkit: ES256 `Verifier.decode` (signature + claims)",
                _timeit(lambda: verifier.decode(token)),
            )
        )
        rows.append(
            (
                "jwtkit: `store.is_jti_revoked` (SQLite via anyio thread)",
                await _atimeit(lambda: service.store.is_jti_revoked(claims["jti"], time.time())),
            )
        )
        rows.append(
            (
                "jwtkit: `store.user_by_id` (SQLite via anyio thread)",
                await _atimeit(lambda: service.store.user_by_id("u1")),
            )
        )
        rows.append(
            (
                "jwtkit: `TokenService.verify_access_token` (all of the above)",
                await _atimeit(lambda: service.verify_access_token(token)),
            )
        )
        store_class = type(service.store)
        threaded = store_class._read

        async def inline_read(self: Any, operation: Callable[[Any], Any]) -> Any:
            return self._call(operation)

        store_class._read = inline_read
        try:
            inline = await _atimeit(
                lambda: service.store.is_jti_revoked(claims["jti"], time.time())
            )
            inline += await _atimeit(lambda: service.store.user_by_id("u1"))
            rows.append(("jwtkit: the same two reads on the event loop (no thread)", inline))
            rows.append(
                (
                    "jwtkit: `verify_access_token` with the reads on the event loop",
                    await _atimeit(lambda: service.verify_access_token(token)),
                )
            )
        finally:
            store_class._read = threaded
        headers = {"Authorization": f"Bearer {token}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://jwtkit") as client:
            rows.append(
                (
                    "jwtkit: whole ASGI app, `GET /userinfo` (httpx ASGITransport)",
                    await _atimeit(lambda: client.get("/userinfo", headers=headers)),
                )
            )
            rows.append(
                (
                    "jwtkit: whole ASGI app, `GET /healthz` (no token, no database)",
                    await _atimeit(lambda: client.get("/healthz")),
                )
            )
        base_headers = {"Authorization": f"Bearer {base_token}"}
        transport = httpx.ASGITransport(app=baseline_app.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://base") as client:
            rows.append(
                (
                    "baseline: whole ASGI app, `GET /users/me` (httpx ASGITransport)",
                    await _atimeit(lambda: client.get("/users/me", headers=base_headers)),
                )
            )
            rows.append(
                (
                    "httpx ASGITransport itself (a 404 on the baseline app)",
                    await _atimeit(lambda: client.get("/nowhere")),
                )
            )
    return rows


async def what_if_userinfo(servers: Servers, config: Config) -> list[tuple[str, Result, Result]]:
    """/userinfo with each :data:`WHAT_IF` experiment, side by side with the baseline."""
    cheap = (1, 19456, 4)  # Argon2 plays no part in /userinfo; quick logins for the tokens
    short = Config(**{**config.__dict__, "duration": min(config.duration, 6.0)})
    baseline = await start_baseline(servers, config, cheap, "baseline-what-if")
    rows = []
    try:
        base_token = (await fetch_json(baseline.port, baseline_login_request()))["access_token"]
        for what_if, label in WHAT_IF:
            service = await start_jwtkit(
                servers, config, cheap, f"jwtkit-{what_if or 'plain'}", what_if=what_if
            )
            try:
                logins = await jwtkit_logins(service.port, config.connections)
                tokens = [answer["access_token"] for answer in logins]
                base, ours = await userinfo_side_by_side(
                    service.port, tokens, baseline.port, base_token, short, f"/userinfo: {label}"
                )
                rows.append((label, base, ours))
            finally:
                servers.stop(service.process)
    finally:
        servers.stop(baseline.process)
    return rows


async def profiled_userinfo(servers: Servers, config: Config) -> str:
    """cProfile of a single-worker ``jwtkit serve`` under the /userinfo load."""
    out = servers.workdir / "userinfo.prof"
    single = Config(**{**config.__dict__, "workers": 1})
    service = await start_jwtkit(servers, single, DEFAULT_ARGON2, "jwtkit-profiled", out)
    try:
        logins = await jwtkit_logins(service.port, 4)
        jobs = [
            Job(http_get("/userinfo", {"Authorization": f"Bearer {logins[i % 4]['access_token']}"}))
            for i in range(config.connections)
        ]
        await measure(
            service.port, jobs, min(config.duration, 5.0), "GET /userinfo (cProfile)", "jwtkit", 0.5
        )
    finally:
        servers.stop(service.process)
    if not out.exists():
        return "(no profile written)"
    text = io.StringIO()
    stats = pstats.Stats(str(out), stream=text)
    stats.sort_stats("tottime").print_stats(25)
    return text.getvalue()


# --------------------------------------------------------------------------------------------
# the report


def _cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"


def _filesystem(path: Path) -> str:
    """The filesystem type under ``path`` (SQLite's fsyncs depend on it)."""
    best, kind = "", "unknown"
    with contextlib.suppress(OSError), open("/proc/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            parts = line.split()
            if len(parts) > 2 and str(path).startswith(parts[1]) and len(parts[1]) > len(best):
                best, kind = parts[1], parts[2]
    return kind


def machine_info(workdir: Path) -> dict[str, Any]:
    versions = {}
    for dist in (
        "jwtkit",
        "fastapi",
        "starlette",
        "uvicorn",
        "h11",
        "pydantic",
        "PyJWT",
        "argon2-cffi",
        "cryptography",
    ):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    optional = {name: _installed(name) for name in ("uvloop", "httptools")}
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
        "optional": optional,
        "filesystem": _filesystem(workdir),
    }


def _installed(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1e3:,.2f}"


def _row(result: Result) -> str:
    errors = str(result.errors)
    if result.error_kinds:
        errors += " (" + ", ".join(f"{k}: {v}" for k, v in result.error_kinds.items()) + ")"
    return (
        f"| {result.server} | {result.scenario} | {result.connections} | {result.rate:,.0f} | "
        f"{_ms(result.percentile(0.5))} | {_ms(result.percentile(0.99))} | "
        f"{result.requests:,} | {errors} |"
    )


def _uvicorn_stack(info: Mapping[str, Any]) -> str:
    """The parser and loop both servers run on: ``jwtkit serve`` selects httptools and uvloop
    when they are installed, and uvicorn's defaults (the baseline's) pick them too."""
    parser = "httptools" if info["optional"]["httptools"] else "h11"
    loop = "uvloop" if info["optional"]["uvloop"] else "asyncio"
    return f"{parser} parser, {loop} loop"


def render(report: Report) -> str:
    info, config = report.info, report.config
    versions = ", ".join(f"{name} {version}" for name, version in info["versions"].items())
    load = ", ".join(f"{x:g}" for x in info["load_average_at_start"])
    end_load = ", ".join(f"{x:g}" for x in info.get("load_average_at_end", ()))
    extras = ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in info["optional"].items())
    out = [
        "# jwtkit token service under load",
        "",
        f"- Date: {info['date']}",
        f"- CPU: {info['cpu']} ({info['logical_cpus']} logical CPUs); {info['pinning']}",
        f"- Python: {info['python']} on {info['platform']}",
        f"- Libraries: {versions}; {extras} (both servers on uvicorn's {_uvicorn_stack(info)})",
        f"- Load average (1, 5, 15 min) at start: {load}; at the end: {end_load} "
        "(other processes on these CPUs change every number)",
        f"- Servers: uvicorn, {config.workers} worker(s) each, log level {config.log_level} "
        "(no access log), 127.0.0.1; jwtkit on a fresh SQLite file on "
        f"{info['filesystem']} (synchronous=FULL, the default)",
        f"- Load: {config.connections} keep-alive HTTP/1.1 connections (raw asyncio streams), "
        f"{config.warmup:g} s warm-up then {config.duration:g} s measured per scenario; "
        f"Argon2-bound requests (logins, client_credentials): {config.login_connections} "
        f"connections (login sweep: {config.sweep_duration:g} s each); "
        "/userinfo and /users/me interleaved (B J B J, half the time each); "
        "latency = request written to response read; errors = anything but 2xx",
        "",
    ]
    if report.ceiling is not None:
        ceiling = report.ceiling
        busiest = max((r.rate for r in report.main), default=0.0)
        share = busiest / ceiling.rate if ceiling.rate else math.nan
        out += [
            "## The load generator's ceiling",
            "",
            f"Against a canned-response asyncio server: **{ceiling.rate:,.0f} req/s** "
            f"(p50 {_ms(ceiling.percentile(0.5))} ms, {ceiling.connections} connections). "
            f"The busiest scenario below used {share:.0%} of it"
            + (": the client is not the bottleneck." if share < 0.5 else ": CLIENT-BOUND?"),
            "",
        ]
    if report.main:
        out += [
            "## Scenarios (Argon2 t=3, m=65536 KiB, p=4: jwtkit's defaults, on both)",
            "",
            "| server | request | connections | req/s | p50 ms | p99 ms | requests | errors |",
            "|---|---|---:|---:|---:|---:|---:|---|",
        ]
        out += [_row(result) for result in report.main]
        by_name = {(r.server, r.scenario): r for r in report.main}
        jwtkit_rate = by_name[("jwtkit", "GET /userinfo")].rate
        base_rate = by_name[("baseline", "GET /users/me")].rate
        ratio = jwtkit_rate / base_rate if base_rate else math.nan
        verdict = "PASS" if ratio >= 1.5 else "MISS"
        out += [
            "",
            f"**/userinfo: jwtkit / baseline = {ratio:.2f}x** (target >= 1.5x): **{verdict}**",
            "",
        ]
    if report.sweep:
        out += [
            "## Login throughput and the Argon2 parameters (parallelism 4)",
            "",
            "| time_cost | memory_cost (KiB) | one Argon2id verify, ms | "
            "jwtkit logins/s (n) | p50 ms | p99 ms | baseline logins/s (n) | p50 ms | p99 ms | "
            "jwtkit client_credentials/s (n) | errors |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in report.sweep:
            login, credentials, base = row.login, row.client_credentials, row.baseline_login
            errors = login.errors + credentials.errors + base.errors
            out.append(
                f"| {row.argon2[0]} | {row.argon2[1]} | {row.verify_seconds * 1e3:,.1f} | "
                f"{login.rate:,.1f} ({login.requests}) | "
                f"{_ms(login.percentile(0.5))} | {_ms(login.percentile(0.99))} | "
                f"{base.rate:,.1f} ({base.requests}) | {_ms(base.percentile(0.5))} | "
                f"{_ms(base.percentile(0.99))} | "
                f"{credentials.rate:,.1f} ({credentials.requests}) | {errors} |"
            )
        out.append("")
    if report.profile:
        out += ["## Where /userinfo's time goes", "", report.profile, ""]
    return "\n".join(out)


def render_breakdown(rows: list[tuple[str, float]]) -> str:
    lines = ["| step (in-process, no HTTP server) | us/call |", "|---|---:|"]
    lines += [f"| {name} | {seconds * 1e6:,.1f} |" for name, seconds in rows]
    return "\n".join(lines)


def render_what_if(rows: list[tuple[str, Result, Result]]) -> str:
    lines = [
        "What the proposed changes would give (experiments patched into the server process, "
        "each side by side with the baseline):",
        "",
        "| jwtkit /userinfo | req/s | p50 ms | p99 ms | baseline req/s | ratio | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, base, ours in rows:
        ratio = ours.rate / base.rate if base.rate else math.nan
        lines.append(
            f"| {label} | {ours.rate:,.0f} | {_ms(ours.percentile(0.5))} | "
            f"{_ms(ours.percentile(0.99))} | {base.rate:,.0f} | {ratio:.2f}x | "
            f"{ours.errors + base.errors} |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# main


def _cpu_split(workers: int, pin: bool) -> tuple[set[int] | None, set[int] | None, str]:
    """(server CPUs, client CPUs, description): servers on the first ``workers`` CPUs."""
    if not pin or not hasattr(os, "sched_getaffinity"):
        return None, None, "no CPU pinning"
    available = sorted(os.sched_getaffinity(0))
    if len(available) <= workers:
        return None, None, "no CPU pinning (not enough CPUs)"
    server, client = set(available[:workers]), set(available[workers:])
    return (
        server,
        client,
        f"servers pinned to CPU {sorted(server)}, load generator to {sorted(client)}",
    )


@contextlib.contextmanager
def _terminate_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt, so that ``finally`` blocks stop the servers."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s per scenario, 2 s per login run")
    parser.add_argument("--duration", type=float, help="measured seconds per scenario (10)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument(
        "--login-connections", type=int, default=8, help="connections for the login runs"
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers per server")
    parser.add_argument(
        "--log-level", default="warning", help="both servers' log level (warning: no access log)"
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin CPUs")
    parser.add_argument("--skip-sweep", action="store_true", help="no Argon2 login sweep")
    parser.add_argument(
        "--profile", action="store_true", help="also break /userinfo down and cProfile it"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the raw numbers")
    parser.add_argument("--canned-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.connections < 1 or args.login_connections < 1 or args.workers < 1:
        parser.error("--connections, --login-connections and --workers must be >= 1")
    return args


async def run(config: Config, servers: Servers, report: Report) -> None:
    log("measuring the load generator's ceiling...")
    report.ceiling = await client_ceiling(servers, config)
    await main_scenarios(servers, config, report)
    if config.sweep_duration > 0:
        await login_sweep(servers, config, report)
    if config.profile:
        log("profiling /userinfo...")
        rows = await userinfo_breakdown(servers.workdir)
        profile = await profiled_userinfo(servers, config)
        what_ifs = await what_if_userinfo(servers, config)
        report.profile = (
            render_breakdown(rows)
            + "\n\n"
            + render_what_if(what_ifs)
            + "\n\ncProfile of the server's event-loop thread, by own time:\n\n```\n"
            + profile.strip()
            + "\n```"
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.canned_server is not None:
        canned_server(args.canned_server)
        return 0
    duration = args.duration or (3.0 if args.quick else 10.0)
    config = Config(
        duration=duration,
        sweep_duration=0.0 if args.skip_sweep else (2.0 if args.quick else 4.0),
        warmup=0.5 if args.quick else 1.0,
        connections=args.connections,
        login_connections=args.login_connections,
        workers=args.workers,
        log_level=args.log_level,
        profile=args.profile,
    )
    server_cpus, client_cpus, pinning = _cpu_split(args.workers, not args.no_pin)
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="jwtkit-service-bench-") as tmp,
        _terminate_on_sigterm(),
    ):
        workdir = Path(tmp)
        servers = Servers(workdir, server_cpus)
        report = Report(machine_info(workdir), config)
        report.info["pinning"] = pinning
        if client_cpus:
            os.sched_setaffinity(0, client_cpus)
        try:
            asyncio.run(run(config, servers, report))
        except KeyboardInterrupt:
            log("interrupted: stopping the servers")
            return 130
        finally:
            servers.stop_all()
    report.info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(render(report))
    log(f"total {time.monotonic() - started:.0f} s")
    if args.json:
        raw = {
            "info": report.info,
            "config": config.__dict__,
            "results": [
                {
                    "server": r.server,
                    "scenario": r.scenario,
                    "req_per_s": r.rate,
                    "p50_ms": r.percentile(0.5) * 1e3,
                    "p99_ms": r.percentile(0.99) * 1e3,
                    "requests": r.requests,
                    "errors": r.errors,
                }
                for r in [
                    *([report.ceiling] if report.ceiling else []),
                    *report.main,
                    *(
                        x
                        for row in report.sweep
                        for x in (row.login, row.client_credentials, row.baseline_login)
                    ),
                ]
            ],
        }
        text = json.dumps(raw, indent=2)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
