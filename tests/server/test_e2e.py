"""End to end: a real ``jwtkit serve`` process on a loopback port, driven over HTTP.

The process runs with development defaults (a generated key file, SQLite) in a temporary
directory, is killed with SIGKILL and started again to prove that users, refresh tokens and
signing keys survive a crash. Other processes start as a new user would (``--port 0``, the
``jwtkit`` script, the default state folder) and run the commands the banner prints.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import jwt
import pytest
from conftest import PASSWORD, free_port
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jwt as jwcrypto_jwt

import jwtkit
from jwtkit._keys import mldsa_support

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals")

STARTUP_TIMEOUT = 30.0


PYTHON_C = [sys.executable, "-c", "from jwtkit._console import main; raise SystemExit(main())"]
_BANNER_URL = re.compile(r"^jwtkit token service: (http://\S+)  \(", re.MULTILINE)


def _environment(path: str | None = None) -> dict[str, str]:
    """The test's environment without JWTKIT_* settings, with fast Argon2 (and ``PATH``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JWTKIT_")}
    env.update(
        JWTKIT_ARGON2_TIME_COST="1",
        JWTKIT_ARGON2_MEMORY_COST="8",
        JWTKIT_ARGON2_PARALLELISM="1",
        JWTKIT_LOG_LEVEL="warning",
    )
    if path is not None:
        env["PATH"] = path
    return env


class Server:
    """One ``jwtkit serve`` process: ``port=None`` starts it with ``--port 0`` and reads the
    address from its banner; ``program`` replaces ``python -c ...``; ``database=None`` leaves
    the default state folder."""

    def __init__(
        self,
        workdir: Path,
        port: int | None,
        *,
        program: list[str] = PYTHON_C,
        database: str | None = "jwtkit.db",
        env: dict[str, str] | None = None,
        options: tuple[str, ...] = (),
    ) -> None:
        self.workdir = workdir
        self.port = port
        self.url = "" if port is None else f"http://127.0.0.1:{port}"
        self.log = workdir / "server.log"
        self.env = _environment() if env is None else env
        command = [*program, "serve", "--port", str(port or 0), *options]
        if database is not None:
            command += ["--database", str(workdir / database)]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
                command, cwd=workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_ready()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def banner_line(self, label: str) -> str:
        """What the banner prints after ``label`` (``"create a user:"``)."""
        (line,) = [line for line in self.output().splitlines() if label in line]
        return line.split(label, 1)[1].strip()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"jwtkit serve exited early:\n{self.output()}")
            if not self.url:  # --port 0: the banner says where
                found = _BANNER_URL.search(self.output())
                self.url = found.group(1) if found else ""
                time.sleep(0.05)  # polling for start-up, not waiting for an expiry
                continue
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
def _serve(workdir: Path, port: int | None, **options: Any) -> Iterator[Server]:
    server = Server(workdir, port, **options)
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
    port = free_port()
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
        published = [key["kid"] for key in http.get("/.well-known/jwks.json").json()["keys"]]
        assert published[0] == kid  # then the ID tokens' RS256 key
        server.kill()

    with (
        _serve(tmp_path, port) as server,
        httpx.Client(base_url=server.url, timeout=10, trust_env=False) as http,
    ):
        jwks = http.get("/.well-known/jwks.json").json()
        assert [key["kid"] for key in jwks["keys"]] == published  # the same keys, no new one
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
    with _serve(tmp_path, free_port()) as server:

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


# -- a new user's first hour -----------------------------------------------------------------


def _path_without_jwtkit() -> str:
    """``PATH`` minus every directory that has a ``jwtkit``: as after ``make serve``."""
    entries = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(e for e in entries if e and shutil.which("jwtkit", path=e) is None)


def _make_serve_checkout(workdir: Path) -> Path:
    """``workdir/.venv/bin/jwtkit``: this environment's console script (its shebang names
    this environment's Python), where ``make serve`` has it in a clone."""
    script = workdir / ".venv" / "bin" / "jwtkit"
    script.parent.mkdir(parents=True)
    shutil.copy2(os.path.join(sysconfig.get_path("scripts"), "jwtkit"), script)
    return script


def _shell(command: str, workdir: Path, env: dict[str, str], stdin: str = "") -> Any:
    return subprocess.run(  # noqa: S603 - the command is the banner's, under test
        ["/bin/sh", "-c", command],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=workdir,
        env=env,
        timeout=60,
        check=False,
    )


