"""The token service on each HTTP stack, side by side: which server to run it on.

The same app (``jwtkit.server``, a fresh SQLite database per server) served by:

* ``uvicorn + h11 + asyncio``: ``jwtkit serve`` with httptools and uvloop made unimportable,
  i.e. what it falls back to without them (and what it ran on before they joined the
  ``server`` extra);
* ``uvicorn + httptools + uvloop``: ``jwtkit serve`` as installed (what it selects);
* ``granian`` (its ASGI interface and default event loop, uvloop when importable) on the app
  factory that ``jwtkit serve --workers N`` hands to uvicorn, when granian is installed (the
  ``bench`` dependency group has it; jwtkit does not depend on it);

each with one worker, on a bare ASGI app answering ``{"status":"ok"}`` (no framework: what the
server alone costs), ``GET /healthz`` (the service's cheapest route: no token, no database),
``GET /userinfo`` (a valid access token; one per connection, cycled) and the refresh grant
(``POST /token grant_type=refresh_token``: every connection presents the refresh token its
previous request returned, so that every request is a rotation). Then ``jwtkit serve`` with
one worker against two, and the FastAPI + PyJWT tutorial app (``baseline_app.py``) on
``GET /users/me``, run as its tutorial runs it: ``uvicorn`` (``fastapi run`` is uvicorn with
its defaults), which picks httptools and uvloop when they are installed, as
``pip install "fastapi[standard]"`` (FastAPI's install instructions) installs them; and the same
app with ``--http h11 --loop asyncio``, as after a bare ``pip install fastapi uvicorn``.

The load comes from ``wrk`` (Debian's package: ``apt-get install wrk``) when it is on PATH: in C,
one thread on its own CPU, it spends far less per request than a Python client, so the
servers are measured and not the client (both clients' ceilings against a canned-response
server are printed). The refresh grant is always driven by the asyncio client of
``service.py``, which keeps one refresh-token chain per connection: wrk cannot (its Lua
``request()`` does not know its connection, and wrk may call it without sending what it
returns, which loses a single-use token). ``--client python`` uses the asyncio client for
everything. Every server runs from the start (idle when not measured); each row is measured in
two halves taken in turn with the other rows of its table (A B C, A B C), so that a slow patch
of the machine does not land on one row only. With one worker the servers are pinned to the
first CPU and the load generator to the others.

Usage::

    python benchmarks/http_stack.py                 # about 5 minutes, Markdown on stdout
    python benchmarks/http_stack.py --quick         # 4 s per row (about 3 minutes)
    python benchmarks/http_stack.py --profile       # also: the app's share of a request's CPU
    python benchmarks/http_stack.py --json out.json # also write the raw numbers

No timing here is a test: nothing in this directory is collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import service
from service import HOST, Job, RefreshJob, Servers, http_get, log

__all__ = ["main"]

#: Argon2 plays no part in the measured requests; cheap parameters make the set-up logins quick.
ARGON2 = (1, 19456, 4)
H11 = "uvicorn + h11 + asyncio"
#: What ``jwtkit serve`` selects: measured with one and with two workers too.
DEFAULT_STACK = "uvicorn + httptools + uvloop"
GRANIAN = "granian"

# ``jwtkit serve`` without uvloop and httptools: what it does where they are not installed.
_WITHOUT_FAST_STACK = """
import sys
sys.modules["uvloop"] = None
sys.modules["httptools"] = None
"""
# granian on an app factory (by default the one ``jwtkit serve --workers N`` gives uvicorn,
# which reads the settings from JWTKIT_*).
_GRANIAN = """
import sys
from granian import Granian
from granian.constants import Interfaces
host, port, workers, target, factory = sys.argv[1:6]
Granian(
    target,
    address=host,
    port=int(port),
    interface=Interfaces.ASGI,
    workers=int(workers),
    factory=factory == "factory",
    log_level="warning",
).serve()
"""
# uvicorn on the bare app, with the parser and loop of the stack.
_UVICORN_BARE = """
import sys
import uvicorn
host, port, http, loop, log_level = sys.argv[1:6]
uvicorn.run("bare_app:app", host=host, port=int(port), http=http, loop=loop, log_level=log_level)
"""
# The bare ASGI app (a module in the work folder): the answer of GET /healthz, headers and all,
# with no framework, no middleware, no routing.
_BARE_APP = """
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({
        "type": "http.response.start",
        "status": 200,
        "headers": [
            (b"content-length", b"15"),
            (b"content-type", b"application/json"),
            (b"x-content-type-options", b"nosniff"),
        ],
    })
    await send({"type": "http.response.body", "body": b'{"status":"ok"}'})
