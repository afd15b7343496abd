"""Fixtures shared by the token-service tests: fast settings, a frozen clock, a running app.

``harness`` is the app with its lifespan entered (store opened, key ring loaded) and an
``httpx.AsyncClient`` on the in-process ASGI transport, plus helpers for the common requests.
Argon2 runs with its smallest parameters here: the tests check behaviour, not hash strength.
RSA signing keys come from a pool made once per run (:func:`pooled_rsa_keys`).
"""

from __future__ import annotations

import base64
import dataclasses
import itertools
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from servers import postgres_server, postgres_url  # noqa: F401 - fixtures of the test servers

import jwtkit
from jwtkit.server.app import create_app
from jwtkit.server.config import Settings
from jwtkit.server.models import Client
from jwtkit.server.storage import Store
from jwtkit.server.tokens import TokenService, new_client_secret
from jwtkit.testing import FrozenClock

T0 = 1_700_000_000.0
#: A fixed key-encryption key for tests (base64url of 32 bytes).
TEST_KEK = base64.urlsafe_b64encode(bytes(range(32))).decode().rstrip("=")
PASSWORD = "correct horse battery staple"
FAST_ARGON2: dict[str, Any] = {
    "argon2_time_cost": 1,
    "argon2_memory_cost": 8,
    "argon2_parallelism": 1,
}


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Development settings on a fresh SQLite file in ``tmp_path`` with fast Argon2."""
    values: dict[str, Any] = {
        "database": str(tmp_path / "jwtkit.db"),
        "key_file": str(tmp_path / "kek.secret"),
        "key_encryption_key": TEST_KEK,
        **FAST_ARGON2,
        **overrides,
    }
    return Settings(**values)


@dataclasses.dataclass
class Harness:
    """A running app and the client that talks to it."""

    app: FastAPI
    http: httpx.AsyncClient
    clock: FrozenClock
    settings: Settings

    @property
    def service(self) -> TokenService:
        service: TokenService = self.app.state.service
        return service

    @property
    def store(self) -> Store:
        return self.service.store

    async def register(self, username: str = "alice", password: str = PASSWORD) -> str:
        """Create a user through ``POST /users``; return its id."""
        response = await self.http.post("/users", json={"username": username, "password": password})
        assert response.status_code == 201, response.text
        user_id: str = response.json()["id"]
        return user_id

    async def login(
        self, username: str = "alice", password: str = PASSWORD, **extra: str
    ) -> httpx.Response:
        data = {"grant_type": "password", "username": username, "password": password, **extra}
        return await self.http.post("/token", data=data)

    async def tokens(self, username: str = "alice", password: str = PASSWORD) -> dict[str, Any]:
        """Log in and return the §5.1 answer (asserting success)."""
        response = await self.login(username, password)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def refresh(self, refresh_token: str, **extra: str) -> httpx.Response:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
        return await self.http.post("/token", data=data)

    async def userinfo(self, access_token: str) -> httpx.Response:
        return await self.http.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})

    async def add_client(
        self,
        client_id: str = "backend",
        grants: tuple[str, ...] = ("client_credentials",),
        scopes: tuple[str, ...] = ("read", "write"),
        audiences: tuple[str, ...] = (),
    ) -> str:
        """Store a confidential client (a resource server of ``audiences`` if any, RFC 7662
        §4); return its secret."""
        secret = new_client_secret()
        await self.store.add_client(
            Client(
                id=client_id,
                secret_hash=await self.service.hasher.hash(secret),
                grant_types=grants,
                scopes=scopes,
                created_at=self.clock(),
                audiences=audiences,
            )
        )
        return secret

    async def jwks(self) -> dict[str, Any]:
        response = await self.http.get("/.well-known/jwks.json")
        assert response.status_code == 200
        document: dict[str, Any] = response.json()
        return document

    async def keyset(self) -> jwtkit.KeySet:
        """The published keys, as a verifier outside the service would get them."""
        return jwtkit.KeySet.from_jwks(await self.jwks())


RunApp = Callable[..., AbstractAsyncContextManager[Harness]]

#: RSA signing keys generated so far, by algorithm; see :func:`pooled_rsa_keys`.
_RSA_POOL: dict[str, list[jwtkit.Key]] = {}
#: Their private PEMs, and the keys loaded from them (by class, PEM, kid, alg and use).
_POOLED_PEMS: set[bytes] = set()
_LOADED: dict[tuple[object, ...], jwtkit.Key] = {}
_REAL_GENERATE = jwtkit.Key.generate.__func__  # type: ignore[attr-defined]
_REAL_FROM_PEM = jwtkit.Key.from_pem.__func__  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def pooled_rsa_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every key ring keeps an RS256 key for ID tokens, and generating a 2048-bit RSA key takes
    about 50 ms: the signing keys of RS256 and PS256 (``Key.generate(alg, use="sig")``, as the
    key ring asks for them) are taken from a pool that grows as needed, real keys made once per
    run. Within one test each such call still gets a key of its own, so kids stay distinct;
    any other generation is left alone. Loading an RSA private key checks it (about 30 ms), so
    the keys loaded from the pooled keys' PEMs (as the key ring does when it creates and
    decrypts them) are remembered too. Processes a test starts generate their own keys."""
    drawn = {name: itertools.count() for name in ("RS256", "PS256")}

    def generate(cls: type[jwtkit.Key], /, alg_or_kty: str | None = None, **options: Any) -> Any:
        if alg_or_kty in drawn and options == {"use": "sig"}:
            pool = _RSA_POOL.setdefault(alg_or_kty, [])
            index = next(drawn[alg_or_kty])
            while len(pool) <= index:
                key = _REAL_GENERATE(jwtkit.Key, alg_or_kty, use="sig")
                _POOLED_PEMS.add(key.to_pem(private=True))
                pool.append(key)
            return pool[index]
        return _REAL_GENERATE(cls, alg_or_kty, **options)

    def from_pem(cls: type[jwtkit.Key], /, data: Any, *args: Any, **options: Any) -> Any:
        pooled = isinstance(data, bytes) and data in _POOLED_PEMS
        if pooled and not args and set(options) <= {"kid", "alg", "use"}:
            memo = (cls, data, options.get("kid"), options.get("alg"), options.get("use"))
            if memo not in _LOADED:
                _LOADED[memo] = _REAL_FROM_PEM(cls, data, **options)
            return _LOADED[memo]
        return _REAL_FROM_PEM(cls, data, *args, **options)

    monkeypatch.setattr(jwtkit.Key, "generate", classmethod(generate))
    monkeypatch.setattr(jwtkit.Key, "from_pem", classmethod(from_pem))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def run_app(tmp_path: Path, clock: FrozenClock) -> RunApp:
    """``async with run_app(**setting_overrides) as harness``: a fresh app per call (same
    database file unless ``database`` is overridden)."""

    @asynccontextmanager
    async def run(store: Store | None = None, **overrides: Any) -> AsyncIterator[Harness]:
        settings = make_settings(tmp_path, **overrides)
        app = create_app(settings, store=store, clock=clock)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                yield Harness(app, http, clock, settings)
            assert app.state.unhandled_errors == 0

    return run


@pytest.fixture
async def harness(run_app: RunApp) -> AsyncIterator[Harness]:
    async with run_app() as running:
        yield running
