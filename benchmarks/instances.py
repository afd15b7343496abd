"""Refresh rotations on several instances of the token service: SQLite, PostgreSQL, Redis.

Measures, in one run and side by side, ``POST /token`` ``grant_type=refresh_token`` where every
request is a real rotation (RFC 9700 §4.14.2): each client holds its own refresh-token chain
(its own user and family) and presents the token its previous request returned. Setups:

1. one instance on SQLite (the reference figure: the service as it runs on one host), and the
   same pinned: the server on CPU 0, the load generator on the other CPUs (see below);
2. one instance on PostgreSQL;
3. one instance on PostgreSQL with ``--workers 2`` (same load);
4. two instances on one PostgreSQL database, the chains spread over both, without Redis;
5. the same with Redis shared by the two (``--redis``).

Every setup gets the same chains (``--chains``, default 32, spread evenly over its instances)
and the same time. The measured time of each setup is split into ``--rounds`` segments, and
the setups take turns (round 1 in the order above, round 2 in reverse, ...), so that a slow
patch of the machine does not land on one setup only. All servers run for the whole run (idle
when not driven), on loopback, without CPU pinning (the point of two instances or two workers
is to use both cores), except for the pinned SQLite setup: on a small virtual machine, a single
instance whose event loop and SQLite thread hand work to each other across CPUs pays for it
(the CPU table shows it), and pinning is how benchmarks/service.py measures one instance.

The servers are real: ``jwtkit serve`` processes in production mode (``JWTKIT_ENVIRONMENT=
production``, the password grant switched on for the set-up logins, no metrics), sharing the
key-encryption key and the issuer; PostgreSQL is started by this script with the tests'
start-up code (tests/server/servers.py: ``initdb`` into a temporary folder, loopback, run as
an unprivileged user when root) but durable, as a deployment runs it: ``fsync=on``,
``synchronous_commit=on``, ``full_page_writes=on`` (see :data:`PG_SETTINGS`). Redis is started
with the tests' code too (tests/server/redis_server.py). The SQLite file is on the same
filesystem as PostgreSQL's data (WAL, ``synchronous=FULL``: jwtkit's defaults).

Users are written to each database before the servers start, with one Argon2id hash made at
the service's own (fast) settings, so that the logins that start the chains take milliseconds;
Argon2 plays no part in a refresh.

The load generator is this process: raw asyncio streams, HTTP/1.1 keep-alive, one connection
per chain (see docs/performance.md for why not httpx or wrk). It reads every process's CPU
time from /proc at the start and end of each measured window, so the report shows where the
two cores went (jwtkit, PostgreSQL, Redis, the load generator itself, the rest of the machine)
and the CPU each rotation cost.

``--what-if`` adds two setups (one and two instances on PostgreSQL) running a change proposed
for the PostgreSQL store, patched into the server (not jwtkit's code): the rotation in one
statement instead of a four-round-trip transaction (see :data:`_WHAT_IF`).

``--profile`` adds, on PostgreSQL: the latency of one rotation with a single chain (SQLite
too), the statements (round trips) and WAL flushes (fsyncs) per rotation from
``pg_stat_statements`` and ``pg_stat_wal`` (PostgreSQL restarted with the extension loaded,
after the main measurements), and a cProfile of one instance's event loop under the load.

Usage::

    .venv/bin/python benchmarks/instances.py                  # about 3 minutes
    .venv/bin/python benchmarks/instances.py --profile        # + where a rotation's time goes
    .venv/bin/python benchmarks/instances.py --duration 8 --rounds 2   # shorter, noisier
    .venv/bin/python benchmarks/instances.py --wait-load 1.0  # start once the machine is quiet
    .venv/bin/python benchmarks/instances.py --json out.json  # also write the raw numbers

Needs PostgreSQL's server binaries (``apt-get install postgresql``) and ``redis-server``
(``apt-get install redis-server``), and the test environment (``make sync-test``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import io
import json
import math
import os
import platform
import pstats
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from array import array
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from time import perf_counter
from typing import Any

# The load generator's wire helpers and the machine description are service.py's.
from service import (
    HOST,
    ProtocolError,
    _cpu_model,
    _filesystem,
    _ms,
    _terminate_on_sigterm,
    fetch,
    free_port,
    http_post_form,
    log,
    read_response,
)

ROOT = Path(__file__).resolve().parent.parent
#: The tests' server start-up code (servers.py, redis_server.py), imported from there.
TEST_SERVERS = ROOT / "tests" / "server"
SERVE = [sys.executable, "-c", "from jwtkit._console import main; raise SystemExit(main())"]
ISSUER = "https://id.bench.example"
PASSWORD = "bench-" + "correct-horse-battery"
#: Argon2id (time_cost, memory_cost KiB, parallelism) of the set-up logins: the least that
#: production mode accepts. A refresh verifies no password.
ARGON2 = (1, 19456, 1)
#: PostgreSQL as a deployment runs it: durable commits. The rest are PostgreSQL 15's defaults
#: (shared_buffers 128MB, wal_sync_method fdatasync, commit_delay 0, wal_level replica, ...).
PG_SETTINGS = (
    "fsync=on",
    "synchronous_commit=on",
    "full_page_writes=on",
    "max_connections=100",
    "log_min_messages=warning",
)
START_TIMEOUT = 60.0
REQUEST_TIMEOUT = 30.0
#: Env variable of this script only: where a profiled server writes its cProfile stats.
PROFILE_ENV = "INSTANCES_BENCH_CPROFILE"
# A server whose event loop is profiled between SIGUSR1 and SIGUSR2 (the stats are written
# then): the load only, not the start-up and the logins. With one worker, uvicorn serves in
# this process's main thread, where the signal handlers run.
_SERVE_PROFILED = f"""
import cProfile, os, signal
from jwtkit._console import main
profiler = cProfile.Profile()
def stop(signum, frame):
    profiler.disable()
    profiler.dump_stats(os.environ[{PROFILE_ENV!r}])
