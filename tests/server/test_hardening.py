"""Every answer of the service is hardened, and ``Authorization`` is read by one rule.

* ``X-Content-Type-Options: nosniff`` on every answer, whoever sends it (a route, an error
  handler, the request limits, the ``/userinfo`` shortcut, ``/docs`` and its assets, 404s),
  and ``Strict-Transport-Security`` when the issuer is https (RFC 6797).
* Finding 9: two ``Authorization`` fields are a 400 ``invalid_request`` (RFC 6750 §3.1), at
  the service as at the integrations: the same code decides for both.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from conftest import PASSWORD, Harness, RunApp
from starlette.routing import Route

from jwtkit.integrations._bearer import BearerError, parse_authorization, single_header
from jwtkit.server.app import HSTS_MAX_AGE

pytestmark = pytest.mark.anyio

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}


async def _every_answer(harness: Harness) -> dict[str, httpx.Response]:
    """One request per route (and per kind of error answer); the answers by label."""
    http = harness.http
    await harness.register()
    tokens = await harness.tokens()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    secret = await harness.add_client()
    basic = "Basic " + base64.b64encode(f"backend:{secret}".encode()).decode()
    change = {"current_password": PASSWORD, "new_password": PASSWORD + "!"}
    answers = {
        "POST /token": await harness.login(),
        "POST /token 400": await http.post("/token", data={"grant_type": "nope"}),
        "POST /token 401": await http.post(
            "/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic x"},
        ),
        "POST /revoke": await http.post("/revoke", data={"token": "x"}),
        "POST /introspect": await http.post(
            "/introspect", data={"token": "x"}, headers={"Authorization": basic}
        ),
        "GET /.well-known/jwks.json": await http.get("/.well-known/jwks.json"),
        "GET /.well-known/oauth-authorization-server": await http.get(
            "/.well-known/oauth-authorization-server"
        ),
        "GET /.well-known/openid-configuration": await http.get(
            "/.well-known/openid-configuration"
        ),
        "GET /demo": await http.get("/demo"),
        "GET /userinfo": await http.get("/userinfo", headers=bearer),
        "GET /userinfo 400": await http.get("/userinfo", headers={"Authorization": "Bearer a b"}),
        "GET /userinfo 401": await http.get("/userinfo"),
        "POST /users": await http.post("/users", json={"username": "bob", "password": PASSWORD}),
        "POST /users 415": await http.post("/users", content=b"x"),
        "POST /register": await http.post(
            "/register",
            json={"grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"},
        ),
        "POST /users/me/password": await http.post(
            "/users/me/password", json=change, headers=bearer
        ),
        "GET /authorize": await http.get("/authorize"),
        "POST /authorize": await http.post("/authorize", data={"client_id": "nobody"}),
        "POST /authorize/login": await http.post("/authorize/login", data={"x": "y"}),
        "POST /authorize/consent": await http.post("/authorize/consent", data={"x": "y"}),
        "GET /logout": await http.get("/logout"),
        "POST /logout": await http.post("/logout", data={"client_id": "nobody"}),
        "GET /static/jwtkit.css": await http.get("/static/jwtkit.css"),
        "GET /favicon.ico": await http.get("/favicon.ico"),
        "POST /audit": await http.post("/audit", json={"token": tokens["access_token"]}),
        "POST /audit 400": await http.post("/audit", json={"token": 1}),
        "GET /": await http.get("/"),
        "GET /page/{name}": await http.get("/page/page.css"),
        "GET /page/{name} 304": await http.get("/page/page.css", headers={"If-None-Match": "*"}),
        "GET /page/{name} 404": await http.get("/page/index.html"),
        "GET /healthz": await http.get("/healthz"),
        "GET /readyz": await http.get("/readyz"),
        "GET /metrics": await http.get("/metrics"),
        "GET /openapi.json": await http.get("/openapi.json"),
        "GET /docs": await http.get("/docs"),
        "GET /docs/assets/{name}": await http.get("/docs/assets/swagger-ui.css"),
        "GET /docs/assets/{name} 404": await http.get("/docs/assets/index.html"),
        "404": await http.get("/no-such-path"),
        "405": await http.delete("/token"),
        "413": await http.post("/token", content=b"x" * 70_000, headers=FORM),
        "400 Content-Length": await http.post(
            "/token", content=b"", headers={**FORM, "Content-Length": "x"}
        ),
    }
    # The route serves /userinfo when the shortcut is off; the shortcut otherwise.
    harness.app.userinfo_shortcut = False  # type: ignore[attr-defined]
    answers["GET /userinfo (route)"] = await http.get("/userinfo", headers=bearer)
    return answers


def _routes(harness: Harness) -> set[str]:
    return {
        f"{method} {route.path}"
        for route in harness.app.routes
        if isinstance(route, Route)
        for method in set(route.methods or ()) - {"HEAD"}
    }


@pytest.fixture
async def https_harness(run_app: RunApp) -> AsyncIterator[Harness]:
    async with run_app(issuer="https://id.example.com", environment="development") as harness:
        yield harness


async def test_every_answer_says_nosniff(harness: Harness) -> None:
    answers = await _every_answer(harness)
    assert _routes(harness) <= set(answers)  # every declared route was asked
    statuses = {label: response.status_code for label, response in answers.items()}
    assert {400, 401, 404, 405, 413, 415} <= set(statuses.values()), statuses
    for label, response in answers.items():
        assert response.headers.get_list("x-content-type-options") == ["nosniff"], label
        # An http issuer is a development service on this machine: no HSTS.
        assert "strict-transport-security" not in response.headers, label


async def test_every_answer_of_an_https_issuer_says_hsts(https_harness: Harness) -> None:
    answers = await _every_answer(https_harness)
    assert _routes(https_harness) <= set(answers)
    for label, response in answers.items():
        assert response.headers.get_list("strict-transport-security") == [
            f"max-age={HSTS_MAX_AGE}"
        ], label
        assert response.headers["x-content-type-options"] == "nosniff", label
    assert HSTS_MAX_AGE == 365 * 24 * 3600


async def test_a_500_says_nosniff_too(harness: Harness) -> None:
    async def failing(token: str) -> tuple[dict[str, Any], None]:
        raise RuntimeError("internals")

    harness.service.verify_access_token_of_user = failing  # type: ignore[method-assign]
    for shortcut in (True, False):
        harness.app.userinfo_shortcut = shortcut  # type: ignore[attr-defined]
        response = await harness.http.get("/userinfo", headers={"Authorization": "Bearer abc"})
        assert response.status_code == 500
        assert response.headers["x-content-type-options"] == "nosniff"
    harness.app.state.unhandled_errors = 0  # counted on purpose here


async def test_headers_an_answer_sets_itself_are_kept(harness: Harness) -> None:
    @harness.app.get("/custom")
    async def custom() -> Any:
        from fastapi.responses import JSONResponse

        return JSONResponse({}, headers={"X-Content-Type-Options": "other"})

    response = await harness.http.get("/custom")
    assert response.headers.get_list("x-content-type-options") == ["other"]


# -- Authorization: one rule for the service and the integrations ------------------------------

AUTHORIZATIONS: list[list[str]] = [
    [],
    ["Bearer abc"],
    ["bearer  abc"],
    ["Bearer abc", "Bearer abc"],
    ["Bearer abc", "Basic eDp5"],
    ["Basic eDp5", "Bearer abc"],
    ["Basic eDp5"],
    ["Bearer"],
    ["Bearer a b"],
    ["Bearer \tabc"],
    ["Bearer abc\u00a0"],
    ["Bearer t\u00f6ken"],
    ["Bearer abc \t"],
    [""],
]


def _integration_answer(values: list[str]) -> tuple[int, str | None]:
    """What the integrations answer: (status, error code in the challenge)."""
    try:
        token = parse_authorization(single_header(values))
    except BearerError as exc:
        return exc.status, exc.error
    if token is None:
        return 401, None
    return 401, "invalid_token"  # well-formed, but not a token of the service


@pytest.mark.parametrize("values", AUTHORIZATIONS, ids=repr)
@pytest.mark.parametrize("path", ["/userinfo", "/userinfo (route)", "/users/me/password"])
async def test_the_service_reads_authorization_like_the_integrations(
    harness: Harness, values: list[str], path: str
) -> None:
    headers = [(b"authorization", value.encode("latin-1")) for value in values]
    if path == "/users/me/password":
        response = await harness.http.post(path, headers=[*headers, (b"content-type", b"x")])
    else:
        harness.app.userinfo_shortcut = path == "/userinfo"  # type: ignore[attr-defined]
        response = await harness.http.get("/userinfo", headers=headers)
    status, error = _integration_answer(values)
    assert response.status_code == status, response.text
    challenge = response.headers["www-authenticate"]
    if error is None:
        assert "error=" not in challenge
    else:
        assert f'error="{error}"' in challenge
        assert response.json()["error"] == error


async def test_two_authorization_headers_at_the_token_endpoint_are_refused(
    harness: Harness,
) -> None:
    secret = await harness.add_client()
    basic = "Basic " + base64.b64encode(f"backend:{secret}".encode()).decode()
    form = {"grant_type": "client_credentials"}
    assert (
        await harness.http.post("/token", data=form, headers={"Authorization": basic})
    ).is_success
    for second in (basic, "Basic " + base64.b64encode(b"other:secret").decode()):
        response = await harness.http.post(
            "/token", data=form, headers=[("authorization", basic), ("authorization", second)]
        )
        assert response.status_code == 400
        assert response.json() == {
            "error": "invalid_request",
            "error_description": "more than one Authorization header",
        }
