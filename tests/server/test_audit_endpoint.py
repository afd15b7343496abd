"""``POST /audit``: the findings of ``jwtkit audit --json``, a strict body, no echo, no cache."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from conftest import T0, Harness, RunApp
from test_e2e import _serve

from jwtkit.cli import _time
from jwtkit.cli.audit import audit_command

JSON = {"Content-Type": "application/json"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _token(header: dict[str, Any], claims: dict[str, Any]) -> str:
    parts = (json.dumps(header).encode(), json.dumps(claims).encode(), b"sig")
    return ".".join(_b64(part) for part in parts)


#: A token with findings of every kind: header, times, missing claims, sensitive data.
BAD = _token(
    {"alg": "HS256", "kid": "../../etc/passwd"},
    {"sub": "42", "password": "hunter2", "email": "alice@example.com", "exp": T0 + 7 * 86400},
)
GOOD = _token(
    {"alg": "ES256", "typ": "at+jwt", "kid": "k1"},
    {"iss": "https://id.example", "aud": "api", "sub": "42", "jti": "j", "iat": T0, "exp": T0 + 60},
)


def _cli_audit(token: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(_time, "current_time", lambda: T0)
    result = CliRunner().invoke(audit_command, ["--json", token])
    answer: dict[str, Any] = json.loads(result.output)
    return answer


@pytest.mark.anyio
async def _audit(harness: Harness, body: Any, **options: Any) -> httpx.Response:
    return await harness.http.post("/audit", json=body, **options)


def _no_echo(response: httpx.Response, token: str) -> None:
    for part in (token, *(segment for segment in token.split(".") if len(segment) > 3)):
        assert part not in response.text


@pytest.mark.anyio
async def test_the_findings_of_jwtkit_audit_json(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    response = await _audit(harness, {"token": BAD})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    answer = response.json()
    assert set(answer) == {"findings", "counts"}
    cli = _cli_audit(BAD, monkeypatch)
    assert answer["counts"] == cli["counts"]
    assert answer["findings"] == [
        {
            "id": f["id"],
            "severity": f["severity"],
            "where": f["location"],
            "message": f["message"],
            "fix": f["fix"],
        }
        for f in cli["findings"]
    ]
    ids = {f["id"] for f in answer["findings"]}
    assert {"alg-hmac", "kid-suspicious", "lifetime-long", "sensitive-name", "email"} <= ids
    # The audit is the offline lint: no weak-secret guessing on the service.
    assert "weak-secret" not in ids
    _no_echo(response, BAD)


@pytest.mark.anyio
async def test_a_good_token_and_a_jwe(harness: Harness) -> None:
    good = (await _audit(harness, {"token": GOOD})).json()
    assert good == {
        "findings": [],
        "counts": {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0},
    }
    header = _b64(json.dumps({"alg": "RSA1_5", "enc": "A128GCM", "zip": "DEF"}).encode())
    jwe = f"{header}.{_b64(b'k' * 32)}.{_b64(b'i' * 12)}.{_b64(b'c' * 20)}.{_b64(b't' * 16)}"
    answer = (await _audit(harness, {"token": jwe})).json()
    assert [f["id"] for f in answer["findings"]] == ["alg-rsa1_5", "header-zip"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"token=x", "request body"),
        (b"[1]", "request body"),
        (b'{"token": "a", "token": "b"}', "request body"),
        (b"{}", "one member"),
        (b'{"token": "a.b.c", "more": 1}', "one member"),
        (b'{"token": 42}', "must be a string"),
        (b'{"token": null}', "must be a string"),
    ],
    ids=["not-json", "array", "repeated", "empty", "extra-member", "number", "null"],
)
@pytest.mark.anyio
async def test_a_body_that_is_not_one_token_is_invalid_request(
    harness: Harness, content: bytes, reason: str
) -> None:
    response = await harness.http.post("/audit", content=content, headers=JSON)
    assert response.status_code == 400
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["error"] == "invalid_request"
    assert reason in response.json()["error_description"]


@pytest.mark.anyio
async def test_other_media_types_and_oversized_bodies(harness: Harness) -> None:
    form = await harness.http.post("/audit", data={"token": GOOD})
    assert form.status_code == 415
    assert form.json()["error"] == "invalid_request"
    huge = await _audit(harness, {"token": "a" * harness.settings.max_body_bytes})
    assert huge.status_code == 413
    assert huge.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln",  # the payload is not JSON
        "a.b.c.d",
    ],
)
@pytest.mark.anyio
async def test_a_token_that_cannot_be_read_is_invalid_request_without_echo(
    harness: Harness, token: str
) -> None:
    response = await _audit(harness, {"token": token})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.json()["error_description"]
    _no_echo(response, token)


@pytest.mark.anyio
async def test_a_token_over_the_core_maximum_size_is_invalid_request(run_app: RunApp) -> None:
    async with run_app(max_body_bytes=1024 * 1024) as harness:
        token = "a" * (256 * 1024 + 1)
        response = await _audit(harness, {"token": token})
        assert response.status_code == 400
        assert "more than the maximum" in response.json()["error_description"]


@pytest.mark.anyio
async def test_on_in_production_and_in_the_openapi_document(run_app: RunApp) -> None:
    production = {
        "environment": "production",
        "issuer": "https://id.example",
        "argon2_memory_cost": 19456,
        "docs": True,
    }
    async with run_app(**production) as harness:
        response = await _audit(harness, {"token": GOOD})
        assert response.status_code == 200
        document = (await harness.http.get("/openapi.json")).json()
        operation = document["paths"]["/audit"]["post"]
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert schema["required"] == ["token"]
        assert schema["additionalProperties"] is False
        assert {"200", "400", "413", "415"} <= set(operation["responses"])


def test_through_a_real_jwtkit_serve(tmp_path: Path) -> None:
    with _serve(tmp_path, None) as server, httpx.Client(base_url=server.url) as http:
        answer = http.post("/audit", json={"token": BAD})
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "no-store"
        assert {"alg-hmac", "kid-suspicious"} <= {f["id"] for f in answer.json()["findings"]}
        assert BAD not in answer.text
        refused = http.post("/audit", content=b"[]", headers=JSON)
        assert refused.status_code == 400
        assert refused.json()["error"] == "invalid_request"
