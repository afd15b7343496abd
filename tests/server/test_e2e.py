"""End to end: a real ``jwtkit serve`` process on a loopback port, driven over HTTP.

The process runs with development defaults (a generated key file, SQLite) in a temporary
directory, is killed with SIGKILL and started again to prove that users, refresh tokens and
signing keys survive a crash.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import jwt
import pytest
from conftest import PASSWORD

import jwtkit

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals")

STARTUP_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """One ``jwtkit serve`` process."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.workdir = workdir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = workdir / "server.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("JWTKIT_")}
        env.update(
            JWTKIT_ARGON2_TIME_COST="1",
            JWTKIT_ARGON2_MEMORY_COST="8",
            JWTKIT_ARGON2_PARALLELISM="1",
            JWTKIT_LOG_LEVEL="warning",
        )
        command = [
            sys.executable,
            "-c",
            "from jwtkit._console import main; raise SystemExit(main())",
            "serve",
            "--port",
            str(port),
            "--database",
            str(workdir / "jwtkit.db"),
        ]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
                command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_ready()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"jwtkit serve exited early:\n{self.output()}")
            try:
                if (
                    httpx.get(f"{self.url}/healthz", timeout=1.0, trust_env=False).status_code
                    == 200
                ):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)  # polling for start-up, not waiting for an expiry
        self.stop()
        raise AssertionError(f"jwtkit serve did not start in time:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers run (a crash)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
                self.process.kill()
                self.process.wait(timeout=10)


@contextmanager
def _serve(workdir: Path, port: int) -> Iterator[Server]:
    server = Server(workdir, port)
    try:
        yield server
    finally:
        server.stop()


def _login(http: httpx.Client) -> dict[str, Any]:
    response = http.post(
        "/token", data={"grant_type": "password", "username": "alice", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _verify_with_pyjwt(http: httpx.Client, token: str, issuer: str) -> dict[str, Any]:
    jwks = http.get("/.well-known/jwks.json").json()
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [key for key in jwks["keys"] if key["kid"] == kid]
    claims: dict[str, Any] = jwt.decode(
        token, jwt.PyJWK(jwk).key, algorithms=["ES256"], audience="jwtkit", issuer=issuer
    )
    return claims


def test_lifecycle_and_restart_persistence(tmp_path: Path) -> None:
    port = _free_port()
    with (
        _serve(tmp_path, port) as server,
        httpx.Client(base_url=server.url, timeout=10, trust_env=False) as http,
    ):
        banner = server.output()
        assert "jwtkit users add alice" in banner
        assert f"curl -s {server.url}/token" in banner
        assert http.get("/.well-known/oauth-authorization-server").json()["issuer"] == server.url

        created = http.post("/users", json={"username": "alice", "password": PASSWORD})
        assert created.status_code == 201, created.text
        first = _login(http)
        claims = _verify_with_pyjwt(http, first["access_token"], server.url)
        keys = jwtkit.KeySet.from_jwks(http.get("/.well-known/jwks.json").json())
        assert (
            jwtkit.decode(first["access_token"], keys, algorithms=["ES256"], audience="jwtkit")
            == claims
        )
        me = http.get("/userinfo", headers={"Authorization": f"Bearer {first['access_token']}"})
        assert me.json()["sub"] == claims["sub"]

        second = http.post(
            "/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
        ).json()
        reuse = http.post(
            "/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
        )
        assert reuse.status_code == 400
        assert reuse.json()["error"] == "invalid_grant"
        family = http.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
        )
        assert family.status_code == 400

        kept = _login(http)
        logged_out = _login(http)
        assert http.post("/revoke", data={"token": logged_out["refresh_token"]}).status_code == 200
        kid = jwt.get_unverified_header(kept["access_token"])["kid"]
        server.kill()

    with (
        _serve(tmp_path, port) as server,
        httpx.Client(base_url=server.url, timeout=10, trust_env=False) as http,
    ):
        jwks = http.get("/.well-known/jwks.json").json()
        assert [key["kid"] for key in jwks["keys"]] == [kid]
        # The access token issued before the crash still verifies; the refresh token works.
        me = http.get("/userinfo", headers={"Authorization": f"Bearer {kept['access_token']}"})
        assert me.status_code == 200
        rotated = http.post(
            "/token", data={"grant_type": "refresh_token", "refresh_token": kept["refresh_token"]}
        )
        assert rotated.status_code == 200, rotated.text
        revoked = http.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": logged_out["refresh_token"]},
        )
        assert revoked.status_code == 400
        assert _login(http)["token_type"] == "Bearer"
        assert "Traceback" not in server.output()


def test_parallel_refreshes_over_real_http(tmp_path: Path) -> None:
    with _serve(tmp_path, _free_port()) as server:

        async def race() -> list[int]:
            async with httpx.AsyncClient(base_url=server.url, timeout=10, trust_env=False) as http:
                await http.post("/users", json={"username": "alice", "password": PASSWORD})
                login = await http.post(
                    "/token",
                    data={"grant_type": "password", "username": "alice", "password": PASSWORD},
                )
                token = login.json()["refresh_token"]
                statuses: list[int] = []

                async def refresh() -> None:
                    response = await http.post(
                        "/token", data={"grant_type": "refresh_token", "refresh_token": token}
                    )
                    statuses.append(response.status_code)

                async with anyio.create_task_group() as group:
                    for _ in range(20):
                        group.start_soon(refresh)
                return statuses

        statuses = anyio.run(race)
        assert sorted(statuses) == [200] + [400] * 19
        assert "Traceback" not in server.output()
