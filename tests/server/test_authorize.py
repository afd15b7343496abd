"""The authorization code flow with PKCE, over HTTP: ``/authorize``, the login and consent
forms, the code's exchange at ``/token``, ID tokens, sessions and ``/logout``.

Each refusal the provider owes (OAuth 2.1 §4.1, RFC 9700 §4.1-§4.5, RFC 9207, OpenID Connect
Core §3.1.2) is its own test. The same flow in a real browser: ``test_provider_browser.py``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from typing import Any

import httpx
import pytest
from browser_flow import (
    LOGOUT_URI,
    REDIRECT_URI,
    Flow,
    add_web_client,
    form_of,
    forms_of,
    query_of,
)
from conftest import PASSWORD, Harness, RunApp

import jwtkit
from jwtkit.server.sessions import COOKIE_VALUE_LENGTH

pytestmark = pytest.mark.anyio


@pytest.fixture
async def web(harness: Harness) -> Harness:
    """The harness with alice registered and the public third-party client ``web``."""
    await harness.register()
    await add_web_client(harness)
    return harness


async def _id_token(harness: Harness, token: str, audience: str = "web") -> dict[str, Any]:
    claims: dict[str, Any] = jwtkit.decode(
        token,
        await harness.keyset(),
        algorithms=["RS256", "ES256", "EdDSA"],
        audience=audience,
        issuer=harness.settings.issuer,
        now=harness.clock(),
    )
    return claims


def _half_hash(token: str, digest: Any = hashlib.sha256) -> str:
    value = digest(token.encode()).digest()
    return base64.urlsafe_b64encode(value[: len(value) // 2]).rstrip(b"=").decode()


# -- the whole flow --------------------------------------------------------------------------


async def test_login_consent_code_and_tokens(web: Harness) -> None:
    flow = Flow(web)
    page = await flow.authorize()
    assert page.status_code == 200
    login = form_of(page)
    assert {"username", "password", "csrf_token"} <= set(login.fields)
    consent_page = await flow.log_in(page)
    assert consent_page.status_code == 200
    consent = form_of(consent_page)
    assert ("decision", "allow") in consent.buttons
    assert ("decision", "deny") in consent.buttons
    for scope in ("openid", "profile", "email", "offline_access"):
        assert scope in consent_page.text
    answer = await flow.submit(consent_page, decision="allow")
    assert answer.status_code == 303
    assert answer.headers["cache-control"] == "no-store"
    params = query_of(answer.headers["location"])
    assert answer.headers["location"].startswith(REDIRECT_URI + "?")
    assert (params["state"], params["iss"]) == (flow.state, web.settings.issuer)

    response = await flow.exchange(params["code"])
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["scope"] == "openid profile email offline_access"
    claims = await _id_token(web, tokens["id_token"])
    header = jwtkit.decode_unverified(tokens["id_token"]).header
    assert header["alg"] == "RS256"
    users = await web.store.list_users()
    assert claims["sub"] == users[0].id
    assert claims["nonce"] == flow.nonce
    assert claims["azp"] == "web"
    assert claims["at_hash"] == _half_hash(tokens["access_token"])
    assert claims["auth_time"] == int(web.clock())
    session = await web.store.session_by_sid(claims["sid"])
    assert session is not None
    assert session.user_id == users[0].id

    info = await web.userinfo(tokens["access_token"])
    assert info.status_code == 200
    assert info.json()["preferred_username"] == "alice"
    refreshed = await web.refresh(tokens["refresh_token"], client_id="web")
    assert refreshed.status_code == 200, refreshed.text


async def test_a_first_party_client_skips_the_consent_page(web: Harness) -> None:
    await add_web_client(web, "own", first_party=True)
    flow = Flow(web, client_id="own")
    page = await flow.authorize()
    answer = await flow.log_in(page)
    assert answer.status_code == 303
    assert "code" in query_of(answer.headers["location"])


async def test_consent_is_remembered_and_prompt_consent_asks_again(web: Harness) -> None:
    flow = Flow(web)
    await flow.code()
    again = await flow.authorize()
    assert again.status_code == 302
    assert "code" in query_of(again.headers["location"])
    asked = await flow.authorize(prompt="consent")
    assert asked.status_code == 200
    assert ("decision", "allow") in form_of(asked).buttons
    more = await flow.authorize(scope="openid")
    assert more.status_code == 302  # a subset of what was granted


async def test_without_offline_access_there_is_no_refresh_token(web: Harness) -> None:
    tokens = await Flow(web, scope="openid profile").tokens()
    assert "refresh_token" not in tokens
    assert "id_token" in tokens


async def test_without_openid_there_is_no_id_token(web: Harness) -> None:
    flow = Flow(web, scope="profile")
    tokens = await flow.tokens()
    assert "id_token" not in tokens


async def test_a_client_may_ask_for_es256_id_tokens(web: Harness) -> None:
    await add_web_client(web, "es", first_party=True, id_token_alg="ES256")
    tokens = await Flow(web, client_id="es").tokens()
    header = jwtkit.decode_unverified(tokens["id_token"]).header
    assert header["alg"] == "ES256"
    claims = await _id_token(web, tokens["id_token"], "es")
    assert claims["at_hash"] == _half_hash(tokens["access_token"])


async def test_a_confidential_client_must_authenticate_at_the_token_endpoint(
    web: Harness,
) -> None:
    await add_web_client(web, "server-app", secret="s" * 43, first_party=True)
    flow = Flow(web, client_id="server-app")
    code = await flow.code()
    refused = await flow.exchange(code)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    code = await flow.code()
    accepted = await flow.exchange(code, client_secret="s" * 43)
    assert accepted.status_code == 200, accepted.text


# -- prompt, max_age, login_hint -------------------------------------------------------------


async def test_prompt_none_without_a_session_is_login_required(web: Harness) -> None:
    flow = Flow(web)
    answer = await flow.authorize(prompt="none")
    assert answer.status_code == 302
    params = query_of(answer.headers["location"])
    assert params["error"] == "login_required"
    assert (params["state"], params["iss"]) == (flow.state, web.settings.issuer)


async def test_prompt_none_without_consent_is_consent_required(web: Harness) -> None:
    await add_web_client(web, "own", first_party=True)
    await Flow(web, client_id="own").code()  # logged in, through another client
    answer = await Flow(web).authorize(prompt="none")
    assert query_of(answer.headers["location"])["error"] == "consent_required"


async def test_prompt_none_with_a_session_and_consent_gives_a_code(web: Harness) -> None:
    flow = Flow(web)
    await flow.code()
    answer = await flow.authorize(prompt="none")
    assert "code" in query_of(answer.headers["location"])


async def test_prompt_none_cannot_be_combined(web: Harness) -> None:
    answer = await Flow(web).authorize(prompt="none login")
    assert query_of(answer.headers["location"])["error"] == "invalid_request"


async def test_prompt_login_asks_for_the_password_again(web: Harness) -> None:
    flow = Flow(web)
    await flow.code()
    page = await flow.authorize(prompt="login")
    assert page.status_code == 200
    assert "password" in form_of(page).fields
    answer = await flow.log_in(page)
    assert answer.status_code == 303  # consent remembered; prompt=login satisfied


async def test_max_age_asks_for_a_fresh_login(web: Harness) -> None:
    flow = Flow(web)
    await flow.code()
    web.clock.advance(120)
    fresh_enough = await flow.authorize(max_age="300")
    assert fresh_enough.status_code == 302
    too_old = await flow.authorize(max_age="60")
    assert too_old.status_code == 200
    assert "password" in form_of(too_old).fields
    answer = await flow.log_in(too_old)
    code = query_of(answer.headers["location"])["code"]
    tokens = (await flow.exchange(code)).json()
    claims = await _id_token(web, tokens["id_token"])
    assert claims["auth_time"] == int(web.clock())


@pytest.mark.parametrize("max_age", ["-1", "ten", "1.5", "99999999999"])
async def test_a_malformed_max_age_is_refused(web: Harness, max_age: str) -> None:
    answer = await Flow(web).authorize(max_age=max_age)
    assert query_of(answer.headers["location"])["error"] == "invalid_request"


async def test_login_hint_fills_in_the_username(web: Harness) -> None:
    page = await Flow(web).authorize(login_hint="alice")
    assert form_of(page).fields["username"] == "alice"


# -- the redirect URI: a page, never a redirect ----------------------------------------------


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://app.example/cb/extra",
        "https://app.example/cb?x=1",
        "https://app.example/cb#frag",
        "https://app.example:8443/cb",
        "http://app.example/cb",
        "https://app.example/cb/",
        "https://APP.example/cb",
        "https://evil.example/cb",
        "https://app.example.evil.example/cb",
    ],
)
async def test_an_altered_redirect_uri_is_an_error_page(web: Harness, redirect_uri: str) -> None:
    answer = await Flow(web, redirect_uri=redirect_uri).authorize()
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert answer.headers["content-type"].startswith("text/html")
    assert "redirect" in answer.text.lower()


async def test_an_unknown_client_is_an_error_page(web: Harness) -> None:
    answer = await Flow(web, client_id="nobody").authorize()
    assert answer.status_code == 400
    assert "location" not in answer.headers


async def test_a_client_without_the_code_grant_is_an_error_page(web: Harness) -> None:
    await web.add_client("backend")
    answer = await Flow(web, client_id="backend").authorize()
    assert answer.status_code == 400
    assert "location" not in answer.headers


async def test_a_missing_client_id_is_an_error_page(web: Harness) -> None:
    answer = await Flow(web).authorize(client_id=None)
    assert answer.status_code == 400
    assert "location" not in answer.headers


async def test_a_repeated_redirect_uri_is_an_error_page(web: Harness) -> None:
    query = httpx.QueryParams([*Flow(web).params().items(), ("redirect_uri", REDIRECT_URI)])
    answer = await web.http.get("/authorize", params=query)
    assert answer.status_code == 400
    assert "location" not in answer.headers


async def test_a_malformed_query_is_an_error_page(web: Harness) -> None:
    answer = await web.http.get("/authorize?client_id=web&%zz")
    assert answer.status_code == 400


async def test_a_single_registered_redirect_uri_may_be_omitted_without_openid(
    web: Harness,
) -> None:
    flow = Flow(web, redirect_uri=None, scope="profile")
    code = await flow.code()
    assert (await flow.exchange(code)).status_code == 200
    openid = await Flow(web, redirect_uri=None).authorize()
    assert query_of(openid.headers["location"])["error"] == "invalid_request"


async def test_several_registered_redirect_uris_must_be_named(web: Harness) -> None:
    await add_web_client(web, "two", redirect_uris=(REDIRECT_URI, "https://app.example/cb2"))
    answer = await Flow(web, client_id="two", redirect_uri=None, scope="profile").authorize()
    assert answer.status_code == 400
    assert "location" not in answer.headers


async def test_a_loopback_redirect_uri_may_use_any_port(web: Harness) -> None:
    await add_web_client(web, "native", redirect_uris=("http://127.0.0.1/callback",))
    flow = Flow(web, client_id="native", redirect_uri="http://127.0.0.1:53127/callback")
    code = await flow.code()
    assert (await flow.exchange(code)).status_code == 200


# -- errors answered at the redirect URI -----------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "code id_token"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),
        ({"response_mode": "fragment"}, "invalid_request"),
        ({"scope": "openid admin"}, "invalid_scope"),
        ({"scope": "openid  profile"}, "invalid_scope"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
        ({"request_uri": "https://app.example/r"}, "request_uri_not_supported"),
        ({"registration": "{}"}, "registration_not_supported"),
        ({"nonce": "n" * 513}, "invalid_request"),
        ({"login_hint": "\x07"}, "invalid_request"),
        ({"resource": "https://api.example/"}, "invalid_target"),
    ],
)
async def test_request_errors_go_back_to_the_client(
    web: Harness, changes: dict[str, str | None], error: str
) -> None:
    flow = Flow(web)
    answer = await flow.authorize(**changes)
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    params = query_of(location)
    assert params["error"] == error
    assert params["iss"] == web.settings.issuer
    assert params["state"] == flow.state
    assert "code" not in params


async def test_a_bad_state_is_not_echoed(web: Harness) -> None:
    answer = await Flow(web, state="s" * 3000).authorize()
    params = query_of(answer.headers["location"])
    assert params["error"] == "invalid_request"
    assert "state" not in params


async def test_a_repeated_parameter_is_refused(web: Harness) -> None:
    query = httpx.QueryParams([*Flow(web).params().items(), ("scope", "openid")])
    answer = await web.http.get("/authorize", params=query)
    assert query_of(answer.headers["location"])["error"] == "invalid_request"


async def test_the_user_may_deny(web: Harness) -> None:
    flow = Flow(web)
    consent = await flow.log_in(await flow.authorize())
    answer = await flow.submit(consent, decision="deny")
    params = query_of(answer.headers["location"])
    assert params["error"] == "access_denied"
    assert params["iss"] == web.settings.issuer
    assert await web.store.consent((await web.store.list_users())[0].id, "web") is None


async def test_an_unknown_consent_decision_is_an_error_page(web: Harness) -> None:
    flow = Flow(web)
    consent = await flow.log_in(await flow.authorize())
    answer = await flow.submit(consent, decision="maybe")
    assert answer.status_code == 400
    assert "location" not in answer.headers


async def test_the_consent_form_without_a_session_shows_the_login_page(web: Harness) -> None:
    flow = Flow(web)
    consent = await flow.log_in(await flow.authorize())
    web.http.cookies.delete("jwtkit_session")
    answer = await flow.submit(consent, decision="allow")
    assert answer.status_code == 200
    assert "password" in form_of(answer).fields


async def test_an_authorization_request_may_be_posted(web: Harness) -> None:
    flow = Flow(web)
    page = await web.http.post("/authorize", data=flow.params())
    assert page.status_code == 200
    assert "password" in form_of(page).fields
    await flow.code()
    answer = await web.http.post("/authorize", data=flow.params())
    assert answer.status_code == 303
    assert "code" in query_of(answer.headers["location"])


# -- the login form --------------------------------------------------------------------------


async def test_a_wrong_password_shows_the_login_page_again(web: Harness) -> None:
    flow = Flow(web)
    page = await flow.authorize()
    wrong = await flow.log_in(page, password="wrong password")
    unknown = await flow.log_in(page, username="mallory")
    assert wrong.status_code == unknown.status_code == 200
    assert "Invalid username or password" in wrong.text
    assert "Invalid username or password" in unknown.text
    assert form_of(wrong).fields["username"] == "alice"
    assert "jwtkit_session" not in web.http.cookies


async def test_failed_logins_are_limited(run_app: RunApp) -> None:
    async with run_app(login_max_failures_per_user=2) as harness:
        await harness.register()
        await add_web_client(harness)
        flow = Flow(harness)
        page = await flow.authorize()
        for _ in range(2):
            assert "Invalid username" in (await flow.log_in(page, password="nope")).text
        limited = await flow.log_in(page)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0


async def test_a_login_form_without_its_fields_is_shown_again(web: Harness) -> None:
    flow = Flow(web)
    page = await flow.authorize()
    answer = await flow.submit(page, username="alice")
    assert answer.status_code == 400
    assert "password" in form_of(answer).fields


async def test_a_login_without_the_csrf_token_is_refused(web: Harness) -> None:
    flow = Flow(web)
    page = await flow.authorize()
    form = form_of(page)
    fields = {**form.fields, "username": "alice", "password": PASSWORD}
    del fields["csrf_token"]
    answer = await web.http.post(form.action, data=fields)
    assert answer.status_code == 403
    assert "jwtkit_session" not in web.http.cookies


async def test_a_login_with_another_browsers_csrf_token_is_refused(web: Harness) -> None:
    flow = Flow(web)
    page = await flow.authorize()
    form = form_of(page)
    web.http.cookies.set("jwtkit_csrf", "A" * COOKIE_VALUE_LENGTH)  # another browser's
    answer = await web.http.post(
        form.action, data={**form.fields, "username": "alice", "password": PASSWORD}
    )
    assert answer.status_code == 403


async def test_a_malformed_login_form_is_an_error_page(web: Harness) -> None:
    answer = await web.http.post(
        "/authorize/login", content=b"{}", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")


async def test_a_login_cannot_fixate_a_session(web: Harness) -> None:
    """Session fixation: a cookie planted before the login (here, the attacker's own live
    session) is ended, and the browser gets a new cookie."""
    attacker = Flow(web)
    await attacker.code()
    planted = web.http.cookies["jwtkit_session"]
    victim = Flow(web)
    page = await victim.authorize(prompt="login")
    answer = await victim.log_in(page)
    assert answer.status_code == 303
    fresh = web.http.cookies["jwtkit_session"]
    assert fresh != planted
    assert len(fresh) == COOKIE_VALUE_LENGTH
    web.http.cookies.set("jwtkit_session", planted)
    again = await attacker.authorize()
    assert again.status_code == 200
    assert "password" in form_of(again).fields


async def test_the_session_cookie_is_httponly_and_samesite_lax(web: Harness) -> None:
    flow = Flow(web)
    answer = await flow.log_in(await flow.authorize())
    cookie = next(
        value
        for name, value in answer.headers.multi_items()
        if name == "set-cookie" and value.startswith("jwtkit_session=")
    )
    lowered = cookie.lower()
    assert "httponly" in lowered
    assert "samesite=lax" in lowered
    assert "path=/" in lowered
    assert "secure" not in lowered  # an http development issuer


async def test_https_issuers_use_secure_host_prefixed_cookies(run_app: RunApp) -> None:
    async with run_app(issuer="https://login.example", environment="development") as harness:
        await harness.register()
        await add_web_client(harness)
        transport = harness.http._transport
        async with httpx.AsyncClient(transport=transport, base_url="https://login.example") as http:
            harness.http = http
            flow = Flow(harness)
            answer = await flow.log_in(await flow.authorize())
            cookies = [v for n, v in answer.headers.multi_items() if n == "set-cookie"]
            session = next(c for c in cookies if c.startswith("__Host-jwtkit_session="))
            assert "secure" in session.lower()
            assert "domain" not in session.lower()


# -- sessions --------------------------------------------------------------------------------


async def test_an_idle_session_ends(run_app: RunApp) -> None:
    async with run_app(session_idle_ttl=600, session_absolute_ttl=3600) as harness:
        await harness.register()
        await add_web_client(harness)
        flow = Flow(harness)
        await flow.code()
        harness.clock.advance(500)
        assert (await flow.authorize()).status_code == 302  # used: the idle time restarts
        harness.clock.advance(500)
        assert (await flow.authorize()).status_code == 302
        harness.clock.advance(601)
        assert (await flow.authorize()).status_code == 200


async def test_a_session_ends_at_its_absolute_lifetime(run_app: RunApp) -> None:
    async with run_app(session_idle_ttl=600, session_absolute_ttl=1000) as harness:
        await harness.register()
        await add_web_client(harness)
        flow = Flow(harness)
        await flow.code()
        for _ in range(3):
            harness.clock.advance(300)
            assert (await flow.authorize()).status_code == 302
        harness.clock.advance(101)
        assert (await flow.authorize()).status_code == 200


async def test_a_disabled_users_session_ends(web: Harness) -> None:
    flow = Flow(web)
    await flow.code()
    user = (await web.store.list_users())[0]
    await web.store.set_disabled(user.id, True)
    assert (await flow.authorize()).status_code == 200


async def test_a_password_change_ends_the_browser_sessions(web: Harness) -> None:
    flow = Flow(web)
    tokens = await flow.tokens()
    changed = await web.http.post(
        "/users/me/password",
        json={"current_password": PASSWORD, "new_password": "another long passphrase"},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert changed.status_code == 200, changed.text
    assert (await flow.authorize()).status_code == 200


# -- the code at the token endpoint ----------------------------------------------------------


async def test_a_wrong_verifier_is_refused_and_burns_the_code(web: Harness) -> None:
    flow = Flow(web)
    code = await flow.code()
    wrong = await flow.exchange(code, code_verifier="x" * 43)
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert (await flow.exchange(code)).json()["error"] == "invalid_grant"


@pytest.mark.parametrize("verifier", [None, "short", "é" * 43])
async def test_a_missing_or_malformed_verifier_is_refused(
    web: Harness, verifier: str | None
) -> None:
    flow = Flow(web)
    code = await flow.code()
    answer = await flow.exchange(code, code_verifier=verifier)
    assert answer.status_code == 400
    assert answer.json()["error"] in {"invalid_request", "invalid_grant"}


async def test_a_reused_code_is_refused_and_revokes_its_tokens(web: Harness) -> None:
    flow = Flow(web)
    code = await flow.code()
    first = (await flow.exchange(code)).json()
    assert (await web.userinfo(first["access_token"])).status_code == 200
    again = await flow.exchange(code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert "already used" in again.json()["error_description"]
    assert (await web.userinfo(first["access_token"])).status_code == 401
    refreshed = await web.refresh(first["refresh_token"], client_id="web")
    assert refreshed.json()["error"] == "invalid_grant"


async def test_an_expired_code_is_refused(web: Harness) -> None:
    flow = Flow(web)
    code = await flow.code()
    web.clock.advance(60)
    answer = await flow.exchange(code)
    assert answer.json()["error"] == "invalid_grant"
    assert "expired" in answer.json()["error_description"]


async def test_an_unknown_or_oversized_code_is_refused(web: Harness) -> None:
    flow = Flow(web)
    assert (await flow.exchange("x" * 43)).json()["error"] == "invalid_grant"
    assert (await flow.exchange("x" * 500)).json()["error"] == "invalid_grant"
    assert (await flow.exchange(None)).json()["error"] == "invalid_request"  # type: ignore[arg-type]


async def test_the_redirect_uri_must_match_at_the_token_endpoint(web: Harness) -> None:
    flow = Flow(web)
    code = await flow.code()
    answer = await flow.exchange(code, redirect_uri="https://app.example/other")
    assert answer.json()["error"] == "invalid_grant"
    code = await flow.code()
    assert (await flow.exchange(code, redirect_uri=None)).json()["error"] == "invalid_grant"


async def test_a_code_is_bound_to_its_client(web: Harness) -> None:
    await add_web_client(web, "other")
    flow = Flow(web)
    code = await flow.code()
    answer = await flow.exchange(code, client_id="other")
    assert answer.json()["error"] == "invalid_grant"


async def test_a_code_is_refused_once_its_session_has_ended(web: Harness) -> None:
    flow = Flow(web)
    code = await flow.code()
    sessions = await web.store.list_users()
    assert await web.store.end_user_sessions(sessions[0].id, web.clock()) == 1
    assert (await flow.exchange(code)).json()["error"] == "invalid_grant"


async def test_a_code_of_a_disabled_user_is_refused(web: Harness) -> None:
    flow = Flow(web)
    code = await flow.code()
    user = (await web.store.list_users())[0]
    await web.store.set_disabled(user.id, True)
    assert (await flow.exchange(code)).json()["error"] == "invalid_grant"


async def test_a_client_without_the_grant_cannot_exchange(web: Harness) -> None:
    secret = await web.add_client("backend")
    answer = await web.http.post(
        "/token",
        data={"grant_type": "authorization_code", "code": "x", "code_verifier": "y" * 43},
        auth=("backend", secret),
    )
    assert answer.json()["error"] == "unauthorized_client"


# -- resource indicators (RFC 8707) ----------------------------------------------------------


async def test_a_resource_becomes_the_audience(run_app: RunApp) -> None:
    api = "https://api.example/"
    async with run_app(resources=f"{api} https://other.example/") as harness:
        await harness.register()
        await add_web_client(harness, first_party=True)
        flow = Flow(harness, extra={"resource": api})
        tokens = await flow.tokens()
        claims = jwtkit.decode_unverified(tokens["access_token"]).claims
        assert claims["aud"] == api
        # Not a token for the service's own endpoints...
        assert (await harness.userinfo(tokens["access_token"])).status_code == 401
        # ...and its refreshed successors keep the audience.
        refreshed = await harness.refresh(tokens["refresh_token"], client_id="web")
        assert jwtkit.decode_unverified(refreshed.json()["access_token"]).claims["aud"] == api
        other = await harness.refresh(
            refreshed.json()["refresh_token"], client_id="web", resource="https://other.example/"
        )
        assert other.json()["error"] == "invalid_target"


# -- logout ----------------------------------------------------------------------------------


async def test_logout_with_the_id_token_of_the_session_is_immediate(web: Harness) -> None:
    flow = Flow(web)
    tokens = await flow.tokens()
    answer = await web.http.get(
        "/logout",
        params={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": LOGOUT_URI,
            "state": "bye",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{LOGOUT_URI}?state=bye"
    assert (await flow.authorize()).status_code == 200  # logged out


async def test_logout_without_a_hint_asks_first(web: Harness) -> None:
    flow = Flow(web)
    await flow.code()
    page = await web.http.get("/logout", params={"client_id": "web"})
    assert page.status_code == 200
    form = form_of(page)
    assert ("decision", "logout") in form.buttons
    assert (await flow.authorize()).status_code == 302  # not yet
    done = await web.http.post(form.action, data={**form.fields, "decision": "logout"})
    assert done.status_code == 200
    assert (await flow.authorize()).status_code == 200


async def test_a_logout_confirmation_needs_its_csrf_token(web: Harness) -> None:
    flow = Flow(web)
    await flow.code()
    page = await web.http.get("/logout")
    form = form_of(page)
    fields = dict(form.fields)
    del fields["csrf_token"]
    refused = await web.http.post(form.action, data={**fields, "decision": "logout"})
    assert refused.status_code == 403
    assert (await flow.authorize()).status_code == 302


async def test_logout_without_a_session_goes_straight_back(web: Harness) -> None:
    answer = await web.http.get(
        "/logout", params={"client_id": "web", "post_logout_redirect_uri": LOGOUT_URI}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == LOGOUT_URI
    page = await web.http.get("/logout")
    assert page.status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"post_logout_redirect_uri": LOGOUT_URI},  # no client
        {"client_id": "web", "post_logout_redirect_uri": "https://evil.example/"},
        {"client_id": "web", "post_logout_redirect_uri": LOGOUT_URI + "/x"},
        {"id_token_hint": "not-a-token"},
        {"client_id": "bad client"},
        {"client_id": "web", "state": "s" * 3000},
    ],
)
async def test_bad_logout_requests_are_error_pages(web: Harness, params: dict[str, str]) -> None:
    answer = await web.http.get("/logout", params=params)
    assert answer.status_code == 400
    assert "location" not in answer.headers


async def test_a_logout_hint_for_another_client_is_refused(web: Harness) -> None:
    await add_web_client(web, "other")
    tokens = await Flow(web).tokens()
    answer = await web.http.get(
        "/logout", params={"id_token_hint": tokens["id_token"], "client_id": "other"}
    )
    assert answer.status_code == 400


async def test_an_expired_hint_still_names_the_session(web: Harness) -> None:
    flow = Flow(web)
    tokens = await flow.tokens()
    web.clock.advance(web.settings.access_token_ttl + 60)
    answer = await web.http.get("/logout", params={"id_token_hint": tokens["id_token"]})
    assert answer.status_code == 200
    assert forms_of(answer.text) == []  # the "logged out" page: no confirmation asked
    assert (await flow.authorize()).status_code == 200


# -- edges -----------------------------------------------------------------------------------


async def test_empty_parameters_count_as_omitted(web: Harness) -> None:
    """RFC 6749 §3.1: a parameter sent without a value is treated as omitted (an empty
    ``resource`` too)."""
    flow = Flow(web, nonce=None)
    query = httpx.QueryParams([*flow.params().items(), ("nonce", ""), ("resource", "")])
    page = await web.http.get("/authorize", params=query)
    assert page.status_code == 200
    assert "password" in form_of(page).fields


async def test_an_overlong_request_is_an_error_page(web: Harness) -> None:
    answer = await Flow(web).authorize(state="s" * 9000)
    assert answer.status_code == 414
    assert "location" not in answer.headers


async def test_a_planted_unknown_session_cookie_is_replaced(web: Harness) -> None:
    web.http.cookies.set("jwtkit_session", "B" * COOKIE_VALUE_LENGTH, domain="testserver.local")
    flow = Flow(web)
    answer = await flow.log_in(await flow.authorize())
    assert answer.status_code == 200  # the consent page
    assert web.http.cookies["jwtkit_session"] != "B" * COOKIE_VALUE_LENGTH


async def test_tokens_of_a_code_reused_during_its_exchange_are_revoked(
    web: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second use lands between the first exchange's redemption and its record of what it
    issued: the reuse finds nothing to revoke, so the first exchange revokes its own tokens."""
    flow = Flow(web)
    code = await flow.code()
    store = web.store
    record = store.record_code_grant

    async def reused_meanwhile(code_hash: bytes, *args: Any) -> bool:
        assert (await store.redeem_code(code_hash, web.clock())).status == "reused"
        return await record(code_hash, *args)

    monkeypatch.setattr(store, "record_code_grant", reused_meanwhile)
    answer = await flow.exchange(code)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    monkeypatch.undo()
    again = await store.redeem_code(hashlib.sha256(code.encode()).digest(), web.clock())
    assert again.code is not None
    assert again.code.family_id is None  # the exchange could not record what it issued...
    (user,) = await store.list_users()
    # ...so it revoked it: the refresh family it started has no active token left.
    assert await store.revoke_user_families(user.id, web.clock()) == 0


