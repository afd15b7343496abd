"""Operating the service: ``GET /metrics`` (Prometheus), ``GET /readyz`` and JSON logs.

The metrics are checked after the events an operator watches for (failed logins, a refresh
token and an authorization code presented twice, a login limit reached): each counter moves by
exactly what happened, the ``/userinfo`` shortcut is counted like any route, and the settings
decide whether ``/metrics`` exists and who may read it. The multiprocess mode of ``--workers N``
and the JSON lines of a real ``jwtkit serve`` are in ``test_e2e.py``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import prometheus_client.values
import pytest
from browser_flow import Flow, add_web_client
from conftest import PASSWORD, Harness, RunApp
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.values import MultiProcessValue as _MultiProcessValue

from jwtkit.server.health import RETRY_AFTER, Readiness
from jwtkit.server.http.middleware import endpoint_of
from jwtkit.server.log_format import JsonFormatter
from jwtkit.server.metrics import MULTIPROCESS_ENV, UNMATCHED, Metrics, multiprocess_folder
from jwtkit.server.storage import SQLiteStore, StoreError
from jwtkit.testing import FrozenClock

pytestmark = pytest.mark.anyio

METRICS_TOKEN = "m" * 40
PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "issuer": "https://id.example.com",
    "argon2_memory_cost": 19456,
}

#: Untyped in some releases of prometheus_client.
MultiProcessValue: Any = _MultiProcessValue

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples_of(text: str) -> Samples:
    """Every sample of a scrape, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(http: httpx.AsyncClient, **headers: str) -> Samples:
    response = await http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["cache-control"] == "no-store"
    return samples_of(response.text)


async def login(harness: Harness, username: str, password: str = PASSWORD) -> int:
    return (await harness.login(username, password)).status_code


# -- /metrics ---------------------------------------------------------------------------------


async def test_counters_follow_failed_logins_reuse_and_limits(run_app: RunApp) -> None:
    async with run_app(login_max_failures_per_user=3) as harness:
        await harness.register()
        await add_web_client(harness)
        assert [await login(harness, "alice", "wrong password") for _ in range(2)] == [400, 400]
        # An unknown name has its own bucket: three failures, then the limit.
        assert [await login(harness, "mallory") for _ in range(4)] == [400, 400, 400, 429]
        tokens = await harness.tokens()
        assert (await harness.refresh(tokens["refresh_token"])).status_code == 200
        assert (await harness.refresh(tokens["refresh_token"])).status_code == 400  # reuse
        flow = Flow(harness)
        code = await flow.code()
        assert (await flow.exchange(code)).status_code == 200
        assert (await flow.exchange(code)).status_code == 400  # a code used twice
        samples = await scrape(harness.http)

    assert value(samples, "jwtkit_login_failures_total", reason="bad_password") == 2
    assert value(samples, "jwtkit_login_failures_total", reason="unknown_user") == 3
    assert value(samples, "jwtkit_login_failures_total", reason="disabled") == 0
    assert value(samples, "jwtkit_rate_limited_total", limit="login") == 1
    assert value(samples, "jwtkit_rate_limited_total", limit="registration") == 0
    assert value(samples, "jwtkit_refresh_token_reuse_total") == 1
    assert value(samples, "jwtkit_authorization_code_reuse_total") == 1
    assert value(samples, "jwtkit_grants_total", grant_type="password") == 1
    assert value(samples, "jwtkit_grants_total", grant_type="refresh_token") == 1
    assert value(samples, "jwtkit_grants_total", grant_type="authorization_code") == 1
    assert value(samples, "jwtkit_grants_total", grant_type="client_credentials") == 0
    token = {"endpoint": "/token", "method": "POST"}
    # 2xx: the login, the refresh, the first exchange; 4xx: the 2 + 3 failures, the 429, the
    # reused refresh token and the reused code.
    assert value(samples, "jwtkit_http_requests_total", **token, status="2xx") == 3
    assert value(samples, "jwtkit_http_requests_total", **token, status="4xx") == 8
    assert value(samples, "jwtkit_http_request_duration_seconds_count", **token) == 11
    assert value(samples, "jwtkit_http_request_duration_seconds_sum", **token) > 0
    assert (
        value(samples, "jwtkit_http_requests_total", endpoint="/users", method="POST", status="2xx")
        == 1
    )