"""

# wrk's script: bearer (cycle through the tokens of a file) or plain GET; done() writes the
# numbers as one JSON line. (The refresh grant goes to the asyncio client: see the docstring.)
_WRK_SCRIPT = r"""
local mode, path, tokens, turn = "get", "/", {}, 1

function init(args)
  mode, path = args[1], args[2]
  if args[3] then
    for line in io.lines(args[3]) do tokens[#tokens + 1] = line end
  end
end

function request()
  if mode == "bearer" then
    local token = tokens[turn]
    turn = turn % #tokens + 1
    return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
  end
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nWRK-JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
    .. '"status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50.0), latency:percentile(99.0)))
end
"""


@dataclass
class Measure:
    """One scenario on one server (its halves merged)."""

    stack: str
    scenario: str
    requests: int = 0
    duration: float = 0.0
    errors: int = 0
    p50s: list[float] = field(default_factory=list)
    p99s: list[float] = field(default_factory=list)
    cpu: float = 0.0  # the server's CPU seconds while measured

    @property
    def rate(self) -> float:
        return self.requests / self.duration if self.duration else math.nan

    @property
    def cpu_per_request(self) -> float:
        """The server's CPU seconds per request."""
        return self.cpu / self.requests if self.requests else math.nan

    def add(self, requests: int, duration: float, errors: int, p50: float, p99: float) -> None:
        self.requests += requests
        self.duration += duration
        self.errors += errors
        self.p50s.append(p50)
        self.p99s.append(p99)

    @property
    def p50(self) -> float:
        """Mean of the halves' medians, in seconds."""
        return sum(self.p50s) / len(self.p50s) if self.p50s else math.nan

    @property
    def p99(self) -> float:
        """The worse of the halves' 99th percentiles, in seconds."""
        return max(self.p99s) if self.p99s else math.nan


@dataclass
class Server:
    """A running server: its name, port, process and what its requests need."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    kind: str  # "jwtkit" or "baseline"
    stack: str = "?"


class Load:
    """The load generator: wrk (one thread, its own CPU) or the asyncio client of service.py."""

    def __init__(self, kind: str, workdir: Path, connections: int):
        self.kind = kind
        self.workdir = workdir
        self.connections = connections
        self.script = workdir / "load.lua"
        self.script.write_text(_WRK_SCRIPT, encoding="utf-8")

    async def run(
        self, port: int, mode: str, path: str, tokens: Sequence[str], duration: float
    ) -> tuple[int, float, int, float, float]:
        """(requests, seconds, errors, p50 s, p99 s) of ``duration`` seconds of load. The
        refresh grant always on the asyncio client: see the module's docstring."""
        if self.kind == "wrk" and mode != "refresh":
            return await self._wrk(port, mode, path, tokens, duration)
        return await self._python(port, mode, path, tokens, duration)

    async def _wrk(
        self, port: int, mode: str, path: str, tokens: Sequence[str], duration: float
    ) -> tuple[int, float, int, float, float]:
        token_file = self.workdir / "tokens.txt"
        token_file.write_text("".join(f"{token}\n" for token in tokens), encoding="utf-8")
        seconds = max(1, round(duration))  # wrk takes whole seconds
        argv = ["wrk", "-t1", f"-c{self.connections}", f"-d{seconds}s", "--timeout", "30s"]
        argv += ["-s", str(self.script), f"http://{HOST}:{port}{path}", "--", mode, path]
        if tokens:
            argv.append(str(token_file))
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), seconds + 60)
        text = output.decode(errors="replace")
        line = next((x for x in text.splitlines() if x.startswith("WRK-JSON ")), None)
        if process.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed ({process.returncode}):\n{text}")
        got = json.loads(line.removeprefix("WRK-JSON "))
        errors = sum(got[k] for k in ("connect", "read", "write", "status", "timeout"))
        return (
            got["requests"] - got["status"],
            got["duration_us"] / 1e6,
            errors,
            got["p50_us"] / 1e6,
            got["p99_us"] / 1e6,
        )

    async def _python(
        self, port: int, mode: str, path: str, tokens: Sequence[str], duration: float
    ) -> tuple[int, float, int, float, float]:
        jobs: list[Job]
        if mode == "refresh":
            jobs = [RefreshJob(token) for token in tokens[: self.connections]]
        elif mode == "bearer":
            jobs = [
                Job(http_get(path, {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}))
                for i in range(self.connections)
            ]
        else:
            jobs = [Job(http_get(path)) for _ in range(self.connections)]
        result = await service.run_load(port, jobs, duration, scenario=path, server="", warmup=0)
        return (
            result.requests,
            result.duration,
            result.errors,
            result.percentile(0.5),
            result.percentile(0.99),
        )


