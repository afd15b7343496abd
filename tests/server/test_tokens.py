"""The OAuth rules of the token service, driven in-process through its HTTP API.

Grants (RFC 6749 §4.3, §4.4, §6), refresh rotation and reuse detection (RFC 9700 §4.14.2),
RFC 9068 access tokens checked by PyJWT and by jwtkit from the published JWKS only, revocation
(RFC 7009), introspection (RFC 7662), password change, key rotation, brute-force limits. Time
moves with the frozen clock, never with sleep.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import math
import sqlite3
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import jwt
import pytest
from conftest import PASSWORD, T0, Harness, RunApp
from joserfc import jwt as joserfc_jwt
from joserfc.jwk import KeySet as JoserfcKeySet
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jwt as jwcrypto_jwt

import jwtkit
from jwtkit.server.access_tokens import REFRESH_FAMILY_CLAIM
from jwtkit.server.keyring import KeyRing
from jwtkit.server.models import Client, RefreshToken
from jwtkit.server.oauth_errors import OAuthError
from jwtkit.server.storage import SQLiteStore
from jwtkit.server.tokens import (
    KEYRING_REFRESH_INTERVAL,
    PASSWORD_GENERATION_CLAIM,
    PURGE_INTERVAL,
    ClientAuth,
    TokenService,
    check_username,
    hash_client_secret,
    hash_refresh_token,
    new_client_secret,
    parse_basic_authorization,
    verify_client_secret,
)

pytestmark = pytest.mark.anyio


def _header(token: str) -> dict[str, Any]:
    segment = token.split(".", maxsplit=1)[0]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded


def _basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


async def _error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == error, body
    return body


# -- access tokens ---------------------------------------------------------------------------


async def test_access_token_follows_rfc9068(harness: Harness) -> None:
    user_id = await harness.register()
    answer = await harness.tokens()
    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] == 900
    assert answer["scope"] == "openid profile"
    header = _header(answer["access_token"])
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "ES256"
    assert header["kid"] == harness.service.keyring.signing_key().kid
    claims = jwtkit.decode_unverified(answer["access_token"]).claims
    assert set(claims) == {
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "jti",
        "client_id",
        "scope",
        PASSWORD_GENERATION_CLAIM,
        REFRESH_FAMILY_CLAIM,
    }
    assert claims["iss"] == harness.settings.issuer
    assert claims["sub"] == user_id
    assert claims["aud"] == "jwtkit"
    assert claims["exp"] == int(harness.clock()) + 900
    assert claims["client_id"] == "first-party"


async def test_access_token_verifies_with_pyjwt_and_jwtkit_from_the_published_jwks(
    harness: Harness,
) -> None:
    harness.clock.set(time.time())  # PyJWT checks exp against the real clock
    await harness.register()
    token = (await harness.tokens())["access_token"]
    jwks = await harness.jwks()
    kid = _header(token)["kid"]
    (jwk,) = [key for key in jwks["keys"] if key["kid"] == kid]
    assert "d" not in jwk
    claims = jwt.decode(
        token,
        jwt.PyJWK(jwk).key,
        algorithms=["ES256"],
        audience="jwtkit",
        issuer=harness.settings.issuer,
    )
    assert claims["client_id"] == "first-party"
    verified = jwtkit.decode(
        token,
        jwtkit.KeySet.from_jwks(jwks),
        algorithms=["ES256"],
        audience="jwtkit",
        issuer=harness.settings.issuer,
        typ="at+jwt",
        now=harness.clock(),
    )
    assert verified == claims


#: The NumericDate claims (RFC 7519 §4.1.4-§4.1.6).
_TIME_CLAIMS = ("exp", "nbf", "iat")


def _assert_whole_seconds(claims: dict[str, Any], issued: float) -> None:
    """Every time claim is an int (never a float, even a whole one); iat is ``issued`` rounded
    down: never after the moment of issue."""
    for name in _TIME_CLAIMS:
        if name in claims:
            assert type(claims[name]) is int, (name, claims[name])
    assert claims["iat"] == math.floor(issued)


async def test_every_time_claim_the_service_issues_is_an_integer(harness: Harness) -> None:
    """RFC 7519 §2 NumericDates in whole seconds, as peers issue them, from every grant and in
    every answer that shows them (/userinfo, introspection of both kinds of token)."""
    await harness.register()
    # A resource server of the service's audience, which also logs users in: it may
    # introspect every access token here and its own refresh tokens (RFC 7662 §4).
    secret = await harness.add_client(
        "backend",
        grants=("client_credentials", "password", "refresh_token"),
        audiences=(harness.settings.audience,),
    )
    harness.clock.set(T0 + 0.75)
    login = await harness.tokens()
    own_login = await harness.login(**_post_auth("backend", secret))
    refreshed = await harness.refresh(
        own_login.json()["refresh_token"], **_post_auth("backend", secret)
    )
    client = await harness.http.post(
        "/token", data={"grant_type": "client_credentials"}, headers=_basic("backend", secret)
    )
    tokens = [login["access_token"], refreshed.json()["access_token"]]
    tokens.append(client.json()["access_token"])
    for token in tokens:
        claims = jwtkit.decode_unverified(token).claims
        _assert_whole_seconds(claims, harness.clock())
        assert claims["exp"] == claims["iat"] + harness.settings.access_token_ttl
        _assert_whole_seconds((await harness.userinfo(token)).json(), harness.clock())
        introspected = await harness.http.post(
            "/introspect", data={"token": token}, headers=_basic("backend", secret)
        )
        _assert_whole_seconds(introspected.json(), harness.clock())
    refresh = await harness.http.post(
        "/introspect",
        data={"token": refreshed.json()["refresh_token"]},
        headers=_basic("backend", secret),
    )
    assert refresh.json()["active"] is True
    _assert_whole_seconds(refresh.json(), harness.clock())


async def test_peers_accept_an_access_token_the_moment_it_is_issued(harness: Harness) -> None:
    """PyJWT, joserfc and jwcrypto, with their default checks and the published JWKS, accept a
    token at once. The peers read the real clock; the service's stands 0.9 s into the current
    second, where a fractional iat would be in the peers' future (joserfc compares it with
    whole seconds and no leeway) and a whole-second iat is not."""
    await harness.register()
    harness.clock.set(math.floor(time.time()) + 0.9)
    token = (await harness.tokens())["access_token"]
    jwks: Any = await harness.jwks()
    kid = _header(token)["kid"]
    (jwk,) = [key for key in jwks["keys"] if key["kid"] == kid]
    issuer = harness.settings.issuer

    pyjwt_claims = jwt.decode(
        token, jwt.PyJWK(jwk).key, algorithms=["ES256"], audience="jwtkit", issuer=issuer
    )
    decoded = joserfc_jwt.decode(token, JoserfcKeySet.import_key_set(jwks), algorithms=["ES256"])
    joserfc_jwt.JWTClaimsRegistry().validate(decoded.claims)
    checked = jwcrypto_jwt.JWT(jwt=token, key=jwcrypto_jwk.JWK(**jwk), algs=["ES256"])
    jwcrypto_claims = json.loads(checked.claims)

    assert pyjwt_claims == decoded.claims == jwcrypto_claims
    assert pyjwt_claims["iat"] <= time.time()


async def test_access_token_expires_with_the_clock(harness: Harness) -> None:
    await harness.register()
    token = (await harness.tokens())["access_token"]
    assert (await harness.userinfo(token)).status_code == 200
    harness.clock.advance(901)
    response = await harness.userinfo(token)
    await _error(response, 401, "invalid_token")
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="jwtkit", error="invalid_token"')
    assert "expired" in challenge


async def test_tokens_of_another_issuer_or_audience_are_refused(
    harness: Harness, run_app: RunApp, tmp_path: Any
) -> None:
    await harness.register()
    token = (await harness.tokens())["access_token"]
    # A token signed by this service's key but for another audience.
    claims = dict(jwtkit.decode_unverified(token).claims, aud="other")
    forged = jwtkit.encode(claims, harness.service.keyring.signing_key(), typ="at+jwt")
    await _error(await harness.userinfo(forged), 401, "invalid_token")
    # A plain JWT (typ JWT) is not an access token (RFC 9068 §4).
    plain = jwtkit.encode(dict(claims, aud="jwtkit"), harness.service.keyring.signing_key())
    await _error(await harness.userinfo(plain), 401, "invalid_token")
    # A token signed by an unknown key.
    stranger = jwtkit.Key.generate("ES256", kid="stranger")
    other = jwtkit.encode(dict(claims, aud="jwtkit"), stranger, typ="at+jwt")
    body = await _error(await harness.userinfo(other), 401, "invalid_token")
    assert "signature" in body["error_description"]


async def test_an_id_token_key_of_the_ring_never_verifies_an_access_token(
    harness: Harness,
) -> None:
    await harness.register()
    claims = jwtkit.decode_unverified((await harness.tokens())["access_token"]).claims
    keyring = harness.service.keyring
    control = jwtkit.encode(dict(claims, jti="control"), keyring.signing_key(), typ="at+jwt")
    assert (await harness.userinfo(control)).status_code == 200
    # The same claims signed by the ring's RS256 key, published for ID tokens: refused.
    id_token_key = keyring.signing_key("RS256")
    assert id_token_key.kid in {key["kid"] for key in (await harness.jwks())["keys"]}
    resigned = jwtkit.encode(dict(claims, jti="resigned"), id_token_key, typ="at+jwt")
    assert jwtkit.decode_unverified(resigned).header["alg"] == "RS256"
    await _error(await harness.userinfo(resigned), 401, "invalid_token")


# -- refresh tokens --------------------------------------------------------------------------


async def test_refresh_rotates_and_reuse_revokes_the_family(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await harness.register()
    first = await harness.tokens()
    rotated = await harness.refresh(first["refresh_token"])
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert len(second["refresh_token"]) == 43  # 256 bits, base64url
    assert (await harness.userinfo(second["access_token"])).status_code == 200
    with caplog.at_level(logging.INFO, logger="jwtkit.audit"):
        reused = await harness.refresh(first["refresh_token"])
    body = await _error(reused, 400, "invalid_grant")
    assert "revoked" in body["error_description"]
    events = [json.loads(record.getMessage()) for record in caplog.records]
    assert [event["event"] for event in events] == ["reuse_detected"]
    assert events[0]["revoked"] == 1
    # The whole family is gone, including the token that was still active.
    await _error(await harness.refresh(second["refresh_token"]), 400, "invalid_grant")


async def test_only_hashes_of_refresh_tokens_are_stored(harness: Harness) -> None:
    await harness.register()
    token = (await harness.tokens())["refresh_token"]
    stored = await harness.store.refresh_token(hash_refresh_token(token))
    assert stored is not None
    raw = (harness.settings.database, token.encode())
    with open(raw[0], "rb") as handle:
        assert raw[1] not in handle.read()


async def test_twenty_parallel_refreshes_have_exactly_one_winner(harness: Harness) -> None:
    await harness.register()
    token = (await harness.tokens())["refresh_token"]
    statuses: list[int] = []

    async def refresh() -> None:
        statuses.append((await harness.refresh(token)).status_code)

    async with anyio.create_task_group() as group:
        for _ in range(20):
            group.start_soon(refresh)
    assert sorted(statuses) == [200] + [400] * 19


async def test_grace_period_answers_the_same_successor(run_app: RunApp) -> None:
    async with run_app(refresh_grace_period=30) as harness:
        await harness.register()
        token = (await harness.tokens())["refresh_token"]
        answers: list[httpx.Response] = []

        async def refresh() -> None:
            answers.append(await harness.refresh(token))

        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(refresh)
        assert [a.status_code for a in answers] == [200] * 20
        successors = {a.json()["refresh_token"] for a in answers}
        assert len(successors) == 1
        assert len({a.json()["access_token"] for a in answers}) == 20
        (successor,) = successors
        # Outside the grace period the predecessor is reuse: the family is revoked.
        harness.clock.advance(31)
        await _error(await harness.refresh(token), 400, "invalid_grant")
        await _error(await harness.refresh(successor), 400, "invalid_grant")


async def test_grace_covers_only_the_immediate_predecessor(run_app: RunApp) -> None:
    async with run_app(refresh_grace_period=30) as harness:
        await harness.register()
        first = (await harness.tokens())["refresh_token"]
        second = (await harness.refresh(first)).json()["refresh_token"]
        third = (await harness.refresh(second)).json()["refresh_token"]
        body = await _error(await harness.refresh(first), 400, "invalid_grant")
        assert "revoked" in body["error_description"]
        await _error(await harness.refresh(third), 400, "invalid_grant")


async def test_grace_without_a_successor_key_is_refused(run_app: RunApp) -> None:
    async with run_app(refresh_grace_period=30) as harness:
        await harness.register()
        first = (await harness.tokens())["refresh_token"]
        assert (await harness.refresh(first)).status_code == 200
        harness.service._successor_key = b"another server secret, 32 bytes!"
        body = await _error(await harness.refresh(first), 400, "invalid_grant")
        assert "already rotated" in body["error_description"]


async def test_refresh_scope_can_only_narrow(harness: Harness) -> None:
    await harness.register()
    token = (await harness.tokens())["refresh_token"]
    narrowed = await harness.refresh(token, scope="openid")
    assert narrowed.status_code == 200
    assert narrowed.json()["scope"] == "openid"
    # RFC 6749 §6: the new refresh token keeps the original scope.
    again = await harness.refresh(narrowed.json()["refresh_token"])
    assert again.json()["scope"] == "openid profile"
    wider = await harness.refresh(again.json()["refresh_token"], scope="openid admin")
    body = await _error(wider, 400, "invalid_scope")
    assert "admin" in body["error_description"]
    bad = await harness.refresh(again.json()["refresh_token"], scope='a"b')
    await _error(bad, 400, "invalid_scope")


async def test_refresh_token_idle_lifetime(run_app: RunApp) -> None:
    async with run_app(refresh_idle_ttl=3600, refresh_absolute_ttl=7200) as harness:
        await harness.register()
        token = (await harness.tokens())["refresh_token"]
        harness.clock.advance(3601)
        body = await _error(await harness.refresh(token), 400, "invalid_grant")
        assert "expired" in body["error_description"]


async def test_refresh_family_absolute_lifetime(run_app: RunApp) -> None:
    async with run_app(refresh_idle_ttl=3600, refresh_absolute_ttl=7200) as harness:
        await harness.register()
        token = (await harness.tokens())["refresh_token"]
        for _ in range(3):
            harness.clock.advance(3000)
            response = await harness.refresh(token)
            if response.status_code != 200:
                break
            token = response.json()["refresh_token"]
        body = await _error(response, 400, "invalid_grant")
        assert "expired" in body["error_description"]


async def test_refresh_is_bound_to_its_client(harness: Harness) -> None:
    await harness.register()
    secret = await harness.add_client("app", grants=("password", "refresh_token"), scopes=("x",))
    answer = await harness.http.post(
        "/token",
        data={"grant_type": "password", "username": "alice", "password": PASSWORD},
        headers=_basic("app", secret),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == "x"
    token = answer.json()["refresh_token"]
    # The first-party client may not use it, nor may the client without authenticating.
    await _error(await harness.refresh(token), 400, "invalid_grant")
    await _error(await harness.refresh(token, client_id="app"), 401, "invalid_client")
    ok = await harness.http.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": token},
        headers=_basic("app", secret),
    )
    assert ok.status_code == 200


async def test_unknown_and_oversized_refresh_tokens_are_invalid_grant(harness: Harness) -> None:
    await _error(await harness.refresh("not-a-token"), 400, "invalid_grant")
    await _error(await harness.refresh("x" * 9000), 400, "invalid_grant")


async def test_refresh_of_a_disabled_user_fails_and_revokes(harness: Harness) -> None:
    user_id = await harness.register()
    answer = await harness.tokens()
    await harness.store.set_disabled(user_id, True)
    body = await _error(await harness.refresh(answer["refresh_token"]), 400, "invalid_grant")
    assert "disabled" in body["error_description"]
    await _error(await harness.userinfo(answer["access_token"]), 401, "invalid_token")
    await _error(await harness.login(), 400, "invalid_grant")
    # Enabling the user again does not bring the revoked family back.
    await harness.store.set_disabled(user_id, False)
    await _error(await harness.refresh(answer["refresh_token"]), 400, "invalid_grant")
    assert (await harness.login()).status_code == 200


# -- password grant --------------------------------------------------------------------------


async def test_wrong_password_and_unknown_user_get_the_same_answer(harness: Harness) -> None:
    await harness.register()
    wrong = await _error(await harness.login(password="not the password"), 400, "invalid_grant")
    unknown = await _error(await harness.login(username="bob"), 400, "invalid_grant")
    assert wrong == unknown


async def test_login_failures_are_limited_per_username(run_app: RunApp) -> None:
    async with run_app(login_max_failures_per_user=3, login_failure_window=600) as harness:
        await harness.register()
        for _ in range(3):
            await _error(await harness.login(password="wrong password"), 400, "invalid_grant")
        limited = await harness.login()  # even the right password is not checked now
        await _error(limited, 429, "slow_down")
        assert limited.headers["retry-after"] == "600"
        harness.clock.advance(601)
        assert (await harness.login()).status_code == 200


async def test_login_failures_are_limited_per_ip(run_app: RunApp) -> None:
    async with run_app(login_max_failures_per_ip=4) as harness:
        for number in range(4):
            await _error(await harness.login(username=f"user{number}"), 400, "invalid_grant")
        response = await harness.login(username="someone-else")
        await _error(response, 429, "slow_down")
        assert int(response.headers["retry-after"]) > 0


async def test_password_is_rehashed_when_parameters_change(run_app: RunApp) -> None:
    async with run_app() as harness:
        await harness.register()
        user = await harness.store.user_by_name("alice")
        assert user is not None
        old_hash = user.password_hash
    async with run_app(argon2_time_cost=2) as harness:
        assert harness.service.hasher.needs_rehash(old_hash)
        assert (await harness.login()).status_code == 200
        user = await harness.store.user_by_name("alice")
        assert user is not None
        assert user.password_hash != old_hash
        assert not harness.service.hasher.needs_rehash(user.password_hash)


async def test_password_grant_can_be_disabled(run_app: RunApp) -> None:
    async with run_app(password_grant=False) as harness:
        await _error(await harness.login(), 400, "unsupported_grant_type")
        metadata = (await harness.http.get("/.well-known/oauth-authorization-server")).json()
        assert "password" not in metadata["grant_types_supported"]


@pytest.mark.parametrize(
    ("password_grant", "enabled"),
    [(None, False), (False, False), (True, True)],
    ids=["unset", "off", "on"],
)
async def test_password_grant_is_off_in_production_unless_enabled(
    run_app: RunApp, password_grant: bool | None, enabled: bool
) -> None:
    production = {
        "environment": "production",
        "issuer": "https://id.example",
        "argon2_memory_cost": 19456,
        "allow_registration": True,
        "password_grant": password_grant,
    }
    async with run_app(**production) as harness:
        await harness.register()
        metadata = (await harness.http.get("/.well-known/oauth-authorization-server")).json()
        assert ("password" in metadata["grant_types_supported"]) is enabled
        assert "refresh_token" in metadata["grant_types_supported"]
        login = await harness.login()
        if enabled:
            assert login.status_code == 200, login.text
        else:
            await _error(login, 400, "unsupported_grant_type")


async def test_password_grant_scopes(harness: Harness) -> None:
    await harness.register()
    answer = await harness.login(scope="openid")
    assert answer.json()["scope"] == "openid"
    await _error(await harness.login(scope="admin"), 400, "invalid_scope")


async def test_password_grant_needs_username_and_password(harness: Harness) -> None:
    response = await harness.http.post("/token", data={"grant_type": "password", "username": "a"})
    await _error(response, 400, "invalid_request")


async def test_clients_without_the_grant_are_refused(harness: Harness) -> None:
    await harness.register()
    secret = await harness.add_client("machine", grants=("client_credentials",))
    response = await harness.http.post(
        "/token",
        data={"grant_type": "password", "username": "alice", "password": PASSWORD},
        headers=_basic("machine", secret),
    )
    await _error(response, 400, "unauthorized_client")


async def test_clients_without_refresh_grant_get_no_refresh_token(harness: Harness) -> None:
    await harness.register()
    secret = await harness.add_client("app", grants=("password",), scopes=("x",))
    response = await harness.http.post(
        "/token",
        data={"grant_type": "password", "username": "alice", "password": PASSWORD},
        headers=_basic("app", secret),
    )
    assert response.status_code == 200
    assert "refresh_token" not in response.json()


async def test_public_clients(harness: Harness) -> None:
    await harness.register()
    await harness.store.add_client(
        Client("spa", None, ("password", "refresh_token"), ("openid",), harness.clock())
    )
    answer = await harness.login(client_id="spa")
    assert answer.status_code == 200
    assert jwtkit.decode_unverified(answer.json()["access_token"]).claims["client_id"] == "spa"
    refreshed = await harness.refresh(answer.json()["refresh_token"], client_id="spa")
    assert refreshed.status_code == 200
    await _error(await harness.login(client_id="nobody"), 401, "invalid_client")
    await harness.add_client("secretive", grants=("password",))
    await _error(await harness.login(client_id="secretive"), 401, "invalid_client")


# -- client credentials ----------------------------------------------------------------------


async def test_client_credentials_with_basic_and_post(harness: Harness) -> None:
    secret = await harness.add_client("backend")
    basic = await harness.http.post(
        "/token", data={"grant_type": "client_credentials"}, headers=_basic("backend", secret)
    )
    post = await harness.http.post(
        "/token",
        data={"grant_type": "client_credentials", "client_id": "backend", "client_secret": secret},
    )
    for response in (basic, post):
        assert response.status_code == 200, response.text
        answer = response.json()
        assert "refresh_token" not in answer  # RFC 6749 §4.4.3
        assert answer["scope"] == "read write"
        claims = jwtkit.decode_unverified(answer["access_token"]).claims
        assert claims["sub"] == claims["client_id"] == "backend"
        info = await harness.userinfo(answer["access_token"])
        assert info.json()["sub"] == "backend"
    narrowed = await harness.http.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": "read"},
        headers=_basic("backend", secret),
    )
    assert narrowed.json()["scope"] == "read"


async def test_client_credentials_failures(harness: Harness) -> None:
    secret = await harness.add_client("backend")
    wrong = await harness.http.post(
        "/token", data={"grant_type": "client_credentials"}, headers=_basic("backend", "nope")
    )
    await _error(wrong, 401, "invalid_client")
    assert wrong.headers["www-authenticate"].startswith('Basic realm="jwtkit"')
    unknown = await harness.http.post(
        "/token", data={"grant_type": "client_credentials"}, headers=_basic("ghost", secret)
    )
    await _error(unknown, 401, "invalid_client")
    anonymous = await harness.http.post("/token", data={"grant_type": "client_credentials"})
    await _error(anonymous, 401, "invalid_client")
    scope = await harness.http.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": "admin"},
        headers=_basic("backend", secret),
    )
    await _error(scope, 400, "invalid_scope")
    await harness.store.add_client(Client("public", None, ("password",), (), harness.clock()))
    public = await harness.http.post(
        "/token", data={"grant_type": "client_credentials", "client_id": "public"}
    )
    await _error(public, 401, "invalid_client")


async def test_access_tokens_of_a_removed_client_are_refused(harness: Harness) -> None:
    secret = await harness.add_client("backend")
    response = await harness.http.post(
        "/token", data={"grant_type": "client_credentials"}, headers=_basic("backend", secret)
    )
    token = response.json()["access_token"]
    assert (await harness.userinfo(token)).status_code == 200
    await harness.store.remove_client("backend")
    await _error(await harness.userinfo(token), 401, "invalid_token")


async def test_client_secrets_are_parsed_per_rfc6749_appendix_b() -> None:
    raw = base64.b64encode(b"my+client%3Aid:p%40ss+word").decode()
    assert parse_basic_authorization(f"Basic {raw}") == ("my client:id", "p@ss word")
    for header in ("Bearer abc", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode()):
        with pytest.raises(OAuthError) as caught:
            parse_basic_authorization(header)
        assert caught.value.error == "invalid_client"
    assert "hunter2" not in repr(ClientAuth("id", "hunter2", "client_secret_post"))


# -- revocation ------------------------------------------------------------------------------


async def test_revoking_an_access_token_is_honoured_by_userinfo_and_introspect(
    harness: Harness,
) -> None:
    await harness.register()
    secret = await harness.add_client("rs", audiences=(harness.settings.audience,))
    token = (await harness.tokens())["access_token"]
    introspect = await harness.http.post(
        "/introspect", data={"token": token}, headers=_basic("rs", secret)
    )
    assert introspect.json()["active"] is True
    revoked = await harness.http.post(
        "/revoke", data={"token": token, "token_type_hint": "access_token"}
    )
    assert revoked.status_code == 200
    assert revoked.headers["cache-control"] == "no-store"
    body = await _error(await harness.userinfo(token), 401, "invalid_token")
    assert "revoked" in body["error_description"]
    introspect = await harness.http.post(
        "/introspect", data={"token": token}, headers=_basic("rs", secret)
    )
    assert introspect.json() == {"active": False}
    jti = jwtkit.decode_unverified(token).claims["jti"]
    assert await harness.store.is_jti_revoked(jti, harness.clock())
    # The denylist entry lasts until the token's exp.
    assert not await harness.store.is_jti_revoked(jti, harness.clock() + 901)


async def test_revoking_a_refresh_token_revokes_its_family(harness: Harness) -> None:
    await harness.register()
    first = await harness.tokens()
    second = (await harness.refresh(first["refresh_token"])).json()
    response = await harness.http.post("/revoke", data={"token": second["refresh_token"]})
    assert response.status_code == 200
    await _error(await harness.refresh(second["refresh_token"]), 400, "invalid_grant")


async def _introspected(harness: Harness, secret: str, token: str) -> dict[str, Any]:
    """``/introspect`` as the resource server ``rs`` (of the service's audience) sees ``token``."""
    response = await harness.http.post(
        "/introspect", data={"token": token}, headers=_basic("rs", secret)
    )
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


async def _refused(harness: Harness, secret: str, access_token: str) -> None:
    """``access_token`` answers 401 at /userinfo (its grant revoked) and is inactive."""
    body = await _error(await harness.userinfo(access_token), 401, "invalid_token")
    assert body["error_description"] == "the access token's grant has been revoked"
    assert await _introspected(harness, secret, access_token) == {"active": False}


async def test_revoking_a_refresh_token_revokes_the_access_tokens_of_its_grant(
    harness: Harness,
) -> None:
    # RFC 7009 §2.1: revoking a refresh token SHOULD invalidate the access tokens of its grant:
    # the one issued with it at login, and those issued by its rotations.
    await harness.register()
    await harness.register("bob")
    secret = await harness.add_client("rs", audiences=(harness.settings.audience,))
    first = await harness.tokens()
    second = (await harness.refresh(first["refresh_token"])).json()
    third = (await harness.refresh(second["refresh_token"])).json()
    other = await harness.tokens()  # another grant of the same user
    bobs = await harness.tokens("bob")
    access = [first["access_token"], second["access_token"], third["access_token"]]
    family = jwtkit.decode_unverified(first["access_token"]).claims[REFRESH_FAMILY_CLAIM]
    for token in access:
        # Verified once (and cached) before the revocation: the cache must not hide it.
        assert (await harness.userinfo(token)).status_code == 200
        assert jwtkit.decode_unverified(token).claims[REFRESH_FAMILY_CLAIM] == family
    assert jwtkit.decode_unverified(other["access_token"]).claims[REFRESH_FAMILY_CLAIM] != family
    response = await harness.http.post("/revoke", data={"token": third["refresh_token"]})
    assert response.status_code == 200
    for token in access:
        await _refused(harness, secret, token)
    # Other grants, of the same user and of another, are untouched.
    for answer in (other, bobs):
        assert (await harness.userinfo(answer["access_token"])).status_code == 200
        assert (await _introspected(harness, secret, answer["access_token"]))["active"] is True
        assert (await harness.refresh(answer["refresh_token"])).status_code == 200


async def test_refresh_reuse_revokes_the_access_tokens_of_the_family(harness: Harness) -> None:
    # RFC 9700 §4.14.2: a rotated refresh token presented again revokes its family; one of the
    # family's access tokens may be the attacker's, so they are all refused too.
    await harness.register()
    secret = await harness.add_client("rs", audiences=(harness.settings.audience,))
    first = await harness.tokens()
    second = (await harness.refresh(first["refresh_token"])).json()  # the attacker's, say
    third = (await harness.refresh(second["refresh_token"])).json()
    other = await harness.tokens()
    for answer in (first, second, third):
        assert (await harness.userinfo(answer["access_token"])).status_code == 200
    await _error(await harness.refresh(first["refresh_token"]), 400, "invalid_grant")
    for answer in (first, second, third):
        await _refused(harness, secret, answer["access_token"])
    assert (await harness.userinfo(other["access_token"])).status_code == 200
    assert (await harness.refresh(other["refresh_token"])).status_code == 200


async def test_client_credentials_tokens_name_no_family(harness: Harness) -> None:
    # No refresh token, no grant to revoke: such a token is checked as before.
    secret = await harness.add_client("backend", audiences=(harness.settings.audience,))
    response = await harness.http.post(
        "/token", data={"grant_type": "client_credentials"}, headers=_basic("backend", secret)
    )
    token = response.json()["access_token"]
    assert REFRESH_FAMILY_CLAIM not in jwtkit.decode_unverified(token).claims
    answer = await harness.http.post(
        "/introspect", data={"token": token}, headers=_basic("backend", secret)
    )
    assert answer.json()["active"] is True


async def test_password_grant_without_refresh_names_no_family(harness: Harness) -> None:
    user_id = await harness.register()
    secret = await harness.add_client(
        "rs", grants=("password",), audiences=(harness.settings.audience,)
    )
    answer = (await harness.login(**_post_auth("rs", secret))).json()
    assert "refresh_token" not in answer
    claims = jwtkit.decode_unverified(answer["access_token"]).claims
    assert REFRESH_FAMILY_CLAIM not in claims
    assert (await _introspected(harness, secret, answer["access_token"]))["sub"] == user_id


async def test_access_tokens_expire_with_their_refresh_family(run_app: RunApp) -> None:
    # A grant's access token never outlives the grant: the family's records, which say whether
    # it was revoked, are purged once the family has expired.
    async with run_app(refresh_absolute_ttl=1000, refresh_idle_ttl=1000) as harness:
        await harness.register()
        first = await harness.tokens()
        assert first["expires_in"] == 900
        harness.clock.advance(400.5)
        second = (await harness.refresh(first["refresh_token"])).json()
        assert second["expires_in"] == math.floor(T0 + 1000) - math.floor(T0 + 400.5)
        claims = jwtkit.decode_unverified(second["access_token"]).claims
        assert claims["exp"] == math.floor(T0 + 1000)
        harness.clock.advance(second["expires_in"])
        assert (await harness.userinfo(second["access_token"])).status_code == 401
        purged = await harness.store.purge(harness.clock())
        assert purged >= 2


async def test_a_purged_family_counts_as_revoked(harness: Harness) -> None:
    await harness.register()
    answer = await harness.tokens()
    family = jwtkit.decode_unverified(answer["access_token"]).claims[REFRESH_FAMILY_CLAIM]
    assert not await harness.store.is_family_revoked(family)
    assert await harness.store.is_family_revoked("never-stored")
    await harness.store.purge(harness.clock() + harness.settings.refresh_absolute_ttl)
    assert await harness.store.is_family_revoked(family)


class _RevokedWhileRotating(SQLiteStore):
    """A revocation of the family that lands just after a rotation's compare-and-set, before the
    refresh answers (another request, another worker)."""

    async def rotate_refresh_token(
        self, token_hash: bytes, new: RefreshToken, now: float, grace_period: float
    ) -> Any:
        outcome = await super().rotate_refresh_token(token_hash, new, now, grace_period)
        await self.revoke_family(new.family_id, now)
        return outcome


async def test_a_revocation_racing_a_refresh_leaves_no_valid_access_token(
    run_app: RunApp, tmp_path: Path
) -> None:
    # The state is read at verification, not decided at issue: a revocation before the rotation
    # makes the rotation fail; one after it (even before the answer) refuses the new token.
    store = _RevokedWhileRotating(tmp_path / "race.db")
    await store.open()
    try:
        async with run_app(store=store, database=str(tmp_path / "race.db")) as harness:
            await harness.register()
            first = await harness.tokens()
            raced = await harness.refresh(first["refresh_token"])
            assert raced.status_code == 200
            for token in (first["access_token"], raced.json()["access_token"]):
                body = await _error(await harness.userinfo(token), 401, "invalid_token")
                assert "grant has been revoked" in body["error_description"]
            refused = await harness.refresh(raced.json()["refresh_token"])
            await _error(refused, 400, "invalid_grant")
    finally:
        await store.close()


async def test_concurrent_refreshes_and_a_revocation_leave_no_valid_access_token(
    run_app: RunApp,
) -> None:
    async with run_app(refresh_grace_period=30) as harness:
        await harness.register()
        login = await harness.tokens()
        answers: list[httpx.Response] = []

        async def refresh() -> None:
            answers.append(await harness.refresh(login["refresh_token"]))

        async def revoke() -> None:
            response = await harness.http.post("/revoke", data={"token": login["refresh_token"]})
            assert response.status_code == 200

        async with anyio.create_task_group() as group:
            for index in range(20):
                group.start_soon(revoke if index == 10 else refresh)
        issued = [login["access_token"]] + [
            answer.json()["access_token"] for answer in answers if answer.status_code == 200
        ]
        for token in issued:
            await _error(await harness.userinfo(token), 401, "invalid_token")


async def test_revoking_unknown_or_expired_tokens_is_not_an_error(harness: Harness) -> None:
    await harness.register()
    token = (await harness.tokens())["access_token"]
    for value in ("garbage", "x" * 9000, "a.b.c"):
        response = await harness.http.post("/revoke", data={"token": value})
        assert response.status_code == 200
    harness.clock.advance(1000)
    response = await harness.http.post(
        "/revoke", data={"token": token, "token_type_hint": "refresh_token"}
    )
    assert response.status_code == 200
    missing = await harness.http.post("/revoke", data={"token_type_hint": "access_token"})
    await _error(missing, 400, "invalid_request")


async def test_clients_may_revoke_only_their_own_tokens(harness: Harness) -> None:
    await harness.register()
    secret = await harness.add_client("other", grants=("client_credentials",))
    answer = await harness.tokens()
    for token in (answer["refresh_token"], answer["access_token"]):
        response = await harness.http.post(
            "/revoke", data={"token": token}, headers=_basic("other", secret)
        )
        await _error(response, 400, "unauthorized_client")
    assert (await harness.userinfo(answer["access_token"])).status_code == 200


# -- introspection ---------------------------------------------------------------------------


async def test_introspection_needs_an_authenticated_client(harness: Harness) -> None:
    await harness.register()
    token = (await harness.tokens())["access_token"]
    anonymous = await harness.http.post("/introspect", data={"token": token})
    await _error(anonymous, 401, "invalid_client")
    public = await harness.http.post(
        "/introspect", data={"token": token, "client_id": "first-party"}
    )
    await _error(public, 401, "invalid_client")
    secret = await harness.add_client("rs")
    wrong = await harness.http.post(
        "/introspect", data={"token": token}, headers=_basic("rs", secret + "x")
    )
    await _error(wrong, 401, "invalid_client")
    missing = await harness.http.post("/introspect", data={}, headers=_basic("rs", secret))
    await _error(missing, 400, "invalid_request")


async def test_introspection_of_access_and_refresh_tokens(harness: Harness) -> None:
    user_id = await harness.register()
    # A resource server of the service's audience (RFC 7662 §4) that logs users in too.
    secret = await harness.add_client(
        "rs",
        grants=("client_credentials", "password", "refresh_token"),
        audiences=(harness.settings.audience,),
    )
    answer = await harness.tokens()
    own = (await harness.login(**_post_auth("rs", secret))).json()

    async def introspect(token: str, hint: str | None = None) -> dict[str, Any]:
        data = {"token": token} if hint is None else {"token": token, "token_type_hint": hint}
        response = await harness.http.post("/introspect", data=data, headers=_basic("rs", secret))
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        result: dict[str, Any] = response.json()
        return result

    access = await introspect(answer["access_token"])
    assert access["active"] is True
    assert access["sub"] == user_id
    assert access["username"] == "alice"
    assert access["scope"] == "openid profile"
    assert access["client_id"] == "first-party"
    refresh = await introspect(own["refresh_token"], "refresh_token")
    assert refresh["active"] is True
    assert refresh["token_type"] == "refresh_token"
    assert refresh["username"] == "alice"
    assert refresh["client_id"] == "rs"
    assert refresh["exp"] > harness.clock()
    # another client's refresh token is never shown to a resource server
    assert await introspect(answer["refresh_token"], "refresh_token") == {"active": False}
    assert (await introspect(answer["access_token"], "refresh_token"))["active"] is True
    assert await introspect("garbage") == {"active": False}
    assert await introspect("x" * 9000, "refresh_token") == {"active": False}
    await harness.refresh(own["refresh_token"], **_post_auth("rs", secret))
    assert await introspect(own["refresh_token"]) == {"active": False}
    client_token = (
        await harness.http.post(
            "/token", data={"grant_type": "client_credentials"}, headers=_basic("rs", secret)
        )
    ).json()["access_token"]
    client_view = await introspect(client_token)
    assert client_view["active"] is True
    assert "username" not in client_view


async def test_refresh_tokens_without_a_user_or_scope(harness: Harness) -> None:
    """A refresh family may belong to a client alone (no user): its tokens act for the client."""
    secret = await harness.add_client("daemon", grants=("client_credentials", "refresh_token"))
    now = harness.clock()
    await harness.store.add_refresh_token(
        RefreshToken(
            token_hash=hash_refresh_token("daemon-refresh-token"),
            family_id="daemon-family",
            user_id=None,
            client_id="daemon",
            scope="",
            issued_at=now,
            expires_at=now + 3600,
            family_expires_at=now + 7200,
        )
    )
    introspected = await harness.http.post(
        "/introspect", data={"token": "daemon-refresh-token"}, headers=_basic("daemon", secret)
    )
    view = introspected.json()
    assert view["active"] is True
    assert "sub" not in view
    assert "scope" not in view
    response = await harness.http.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": "daemon-refresh-token"},
        headers=_basic("daemon", secret),
    )
    assert response.status_code == 200, response.text
    assert "scope" not in response.json()
    claims = jwtkit.decode_unverified(response.json()["access_token"]).claims
    assert claims["sub"] == claims["client_id"] == "daemon"
    assert "scope" not in claims
    missing = await harness.http.post(
        "/introspect", data={"token_type_hint": "access_token"}, headers=_basic("daemon", secret)
    )
    await _error(missing, 400, "invalid_request")


