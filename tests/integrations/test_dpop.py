"""DPoP-bound access tokens at a protected resource (RFC 9449 §7, §9), framework-free and
through Starlette and FastAPI apps (``httpx.ASGITransport``, as the other integration tests:
Starlette's ``TestClient`` warns about ``httpx`` in this Starlette version) and Flask's test
client; the WebSocket case talks ASGI to the middleware directly.

The issuer's tokens carry ``cnf.jkt``, the thumbprint of the client's key (RFC 9449 §6.1); the
client sends ``Authorization: DPoP <token>`` and a fresh proof per request. Time is the
issuer's FrozenClock, shared by the DPoP verifier.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from flask import Flask
from starlette.applications import Starlette
from starlette.authentication import requires
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message
from starlette.websockets import WebSocket

import jwtkit
from jwtkit import UsageError
from jwtkit.dpop import DPoPNonces, DPoPVerifier, create_proof
from jwtkit.integrations import _bearer
from jwtkit.integrations import fastapi as jwt_fastapi
from jwtkit.integrations import flask as jwt_flask
from jwtkit.integrations._bearer import (
    BearerError,
    DPoPRequest,
    DPoPSettings,
    aauthenticate,
    authenticate,
    check_dpop,
    has_credentials,
)
from jwtkit.integrations.starlette import JWTAuthBackend, JWTMiddleware

from .support import Issuer, assert_no_leak

URL = "https://api.example/items"
ALGS = 'algs="ES256 ES384 ES512 EdDSA PS256 PS384 PS512 RS256 RS384 RS512"'

CLIENT_KEY = jwtkit.Key.generate("ES256")
THIEF_KEY = jwtkit.Key.generate("ES256")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Client:
    """A DPoP client: its key, a DPoP-bound token from the issuer, a proof per request."""

    def __init__(self, issuer: Issuer, key: jwtkit.Key = CLIENT_KEY, **claims: Any) -> None:
        self.issuer = issuer
        self.key = key
        self.token = issuer.token(cnf={"jkt": key.thumbprint()}, **claims)

    def proof(self, method: str = "GET", url: str = URL, **options: Any) -> str:
        return create_proof(
            self.key,
            method=method,
            url=url,
            access_token=options.pop("access_token", self.token),
            clock=self.issuer.clock,
            **options,
        )

    def headers(self, method: str = "GET", url: str = URL, **options: Any) -> dict[str, str]:
        return {"Authorization": f"DPoP {self.token}", "DPoP": self.proof(method, url, **options)}


def settings(issuer: Issuer, **options: Any) -> DPoPSettings:
    nonces = options.pop("nonces", None)
    return DPoPSettings(DPoPVerifier(clock=issuer.clock, nonces=nonces), **options)


def check(
    issuer: Issuer,
    headers: dict[str, str] | list[tuple[str, str]],
    dpop: DPoPSettings | None,
    *,
    method: str = "GET",
    url: str = URL,
    scopes: tuple[str, ...] = (),
) -> dict[str, Any]:
    """``authenticate`` on a request made of ``headers``."""
    pairs = list(headers.items()) if isinstance(headers, dict) else headers
    authorization = [v for k, v in pairs if k.lower() == "authorization"]
    proofs = [v for k, v in pairs if k.lower() == "dpop"]
    header = _bearer.single_header(authorization)
    return authenticate(
        issuer.verifier(), header, scopes, dpop=dpop, request=DPoPRequest(method, url, proofs)
    )


def refusal(issuer: Issuer, headers: Any, dpop: DPoPSettings | None, **options: Any) -> BearerError:
    with pytest.raises(BearerError) as info:
        check(issuer, headers, dpop, **options)
    return info.value


# -- the framework-free rules -----------------------------------------------------------------


def test_good_dpop_request() -> None:
    issuer = Issuer()
    client = Client(issuer, scope="read")
    claims = check(issuer, client.headers(), settings(issuer), scopes=("read",))
    assert claims["cnf"] == {"jkt": CLIENT_KEY.thumbprint()}


@pytest.mark.anyio
async def test_good_dpop_request_async() -> None:
    issuer = Issuer()
    client = Client(issuer)
    headers = client.headers()
    claims = await aauthenticate(
        issuer.verifier(),
        headers["Authorization"],
        dpop=settings(issuer),
        request=DPoPRequest("GET", URL, [headers["DPoP"]]),
    )
    assert claims["sub"] == "alice"


def test_replayed_proof_is_refused() -> None:
    issuer = Issuer()
    client = Client(issuer)
    dpop = settings(issuer)
    headers = client.headers()
    check(issuer, headers, dpop)
    error = refusal(issuer, headers, dpop)
    assert (error.status, error.error, error.scheme) == (401, "invalid_dpop_proof", "dpop")
    assert error.challenge(dpop=dpop) == (
        'Bearer realm="api", DPoP realm="api", error="invalid_dpop_proof", error_description='
        f'"the DPoP proof is missing, or not valid for this request and access token", {ALGS}'
    )


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", URL),
        ("GET", "https://api.example/other"),
        ("GET", "https://other.example/items"),
        ("GET", "http://api.example/items"),
        ("GET", "https://api.example:8443/items"),
    ],
)
def test_proof_for_another_request_is_refused(method: str, url: str) -> None:
    issuer = Issuer()
    client = Client(issuer)
    error = refusal(issuer, client.headers(method, url), settings(issuer))
    assert error.error == "invalid_dpop_proof"


def test_request_url_query_does_not_matter() -> None:
    issuer = Issuer()
    client = Client(issuer)
    check(issuer, client.headers(), settings(issuer), url=URL + "?page=2")


def test_stolen_token_with_a_proof_of_another_key_is_refused() -> None:
    issuer = Issuer()
    victim = Client(issuer)
    thief = Client(issuer, THIEF_KEY)
    thief.token = victim.token  # the stolen token, the thief's own well-formed proof
    dpop = settings(issuer)
    error = refusal(issuer, thief.headers(), dpop)
    # RFC 9449 §7.1 (Figure 16): the key binding failed, an invalid_token.
    assert (error.status, error.error, error.scheme) == (401, "invalid_token", "dpop")
    assert error.challenge(dpop=dpop) == (
        'Bearer realm="api", DPoP realm="api", error="invalid_token", error_description="the '
        f"access token is bound to another key than the DPoP proof's\", {ALGS}"
    )


def test_several_authorization_fields_put_the_error_in_both_challenges() -> None:
    issuer = Issuer()
    client = Client(issuer)
    dpop = settings(issuer)
    headers = [
        ("Authorization", f"Bearer {client.token}"),
        ("Authorization", f"DPoP {client.token}"),
    ]
    with pytest.raises(BearerError) as info:
        check(issuer, headers, dpop)
    error = info.value
    assert (error.status, error.error, error.scheme) == (400, "invalid_request", None)
    description = 'error_description="more than one Authorization header"'
    assert error.challenge(dpop=dpop) == (
        f'Bearer realm="api", error="invalid_request", {description}, '
        f'DPoP realm="api", error="invalid_request", {description}, {ALGS}'
    )


def test_proof_for_another_token_is_refused() -> None:
    issuer = Issuer()
    client = Client(issuer)
    other = issuer.token(cnf={"jkt": CLIENT_KEY.thumbprint()}, scope="admin")
    headers = {"Authorization": f"DPoP {client.token}", "DPoP": client.proof(access_token=other)}
    assert refusal(issuer, headers, settings(issuer)).error == "invalid_dpop_proof"


@pytest.mark.parametrize("mode", ["bearer only", "both", "dpop only"])
def test_bound_token_presented_as_bearer_is_refused(mode: str) -> None:
    issuer = Issuer()
    client = Client(issuer)
    dpop = None if mode == "bearer only" else settings(issuer, required=mode == "dpop only")
    headers = {"Authorization": f"Bearer {client.token}", "DPoP": client.proof()}
    error = refusal(issuer, headers, dpop)
    assert (error.status, error.error) == (401, "invalid_token")
    assert "DPoP" in error.description


def test_bound_token_as_bearer_names_the_downgrade() -> None:
    issuer = Issuer()
    client = Client(issuer)
    error = refusal(issuer, {"Authorization": f"Bearer {client.token}"}, None)
    assert error.challenge() == (
        'Bearer realm="api", error="invalid_token", error_description="a DPoP-bound access '
        'token must be sent with the DPoP scheme and a proof"'
    )


def test_bearer_token_still_works_when_both_are_taken() -> None:
    issuer = Issuer()
    token = issuer.token()
    assert check(issuer, {"Authorization": f"Bearer {token}"}, settings(issuer))["sub"] == "alice"


def test_bearer_token_is_refused_when_dpop_is_required() -> None:
    issuer = Issuer()
    dpop = settings(issuer, required=True)
    error = refusal(issuer, {"Authorization": f"Bearer {issuer.token()}"}, dpop)
    assert (error.status, error.error, error.scheme) == (401, "invalid_token", "dpop")
    assert error.challenge(dpop=dpop) == (
        'DPoP realm="api", error="invalid_token", error_description="this resource takes '
        f'DPoP-bound access tokens: Authorization: DPoP <token>", {ALGS}'
    )


def test_unbound_token_under_the_dpop_scheme_is_refused() -> None:
    issuer = Issuer()
    token = issuer.token()
    proof = create_proof(CLIENT_KEY, method="GET", url=URL, access_token=token, clock=issuer.clock)
    error = refusal(issuer, {"Authorization": f"DPoP {token}", "DPoP": proof}, settings(issuer))
    assert (error.error, error.scheme) == ("invalid_token", "dpop")


@pytest.mark.parametrize("cnf", ["jkt", ["jkt"], {"jkt": 5}])
def test_malformed_cnf_is_refused(cnf: Any) -> None:
    issuer = Issuer()
    token = issuer.token(cnf=cnf)
    error = refusal(issuer, {"Authorization": f"Bearer {token}"}, settings(issuer))
    assert error.description == "the access token's claims are not valid"


def test_cnf_without_jkt_is_not_a_dpop_binding() -> None:
    issuer = Issuer()
    token = issuer.token(cnf={"x5t#S256": "abc"})
    assert check(issuer, {"Authorization": f"Bearer {token}"}, settings(issuer))["sub"] == "alice"


def test_dpop_token_without_proof_and_with_two_proofs() -> None:
    issuer = Issuer()
    client = Client(issuer)
    dpop = settings(issuer)
    authorization = ("Authorization", f"DPoP {client.token}")
    assert refusal(issuer, [authorization], dpop).error == "invalid_dpop_proof"
    two = [authorization, ("DPoP", client.proof()), ("DPoP", client.proof())]
    assert refusal(issuer, two, dpop).error == "invalid_dpop_proof"


def test_missing_credentials_offer_both_challenges() -> None:
    issuer = Issuer()
    dpop = settings(issuer)
    error = refusal(issuer, {}, dpop)
    assert (error.status, error.credentials) == (401, False)
    assert error.challenge(dpop=dpop) == f'Bearer realm="api", DPoP realm="api", {ALGS}'
    assert error.challenge() == 'Bearer realm="api"'
    required = settings(issuer, required=True)
    assert refusal(issuer, {}, required).challenge(dpop=required) == f'DPoP realm="api", {ALGS}'


def test_dpop_scheme_without_dpop_settings_is_no_credentials() -> None:
    issuer = Issuer()
    client = Client(issuer)
    error = refusal(issuer, client.headers(), None)
    assert (error.status, error.credentials) == (401, False)
    assert not has_credentials(f"DPoP {client.token}")
    assert has_credentials(f"DPoP {client.token}", settings(issuer))
    assert not has_credentials("Basic eDp5", settings(issuer))


@pytest.mark.parametrize("value", ["DPoP", "DPoP a b", "DPoP a=b"])
def test_malformed_dpop_credentials_are_a_bad_request(value: str) -> None:
    issuer = Issuer()
    error = refusal(issuer, {"Authorization": value}, settings(issuer))
    assert (error.status, error.error) == (400, "invalid_request")
    assert error.description == "malformed Authorization header: expected DPoP <token>"
    assert error.challenge(dpop=settings(issuer)).startswith(  # type: ignore[union-attr]
        'Bearer realm="api", DPoP realm="api", error="invalid_request"'
    )
    # Without DPoP settings, the same header holds no credentials: as before.
    assert refusal(issuer, {"Authorization": value}, None).status == 401


def test_invalid_token_under_the_dpop_scheme_gets_the_dpop_challenge() -> None:
    issuer = Issuer()
    client = Client(issuer)
    issuer.clock.advance(901)
    dpop = settings(issuer)
    error = refusal(issuer, client.headers(), dpop)
    assert (error.error, error.scheme) == ("invalid_token", "dpop")
    assert error.challenge(dpop=dpop) == (
        'Bearer realm="api", DPoP realm="api", error="invalid_token", '
        f'error_description="the access token expired", {ALGS}'
    )


def test_missing_scope_under_the_dpop_scheme() -> None:
    issuer = Issuer()
    client = Client(issuer, scope="read")
    dpop = settings(issuer)
    error = refusal(issuer, client.headers(), dpop, scopes=("write",))
    assert (error.status, error.error, error.scheme) == (403, "insufficient_scope", "dpop")
    assert 'DPoP realm="api", error="insufficient_scope"' in str(error.challenge(dpop=dpop))
    assert 'scope="write"' in str(error.challenge(dpop=dpop))


def test_nonce_flow() -> None:
    issuer = Issuer()
    client = Client(issuer)
    dpop = settings(issuer, nonces=DPoPNonces(secrets.token_bytes(32), clock=issuer.clock))
    error = refusal(issuer, client.headers(), dpop)
    assert (error.status, error.error) == (401, "use_dpop_nonce")
    assert error.nonce is not None
    headers = error.headers(dpop=dpop)
    assert headers["DPoP-Nonce"] == error.nonce
    assert 'DPoP realm="api", error="use_dpop_nonce"' in headers["WWW-Authenticate"]
    assert check(issuer, client.headers(nonce=error.nonce), dpop)["sub"] == "alice"
    issuer.clock.advance(301)
    client.token = issuer.token(cnf={"jkt": CLIENT_KEY.thumbprint()})
    stale = refusal(issuer, client.headers(nonce=error.nonce), dpop)
    assert stale.error == "use_dpop_nonce"
    assert stale.nonce != error.nonce


def test_public_url_is_the_url_checked() -> None:
    issuer = Issuer()
    client = Client(issuer)
    dpop = settings(issuer, public_url="https://api.example/")
    check(issuer, client.headers(), dpop, url="http://10.0.0.5:8000/items?x=1")
    prefixed = settings(issuer, public_url="https://example.com/api")
    proof_url = "https://example.com/api/items"
    check(issuer, client.headers(url=proof_url), prefixed, url="http://internal/items")
    assert prefixed.request_url("http://internal/items?q") == proof_url
    assert repr(prefixed) == "DPoPSettings(DPoP and Bearer, public_url='https://example.com/api')"
    assert "DPoP only" in repr(settings(issuer, required=True))


def test_request_url_that_is_no_url_is_a_bad_request() -> None:
    issuer = Issuer()
    client = Client(issuer)
    error = refusal(issuer, client.headers(), settings(issuer), url="http://bad host/items")
    assert (error.status, error.error, error.scheme) == (400, "invalid_request", "dpop")


def test_dpop_settings_are_checked() -> None:
    with pytest.raises(UsageError, match="DPoPVerifier"):
        DPoPSettings("verifier")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="required"):
        DPoPSettings(required="yes")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="public_url"):
        DPoPSettings(public_url="https://api.example/?q=1")
    with pytest.raises(UsageError, match="public_url"):
        DPoPSettings(public_url="http://api.example")
    with pytest.raises(UsageError, match="dpop"):
        check_dpop(DPoPVerifier(), "JWTMiddleware")
    assert check_dpop(None, "x") is None
    assert DPoPSettings().algorithms == DPoPVerifier().algorithms


def test_dpop_needs_the_request() -> None:
    issuer = Issuer()
    with pytest.raises(UsageError, match="request"):
        authenticate(issuer.verifier(), "DPoP abc", dpop=settings(issuer))


def test_refusals_leak_nothing() -> None:
    issuer = Issuer()
    client = Client(issuer)
    dpop = settings(issuer)
    headers = client.headers("POST")
    error = refusal(issuer, headers, dpop)
    text = str(error.headers(dpop=dpop)) + str(error.body()) + repr(error)
    assert_no_leak(text, client.token)
    assert_no_leak(text, headers["DPoP"])


# -- Starlette ---------------------------------------------------------------------------------


async def claims_view(request: Request) -> JSONResponse:
    return JSONResponse({"sub": request.state.claims["sub"]})


@requires("read")
async def backend_view(request: Request) -> JSONResponse:
    return JSONResponse({"sub": request.user.identity})


async def socket_view(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"sub": websocket.state.claims["sub"]})
    await websocket.close()


def starlette_middleware_app(issuer: Issuer, dpop: DPoPSettings) -> Starlette:
    return Starlette(
        routes=[
            Route("/items", claims_view, methods=["GET", "POST"]),
            WebSocketRoute("/ws", socket_view),
        ],
        middleware=[Middleware(JWTMiddleware, verifier=issuer.verifier(), dpop=dpop)],
    )


def asgi_client(app: ASGIApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def handshake(app: ASGIApp, headers: dict[str, str]) -> list[Message]:
    """A WebSocket handshake at ws://testserver/ws, spoken in ASGI; what the app sent."""
    scope = {
        "type": "websocket",
        "scheme": "ws",
        "path": "/ws",
        "query_string": b"",
        "headers": [(b"host", b"testserver")]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    incoming: list[Message] = [{"type": "websocket.connect"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


@pytest.mark.anyio
async def test_starlette_middleware_end_to_end() -> None:
    issuer = Issuer()
    client = Client(issuer)
    dpop = settings(issuer)
    base = "http://testserver/items"
    app = starlette_middleware_app(issuer, dpop)
    async with asgi_client(app) as http:
        headers = client.headers(url=base)
        assert (await http.get("/items", headers=headers)).json() == {"sub": "alice"}

        replayed = await http.get("/items", headers=headers)
        assert replayed.status_code == 401
        assert replayed.json()["error"] == "invalid_dpop_proof"
        assert replayed.headers["www-authenticate"].startswith('Bearer realm="api", DPoP ')
        assert replayed.headers["cache-control"] == "no-store"
        assert_no_leak(replayed.text + str(replayed.headers), client.token)

        other_method = await http.get("/items", headers=client.headers("POST", base))
        assert other_method.json()["error"] == "invalid_dpop_proof"
        other_url = await http.get("/items", headers=client.headers(url="http://testserver/x"))
        assert other_url.json()["error"] == "invalid_dpop_proof"

        thief = Client(issuer, THIEF_KEY)
        thief.token = client.token
        assert (await http.get("/items", headers=thief.headers(url=base))).status_code == 401

        downgraded = await http.get("/items", headers={"Authorization": f"Bearer {client.token}"})
        assert downgraded.status_code == 401
        assert downgraded.json()["error"] == "invalid_token"

    # A WebSocket handshake is a GET to the http(s) form of its URL.
    sent = await handshake(app, client.headers(url="http://testserver/ws"))
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send", "websocket.close"]
    sent = await handshake(app, client.headers(url="http://testserver/items"))
    assert sent == [{"type": "websocket.close", "code": 1008}]


@pytest.mark.anyio
async def test_starlette_backend_with_dpop() -> None:
    issuer = Issuer()
    client = Client(issuer, scope="read")
    dpop = settings(issuer, required=True)
    backend = JWTAuthBackend(issuer.verifier(), dpop=dpop)
    app = Starlette(routes=[Route("/items", backend_view)], middleware=[backend.middleware()])
    async with asgi_client(app) as http:
        good = await http.get("/items", headers=client.headers(url="http://testserver/items"))
        assert good.json() == {"sub": "alice"}
        refused = await http.get("/items", headers=client.headers(url="http://testserver/x"))
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == (
            'DPoP realm="api", error="invalid_dpop_proof", error_description="the DPoP proof is '
            f'missing, or not valid for this request and access token", {ALGS}'
        )
        assert (await http.get("/items")).status_code == 403  # anonymous: Starlette's @requires
        bearer = await http.get("/items", headers={"Authorization": f"Bearer {issuer.token()}"})
        assert bearer.json()["error"] == "invalid_token"


def test_starlette_checks_its_dpop_argument() -> None:
    issuer = Issuer()
    with pytest.raises(UsageError):
        JWTAuthBackend(issuer.verifier(), dpop="yes")  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_starlette_nonce_header_reaches_the_client() -> None:
    issuer = Issuer()
    client = Client(issuer)
    dpop = settings(issuer, nonces=DPoPNonces(b"n" * 32, clock=issuer.clock))
    base = "http://testserver/items"
    async with asgi_client(starlette_middleware_app(issuer, dpop)) as http:
        first = await http.get("/items", headers=client.headers(url=base))
        assert first.status_code == 401
        assert first.json()["error"] == "use_dpop_nonce"
        nonce = first.headers["dpop-nonce"]
        again = await http.get("/items", headers=client.headers(url=base, nonce=nonce))
        assert again.json() == {"sub": "alice"}


# -- FastAPI -----------------------------------------------------------------------------------


def fastapi_app(issuer: Issuer, dpop: DPoPSettings) -> FastAPI:
    app = FastAPI()
    jwt_fastapi.configure(app, issuer.verifier())

    verified = Depends(jwt_fastapi.require_token(dpop=dpop))  # a local: not an annotation

    @app.post("/items")
    async def items(claims: dict[str, Any] = verified) -> dict[str, Any]:
        return {"sub": claims["sub"]}

    return app


@pytest.mark.anyio
async def test_fastapi_with_dpop() -> None:
    issuer = Issuer()
    client = Client(issuer)
    dpop = settings(issuer)
    base = "http://testserver/items"
    async with asgi_client(fastapi_app(issuer, dpop)) as http:
        headers = client.headers("POST", base)
        assert (await http.post("/items", headers=headers)).json() == {"sub": "alice"}
        replayed = await http.post("/items", headers=headers)
        assert replayed.status_code == 401
        assert replayed.json() == {
            "error": "invalid_dpop_proof",
            "error_description": "the DPoP proof is missing, or not valid for this request and "
            "access token",
        }
        assert (
            'DPoP realm="api", error="invalid_dpop_proof"' in replayed.headers["www-authenticate"]
        )
        wrong = await http.post("/items", headers=client.headers("GET", base))
        assert wrong.status_code == 401
        bearer = await http.post("/items", headers={"Authorization": f"Bearer {client.token}"})
        assert bearer.json()["error"] == "invalid_token"
        plain = await http.post("/items", headers={"Authorization": f"Bearer {issuer.token()}"})
        assert plain.json() == {"sub": "alice"}


def test_fastapi_checks_its_dpop_argument() -> None:
    with pytest.raises(UsageError):
        jwt_fastapi.require_token(dpop=object())  # type: ignore[arg-type]


# -- Flask -------------------------------------------------------------------------------------


def flask_app(issuer: Issuer, dpop: DPoPSettings | None, view_dpop: DPoPSettings | None) -> Flask:
    app = Flask(__name__)
    jwt_flask.JWTKit(app, issuer.verifier(), dpop=dpop)

    @app.route("/items", methods=["GET", "DELETE"])
    @jwt_flask.require_token()
    def items() -> dict[str, Any]:
        return {"sub": jwt_flask.current_claims()["sub"]}

    @app.get("/only")
    @jwt_flask.require_token(dpop=view_dpop)
    def only() -> dict[str, Any]:
        return {"sub": jwt_flask.current_claims()["sub"]}

    return app


def test_flask_with_dpop() -> None:
    issuer = Issuer()
    client = Client(issuer)
    dpop = settings(issuer)
    required = settings(issuer, required=True)
    http = flask_app(issuer, dpop, required).test_client()
    base = "http://localhost/items"
    headers = client.headers("DELETE", base)
    assert http.delete("/items", headers=headers).get_json() == {"sub": "alice"}
    replayed = http.delete("/items", headers=headers)
    assert replayed.status_code == 401
    assert replayed.get_json()["error"] == "invalid_dpop_proof"
    assert replayed.headers["WWW-Authenticate"].startswith('Bearer realm="api", DPoP realm=')
    assert http.get("/items", headers=client.headers("DELETE", base)).status_code == 401
    assert (
        http.get("/items", headers=client.headers(url="http://localhost/only")).status_code == 401
    )
    downgraded = http.get("/items", headers={"Authorization": f"Bearer {client.token}"})
    assert downgraded.get_json()["error"] == "invalid_token"
    thief = Client(issuer, THIEF_KEY)
    thief.token = client.token
    assert http.get("/items", headers=thief.headers(url=base)).status_code == 401

    only = http.get("/only", headers=client.headers(url="http://localhost/only"))
    assert only.get_json() == {"sub": "alice"}
    bearer = http.get("/only", headers={"Authorization": f"Bearer {issuer.token()}"})
    assert bearer.status_code == 401
    assert bearer.headers["WWW-Authenticate"].startswith('DPoP realm="api", error="invalid_token"')


def test_flask_without_dpop_refuses_a_bound_bearer_token() -> None:
    issuer = Issuer()
    client = Client(issuer)
    http = flask_app(issuer, None, None).test_client()
    response = http.get("/items", headers={"Authorization": f"Bearer {client.token}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="api", error="invalid')
    # The DPoP scheme is not taken: no credentials, a bare Bearer challenge.
    response = http.get("/items", headers=client.headers(url="http://localhost/items"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_flask_checks_its_dpop_argument() -> None:
    with pytest.raises(UsageError):
        jwt_flask.JWTKit(dpop=1)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        jwt_flask.require_token(dpop=1)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_paths_the_frameworks_report_decoded_match_the_clients_encoded_ones() -> None:
    issuer = Issuer()
    client = Client(issuer)
    dpop = settings(issuer)

    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"sub": request.state.claims["sub"]})

    app = Starlette(
        routes=[Route("/{name:path}", echo)],
        middleware=[Middleware(JWTMiddleware, verifier=issuer.verifier(), dpop=dpop)],
    )
    url = "http://testserver/caf%C3%A9/%7Bx%7D"
    async with asgi_client(app) as http:
        assert (await http.get("/caf%C3%A9/%7Bx%7D", headers=client.headers(url=url))).json() == {
            "sub": "alice"
        }

    flask = Flask(__name__)
    jwt_flask.JWTKit(flask, issuer.verifier(), dpop=dpop)

    @flask.get("/<path:name>")
    @jwt_flask.require_token()
    def view(name: str) -> dict[str, Any]:
        return {"name": name}

    flask_url = "http://localhost/caf%C3%A9/%7Bx%7D"
    response = flask.test_client().get("/caf%C3%A9/%7Bx%7D", headers=client.headers(url=flask_url))
    assert response.get_json() == {"name": "caf\u00e9/{x}"}


def test_resource_metadata_names_the_dpop_algorithms_rfc_9728() -> None:
    dpop = DPoPSettings(DPoPVerifier(algorithms=["ES256", "EdDSA"]), required=True)
    metadata = jwt_flask.ResourceMetadata("https://api.example", dpop=dpop)
    document = metadata.document()
    assert document["dpop_signing_alg_values_supported"] == ["ES256", "EdDSA"]
    assert document["dpop_bound_access_tokens_required"] is True
    plain = jwt_flask.ResourceMetadata("https://api.example").document()
    assert "dpop_signing_alg_values_supported" not in plain
    with pytest.raises(UsageError, match="ResourceMetadata"):
        jwt_flask.ResourceMetadata("https://api.example", dpop=True)  # type: ignore[arg-type]
