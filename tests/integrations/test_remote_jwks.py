"""The integrations over ``jwtkit.remote``: an issuer's JWKS behind discovery, rotating its keys.

The issuer answers through ``httpx.MockTransport`` (no sockets): OpenID Connect discovery, then
its JWK Set, which the tests rotate. Time is the issuer's FrozenClock, shared by the JWKS
client's cache and the Verifier.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio
import httpx
import pytest
from fastapi import Depends, FastAPI
from flask import Flask
from starlette.types import Message, Scope

import jwtkit
from jwtkit import UsageError
from jwtkit.integrations import fastapi as jwt_fastapi
from jwtkit.integrations import flask as jwt_flask
from jwtkit.remote import AsyncJWKSClient, JWKSClient

from .support import AUDIENCE, ISSUER, Issuer, assert_no_leak

JWKS_URL = f"{ISSUER}/jwks.json"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class IssuerServer:
    """The issuer's HTTP side: discovery metadata and the JWK Set (or an outage)."""

    def __init__(self, issuer: Issuer) -> None:
        self.issuer = issuer
        self.jwks_fetches = 0
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            return httpx.Response(502, text="upstream failure at secret-host.internal")
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={"issuer": ISSUER, "jwks_uri": JWKS_URL})
        if str(request.url) == JWKS_URL:
            self.jwks_fetches += 1
            return httpx.Response(200, content=json.dumps(self.issuer.published.to_jwks()))
        return httpx.Response(404)