async def test_a_logout_form_must_say_logout(web: Harness) -> None:
    flow = Flow(web)
    await flow.code()
    form = form_of(await web.http.get("/logout"))
    answer = await web.http.post(form.action, data={**form.fields, "decision": "stay"})
    assert answer.status_code == 400
    assert (await flow.authorize()).status_code == 302  # still logged in


async def test_a_logout_request_may_be_posted(web: Harness) -> None:
    flow = Flow(web)
    tokens = await flow.tokens()
    answer = await web.http.post(
        "/logout",
        data={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": LOGOUT_URI},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == LOGOUT_URI


async def test_a_session_ended_twice_is_logged_out_once(web: Harness) -> None:
    flow = Flow(web)
    await flow.code()
    current = await web.service.sessions.current(web.http.cookies["jwtkit_session"])
    assert current is not None
    session, user = current
    await web.service.browser_logout(session, user, "203.0.113.7")
    await web.service.browser_logout(session, user, "203.0.113.7")
    assert not await web.service.sessions.is_active(session.sid)


async def test_a_repeated_logout_parameter_is_an_error_page(web: Harness) -> None:
    answer = await web.http.get("/logout?state=a&state=b")
    assert answer.status_code == 400
    assert "location" not in answer.headers


async def test_an_empty_logout_parameter_counts_as_omitted(web: Harness) -> None:
    answer = await web.http.get(
        "/logout?client_id=web&state=&post_logout_redirect_uri=" + LOGOUT_URI
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == LOGOUT_URI


async def test_parallel_exchanges_of_one_code_leave_no_usable_token(web: Harness) -> None:
    """Concurrency is input too: of 10 simultaneous exchanges of one code at most one gets
    tokens, and since the others are second uses, whatever it got is revoked (RFC 6749
    §4.1.2); when the uses overlap, the winner learns it before answering and answers
    invalid_grant too."""
    flow = Flow(web)
    code = await flow.code()
    answers = await asyncio.gather(*(flow.exchange(code) for _ in range(10)))
    winners = [answer.json() for answer in answers if answer.status_code == 200]
    losers = [answer.json() for answer in answers if answer.status_code != 200]
    assert len(winners) <= 1
    assert len(losers) >= 9
    assert all(loser["error"] == "invalid_grant" for loser in losers)
    for tokens in winners:
        assert (await web.userinfo(tokens["access_token"])).status_code == 401
        assert (await web.refresh(tokens["refresh_token"], client_id="web")).status_code == 400
    (user,) = await web.store.list_users()
    assert await web.store.revoke_user_families(user.id, web.clock()) == 0
