"""The HTTP layer: the README's lifecycle, response headers, discovery, and bad input.

Bad input of every kind gets a JSON 4xx with an RFC 6749 §5.2 body, never a 500: the
``run_app`` fixture asserts after each test that the catch-all handler was never reached.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import PASSWORD, Harness, RunApp, make_settings
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

import jwtkit
from jwtkit.server import create_app
from jwtkit.server.app import app_from_environment
from jwtkit.server.config import Settings
from jwtkit.server.models import User
from jwtkit.server.oauth_errors import (
    OAuthError,
    bearer_challenge,
    sanitize_description,
    too_many_attempts,
)
from jwtkit.server.storage import SQLiteStore, StoreError
from jwtkit.server.users import userinfo_claims
from jwtkit.testing import FrozenClock

pytestmark = pytest.mark.anyio

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _assert_json_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert isinstance(body["error"], str)
    assert isinstance(body["error_description"], str)
    return body


async def test_the_whole_lifecycle(harness: Harness) -> None:
    """register -> login -> /userinfo -> refresh -> old refresh reused -> family revoked ->
    log out (revoke)."""
    registered = await harness.http.post("/users", json={"username": "alice", "password": PASSWORD})
    assert registered.status_code == 201
    user_id = registered.json()["id"]

    login = await harness.http.post(
        "/token", data={"grant_type": "password", "username": "alice", "password": PASSWORD}
    )
    assert login.status_code == 200
    assert login.headers["cache-control"] == "no-store"
    assert login.headers["pragma"] == "no-cache"
    tokens = login.json()
    assert set(tokens) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}

    me = await harness.userinfo(tokens["access_token"])
    assert me.status_code == 200
    assert me.json()["sub"] == user_id

    harness.clock.advance(60)
    refreshed = await harness.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert (await harness.userinfo(new["access_token"])).status_code == 200

    reused = await harness.refresh(tokens["refresh_token"])
    assert _assert_json_error(reused, 400)["error"] == "invalid_grant"
    family_gone = await harness.refresh(new["refresh_token"])
    assert _assert_json_error(family_gone, 400)["error"] == "invalid_grant"

    again = await harness.tokens()
    logout = await harness.http.post("/revoke", data={"token": again["refresh_token"]})
    assert logout.status_code == 200
    await harness.http.post("/revoke", data={"token": again["access_token"]})
    assert (await harness.refresh(again["refresh_token"])).status_code == 400
    assert (await harness.userinfo(again["access_token"])).status_code == 401


async def test_discovery_documents(harness: Harness) -> None:
    metadata = await harness.http.get("/.well-known/oauth-authorization-server")
    assert metadata.status_code == 200
    document = metadata.json()
    issuer = harness.settings.issuer
    assert document["issuer"] == issuer
    assert document["token_endpoint"] == f"{issuer}/token"
    assert document["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert document["revocation_endpoint"] == f"{issuer}/revoke"
    assert document["introspection_endpoint"] == f"{issuer}/introspect"
    assert set(document["grant_types_supported"]) == {
        "authorization_code",
        "password",
        "refresh_token",
        "client_credentials",
    }
    oidc = await harness.http.get("/.well-known/openid-configuration")
    assert oidc.json() == document


async def test_jwks_document(harness: Harness) -> None:
    response = await harness.http.get("/.well-known/jwks.json")
    assert response.headers["content-type"].startswith("application/jwk-set+json")
    assert "max-age" in response.headers["cache-control"]
    # the access tokens' key (signing_algorithm), then the ID tokens' (id_token_algorithms)
    keys = response.json()["keys"]
    assert [(key["kty"], key["alg"]) for key in keys] == [("EC", "ES256"), ("RSA", "RS256")]
    for key in keys:
        assert key["use"] == "sig"
        assert "d" not in key
        assert jwtkit.Key.from_jwk(key).thumbprint() == key["kid"]


async def test_healthz_and_openapi(harness: Harness) -> None:
    assert (await harness.http.get("/healthz")).json() == {"status": "ok"}
    openapi = (await harness.http.get("/openapi.json")).json()
    token = openapi["paths"]["/token"]["post"]
    schema = token["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert "grant_type" in schema["required"]
    assert "/users/me/password" in openapi["paths"]
    docs = await harness.http.get("/docs")
    assert docs.status_code == 200


#: What /docs may reference, by extension: the media type the service must answer with.
_ASSET_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".json": "application/json",
}


async def test_docs_reference_only_assets_that_the_service_serves(harness: Harness) -> None:
    """Swagger UI works offline: /docs names no other host (FastAPI's own page loads its
    script and style sheet from a CDN), and every asset it names is served here."""
    docs = await harness.http.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    html = docs.text
    assert re.search(r"(?i)(https?:)?//", html) is None, "an absolute URL in /docs"
    references = re.findall(r'(?:src|href)="([^"]*)"', html) + re.findall(r"url: '([^']*)'", html)
    assert {Path(reference).suffix for reference in references} == set(_ASSET_TYPES)
    for reference in references:
        assert reference.startswith("/"), reference
        answer = await harness.http.get(reference)
        assert answer.status_code == 200, reference
        media_type = answer.headers["content-type"].split(";")[0]
        assert media_type == _ASSET_TYPES[Path(reference).suffix], reference
        assert answer.content, reference
    (script,) = [reference for reference in references if reference.endswith(".js")]
    assert "SwaggerUIBundle" in (await harness.http.get(script)).text
    # Only the assets /docs uses: not the bundle's demo page (it loads a remote document).
    for name in ("index.html", "swagger-initializer.js", "..%2F__init__.py", "nothing.js"):
        missing = await harness.http.get(f"/docs/assets/{name}")
        assert _assert_json_error(missing, 404)["error"] == "not_found"
    metadata = (await harness.http.get("/.well-known/oauth-authorization-server")).json()
    assert metadata["service_documentation"] == f"{harness.settings.issuer}/docs"


async def test_docs_follow_the_root_path_of_a_proxy(settings: Settings) -> None:
    app = create_app(settings, clock=FrozenClock(0))
    transport = httpx.ASGITransport(app=app, root_path="/auth")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        html = (await http.get("/docs")).text
    assert "url: '/auth/openapi.json'" in html
    assert 'src="/auth/docs/assets/swagger-ui-bundle.js"' in html


@pytest.mark.parametrize(
    ("docs", "status"), [(None, 404), (False, 404), (True, 200)], ids=["unset", "off", "on"]
)
async def test_docs_are_off_in_production_unless_enabled(
    run_app: RunApp, docs: bool | None, status: int
) -> None:
    production = {
        "environment": "production",
        "issuer": "https://id.example",
        "argon2_memory_cost": 19456,
        "docs": docs,
    }
    async with run_app(**production) as harness:
        for path in ("/docs", "/openapi.json", "/docs/assets/swagger-ui-bundle.js", "/redoc"):
            expected = 404 if path == "/redoc" else status
            assert (await harness.http.get(path)).status_code == expected, path
        metadata = (await harness.http.get("/.well-known/oauth-authorization-server")).json()
        assert ("service_documentation" in metadata) is (status == 200)
        assert metadata["token_endpoint"] == "https://id.example/token"


async def test_docs_can_be_switched_off_in_development(run_app: RunApp) -> None:
    async with run_app(docs=False) as harness:
        assert (await harness.http.get("/docs")).status_code == 404
        assert (await harness.http.get("/openapi.json")).status_code == 404
        assert (await harness.http.get("/healthz")).status_code == 200


async def test_registration(harness: Harness) -> None:
    await harness.register("bob")
    duplicate = await harness.http.post("/users", json={"username": "bob", "password": PASSWORD})
    assert _assert_json_error(duplicate, 409)["error"] == "username_taken"
    weak = await harness.http.post("/users", json={"username": "carol", "password": "password"})
    assert "common" in _assert_json_error(weak, 400)["error_description"]
    bad_name = await harness.http.post("/users", json={"username": " x", "password": PASSWORD})
    _assert_json_error(bad_name, 400)


async def test_registration_with_a_profile(harness: Harness) -> None:
    """``POST /users`` may carry ``email`` and ``name`` (OpenID Connect Core §5.1), checked as
    ``jwtkit users add`` checks them; a self-asserted address is never verified."""
    body = {"username": "alice", "password": PASSWORD, "email": "a@example.com", "name": "Alice"}
    created = await harness.http.post("/users", json=body)
    assert created.status_code == 201, created.text
    answer = created.json()
    assert set(answer) == {"id", "username", "created_at", "email", "name"}
    assert (answer["email"], answer["name"]) == ("a@example.com", "Alice")
    user = await harness.store.user_by_name("alice")
    assert user is not None
    assert (user.email, user.email_verified, user.name) == ("a@example.com", False, "Alice")
    only_name = await harness.http.post(
        "/users", json={"username": "bob", "password": PASSWORD, "name": "Bob"}
    )
    assert set(only_name.json()) == {"id", "username", "created_at", "name"}
    bare = await harness.http.post("/users", json={"username": "dave", "password": PASSWORD})
    assert set(bare.json()) == {"id", "username", "created_at"}  # as before the profile
    for bad in (
        {"email": "not an address"},
        {"email": "a@b@example.com"},
        {"name": "Alice\nSmith"},
        {"name": ""},
        {"email": "x" * 300 + "@example.com"},
        {"email": ["a@example.com"]},
        {"email_verified": True},  # only an administrator vouches for an address
    ):
        refused = await harness.http.post(
            "/users", json={"username": "carol", "password": PASSWORD, **bad}
        )
        assert _assert_json_error(refused, 400)["error"] == "invalid_request", bad
    assert await harness.store.user_by_name("carol") is None


async def test_registration_can_be_switched_off(run_app: RunApp) -> None:
    async with run_app(allow_registration=False) as harness:
        response = await harness.http.post("/users", json={"username": "bob", "password": PASSWORD})
        assert _assert_json_error(response, 403)["error"] == "access_denied"


# -- bad input -------------------------------------------------------------------------------

TOKEN_BODIES: list[tuple[str, bytes, dict[str, str], int, str]] = [
    ("no grant_type", b"username=a", FORM, 400, "invalid_request"),
    ("empty body", b"", FORM, 400, "invalid_request"),
    ("blank grant_type", b"grant_type=", FORM, 400, "invalid_request"),
    ("unknown grant", b"grant_type=implicit&code=x", FORM, 400, "unsupported_grant_type"),
    ("implicit", b"grant_type=implicit", FORM, 400, "unsupported_grant_type"),
    (
        "repeated parameter",
        b"grant_type=password&grant_type=password",
        FORM,
        400,
        "invalid_request",
    ),
    ("no equals sign", b"grant_type", FORM, 400, "invalid_request"),
    (
        "bad percent escapes stay literal",
        b"grant_type=%ZZ&x=%",
        FORM,
        400,
        "unsupported_grant_type",
    ),
    ("not utf-8", b"grant_type=password&username=\xff\xfe", FORM, 400, "invalid_request"),
    ("percent not utf-8", b"grant_type=password&username=%ff", FORM, 400, "invalid_request"),
    ("too many fields", b"&".join(b"f%d=1" % i for i in range(100)), FORM, 400, "invalid_request"),
    (
        "latin-1 charset",
        b"grant_type=password",
        {"Content-Type": "application/x-www-form-urlencoded; charset=latin-1"},
        400,
        "invalid_request",
    ),
    (
        "json body",
        b'{"grant_type": "password"}',
        {"Content-Type": "application/json"},
        400,
        "invalid_request",
    ),
    ("text body", b"grant_type=password", {"Content-Type": "text/plain"}, 400, "invalid_request"),
    ("no content type", b"grant_type=password", {}, 400, "invalid_request"),
    (
        "multipart",
        b'--b\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\npassword\r\n--b--\r\n',
        {"Content-Type": "multipart/form-data; boundary=b"},
        400,
        "invalid_request",
    ),
    ("missing password", b"grant_type=password&username=alice", FORM, 400, "invalid_request"),
    ("missing refresh token", b"grant_type=refresh_token", FORM, 400, "invalid_request"),
    (
        "nul in username",
        b"grant_type=password&username=a%00b&password=x",
        FORM,
        400,
        "invalid_grant",
    ),
    (
        "unknown client",
        b"grant_type=password&username=a&password=b&client_id=zz",
        FORM,
        401,
        "invalid_client",
    ),
    (
        "client_secret without client_id",
        b"grant_type=client_credentials&client_secret=s",
        FORM,
        401,
        "invalid_client",
    ),
]


@pytest.mark.parametrize(
    ("body", "headers", "status", "error"),
    [case[1:] for case in TOKEN_BODIES],
    ids=[case[0] for case in TOKEN_BODIES],
)
async def test_bad_token_requests_get_json_4xx(
    harness: Harness, body: bytes, headers: dict[str, str], status: int, error: str
) -> None:
    response = await harness.http.post("/token", content=body, headers=headers)
    assert _assert_json_error(response, status)["error"] == error
    assert response.headers["cache-control"] == "no-store"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


BAD_CLIENT_AUTH = [
    ("not base64", "Basic !!!"),
    ("no colon", "Basic " + _b64(b"justanid")),
    ("empty id", "Basic " + _b64(b":secret")),
    ("not utf-8", "Basic " + _b64(b"\xff:\xfe")),
    ("bearer on token endpoint", "Bearer abc"),
    ("digest", "Digest username=x"),
    ("empty", "Basic"),
    ("wrong secret", "Basic " + _b64(b"first-party:guess")),
]


@pytest.mark.parametrize(
    "header", [c[1] for c in BAD_CLIENT_AUTH], ids=[c[0] for c in BAD_CLIENT_AUTH]
)
async def test_invalid_client_authentication(harness: Harness, header: str) -> None:
    response = await harness.http.post(
        "/token", data={"grant_type": "client_credentials"}, headers={"Authorization": header}
    )
    assert _assert_json_error(response, 401)["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic ")


async def test_two_client_authentication_methods_are_refused(harness: Harness) -> None:
    secret = await harness.add_client("backend")
    basic = "Basic " + _b64(f"backend:{secret}".encode())
    both = await harness.http.post(
        "/token",
        data={"grant_type": "client_credentials", "client_secret": secret},
        headers={"Authorization": basic},
    )
    assert _assert_json_error(both, 400)["error"] == "invalid_request"
    mismatch = await harness.http.post(
        "/token",
        data={"grant_type": "client_credentials", "client_id": "other"},
        headers={"Authorization": basic},
    )
    assert _assert_json_error(mismatch, 400)["error"] == "invalid_request"
    same = await harness.http.post(
        "/token",
        data={"grant_type": "client_credentials", "client_id": "backend"},
        headers={"Authorization": basic},
    )
    assert same.status_code == 200


BAD_BEARERS: list[tuple[str, dict[str, str], int, str]] = [
    ("no header", {}, 401, ""),
    ("basic scheme", {"Authorization": "Basic " + _b64(b"a:b")}, 401, ""),
    ("empty bearer", {"Authorization": "Bearer"}, 400, "invalid_request"),
    ("two tokens", {"Authorization": "Bearer a b"}, 400, "invalid_request"),
    ("non-b64token", {"Authorization": "Bearer t@ken"}, 400, "invalid_request"),
    ("garbage", {"Authorization": "Bearer abc"}, 401, "invalid_token"),
    ("three dots", {"Authorization": "Bearer a.b.c"}, 401, "invalid_token"),
    ("header not json", {"Authorization": "Bearer " + "e30.e30.sig"}, 401, "invalid_token"),
    ("huge", {"Authorization": "Bearer " + "a" * 10000}, 401, "invalid_token"),
    (
        "alg none",
        {"Authorization": "Bearer eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.e30."},
        401,
        "invalid_token",
    ),
]


@pytest.mark.parametrize(
    ("headers", "status", "error"),
    [case[1:] for case in BAD_BEARERS],
    ids=[case[0] for case in BAD_BEARERS],
)
async def test_bad_bearer_tokens_get_401_with_a_challenge(
    harness: Harness, headers: dict[str, str], status: int, error: str
) -> None:
    response = await harness.http.get("/userinfo", headers=headers)
    _assert_json_error(response, status)
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="jwtkit"')
    if error:
        assert f'error="{error}"' in challenge
    else:  # RFC 6750 §3.1: no error code when no credentials were sent
        assert "error=" not in challenge


async def test_non_ascii_authorization_header(harness: Harness) -> None:
    headers = [(b"authorization", "Bearer t\u00f6ken".encode("latin-1"))]
    response = await harness.http.get("/userinfo", headers=headers)
    assert _assert_json_error(response, 400)["error"] == "invalid_request"


JSON_BODIES: list[tuple[str, bytes, dict[str, str], int]] = [
    ("not json", b"{nope", {"Content-Type": "application/json"}, 400),
    ("array", b"[1, 2]", {"Content-Type": "application/json"}, 400),
    (
        "wrong types",
        b'{"username": 1, "password": true}',
        {"Content-Type": "application/json"},
        400,
    ),
    ("missing field", b'{"username": "x"}', {"Content-Type": "application/json"}, 400),
    (
        "extra field",
        b'{"username": "x", "password": "long enough!", "admin": true}',
        {"Content-Type": "application/json"},
        400,
    ),
    ("form instead", b"username=x&password=y", FORM, 415),
    ("no content type", b'{"username": "x", "password": "y"}', {}, 415),
    ("not utf-8", b'{"username": "\xff"}', {"Content-Type": "application/json"}, 400),
    ("latin-1", b"{}", {"Content-Type": "application/json; charset=latin-1"}, 400),
]


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [case[1:] for case in JSON_BODIES],
    ids=[case[0] for case in JSON_BODIES],
)
async def test_bad_json_bodies(
    harness: Harness, body: bytes, headers: dict[str, str], status: int
) -> None:
    response = await harness.http.post("/users", content=body, headers=headers)
    _assert_json_error(response, status)


async def test_bad_password_change_bodies(harness: Harness) -> None:
    await harness.register()
    token = (await harness.tokens())["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    for body, headers in (
        (b"{}", {"Content-Type": "application/json", **auth}),
        (b"current_password=x", {**FORM, **auth}),
        (
            b'{"current_password": "x", "new_password": null}',
            {"Content-Type": "application/json", **auth},
        ),
    ):
        response = await harness.http.post("/users/me/password", content=body, headers=headers)
        assert response.status_code in {400, 415}
        _assert_json_error(response, response.status_code)
    unauthenticated = await harness.http.post("/users/me/password", json={})
    _assert_json_error(unauthenticated, 401)


async def test_huge_bodies_get_413(run_app: RunApp) -> None:
    async with run_app(max_body_bytes=1024) as harness:
        big = b"grant_type=password&username=" + b"a" * 2000
        response = await harness.http.post("/token", content=big, headers=FORM)
        assert _assert_json_error(response, 413)["error"] == "invalid_request"

        async def chunks() -> AsyncIterator[bytes]:
            yield b"grant_type=password&username="
            for _ in range(10):
                yield b"a" * 500

        chunked = await harness.http.post("/token", content=chunks(), headers=FORM)
        assert "content-length" not in chunked.request.headers
        _assert_json_error(chunked, 413)
        user = await harness.http.post(
            "/users",
            content=b'{"username": "' + b"a" * 2000 + b'"}',
            headers={"Content-Type": "application/json"},
        )
        _assert_json_error(user, 413)
        small_chunks = await harness.http.post(
            "/token", content=_async_body(b"grant_type=nope"), headers=FORM
        )
        assert _assert_json_error(small_chunks, 400)["error"] == "unsupported_grant_type"


async def _async_body(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_bad_content_length_is_refused(harness: Harness) -> None:
    # httpx always computes Content-Length itself: drive the ASGI app directly.
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        messages.append(dict(message))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/token",
        "raw_path": b"/token",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-length", b"-5"), (b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
        "app": harness.app,
    }
    await harness.app(scope, receive, send)
    assert messages[0]["status"] == 400
    assert json.loads(messages[1]["body"])["error"] == "invalid_request"


async def _raw_post(harness: Harness, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drive the ASGI app with hand-made ``receive`` messages (what httpx cannot send)."""
    sent: list[dict[str, Any]] = []
    incoming = iter(messages)

    async def receive() -> dict[str, Any]:
        return next(incoming)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/token",
        "raw_path": b"/token",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"host", b"testserver"),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
        "app": harness.app,
    }
    await harness.app(scope, receive, send)
    return sent


