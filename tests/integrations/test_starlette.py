"""Starlette apps behind ``JWTAuthBackend`` (in ``AuthenticationMiddleware``) or ``JWTMiddleware``.

Real apps driven through ``httpx.ASGITransport`` (Starlette's ``TestClient`` warns about
``httpx`` in this Starlette version, and warnings are errors here); the WebSocket and lifespan
cases talk ASGI to the middleware directly.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.authentication import AuthenticationError, requires
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket

import jwtkit
from jwtkit import UsageError
from jwtkit.integrations.starlette import (
    BearerError,
    JWTAuthBackend,
    JWTAuthenticationError,
    JWTMiddleware,
    JWTUser,
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


def client(app: Starlette) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def whoami(request: Request) -> JSONResponse:
    user = request.user
    if not user.is_authenticated:
        return JSONResponse({"sub": None})
    assert isinstance(user, JWTUser)
    return JSONResponse(
        {"sub": user.identity, "name": user.display_name, "scopes": list(request.auth.scopes)}
    )


@requires("read")
async def private(request: Request) -> JSONResponse:
    return JSONResponse({"sub": request.user.claims["sub"]})


async def state_claims(request: Request) -> JSONResponse:
    claims: dict[str, Any] = getattr(request.state, "claims", {"sub": None})
    return JSONResponse({"sub": claims["sub"], "scopes": list(request.auth.scopes)})


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True, "claims": hasattr(request.state, "claims")})


async def echo_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"sub": websocket.state.claims["sub"]})
    await websocket.close()


def backend_app(verifier: jwtkit.Verifier, **options: Any) -> Starlette:
    backend = JWTAuthBackend(verifier, **options)
    return Starlette(
        routes=[Route("/me", whoami), Route("/private", private)],
        middleware=[backend.middleware()],
    )


def middleware_app(verifier: jwtkit.Verifier, **options: Any) -> Starlette:
    return Starlette(
        routes=[
            Route("/me", state_claims),
            Route("/health", health),
            Route("/public/page", health),
            Route("/public", state_claims),
            WebSocketRoute("/ws", echo_socket),
        ],
        middleware=[
            Middleware(
                JWTMiddleware, verifier=verifier, exclude_paths=("/health", "/public/"), **options
            )
        ],
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_refused(response: httpx.Response, status: int, error: str, token: str = "") -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"
    assert_no_leak(response.text + str(response.headers), token or None)


# -- JWTAuthBackend -------------------------------------------------------------------------


async def test_backend_sets_user_claims_and_scopes() -> None:
    issuer = Issuer()
    token = issuer.token(scope="read write")
    async with client(backend_app(issuer.verifier())) as http:
        response = await http.get("/me", headers=bearer(token))
        assert response.json() == {"sub": "alice", "name": "alice", "scopes": ["read", "write"]}
        assert (await http.get("/private", headers=bearer(token))).json() == {"sub": "alice"}


async def test_backend_leaves_requests_without_bearer_credentials_anonymous() -> None:
    issuer = Issuer()
    async with client(backend_app(issuer.verifier())) as http:
        assert (await http.get("/me")).json() == {"sub": None}
        basic = {"Authorization": "Basic dTpw"}
        assert (await http.get("/me", headers=basic)).json() == {"sub": None}
        assert (await http.get("/private")).status_code == 403  # Starlette's @requires


@pytest.mark.parametrize(
    ("claims", "advance", "description"),
    [
        ({}, 901, "the access token expired"),
        ({"aud": "https://other.example"}, 0, "the access token is not meant for this resource"),
        ({"iss": "https://evil.example"}, 0, "the access token's issuer is not trusted"),
    ],
)
async def test_backend_refuses_bad_tokens_with_a_bearer_challenge(
    claims: dict[str, Any], advance: float, description: str
) -> None:
    issuer = Issuer()
    token = issuer.token(**claims)
    issuer.clock.advance(advance)
    async with client(backend_app(issuer.verifier(), realm="files")) as http:
        response = await http.get("/me", headers=bearer(token))
    assert_refused(response, 401, "invalid_token", token)
    assert response.headers["www-authenticate"] == (
        f'Bearer realm="files", error="invalid_token", error_description="{description}"'
    )
    assert response.json()["error_description"] == description


async def test_backend_refuses_malformed_bearer_credentials() -> None:
    issuer = Issuer()
    async with client(backend_app(issuer.verifier())) as http:
        for value in ("Bearer", "Bearer a b", "Bearer ab\\c"):
            response = await http.get("/me", headers={"Authorization": value})
            assert_refused(response, 400, "invalid_request")
        two = [("Authorization", "Bearer a"), ("Authorization", "Bearer b")]
        assert_refused(await http.get("/me", headers=two), 400, "invalid_request")


async def test_backend_scope_claims_option() -> None:
    issuer = Issuer()
    token = issuer.token(permissions=["read"], scope="admin")
    async with client(backend_app(issuer.verifier(), scope_claims="permissions")) as http:
        assert (await http.get("/me", headers=bearer(token))).json()["scopes"] == ["read"]


async def test_backend_with_an_async_provider() -> None:
    issuer = Issuer()
    provider = AsyncProvider(issuer)
    async with client(backend_app(issuer.verifier(provider))) as http:
        response = await http.get("/private", headers=bearer(issuer.token(scp=["read"])))
    assert response.json() == {"sub": "alice"}
    assert provider.calls == 1


def test_backend_on_error_keeps_starlettes_default_for_other_errors() -> None:
    conn = HTTPConnection({"type": "http", "headers": []})
    response = JWTAuthBackend.on_error(conn, AuthenticationError("other backend"))
    assert response.status_code == 400
    assert response.body == b"other backend"
    error = JWTAuthenticationError(BearerError.invalid_token("the access token expired"), "api")
    assert str(error) == "the access token expired"  # what Starlette's default would show
    assert JWTAuthBackend.on_error(conn, error).status_code == 401


async def test_backend_with_starlettes_default_on_error_shows_only_the_description() -> None:
    issuer = Issuer()
    backend = JWTAuthBackend(issuer.verifier())
    app = Starlette(
        routes=[Route("/me", whoami)],
        middleware=[Middleware(AuthenticationMiddleware, backend=backend)],
    )
    token = issuer.token(STRANGER)
    async with client(app) as http:
        response = await http.get("/me", headers=bearer(token))
    assert response.status_code == 400
    assert response.text == "the access token is invalid"


async def test_backend_answers_503_when_the_issuer_keys_are_unavailable() -> None:
    issuer = Issuer()
    token = issuer.token()
    async with client(backend_app(issuer.verifier(FailingJWKSProvider()))) as http:
        response = await http.get("/me", headers=bearer(token))
    assert_refused(response, 503, "temporarily_unavailable", token)
    assert "www-authenticate" not in response.headers


def test_jwt_user_repr_and_missing_subject() -> None:
    user = JWTUser({"sub": 42}, ["read"])
    assert user.identity == ""
    assert repr(user) == "JWTUser(sub='', scopes=('read',))"


def test_backend_and_middleware_check_their_arguments() -> None:
    issuer = Issuer()
    with pytest.raises(UsageError, match="Verifier"):
        JWTAuthBackend("secret")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="realm"):
        JWTAuthBackend(issuer.verifier(), realm='"')
    with pytest.raises(UsageError, match="scope token"):
        JWTMiddleware(whoami, issuer.verifier(), scopes=["a b"])  # type: ignore[arg-type]


# -- JWTMiddleware --------------------------------------------------------------------------


async def test_middleware_puts_claims_in_request_state() -> None:
    issuer = Issuer()
    async with client(middleware_app(issuer.verifier())) as http:
        response = await http.get("/me", headers=bearer(issuer.token(scp=["read"])))
    assert response.json() == {"sub": "alice", "scopes": ["read"]}


@pytest.mark.parametrize(
    ("headers", "status", "challenge"),
    [
        ({}, 401, 'Bearer realm="api"'),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401, 'Bearer realm="api"'),
        ({"Authorization": "Bearer"}, 400, 'Bearer realm="api", error="invalid_request"'),
        ({"Authorization": "Bearer a b"}, 400, 'Bearer realm="api", error="invalid_request"'),
        ({"Authorization": "Bearer x.y.z"}, 401, 'Bearer realm="api", error="invalid_token"'),
    ],
)
async def test_middleware_refuses_missing_and_malformed_credentials(
    headers: dict[str, str], status: int, challenge: str
) -> None:
    issuer = Issuer()
    async with client(middleware_app(issuer.verifier())) as http:
        response = await http.get("/me", headers=headers)
    assert response.status_code == status
    assert response.headers["www-authenticate"].startswith(challenge)
    assert_no_leak(response.text + str(response.headers))
    if "error" not in challenge:
        assert response.headers["www-authenticate"] == challenge  # RFC 6750 §3.1: no code
        assert response.json() == {
            "error": "invalid_request",
            "error_description": "an access token is required: Authorization: Bearer <token>",
        }


async def test_middleware_accepts_a_lowercase_scheme() -> None:
    issuer = Issuer()
    async with client(middleware_app(issuer.verifier())) as http:
        response = await http.get("/me", headers={"Authorization": f"bearer {issuer.token()}"})
    assert response.json()["sub"] == "alice"


async def test_middleware_requires_scopes_on_every_request() -> None:
    issuer = Issuer()
    token = issuer.token(scope="read")
    good = issuer.token(scp=["write", "read"])
    async with client(middleware_app(issuer.verifier(), scopes=["read", "write"])) as http:
        response = await http.get("/me", headers=bearer(token))
        assert_refused(response, 403, "insufficient_scope", token)
        assert response.headers["www-authenticate"].endswith('scope="read write"')
        assert (await http.get("/me", headers=bearer(good))).json()["sub"] == "alice"


async def test_middleware_leaves_excluded_paths_alone() -> None:
    issuer = Issuer()
    async with client(middleware_app(issuer.verifier())) as http:
        assert (await http.get("/health")).json() == {"ok": True, "claims": False}
        assert (await http.get("/public/page")).json() == {"ok": True, "claims": False}
        assert (await http.get("/public")).status_code == 401  # "/public/" covers what is below
        assert (await http.get("/health/x")).status_code == 401  # "/health" is an exact path


async def test_middleware_follows_a_key_rotation_at_the_issuer() -> None:
    issuer = Issuer()
    old_token = issuer.token()
    async with client(middleware_app(issuer.verifier())) as http:
        assert (await http.get("/me", headers=bearer(old_token))).status_code == 200
        issuer.rotate()
        new_token = issuer.token()
        assert (await http.get("/me", headers=bearer(new_token))).status_code == 200
        assert (await http.get("/me", headers=bearer(old_token))).status_code == 200
        issuer.retire_old_key()
        response = await http.get("/me", headers=bearer(old_token))
        assert_refused(response, 401, "invalid_token", old_token)
        assert (await http.get("/me", headers=bearer(new_token))).status_code == 200


async def test_middleware_with_an_async_provider() -> None:
    issuer = Issuer()
    provider = AsyncProvider(issuer)
    token = issuer.token()
    async with client(middleware_app(issuer.verifier(provider))) as http:
        assert (await http.get("/me", headers=bearer(token))).json()["sub"] == "alice"
        issuer.clock.advance(901)
        response = await http.get("/me", headers=bearer(token))
    assert_refused(response, 401, "invalid_token", token)
    assert "the access token expired" in response.headers["www-authenticate"]
    assert provider.calls == 2


async def test_middleware_answers_503_when_the_issuer_is_unreachable() -> None:
    issuer = Issuer()
    token = issuer.token()
    for provider in (UnreachableProvider(), AsyncUnreachableProvider()):
        async with client(middleware_app(issuer.verifier(provider))) as http:
            response = await http.get("/me", headers=bearer(token))
        assert_refused(response, 503, "temporarily_unavailable", token)


# -- ASGI directly: WebSocket and lifespan --------------------------------------------------


async def _run(app: Any, scope: dict[str, Any], incoming: list[Message]) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def _ws_scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "websocket", "path": "/ws", "headers": headers, "query_string": b""}


async def test_middleware_closes_a_websocket_handshake_without_a_valid_token() -> None:
    issuer = Issuer()
    app = middleware_app(issuer.verifier())
    sent = await _run(app, _ws_scope([]), [{"type": "websocket.connect"}])
    assert sent == [{"type": "websocket.close", "code": 1008}]


async def test_middleware_lets_a_websocket_with_a_valid_token_through() -> None:
    issuer = Issuer()
    app = middleware_app(issuer.verifier())
    headers = [(b"authorization", f"Bearer {issuer.token()}".encode())]
    sent = await _run(app, _ws_scope(headers), [{"type": "websocket.connect"}])
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send", "websocket.close"]
    assert sent[1]["text"] == '{"sub":"alice"}'


async def test_middleware_passes_lifespan_through() -> None:
    issuer = Issuer()
    seen: list[str] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    middleware = JWTMiddleware(inner, issuer.verifier())
    await _run(middleware, {"type": "lifespan"}, [])
    assert seen == ["lifespan"]