async def test_client_credentials_and_failed_client_authentication(harness: Harness) -> None:
    secret = await harness.add_client()
    issued = await harness.http.post(
        "/token", data={"grant_type": "client_credentials"}, auth=("backend", secret)
    )
    refused = await harness.http.post(
        "/token", data={"grant_type": "client_credentials"}, auth=("backend", "nope")
    )
    assert (issued.status_code, refused.status_code) == (200, 401)
    samples = await scrape(harness.http)
    assert value(samples, "jwtkit_grants_total", grant_type="client_credentials") == 1
    assert value(samples, "jwtkit_client_auth_failures_total", method="client_secret_basic") == 1


async def test_registration_limits_are_counted_by_kind(run_app: RunApp) -> None:
    async with run_app(registration_max_per_ip=1) as harness:
        users = [
            await harness.http.post("/users", json={"username": name, "password": PASSWORD})
            for name in ("alice", "bob")
        ]
        metadata = {
            "redirect_uris": ["https://app.example/cb"],
            "token_endpoint_auth_method": "none",
        }
        clients = [await harness.http.post("/register", json=metadata) for _ in range(2)]
        tokens = await harness.tokens()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        wrong = {"current_password": "not it", "new_password": PASSWORD + "!"}
        changes = [
            await harness.http.post("/users/me/password", json=wrong, headers=bearer)
            for _ in range(6)
        ]
        samples = await scrape(harness.http)
    assert [r.status_code for r in users] == [201, 429]
    assert [r.status_code for r in clients] == [201, 429]
    assert [r.status_code for r in changes] == [400] * 5 + [429]
    assert value(samples, "jwtkit_rate_limited_total", limit="registration") == 1
    assert value(samples, "jwtkit_rate_limited_total", limit="client_registration") == 1
    # The current-password check of a password change is under the login limits.
    assert value(samples, "jwtkit_rate_limited_total", limit="login") == 1


async def test_the_userinfo_shortcut_is_counted_like_the_route(harness: Harness) -> None:
    await harness.register()
    token = (await harness.tokens())["access_token"]
    labels = {"endpoint": "/userinfo", "method": "GET"}
    assert (await harness.userinfo(token)).status_code == 200
    assert harness.app.userinfo_shortcut  # type: ignore[attr-defined]
    assert (await harness.http.get("/userinfo")).status_code == 401
    samples = await scrape(harness.http)
    assert value(samples, "jwtkit_http_requests_total", **labels, status="2xx") == 1
    assert value(samples, "jwtkit_http_requests_total", **labels, status="4xx") == 1
    assert value(samples, "jwtkit_http_request_duration_seconds_count", **labels) == 2
    # The declared route (the shortcut off, as with middleware of one's own) counts the same.
    harness.app.userinfo_shortcut = False  # type: ignore[attr-defined]
    assert (await harness.userinfo(token)).status_code == 200
    samples = await scrape(harness.http)
    assert value(samples, "jwtkit_http_requests_total", **labels, status="2xx") == 2


async def test_endpoints_are_route_templates_and_methods_are_bounded(harness: Harness) -> None:
    assert (await harness.http.get("/docs/assets/swagger-ui.css")).status_code == 200
    assert (await harness.http.get("/docs/assets/nothing.js")).status_code == 404
    assert (await harness.http.get("/no/such/path/4711")).status_code == 404
    assert (await harness.http.request("BREW", "/token")).status_code == 405
    samples = await scrape(harness.http)
    assets = {"endpoint": "/docs/assets/{name}", "method": "GET"}
    assert value(samples, "jwtkit_http_requests_total", **assets, status="2xx") == 1
    assert value(samples, "jwtkit_http_requests_total", **assets, status="4xx") == 1
    unmatched = {"endpoint": UNMATCHED, "method": "GET", "status": "4xx"}
    assert value(samples, "jwtkit_http_requests_total", **unmatched) == 1
    brewed = {"endpoint": "/token", "method": "other", "status": "4xx"}
    assert value(samples, "jwtkit_http_requests_total", **brewed) == 1
    assert not any("4711" in str(labels) for _, labels in samples)


def test_endpoint_of_a_scope_without_a_route_is_unmatched() -> None:
    assert endpoint_of({"type": "http", "path": "/x"}) == UNMATCHED
    assert endpoint_of({"type": "http", "route": object()}) == UNMATCHED