async def test_a_client_that_disconnects_mid_body_is_not_an_error(harness: Harness) -> None:
    sent = await _raw_post(
        harness,
        [
            {"type": "http.request", "body": b"grant_type=pass", "more_body": True},
            {"type": "http.disconnect"},
        ],
    )
    assert sent[0]["status"] == 400


async def test_validation_errors_of_declared_parameters_are_400(harness: Harness) -> None:
    @harness.app.get("/probe")
    async def probe(number: int) -> dict[str, int]:
        return {"number": number}

    assert (await harness.http.get("/probe?number=3")).json() == {"number": 3}
    response = await harness.http.get("/probe?number=three")
    body = _assert_json_error(response, 400)
    assert body["error"] == "invalid_request"
    assert "three" not in body["error_description"]


async def test_unknown_paths_and_methods_are_json(harness: Harness) -> None:
    missing = await harness.http.get("/nope")
    assert _assert_json_error(missing, 404)["error"] == "not_found"
    method = await harness.http.get("/token")
    assert _assert_json_error(method, 405)["error"] == "method_not_allowed"
    assert "POST" in method.headers["allow"]


# -- GET /userinfo: claims by scope (OpenID Connect Core §5.3.2, §5.4) ------------------------


async def _scoped_token(harness: Harness, secret: str, scope: str, username: str = "alice") -> str:
    """An access token of ``username`` for the client ``spa`` (password grant) with ``scope``."""
    response = await harness.http.post(
        "/token",
        data={"grant_type": "password", "username": username, "password": PASSWORD, "scope": scope},
        auth=("spa", secret),
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def test_userinfo_gives_the_profile_claims_the_scope_grants(harness: Harness) -> None:
    """``sub`` always; ``profile``: ``preferred_username`` and ``name``; ``email``: ``email``
    and ``email_verified``; unset values are left out. The token's own claims stay as they
    were (backward compatible)."""
    secret = await harness.add_client(
        "spa", grants=("password",), scopes=("openid", "profile", "email", "read")
    )
    body = {"username": "Alice", "password": PASSWORD, "email": "a@example.com", "name": "Al"}
    assert (await harness.http.post("/users", json=body)).status_code == 201
    await harness.register("bob")
    expected: dict[str, dict[str, Any]] = {
        "openid": {},
        "read": {},
        "openid profile": {"preferred_username": "Alice", "name": "Al"},
        "openid email": {"email": "a@example.com", "email_verified": False},
        "profile email read": {
            "preferred_username": "Alice",
            "name": "Al",
            "email": "a@example.com",
            "email_verified": False,
        },
    }
    for scope, members in expected.items():
        token = await _scoped_token(harness, secret, scope)
        claims = await harness.service.verify_access_token(token)
        answer = (await harness.userinfo(token)).json()
        assert answer == {**claims, **members}, scope
        assert answer["sub"] == claims["sub"]
    user = await harness.store.user_by_name("alice")
    assert user is not None
    await harness.store.set_profile(user.id, email="a@example.com", email_verified=True, name=None)
    token = await _scoped_token(harness, secret, "openid profile email")
    answer = (await harness.userinfo(token)).json()
    assert (answer["email_verified"], answer["preferred_username"]) == (True, "Alice")
    assert "name" not in answer
    # bob has no profile: the username only, and nothing for the email scope.
    token = await _scoped_token(harness, secret, "openid profile email", "bob")
    answer = (await harness.userinfo(token)).json()
    assert answer["preferred_username"] == "bob"
    assert not {"name", "email", "email_verified"} & set(answer)


async def test_userinfo_of_a_client_token_has_no_profile_claims(harness: Harness) -> None:
    """A ``client_credentials`` token has no end-user (``sub`` is the client): no profile."""
    secret = await harness.add_client(scopes=("profile", "email"))
    response = await harness.http.post(
        "/token", data={"grant_type": "client_credentials"}, auth=("backend", secret)
    )
    token = response.json()["access_token"]
    assert (await harness.userinfo(token)).json() == await harness.service.verify_access_token(
        token
    )


async def test_the_email_scope_is_granted_where_it_is_configured(run_app: RunApp) -> None:
    """``email`` is a scope like any other: the first-party login gets it when
    ``default_scope`` names it (and a client when registered with ``--scope email``)."""
    async with run_app(default_scope="openid profile email") as harness:
        body = {"username": "alice", "password": PASSWORD, "email": "a@example.com"}
        assert (await harness.http.post("/users", json=body)).status_code == 201
        answer = await harness.tokens()
        assert answer["scope"] == "openid profile email"
        info = (await harness.userinfo(answer["access_token"])).json()
        assert (info["email"], info["email_verified"]) == ("a@example.com", False)
        metadata = (await harness.http.get("/.well-known/openid-configuration")).json()
        assert "email" in metadata["scopes_supported"]
    async with run_app() as harness:  # the default: openid profile, as before
        assert (await harness.login(scope="openid email")).json()["error"] == "invalid_scope"


def test_userinfo_claims_of_no_user_are_none() -> None:
    """The user of a verified token may be gone by the time its profile is read."""
    assert userinfo_claims("openid profile email", None) == {}
    user = User("u1", "alice", "h", 0.0, email="a@example.com", name="A")
    assert userinfo_claims("profiles emails", user) == {}  # whole scope tokens only


# -- GET /userinfo: the shortcut ---------------------------------------------------------------


class _Passthrough:
    """A middleware that does nothing, but is not the service's own: it turns the shortcut off."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


async def _asgi(
    app: Any,
    headers: list[tuple[bytes, bytes]],
    *,
    method: str = "GET",
    path: str = "/userinfo",
    root_path: str = "",
) -> list[dict[str, Any]]:
    """One request straight into the ASGI app; the messages it sent back."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": root_path + path,
        "raw_path": (root_path + path).encode(),
        "query_string": b"",
        "root_path": root_path,
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    return sent


@pytest.fixture
async def routed(harness: Harness) -> AsyncIterator[FastAPI]:
    """A second app on the same store and clock whose extra middleware turns the shortcut off:
    its GET /userinfo goes through FastAPI's middleware, routing and exception handlers."""
    app = create_app(harness.settings, store=harness.store, clock=harness.clock)
    app.add_middleware(_Passthrough)
    async with app.router.lifespan_context(app):
        yield app
    assert app.state.unhandled_errors == 0


async def test_the_userinfo_shortcut_answers_exactly_like_the_route(
    harness: Harness, routed: FastAPI
) -> None:
    await harness.register()
    answer = await harness.tokens()
    revoked = (await harness.tokens())["access_token"]
    await harness.http.post("/revoke", data={"token": revoked})
    bearer = f"Bearer {answer['access_token']}".encode()
    # The profile claims by scope (OpenID Connect Core §5.4): a user with a full profile.
    secret = await harness.add_client(
        "spa", grants=("password",), scopes=("openid", "profile", "email")
    )
    profile = {"username": "bob", "password": PASSWORD, "email": "b@example.com", "name": "Bob B"}
    assert (await harness.http.post("/users", json=profile)).status_code == 201
    scoped = [
        [
            (
                b"authorization",
                f"Bearer {await _scoped_token(harness, secret, scope, 'bob')}".encode(),
            )
        ]
        for scope in ("openid", "openid profile", "openid email", "openid profile email")
    ]
    cases: list[list[tuple[bytes, bytes]]] = [
        *scoped,
        [(b"authorization", bearer)],
        [(b"authorization", bearer), (b"authorization", b"Bearer second")],
        [(b"authorization", bearer), (b"content-length", b"0")],
        [(b"authorization", bearer), (b"content-length", b"-1")],
        [(b"authorization", bearer), (b"content-length", b"99999999")],
        [],
        [(b"authorization", b"Basic Zm9vOmJhcg==")],
        [(b"authorization", b"Bearer a b")],
        [(b"authorization", "Bearer t\u00f6ken".encode("latin-1"))],
        [(b"authorization", b"Bearer a.b.c")],
        [(b"authorization", f"Bearer {revoked}".encode())],
    ]
    await harness.http.get("/healthz")  # the first request builds the middleware stack
    assert harness.app.userinfo_shortcut  # type: ignore[attr-defined]
    calls = 0
    stack = harness.app.middleware_stack
    assert stack is not None

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        nonlocal calls
        calls += 1
        await stack(scope, receive, send)

    harness.app.middleware_stack = counting
    statuses = []
    for headers in cases:
        shortcut = await _asgi(harness.app, headers)
        assert shortcut == await _asgi(routed, headers), headers
        statuses.append(shortcut[0]["status"])
    # Two Authorization fields: 400 invalid_request (RFC 6750 §3.1), as the integrations answer.
    assert statuses == [200, 200, 200, 200, 200, 400, 200, 400, 413, 401, 401, 400, 400, 401, 401]
    full = json.loads((await _asgi(harness.app, scoped[3]))[1]["body"])
    assert (full["name"], full["email"], full["email_verified"]) == (
        "Bob B",
        "b@example.com",
        False,
    )
    assert calls == 0  # every one of them was answered by the shortcut
    assert not routed.userinfo_shortcut  # type: ignore[attr-defined]


async def test_other_userinfo_requests_take_the_route(harness: Harness) -> None:
    await harness.http.get("/healthz")
    method = await _asgi(harness.app, [], method="POST")
    assert method[0]["status"] == 405
    assert json.loads(method[1]["body"])["error"] == "method_not_allowed"
    mounted = await _asgi(harness.app, [], root_path="/api")
    assert mounted[0]["status"] == 401
    assert json.loads(mounted[1]["body"])["error"] == "invalid_request"
    assert (await _asgi(harness.app, [], path="/userinfo/"))[0]["status"] == 307


async def test_added_middleware_sees_userinfo_requests(run_app: RunApp) -> None:
    async with run_app() as harness:
        # Before the first request, as Starlette requires: CORS for a browser app, say.
        harness.app.add_middleware(
            CORSMiddleware, allow_origins=["https://spa.example"], allow_headers=["*"]
        )
        await harness.register()
        token = (await harness.tokens())["access_token"]
        response = await harness.http.get(
            "/userinfo",
            headers={"Authorization": f"Bearer {token}", "Origin": "https://spa.example"},
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://spa.example"
        assert not harness.app.userinfo_shortcut  # type: ignore[attr-defined]


async def test_changed_exception_handlers_see_userinfo_errors(run_app: RunApp) -> None:
    async with run_app() as harness:

        async def teapot(request: Any, exc: Exception) -> JSONResponse:
            return JSONResponse({"error": "custom"}, status_code=418)

        harness.app.add_exception_handler(OAuthError, teapot)
        response = await harness.http.get("/userinfo")
        assert (response.status_code, response.json()) == (418, {"error": "custom"})
        assert not harness.app.userinfo_shortcut  # type: ignore[attr-defined]


def test_fastapi_telemetry_turns_the_shortcut_off(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(settings)
    app.build_middleware_stack()
    assert app.userinfo_shortcut  # type: ignore[attr-defined]
    telemetry = getattr(app, "_native_telemetry", None)
    if telemetry is None:  # pragma: no cover - FastAPI before its native telemetry
        pytest.skip("this FastAPI has no native telemetry")
    monkeypatch.setattr(telemetry, "enabled", lambda: True)
    app.build_middleware_stack()
    assert not app.userinfo_shortcut  # type: ignore[attr-defined]


async def test_userinfo_shortcut_failures_are_json_503_and_500(
    tmp_path: Path, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(make_settings(tmp_path), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            await http.get("/healthz")
            service = app.state.service
            failures: list[Exception] = [StoreError("disk I/O error"), RuntimeError("internals")]

            async def failing(token: str) -> tuple[dict[str, Any], None]:
                raise failures.pop(0)

            service.verify_access_token_of_user = failing
            headers = {"Authorization": "Bearer abc"}
            outage = await http.get("/userinfo", headers=headers)
            bug = await http.get("/userinfo", headers=headers)
    body = _assert_json_error(outage, 503)
    assert body["error"] == "temporarily_unavailable"
    assert outage.headers["cache-control"] == "no-store"
    assert "storage error in GET /userinfo: disk I/O error" in caplog.text
    assert _assert_json_error(bug, 500) == {
        "error": "server_error",
        "error_description": "internal server error",
    }
    assert "internals" not in bug.text
    assert "unhandled error in GET /userinfo" in caplog.text
    assert app.state.unhandled_errors == 1


async def test_userinfo_is_documented_with_the_bearer_scheme(harness: Harness) -> None:
    openapi = (await harness.http.get("/openapi.json")).json()
    assert openapi["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token of this service (RFC 9068 JWT, RFC 6750 Bearer).",
    }
    userinfo = openapi["paths"]["/userinfo"]["get"]
    assert userinfo["security"] == [{"bearer": []}]
    assert set(userinfo["responses"]) == {"200", "400", "401", "503"}
    assert "parameters" not in userinfo  # the header is the security scheme's
    claims = userinfo["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(claims["required"]) == {"iss", "sub", "aud", "exp", "iat", "jti", "client_id"}
    for status in ("400", "401"):
        assert "WWW-Authenticate" in userinfo["responses"][status]["headers"]
    password = openapi["paths"]["/users/me/password"]["post"]
    assert password["security"] == [{"bearer": []}]


# -- failures of the service itself ---------------------------------------------------------


class _BrokenStore(SQLiteStore):
    """A store whose user lookups fail: with ``StoreError`` or with a bug."""

    failure: Exception = StoreError("disk I/O error")

    async def user_by_name(self, username: str) -> Any:
        raise self.failure


async def test_a_store_outage_is_a_json_503(tmp_path: Path, clock: FrozenClock) -> None:
    settings = make_settings(tmp_path)
    store = _BrokenStore(settings.database)
    await store.open()
    app = create_app(settings, store=store, clock=clock)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                response = await http.post(
                    "/token", data={"grant_type": "password", "username": "a", "password": "b"}
                )
        body = _assert_json_error(response, 503)
        assert body["error"] == "temporarily_unavailable"
        assert response.headers["retry-after"] == "5"
        assert "disk" not in response.text
    finally:
        await store.close()


async def test_a_bug_is_a_bare_json_500_and_is_logged(
    tmp_path: Path, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path)
    store = _BrokenStore(settings.database)
    store.failure = RuntimeError("secret internals")
    await store.open()
    app = create_app(settings, store=store, clock=clock)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                response = await http.post(
                    "/token", data={"grant_type": "password", "username": "a", "password": "b"}
                )
                websocket_like = await http.get("/healthz")
        assert _assert_json_error(response, 500) == {
            "error": "server_error",
            "error_description": "internal server error",
        }
        assert "secret internals" not in response.text
        assert "secret internals" in caplog.text
        assert app.state.unhandled_errors == 1
        assert websocket_like.status_code == 200
    finally:
        await store.close()


async def test_lifespan_events_pass_through_the_middleware(settings: Any) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert app.state.service.store is not None
    events: list[dict[str, Any]] = []
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

    async def receive() -> dict[str, Any]:
        return next(incoming)

    async def send(message: MutableMapping[str, Any]) -> None:
        events.append(dict(message))

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    assert [event["type"] for event in events] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


def test_app_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWTKIT_DATABASE", str(tmp_path / "env.db"))
    monkeypatch.setenv("JWTKIT_ISSUER", "http://localhost:9999")
    app = app_from_environment()
    assert app.state.settings.issuer == "http://localhost:9999"


# -- the error helpers -----------------------------------------------------------------------


def test_error_descriptions_are_valid_rfc6749_text() -> None:
    assert sanitize_description('say "hi"\\ \u00e9\n') == "say 'hi'/ ??"
    assert len(sanitize_description("x" * 1000)) == 300
    assert sanitize_description("see RFC 6749 \u00a73.2 \u2013 it\u2019s") == (
        "see RFC 6749 section 3.2 - it's"
    )
    error = OAuthError("invalid_request", 'bad "thing"')
    assert error.body() == {"error": "invalid_request", "error_description": "bad 'thing'"}
    assert "invalid_request" in repr(error)
    assert bearer_challenge("invalid_token", 'a"b', scope="read") == (
        'Bearer realm="jwtkit", error="invalid_token", error_description="a\'b", scope="read"'
    )
    assert too_many_attempts(0.2).headers == {"Retry-After": "1"}
    assert too_many_attempts(59.5).headers == {"Retry-After": "60"}