def verifier_for(provider: Any, issuer: Issuer) -> jwtkit.Verifier:
    return jwtkit.Verifier(
        provider, algorithms=["ES256"], issuer=ISSUER, audience=AUDIENCE, clock=issuer.clock
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_flask_with_a_jwks_client_follows_a_key_rotation() -> None:
    issuer = Issuer()
    server = IssuerServer(issuer)
    with JWKSClient.from_issuer(
        ISSUER, transport=httpx.MockTransport(server), cache_ttl=60, cooldown=30, clock=issuer.clock
    ) as jwks:
        app = Flask(__name__)
        jwt_flask.JWTKit(app, verifier_for(jwks, issuer))

        @app.get("/me")
        @jwt_flask.require_token(scopes=["read"])
        def me() -> dict[str, Any]:
            return {"sub": jwt_flask.current_claims()["sub"]}

        http = app.test_client()
        old_token = issuer.token(scope="read")
        assert http.get("/me", headers=bearer(old_token)).get_json() == {"sub": "alice"}
        assert http.get("/me", headers=bearer(old_token)).status_code == 200
        assert server.jwks_fetches == 1  # cached

        issuer.rotate()
        issuer.clock.advance(31)  # past the cooldown: an unknown kid may refetch
        new_token = issuer.token(scope="read")
        assert http.get("/me", headers=bearer(new_token)).status_code == 200
        assert http.get("/me", headers=bearer(old_token)).status_code == 200
        assert server.jwks_fetches == 2

        issuer.retire_old_key()
        issuer.clock.advance(61)  # the cached set expires; the next lookup refetches
        response = http.get("/me", headers=bearer(old_token))
        assert response.status_code == 401
        assert response.get_json()["error"] == "invalid_token"
        assert_no_leak(response.get_data(as_text=True) + str(response.headers), old_token)
        assert http.get("/me", headers=bearer(new_token)).status_code == 200


def test_flask_answers_503_when_the_jwks_cannot_be_fetched() -> None:
    issuer = Issuer()
    server = IssuerServer(issuer)
    with JWKSClient(JWKS_URL, transport=httpx.MockTransport(server), clock=issuer.clock) as jwks:
        server.down = True
        app = Flask(__name__)
        jwt_flask.init_app(app, verifier_for(jwks, issuer))

        @app.get("/me")
        @jwt_flask.require_token()
        def me() -> dict[str, Any]:
            return {}

        token = issuer.token()
        response = app.test_client().get("/me", headers=bearer(token))
    assert response.status_code == 503
    assert response.get_json()["error"] == "temporarily_unavailable"
    assert_no_leak(response.get_data(as_text=True) + str(response.headers), token)


@pytest.mark.anyio
async def test_flask_refuses_an_async_jwks_client() -> None:
    issuer = Issuer()
    async with AsyncJWKSClient(
        JWKS_URL, transport=httpx.MockTransport(IssuerServer(issuer))
    ) as jwks:
        with pytest.raises(UsageError, match=r"async key provider.*jwtkit\.remote\.JWKSClient"):
            jwt_flask.JWTKit(Flask(__name__), verifier_for(jwks, issuer))


@pytest.mark.anyio
async def test_fastapi_with_an_async_jwks_client_follows_a_key_rotation() -> None:
    issuer = Issuer()
    server = IssuerServer(issuer)
    jwks = await AsyncJWKSClient.from_issuer(
        ISSUER, transport=httpx.MockTransport(server), cache_ttl=60, cooldown=30, clock=issuer.clock
    )
    app = FastAPI()
    jwt_fastapi.configure(app, verifier_for(jwks, issuer))

    @app.get("/me")
    async def me(claims: Annotated[dict[str, Any], Depends(read_scope)]) -> dict[str, Any]:
        return {"sub": claims["sub"]}

    transport = httpx.ASGITransport(app=app)
    async with jwks, httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        old_token = issuer.token(scp=["read"])
        assert (await http.get("/me", headers=bearer(old_token))).json() == {"sub": "alice"}

        issuer.rotate()
        issuer.clock.advance(31)
        new_token = issuer.token(scp=["read"])
        assert (await http.get("/me", headers=bearer(new_token))).status_code == 200
        assert (await http.get("/me", headers=bearer(old_token))).status_code == 200

        issuer.retire_old_key()
        issuer.clock.advance(61)
        response = await http.get("/me", headers=bearer(old_token))
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"
        assert (await http.get("/me", headers=bearer(new_token))).status_code == 200
        assert server.jwks_fetches == 3

        server.down = True  # stale-if-error: the last good keys keep serving
        issuer.clock.advance(61)
        assert (await http.get("/me", headers=bearer(new_token))).status_code == 200


@pytest.mark.anyio
async def test_fastapi_answers_503_when_the_jwks_cannot_be_fetched() -> None:
    issuer = Issuer()
    server = IssuerServer(issuer)
    server.down = True
    jwks = AsyncJWKSClient(JWKS_URL, transport=httpx.MockTransport(server), clock=issuer.clock)
    app = FastAPI()
    jwt_fastapi.configure(app, verifier_for(jwks, issuer))

    @app.get("/me")
    async def me(claims: Annotated[dict[str, Any], Depends(read_scope)]) -> dict[str, Any]:
        return claims

    transport = httpx.ASGITransport(app=app)
    async with jwks, httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        token = issuer.token(scope="read")
        response = await http.get("/me", headers=bearer(token))
    assert response.status_code == 503
    assert response.json() == {
        "error": "temporarily_unavailable",
        "error_description": "the access token cannot be verified right now; try again later",
    }
    assert "www-authenticate" not in response.headers
    assert_no_leak(response.text + str(response.headers), token)


@asynccontextmanager
async def lifespan_running(app: FastAPI) -> AsyncIterator[None]:
    """Run the app's ASGI lifespan (startup now, shutdown on exit), as a server would."""
    to_app, app_receives = anyio.create_memory_object_stream[Message](4)
    app_sends, from_app = anyio.create_memory_object_stream[Message](4)
    async with to_app, app_receives, app_sends, from_app, anyio.create_task_group() as tasks:
        scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        tasks.start_soon(app, scope, app_receives.receive, app_sends.send)
        await to_app.send({"type": "lifespan.startup"})
        assert (await from_app.receive())["type"] == "lifespan.startup.complete"
        yield
        await to_app.send({"type": "lifespan.shutdown"})
        assert (await from_app.receive())["type"] == "lifespan.shutdown.complete"


@pytest.mark.anyio
async def test_fastapi_discovers_the_issuer_at_startup() -> None:
    """The docs' recipe: ``configure(app)`` at creation, the discovered client in the lifespan."""
    issuer = Issuer()
    server = IssuerServer(issuer)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with await AsyncJWKSClient.from_issuer(
            ISSUER, transport=httpx.MockTransport(server), clock=issuer.clock
        ) as jwks:
            jwt_fastapi.configure(app, verifier_for(jwks, issuer))
            yield

    app = FastAPI(lifespan=lifespan)
    jwt_fastapi.configure(app)

    @app.get("/me")
    async def me(claims: Annotated[dict[str, Any], Depends(read_scope)]) -> dict[str, Any]:
        return {"sub": claims["sub"]}

    transport = httpx.ASGITransport(app=app)
    async with (
        lifespan_running(app),
        httpx.AsyncClient(transport=transport, base_url="http://api") as http,
    ):
        token = issuer.token(scope="read")
        assert (await http.get("/me", headers=bearer(token))).json() == {"sub": "alice"}
        assert (await http.get("/me")).json()["error"] == "invalid_request"
    assert server.jwks_fetches == 1


# A global: FastAPI resolves the string annotations above in this module's namespace.
read_scope = jwt_fastapi.require_token(scopes=["read"])