def test_first_start_on_port_0_with_the_default_state_folder(tmp_path: Path) -> None:
    """``.venv/bin/jwtkit serve --port 0`` in a fresh clone, ``jwtkit`` not on PATH: the
    state goes to .jwtkit/, the banner, the metadata and the tokens carry the real port,
    and the banner's command runs as printed."""
    _make_serve_checkout(tmp_path)
    env = _environment(_path_without_jwtkit())
    with (
        _serve(tmp_path, None, program=[".venv/bin/jwtkit"], database=None, env=env) as server,
        httpx.Client(base_url=server.url, timeout=10, trust_env=False) as http,
    ):
        port = int(server.url.rsplit(":", 1)[1])
        assert port not in {0, 8000}
        assert server.output().startswith(f"jwtkit token service: {server.url}  (development")
        assert f"curl -s {server.url}/token" in server.output()
        metadata = http.get("/.well-known/oauth-authorization-server").json()
        assert metadata["issuer"] == server.url
        assert metadata["jwks_uri"] == f"{server.url}/.well-known/jwks.json"

        add_user = server.banner_line("create a user:")
        assert add_user == ".venv/bin/jwtkit users add alice"
        added = _shell(f"{add_user} --password-stdin", tmp_path, env, stdin=PASSWORD)
        assert added.returncode == 0, added.stderr
        token = _login(http)["access_token"]
        assert _verify_with_pyjwt(http, token, server.url)["iss"] == server.url
        listed = _shell(add_user.replace("users add alice", "keys list"), tmp_path, env)
        assert listed.returncode == 0, listed.stderr

        state = tmp_path / ".jwtkit"
        assert stat.S_IMODE(state.stat().st_mode) == 0o700
        assert {"jwtkit.db", "keys.secret"} <= {path.name for path in state.iterdir()}
        assert {path.name for path in tmp_path.iterdir()} == {".venv", ".jwtkit", "server.log"}

        # From another directory the default finds nothing: one line, nothing created.
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        lost = _shell(f"{tmp_path}/.venv/bin/jwtkit users list", elsewhere, env)
        assert lost.returncode == 1
        assert lost.stderr == (
            f"jwtkit: error: database: {elsewhere}/.jwtkit/jwtkit.db does not exist; point "
            "--database, JWTKIT_DATABASE or --config at the service's database, or start the "
            "service once with `jwtkit serve` to create it\n"
        )
        assert list(elsewhere.iterdir()) == []
        assert "Traceback" not in server.output()


def test_banner_says_jwtkit_when_that_is_this_program(tmp_path: Path) -> None:
    script = _make_serve_checkout(tmp_path)
    env = _environment(os.pathsep.join([str(script.parent), _path_without_jwtkit()]))
    with _serve(tmp_path, None, program=["jwtkit"], env=env) as server:
        add_user = server.banner_line("create a user:")
        assert add_user == "jwtkit users add alice --database " + str(tmp_path / "jwtkit.db")
        added = _shell(f"{add_user} --password-stdin", tmp_path, env, stdin=PASSWORD)
        assert added.returncode == 0, added.stderr


def test_a_taken_port_is_one_line_and_no_banner(tmp_path: Path) -> None:
    with _serve(tmp_path, None) as server:
        port = server.url.rsplit(":", 1)[1]
        second = subprocess.run(  # noqa: S603 - fixed arguments
            [*PYTHON_C, "serve", "--port", port, "--database", str(tmp_path / "other.db")],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=server.env,
            timeout=60,
            check=False,
        )
    assert (second.returncode, second.stdout) == (1, "")
    assert second.stderr == (
        f"jwtkit: error: cannot listen on 127.0.0.1:{port}: address already in use "
        "(choose another with --port, or make serve PORT=...)\n"
    )
    assert not (tmp_path / "other.db").exists()


def test_workers_serve_on_the_socket_bound_first(tmp_path: Path) -> None:
    with (
        _serve(tmp_path, None, options=("--workers", "2")) as server,
        httpx.Client(base_url=server.url, timeout=10, trust_env=False) as http,
    ):
        assert http.get("/.well-known/openid-configuration").json()["issuer"] == server.url
        created = http.post("/users", json={"username": "alice", "password": PASSWORD})
        assert created.status_code == 201, created.text
        token = _login(http)["access_token"]
        assert _verify_with_pyjwt(http, token, server.url)["iss"] == server.url
        assert "Traceback" not in server.output()


def test_json_logs_are_one_object_per_line(tmp_path: Path) -> None:
    env = {**_environment(), "JWTKIT_LOG_FORMAT": "json", "JWTKIT_LOG_LEVEL": "info"}
    with _serve(tmp_path, free_port(), env=env) as server:
        with httpx.Client(base_url=server.url, timeout=10, trust_env=False) as http:
            assert http.get("/readyz?from=test").json() == {"status": "ready"}
            refused = http.post(
                "/token", data={"grant_type": "password", "username": "x", "password": "y"}
            )
            assert refused.status_code == 400
        server.stop()
        lines = [json.loads(line) for line in server.output().splitlines() if line.strip()]
    for line in lines:
        assert list(line)[:4] == ["time", "level", "logger", "message"], line
    loggers = {line["logger"] for line in lines}
    assert {"jwtkit.server", "uvicorn.error", "jwtkit.access", "jwtkit.audit"} <= loggers
    assert lines[0]["message"].startswith(f"jwtkit token service: {server.url}  (")
    (ready,) = [line for line in lines if line.get("path") == "/readyz"]
    assert (ready["method"], ready["status"], ready["client"]) == ("GET", 200, "127.0.0.1")
    assert ready["duration"] > 0
    (audit,) = [line for line in lines if line["logger"] == "jwtkit.audit"]
    assert (audit["event"], audit["reason"], audit["level"]) == (
        "login_failed",
        "unknown_user",
        "warning",
    )