signal.signal(signal.SIGUSR1, lambda signum, frame: profiler.enable())
signal.signal(signal.SIGUSR2, stop)
raise SystemExit(main())
"""


# --what-if: a change proposed for src/jwtkit/server/storage/postgres.py, patched into the
# server process before it starts (it is NOT what jwtkit does): the rotation's compare-and-set
# UPDATE and the successor's INSERT as one statement (a data-modifying WITH), so one round trip
# in autocommit instead of four (BEGIN, UPDATE, INSERT, COMMIT). Still atomic: one statement is
# one transaction, and the INSERT sees only the row the UPDATE won. Any other outcome (reuse,
# revoked, expired, unknown) falls back to the committed code. One worker only: uvicorn's
# spawned workers would not see the patch.
_WHAT_IF = """
from jwtkit.server.models import RotationOutcome
from jwtkit.server.storage import postgres as pg

_COLUMNS = (
    "token_hash, family_id, user_id, client_id, scope, issued_at, expires_at, "
    "family_expires_at, rotated_at, successor_hash, revoked_at, resource"
)
_ONE_STATEMENT = (
    "WITH rotated AS (" + pg._ROTATE_TOKEN + "), inserted AS (INSERT INTO refresh_tokens ("
    + _COLUMNS + ") SELECT %(v0)s, %(v1)s, %(v2)s, %(v3)s, %(v4)s, %(v5)s, %(v6)s, %(v7)s, "
    "NULL, NULL, NULL, %(v11)s FROM rotated) SELECT " + _COLUMNS + " FROM rotated"
)
_committed = pg.PostgresStore.rotate_refresh_token

async def _rotate(self, token_hash, new, now, grace_period):
    values = pg._token_values(new)
    parameters = {f"v{index}": value for index, value in enumerate(values)}
    parameters.update(now=now, new=values[0], presented=bytes(token_hash), family=new.family_id)
    row = await self._fetchone(_ONE_STATEMENT, parameters)
    if row is not None:
        return RotationOutcome("rotated", token=pg._refresh_token(row))
    return await _committed(self, token_hash, new, now, grace_period)

pg.PostgresStore.rotate_refresh_token = _rotate
"""


@dataclass(frozen=True)
class Setup:
    key: str
    label: str
    store: str  # "sqlite" or "postgresql"
    instances: int = 1
    workers: int = 1
    redis: bool = False
    what_if: bool = False  # the _WHAT_IF patch (--what-if)
    #: The server (all its threads) on the first CPU, the load generator on the others while
    #: this setup is driven.
    pinned: bool = False


SETUPS = (
    Setup("sqlite", "SQLite, 1 instance (reference)", "sqlite"),
    Setup(
        "sqlite-pinned",
        "SQLite, 1 instance, pinned (server CPU 0, load generator CPU 1)",
        "sqlite",
        pinned=True,
    ),
    Setup("pg", "PostgreSQL, 1 instance", "postgresql"),
    Setup("pg-2w", "PostgreSQL, 1 instance, --workers 2", "postgresql", workers=2),
    Setup("pg-2i", "PostgreSQL, 2 instances", "postgresql", instances=2),
    Setup("pg-2i-redis", "PostgreSQL, 2 instances + Redis", "postgresql", 2, redis=True),
)
WHAT_IF_SETUPS = (
    Setup(
        "pg-what-if",
        "PostgreSQL, 1 instance, what if: rotation in one statement",
        "postgresql",
        what_if=True,
    ),
    Setup(
        "pg-2i-what-if",
        "PostgreSQL, 2 instances, what if: rotation in one statement",
        "postgresql",
        instances=2,
        what_if=True,
    ),
)
SETUP = {setup.key: setup for setup in (*SETUPS, *WHAT_IF_SETUPS)}


# --------------------------------------------------------------------------------------------
# HTTP/1.1 on raw asyncio streams


# --------------------------------------------------------------------------------------------
# CPU accounting from /proc


def _clock_ticks() -> int:
    with contextlib.suppress(ValueError, OSError, AttributeError):
        return os.sysconf("SC_CLK_TCK")
    return 100


TICKS = _clock_ticks()


@dataclass
class CpuSnapshot:
    """CPU seconds of every process (pid -> (process group, parent, seconds)) and of the
    whole machine (busy: all but idle and iowait), at one moment."""

    processes: dict[int, tuple[int, int, float]]
    busy: float


def cpu_snapshot() -> CpuSnapshot:
    processes: dict[int, tuple[int, int, float]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as stat:
                text = stat.read()
        except OSError:
            continue  # gone meanwhile
        fields = text[text.rfind(")") + 2 :].split()
        # fields[0] is the state (field 3 of proc(5)): ppid 4, pgrp 5, utime 14, stime 15.
        seconds = (int(fields[11]) + int(fields[12])) / TICKS
        processes[int(entry.name)] = (int(fields[2]), int(fields[1]), seconds)
    busy = 0.0
    with contextlib.suppress(OSError), open("/proc/stat", encoding="ascii") as stat:
        values = [int(x) for x in stat.readline().split()[1:9]]
        busy = (sum(values) - values[3] - values[4]) / TICKS  # all but idle and iowait
    return CpuSnapshot(processes, busy)


@dataclass
class CpuShare:
    """CPU seconds spent in one measured window, by component."""

    seconds: dict[str, float]
    busy: float


def cpu_between(
    before: CpuSnapshot, after: CpuSnapshot, classify: Mapping[str, set[int]], postmaster: int
) -> CpuShare:
    """CPU seconds by component between two snapshots. ``classify`` maps a component to the
    process groups of its servers (``"client"`` to this process's pid); PostgreSQL is the
    postmaster and its children, ``"kernel"`` the kernel's threads (the journal's commits of
    the fsyncs among them), ``"other"`` every other process of the machine."""
    seconds: dict[str, float] = defaultdict(float)
    for pid, (pgrp, ppid, end) in after.processes.items():
        start = before.processes.get(pid, (0, 0, 0.0))[2]
        used = end - start
        if used <= 0:
            continue
        if postmaster in (pid, ppid):
            name = "postgresql"
        elif 2 in (pid, ppid):  # kthreadd and its children
            name = "kernel"
        else:
            name = next(
                (name for name, groups in classify.items() if pgrp in groups or pid in groups),
                "other",
            )
        seconds[name] += used
    return CpuShare(dict(seconds), after.busy - before.busy)


# --------------------------------------------------------------------------------------------
# the load: refresh-token chains


@dataclass
class Chain:
    """One client: its instance's port and the latest refresh token of its family."""

    port: int
    token: str
    broken: bool = False

    def request(self) -> bytes:
        return http_post_form(
            "/token", {"grant_type": "refresh_token", "refresh_token": self.token}
        )


