"""Several ``jwtkit serve`` processes sharing one database: the guarantees hold across them.

Two real service processes on loopback share a database (one SQLite file, or PostgreSQL) and
the key-encryption key; each test drives both over HTTP. What one instance does, the other
honours: exactly one of 20 parallel refreshes of one token spread over both succeeds, reuse is
detected on either, a token revoked at one is refused at the other at once, the failed-login
limits hold across both, and keys rotated by two administrators at once leave one active key
per algorithm.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx
import pytest
from conftest import PASSWORD, TEST_KEK, free_port
from redis_server import redis_server_fixture, redis_url_fixture  # noqa: F401 - fixtures
from test_e2e import PYTHON_C, Server, _environment

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals")


@dataclass
class Instances:
    """Two service processes on one database."""

    a: Server
    b: Server
    database: str
    env: dict[str, str]

    def admin(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """Run an admin command (``jwtkit keys rotate``, ...) against the shared database."""
        return subprocess.run(  # noqa: S603 - fixed arguments
            [*PYTHON_C, *arguments, "--database", self.database],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def _shared_environment(**extra: str) -> dict[str, str]:
    """What the instances share besides the database: the key-encryption key, and the issuer,
    the public URL of the service (a proxy's in a deployment; here an address nobody uses)."""
    env = _environment()
    env.update(
        JWTKIT_KEY_ENCRYPTION_KEY=TEST_KEK,
        JWTKIT_ENVIRONMENT="development",
        JWTKIT_ISSUER=f"http://127.0.0.1:{free_port()}",
        **extra,
    )
    return env


@dataclass(frozen=True)
class Sharing:
    """What the instances share: a database URL, and a Redis URL or not."""

    database: str
    redis: str | None = None


@pytest.fixture(params=["sqlite", "postgresql", "postgresql+redis"])
def sharing(request: pytest.FixtureRequest, tmp_path: Path) -> Sharing:
    """One SQLite file (several instances on one host), a PostgreSQL database, or PostgreSQL
    and Redis."""
    if request.param == "sqlite":
        return Sharing(str(tmp_path / "shared.db"))
    url: str = request.getfixturevalue("postgres_url")
    if request.param == "postgresql":
        return Sharing(url)
    redis: str = request.getfixturevalue("redis_url")
    return Sharing(url, redis)


@pytest.fixture
def instances(tmp_path: Path, sharing: Sharing) -> Iterator[Instances]:
    database = sharing.database
    env = _shared_environment(**({"JWTKIT_REDIS": sharing.redis} if sharing.redis else {}))
    options = ("--database", database)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    a = Server(tmp_path / "a", free_port(), database=None, env=env, options=options)
    try:
        b = Server(tmp_path / "b", free_port(), database=None, env=env, options=options)
        try:
            yield Instances(a, b, database, env)
        finally:
            b.stop()
    finally:
        a.stop()
    for server in (a, b):
        assert "Traceback" not in server.output(), server.output()


async def _register_and_login(url: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=url, timeout=10, trust_env=False) as http:
        created = await http.post("/users", json={"username": "alice", "password": PASSWORD})
        assert created.status_code in (201, 409), created.text
        login = await http.post(
            "/token", data={"grant_type": "password", "username": "alice", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        answer: dict[str, str] = login.json()
        return answer


def test_one_of_twenty_parallel_refreshes_over_two_instances_wins(instances: Instances) -> None:
    async def race() -> list[int]:
        token = (await _register_and_login(instances.a.url))["refresh_token"]
        statuses: list[int] = []
        clients = [
            httpx.AsyncClient(base_url=server.url, timeout=10, trust_env=False)
            for server in (instances.a, instances.b)
        ]

        async def refresh(http: httpx.AsyncClient) -> None:
            answer = await http.post(
                "/token", data={"grant_type": "refresh_token", "refresh_token": token}
            )
            statuses.append(answer.status_code)

        async with anyio.create_task_group() as group:
            for index in range(20):
                group.start_soon(refresh, clients[index % 2])
        for http in clients:
            await http.aclose()
        return statuses

    assert sorted(anyio.run(race)) == [200] + [400] * 19


def test_reuse_at_either_instance_revokes_the_family_at_both(instances: Instances) -> None:
    async def scenario() -> None:
        first = await _register_and_login(instances.a.url)
        async with (
            httpx.AsyncClient(base_url=instances.a.url, timeout=10, trust_env=False) as a,
            httpx.AsyncClient(base_url=instances.b.url, timeout=10, trust_env=False) as b,
        ):
            form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
            second = (await a.post("/token", data=form)).json()
            reused = await b.post("/token", data=form)  # the old token again, at B
            assert reused.status_code == 400
            assert "already used" in reused.json()["error_description"]
            successor = {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}
            assert (await a.post("/token", data=successor)).status_code == 400
            bearer = {"Authorization": f"Bearer {second['access_token']}"}
            assert (await a.get("/userinfo", headers=bearer)).status_code == 401

    anyio.run(scenario)


def test_a_token_revoked_at_one_instance_is_refused_at_the_other(instances: Instances) -> None:
    async def scenario() -> None:
        tokens = await _register_and_login(instances.a.url)
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        async with (
            httpx.AsyncClient(base_url=instances.a.url, timeout=10, trust_env=False) as a,
            httpx.AsyncClient(base_url=instances.b.url, timeout=10, trust_env=False) as b,
        ):
            assert (await b.get("/userinfo", headers=bearer)).status_code == 200  # cached at B
            revoked = await a.post("/revoke", data={"token": tokens["access_token"]})
            assert revoked.status_code == 200
            assert (await b.get("/userinfo", headers=bearer)).status_code == 401

    anyio.run(scenario)


def test_failed_login_limits_hold_across_instances(instances: Instances) -> None:
    """Five failures per user (the default) in all: 12 parallel wrong guesses spread over both
    instances are answered 400 at most five times, the rest 429."""

    async def guesses() -> list[int]:
        await _register_and_login(instances.a.url)
        statuses: list[int] = []
        clients = [
            httpx.AsyncClient(base_url=server.url, timeout=30, trust_env=False)
            for server in (instances.a, instances.b)
        ]

        async def guess(http: httpx.AsyncClient) -> None:
            answer = await http.post(
                "/token",
                data={"grant_type": "password", "username": "alice", "password": "wrong guess"},
            )
            statuses.append(answer.status_code)

        async with anyio.create_task_group() as group:
            for index in range(12):
                group.start_soon(guess, clients[index % 2])
        for http in clients:
            await http.aclose()
        return statuses

    statuses = anyio.run(guesses)
    assert statuses.count(400) <= 5
    assert statuses.count(400) + statuses.count(429) == 12


def test_concurrent_rotations_leave_one_active_key_per_algorithm(instances: Instances) -> None:
    """Two administrators rotate at once (each on its own process): both new keys are published
    at both instances, and once due exactly one key of each algorithm signs."""
    rotations = [
        subprocess.Popen(  # noqa: S603 - fixed arguments
            [
                *PYTHON_C,
                "keys",
                "rotate",
                "--activate-after",
                "0",
                "--database",
                instances.database,
            ],
            env=instances.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    for rotation in rotations:
        output, _ = rotation.communicate(timeout=60)
        assert rotation.returncode == 0, output
    listing = instances.admin("keys", "list")
    assert listing.returncode == 0, listing.stderr
    rows = [line.split() for line in listing.stdout.splitlines()[1:] if line.strip()]
    for algorithm in {row[1] for row in rows}:
        statuses = [row[2] for row in rows if row[1] == algorithm]
        assert statuses.count("active") == 1, listing.stdout


def test_a_rotation_with_redis_reaches_both_instances_at_once(
    tmp_path: Path, postgres_url: str, redis_url: str
) -> None:
    """With Redis, a key rotated by an admin command is published by both instances right away
    (pub/sub), well before their periodic reload of the keys (every 10 s)."""
    env = _shared_environment(JWTKIT_REDIS=redis_url)
    options = ("--database", postgres_url)
    servers = []
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            servers.append(
                Server(tmp_path / name, free_port(), database=None, env=env, options=options)
            )
        shared = Instances(servers[0], servers[1], postgres_url, env)
        rotated = shared.admin("keys", "rotate")
        assert rotated.returncode == 0, rotated.stderr
        kid = rotated.stdout.split("new signing key ", 1)[1].split()[0]
        published = {server.url: False for server in servers}
        with httpx.Client(timeout=5, trust_env=False) as http:
            # Poll for at most 3 s: the keys reach both within that only through Redis.
            for _ in range(150):
                for server in servers:
                    keys = http.get(f"{server.url}/.well-known/jwks.json").json()["keys"]
                    published[server.url] = kid in {key["kid"] for key in keys}
                if all(published.values()):
                    break
                threading.Event().wait(0.02)
        assert all(published.values()), published
    finally:
        for server in servers:
            server.stop()