@pytest.mark.skipif(
    mldsa_support.MLDSA_MODULE is None, reason="this cryptography release cannot sign with ML-DSA"
)
def test_ml_dsa_access_tokens_over_real_http(tmp_path: Path) -> None:
    """A service that moves to ML-DSA-65: the key is published first, then signs; a token of
    the classical key issued before still works; resource servers verify the ML-DSA token
    with the JWKS, with jwtkit and with jwcrypto."""
    port = free_port()
    publish = {**_environment(), "JWTKIT_PUBLISHED_ALGORITHMS": "ML-DSA-65"}
    with (
        _serve(tmp_path, port, env=publish) as server,
        httpx.Client(base_url=server.url, timeout=10, trust_env=False) as http,
    ):
        assert http.post("/users", json={"username": "alice", "password": PASSWORD}).is_success
        classical = _login(http)["access_token"]
        assert jwt.get_unverified_header(classical)["alg"] == "ES256"
        published = {key["alg"]: key for key in http.get("/.well-known/jwks.json").json()["keys"]}
        assert published["ML-DSA-65"]["kty"] == "AKP"

    switched = {
        **_environment(),
        "JWTKIT_SIGNING_ALGORITHM": "ML-DSA-65",
        "JWTKIT_PUBLISHED_ALGORITHMS": "ES256",
    }
    with (
        _serve(tmp_path, port, env=switched) as server,
        httpx.Client(base_url=server.url, timeout=10, trust_env=False) as http,
    ):
        metadata = http.get("/.well-known/openid-configuration").json()
        algorithms = metadata["access_token_signing_alg_values_supported"]
        assert algorithms == ["ML-DSA-65", "ES256"]
        token = _login(http)["access_token"]
        header = jwt.get_unverified_header(token)
        assert (header["alg"], header["kid"]) == ("ML-DSA-65", published["ML-DSA-65"]["kid"])
        jwks = http.get(metadata["jwks_uri"]).json()
        keys = jwtkit.KeySet.from_jwks(jwks)
        verifier = jwtkit.Verifier(
            keys, algorithms=algorithms, issuer=server.url, audience="jwtkit", typ="at+jwt"
        )
        claims = verifier.decode(token)
        assert verifier.decode(classical)["sub"] == claims["sub"]
        if "AKP" in jwcrypto_jwk.JWKTypesRegistry:  # jwcrypto 1.6.0 on: RFC 9964 interop
            checked: Any = jwcrypto_jwt.JWT(
                jwt=token,
                key=jwcrypto_jwk.JWKSet.from_json(json.dumps(jwks)),
                algs=["ML-DSA-65"],
                expected_type="JWS",
            )
            assert json.loads(checked.claims)["jti"] == claims["jti"]
        for access_token in (token, classical):
            me = http.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})
            assert me.status_code == 200, me.text
        assert "Traceback" not in server.output()


def _scraped(url: str, endpoint: str) -> float:
    """The service's count of GET ``endpoint`` 2xx answers, scraped on a new connection."""
    text = httpx.get(f"{url}/metrics", timeout=10, trust_env=False).text
    wanted = f'jwtkit_http_requests_total{{endpoint="{endpoint}",method="GET",status="2xx"}} '
    (line,) = [line for line in text.splitlines() if line.startswith(wanted)]
    return float(line.split()[-1])


def test_metrics_of_several_workers_add_up(tmp_path: Path) -> None:
    """Each request on its own connection may reach either worker; every scrape, whichever
    worker answers it, reports the requests of both (prometheus_client's multiprocess mode)."""
    with _serve(tmp_path, None, options=("--workers", "2")) as server:
        for _ in range(20):
            assert httpx.get(f"{server.url}/readyz", timeout=10, trust_env=False).is_success
        deadline = time.monotonic() + 10
        # A worker counts a request just after its answer went out: wait for the last one.
        while _scraped(server.url, "/readyz") != 20 and time.monotonic() < deadline:
            time.sleep(0.05)  # polling for the count, not waiting for an expiry
        assert [_scraped(server.url, "/readyz") for _ in range(8)] == [20.0] * 8
        assert "Traceback" not in server.output()