@dataclass
class Segment:
    """One setup driven for one measured window."""

    setup: str
    chains: int
    duration: float = 0.0
    latencies: array[float] = field(default_factory=lambda: array("d"))
    errors: Counter[str] = field(default_factory=Counter)
    cpu: dict[str, float] = field(default_factory=dict)
    busy: float = 0.0
    cpu_wall: float = 0.0
    by_port: Counter[int] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return len(self.latencies)


@dataclass
class _Window:
    start: float
    end: float


async def _drive(chain: Chain, window: _Window, segment: Segment) -> None:
    reader, writer = await asyncio.open_connection(HOST, chain.port)
    try:
        while not chain.broken:
            started = perf_counter()
            if started >= window.end:
                return
            try:
                writer.write(chain.request())
                status, body, close = await read_response(reader)
            except asyncio.CancelledError:
                chain.broken = True  # no answer in time: the rotation's outcome is unknown
                raise
            except (OSError, asyncio.IncompleteReadError, ProtocolError) as exc:
                segment.errors[type(exc).__name__] += 1
                chain.broken = True  # the rotation's outcome is unknown: the chain ends here
                return
            finished = perf_counter()
            if status != 200:
                segment.errors[f"HTTP {status}: {body[:120]!r}"] += 1
                chain.broken = True
                return
            chain.token = json.loads(body)["refresh_token"]
            if window.start <= finished <= window.end:
                segment.latencies.append(finished - started)
                segment.by_port[chain.port] += 1
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection(HOST, chain.port)
    finally:
        writer.close()


async def drive(
    chains: Sequence[Chain],
    duration: float,
    warmup: float,
    setup: str,
    classify: Mapping[str, set[int]],
    postmaster: int,
) -> Segment:
    """Run every chain for ``warmup + duration`` seconds; measure the last ``duration`` (the
    CPU of every process too)."""
    segment = Segment(setup, sum(not chain.broken for chain in chains))
    now = perf_counter()
    window = _Window(now + warmup, now + warmup + duration)
    tasks = [asyncio.ensure_future(_drive(c, window, segment)) for c in chains if not c.broken]
    await asyncio.sleep(max(window.start - perf_counter(), 0.0))
    before, started = cpu_snapshot(), perf_counter()
    await asyncio.sleep(max(window.end - perf_counter(), 0.0))
    after, ended = cpu_snapshot(), perf_counter()
    try:
        _, pending = await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT)
    finally:
        for task in tasks:
            task.cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    if pending:
        segment.errors["no answer (timeout)"] += len(pending)
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            raise outcome
    share = cpu_between(before, after, classify, postmaster)
    segment.duration = window.end - window.start
    segment.cpu_wall = ended - started  # the CPU snapshots' own interval
    segment.cpu = share.seconds
    segment.busy = share.busy
    return segment


def merged(parts: Sequence[Segment]) -> Segment:
    result = Segment(parts[0].setup, parts[0].chains)
    cpu: Counter[str] = Counter()
    for part in parts:
        result.duration += part.duration
        result.latencies.extend(part.latencies)
        result.errors.update(part.errors)
        result.by_port.update(part.by_port)
        cpu.update(part.cpu)
        result.busy += part.busy
        result.cpu_wall += part.cpu_wall
        result.chains = min(result.chains, part.chains)
    result.cpu = dict(cpu)
    return result


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (NaN without data)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)), 1) - 1]


# --------------------------------------------------------------------------------------------
# servers


def _test_servers() -> Any:
    """tests/server/servers.py (PostgreSQL start-up) and redis_server.py, as modules."""
    if str(TEST_SERVERS) not in sys.path:
        sys.path.insert(0, str(TEST_SERVERS))
    return importlib.import_module("servers"), importlib.import_module("redis_server")


def durable_postgres(folder: Path) -> Any:
    """A PostgreSQL cluster in ``folder``, started: the tests' server with durable settings."""
    servers, _ = _test_servers()
    binaries = servers.postgres_binaries()
    if binaries is None:
        raise SystemExit(f"PostgreSQL is not installed: {servers.INSTALL_POSTGRES}")

    durable = type("DurablePostgres", (servers.PostgresServer,), {"settings": PG_SETTINGS})
    user = servers.unprivileged_user()
    folder.mkdir()
    if user is not None:
        shutil.chown(folder, user, user)
    server = durable(binaries, folder, user)
    server.start()
    return server


def postmaster_pid(server: Any) -> int:
    """The pid of the PostgreSQL server's postmaster (-1 when none runs)."""
    if server is None:
        return -1
    with contextlib.suppress(OSError, ValueError):
        return int((server.data / "postmaster.pid").read_text().split()[0])
    return -1


