"""The demo client of the page's walk-through, in process: registered by the service itself
when the ``demo`` setting is on (development by default), removed when it is off; public, one
exact redirect URI, no password grant, short access tokens; the login page's CSP lets the
form's redirect reach the page. The walk-through in a real browser: test_page_flow_browser.py.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_flow import Flow, form_of, query_of
from conftest import TEST_KEK, Harness, RunApp, make_settings

from jwtkit.server.app import create_app
from jwtkit.server.config import DEMO_CLIENT_ID, ConfigError, Settings
from jwtkit.server.credentials import hash_client_secret
from jwtkit.server.demo import (
    DEMO_PASSWORD,
    DEMO_USERNAME,
    client_by_id,
    demo_client,
    install_demo_user,
)
from jwtkit.server.models import Client
from jwtkit.server.passwords import PasswordHasher, check_policy
from jwtkit.server.storage import open_store
from jwtkit.testing import FrozenClock

pytestmark = pytest.mark.anyio

PAGE = "http://127.0.0.1:8000/"
PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "issuer": "https://id.example",
    "key_encryption_key": TEST_KEK,
    "argon2_memory_cost": 19456,
}


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def _demo_flow(harness: Harness, redirect_uri: str = PAGE) -> Flow:
    return Flow(
        harness,
        client_id=DEMO_CLIENT_ID,
        redirect_uri=redirect_uri,
        scope="openid profile offline_access",
    )


# -- the built-in client --------------------------------------------------------------------


async def test_demo_client_is_built_in_in_development_as_a_public_page_client(
    harness: Harness,
) -> None:
    assert harness.settings.demo_enabled
    client = await client_by_id(harness.store, harness.settings, DEMO_CLIENT_ID)
    assert client == demo_client(harness.settings)
    assert client is not None
    assert client.public
    assert client.secret_hash is None
    assert client.jwks is None
    assert client.redirect_uris == (PAGE,) == client.post_logout_redirect_uris
    assert client.grant_types == ("authorization_code", "refresh_token")
    assert client.scopes == ("openid", "profile", "offline_access")
    assert client.first_party
    assert await harness.store.list_clients() == []  # built in, never stored


async def test_demo_client_does_not_exist_in_production(run_app: RunApp) -> None:
    async with run_app(**PRODUCTION) as harness:
        assert not harness.settings.demo_enabled
        assert await client_by_id(harness.store, harness.settings, DEMO_CLIENT_ID) is None
        assert (await harness.http.get("/demo")).json() == {"enabled": False}
        answer = await _demo_flow(harness, "https://id.example/").authorize()
        assert answer.status_code == 400
        assert "No application is registered" in answer.text


async def test_demo_setting_turns_it_on_in_production_without_the_demo_user(
    run_app: RunApp,
) -> None:
    async with run_app(**PRODUCTION, demo=True) as harness:
        client = await client_by_id(harness.store, harness.settings, DEMO_CLIENT_ID)
        assert client is not None
        assert client.redirect_uris == ("https://id.example/",)
        described = (await harness.http.get("/demo")).json()
        assert described == {
            "enabled": True,
            "client_id": DEMO_CLIENT_ID,
            "redirect_uri": "https://id.example/",
            "scope": "openid profile offline_access",
            "access_token_ttl": 30,
        }


async def test_demo_off_in_development_leaves_no_demo_client(run_app: RunApp) -> None:
    async with run_app(demo=False) as harness:
        assert await client_by_id(harness.store, harness.settings, DEMO_CLIENT_ID) is None
        assert (await harness.http.get("/demo")).json() == {"enabled": False}


async def test_a_stored_client_of_that_id_is_used_only_while_the_demo_is_off(
    run_app: RunApp,
) -> None:
    own = Client(
        DEMO_CLIENT_ID,
        hash_client_secret("s" * 43),
        ("authorization_code", "password"),
        ("openid",),
        1.0,
        redirect_uris=("https://app.example/cb",),
    )
    async with run_app(demo=False) as harness:
        await harness.store.add_client(own)
        assert await client_by_id(harness.store, harness.settings, DEMO_CLIENT_ID) == own
    async with run_app() as harness:
        built_in = await client_by_id(harness.store, harness.settings, DEMO_CLIENT_ID)
        assert built_in == demo_client(harness.settings)
        await harness.register()
        with_secret = await harness.login(client_id=DEMO_CLIENT_ID, client_secret="s" * 43)
        assert with_secret.json()["error"] == "invalid_client"


# -- the demo user ---------------------------------------------------------------------------


async def test_the_demo_password_passes_the_password_policy() -> None:
    check_policy(DEMO_PASSWORD, username=DEMO_USERNAME)


async def test_serve_creates_the_demo_user_in_development_and_the_page_shows_it(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    app = create_app(settings, clock=FrozenClock(1_700_000_000.0), demo_user=True)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            described = (await http.get("/demo")).json()
            assert described["user"] == {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}
            assert described["access_token_ttl"] == settings.demo_access_token_ttl
            login = await http.post(
                "/token",
                data={"grant_type": "password", "username": "demo", "password": DEMO_PASSWORD},
            )
            assert login.status_code == 200, login.text


async def test_demo_user_only_in_development_and_an_existing_user_is_kept(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    hasher = PasswordHasher.from_settings(settings)
    store = open_store(settings.database)
    await store.open()
    try:
        production = Settings(
            **{**vars(settings), **PRODUCTION, "demo": True, "argon2_memory_cost": 19456}
        )
        assert not await install_demo_user(store, production, hasher, 1.0)
        off = Settings(**{**vars(settings), "demo": False})
        assert not await install_demo_user(store, off, hasher, 1.0)
        assert await store.user_by_name(DEMO_USERNAME) is None
        assert await install_demo_user(store, settings, hasher, 1.0)
        created = await store.user_by_name(DEMO_USERNAME)
        assert created is not None
        assert await hasher.verify(created.password_hash, DEMO_PASSWORD)
        assert await install_demo_user(store, settings, hasher, 2.0)
        assert await store.user_by_name(DEMO_USERNAME) == created
    finally:
        await store.close()


async def test_demo_user_tolerates_a_concurrent_creation(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    store = open_store(settings.database)
    await store.open()
    try:
        hasher = PasswordHasher.from_settings(settings)

        class Racing:
            def __getattr__(self, name: str) -> Any:
                return getattr(store, name)

            async def user_by_name(self, username: str) -> None:
                await install_demo_user(store, settings, hasher, 1.0)

        assert await install_demo_user(Racing(), settings, hasher, 2.0)
        assert len(await store.list_users()) == 1
    finally:
        await store.close()


# -- the flow --------------------------------------------------------------------------------


async def test_demo_access_tokens_live_demo_access_token_ttl_and_refresh_rotates(
    run_app: RunApp,
) -> None:
    async with run_app(demo_access_token_ttl=5) as harness:
        await harness.register()
        flow = _demo_flow(harness)
        exchanged = await flow.exchange(await flow.code())
        assert exchanged.status_code == 200, exchanged.text
        tokens = exchanged.json()
        assert tokens["expires_in"] == 5
        access = _claims(tokens["access_token"])
        assert access["exp"] - access["iat"] == 5
        assert access["client_id"] == DEMO_CLIENT_ID
        assert _claims(tokens["id_token"])["nonce"] == flow.nonce
        harness.clock.advance(6)
        assert (await harness.userinfo(tokens["access_token"])).status_code == 401
        data = {"client_id": DEMO_CLIENT_ID}
        refreshed = await harness.refresh(tokens["refresh_token"], **data)
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.json()["expires_in"] == 5
        assert refreshed.json()["refresh_token"] != tokens["refresh_token"]
        reused = await harness.refresh(tokens["refresh_token"], **data)
        assert reused.json()["error"] == "invalid_grant"
        refused = await harness.refresh(refreshed.json()["refresh_token"], **data)
        assert refused.json()["error"] == "invalid_grant"


async def test_other_clients_keep_access_token_ttl(harness: Harness) -> None:
    await harness.register()
    tokens = await harness.tokens()
    assert tokens["expires_in"] == harness.settings.access_token_ttl


def test_access_token_ttl_for_is_the_shorter_lifetime_and_only_while_on(tmp_path: Path) -> None:
    short = make_settings(tmp_path, access_token_ttl=10, demo_access_token_ttl=30)
    assert short.access_token_ttl_for(DEMO_CLIENT_ID) == 10
    on = make_settings(tmp_path, demo_access_token_ttl=7)
    assert on.access_token_ttl_for(DEMO_CLIENT_ID) == 7
    assert on.access_token_ttl_for("web") == on.access_token_ttl
    off = make_settings(tmp_path, demo=False, demo_access_token_ttl=7)
    assert off.access_token_ttl_for(DEMO_CLIENT_ID) == off.access_token_ttl


@pytest.mark.parametrize("ttl", [0, 86401])
def test_demo_access_token_ttl_is_bounded(tmp_path: Path, ttl: int) -> None:
    with pytest.raises(ConfigError, match="demo_access_token_ttl"):
        make_settings(tmp_path, demo_access_token_ttl=ttl)


async def test_the_redirect_uri_must_be_the_page_exactly_port_included(
    harness: Harness,
) -> None:
    """Not even the loopback port may differ (RFC 8252 §7.3 is for native apps)."""
    others = (PAGE + "callback", PAGE + "?x=1", PAGE.rstrip("/"), "http://127.0.0.1:8001/")
    for other in others:
        answer = await _demo_flow(harness, other).authorize()
        assert answer.status_code == 400, other
        assert "location" not in answer.headers


async def test_the_demo_client_cannot_use_the_password_grant_or_a_secret(
    harness: Harness,
) -> None:
    await harness.register()
    password = await harness.login(client_id=DEMO_CLIENT_ID)
    assert password.json()["error"] == "unauthorized_client"
    with_secret = await harness.login(client_id=DEMO_CLIENT_ID, client_secret="s" * 43)
    assert with_secret.json()["error"] == "invalid_client"


async def test_the_login_page_lets_its_form_redirect_back_to_the_page(harness: Harness) -> None:
    await harness.register()
    flow = _demo_flow(harness)
    page = await flow.authorize()
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "form-action 'self' http://127.0.0.1:8000;" in policy
    assert form_of(page).method == "post"
    answer = await flow.log_in(page)
    assert answer.status_code in (302, 303)
    back = answer.headers["location"]
    assert back.startswith(PAGE + "?")
    assert query_of(back)["iss"] == harness.settings.issuer