async def test_signing_keys_age_and_publication(harness: Harness) -> None:
    harness.clock.advance(120)
    samples = await scrape(harness.http)
    assert value(samples, "jwtkit_signing_key_age_seconds", algorithm="ES256") == 120
    assert value(samples, "jwtkit_signing_key_age_seconds", algorithm="RS256") == 120
    assert value(samples, "jwtkit_signing_keys_published") == 2
    await harness.service.keyring.rotate(activate_after=60)
    harness.clock.advance(90)
    samples = await scrape(harness.http)
    assert value(samples, "jwtkit_signing_key_age_seconds", algorithm="ES256") == 30
    assert value(samples, "jwtkit_signing_key_age_seconds", algorithm="RS256") == 210
    assert value(samples, "jwtkit_signing_keys_published") == 3  # the old ES256 key too


async def test_one_process_reports_its_own_resources(harness: Harness) -> None:
    response = await harness.http.get("/metrics")
    assert "python_info" in response.text


async def test_openmetrics_when_the_scraper_asks_for_it(harness: Harness) -> None:
    accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
    response = await harness.http.get("/metrics", headers={"Accept": accept})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


async def test_production_serves_no_metrics_and_counts_nothing(run_app: RunApp) -> None:
    async with run_app(**PRODUCTION) as harness:
        assert (await harness.http.get("/metrics")).status_code == 404
        assert harness.app.observe is None  # type: ignore[attr-defined]
        assert harness.app.state.metrics is None
    async with run_app(metrics=False) as harness:
        assert (await harness.http.get("/metrics")).status_code == 404


async def test_a_metrics_token_guards_the_scrape(run_app: RunApp) -> None:
    async with run_app(**PRODUCTION, metrics_token=METRICS_TOKEN) as harness:
        missing = await harness.http.get("/metrics")
        wrong = await harness.http.get("/metrics", headers={"Authorization": "Bearer " + "x" * 40})
        assert (missing.status_code, wrong.status_code) == (401, 401)
        assert wrong.json()["error"] == "invalid_token"
        assert wrong.headers["www-authenticate"].startswith("Bearer ")
        samples = await scrape(harness.http, Authorization=f"Bearer {METRICS_TOKEN}")
    unmatched = {"endpoint": "/metrics", "method": "GET", "status": "4xx"}
    assert value(samples, "jwtkit_http_requests_total", **unmatched) == 2


async def test_metrics_on_in_production_without_a_token_is_warned_about(
    run_app: RunApp, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "jwtkit.server"):
        async with run_app(**PRODUCTION, metrics=True) as harness:
            await scrape(harness.http)
    assert any("without metrics_token" in record.getMessage() for record in caplog.records)