class Processes:
    """``jwtkit serve`` processes, each in its own process group, all stopped at the end."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.running: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, argv: list[str], env: Mapping[str, str]) -> subprocess.Popen[bytes]:
        log_path = self.workdir / f"{name}.log"
        with log_path.open("wb") as output:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                argv,
                cwd=self.workdir,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running.append((process, log_path))
        return process

    def tail(self, process: subprocess.Popen[bytes]) -> str:
        for candidate, log_path in self.running:
            if candidate is process:
                return "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
        return ""

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        """SIGTERM to the process group (workers too), SIGKILL after 10 s."""
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
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        self.running = [entry for entry in self.running if entry[0] is not process]

    def stop_all(self) -> None:
        for process, _ in list(self.running):
            self.stop(process)


async def wait_ready(processes: Processes, process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jwtkit serve exited:\n{processes.tail(process)}")
        with contextlib.suppress(OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            status, _ = await fetch(port, f"GET /readyz HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
            if status == 200:
                return
        await asyncio.sleep(0.05)
    raise RuntimeError(
        f"jwtkit serve not ready after {START_TIMEOUT:g} s:\n{processes.tail(process)}"
    )


def service_env(kek: str, redis_url: str | None) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("JWTKIT_", "INSTANCES_BENCH_"))
    }
    env.update(
        JWTKIT_ENVIRONMENT="production",
        JWTKIT_ISSUER=ISSUER,
        JWTKIT_KEY_ENCRYPTION_KEY=kek,
        # Only the set-up logins use it (a refresh needs no password).
        JWTKIT_PASSWORD_GRANT="true",
        JWTKIT_ARGON2_TIME_COST=str(ARGON2[0]),
        JWTKIT_ARGON2_MEMORY_COST=str(ARGON2[1]),
        JWTKIT_ARGON2_PARALLELISM=str(ARGON2[2]),
        JWTKIT_LOG_LEVEL="warning",
    )
    if redis_url is not None:
        env["JWTKIT_REDIS"] = redis_url
    return env


async def seed_database(url: str, users: int) -> list[str]:
    """The schema and ``users`` users (one Argon2id hash at the service's settings, shared:
    only the set-up logins verify it); their names."""
    from jwtkit.server.models import User
    from jwtkit.server.passwords import PasswordHasher
    from jwtkit.server.storage import open_store

    hasher = PasswordHasher(time_cost=ARGON2[0], memory_cost=ARGON2[1], parallelism=ARGON2[2])
    password_hash = await hasher.hash(PASSWORD)
    store = open_store(url, access="create")
    await store.open()
    names = [f"bench{index:04d}" for index in range(users)]
    try:
        for name in names:
            user = User(
                id=uuid.uuid4().hex,
                username=name,
                password_hash=password_hash,
                created_at=time.time(),
            )
            await store.add_user(user)
    finally:
        await store.close()
    return names


@dataclass
class Deployment:
    """A setup's running servers and its chains."""

    setup: Setup
    database: str
    ports: list[int]
    processes: list[subprocess.Popen[bytes]]
    chains: list[Chain] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)

    @property
    def groups(self) -> set[int]:
        return {process.pid for process in self.processes}


def cpu_split() -> tuple[set[int], set[int]]:
    """(the pinned server's CPU, the load generator's CPUs meanwhile)."""
    available = sorted(os.sched_getaffinity(0))
    return {available[0]}, set(available[1:]) or {available[0]}


async def start_instances(
    processes: Processes,
    setup: Setup,
    database: str,
    env: Mapping[str, str],
    name: str,
    profile_out: Path | None = None,
) -> tuple[list[int], list[subprocess.Popen[bytes]]]:
    """``setup.instances`` serve processes on ``database``, one after the other (the first
    creates the signing keys)."""
    ports, started = [], []
    for index in range(setup.instances):
        port = free_port()
        argv = list(SERVE) if profile_out is None else [sys.executable, "-c", _SERVE_PROFILED]
        if setup.what_if:
            argv[2] = _WHAT_IF + argv[2]
        argv += ["serve", "--host", HOST, "--port", str(port), "--database", database]
        argv += ["--workers", str(setup.workers), "--log-level", "warning"]
        run_env = dict(env)
        if profile_out is not None:
            run_env[PROFILE_ENV] = str(profile_out)
        process = processes.start(f"{name}-{index}", argv, run_env)
        if setup.pinned:
            server_cpus, _ = cpu_split()
            os.sched_setaffinity(process.pid, server_cpus)  # before it starts any thread
        await wait_ready(processes, process, port)
        ports.append(port)
        started.append(process)
    return ports, started


async def login_chains(ports: Sequence[int], users: Sequence[str]) -> list[Chain]:
    """One password-grant login per user (a few at a time), user i at instance i mod n: each
    starts its own refresh family."""
    gate = asyncio.Semaphore(4)

    async def login(index: int, username: str) -> Chain:
        port = ports[index % len(ports)]
        form = {"grant_type": "password", "username": username, "password": PASSWORD}
        async with gate:
            status, body = await fetch(port, http_post_form("/token", form))
        if status != 200:
            raise RuntimeError(f"set-up login failed: HTTP {status}: {body[:300]!r}")
        return Chain(port, json.loads(body)["refresh_token"])

    return list(await asyncio.gather(*(login(i, name) for i, name in enumerate(users))))


# --------------------------------------------------------------------------------------------
# PostgreSQL statistics (the profile)