# --------------------------------------------------------------------------------------------
# the servers


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
    return found


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(server: Server) -> float:
    """CPU time (user + system) used so far by the server's processes (NaN without /proc):
    what a request costs the server, whatever else runs on the machine."""
    total = 0.0
    for pid in _tree(server.process.pid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return math.nan
        total += (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime
    return total


def loaded_stack(server: Server) -> str:
    """What the server process really runs on, from the extension modules it has loaded."""
    maps = ""
    for pid in _tree(server.process.pid):
        with contextlib.suppress(OSError):
            maps += Path(f"/proc/{pid}/maps").read_text(errors="replace")
    if not maps:
        return "unknown (no /proc)"
    if "_granian" in maps:
        loop = "uvloop" if "uvloop/loop" in maps else "asyncio"
        return f"granian ({loop} loop)"
    parser = "httptools" if "httptools/parser" in maps else "h11"
    loop = "uvloop" if "uvloop/loop" in maps else "asyncio"
    return f"uvicorn, {parser}, {loop}"


async def start_jwtkit(
    servers: Servers, name: str, stack: str, workers: int, log_level: str
) -> Server:
    """A fresh database with one user, then the service on ``stack``."""
    database = servers.workdir / f"{name}.db"
    env = service.jwtkit_env(ARGON2, service.secrets.token_urlsafe(32), None)
    await service.create_database(database)
    service.jwtkit_cli(
        ["users", "add", service.USERNAME, "--password-stdin", "--database", str(database)],
        env,
        servers.workdir,
        service.PASSWORD,
    )
    port = service.free_port()
    if stack == GRANIAN:
        env.update(
            JWTKIT_DATABASE=str(database),
            JWTKIT_LOG_LEVEL=log_level,
            JWTKIT_ISSUER=f"http://{HOST}:{port}",
        )
        argv = [sys.executable, "-c", _GRANIAN, HOST, str(port), str(workers)]
        argv += ["jwtkit.server.app:app_from_environment", "factory"]
    else:
        code = service._SERVE
        if stack == H11:
            code = _WITHOUT_FAST_STACK + code
        argv = [sys.executable, "-c", code, "serve", "--host", HOST, "--port", str(port)]
        argv += ["--database", str(database), "--workers", str(workers)]
        argv += ["--log-level", log_level]
    process = servers.start(name, argv, env)
    await service.wait_ready(servers, process, port, "/healthz")
    return Server(name, port, process, "jwtkit")


async def start_bare(servers: Servers, name: str, stack: str, log_level: str) -> Server:
    """The bare ASGI app on ``stack``, one worker."""
    (servers.workdir / "bare_app.py").write_text(_BARE_APP, encoding="utf-8")
    port = service.free_port()
    if stack == GRANIAN:
        argv = [sys.executable, "-c", _GRANIAN, HOST, str(port), "1", "bare_app:app", "app"]
    else:
        http, loop = ("h11", "asyncio") if stack == H11 else ("httptools", "uvloop")
        argv = [sys.executable, "-c", _UVICORN_BARE, HOST, str(port), http, loop, log_level]
    process = servers.start(name, argv, service.clean_environment())
    await service.wait_ready(servers, process, port, "/")
    return Server(name, port, process, "bare")


async def start_baseline(
    servers: Servers, name: str, options: Sequence[str], log_level: str
) -> Server:
    """The tutorial app under ``uvicorn`` with its defaults (plus ``options``)."""
    env = service.clean_environment(
        BASELINE_SECRET_KEY=service.secrets.token_hex(32),
        BASELINE_USERNAME=service.USERNAME,
        BASELINE_PASSWORD=service.PASSWORD,
        BASELINE_ARGON2_TIME_COST=str(ARGON2[0]),
        BASELINE_ARGON2_MEMORY_COST=str(ARGON2[1]),
        BASELINE_ARGON2_PARALLELISM=str(ARGON2[2]),
    )
    port = service.free_port()
    argv = [sys.executable, "-m", "uvicorn", "--app-dir", str(service.HERE), "baseline_app:app"]
    argv += ["--host", HOST, "--port", str(port), "--log-level", log_level, *options]
    process = servers.start(name, argv, env)
    await service.wait_ready(servers, process, port, "/users/me")
    return Server(name, port, process, "baseline")


async def access_tokens(server: Server, count: int) -> list[str]:
    if server.kind == "baseline":
        answer = await service.fetch_json(server.port, service.baseline_login_request())
        return [answer["access_token"]]
    return [answer["access_token"] for answer in await service.jwtkit_logins(server.port, count)]


async def refresh_tokens(server: Server, count: int) -> list[str]:
    return [answer["refresh_token"] for answer in await service.jwtkit_logins(server.port, count)]


# --------------------------------------------------------------------------------------------
# measuring


@dataclass
class Scenario:
    label: str
    mode: str  # "get", "bearer" or "refresh"
    path: str


BARE = Scenario("bare ASGI app: GET /", "get", "/")
SCENARIOS = (
    Scenario("GET /healthz", "get", "/healthz"),
    Scenario("GET /userinfo", "bearer", "/userinfo"),
    Scenario("POST /token refresh_token", "refresh", "/token"),
)
BASELINE_SCENARIO = Scenario("GET /users/me", "bearer", "/users/me")


async def side_by_side(
    load: Load,
    entries: Sequence[tuple[str, Server, Scenario]],
    duration: float,
    warmup: float,
) -> list[Measure]:
    """Each (label, server, scenario) for ``duration`` seconds, in two halves taken in turn,
    each after ``warmup`` seconds of the same load (not counted)."""
    measures = [Measure(label, scenario.label) for label, _, scenario in entries]
    for _ in range(2):
        for (_, server, scenario), measure in zip(entries, measures, strict=True):
            tokens: list[str] = []
            for seconds, counted in ((warmup, False), (duration / 2, True)):
                if seconds <= 0:
                    continue
                if scenario.mode == "bearer" and not tokens:
                    tokens = await access_tokens(server, load.connections)
                elif scenario.mode == "refresh":  # never present a token twice
                    tokens = await refresh_tokens(server, load.connections)
                before = cpu_seconds(server)
                got = await load.run(server.port, scenario.mode, scenario.path, tokens, seconds)
                if counted:
                    measure.add(*got)
                    measure.cpu += cpu_seconds(server) - before
    for measure in measures:
        log(
            f"  {measure.stack:34} {measure.scenario:28} {measure.rate:9,.0f} req/s  "
            f"p50 {measure.p50 * 1e3:7.2f} ms  p99 {measure.p99 * 1e3:7.2f} ms  "
            f"CPU {measure.cpu_per_request * 1e6:6.0f} us/request  errors {measure.errors}"
        )
    return measures


async def client_ceilings(servers: Servers, load: Load, duration: float) -> list[Measure]:
    """Each load generator against a canned-response asyncio server (service.py's)."""
    port = service.free_port()
    here = Path(service.__file__).resolve()
    process = servers.start(
        "canned", [sys.executable, str(here), "--canned-server", str(port)], {**os.environ}
    )
    measures = []
    try:
        await service.wait_ready(servers, process, port, "/")
        for kind in dict.fromkeys([load.kind, "python"]):
            client = Load(kind, load.workdir, load.connections)
            measure = Measure(kind if kind == "wrk" else "asyncio client", "GET /")
            measure.add(*await client.run(port, "get", "/", [], duration))
            measures.append(measure)
        return measures
    finally:
        servers.stop(process)


@dataclass
class Report:
    info: dict[str, Any]
    ceilings: list[Measure] = field(default_factory=list)
    stacks: list[Measure] = field(default_factory=list)
    workers: list[Measure] = field(default_factory=list)
    baseline: list[Measure] = field(default_factory=list)
    loaded: dict[str, str] = field(default_factory=dict)
    app_costs: list[tuple[str, float]] = field(default_factory=list)


async def run(args: argparse.Namespace, servers: Servers, load: Load, report: Report) -> None:
    duration, warmup = args.duration, args.warmup
    log(f"the load generators' ceilings ({load.kind})...")
    report.ceilings = await client_ceilings(servers, load, min(duration, 5.0))
    stacks = [H11, DEFAULT_STACK] + ([GRANIAN] if args.granian else [])
    log("starting the servers...")
    bare, running = {}, {}
    for number, stack in enumerate(stacks):
        bare[stack] = await start_bare(servers, f"bare{number}", stack, args.log_level)
        running[stack] = await start_jwtkit(servers, f"s{number}", stack, 1, args.log_level)
    bases = {
        "uvicorn defaults": await start_baseline(servers, "b0", [], args.log_level),
        "uvicorn --http h11 --loop asyncio": await start_baseline(
            servers, "b1", ["--http", "h11", "--loop", "asyncio"], args.log_level
        ),
    }
    for label, server in {**running, **bases}.items():
        report.loaded[label] = loaded_stack(server)
        log(f"  {label}: {report.loaded[label]}")
    try:
        log(f"{BARE.label}, one worker each:")
        entries = [(stack, server, BARE) for stack, server in bare.items()]
        report.stacks += await side_by_side(load, entries, duration, warmup)
        for scenario in SCENARIOS:
            log(f"{scenario.label}, one worker each:")
            entries = [(stack, server, scenario) for stack, server in running.items()]
            report.stacks += await side_by_side(load, entries, duration, warmup)
            if scenario.mode == "bearer":
                log("the tutorial app, GET /users/me:")
                entries = [(label, server, BASELINE_SCENARIO) for label, server in bases.items()]
                report.baseline += await side_by_side(load, entries, duration, warmup)
    finally:
        for server in [*bare.values(), *running.values(), *bases.values()]:
            servers.stop(server.process)
    # One against two workers: the servers are not pinned (two workers need both CPUs).
    log(f"jwtkit serve ({DEFAULT_STACK}): one worker against two (no CPU pinning)...")
    servers.server_cpus = None
    if args.all_cpus:
        os.sched_setaffinity(0, args.all_cpus)
    scaled = {}
    try:
        for workers in (1, 2):
            scaled[workers] = await start_jwtkit(
                servers, f"w{workers}", DEFAULT_STACK, workers, args.log_level
            )
        for scenario in SCENARIOS:
            entries = [
                (f"{workers} worker{'s' if workers > 1 else ''}", server, scenario)
                for workers, server in scaled.items()
            ]
            report.workers += await side_by_side(load, entries, duration, warmup)
    finally:
        for server in scaled.values():
            servers.stop(server.process)
    if args.profile:
        log("the apps alone, called in this process...")
        report.app_costs = await app_costs(servers.workdir)


# --------------------------------------------------------------------------------------------
# --profile: what the app alone costs per request (no server, no socket)


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """An HTTP scope as uvicorn builds it for a request from 127.0.0.1."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "client": (HOST, 50000),
        "server": (HOST, 8000),
        "state": {},
    }


async def _asgi_seconds(app: Any, scope: dict[str, Any], seconds: float = 1.0) -> float:
    """CPU seconds per call of ``app`` on ``scope`` (best of 3 batches after one to
    calibrate; process time, so that other processes on the CPU do not count), the answer
    checked."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def call() -> None:
        sent.clear()
        await app(dict(scope), receive, send)

    await call()
    if sent[0].get("status") != 200:
        raise RuntimeError(f"{scope['path']}: HTTP {sent[0].get('status')}: {sent[1:]}")
    count, best = 200, math.inf
    for _ in range(4):
        started = time.process_time()
        for _ in range(count):
            await call()
        elapsed = time.process_time() - started
        best = min(best, elapsed / count)
        count = max(int(count * (seconds / 3) / max(elapsed, 1e-9)), 1)
    return best


async def app_costs(workdir: Path) -> list[tuple[str, float]]:
    """Each app called directly, in this process: what a request costs above the server."""
    import httpx

    from jwtkit.server.app import create_app
    from jwtkit.server.config import Settings

    sys.path.insert(0, str(service.HERE))
    os.environ.setdefault("BASELINE_ARGON2_TIME_COST", "1")
    os.environ.setdefault("BASELINE_ARGON2_MEMORY_COST", "1024")
    import baseline_app

    (workdir / "bare_app.py").write_text(_BARE_APP, encoding="utf-8")
    sys.path.insert(0, str(workdir))
    import bare_app

    settings = Settings(
        database=str(workdir / "app-costs.db"),
        key_encryption_key=service.secrets.token_urlsafe(32),
        argon2_time_cost=1,
        argon2_memory_cost=1024,
        argon2_parallelism=1,
        allow_registration=True,
        password_grant=True,
    )
    app = create_app(settings)
    rows = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://jwtkit") as client:
            user = {"username": service.USERNAME, "password": service.PASSWORD}
            (await client.post("/users", json=user)).raise_for_status()
            form = {"grant_type": "password", **user}
            answer = (await client.post("/token", data=form)).raise_for_status().json()
        bearer = [(b"authorization", f"Bearer {answer['access_token']}".encode())]
        for label, called, scope in (
            ("bare ASGI app", bare_app.app, _scope("GET", "/", [])),
            ("jwtkit GET /healthz", app, _scope("GET", "/healthz", [])),
            ("jwtkit GET /userinfo", app, _scope("GET", "/userinfo", bearer)),
        ):
            rows.append((label, await _asgi_seconds(called, scope)))
    token = baseline_app.create_access_token({"sub": next(iter(baseline_app.fake_users_db))})
    bearer = [(b"authorization", f"Bearer {token}".encode())]
    rows.append(
        (
            "tutorial GET /users/me",
            await _asgi_seconds(baseline_app.app, _scope("GET", "/users/me", bearer)),
        )
    )
    return rows


# --------------------------------------------------------------------------------------------
# the report


def _ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1e3:,.2f}"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _us(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1e6:,.0f}"


def _x(ratio: float) -> str:
    return "-" if math.isnan(ratio) else f"{ratio:.2f}x"


def render(report: Report, args: argparse.Namespace, load: Load) -> str:
    info = report.info
    versions = ", ".join(f"{name} {version}" for name, version in info["versions"].items())
    load_avg = ", ".join(f"{x:g}" for x in info["load_average_at_start"])
    end_load = ", ".join(f"{x:g}" for x in info.get("load_average_at_end", ()))
    client = (
        f"{info['wrk']}, 1 thread (the refresh grant: the asyncio client of service.py)"
        if load.kind == "wrk"
        else "the asyncio client of benchmarks/service.py"
    )
    out = [
        "# The token service on each HTTP stack",
        "",
        f"- Date: {info['date']}",
        f"- CPU: {info['cpu']} ({info['logical_cpus']} logical CPUs); {info['pinning']}",
        f"- Python: {info['python']} on {info['platform']}",
        f"- Libraries: {versions}",
        f"- Load average (1, 5, 15 min) at start: {load_avg}; at the end: {end_load}",
        f"- Load: {client}; {args.connections} keep-alive HTTP/1.1 connections; per row "
        f"{args.duration:g} s measured in two halves taken in turn with the other rows of its "
        f"table, each after {args.warmup:g} s of warm-up; log level {args.log_level} (no "
        "access log); jwtkit on a fresh SQLite file each "
        f"({info['filesystem']}, synchronous=FULL)",
        f"- Command: `{' '.join(['python', 'benchmarks/http_stack.py', *sys.argv[1:]])}`",
        "- What each server process loaded (its memory maps): "
        + "; ".join(f"{label}: {stack}" for label, stack in report.loaded.items()),
        "",
    ]
    if report.ceilings:
        busiest = max((m.rate for m in [*report.stacks, *report.workers]), default=0.0)
        ceilings = ", ".join(f"{m.stack} {m.rate:,.0f} req/s" for m in report.ceilings)
        share = busiest / report.ceilings[0].rate if report.ceilings[0].rate else math.nan
        out += [
            f"Load generators against a canned-response asyncio server: {ceilings}. The "
            f"busiest row below used {share:.0%} of the first.",
            "",
        ]
    today = {m.scenario: m for m in report.stacks if m.stack == H11}
    out += [
        "## One worker each",
        "",
        "CPU: the server processes' CPU time (user + system, from /proc) per request while "
        'measured; "vs" columns: how many times the requests per second of '
        f"{H11}, and how many times fewer CPU microseconds per request.",
        "",
        f"| stack | request | req/s | vs {H11} | CPU us/request | vs {H11} | p50 ms | p99 ms "
        "| errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in sorted(report.stacks, key=lambda m: _order(m.scenario)):
        base = today.get(m.scenario)
        ratio = m.rate / base.rate if base else math.nan
        cpu_ratio = base.cpu_per_request / m.cpu_per_request if base else math.nan
        out.append(
            f"| {m.stack} | {m.scenario} | {m.rate:,.0f} | {_x(ratio)} | "
            f"{_us(m.cpu_per_request)} | {_x(cpu_ratio)} | {_ms(m.p50)} | {_ms(m.p99)} | "
            f"{m.errors} |"
        )
    if report.workers:
        single = {m.scenario: m.rate for m in report.workers if m.stack == "1 worker"}
        out += [
            "",
            f"## jwtkit serve ({DEFAULT_STACK}): one worker against two",
            "",
            "Not pinned: the workers and the load generator share the CPUs.",
            "",
            "| workers | request | req/s | vs one worker | CPU us/request | p50 ms | p99 ms "
            "| errors |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for m in report.workers:
            ratio = m.rate / single[m.scenario] if single.get(m.scenario) else math.nan
            out.append(
                f"| {m.stack} | {m.scenario} | {m.rate:,.0f} | {_x(ratio)} | "
                f"{_us(m.cpu_per_request)} | {_ms(m.p50)} | {_ms(m.p99)} | {m.errors} |"
            )
    if report.baseline:
        ours = next(
            m for m in report.stacks if m.stack == DEFAULT_STACK and m.scenario == "GET /userinfo"
        )
        out += [
            "",
            "## The target: /userinfo against the FastAPI + PyJWT tutorial app",
            "",
            f"jwtkit serve ({DEFAULT_STACK}), GET /userinfo: {ours.rate:,.0f} req/s, "
            f"{_us(ours.cpu_per_request)} CPU us/request.",
            "",
            "| tutorial app, GET /users/me | stack loaded | req/s | CPU us/request | p50 ms | "
            "p99 ms | errors | jwtkit / tutorial, req/s | the same, per CPU second |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for m in report.baseline:
            ratio = ours.rate / m.rate if m.rate else math.nan
            cpu_ratio = m.cpu_per_request / ours.cpu_per_request
            out.append(
                f"| {m.stack} | {report.loaded.get(m.stack, '?')} | {m.rate:,.0f} | "
                f"{_us(m.cpu_per_request)} | {_ms(m.p50)} | {_ms(m.p99)} | {m.errors} | "
                f"**{_x(ratio)}** | {_x(cpu_ratio)} |"
            )
        first = report.baseline[0]
        ratio = ours.rate / first.rate if first.rate else math.nan
        verdict = "PASS" if ratio >= 3 else "MISS"
        out += [
            "",
            "**Target: /userinfo >= 3x the tutorial app run as its tutorial runs it "
            f'(pip install "fastapi[standard]", {first.stack}): {ratio:.2f}x, {verdict}**',
        ]
    if report.app_costs:
        out += ["", *render_app_costs(report)]
    return "\n".join(out) + "\n"


def render_app_costs(report: Report) -> list[str]:
    """Each request's CPU split between the app (called directly) and the rest: uvicorn,
    httptools, uvloop, the proxy-headers middleware and the kernel's socket work."""
    served = {
        "bare ASGI app": (DEFAULT_STACK, BARE.label),
        "jwtkit GET /healthz": (DEFAULT_STACK, "GET /healthz"),
        "jwtkit GET /userinfo": (DEFAULT_STACK, "GET /userinfo"),
        "tutorial GET /users/me": ("uvicorn defaults", BASELINE_SCENARIO.label),
    }
    measured = {(m.stack, m.scenario): m for m in [*report.stacks, *report.baseline]}
    out = [
        f"## Where a request's CPU goes ({DEFAULT_STACK}, one worker)",
        "",
        "Served: the server's CPU per request under load (above). App alone: the same ASGI "
        "app called directly in one process with the same request, its answer discarded "
        "(CPU time, best of 3 batches). The rest is the server: uvicorn's protocol and ASGI "
        "glue, httptools, uvloop, the proxy-headers middleware, the kernel's socket calls.",
        "",
        "| request | served, CPU us | app alone, CPU us | the rest, CPU us | app share |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, app_seconds in report.app_costs:
        m = measured.get(served[label])
        total = m.cpu_per_request if m else math.nan
        out.append(
            f"| {label} | {_us(total)} | {app_seconds * 1e6:,.1f} | "
            f"{_us(total - app_seconds)} | {app_seconds / total:.0%} |"
        )
    return out


def _order(scenario: str) -> int:
    labels = [BARE.label, *(s.label for s in SCENARIOS)]
    return labels.index(scenario) if scenario in labels else len(labels)


# --------------------------------------------------------------------------------------------
# main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 s per row, 1 s warm-up")
    parser.add_argument("--duration", type=float, help="measured seconds per row (10)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds before each half (1)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument(
        "--client", choices=("wrk", "python"), help="load generator (default: wrk if on PATH)"
    )
    parser.add_argument(
        "--no-granian", dest="granian", action="store_false", help="leave granian out"
    )
    parser.add_argument("--log-level", default="warning", help="the servers' log level")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also split a request's CPU between the app (called directly) and the server",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the raw numbers")
    args = parser.parse_args(argv)
    args.duration = args.duration or (4.0 if args.quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else 1.0
    args.client = args.client or ("wrk" if shutil.which("wrk") else "python")
    if args.client == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not on PATH (Debian: apt-get install wrk), or use --client python")
    if args.granian:
        try:
            import granian  # noqa: F401
        except ImportError:
            log("granian is not installed (the bench dependency group has it): left out")
            args.granian = False
    return args


def _wrk_version() -> str:
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)  # noqa: S607
    return (done.stdout + done.stderr).split("Copyright")[0].strip() or "unknown"


@contextlib.contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="jwtkit-http-stack-") as tmp:
        yield Path(tmp)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    server_cpus, client_cpus, pinning = service._cpu_split(1, True)
    with _workdir() as workdir, service._terminate_on_sigterm():
        servers = Servers(workdir, server_cpus)
        load = Load(args.client, workdir, args.connections)
        info = service.machine_info(workdir)
        info["versions"] = {
            name: _version(name)
            for name in (
                "jwtkit",
                "uvicorn",
                "h11",
                "httptools",
                "uvloop",
                "granian",
                "fastapi",
                "starlette",
                "PyJWT",
            )
        }
        info["pinning"] = pinning + " (one worker); none for one against two workers"
        if args.client == "wrk":
            info["wrk"] = _wrk_version()
        report = Report(info)
        args.all_cpus = os.sched_getaffinity(0) if client_cpus else None
        if client_cpus:  # this process (the asyncio client) and wrk, its child
            os.sched_setaffinity(0, client_cpus)
        try:
            asyncio.run(run(args, servers, load, report))
        except KeyboardInterrupt:
            log("interrupted: stopping the servers")
            return 130
        finally:
            servers.stop_all()
    report.info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(render(report, args, load))
    log(f"total {time.monotonic() - started:.0f} s")
    if args.json:
        rows = [
            ("stacks", report.stacks),
            ("workers", report.workers),
            ("baseline", report.baseline),
            ("ceilings", report.ceilings),
        ]
        raw = {
            "info": report.info,
            "loaded": report.loaded,
            "results": [
                {
                    "table": table,
                    "stack": m.stack,
                    "scenario": m.scenario,
                    "req_per_s": m.rate,
                    "p50_ms": m.p50 * 1e3,
                    "p99_ms": m.p99 * 1e3,
                    "requests": m.requests,
                    "cpu_us_per_request": m.cpu_per_request * 1e6,
                    "errors": m.errors,
                }
                for table, measures in rows
                for m in measures
            ],
        }
        Path(args.json).write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