def test_several_processes_add_up_in_multiprocess_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers count in their own files of the folder; either one's scrape reports both
    (what ``jwtkit serve --workers N`` does across processes, here with two process ids)."""
    monkeypatch.setenv(MULTIPROCESS_ENV, str(tmp_path))
    opened: list[Any] = []

    real: Any = getattr(prometheus_client.values, "MmapedDict")  # noqa: B009 - not exported

    def opening(*args: Any) -> Any:
        """The counts' files, closed at the end (a process's stay open while it lives)."""
        opened.append(real(*args))
        return opened[-1]

    monkeypatch.setattr(prometheus_client.values, "MmapedDict", opening)
    clock = FrozenClock(0)
    workers = []
    for pid in (101, 102):
        monkeypatch.setattr(
            prometheus_client.values, "ValueClass", MultiProcessValue(lambda pid=pid: pid)
        )
        worker = Metrics(clock)
        worker.observe_request("/healthz", "GET", 200, 0.001)
        worker.audit_event("reuse_detected", {})
        workers.append(worker)
    for worker in workers:
        body, _ = worker.exposition(None)
        samples = samples_of(body.decode())
        labels = {"endpoint": "/healthz", "method": "GET", "status": "2xx"}
        assert value(samples, "jwtkit_http_requests_total", **labels) == 2
        assert value(samples, "jwtkit_refresh_token_reuse_total") == 2
        assert "python_info" not in body.decode()  # one worker's resources would mislead
    files = ["counter_101.db", "counter_102.db", "histogram_101.db", "histogram_102.db"]
    assert sorted(os.listdir(tmp_path)) == files
    for file in opened:
        file.close()


def test_serve_makes_a_private_folder_for_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MULTIPROCESS_ENV, raising=False)
    with multiprocess_folder() as folder:
        assert os.environ[MULTIPROCESS_ENV] == folder
        assert os.stat(folder).st_mode & 0o777 == 0o700
        Path(folder, "counter_1.db").write_bytes(b"")
    assert MULTIPROCESS_ENV not in os.environ
    assert not os.path.exists(folder)


def test_a_folder_the_operator_named_is_used_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MULTIPROCESS_ENV, str(tmp_path))
    with multiprocess_folder() as folder:
        assert folder == str(tmp_path)
    assert os.environ[MULTIPROCESS_ENV] == str(tmp_path)
    assert tmp_path.is_dir()


def test_keys_are_left_out_before_the_start_up_loaded_them() -> None:
    body, _ = Metrics(FrozenClock(0)).exposition(None)
    assert b"jwtkit_signing_key" not in body
    assert b"jwtkit_grants_total" in body


# -- /readyz ----------------------------------------------------------------------------------


class _UnreachableStore(SQLiteStore):
    """A store whose database no longer answers."""

    async def ping(self) -> None:
        raise StoreError("disk I/O error")


@pytest.fixture
async def unreachable(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = _UnreachableStore(tmp_path / "jwtkit.db")
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def test_ready_when_the_database_answers(harness: Harness) -> None:
    response = await harness.http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}
    assert (await harness.http.get("/healthz")).json() == {"status": "ok"}


async def test_not_ready_when_the_database_does_not_answer(
    run_app: RunApp, unreachable: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    async with run_app(store=unreachable) as harness:
        response = await harness.http.get("/readyz")
        alive = await harness.http.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failing": ["database"]}
    assert response.headers["retry-after"] == str(RETRY_AFTER)
    assert "disk" not in response.text
    assert alive.status_code == 200  # liveness asks nothing
    assert any("not ready: database: disk I/O error" in r.getMessage() for r in caplog.records)


async def test_a_check_that_takes_too_long_fails() -> None:
    async def hanging() -> None:
        await anyio.sleep(10)

    async def answering() -> None:
        return None

    readiness = Readiness({"database": answering, "cache": hanging}, timeout=0.01)
    assert await readiness.failing() == ["cache"]


# -- JSON logs --------------------------------------------------------------------------------


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The ``jwtkit`` loggers' records at INFO, formatted by :class:`JsonFormatter`."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("jwtkit")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = stream.getvalue().splitlines()
    return [json.loads(line) for line in lines]


async def test_json_access_and_audit_lines(run_app: RunApp, json_lines: io.StringIO) -> None:
    async with run_app(log_format="json") as harness:
        await harness.http.get("/healthz?probe=1")
        await harness.login("nobody", "wrong password")
    lines = _parsed(json_lines)
    for line in lines:
        assert list(line)[:4] == ["time", "level", "logger", "message"]
        assert line["time"].endswith("Z")
    (access,) = [
        line for line in lines if line["logger"] == "jwtkit.access" and line["path"] == "/healthz"
    ]
    assert access["level"] == "info"
    assert access["message"] == "GET /healthz 200"
    assert (access["method"], access["status"], access["client"]) == ("GET", 200, "203.0.113.7")
    assert isinstance(access["duration"], float)
    assert access["duration"] >= 0
    (audit,) = [line for line in lines if line["logger"] == "jwtkit.audit"]
    assert audit["level"] == "warning"
    assert audit["message"] == audit["event"] == "login_failed"
    assert audit["reason"] == "unknown_user"
    assert audit["client_ip"] == "203.0.113.7"


async def test_text_logs_have_no_access_lines_of_the_service(
    harness: Harness, json_lines: io.StringIO
) -> None:
    await harness.http.get("/healthz")
    assert not [line for line in _parsed(json_lines) if line["logger"] == "jwtkit.access"]


async def test_json_access_lines_follow_the_log_level(
    run_app: RunApp, json_lines: io.StringIO
) -> None:
    async with run_app(log_format="json", metrics=False) as harness:
        logging.getLogger("jwtkit").setLevel(logging.WARNING)
        await harness.http.get("/healthz")
        assert harness.app.state.metrics is None
    assert not [line for line in _parsed(json_lines) if line["logger"] == "jwtkit.access"]


def test_exceptions_and_stacks_are_fields_of_the_line() -> None:
    logger = logging.getLogger("jwtkit.test")
    try:
        int("broken\nin two lines")
    except ValueError:
        record = logger.makeRecord(
            "jwtkit.test", logging.ERROR, __file__, 1, "failed: %s", ("x",), exc_info=sys.exc_info()
        )
    record.stack_info = "Stack (most recent call last):\n  here"
    text = JsonFormatter().format(record)
    assert "\n" not in text
    line = json.loads(text)
    assert line["message"] == "failed: x"
    assert line["level"] == "error"
    assert (
        "ValueError: invalid literal for int() with base 10: 'broken\\nin two lines'"
        in (line["exception"])
    )
    assert line["stack"].startswith("Stack")
