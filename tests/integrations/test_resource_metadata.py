"""OAuth 2.0 Protected Resource Metadata (RFC 9728) in the three integrations.

The framework-free part first: the well-known URL of RFC 9728 §3.1 (the suffix inserted
between host and path), the checks made when the configuration is built, the document and its
default authorization server. Then, for Starlette (middleware and backend), FastAPI and Flask:
the document served as JSON at its well-known path, checked against the member types of
RFC 9728 §2 by :func:`check_rfc9728_document`; ``resource_metadata="..."`` in the challenges
(RFC 9728 §5.1) when configured, and challenges unchanged, byte for byte, when not.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import Depends, FastAPI
from flask import Flask
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import jwtkit
from jwtkit import UsageError, _oauth
from jwtkit.integrations import fastapi as jwt_fastapi
from jwtkit.integrations import flask as jwt_flask
from jwtkit.integrations import starlette as jwt_starlette
from jwtkit.integrations._bearer import BearerError
from jwtkit.integrations._resource import (
    ResourceMetadata,
    authorization_server_of,
    metadata_url,
)
from jwtkit.remote import AsyncJWKSClient, JWKSClient

from .support import ISSUER, STRANGER, Issuer

pytestmark = pytest.mark.anyio

RESOURCE = "https://api.example/v1"
METADATA_URL = "https://api.example/.well-known/oauth-protected-resource/v1"
METADATA_PATH = "/.well-known/oauth-protected-resource/v1"
CHALLENGE_PARAM = f'resource_metadata="{METADATA_URL}"'


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- an RFC 9728 §2 checker -----------------------------------------------------------------

_URL_MEMBERS = (
    "resource",
    "jwks_uri",
    "resource_documentation",
    "resource_policy_uri",
    "resource_tos_uri",
)
_STRING_ARRAYS = (
    "authorization_servers",
    "scopes_supported",
    "bearer_methods_supported",
    "resource_signing_alg_values_supported",
    "authorization_details_types_supported",
    "dpop_signing_alg_values_supported",
)
_BOOLEANS = ("tls_client_certificate_bound_access_tokens", "dpop_bound_access_tokens_required")


def _is_url(value: object, *, query: bool = True) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return (
        parts.scheme in ("https", "http")
        and bool(parts.netloc)
        and not parts.fragment
        and (query or not parts.query)
    )


def check_rfc9728_document(document: Any, resource: str) -> None:
    """Fail unless ``document`` is a valid RFC 9728 §2 document for ``resource``."""
    assert isinstance(document, dict)
    assert document.get("resource") == resource  # REQUIRED, and equal to the identifier (§3.3)
    for name in _URL_MEMBERS:
        if name in document:
            assert _is_url(document[name], query=name != "resource"), name
    for name in _STRING_ARRAYS:
        if name in document:
            value = document[name]
            assert isinstance(value, list), name
            assert all(isinstance(item, str) and item for item in value), name
            assert len(set(value)) == len(value), name
    for name in _BOOLEANS:
        if name in document:
            assert isinstance(document[name], bool), name
    for server in document.get("authorization_servers", []):
        assert _is_url(server, query=False), server  # issuer identifiers (RFC 8414 §2)
    assert set(document.get("bearer_methods_supported", [])) <= {"header", "body", "query"}
    assert "none" not in document.get("resource_signing_alg_values_supported", [])
    if "resource_name" in document:
        assert isinstance(document["resource_name"], str)


def full_metadata(resource: str = RESOURCE, **options: Any) -> ResourceMetadata:
    settings: dict[str, Any] = {
        "authorization_servers": [ISSUER],
        "scopes_supported": ["read", "write"],
        "resource_name": "Example API",
        "resource_documentation": "https://docs.api.example/",
    }
    settings.update(options)
    return ResourceMetadata(resource, **settings)


def assert_document(response: Any, resource: str = RESOURCE) -> dict[str, Any]:
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "public, max-age=3600"
    document = json.loads(response.data if hasattr(response, "data") else response.content)
    check_rfc9728_document(document, resource)
    return dict(document)


EXPECTED_DOCUMENT = {
    "resource": RESOURCE,
    "authorization_servers": [ISSUER],
    "scopes_supported": ["read", "write"],
    "bearer_methods_supported": ["header"],
    "resource_name": "Example API",
    "resource_documentation": "https://docs.api.example/",
}


# -- the framework-free part ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "url"),
    [
        ("https://api.example", "https://api.example/.well-known/oauth-protected-resource"),
        ("https://api.example/", "https://api.example/.well-known/oauth-protected-resource"),
        (RESOURCE, METADATA_URL),
        (
            "https://api.example:8443/v1/mcp/",
            "https://api.example:8443/.well-known/oauth-protected-resource/v1/mcp/",
        ),
        (
            "http://127.0.0.1:8000/api",
            "http://127.0.0.1:8000/.well-known/oauth-protected-resource/api",
        ),
    ],
)
def test_the_well_known_suffix_goes_between_host_and_path(resource: str, url: str) -> None:
    metadata = ResourceMetadata(resource)
    assert metadata_url(resource) == url
    assert metadata.url == url
    assert metadata.path == urlsplit(url).path


def test_the_document_has_the_configured_members() -> None:
    metadata = full_metadata()
    assert metadata.document() == EXPECTED_DOCUMENT
    check_rfc9728_document(metadata.document(), RESOURCE)
    assert json.loads(metadata.body()) == EXPECTED_DOCUMENT
    assert metadata.headers() == {"Cache-Control": "public, max-age=3600"}
    assert repr(metadata) == f"ResourceMetadata({RESOURCE!r})"


def test_a_minimal_document_has_the_resource_and_the_bearer_method() -> None:
    metadata = ResourceMetadata("http://localhost:8000", scopes_supported="read write read")
    assert metadata.scopes_supported == ("read", "write")
    assert metadata.document() == {
        "resource": "http://localhost:8000",
        "scopes_supported": ["read", "write"],
        "bearer_methods_supported": ["header"],
    }
    one = ResourceMetadata(RESOURCE, authorization_servers=ISSUER, max_age=0)
    assert one.document()["authorization_servers"] == [ISSUER]
    assert one.headers() == {"Cache-Control": "public, max-age=0"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"resource": 42}, "resource: expected a URL string"),
        ({"resource": ""}, "resource: not a valid URL"),
        ({"resource": "https://api.example/a b"}, "resource: not a valid URL"),
        ({"resource": 'https://api.example/"'}, "resource: not a valid URL"),
        ({"resource": "https://api.example/" + "a" * 2048}, "resource: not a valid URL"),
        ({"resource": "https://api.example:99999/"}, "resource: not a valid URL"),
        ({"resource": "ftp://api.example/"}, "resource: the scheme must be https"),
        ({"resource": "api.example/v1"}, "resource: the scheme must be https"),
        ({"resource": "https:///v1"}, "resource: the URL has no host"),
        ({"resource": "https://user:pw@api.example/"}, "resource: credentials"),
        ({"resource": "https://api.example/v1#top"}, "resource: the URL must not have a fragment"),
        ({"resource": "https://api.example/v1#"}, "resource: the URL must not have a fragment"),
        ({"resource": "https://api.example/v1?x=1"}, "resource: the URL must not have a query"),
        ({"resource": "https://api.example/v1?"}, "resource: the URL must not have a query"),
        ({"resource": "http://api.example/v1"}, "resource: http is allowed only to a loopback"),
        ({"resource": "http://10.0.0.1/v1"}, "resource: http is allowed only to a loopback"),
        ({"resource": "https://api.example/a%20b"}, "resource: the path may hold only"),
        ({"authorization_servers": ["http://id.example"]}, "authorization_servers: http"),
        ({"authorization_servers": ["https://id.example?t=1"]}, "authorization_servers: the"),
        ({"authorization_servers": [None]}, "authorization_servers: expected a URL"),
        ({"scopes_supported": ["read", "a b"]}, "scopes:"),
        ({"resource_name": ""}, "resource_name: expected a non-empty string"),
        ({"resource_name": 3}, "resource_name: expected a non-empty string"),
        ({"resource_documentation": "javascript:alert(1)"}, "resource_documentation: the"),
        ({"max_age": -1}, "max_age: expected a number of seconds"),
        ({"max_age": True}, "max_age: expected a number of seconds"),
        ({"max_age": 1.5}, "max_age: expected a number of seconds"),
    ],
)
def test_a_bad_configuration_is_refused_when_built(options: dict[str, Any], message: str) -> None:
    resource = options.pop("resource", RESOURCE)
    with pytest.raises(UsageError, match="^" + message.replace("?", r"\?")):
        ResourceMetadata(resource, **options)


def test_a_documentation_url_may_have_a_query() -> None:
    metadata = ResourceMetadata(RESOURCE, resource_documentation="https://docs.example/?p=api")
    assert metadata.document()["resource_documentation"] == "https://docs.example/?p=api"


def test_the_authorization_server_defaults_to_a_discovered_issuer() -> None:
    def metadata_endpoint(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"})

    issuer = Issuer()
    with JWKSClient.from_issuer(ISSUER, transport=httpx.MockTransport(metadata_endpoint)) as jwks:
        discovered = issuer.verifier(jwks)
        assert authorization_server_of(discovered) == ISSUER
        metadata = ResourceMetadata(RESOURCE)
        assert metadata.document(discovered)["authorization_servers"] == [ISSUER]
        # configured servers win over the discovered one
        other = ResourceMetadata(RESOURCE, authorization_servers=["https://other.example"])
        assert other.document(discovered)["authorization_servers"] == ["https://other.example"]
    with JWKSClient(f"{ISSUER}/jwks") as by_url:
        assert authorization_server_of(issuer.verifier(by_url)) is None
    assert authorization_server_of(issuer.verifier(issuer.published)) is None
    assert authorization_server_of(None) is None
    assert "authorization_servers" not in ResourceMetadata(RESOURCE).document(issuer.verifier())


async def test_an_async_discovered_issuer_is_the_default_too() -> None:
    def metadata_endpoint(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"})

    transport = httpx.MockTransport(metadata_endpoint)
    async with await AsyncJWKSClient.from_issuer(ISSUER, transport=transport) as jwks:
        assert authorization_server_of(Issuer().verifier(jwks)) == ISSUER


def test_the_challenge_names_the_document_only_when_given() -> None:
    missing = BearerError.missing()
    assert missing.challenge() == 'Bearer realm="api"'
    assert missing.challenge("api", METADATA_URL) == f'Bearer realm="api", {CHALLENGE_PARAM}'
    scope = BearerError.insufficient_scope(["read"])
    assert scope.headers("api", METADATA_URL)["WWW-Authenticate"].endswith(
        f'scope="read", {CHALLENGE_PARAM}'
    )
    assert BearerError.unavailable().challenge("api", METADATA_URL) is None
    with pytest.raises(ValueError, match="resource_metadata"):
        _oauth.bearer_challenge("api", resource_metadata='https://x.example/"')


def test_importing_the_metadata_module_imports_no_framework() -> None:
    code = (
        "import sys, jwtkit.integrations._resource; "
        "print(','.join(m for m in ('starlette', 'fastapi', 'flask', 'httpx') "
        "if m in sys.modules))"
    )
    out = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


# -- Starlette ------------------------------------------------------------------------------


def asgi_client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def items(request: Request) -> JSONResponse:
    return JSONResponse({"sub": request.state.claims["sub"]})


def starlette_middleware_app(metadata: ResourceMetadata | None) -> Starlette:
    issuer = Issuer()
    app = Starlette(
        routes=[Route("/items", items)],
        middleware=[
            Middleware(
                jwt_starlette.JWTMiddleware,
                verifier=issuer.verifier(),
                scopes=["read"],
                resource_metadata=metadata,
            )
        ],
    )
    app.state.issuer = issuer
    return app


async def test_starlette_middleware_serves_the_document_and_names_it() -> None:
    app = starlette_middleware_app(full_metadata())
    issuer: Issuer = app.state.issuer
    async with asgi_client(app) as http:
        document = assert_document(await http.get(METADATA_PATH))
        assert document == EXPECTED_DOCUMENT
        head = await http.head(METADATA_PATH)
        assert head.status_code == 200
        assert head.content == b""
        assert (await http.post(METADATA_PATH)).status_code == 405
        missing = await http.get("/items")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == f'Bearer realm="api", {CHALLENGE_PARAM}'
        bad = await http.get("/items", headers={"Authorization": "Bearer a.b.c"})
        assert bad.status_code == 401
        assert bad.headers["www-authenticate"].startswith('Bearer realm="api", error="invalid')
        assert bad.headers["www-authenticate"].endswith(CHALLENGE_PARAM)
        scope = await http.get("/items", headers={"Authorization": f"Bearer {issuer.token()}"})
        assert scope.status_code == 403
        assert scope.headers["www-authenticate"].endswith(CHALLENGE_PARAM)
        ok = await http.get(
            "/items", headers={"Authorization": f"Bearer {issuer.token(scope='read')}"}
        )
        assert ok.json() == {"sub": "alice"}


async def test_starlette_middleware_without_metadata_is_unchanged() -> None:
    app = starlette_middleware_app(None)
    async with asgi_client(app) as http:
        assert (await http.get(METADATA_PATH)).status_code == 401
        missing = await http.get("/items")
        assert missing.headers["www-authenticate"] == 'Bearer realm="api"'
        bad = await http.get("/items", headers={"Authorization": "Bearer a.b.c"})
        assert "resource_metadata" not in bad.headers["www-authenticate"]


def starlette_backend_app(metadata: ResourceMetadata | None) -> tuple[Starlette, Issuer]:
    issuer = Issuer()
    backend = jwt_starlette.JWTAuthBackend(issuer.verifier(), resource_metadata=metadata)

    async def me(request: Request) -> JSONResponse:
        return JSONResponse({"user": request.user.is_authenticated})

    routes = [Route("/me", me)]
    if metadata is not None:
        routes.append(backend.metadata_route())
    return Starlette(routes=routes, middleware=[backend.middleware()]), issuer


async def test_starlette_backend_serves_the_document_and_names_it() -> None:
    app, _ = starlette_backend_app(ResourceMetadata("https://api.example/", scopes_supported="a"))
    async with asgi_client(app) as http:
        document = assert_document(
            await http.get("/.well-known/oauth-protected-resource"), "https://api.example/"
        )
        assert document == {
            "resource": "https://api.example/",
            "scopes_supported": ["a"],
            "bearer_methods_supported": ["header"],
        }
        bad = await http.get("/me", headers={"Authorization": f"Bearer {Issuer().token(STRANGER)}"})
        assert bad.status_code == 401
        assert bad.headers["www-authenticate"].endswith(
            'resource_metadata="https://api.example/.well-known/oauth-protected-resource"'
        )


async def test_starlette_backend_without_metadata_is_unchanged() -> None:
    app, _ = starlette_backend_app(None)
    async with asgi_client(app) as http:
        bad = await http.get("/me", headers={"Authorization": "Bearer a.b.c"})
        assert bad.status_code == 401
        assert "resource_metadata" not in bad.headers["www-authenticate"]


def test_starlette_refuses_a_metadata_that_is_not_one() -> None:
    verifier = Issuer().verifier()
    with pytest.raises(UsageError, match=r"JWTAuthBackend.metadata_route: give"):
        jwt_starlette.JWTAuthBackend(verifier).metadata_route()
    with pytest.raises(UsageError, match=r"^metadata_route: expected a ResourceMetadata"):
        jwt_starlette.metadata_route(RESOURCE)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=r"^JWTMiddleware: expected a ResourceMetadata"):
        jwt_starlette.JWTMiddleware(
            Starlette(),
            verifier,
            resource_metadata={"resource": RESOURCE},  # type: ignore[arg-type]
        )


# -- FastAPI --------------------------------------------------------------------------------


def fastapi_app(metadata: ResourceMetadata | None) -> tuple[FastAPI, Issuer]:
    issuer = Issuer()
    app = FastAPI()
    jwt_fastapi.configure(app, issuer.verifier(), resource_metadata=metadata)

    @app.get("/items")
    async def read_items(
        claims: Annotated[dict[str, Any], Depends(jwt_fastapi.require_token(scopes=["read"]))],
    ) -> dict[str, Any]:
        return {"sub": claims["sub"]}

    return app, issuer


async def test_fastapi_serves_the_document_and_names_it() -> None:
    metadata = full_metadata()
    app, issuer = fastapi_app(metadata)
    jwt_fastapi.configure(app, resource_metadata=metadata)  # the same again: nothing changes
    async with asgi_client(app) as http:
        assert assert_document(await http.get(METADATA_PATH)) == EXPECTED_DOCUMENT
        missing = await http.get("/items")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == f'Bearer realm="api", {CHALLENGE_PARAM}'
        bad = await http.get("/items", headers={"Authorization": "Bearer a.b.c"})
        assert bad.status_code == 401
        assert bad.json()["error"] == "invalid_token"
        assert bad.headers["www-authenticate"].endswith(CHALLENGE_PARAM)
        ok = await http.get(
            "/items", headers={"Authorization": f"Bearer {issuer.token(scope='read')}"}
        )
        assert ok.json() == {"sub": "alice"}
        openapi = (await http.get("/openapi.json")).json()
        assert METADATA_PATH not in openapi["paths"]


async def test_fastapi_names_the_discovered_issuer() -> None:
    def metadata_endpoint(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"})

    transport = httpx.MockTransport(metadata_endpoint)
    async with await AsyncJWKSClient.from_issuer(ISSUER, transport=transport) as jwks:
        app = FastAPI()
        jwt_fastapi.configure(
            app, Issuer().verifier(jwks), resource_metadata=ResourceMetadata(RESOURCE)
        )
        async with asgi_client(app) as http:
            document = assert_document(await http.get(METADATA_PATH))
        assert document["authorization_servers"] == [ISSUER]


async def test_fastapi_without_metadata_is_unchanged() -> None:
    app, _ = fastapi_app(None)
    async with asgi_client(app) as http:
        assert (await http.get(METADATA_PATH)).status_code == 404
        missing = await http.get("/items")
        assert missing.headers["www-authenticate"] == 'Bearer realm="api"'
        bad = await http.get("/items", headers={"Authorization": "Bearer a.b.c"})
        assert "resource_metadata" not in bad.headers["www-authenticate"]


def test_fastapi_metadata_is_given_once_and_checked() -> None:
    app, _ = fastapi_app(full_metadata())
    with pytest.raises(UsageError, match=r"resource_metadata is given once"):
        jwt_fastapi.configure(app, resource_metadata=full_metadata("https://other.example"))
    with pytest.raises(UsageError, match=r"^configure: expected a ResourceMetadata"):
        jwt_fastapi.configure(FastAPI(), resource_metadata=RESOURCE)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=r"^metadata_router: expected a ResourceMetadata"):
        jwt_fastapi.metadata_router(None)  # type: ignore[arg-type]


async def test_fastapi_metadata_router_can_be_included_by_hand() -> None:
    app = FastAPI()
    app.include_router(jwt_fastapi.metadata_router(full_metadata()))
    async with asgi_client(app) as http:
        assert assert_document(await http.get(METADATA_PATH)) == EXPECTED_DOCUMENT


# -- Flask ----------------------------------------------------------------------------------


def flask_app(metadata: ResourceMetadata | None, *, factory: bool = False) -> tuple[Flask, Issuer]:
    issuer = Issuer()
    app = Flask(__name__)
    if factory:
        extension = jwt_flask.JWTKit(verifier=issuer.verifier(), resource_metadata=metadata)
        extension.init_app(app)
    else:
        jwt_flask.init_app(app, issuer.verifier(), resource_metadata=metadata)

    @app.get("/items")
    @jwt_flask.require_token(scopes=["read"])
    def read_items() -> dict[str, Any]:
        return {"sub": jwt_flask.current_claims()["sub"]}

    return app, issuer


@pytest.mark.parametrize("factory", [False, True])
def test_flask_serves_the_document_and_names_it(factory: bool) -> None:
    app, issuer = flask_app(full_metadata(), factory=factory)
    http = app.test_client()
    assert assert_document(http.get(METADATA_PATH)) == EXPECTED_DOCUMENT
    assert http.head(METADATA_PATH).status_code == 200
    assert http.post(METADATA_PATH).status_code == 405
    with app.test_request_context():
        from flask import url_for

        assert url_for(jwt_flask.METADATA_ENDPOINT) == METADATA_PATH
    missing = http.get("/items")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == f'Bearer realm="api", {CHALLENGE_PARAM}'
    bad = http.get("/items", headers={"Authorization": "Bearer a.b.c"})
    assert bad.status_code == 401
    assert bad.headers["WWW-Authenticate"].endswith(CHALLENGE_PARAM)
    ok = http.get("/items", headers={"Authorization": f"Bearer {issuer.token(scope='read')}"})
    assert ok.json == {"sub": "alice"}


def test_flask_names_the_discovered_issuer() -> None:
    def metadata_endpoint(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"})

    with JWKSClient.from_issuer(ISSUER, transport=httpx.MockTransport(metadata_endpoint)) as jwks:
        app = Flask(__name__)
        jwt_flask.JWTKit(app, Issuer().verifier(jwks), resource_metadata=ResourceMetadata(RESOURCE))
        document = assert_document(app.test_client().get(METADATA_PATH))
    assert document["authorization_servers"] == [ISSUER]


def test_flask_without_metadata_is_unchanged() -> None:
    app, _ = flask_app(None)
    http = app.test_client()
    assert http.get(METADATA_PATH).status_code == 404
    assert http.get("/items").headers["WWW-Authenticate"] == 'Bearer realm="api"'
    bad = http.get("/items", headers={"Authorization": "Bearer a.b.c"})
    assert "resource_metadata" not in bad.headers["WWW-Authenticate"]


def test_flask_refuses_a_metadata_that_is_not_one() -> None:
    with pytest.raises(UsageError, match=r"^JWTKit: expected a ResourceMetadata"):
        jwt_flask.JWTKit(resource_metadata=RESOURCE)  # type: ignore[arg-type]


def test_the_resource_metadata_class_is_the_same_everywhere() -> None:
    assert jwt_starlette.ResourceMetadata is ResourceMetadata
    assert jwt_fastapi.ResourceMetadata is ResourceMetadata
    assert jwt_flask.ResourceMetadata is ResourceMetadata
    assert jwtkit.integrations.__all__ == []
