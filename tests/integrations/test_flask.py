"""Flask apps protected by ``@require_token(...)`` and the ``JWTKit`` extension (test client).

Flask is synchronous: the decorator uses ``Verifier.decode``, and a Verifier whose keys come
from an async-only provider is refused when the app is set up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from flask import Flask, g
from werkzeug.test import TestResponse

import jwtkit
from jwtkit import UsageError
from jwtkit.integrations.flask import (
    EXTENSION_NAME,
    JWTKit,
    current_claims,
    init_app,
    require_token,
)

from .support import (
    STRANGER,
    AsyncProvider,
    DualProvider,
    FailingJWKSProvider,
    Issuer,
    UnreachableProvider,
    assert_no_leak,
)


class AsyncCapableFlask(Flask):
    """Runs async views with asyncio.run instead of asgiref (not a test dependency)."""

    def async_to_sync(self, func: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Any]:
        return lambda *args, **kwargs: asyncio.run(func(*args, **kwargs))


def make_app(verifier: jwtkit.Verifier | None, *, extension: bool = True, **options: Any) -> Flask:
    app = AsyncCapableFlask(__name__)
    if extension:
        assert verifier is not None
        JWTKit(app, verifier, **options)

    @app.get("/me")
    @require_token()
    def me() -> dict[str, Any]:
        return {"sub": current_claims()["sub"]}

    @app.get("/items")
    @require_token(scopes=["read"])
    def items() -> dict[str, Any]:
        return {"sub": g.jwt_claims["sub"], "items": []}

    @app.get("/admin")
    @require_token(scopes="read write", realm="admin")
    def admin() -> dict[str, Any]:
        return {"ok": True}

    @app.get("/async")
    @require_token()
    async def async_view() -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"sub": current_claims()["sub"]}

    @app.get("/public")
    def public() -> dict[str, Any]:
        return {"ok": True}

    return app


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_refused(response: TestResponse, status: int, error: str, token: str = "") -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body, dict)
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    assert response.headers["Cache-Control"] == "no-store"
    assert_no_leak(response.get_data(as_text=True) + str(response.headers), token or None)


def test_a_valid_token_puts_claims_in_g() -> None:
    issuer = Issuer()
    http = make_app(issuer.verifier()).test_client()
    token = issuer.token(scope="read")
    assert http.get("/me", headers=bearer(token)).get_json() == {"sub": "alice"}
    assert http.get("/items", headers=bearer(token)).get_json() == {"sub": "alice", "items": []}
    assert http.get("/async", headers=bearer(token)).get_json() == {"sub": "alice"}
    assert http.get("/public").get_json() == {"ok": True}


def test_a_missing_token_gets_a_bare_challenge() -> None:
    issuer = Issuer()
    http = make_app(issuer.verifier()).test_client()
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = http.get("/me", headers=headers)
        assert_refused(response, 401, "invalid_request")
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize("value", ["Bearer", "Bearer a b", "Bearer a, Bearer b", "Bearer a;b"])
def test_malformed_bearer_credentials_are_a_400(value: str) -> None:
    issuer = Issuer()
    response = (
        make_app(issuer.verifier()).test_client().get("/me", headers={"Authorization": value})
    )
    assert_refused(response, 400, "invalid_request")
    assert response.headers["WWW-Authenticate"].startswith(
        'Bearer realm="api", error="invalid_request", error_description="malformed'
    )


def test_a_lowercase_scheme_is_accepted() -> None:
    issuer = Issuer()
    http = make_app(issuer.verifier()).test_client()
    response = http.get("/me", headers={"Authorization": f"bearer {issuer.token()}"})
    assert response.get_json() == {"sub": "alice"}


@pytest.mark.parametrize(
    ("claims", "advance", "description"),
    [
        ({}, 901, "the access token expired"),
        ({"aud": "https://other.example"}, 0, "the access token is not meant for this resource"),
        ({"iss": "https://evil.example"}, 0, "the access token's issuer is not trusted"),
    ],
)
def test_invalid_tokens_get_invalid_token(
    claims: dict[str, Any], advance: float, description: str
) -> None:
    issuer = Issuer()
    http = make_app(issuer.verifier(), realm="files").test_client()
    token = issuer.token(**claims)
    issuer.clock.advance(advance)
    response = http.get("/me", headers=bearer(token))
    assert_refused(response, 401, "invalid_token", token)
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="files", error="invalid_token", error_description="{description}"'
    )


def test_malformed_and_forged_tokens_get_invalid_token() -> None:
    issuer = Issuer()
    http = make_app(issuer.verifier()).test_client()
    response = http.get("/me", headers=bearer("abc.def"))
    assert_refused(response, 401, "invalid_token", "abc.def")
    forged = issuer.token(STRANGER)
    assert_refused(http.get("/me", headers=bearer(forged)), 401, "invalid_token", forged)


def test_a_missing_scope_is_a_403_naming_the_scopes() -> None:
    issuer = Issuer()
    http = make_app(issuer.verifier()).test_client()
    token = issuer.token(scope="read")
    response = http.get("/admin", headers=bearer(token))
    assert_refused(response, 403, "insufficient_scope", token)
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="admin", error="insufficient_scope", '
        'error_description="the access token does not grant the required scope", '
        'scope="read write"'
    )
    assert http.get("/items", headers=bearer(issuer.token())).status_code == 403


def test_scopes_from_an_scp_list_or_a_configured_claim() -> None:
    issuer = Issuer()
    http = make_app(issuer.verifier()).test_client()
    token = issuer.token(scp=["write", "read"])
    assert http.get("/admin", headers=bearer(token)).get_json() == {"ok": True}
    custom = make_app(issuer.verifier(), scope_claims=["permissions"]).test_client()
    token = issuer.token(permissions=["read"], scope="other")
    assert custom.get("/items", headers=bearer(token)).status_code == 200


def test_a_key_rotated_at_the_issuer() -> None:
    issuer = Issuer()
    http = make_app(issuer.verifier()).test_client()
    old_token = issuer.token()
    assert http.get("/me", headers=bearer(old_token)).status_code == 200
    issuer.rotate()
    new_token = issuer.token()
    assert http.get("/me", headers=bearer(new_token)).status_code == 200
    assert http.get("/me", headers=bearer(old_token)).status_code == 200
    issuer.retire_old_key()
    assert_refused(http.get("/me", headers=bearer(old_token)), 401, "invalid_token", old_token)
    assert http.get("/me", headers=bearer(new_token)).status_code == 200


@pytest.mark.parametrize("provider", [UnreachableProvider(), FailingJWKSProvider()])
def test_an_unavailable_issuer_is_a_503(provider: Any) -> None:
    issuer = Issuer()
    http = make_app(issuer.verifier(provider)).test_client()
    token = issuer.token()
    response = http.get("/me", headers=bearer(token))
    assert_refused(response, 503, "temporarily_unavailable", token)
    assert "WWW-Authenticate" not in response.headers


def test_an_async_provider_is_refused_at_setup() -> None:
    issuer = Issuer()
    async_only = issuer.verifier(AsyncProvider(issuer))
    with pytest.raises(UsageError, match=r"async key provider.*JWKSClient"):
        JWTKit(Flask(__name__), async_only)
    with pytest.raises(UsageError, match="async key provider"):
        require_token(async_only)
    with pytest.raises(UsageError, match="async key provider"):
        JWTKit().init_app(Flask(__name__), async_only)
    # Sync and async (like jwtkit.remote.AsyncJWKSClient, whose decode only reads its cache).
    with pytest.raises(UsageError, match="async key provider"):
        JWTKit(Flask(__name__), issuer.verifier(DualProvider(issuer)))


def test_application_factory_and_init_app() -> None:
    issuer = Issuer()
    extension = JWTKit(realm="factory")
    app = Flask(__name__)
    with pytest.raises(UsageError, match="Verifier is required"):
        extension.init_app(app)
    extension.init_app(app, issuer.verifier())
    assert app.extensions[EXTENSION_NAME].realm == "factory"
    other = Flask(__name__)
    assert isinstance(init_app(other, issuer.verifier()), JWTKit)
    assert other.extensions[EXTENSION_NAME].realm == "api"


def test_a_verifier_per_view_without_the_extension() -> None:
    issuer = Issuer()
    app = Flask(__name__)

    @app.get("/me")
    @require_token(issuer.verifier(), realm="own")
    def me() -> dict[str, Any]:
        return {"sub": current_claims()["sub"]}

    @app.get("/default-realm")
    @require_token(issuer.verifier())
    def default_realm() -> dict[str, Any]:
        return {}

    http = app.test_client()
    assert http.get("/me", headers=bearer(issuer.token())).get_json() == {"sub": "alice"}
    assert http.get("/me").headers["WWW-Authenticate"] == 'Bearer realm="own"'
    assert http.get("/default-realm").headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_require_token_without_any_verifier_is_a_usage_error() -> None:
    app = make_app(None, extension=False)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(UsageError, match="JWTKit"):
        app.test_client().get("/me", headers=bearer("a.b.c"))


def test_current_claims_outside_a_protected_view_is_a_usage_error() -> None:
    app = Flask(__name__)
    with app.app_context(), pytest.raises(UsageError, match="@require_token"):
        current_claims()


def test_decorator_and_extension_check_their_arguments() -> None:
    with pytest.raises(UsageError, match="parentheses"):
        require_token(lambda: None)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="scope token"):
        require_token(scopes=["a b"])
    with pytest.raises(UsageError, match="realm"):
        require_token(realm='"')
    with pytest.raises(UsageError, match="realm"):
        JWTKit(realm="\r\n")