def pg_query(url: str, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(sql, parameters)
        return cursor.fetchall() if cursor.description else []


def _commits(admin_url: str, dbname: str) -> int:
    """The committed transactions of a database, as far as its backends have reported."""
    rows = pg_query(
        admin_url, "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (dbname,)
    )
    return int(rows[0][0]) if rows else 0


@dataclass
class StatementCount:
    query: str
    calls: int
    mean_ms: float


@dataclass
class PgProfile:
    """What PostgreSQL saw during one load (a fresh instance, stopped before reading)."""

    label: str
    chains: int
    rotations: int
    rate: float
    p50: float
    p99: float
    statements: list[StatementCount]
    commits: int
    wal_syncs: int
    wal_writes: int
    wal_records: int
    wal_bytes: int


@dataclass
class Report:
    info: dict[str, Any]
    config: argparse.Namespace
    results: dict[str, Segment] = field(default_factory=dict)
    rounds: dict[str, list[Segment]] = field(default_factory=dict)
    single_chain: dict[str, Segment] = field(default_factory=dict)
    pg_profiles: list[PgProfile] = field(default_factory=list)
    cprofile: str = ""
    cprofile_groups: list[tuple[str, float]] = field(default_factory=list)
    cprofile_rate: float = 0.0


# --------------------------------------------------------------------------------------------
# the run


class Run:
    """Everything one run starts; :meth:`close` stops it all."""

    def __init__(self, workdir: Path, config: argparse.Namespace) -> None:
        self.workdir = workdir
        self.config = config
        self.processes = Processes(workdir)
        self.kek = secrets.token_urlsafe(32)
        self.postgres: Any = None
        self.databases: Any = None
        self.redis: Any = None

    def start_backends(self) -> None:
        servers, redis_server = _test_servers()
        log("starting PostgreSQL (durable) and Redis...")
        self.postgres = durable_postgres(self.workdir / "postgresql")
        self.databases = servers.PostgresDatabases(self.postgres.admin_url, self.postgres)
        program = shutil.which("redis-server")
        if program is None:
            raise SystemExit("redis-server is not installed: apt-get install redis-server")
        folder = self.workdir / "redis"
        folder.mkdir()
        self.redis = redis_server.RedisServer.spawn(program, folder)

    def close(self) -> None:
        self.processes.stop_all()
        if self.redis is not None:
            self.redis.stop()
        if self.postgres is not None:
            with contextlib.suppress(RuntimeError):
                self.postgres.stop()

    def classify(self, deployment: Deployment) -> dict[str, set[int]]:
        groups: dict[str, set[int]] = {"jwtkit": deployment.groups, "client": {os.getpid()}}
        if self.redis is not None and self.redis._process is not None:
            groups["redis"] = {self.redis._process.pid}
        return groups

    def new_database(self, setup: Setup, name: str) -> str:
        if setup.store == "sqlite":
            return str(self.workdir / f"{name}.db")
        return str(self.databases.url(self.databases.create()))

    async def deploy(self, setup: Setup, chains: int, name: str | None = None) -> Deployment:
        name = name or setup.key
        database = self.new_database(setup, name)
        users = await seed_database(database, chains)
        redis_url = self.redis.url if setup.redis else None
        env = service_env(self.kek, redis_url)
        ports, started = await start_instances(self.processes, setup, database, env, name)
        deployment = Deployment(setup, database, ports, started)
        deployment.chains = await login_chains(ports, users)
        return deployment

    async def segment(self, deployment: Deployment, duration: float) -> Segment:
        everywhere = os.sched_getaffinity(0)
        if deployment.setup.pinned:
            os.sched_setaffinity(0, cpu_split()[1])  # this thread: the event loop's
        try:
            segment = await drive(
                deployment.chains,
                duration,
                self.config.warmup,
                deployment.setup.key,
                self.classify(deployment),
                postmaster_pid(self.postgres),
            )
        finally:
            os.sched_setaffinity(0, everywhere)
        rate = segment.requests / segment.duration
        errors = sum(segment.errors.values())
        log(
            f"  {deployment.setup.label:40} {rate:8,.0f} req/s  "
            f"p50 {percentile(segment.latencies, 0.5) * 1e3:7.2f} ms  "
            f"p99 {percentile(segment.latencies, 0.99) * 1e3:7.2f} ms  errors {errors}"
        )
        return segment

    def stop(self, deployment: Deployment) -> None:
        for process in deployment.processes:
            self.processes.stop(process)

    # -- the profile ---------------------------------------------------------------------

    async def pg_profile(self, setup: Setup, chains: int, duration: float) -> PgProfile:
        """A fresh single instance on a fresh database, ``chains`` chains for ``duration``
        seconds. PostgreSQL's backends report their counters when idle, at most once a second
        and sometimes 10 s late, and always when they exit: so the instance is stopped after
        the set-up (the logins' counts are in), the counters are reset, the instance starts
        again for the load, and the counters are read once it has stopped."""
        deployment = await self.deploy(setup, chains, f"profile-{setup.key}-{chains}")
        self.stop(deployment)
        env = service_env(self.kek, None)
        name = f"profile-{setup.key}-{chains}-load"
        ports, started = await start_instances(
            self.processes, setup, deployment.database, env, name
        )
        for chain in deployment.chains:
            chain.port = ports[deployment.ports.index(chain.port)]
        deployment.ports, deployment.processes = ports, started
        await asyncio.sleep(1.5)  # the start-up's connections go idle and report
        dbname = deployment.database.rsplit("/", 1)[1]
        admin = self.postgres.admin_url
        pg_query(admin, "SELECT pg_stat_statements_reset()")
        pg_query(admin, "SELECT pg_stat_reset_shared('wal')")
        commits_before = _commits(admin, dbname)
        segment = await self.segment(deployment, duration)
        self.stop(deployment)
        await asyncio.sleep(0.5)
        rows = pg_query(
            admin,
            "SELECT s.query, s.calls, s.mean_exec_time FROM pg_stat_statements s"
            " JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = %s ORDER BY s.calls DESC",
            (dbname,),
        )
        commits_after = _commits(admin, dbname)
        wal = pg_query(admin, "SELECT wal_sync, wal_write, wal_records, wal_bytes FROM pg_stat_wal")
        syncs, writes, records, wal_bytes = wal[0]
        # The counters cover the warm-up and the last answers too: divide them by every
        # rotation the database holds (one rotated token each), not by the measured ones.
        ((count,),) = pg_query(
            deployment.database,
            "SELECT count(*) FROM refresh_tokens WHERE rotated_at IS NOT NULL",
        )
        rotations = int(count)
        return PgProfile(
            label=setup.label,
            chains=chains,
            rotations=rotations,
            rate=segment.requests / segment.duration,
            p50=percentile(segment.latencies, 0.5),
            p99=percentile(segment.latencies, 0.99),
            statements=[StatementCount(q, int(c), float(m)) for q, c, m in rows],
            commits=commits_after - commits_before,
            wal_syncs=int(syncs),
            wal_writes=int(writes),
            wal_records=int(records),
            wal_bytes=int(wal_bytes),
        )

    async def cprofiled(
        self, chains: int, duration: float
    ) -> tuple[str, list[tuple[str, float]], float]:
        """cProfile of one instance's event loop (PostgreSQL) under ``chains`` chains."""
        setup = SETUP["pg"]
        out = self.workdir / "instance.prof"
        database = self.new_database(setup, "cprofile")
        users = await seed_database(database, chains)
        env = service_env(self.kek, None)
        ports, started = await start_instances(
            self.processes, setup, database, env, "cprofile", profile_out=out
        )
        deployment = Deployment(setup, database, ports, started)
        deployment.chains = await login_chains(ports, users)
        (process,) = deployment.processes
        os.kill(process.pid, signal.SIGUSR1)
        segment = await self.segment(deployment, duration)
        os.kill(process.pid, signal.SIGUSR2)
        deadline = time.monotonic() + 30
        while not out.exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # the file is complete
        self.stop(deployment)
        if not out.exists():
            return "(no profile written)", [], 0.0
        text = io.StringIO()
        stats = pstats.Stats(str(out), stream=text)
        stats.sort_stats("tottime").print_stats(25)
        return text.getvalue(), profile_groups(stats), segment.requests / segment.duration


#: cProfile's own time, grouped by where the function lives (first match wins).
_GROUPS = (
    ("/psycopg_pool/", "psycopg_pool (the connection pool)"),
    ("/psycopg/", "psycopg (the driver: queries, rows, waiting)"),
    ("/jwtkit/server/storage/", "jwtkit's PostgreSQL store"),
    ("/jwtkit/server/http/", "jwtkit's HTTP layer"),
    ("/jwtkit/server/", "jwtkit's service (grants, tokens, audit)"),
    ("/jwtkit/", "jwtkit's JOSE library (signing)"),
    ("/cryptography/", "cryptography"),
    ("/starlette/", "starlette"),
    ("/fastapi/", "fastapi"),
    ("/pydantic", "pydantic"),
    ("/uvicorn/", "uvicorn"),
    ("/h11/", "h11 (HTTP parsing)"),
    ("/anyio/", "anyio"),
    ("/asyncio/", "asyncio (the event loop)"),
    ("/logging/", "logging"),
    ("/site-packages/", "other libraries"),
    ("/lib/python3", "Python's standard library (other)"),
)


def profile_groups(stats: pstats.Stats) -> list[tuple[str, float]]:
    """Share of the profiled own time by group, largest first."""
    totals: Counter[str] = Counter()
    for (filename, _, function), row in stats.stats.items():  # type: ignore[attr-defined]
        own = row[2]
        if filename == "~":
            name = "C functions (sockets, select, JSON, hashing, ...)"
            if "select" in function or "poll" in function:
                name = "waiting in select/epoll (idle)"
        else:
            name = next((group for marker, group in _GROUPS if marker in filename), "other")
        totals[name] += own
    whole = sum(totals.values()) or 1.0
    return [(name, seconds / whole) for name, seconds in totals.most_common()]


async def run(config: argparse.Namespace, report: Report, workdir: Path) -> None:
    bench = Run(workdir, config)
    try:
        bench.start_backends()
        report.info["postgresql"] = pg_query(bench.postgres.admin_url, "SHOW server_version")[0][0]
        settings = pg_query(
            bench.postgres.admin_url,
            "SELECT name, setting, unit FROM pg_settings WHERE name IN ('fsync',"
            " 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers',"
            " 'commit_delay', 'wal_level', 'max_connections') ORDER BY name",
        )
        report.info["postgresql_settings"] = {
            name: f"{value}{' x ' + unit if unit else ''}" for name, value, unit in settings
        }
        report.info["redis"] = redis_version()
        deployments = []
        for setup in (*SETUPS, *(WHAT_IF_SETUPS if config.what_if else ())):
            log(f"starting {setup.label}: {config.chains} users, logins...")
            deployments.append(await bench.deploy(setup, config.chains))
        per_round = config.duration / config.rounds
        log(f"measuring: {config.rounds} rounds of {per_round:g} s per setup")
        for round_number in range(config.rounds):
            order = deployments if round_number % 2 == 0 else deployments[::-1]
            for deployment in order:
                deployment.segments.append(await bench.segment(deployment, per_round))
        for deployment in deployments:
            report.results[deployment.setup.key] = merged(deployment.segments)
            report.rounds[deployment.setup.key] = deployment.segments
        if config.profile:
            log("profile: one chain at a time...")
            for deployment in deployments:
                if deployment.setup.key not in ("sqlite", "sqlite-pinned", "pg"):
                    continue
                one = [next(chain for chain in deployment.chains if not chain.broken)]
                single = Deployment(deployment.setup, deployment.database, [], [])
                single.processes = deployment.processes
                single.chains = one
                report.single_chain[deployment.setup.key] = await bench.segment(
                    single, config.profile_duration
                )
            for deployment in deployments:
                bench.stop(deployment)
            log("profile: PostgreSQL restarted with pg_stat_statements...")
            postgres = bench.postgres
            postgres.settings = (*PG_SETTINGS, "shared_preload_libraries=pg_stat_statements")
            postgres.restart()
            pg_query(postgres.admin_url, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            profiles = [(SETUP["pg"], 1), (SETUP["pg"], config.chains)]
            if config.what_if:
                profiles.append((SETUP["pg-what-if"], config.chains))
            for setup, chains in profiles:
                report.pg_profiles.append(
                    await bench.pg_profile(setup, chains, config.profile_duration)
                )
            log("profile: cProfile of one instance...")
            text, groups, rate = await bench.cprofiled(config.chains, config.profile_duration)
            report.cprofile, report.cprofile_groups, report.cprofile_rate = text, groups, rate
    finally:
        bench.close()


def redis_version() -> str:
    program = shutil.which("redis-server") or "redis-server"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(  # noqa: S603 - a fixed program
            [program, "--version"], capture_output=True, text=True, check=False, timeout=10
        )
        for part in done.stdout.split():
            if part.startswith("v="):
                return part[2:]
    return "unknown"


# --------------------------------------------------------------------------------------------
# the report


def machine_info(workdir: Path) -> dict[str, Any]:
    versions = {}
    for dist in (
        "jwtkit",
        "uvicorn",
        "fastapi",
        "starlette",
        "psycopg",
        "psycopg-binary",
        "psycopg-pool",
        "redis",
        "cryptography",
    ):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
        "filesystem": _filesystem(workdir),
    }


def _rate(segment: Segment) -> float:
    return segment.requests / segment.duration if segment.duration else math.nan


def _errors(segment: Segment) -> str:
    count = sum(segment.errors.values())
    if not count:
        return "0"
    return f"{count} (" + ", ".join(f"{k}: {v}" for k, v in segment.errors.items()) + ")"


def render(report: Report) -> str:
    info, config = report.info, report.config
    versions = ", ".join(f"{name} {version}" for name, version in info["versions"].items())
    load = ", ".join(f"{x:g}" for x in info["load_average_at_start"])
    end_load = ", ".join(f"{x:g}" for x in info.get("load_average_at_end", ()))
    pg_settings = ", ".join(f"{k}={v}" for k, v in info.get("postgresql_settings", {}).items())
    per_round = config.duration / config.rounds
    out = [
        "# Refresh rotations on several instances of the token service",
        "",
        f"- Date: {info['date']}",
        f"- CPU: {info['cpu']} ({info['logical_cpus']} logical CPUs); no CPU pinning",
        f"- Python: {info['python']} on {info['platform']}",
        f"- Libraries: {versions}",
        f"- PostgreSQL {info.get('postgresql', '?')} on loopback (TCP, password auth), data on "
        f"{info['filesystem']}: {pg_settings}; Redis {info.get('redis', '?')} on loopback "
        "(no persistence)",
        f"- SQLite: a file on {info['filesystem']} (WAL, synchronous=FULL: the defaults)",
        f"- Load average (1, 5, 15 min) at start: {load}; at the end: {end_load}",
        "- Servers: `jwtkit serve` in production mode (password grant on for the set-up "
        f"logins), log level warning, Argon2id t={ARGON2[0]} m={ARGON2[1]} p={ARGON2[2]} "
        "(logins only), the PostgreSQL pool at its defaults (pool_size 10 per process)",
        f"- Load: {config.chains} refresh-token chains (one user and one keep-alive connection "
        "each; each request presents the token the previous one returned), spread evenly over "
        f"the instances; {config.rounds} rounds of {config.warmup:g} s warm-up + "
        f"{per_round:g} s measured per setup, setups taking turns; latency = request written "
        "to response read; errors = anything but 200",
        "",
        "| setup | req/s | rounds: lowest-highest req/s | p50 ms | p99 ms | vs SQLite "
        "(reference) | rotations | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    reference = _rate(report.results["sqlite"]) if "sqlite" in report.results else math.nan
    labels = {key: setup.label for key, setup in SETUP.items()}
    for key, segment in report.results.items():
        rate = _rate(segment)
        rounds = [_rate(part) for part in report.rounds.get(key, [])]
        spread = f"{min(rounds):,.0f}-{max(rounds):,.0f}" if rounds else "-"
        out.append(
            f"| {labels[key]} | {rate:,.0f} | {spread} | "
            f"{_ms(percentile(segment.latencies, 0.5))} | "
            f"{_ms(percentile(segment.latencies, 0.99))} | {rate / reference:.2f}x | "
            f"{segment.requests:,} | {_errors(segment)} |"
        )
    out += [
        "",
        "Where the two CPUs went during the measured windows (CPU seconds / wall seconds, so "
        "200% is the whole machine; per rotation: CPU time / rotations):",
        "",
        "| setup | machine busy | jwtkit | PostgreSQL | Redis | load generator | kernel "
        "threads | other processes | jwtkit µs/rotation | PostgreSQL µs/rotation | "
        "load generator µs/request |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, segment in report.results.items():
        wall = segment.cpu_wall or 1.0
        count = max(round(segment.requests * segment.cpu_wall / segment.duration), 1)
        cpu = segment.cpu

        def share(name: str, cpu: dict[str, float] = cpu, wall: float = wall) -> str:
            return f"{cpu.get(name, 0.0) / wall:.0%}"

        out.append(
            f"| {labels[key]} | {segment.busy / wall:.0%} | {share('jwtkit')} | "
            f"{share('postgresql')} | {share('redis')} | {share('client')} | "
            f"{share('kernel')} | {share('other')} | "
            f"{cpu.get('jwtkit', 0.0) / count * 1e6:,.0f} | "
            f"{cpu.get('postgresql', 0.0) / count * 1e6:,.0f} | "
            f"{cpu.get('client', 0.0) / count * 1e6:,.0f} |"
        )
    two = [key for key in ("pg-2i", "pg-2i-redis") if key in report.results]
    references = [key for key in ("sqlite", "sqlite-pinned") if key in report.results]
    if two and references:
        out += ["", "Target: PostgreSQL with two instances >= SQLite with one instance:", ""]
        for key in two:
            for base in references:
                ratio = _rate(report.results[key]) / _rate(report.results[base])
                verdict = "PASS" if ratio >= 1.0 else "MISS"
                out.append(f"- {labels[key]} / {labels[base]} = **{ratio:.2f}x**: **{verdict}**")
    if report.single_chain or report.pg_profiles:
        out += ["", "## Where a rotation's time goes", ""]
    if report.single_chain:
        out += [
            "One chain at a time (no concurrency: the time of one rotation, end to end):",
            "",
            "| setup | rotations/s | p50 ms | p99 ms |",
            "|---|---:|---:|---:|",
        ]
        for key, segment in report.single_chain.items():
            out.append(
                f"| {labels[key]} | {_rate(segment):,.0f} | "
                f"{_ms(percentile(segment.latencies, 0.5))} | "
                f"{_ms(percentile(segment.latencies, 0.99))} |"
            )
        out.append("")
    for profile in report.pg_profiles:
        rotations = max(profile.rotations, 1)
        calls = sum(s.calls for s in profile.statements)
        out += [
            f"{profile.label}, {profile.chains} chain(s): {profile.rate:,.0f} "
            f"rotations/s (p50 {_ms(profile.p50)} ms), {profile.rotations:,} rotations in all; "
            f"per rotation: **{calls / rotations:.2f} statements** (round trips), "
            f"{profile.commits / rotations:.2f} transactions, "
            f"**{profile.wal_syncs / rotations:.2f} WAL flushes (fdatasync)**, "
            f"{profile.wal_writes / rotations:.2f} WAL writes, "
            f"{profile.wal_records / rotations:.1f} WAL records, "
            f"{profile.wal_bytes / rotations:,.0f} WAL bytes",
            "",
            "| statement | calls per rotation | mean ms in PostgreSQL |",
            "|---|---:|---:|",
        ]
        rare = [s for s in profile.statements if s.calls / rotations < 0.01]
        for statement in profile.statements:
            if statement in rare:
                continue
            query = " ".join(statement.query.split())
            if len(query) > 90:
                query = query[:87] + "..."
            query = query.replace("|", "\\|")
            out.append(
                f"| `{query}` | {statement.calls / rotations:.2f} | {statement.mean_ms:.3f} |"
            )
        if rare:
            calls = sum(s.calls for s in rare)
            out.append(
                f"| {len(rare)} other statements (key reloads, readiness pings) | "
                f"{calls / rotations:.3f} | |"
            )
        out.append("")
    if report.cprofile_groups:
        out += [
            f"cProfile of one instance's event loop on PostgreSQL ({config.chains} chains, "
            f"{report.cprofile_rate:,.0f} rotations/s under the profiler), own time by where "
            "the code lives:",
            "",
            "| code | share of the profiled time |",
            "|---|---:|",
        ]
        out += [f"| {name} | {share:.1%} |" for name, share in report.cprofile_groups]
        out += ["", "```", report.cprofile.strip(), "```", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# main


def wait_for_quiet(limit: float, patience: float = 1800.0) -> None:
    """Poll until the 1-minute load average has stayed under ``limit`` for a minute."""
    deadline = time.monotonic() + patience
    quiet_since: float | None = None
    while time.monotonic() < deadline:
        load = os.getloadavg()[0]
        if load < limit:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= 60:
                return
        else:
            quiet_since = None
        log(f"waiting for a quiet machine: load {load:.2f} (< {limit:g} for 60 s)")
        time.sleep(10)
    log("the machine did not get quiet: measuring anyway")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=float, default=20.0, help="measured seconds per setup, all rounds (20)"
    )
    parser.add_argument("--rounds", type=int, default=4, help="segments per setup, in turns (4)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up per segment, s (1)")
    parser.add_argument("--chains", type=int, default=32, help="concurrent chains (32)")
    parser.add_argument(
        "--profile", action="store_true", help="also: where a rotation's time goes (+1 minute)"
    )
    parser.add_argument(
        "--profile-duration", type=float, default=5.0, help="seconds per profile load (5)"
    )
    parser.add_argument(
        "--what-if",
        action="store_true",
        help="also: PostgreSQL with the rotation in one statement (a patch, not jwtkit's code)",
    )
    parser.add_argument(
        "--wait-load", type=float, metavar="LOAD", help="first wait until the load is below LOAD"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the raw numbers (- : stdout)")
    args = parser.parse_args(argv)
    if args.chains < 2 or args.rounds < 1 or args.duration <= 0:
        parser.error("--chains must be >= 2, --rounds >= 1, --duration > 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.wait_load is not None:
        wait_for_quiet(args.wait_load)
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="bench-instances-") as tmp,
        _terminate_on_sigterm(),
    ):
        workdir = Path(tmp)
        workdir.chmod(0o711)  # PostgreSQL's user (not root) reaches its folder inside
        report = Report(machine_info(workdir), args)
        try:
            asyncio.run(run(args, report, workdir))
        except KeyboardInterrupt:
            log("interrupted: the servers are stopped")
            return 130
    report.info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(render(report))
    log(f"total {time.monotonic() - started:.0f} s")
    if args.json:
        raw = {
            "info": report.info,
            "config": {k: v for k, v in vars(args).items() if k != "json"},
            "results": {
                key: {
                    "req_per_s": _rate(segment),
                    "p50_ms": percentile(segment.latencies, 0.5) * 1e3,
                    "p99_ms": percentile(segment.latencies, 0.99) * 1e3,
                    "rotations": segment.requests,
                    "errors": dict(segment.errors),
                    "cpu_seconds": segment.cpu,
                    "busy_seconds": segment.busy,
                    "seconds": segment.duration,
                    "rotations_by_port": {str(k): v for k, v in segment.by_port.items()},
                }
                for key, segment in report.results.items()
            },
        }
        text = json.dumps(raw, indent=2)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
