"""FastAPI apps protected by ``Depends(require_token(...))``, driven by ``httpx.ASGITransport``.

Covers the RFC 6750 answers (401/400/403/503 with their challenges and JSON bodies), a
verifier configured once per app or given per dependency, async key providers, a key rotated at
the issuer, and the OpenAPI document's HTTP bearer scheme (the lock in ``/docs``).
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI

import jwtkit
from jwtkit import UsageError
from jwtkit.integrations.fastapi import (
    STATE_ATTRIBUTE,
    BearerError,
    BearerHTTPException,
    configure,
    require_token,
)

from .support import (
    STRANGER,
    AsyncProvider,
    AsyncUnreachableProvider,
    FailingJWKSProvider,
    Issuer,
    UnreachableProvider,
    assert_no_leak,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


Claims = dict[str, Any]


def make_app(verifier: jwtkit.Verifier | None, *, configured: bool = True) -> FastAPI:
    app = FastAPI()
    if configured:
        configure(app, verifier)

    @app.get("/me")
    async def me(claims: Annotated[Claims, Depends(require_token())]) -> Claims:
        return {"sub": claims["sub"]}

    @app.get("/items")
    async def items(claims: Annotated[Claims, Depends(require_token(scopes=["read"]))]) -> Claims:
        return {"sub": claims["sub"], "items": []}

    @app.get("/admin", dependencies=[Depends(require_token(scopes="read write", realm="admin"))])
    async def admin() -> Claims:
        return {"ok": True}

    @app.get("/public")
    async def public() -> Claims:
        return {"ok": True}

    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_refused(response: httpx.Response, status: int, error: str, token: str = "") -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == error
    assert set(response.json()) == {"error", "error_description"}
    assert_no_leak(response.text + str(response.headers), token or None)


async def test_a_valid_token_yields_its_claims() -> None:
    issuer = Issuer()
    async with client(make_app(issuer.verifier())) as http:
        response = await http.get("/items", headers=bearer(issuer.token(scope="read")))
    assert response.json() == {"sub": "alice", "items": []}


async def test_a_missing_token_gets_a_bare_challenge() -> None:
    issuer = Issuer()
    async with client(make_app(issuer.verifier())) as http:
        response = await http.get("/me")
        assert_refused(response, 401, "invalid_request")
        assert response.headers["www-authenticate"] == 'Bearer realm="api"'
        basic = await http.get("/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
        assert basic.status_code == 401
        assert basic.headers["www-authenticate"] == 'Bearer realm="api"'
        assert (await http.get("/public")).json() == {"ok": True}


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "Bearer a b", "Bearer <script>"])
async def test_malformed_bearer_credentials_are_a_400(value: str) -> None:
    issuer = Issuer()
    async with client(make_app(issuer.verifier())) as http:
        response = await http.get("/me", headers={"Authorization": value})
    assert_refused(response, 400, "invalid_request")
    assert response.headers["www-authenticate"].startswith(
        'Bearer realm="api", error="invalid_request"'
    )


async def test_a_lowercase_scheme_is_accepted() -> None:
    issuer = Issuer()
    async with client(make_app(issuer.verifier())) as http:
        response = await http.get("/me", headers={"Authorization": f"bearer {issuer.token()}"})
    assert response.json() == {"sub": "alice"}


@pytest.mark.parametrize(
    ("claims", "advance", "description"),
    [
        ({}, 901, "the access token expired"),
        ({"aud": "https://other.example"}, 0, "the access token is not meant for this resource"),
        ({"iss": "https://evil.example"}, 0, "the access token's issuer is not trusted"),
    ],
)
async def test_invalid_tokens_get_invalid_token(
    claims: dict[str, Any], advance: float, description: str
) -> None:
    issuer = Issuer()
    token = issuer.token(**claims)
    issuer.clock.advance(advance)
    async with client(make_app(issuer.verifier())) as http:
        response = await http.get("/me", headers=bearer(token))
    assert_refused(response, 401, "invalid_token", token)
    assert response.json()["error_description"] == description
    assert response.headers["www-authenticate"] == (
        f'Bearer realm="api", error="invalid_token", error_description="{description}"'
    )


async def test_malformed_and_forged_tokens_get_invalid_token() -> None:
    issuer = Issuer()
    forged = issuer.token(STRANGER)
    async with client(make_app(issuer.verifier())) as http:
        response = await http.get("/me", headers=bearer("abc.def.ghi"))
        assert_refused(response, 401, "invalid_token", "abc.def.ghi")
        assert response.json()["error_description"] == "the access token is malformed"
        response = await http.get("/me", headers=bearer(forged))
        assert_refused(response, 401, "invalid_token", forged)
        assert response.json()["error_description"] == "the access token is invalid"


async def test_a_missing_scope_is_a_403_naming_the_scopes() -> None:
    issuer = Issuer()
    token = issuer.token(scope="read")
    async with client(make_app(issuer.verifier())) as http:
        response = await http.get("/admin", headers=bearer(token))
        assert_refused(response, 403, "insufficient_scope", token)
        assert response.headers["www-authenticate"] == (
            'Bearer realm="admin", error="insufficient_scope", '
            'error_description="the access token does not grant the required scope", '
            'scope="read write"'
        )
        no_scope = issuer.token()
        assert (await http.get("/items", headers=bearer(no_scope))).status_code == 403


async def test_scopes_from_an_scp_list() -> None:
    issuer = Issuer()
    token = issuer.token(scp=["write", "read"])
    async with client(make_app(issuer.verifier())) as http:
        assert (await http.get("/admin", headers=bearer(token))).json() == {"ok": True}


async def test_a_key_rotated_at_the_issuer() -> None:
    issuer = Issuer()
    old_token = issuer.token(scope="read")
    async with client(make_app(issuer.verifier())) as http:
        assert (await http.get("/items", headers=bearer(old_token))).status_code == 200
        issuer.rotate()
        new_token = issuer.token(scope="read")
        assert (await http.get("/items", headers=bearer(new_token))).status_code == 200
        assert (await http.get("/items", headers=bearer(old_token))).status_code == 200
        issuer.retire_old_key()
        response = await http.get("/items", headers=bearer(old_token))
        assert_refused(response, 401, "invalid_token", old_token)
        assert (await http.get("/items", headers=bearer(new_token))).status_code == 200


async def test_an_async_provider_is_awaited() -> None:
    issuer = Issuer()
    provider = AsyncProvider(issuer)
    async with client(make_app(issuer.verifier(provider))) as http:
        response = await http.get("/items", headers=bearer(issuer.token(scope="read")))
        assert response.json()["sub"] == "alice"
        forged = issuer.token(STRANGER)
        assert_refused(await http.get("/me", headers=bearer(forged)), 401, "invalid_token")
    assert provider.calls == 2


@pytest.mark.parametrize(
    "provider", [UnreachableProvider(), AsyncUnreachableProvider(), FailingJWKSProvider()]
)
async def test_an_unavailable_issuer_is_a_503(provider: Any) -> None:
    issuer = Issuer()
    token = issuer.token()
    async with client(make_app(issuer.verifier(provider))) as http:
        response = await http.get("/me", headers=bearer(token))
    assert_refused(response, 503, "temporarily_unavailable", token)
    assert "www-authenticate" not in response.headers


# Annotations are strings here (``from __future__ import annotations``): FastAPI resolves them
# in the module's globals, so a dependency named in one must be a global.
PER_ROUTE_ISSUER = Issuer()
per_route_token = require_token(PER_ROUTE_ISSUER.verifier())


async def test_a_verifier_per_dependency_without_configure() -> None:
    issuer = PER_ROUTE_ISSUER
    app = FastAPI()

    @app.get("/me")
    async def me(claims: Annotated[Claims, Depends(per_route_token)]) -> Claims:
        return {"sub": claims["sub"]}

    async with client(app) as http:
        assert (await http.get("/me", headers=bearer(issuer.token()))).json() == {"sub": "alice"}
        # Without configure(app), FastAPI's own handler answers: same status and challenge.
        response = await http.get("/me")
    assert response.status_code == 401
    assert response.json() == {
        "detail": "an access token is required: Authorization: Bearer <token>"
    }
    assert response.headers["www-authenticate"] == 'Bearer realm="api"'


async def test_configure_without_a_verifier_only_installs_the_error_bodies() -> None:
    app = FastAPI()
    configure(app)

    @app.get("/me")
    async def me(claims: Annotated[Claims, Depends(per_route_token)]) -> Claims:
        return {"sub": claims["sub"]}

    async with client(app) as http:
        response = await http.get("/me")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_request"
    assert not hasattr(app.state, STATE_ATTRIBUTE)


async def test_require_token_without_any_verifier_is_a_usage_error() -> None:
    app = make_app(None, configured=False)
    async with client(app) as http:
        with pytest.raises(UsageError, match="configure"):
            await http.get("/me", headers=bearer("a.b.c"))


async def test_configure_must_first_run_before_the_app_starts() -> None:
    issuer = Issuer()
    app = FastAPI()

    @app.get("/me")
    async def me(claims: Annotated[Claims, Depends(per_route_token)]) -> Claims:
        return claims

    async with client(app) as http:
        assert (await http.get("/me")).status_code == 401  # the app has started
    with pytest.raises(UsageError, match="before the app starts"):
        configure(app, issuer.verifier())

    early = make_app(None)  # configure(app) ran at creation: setting the verifier later is fine
    async with client(early) as http:
        assert (await http.get("/public")).status_code == 200
        configure(early, issuer.verifier())
        configure(early, issuer.verifier())
        assert (await http.get("/me", headers=bearer(issuer.token()))).status_code == 200
        assert (await http.get("/me")).json()["error"] == "invalid_request"


def test_configure_stores_the_verifier_on_app_state() -> None:
    issuer = Issuer()
    verifier = issuer.verifier()
    app = FastAPI()
    configure(app, verifier)
    assert getattr(app.state, STATE_ATTRIBUTE) is verifier
    with pytest.raises(UsageError, match="Verifier"):
        configure(app, "secret")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="parentheses"):
        require_token(lambda: None)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="scope token"):
        require_token(scopes=['"'])
    with pytest.raises(UsageError, match="realm"):
        require_token(realm="\n")


def test_the_bearer_exception_carries_the_error() -> None:
    exc = BearerHTTPException(BearerError.insufficient_scope(["read"]), "files")
    assert exc.status_code == 403
    assert exc.headers is not None
    assert exc.headers["WWW-Authenticate"].startswith('Bearer realm="files"')
    assert exc.error.scope == ("read",)


def test_the_openapi_document_declares_an_http_bearer_scheme() -> None:
    issuer = Issuer()
    document = make_app(issuer.verifier()).openapi()
    schemes = document["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["type"] == "http"
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    assert schemes["HTTPBearer"]["bearerFormat"] == "JWT"
    for path in ("/me", "/items", "/admin"):
        assert document["paths"][path]["get"]["security"] == [{"HTTPBearer": []}], path
    assert "security" not in document["paths"]["/public"]["get"]
    # The dependency's own parameters are not request parameters.
    assert "parameters" not in document["paths"]["/me"]["get"]