async def test_introspection_of_a_disabled_users_refresh_token(harness: Harness) -> None:
    user_id = await harness.register()
    secret = await harness.add_client("rs", grants=("password", "refresh_token"))
    answer = (await harness.login(**_post_auth("rs", secret))).json()

    async def introspect() -> Any:
        response = await harness.http.post(
            "/introspect", data={"token": answer["refresh_token"]}, headers=_basic("rs", secret)
        )
        return response.json()

    assert (await introspect())["active"] is True
    await harness.store.set_disabled(user_id, True)
    assert await introspect() == {"active": False}


# -- password change -------------------------------------------------------------------------


async def test_password_change_kills_refresh_families_and_access_tokens(
    harness: Harness,
) -> None:
    await harness.register()
    first = await harness.tokens()
    second = await harness.tokens()  # another device
    harness.clock.advance(1)
    response = await harness.http.post(
        "/users/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers={"Authorization": f"Bearer {first['access_token']}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["revoked_refresh_tokens"] == 2
    for answer in (first, second):
        await _error(await harness.refresh(answer["refresh_token"]), 400, "invalid_grant")
        body = await _error(await harness.userinfo(answer["access_token"]), 401, "invalid_token")
        assert "password change" in body["error_description"]
    await _error(await harness.login(), 400, "invalid_grant")
    fresh = await harness.tokens(password="a brand new passphrase")
    assert (await harness.userinfo(fresh["access_token"])).status_code == 200


async def _change_password(harness: Harness, access_token: str) -> httpx.Response:
    return await harness.http.post(
        "/users/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers={"Authorization": f"Bearer {access_token}"},
    )


async def test_a_password_change_is_exact_within_one_second(harness: Harness) -> None:
    """Tokens issued in the same whole second as a password change share their iat: the one
    issued before the change is refused, the one issued after it is accepted."""
    await harness.register()
    harness.clock.set(T0 + 0.1)
    before = await harness.tokens()
    refreshed = (await harness.refresh(before["refresh_token"])).json()
    assert (await harness.userinfo(refreshed["access_token"])).status_code == 200  # cached
    harness.clock.set(T0 + 0.5)
    assert (await _change_password(harness, before["access_token"])).status_code == 200
    harness.clock.set(T0 + 0.6)
    after = await harness.tokens(password="a brand new passphrase")
    for stale in (before["access_token"], refreshed["access_token"]):
        assert jwtkit.decode_unverified(stale).claims["iat"] == int(T0)
        body = await _error(await harness.userinfo(stale), 401, "invalid_token")
        assert "password change" in body["error_description"]
    assert jwtkit.decode_unverified(after["access_token"]).claims["iat"] == int(T0)
    assert (await harness.userinfo(after["access_token"])).status_code == 200
    fresh = (await harness.refresh(after["refresh_token"])).json()
    assert (await harness.userinfo(fresh["access_token"])).status_code == 200
    # The next change, in the same second again, refuses these too.
    assert (await _change_password(harness, after["access_token"])).status_code == 400
    changed = await harness.http.post(
        "/users/me/password",
        json={"current_password": "a brand new passphrase", "new_password": "yet another one!"},
        headers={"Authorization": f"Bearer {after['access_token']}"},
    )
    assert changed.status_code == 200
    for stale in (after["access_token"], fresh["access_token"]):
        await _error(await harness.userinfo(stale), 401, "invalid_token")


async def test_access_tokens_of_earlier_versions_still_honour_password_changes(
    harness: Harness,
) -> None:
    """Tokens issued before the upgrade have no generation claim and a fractional iat: until
    they expire, the time of the last change decides, and any change since the upgrade refuses
    them."""
    user_id = await harness.register()
    # A password change made by an earlier version: recorded by its time only (the migration
    # starts every user at generation 0).
    with sqlite3.connect(harness.settings.database) as conn:
        conn.execute("UPDATE users SET tokens_valid_after = ? WHERE id = ?", (T0 + 0.5, user_id))
    conn.close()
    harness.clock.set(T0 + 0.8)

    def legacy(issued_at: float, **claims: Any) -> str:
        return _forged(harness, sub=user_id, client_id="first-party", iat=issued_at, **claims)

    assert (await _as_fresh(harness, legacy(T0 + 0.4))).status_code == 401
    assert (await _as_fresh(harness, legacy(T0 + 0.6))).status_code == 200
    assert await harness.store.set_password(user_id, "$argon2id$changed", T0 + 0.5)
    body = (await _as_fresh(harness, legacy(T0 + 0.6))).json()
    assert "password change" in body["error_description"]
    # The claim is an int: True (== 1 in Python) is not generation 1.
    assert (
        await _as_fresh(harness, legacy(T0, **{PASSWORD_GENERATION_CLAIM: 1}))
    ).status_code == 200
    forged = legacy(T0, **{PASSWORD_GENERATION_CLAIM: True})
    assert (await _as_fresh(harness, forged)).status_code == 401


async def test_password_change_failures(run_app: RunApp) -> None:
    async with run_app(login_max_failures_per_user=2) as harness:
        await harness.register()
        token = (await harness.tokens())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}

        async def change(current: str, new: str) -> httpx.Response:
            body = {"current_password": current, "new_password": new}
            return await harness.http.post("/users/me/password", json=body, headers=headers)

        await _error(await change(PASSWORD, "short"), 400, "invalid_request")
        await _error(await change("wrong", "a brand new passphrase"), 400, "invalid_grant")
        await _error(await change("wrong", "a brand new passphrase"), 400, "invalid_grant")
        await _error(await change(PASSWORD, "a brand new passphrase"), 429, "slow_down")
        secret = await harness.add_client("backend")
        client_token = (
            await harness.http.post(
                "/token",
                data={"grant_type": "client_credentials"},
                headers=_basic("backend", secret),
            )
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {client_token}"}
        await _error(await change(PASSWORD, "a brand new passphrase"), 403, "invalid_request")


# -- signing keys ----------------------------------------------------------------------------


async def test_key_rotation_with_overlapping_validity(harness: Harness) -> None:
    await harness.register()
    old_kid = harness.service.keyring.signing_key().kid
    id_token_kid = harness.service.keyring.signing_key("RS256").kid
    old_token = (await harness.tokens())["access_token"]
    record = await harness.service.keyring.rotate(activate_after=60)
    jwks_kids = {key["kid"] for key in (await harness.jwks())["keys"]}
    assert jwks_kids == {old_kid, id_token_kid, record.kid}  # published before it signs
    assert _header((await harness.tokens())["access_token"])["kid"] == old_kid
    harness.clock.advance(61)
    new_token = (await harness.tokens())["access_token"]
    assert _header(new_token)["kid"] == record.kid
    # Both verify, at the service and for anyone holding the published JWKS.
    keys = await harness.keyset()
    for token in (old_token, new_token):
        assert (await harness.userinfo(token)).status_code == 200
        jwtkit.decode(token, keys, algorithms=["ES256"], audience="jwtkit", now=harness.clock())
    # Once every token of the old key has expired, the old key leaves the JWKS.
    harness.clock.advance(900 + 61)
    assert {key["kid"] for key in (await harness.jwks())["keys"]} == {record.kid, id_token_kid}


async def test_keys_rotated_by_another_process_are_picked_up(
    harness: Harness, tmp_path: Any
) -> None:
    await harness.register()
    other_store = SQLiteStore(harness.settings.database)
    await other_store.open()
    try:
        other = await KeyRing.load(other_store, harness.settings, harness.clock)
        record = await other.rotate(activate_after=0)
        # A token signed by the new key reaches this process before its periodic refresh.
        claims = jwtkit.decode_unverified((await harness.tokens())["access_token"]).claims
        foreign = jwtkit.encode(dict(claims, jti="foreign"), other.signing_key(), typ="at+jwt")
        assert (await harness.userinfo(foreign)).status_code == 200
        harness.clock.advance(KEYRING_REFRESH_INTERVAL)
        assert record.kid in {key["kid"] for key in (await harness.jwks())["keys"]}
        assert _header((await harness.tokens())["access_token"])["kid"] == record.kid
    finally:
        await other_store.close()


async def test_unknown_kids_reload_the_keys_at_most_once_a_second(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    reloads: list[float] = []
    original = harness.service.keyring.refresh

    async def counting() -> None:
        reloads.append(harness.clock())
        await original()

    monkeypatch.setattr(harness.service.keyring, "refresh", counting)
    stranger = jwtkit.Key.generate("ES256", kid="stranger")
    claims = {"iss": harness.settings.issuer, "aud": "jwtkit", "sub": "x", "exp": 2e9}
    forged = jwtkit.encode(claims, stranger, typ="at+jwt")
    for _ in range(3):
        await _error(await harness.userinfo(forged), 401, "invalid_token")
    assert len(reloads) == 1


async def test_expired_records_are_purged_periodically(harness: Harness) -> None:
    await harness.register()
    token = (await harness.tokens())["access_token"]
    await harness.http.post("/revoke", data={"token": token})
    jti = jwtkit.decode_unverified(token).claims["jti"]
    harness.clock.advance(PURGE_INTERVAL)
    assert (await harness.login()).status_code == 200
    assert not await harness.store.is_jti_revoked(jti, 0)


# -- users -----------------------------------------------------------------------------------


def test_usernames() -> None:
    for good in ("alice", "a", "alice.smith+tag@example.com", "A_1-2"):
        check_username(good)
    for bad in ("", ".alice", "al ice", "a" * 65, "alice\n", "ålice"):
        with pytest.raises(ValueError, match="username"):
            check_username(bad)


async def test_audit_log_never_contains_secrets(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        await harness.register()
        secret = await harness.add_client("rs")
        answer = await harness.tokens()
        await harness.login(password="a wrong password")
        await harness.login(username="eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln")
        rotated = (await harness.refresh(answer["refresh_token"])).json()
        await harness.refresh(answer["refresh_token"])
        await harness.http.post(
            "/token", data={"grant_type": "client_credentials"}, headers=_basic("rs", secret)
        )
        await harness.http.post(
            "/token",
            data={"grant_type": "client_credentials"},
            headers=_basic("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "x"),
        )
        await harness.http.post("/revoke", data={"token": answer["access_token"]})
    text = caplog.text
    events = [
        json.loads(r.getMessage())["event"] for r in caplog.records if r.name == "jwtkit.audit"
    ]
    assert {"user_registered", "login_ok", "login_failed", "refresh", "reuse_detected"} <= set(
        events
    )
    assert {"client_token", "client_auth_failed", "revoke"} <= set(events)
    for value in (
        PASSWORD,
        "a wrong password",
        secret,
        answer["access_token"],
        answer["refresh_token"],
        rotated["refresh_token"],
        "eyJhbGciOiJIUzI1NiJ9",
    ):
        assert value not in text


async def test_refused_audit_fields_never_fail_a_request(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="jwtkit.server"):
        harness.service._audit("login_ok", refresh_token="x")
    assert "dropped" in caplog.text


# -- the verified-token cache ----------------------------------------------------------------


def _uncached(harness: Harness) -> TokenService:
    """A second service over the same store and keys, without the verified-token cache."""
    service = harness.service
    return TokenService(
        service.store,
        service.settings,
        service.keyring,
        service.hasher,
        service.limiter,
        service.audit,
        service.clock,
        access_token_cache_size=0,
    )


async def _as_fresh(harness: Harness, token: str) -> httpx.Response:
    """``GET /userinfo`` with ``token``, asserting the answer is exactly what a verification
    without the cache gives at this moment."""
    response = await harness.userinfo(token)
    status, body, challenge = await _fresh(harness, token)
    assert response.status_code == status, response.text
    if (
        status == 200
        and body["sub"] != body["client_id"]
        and "profile" in body.get("scope", "").split()
    ):
        # The profile claims the scope grants (OpenID Connect Core §5.4; these users have no
        # name or e-mail address).
        user = await harness.store.user_by_id(body["sub"])
        assert user is not None
        body = {**body, "preferred_username": user.username}
    assert response.json() == body
    assert response.headers.get("www-authenticate") == challenge
    return response


async def _fresh(harness: Harness, token: str) -> tuple[int, dict[str, Any], str | None]:
    """(status, body, challenge) of a verification without the cache."""
    try:
        claims = await _uncached(harness).verify_access_token(token)
    except OAuthError as exc:
        return exc.status, exc.body(), exc.headers["WWW-Authenticate"]
    return 200, claims, None


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens whose signature a :class:`jwtkit.Verifier` checked (every instance)."""
    seen: list[str] = []
    decode = jwtkit.Verifier.decode

    def counting(self: jwtkit.Verifier, token: str | bytes, **kwargs: Any) -> dict[str, Any]:
        seen.append(str(token))
        return decode(self, token, **kwargs)

    monkeypatch.setattr(jwtkit.Verifier, "decode", counting)
    return seen


def _forged(harness: Harness, **claims: Any) -> str:
    """An access token signed by the service's own key with these claims."""
    now = harness.clock()
    values = {
        "iss": harness.settings.issuer,
        "sub": "backend",
        "aud": "jwtkit",
        "exp": int(now) + 900,
        "iat": now,
        "jti": "forged",
        "client_id": "backend",
        **claims,
    }
    return jwtkit.encode(values, harness.service.keyring.signing_key(), typ="at+jwt")


async def test_a_cached_token_skips_only_the_signature_check(
    harness: Harness, decodes: list[str]
) -> None:
    await harness.register()
    token = (await harness.tokens())["access_token"]
    first = await harness.service.verify_access_token(token)
    first["sub"] = "mallory"  # the caller's copy: the cache keeps its own
    second = await harness.service.verify_access_token(token)
    assert second["sub"] != "mallory"
    assert decodes == [token]  # verified once
    # With the profile claims the scope (openid profile) grants (OpenID Connect Core §5.4).
    assert (await harness.userinfo(token)).json() == {**second, "preferred_username": "alice"}
    assert decodes == [token]


async def test_cached_tokens_expire_with_the_clock(harness: Harness) -> None:
    await harness.register()
    token = (await harness.tokens())["access_token"]
    assert (await _as_fresh(harness, token)).status_code == 200
    harness.clock.advance(899)
    assert (await _as_fresh(harness, token)).status_code == 200
    harness.clock.advance(1)  # now == exp: expired (RFC 7519 §4.1.4)
    body = (await _as_fresh(harness, token)).json()
    assert body["error_description"] == "the access token has expired"
    assert token not in harness.service.access_tokens.cache


@pytest.mark.parametrize("claim", ["nbf", "iat"])
async def test_nbf_and_iat_are_checked_again_on_cached_tokens(harness: Harness, claim: str) -> None:
    secret = await harness.add_client("backend")
    assert secret
    now = harness.clock()
    token = _forged(harness, **{claim: now + 10})
    early = await _as_fresh(harness, token)
    assert early.status_code == 401
    assert token not in harness.service.access_tokens.cache  # failures are never cached
    harness.clock.advance(10)
    assert (await _as_fresh(harness, token)).status_code == 200
    assert token in harness.service.access_tokens.cache
    harness.clock.set(now + 5)  # a clock set back: the cached token is not valid yet again
    assert (await _as_fresh(harness, token)).json() == early.json()


async def test_cached_tokens_honour_revocation(harness: Harness) -> None:
    await harness.register()
    token = (await harness.tokens())["access_token"]
    assert (await _as_fresh(harness, token)).status_code == 200
    assert token in harness.service.access_tokens.cache
    assert (await harness.http.post("/revoke", data={"token": token})).status_code == 200
    body = (await _as_fresh(harness, token)).json()
    assert body["error_description"] == "the access token has been revoked"


async def test_cached_tokens_honour_password_changes_and_disabled_users(
    harness: Harness,
) -> None:
    user_id = await harness.register()
    token = (await harness.tokens())["access_token"]
    assert (await _as_fresh(harness, token)).status_code == 200
    await harness.store.set_disabled(user_id, True)
    assert (await _as_fresh(harness, token)).status_code == 401
    await harness.store.set_disabled(user_id, False)
    assert (await _as_fresh(harness, token)).status_code == 200
    harness.clock.advance(1)
    changed = await harness.http.post(
        "/users/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert changed.status_code == 200
    body = (await _as_fresh(harness, token)).json()
    assert "password change" in body["error_description"]


async def test_cached_tokens_honour_removed_clients(harness: Harness) -> None:
    secret = await harness.add_client("backend")
    response = await harness.http.post(
        "/token", data={"grant_type": "client_credentials"}, headers=_basic("backend", secret)
    )
    token = response.json()["access_token"]
    assert (await _as_fresh(harness, token)).status_code == 200
    await harness.store.remove_client("backend")
    assert (await _as_fresh(harness, token)).status_code == 401


async def test_cached_tokens_honour_key_rotation_and_retirement(
    harness: Harness, decodes: list[str]
) -> None:
    await harness.register()
    keyring = harness.service.keyring
    old_kid = keyring.signing_key().kid
    assert old_kid is not None
    token = (await harness.tokens())["access_token"]
    assert (await _as_fresh(harness, token)).status_code == 200
    decodes.clear()
    # A rotation changes the key set: the cache is dropped and the token verified again.
    await keyring.rotate(activate_after=0)
    assert (await harness.userinfo(token)).status_code == 200
    assert decodes == [token]
    assert (await _as_fresh(harness, token)).status_code == 200
    # Retiring the key that signed it unpublishes the key: the cached token is refused.
    await keyring.retire(old_kid)
    assert (await _as_fresh(harness, token)).status_code == 401
    assert token not in harness.service.access_tokens.cache


async def test_keys_retired_by_another_process_reach_the_cache(harness: Harness) -> None:
    await harness.register()
    old_kid = harness.service.keyring.signing_key().kid
    assert old_kid is not None
    token = (await harness.tokens())["access_token"]
    assert (await _as_fresh(harness, token)).status_code == 200
    other_store = SQLiteStore(harness.settings.database)
    await other_store.open()
    try:
        other = await KeyRing.load(other_store, harness.settings, harness.clock)
        await other.rotate(activate_after=0)
        await other.retire(old_kid)  # jwtkit keys retire, in another process
    finally:
        await other_store.close()
    # This process learns of it at its next periodic key refresh, also from /userinfo alone.
    harness.clock.advance(KEYRING_REFRESH_INTERVAL)
    response = await harness.userinfo(token)
    await _error(response, 401, "invalid_token")
    assert old_kid not in {key["kid"] for key in (await harness.jwks())["keys"]}
    assert (await _as_fresh(harness, token)).status_code == 401


async def test_the_cache_is_a_bounded_lru(harness: Harness) -> None:
    await harness.register()
    tokens = [(await harness.tokens())["access_token"] for _ in range(3)]
    service = _uncached(harness)
    service.access_tokens.cache.size = 2
    for token in (tokens[0], tokens[1], tokens[0], tokens[2]):
        await service.verify_access_token(token)
    assert list(service.access_tokens.cache) == [tokens[0], tokens[2]]
    uncached = _uncached(harness)
    await uncached.verify_access_token(tokens[0])
    assert not uncached.access_tokens.cache
    with pytest.raises(ValueError, match="access_token_cache_size"):
        TokenService(
            harness.store,
            harness.settings,
            harness.service.keyring,
            harness.service.hasher,
            harness.service.limiter,
            harness.service.audit,
            access_token_cache_size=-1,
        )


async def test_tokens_that_fail_are_never_cached(harness: Harness) -> None:
    await harness.register()
    token = (await harness.tokens())["access_token"]
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    for bad in (tampered, "a.b.c", _forged(harness, aud="other")):
        assert (await _as_fresh(harness, bad)).status_code == 401
    assert not harness.service.access_tokens.cache


# -- client secrets --------------------------------------------------------------------------


def test_client_secret_digests() -> None:
    secret = new_client_secret()
    stored = hash_client_secret(secret)
    assert stored.startswith("sha256$")
    assert len(stored) == len("sha256$") + 43  # SHA-256, base64url without padding
    assert secret not in stored
    assert verify_client_secret(stored, secret)
    assert not verify_client_secret(stored, secret + "x")
    assert not verify_client_secret(None, secret)
    assert not verify_client_secret("$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA", secret)
    assert not verify_client_secret("sha256$\u00e9", secret)
    assert not verify_client_secret("", "")


@pytest.fixture
def no_argon2(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a client secret (or anything) is checked with Argon2."""

    async def refuse(stored_hash: str | None, password: str) -> bool:
        raise AssertionError("Argon2 was used")

    monkeypatch.setattr(harness.service.hasher, "verify", refuse)


async def _store_client(harness: Harness, client_id: str, secret_hash: str | None) -> None:
    await harness.store.add_client(
        Client(client_id, secret_hash, ("client_credentials",), ("read",), harness.clock())
    )


@pytest.mark.usefixtures("no_argon2")
async def test_client_secrets_are_checked_without_argon2(harness: Harness) -> None:
    secret = new_client_secret()
    await _store_client(harness, "backend", hash_client_secret(secret))
    await _store_client(harness, "public", None)

    async def client_credentials(client_id: str, client_secret: str) -> httpx.Response:
        return await harness.http.post(
            "/token",
            data={"grant_type": "client_credentials"},
            headers=_basic(client_id, client_secret),
        )

    assert (await client_credentials("backend", secret)).status_code == 200
    for client_id, client_secret in (
        ("backend", secret + "x"),
        ("ghost", secret),  # an unknown client costs one SHA-256 too
        ("public", secret),
    ):
        await _error(await client_credentials(client_id, client_secret), 401, "invalid_client")
    posted = await harness.http.post(
        "/token", data={"grant_type": "client_credentials", "client_secret": secret}
    )
    await _error(posted, 401, "invalid_client")


async def test_argon2_client_secrets_are_upgraded_at_their_first_use(
    harness: Harness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = await harness.add_client("backend")  # an Argon2 hash, as older versions stored
    stored = await harness.store.client_by_id("backend")
    assert stored is not None
    assert stored.secret_hash is not None
    assert stored.secret_hash.startswith("$argon2id$")
    wrong = await harness.http.post(
        "/token", data={"grant_type": "client_credentials"}, headers=_basic("backend", "nope")
    )
    await _error(wrong, 401, "invalid_client")
    assert await harness.store.client_by_id("backend") == stored
    with caplog.at_level(logging.INFO, logger="jwtkit.audit"):
        right = await harness.http.post(
            "/token", data={"grant_type": "client_credentials"}, headers=_basic("backend", secret)
        )
    assert right.status_code == 200
    upgraded = await harness.store.client_by_id("backend")
    assert upgraded is not None
    assert upgraded.secret_hash == hash_client_secret(secret)
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "jwtkit.audit"]
    assert {"event": "client_secret_rehashed", "client_id": "backend"}.items() <= events[0].items()

    async def refuse(stored_hash: str | None, password: str) -> bool:
        raise AssertionError("Argon2 was used")

    monkeypatch.setattr(harness.service.hasher, "verify", refuse)
    again = await harness.http.post(
        "/token", data={"grant_type": "client_credentials"}, headers=_basic("backend", secret)
    )
    assert again.status_code == 200


async def test_a_lost_client_rehash_race_keeps_the_other_hash(
    harness: Harness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = await harness.add_client("backend")
    calls: list[str] = []

    async def lost(client_id: str, old_hash: str, new_hash: str) -> bool:
        calls.append(client_id)
        return False  # another worker replaced the hash first

    monkeypatch.setattr(harness.store, "rehash_client_secret", lost)
    with caplog.at_level(logging.INFO, logger="jwtkit.audit"):
        response = await harness.http.post(
            "/token", data={"grant_type": "client_credentials"}, headers=_basic("backend", secret)
        )
    assert response.status_code == 200
    assert calls == ["backend"]
    assert "client_secret_rehashed" not in caplog.text


# -- limits that hold under concurrency ------------------------------------------------------------


class _CountingVerify:
    """Wraps the password hasher's ``verify``: how many checks reached Argon2."""

    def __init__(self, harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = harness.service.hasher.verify

        async def verify(stored_hash: str | None, password: str) -> bool:
            self.calls += 1
            return await original(stored_hash, password)

        monkeypatch.setattr(harness.service.hasher, "verify", verify)


async def test_parallel_wrong_guesses_reach_the_hasher_at_most_limit_times(
    run_app: RunApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 1: the attempt is reserved before the password is checked, atomically, so 30
    parallel guesses against a limit of 5 check 5 passwords; the right one comes too late."""
    async with run_app(login_max_failures_per_user=5) as harness:
        await harness.register()
        counter = _CountingVerify(harness, monkeypatch)
        responses = await asyncio.gather(
            *(harness.login(password=f"wrong guess {number}") for number in range(30))
        )
        statuses = sorted(response.status_code for response in responses)
        assert counter.calls == 5
        assert statuses == [400] * 5 + [429] * 25
        limited = await harness.login()
        await _error(limited, 429, "slow_down")
        assert counter.calls == 5


async def test_the_right_password_among_parallel_guesses_is_held_to_the_limit(
    run_app: RunApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack of the finding: 29 wrong guesses and the right password at once."""
    async with run_app(login_max_failures_per_user=5) as harness:
        await harness.register()
        counter = _CountingVerify(harness, monkeypatch)
        guesses = [harness.login(password=f"wrong guess {number}") for number in range(29)]
        responses = await asyncio.gather(*guesses, harness.login())
        statuses = [response.status_code for response in responses]
        assert counter.calls <= 5
        assert statuses.count(429) == 30 - counter.calls
        assert statuses.count(200) <= 1
        if statuses[-1] == 429:  # not among the first five: refused unchecked
            await _error(await harness.login(), 429, "slow_down")


async def test_parallel_failures_from_one_address_are_held_to_the_ip_limit(
    run_app: RunApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with run_app(login_max_failures_per_ip=20) as harness:
        counter = _CountingVerify(harness, monkeypatch)
        responses = await asyncio.gather(
            *(harness.login(username=f"user{number}") for number in range(40))
        )
        statuses = sorted(response.status_code for response in responses)
        assert counter.calls == 20
        assert statuses == [400] * 20 + [429] * 20


async def test_a_success_does_not_count_as_a_failure_of_the_address(run_app: RunApp) -> None:
    async with run_app(login_max_failures_per_ip=3) as harness:
        await harness.register()
        for _ in range(5):
            assert (await harness.login()).status_code == 200
        for _ in range(3):
            await _error(await harness.login(password="wrong password"), 400, "invalid_grant")
        await _error(await harness.login(), 429, "slow_down")


async def test_parallel_password_changes_reach_the_hasher_at_most_limit_times(
    run_app: RunApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with run_app(login_max_failures_per_user=3) as harness:
        await harness.register()
        token = (await harness.tokens())["access_token"]
        counter = _CountingVerify(harness, monkeypatch)

        async def change(current: str) -> httpx.Response:
            body = {"current_password": current, "new_password": "a brand new passphrase"}
            return await harness.http.post(
                "/users/me/password", json=body, headers={"Authorization": f"Bearer {token}"}
            )

        responses = await asyncio.gather(*(change(f"wrong {number}") for number in range(20)))
        statuses = sorted(response.status_code for response in responses)
        assert counter.calls == 3
        assert statuses == [400] * 3 + [429] * 17
        await _error(await change(PASSWORD), 429, "slow_down")
        assert counter.calls == 3


# -- registration is rate-limited per address ------------------------------------------------------


async def test_registrations_are_limited_per_address(harness: Harness) -> None:
    """Finding 3: POST /users is open in development; an address may register
    ``registration_max_per_ip`` users (default 10) per hour."""
    for number in range(10):
        await harness.register(f"user{number}")
    refused = await harness.http.post("/users", json={"username": "user10", "password": PASSWORD})
    await _error(refused, 429, "slow_down")
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    assert await harness.store.user_by_name("user10") is None
    transport = httpx.ASGITransport(app=harness.app, client=("198.51.100.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        elsewhere = await other.post("/users", json={"username": "user10", "password": PASSWORD})
        assert elsewhere.status_code == 201, elsewhere.text
    harness.clock.advance(3600)
    await harness.register("user11")


async def test_parallel_registrations_are_held_to_the_limit(run_app: RunApp) -> None:
    async with run_app() as harness:
        responses = await asyncio.gather(
            *(
                harness.http.post(
                    "/users", json={"username": f"user{number}", "password": PASSWORD}
                )
                for number in range(25)
            )
        )
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [201] * 10 + [429] * 15
        assert len(await harness.store.list_users()) == 10


# -- introspection only for resource servers (RFC 7662 §4) -----------------------------------------


async def _introspect(harness: Harness, client_id: str, secret: str, token: str) -> Any:
    response = await harness.http.post(
        "/introspect", data={"token": token}, headers=_basic(client_id, secret)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_client_cannot_introspect_the_tokens_of_others(harness: Harness) -> None:
    """Finding 4: a confidential client that is no resource server learns nothing about
    another client's tokens (RFC 7662 §2.2: an inactive answer, not an error)."""
    await harness.register()
    answer = await harness.tokens()  # issued to the first-party client
    secret = await harness.add_client("backend")
    for token in (answer["access_token"], answer["refresh_token"]):
        assert await _introspect(harness, "backend", secret, token) == {"active": False}


async def test_resource_servers_introspect_access_tokens_of_their_audience_only(
    harness: Harness,
) -> None:
    user_id = await harness.register()
    answer = await harness.tokens()
    api = await harness.add_client("api", audiences=(harness.settings.audience,))
    other = await harness.add_client("other-api", audiences=("https://other.example.com",))
    seen = await _introspect(harness, "api", api, answer["access_token"])
    assert seen["active"] is True
    assert (seen["sub"], seen["username"]) == (user_id, "alice")
    assert await _introspect(harness, "other-api", other, answer["access_token"]) == {
        "active": False
    }
    # A refresh token is never presented to a resource server: only its client may look.
    assert await _introspect(harness, "api", api, answer["refresh_token"]) == {"active": False}


async def test_a_client_may_introspect_its_own_tokens(harness: Harness) -> None:
    await harness.register()
    secret = await harness.add_client(
        "app", grants=("password", "refresh_token"), scopes=("openid",)
    )
    answer = (await harness.login(**_post_auth("app", secret))).json()
    access = await _introspect(harness, "app", secret, answer["access_token"])
    assert (access["active"], access["client_id"], access["username"]) == (True, "app", "alice")
    refresh = await _introspect(harness, "app", secret, answer["refresh_token"])
    assert (refresh["active"], refresh["token_type"]) == (True, "refresh_token")
    stranger = await harness.add_client("stranger")
    assert await _introspect(harness, "stranger", stranger, answer["access_token"]) == {
        "active": False
    }


def _post_auth(client_id: str, secret: str) -> dict[str, str]:
    return {"client_id": client_id, "client_secret": secret}


# -- usernames are unique ignoring case ------------------------------------------------------------


async def test_usernames_differing_only_in_case_cannot_both_register(harness: Harness) -> None:
    """Finding 10: ``alice`` and ``ALICE`` are one username."""
    await harness.register("alice")
    for variant in ("ALICE", "Alice", "aLiCe"):
        taken = await harness.http.post("/users", json={"username": variant, "password": PASSWORD})
        body = await _error(taken, 409, "username_taken")
        assert "case" in body["error_description"]
    assert [user.username for user in await harness.store.list_users()] == ["alice"]


async def test_logins_ignore_the_case_of_the_username(harness: Harness) -> None:
    """The name is shown as registered; a login in another case is the same user."""
    user_id = await harness.register("Alice.Smith")
    answer = await harness.tokens("alice.smith")
    claims = jwtkit.decode_unverified(answer["access_token"]).claims
    assert claims["sub"] == user_id
    assert (await harness.userinfo(answer["access_token"])).status_code == 200
    stored = await harness.store.user_by_name("ALICE.SMITH")
    assert stored is not None
    assert (stored.id, stored.username) == (user_id, "Alice.Smith")
