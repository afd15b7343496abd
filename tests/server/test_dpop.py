"""DPoP at the token service (RFC 9449), driven in-process through its HTTP API.

The token endpoint binds what it issues to the key of a proof (§5, §6.1: ``cnf.jkt``,
``token_type: DPoP``; a public client's refresh family, §5.8; a code with ``dpop_jkt``, §10),
``/userinfo`` takes ``Authorization: DPoP`` with a proof of the request and the token's key and
refuses a bound token as Bearer (§7), a proof is accepted once (§11.1), nonces (§8) come from
the key-encryption key, introspection shows ``cnf`` (§6.2). Every proof is made with
:func:`jwtkit.dpop.create_proof` on the test's frozen clock. The same against real
``jwtkit serve`` processes on SQLite and PostgreSQL: ``test_dpop_e2e.py``.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from typing import Any

import httpx
import pytest
from browser_flow import REDIRECT_URI, Flow, add_web_client, query_of
from conftest import PASSWORD, Harness, RunApp
from test_operations import samples_of, value

import jwtkit
from jwtkit.dpop import create_proof
from jwtkit.server.credentials import (
    derive_dpop_nonce_key,
    derive_successor_key,
    hash_refresh_token,
)
from jwtkit.server.dpop_proofs import DPOP_ALGORITHMS, bound_jkt, replay_key
from jwtkit.server.tokens import TokenService

pytestmark = pytest.mark.anyio

ALGS = " ".join(DPOP_ALGORITHMS)


def _proof(
    harness: Harness,
    key: jwtkit.Key,
    method: str = "POST",
    path: str = "/token",
    **options: Any,
) -> str:
    """A proof of ``method`` to the service's public URL of ``path`` (its issuer, not the
    ``http://testserver`` the in-process client talks to)."""
    return create_proof(
        key, method=method, url=harness.settings.issuer + path, clock=harness.clock, **options
    )


async def _login(
    harness: Harness, key: jwtkit.Key | None, headers: dict[str, str] | None = None, **extra: str
) -> httpx.Response:
    data = {"grant_type": "password", "username": "alice", "password": PASSWORD, **extra}
    sent = dict(headers or {})
    if key is not None:
        sent["DPoP"] = _proof(harness, key)
    return await harness.http.post("/token", data=data, headers=sent)


async def _tokens(harness: Harness, key: jwtkit.Key) -> dict[str, Any]:
    response = await _login(harness, key)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _refresh(
    harness: Harness, refresh_token: str, key: jwtkit.Key | None, **extra: str
) -> httpx.Response:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    headers = {} if key is None else {"DPoP": _proof(harness, key)}
    return await harness.http.post("/token", data=data, headers=headers)


async def _userinfo(
    harness: Harness, token: str, key: jwtkit.Key | None, scheme: str = "DPoP", **options: Any
) -> httpx.Response:
    headers = {"Authorization": f"{scheme} {token}"}
    if key is not None:
        headers["DPoP"] = _proof(harness, key, "GET", "/userinfo", access_token=token, **options)
    return await harness.http.get("/userinfo", headers=headers)


def _claims(token: str) -> dict[str, Any]:
    return dict(jwtkit.decode_unverified(token).claims)


def _error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == error, body
    assert "Traceback" not in response.text
    return body


def _basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@pytest.fixture
async def alice(harness: Harness) -> Harness:
    await harness.register()
    return harness


@pytest.fixture
def key() -> jwtkit.Key:
    return jwtkit.Key.generate("ES256")


@pytest.fixture
def other_key() -> jwtkit.Key:
    return jwtkit.Key.generate("EdDSA")


# -- the token endpoint (RFC 9449 §5) ---------------------------------------------------------


async def test_a_proof_at_the_token_endpoint_binds_the_access_token_to_its_key(
    alice: Harness, key: jwtkit.Key
) -> None:
    answer = await _tokens(alice, key)
    assert answer["token_type"] == "DPoP"
    claims = _claims(answer["access_token"])
    assert claims["cnf"] == {"jkt": key.thumbprint()}
    # The first-party client is public: its refresh family is bound to the key (§5.8).
    family = await alice.store.refresh_token(hash_refresh_token(answer["refresh_token"]))
    assert family is not None
    assert family.dpop_jkt == key.thumbprint()


async def test_without_a_proof_tokens_stay_bearer_tokens(alice: Harness) -> None:
    answer = (await _login(alice, None)).json()
    assert answer["token_type"] == "Bearer"
    assert "cnf" not in _claims(answer["access_token"])
    assert (await _userinfo(alice, answer["access_token"], None, "Bearer")).status_code == 200


async def test_proof_htu_is_the_issuers_url_never_the_host_header(
    alice: Harness, key: jwtkit.Key
) -> None:
    """The in-process client talks to http://testserver; only the issuer's URL is accepted."""
    by_host = create_proof(key, method="POST", url="http://testserver/token", clock=alice.clock)
    response = await alice.http.post(
        "/token",
        data={"grant_type": "password", "username": "alice", "password": PASSWORD},
        headers={"DPoP": by_host},
    )
    body = _error(response, 400, "invalid_dpop_proof")
    assert "htu" in body["error_description"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/token"), ("POST", "/userinfo"), ("POST", "/token/"), ("PUT", "/token")],
)
async def test_a_proof_of_another_method_or_url_is_refused_at_the_token_endpoint(
    alice: Harness, key: jwtkit.Key, method: str, path: str
) -> None:
    response = await alice.http.post(
        "/token",
        data={"grant_type": "password", "username": "alice", "password": PASSWORD},
        headers={"DPoP": _proof(alice, key, method, path)},
    )
    _error(response, 400, "invalid_dpop_proof")


async def test_a_proof_is_accepted_once_at_the_token_endpoint(
    alice: Harness, key: jwtkit.Key, other_key: jwtkit.Key
) -> None:
    proof = _proof(alice, key)
    data = {"grant_type": "password", "username": "alice", "password": PASSWORD}
    first = await alice.http.post("/token", data=data, headers={"DPoP": proof})
    assert first.status_code == 200, first.text
    again = await alice.http.post("/token", data=data, headers={"DPoP": proof})
    body = _error(again, 400, "invalid_dpop_proof")
    assert "already used" in body["error_description"]
    # Recorded in the store under its key's namespace, for as long as it could verify.
    jti = str(jwtkit.decode_unverified(proof).claims["jti"])
    recorded = replay_key(key.thumbprint(), jti)
    assert await alice.store.use_once(recorded, 1e12, alice.clock()) is False
    assert await alice.store.use_once(replay_key(other_key.thumbprint(), jti), 1e12, 0) is True


async def test_ten_parallel_token_requests_with_one_proof_have_one_winner(
    alice: Harness, key: jwtkit.Key
) -> None:
    proof = _proof(alice, key)
    data = {"grant_type": "password", "username": "alice", "password": PASSWORD}
    responses = await asyncio.gather(
        *(alice.http.post("/token", data=data, headers={"DPoP": proof}) for _ in range(10))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [400] * 9
    for response in responses:
        if response.status_code == 400:
            assert response.json()["error"] == "invalid_dpop_proof"


async def test_two_dpop_headers_are_refused(alice: Harness, key: jwtkit.Key) -> None:
    response = await alice.http.post(
        "/token",
        data={"grant_type": "password", "username": "alice", "password": PASSWORD},
        headers=[("DPoP", _proof(alice, key)), ("DPoP", _proof(alice, key))],
    )
    body = _error(response, 400, "invalid_dpop_proof")
    assert "one DPoP header" in body["error_description"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(value: object) -> str:
    return _b64(json.dumps(value).encode())


def _malformed_proofs(key: jwtkit.Key, issuer: str, now: float) -> list[bytes]:
    """Proofs of every wrong shape: not a JWS, wrong typ, a symmetric or a private key, no
    signature, bad claims, oversized, non-ASCII."""
    good = create_proof(key, method="POST", url=issuer + "/token", clock=lambda: now)
    header, payload, signature = good.split(".")
    public = key.public_key().to_jwk()
    private = key.to_jwk(private=True)
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    shapes: list[str | bytes] = [
        "",
        "x",
        "a.b",
        "a.b.c",
        "a.b.c.d.e",
        "....",
        good + ".",
        f"{header}.{payload}.",
        f"{header}.{payload}.{_b64(b'0' * 64)}",
        f"{_segment({'typ': 'JWT', 'alg': 'ES256', 'jwk': public})}.{payload}.{signature}",
        f"{_segment({'typ': 'dpop+jwt', 'alg': 'none', 'jwk': public})}.{payload}.",
        f"{_segment({'typ': 'dpop+jwt', 'alg': 'HS256', 'jwk': public})}.{payload}.{signature}",
        f"{_segment({'typ': 'dpop+jwt', 'alg': 'ES256'})}.{payload}.{signature}",
        f"{_segment({'typ': 'dpop+jwt', 'alg': 'ES256', 'jwk': private})}.{payload}.{signature}",
        f"{_segment({'typ': 'dpop+jwt', 'alg': 'ES256', 'jwk': 'k'})}.{payload}.{signature}",
        f"{_segment({'typ': 'dpop+jwt', 'alg': 'ES256', 'jwk': {'kty': 'oct', 'k': 'AAAA'}})}"
        f".{payload}.{signature}",
        f"{_segment([1, 2])}.{payload}.{signature}",
        f"{header}.{_segment({**claims, 'iat': 'now'})}.{signature}",
        f"{header}.{_segment({**claims, 'htm': None})}.{signature}",
        f"{header}.{_segment({**claims, 'jti': 7})}.{signature}",
        f"{header}.{_segment(['not', 'an', 'object'])}.{signature}",
        ("é." * 10).encode(),  # UTF-8 bytes in the header (read as Latin-1)
        good[:-4] + "!!!!",
        "A" * 20_000,
    ]
    return [shape if isinstance(shape, bytes) else shape.encode() for shape in shapes]


async def test_malformed_proofs_are_400_never_500_at_the_token_endpoint(
    alice: Harness, key: jwtkit.Key
) -> None:
    data = {"grant_type": "password", "username": "alice", "password": PASSWORD}
    for proof in _malformed_proofs(key, alice.settings.issuer, alice.clock()):
        response = await alice.http.post("/token", data=data, headers={b"DPoP": proof})
        _error(response, 400, "invalid_dpop_proof")


async def test_a_failing_proof_spends_neither_the_code_nor_the_refresh_token(
    alice: Harness, key: jwtkit.Key
) -> None:
    """The proof is checked before the grant: a request whose proof fails leaves the grant
    as it was (the proof can be made again; the code cannot)."""
    tokens = await _tokens(alice, key)
    refused = await alice.http.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers={"DPoP": "not-a-proof"},
    )
    _error(refused, 400, "invalid_dpop_proof")
    assert (await _refresh(alice, tokens["refresh_token"], key)).status_code == 200


# -- the service's resources (RFC 9449 §7) ----------------------------------------------------


async def test_userinfo_accepts_a_bound_token_with_a_proof_of_its_key(
    alice: Harness, key: jwtkit.Key
) -> None:
    token = (await _tokens(alice, key))["access_token"]
    response = await _userinfo(alice, token, key)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["cnf"] == {"jkt": key.thumbprint()}
    assert body["preferred_username"] == "alice"


async def test_userinfo_through_fastapi_as_through_the_shortcut(
    run_app: RunApp, key: jwtkit.Key
) -> None:
    """A middleware of the app's own turns the /userinfo shortcut off: the route itself reads
    the DPoP header then."""
    async with run_app() as harness:
        harness.app.add_middleware(_PassThrough)
        await harness.register()
        token = (await _tokens(harness, key))["access_token"]
        assert (await _userinfo(harness, token, key)).status_code == 200
        assert harness.app.userinfo_shortcut is False  # type: ignore[attr-defined]
        stolen = await _userinfo(harness, token, None)
        _error(stolen, 401, "invalid_dpop_proof")


class _PassThrough:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


async def test_a_replayed_proof_is_refused_at_userinfo(alice: Harness, key: jwtkit.Key) -> None:
    token = (await _tokens(alice, key))["access_token"]
    proof = _proof(alice, key, "GET", "/userinfo", access_token=token)
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
    assert (await alice.http.get("/userinfo", headers=headers)).status_code == 200
    again = await alice.http.get("/userinfo", headers=headers)
    body = _error(again, 401, "invalid_dpop_proof")
    assert "already used" in body["error_description"]
    assert again.headers["www-authenticate"].startswith('DPoP realm="jwtkit", error=')


async def test_ten_parallel_userinfo_requests_with_one_proof_have_one_winner(
    alice: Harness, key: jwtkit.Key
) -> None:
    token = (await _tokens(alice, key))["access_token"]
    headers = {
        "Authorization": f"DPoP {token}",
        "DPoP": _proof(alice, key, "GET", "/userinfo", access_token=token),
    }
    responses = await asyncio.gather(
        *(alice.http.get("/userinfo", headers=headers) for _ in range(10))
    )
    assert sorted(response.status_code for response in responses) == [200] + [401] * 9


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/userinfo"), ("GET", "/token"), ("GET", "/userinfo/x")]
)
async def test_a_proof_of_another_method_or_url_is_refused_at_userinfo(
    alice: Harness, key: jwtkit.Key, method: str, path: str
) -> None:
    token = (await _tokens(alice, key))["access_token"]
    headers = {
        "Authorization": f"DPoP {token}",
        "DPoP": _proof(alice, key, method, path, access_token=token),
    }
    response = await alice.http.get("/userinfo", headers=headers)
    _error(response, 401, "invalid_dpop_proof")
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('DPoP realm="jwtkit", error="invalid_dpop_proof"')
    assert challenge.endswith(f'algs="{ALGS}"')


async def test_a_stolen_token_is_useless_without_its_key(
    alice: Harness, key: jwtkit.Key, other_key: jwtkit.Key
) -> None:
    token = (await _tokens(alice, key))["access_token"]
    with_other_key = await _userinfo(alice, token, other_key)
    body = _error(with_other_key, 401, "invalid_token")  # RFC 9449 §7.1: the binding fails
    assert "another key" in body["error_description"]
    assert with_other_key.headers["www-authenticate"].startswith(
        'DPoP realm="jwtkit", error="invalid_token"'
    )
    without_proof = await _userinfo(alice, token, None)
    body = _error(without_proof, 401, "invalid_dpop_proof")
    assert "no DPoP header" in body["error_description"]
    without_ath = await alice.http.get(
        "/userinfo",
        headers={"Authorization": f"DPoP {token}", "DPoP": _proof(alice, key, "GET", "/userinfo")},
    )
    _error(without_ath, 401, "invalid_dpop_proof")
    other_token = (await _tokens(alice, other_key))["access_token"]
    for_another_token = await alice.http.get(
        "/userinfo",
        headers={
            "Authorization": f"DPoP {token}",
            "DPoP": _proof(alice, key, "GET", "/userinfo", access_token=other_token),
        },
    )
    _error(for_another_token, 401, "invalid_dpop_proof")


async def test_a_bound_token_presented_as_bearer_is_refused(
    alice: Harness, key: jwtkit.Key
) -> None:
    token = (await _tokens(alice, key))["access_token"]
    for with_proof in (None, key):
        response = await _userinfo(alice, token, with_proof, scheme="Bearer")
        body = _error(response, 401, "invalid_token")
        assert "DPoP" in body["error_description"]
        # The error in the challenge of the scheme used; DPoP's offered beside it.
        assert response.headers["www-authenticate"] == (
            f'Bearer realm="jwtkit", error="invalid_token", error_description='
            f'"{body["error_description"]}", DPoP realm="jwtkit", algs="{ALGS}"'
        )


async def test_an_unbound_token_presented_as_dpop_is_refused(
    alice: Harness, key: jwtkit.Key
) -> None:
    token = (await _login(alice, None)).json()["access_token"]
    response = await _userinfo(alice, token, key)
    body = _error(response, 401, "invalid_token")
    assert "not bound" in body["error_description"]


async def test_two_proofs_at_userinfo_are_refused(alice: Harness, key: jwtkit.Key) -> None:
    token = (await _tokens(alice, key))["access_token"]
    proof = _proof(alice, key, "GET", "/userinfo", access_token=token)
    response = await alice.http.get(
        "/userinfo",
        headers=[("Authorization", f"DPoP {token}"), ("DPoP", proof), ("DPoP", proof)],
    )
    body = _error(response, 401, "invalid_dpop_proof")
    assert "several DPoP headers" in body["error_description"]


async def test_an_invalid_token_with_the_dpop_scheme_gets_a_dpop_challenge(
    alice: Harness, key: jwtkit.Key
) -> None:
    token = (await _tokens(alice, key))["access_token"]
    alice.clock.advance(alice.settings.access_token_ttl + 1)
    response = await _userinfo(alice, token, key)
    _error(response, 401, "invalid_token")
    assert response.headers["www-authenticate"].startswith(
        'DPoP realm="jwtkit", error="invalid_token", error_description="the access token has'
    )
    bearer = await _userinfo(alice, token, None, scheme="Bearer")
    assert bearer.headers["www-authenticate"].startswith('Bearer realm="jwtkit"')


async def test_malformed_proofs_are_401_never_500_at_userinfo(
    alice: Harness, key: jwtkit.Key
) -> None:
    token = (await _tokens(alice, key))["access_token"]
    for proof in _malformed_proofs(key, alice.settings.issuer, alice.clock()):
        headers = {b"Authorization": f"DPoP {token}".encode(), b"DPoP": proof}
        response = await alice.http.get("/userinfo", headers=headers)
        _error(response, 401, "invalid_dpop_proof")


async def test_malformed_dpop_credentials_and_none_at_all(alice: Harness) -> None:
    malformed = await alice.http.get("/userinfo", headers={"Authorization": "DPoP a b"})
    _error(malformed, 400, "invalid_request")
    assert malformed.headers["www-authenticate"] == (
        'DPoP realm="jwtkit", error="invalid_request", error_description="malformed '
        f'Authorization header: expected DPoP <token>", algs="{ALGS}"'
    )
    bearer = await alice.http.get("/userinfo", headers={"Authorization": "Bearer a b"})
    _error(bearer, 400, "invalid_request")
    assert bearer.headers["www-authenticate"].startswith('Bearer realm="jwtkit"')
    missing = await alice.http.get("/userinfo")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == (
        f'Bearer realm="jwtkit", DPoP realm="jwtkit", algs="{ALGS}"'
    )
    other = await alice.http.get("/userinfo", headers={"Authorization": "Basic YTpi"})
    assert other.status_code == 401
    assert "DPoP <token>" in other.json()["error_description"]


async def test_a_password_change_with_a_bound_token(alice: Harness, key: jwtkit.Key) -> None:
    token = (await _tokens(alice, key))["access_token"]
    body = {"current_password": PASSWORD, "new_password": "a new horse battery staple"}
    as_bearer = await alice.http.post(
        "/users/me/password", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    _error(as_bearer, 401, "invalid_token")
    proof = _proof(alice, key, "POST", "/users/me/password", access_token=token)
    changed = await alice.http.post(
        "/users/me/password",
        json=body,
        headers={"Authorization": f"DPoP {token}", "DPoP": proof},
    )
    assert changed.status_code == 200, changed.text


# -- refresh tokens (RFC 9449 §5.8) -----------------------------------------------------------


async def test_a_public_clients_refresh_needs_a_proof_of_the_same_key(
    alice: Harness, key: jwtkit.Key, other_key: jwtkit.Key
) -> None:
    tokens = await _tokens(alice, key)
    refresh = tokens["refresh_token"]
    with_other_key = await _refresh(alice, refresh, other_key)
    body = _error(with_other_key, 400, "invalid_grant")
    assert "bound to a DPoP key" in body["error_description"]
    _error(await _refresh(alice, refresh, None), 400, "invalid_grant")
    # Neither attempt rotated the token: the right key still can, once.
    rotated = await _refresh(alice, refresh, key)
    assert rotated.status_code == 200, rotated.text
    answer = rotated.json()
    assert answer["token_type"] == "DPoP"
    assert bound_jkt(_claims(answer["access_token"])) == key.thumbprint()
    assert answer["refresh_token"] != refresh
    again = await _refresh(alice, answer["refresh_token"], key)
    assert again.status_code == 200, again.text
    reused = await _refresh(alice, refresh, key)
    _error(reused, 400, "invalid_grant")  # reuse detection as before: the family is revoked


async def test_a_public_clients_unbound_family_stays_unbound(
    alice: Harness, key: jwtkit.Key
) -> None:
    """A family started without a proof is not bound later (whoever holds the token could bind
    it to a key of theirs); the access token of a refresh with a proof is bound."""
    refresh = (await _login(alice, None)).json()["refresh_token"]
    answer = (await _refresh(alice, refresh, key)).json()
    assert answer["token_type"] == "DPoP"
    assert (await _refresh(alice, answer["refresh_token"], None)).status_code == 200


async def test_a_confidential_clients_refresh_tokens_stay_unbound(
    alice: Harness, key: jwtkit.Key, other_key: jwtkit.Key
) -> None:
    secret = await alice.add_client("conf", grants=("password", "refresh_token"))
    basic = _basic("conf", secret)
    answer = (await _login(alice, key, headers=basic)).json()
    assert bound_jkt(_claims(answer["access_token"])) == key.thumbprint()
    refresh = answer["refresh_token"]
    with_other_key = await alice.http.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh},
        headers={**basic, "DPoP": _proof(alice, other_key)},
    )
    assert with_other_key.status_code == 200, with_other_key.text
    # The new access token is bound to the key of this request's proof.
    assert bound_jkt(_claims(with_other_key.json()["access_token"])) == other_key.thumbprint()
    plain = await alice.http.post(
        "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": with_other_key.json()["refresh_token"],
        },
        headers=basic,
    )
    assert plain.status_code == 200, plain.text
    assert plain.json()["token_type"] == "Bearer"


async def test_client_credentials_with_a_proof_are_bound(alice: Harness, key: jwtkit.Key) -> None:
    secret = await alice.add_client("machine")
    response = await alice.http.post(
        "/token",
        data={"grant_type": "client_credentials"},
        headers={**_basic("machine", secret), "DPoP": _proof(alice, key)},
    )
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "DPoP"
    assert bound_jkt(_claims(response.json()["access_token"])) == key.thumbprint()


# -- the authorization code flow (RFC 9449 §10) -----------------------------------------------


async def _exchange(flow: Flow, code: str, key: jwtkit.Key | None) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": flow.verifier,
        "client_id": flow.client_id,
    }
    headers = {} if key is None else {"DPoP": _proof(flow.harness, key)}
    return await flow.harness.http.post("/token", data=data, headers=headers)


async def test_the_code_flow_with_a_proof_binds_the_tokens_and_the_family(
    alice: Harness, key: jwtkit.Key, other_key: jwtkit.Key
) -> None:
    await add_web_client(alice)
    flow = Flow(alice)
    response = await _exchange(flow, await flow.code(), key)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "DPoP"
    assert bound_jkt(_claims(tokens["access_token"])) == key.thumbprint()
    assert (await _userinfo(alice, tokens["access_token"], key)).status_code == 200
    refused = await _refresh(alice, tokens["refresh_token"], other_key, client_id="web")
    _error(refused, 400, "invalid_grant")
    assert (await _refresh(alice, tokens["refresh_token"], key, client_id="web")).status_code == 200


async def test_a_code_bound_with_dpop_jkt_needs_a_proof_of_that_key(
    alice: Harness, key: jwtkit.Key, other_key: jwtkit.Key
) -> None:
    await add_web_client(alice)
    flow = Flow(alice, extra={"dpop_jkt": key.thumbprint()})
    for wrong in (None, other_key):
        refused = await _exchange(flow, await flow.code(), wrong)
        body = _error(refused, 400, "invalid_grant")
        assert "dpop_jkt" in body["error_description"]
    response = await _exchange(flow, await flow.code(), key)
    assert response.status_code == 200, response.text
    assert bound_jkt(_claims(response.json()["access_token"])) == key.thumbprint()


@pytest.mark.parametrize("jkt", ["short", "A" * 44, "A" * 42 + "B", "!" * 43])
async def test_a_malformed_dpop_jkt_is_refused_at_the_redirect_uri(
    alice: Harness, jkt: str
) -> None:
    await add_web_client(alice)
    response = await Flow(alice).authorize(dpop_jkt=jkt)
    assert response.status_code == 302
    params = query_of(response.headers["location"])
    assert params["error"] == "invalid_request"
    assert "dpop_jkt" in params["error_description"]


# -- nonces (RFC 9449 §8) ---------------------------------------------------------------------


async def test_with_dpop_nonce_the_token_endpoint_asks_for_a_nonce(
    run_app: RunApp, key: jwtkit.Key
) -> None:
    async with run_app(dpop_nonce=True) as harness:
        await harness.register()
        asked = await _login(harness, key)
        body = _error(asked, 400, "use_dpop_nonce")
        assert "nonce" in body["error_description"]
        nonce = asked.headers["dpop-nonce"]
        wrong = await harness.http.post(
            "/token",
            data={"grant_type": "password", "username": "alice", "password": PASSWORD},
            headers={"DPoP": _proof(harness, key, nonce="not-the-servers")},
        )
        _error(wrong, 400, "use_dpop_nonce")
        answered = await harness.http.post(
            "/token",
            data={"grant_type": "password", "username": "alice", "password": PASSWORD},
            headers={"DPoP": _proof(harness, key, nonce=nonce)},
        )
        assert answered.status_code == 200, answered.text
        assert answered.json()["token_type"] == "DPoP"
        following = answered.headers["dpop-nonce"]  # §8.2: the nonce for the next request
        refreshed = await harness.http.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": answered.json()["refresh_token"]},
            headers={"DPoP": _proof(harness, key, nonce=following)},
        )
        assert refreshed.status_code == 200, refreshed.text
        harness.clock.advance(400)  # the nonce's lifetime (300 s) is over
        stale = await harness.http.post(
            "/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refreshed.json()["refresh_token"],
            },
            headers={"DPoP": _proof(harness, key, nonce=following)},
        )
        _error(stale, 400, "use_dpop_nonce")
        # Tokens without DPoP are not affected; the resources ask for no nonce.
        plain = await _login(harness, None)
        assert plain.status_code == 200
        token = answered.json()["access_token"]
        harness.clock.set(harness.clock() - 400)
        assert (await _userinfo(harness, token, key)).status_code == 200


async def test_a_nonce_refusal_does_not_spend_the_code(run_app: RunApp, key: jwtkit.Key) -> None:
    async with run_app(dpop_nonce=True) as harness:
        await harness.register()
        await add_web_client(harness)
        flow = Flow(harness)
        code = await flow.code()
        asked = await _exchange(flow, code, key)
        _error(asked, 400, "use_dpop_nonce")
        nonce = asked.headers["dpop-nonce"]
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": flow.verifier,
            "client_id": "web",
        }
        answered = await harness.http.post(
            "/token", data=data, headers={"DPoP": _proof(harness, key, nonce=nonce)}
        )
        assert answered.status_code == 200, answered.text


async def test_nonces_are_accepted_by_every_instance_with_the_same_kek(
    run_app: RunApp, key: jwtkit.Key, tmp_path: Any
) -> None:
    async with run_app(dpop_nonce=True) as one, run_app(dpop_nonce=True) as two:
        await one.register()
        nonce = (await _login(one, key)).headers["dpop-nonce"]
        data = {"grant_type": "password", "username": "alice", "password": PASSWORD}
        answered = await two.http.post(
            "/token", data=data, headers={"DPoP": _proof(two, key, nonce=nonce)}
        )
        assert answered.status_code == 200, answered.text
    other_kek = base64.urlsafe_b64encode(bytes(32)).decode().rstrip("=")
    async with run_app(
        dpop_nonce=True, key_encryption_key=other_kek, database=str(tmp_path / "other.db")
    ) as foreign:
        await foreign.register()
        refused = await foreign.http.post(
            "/token", data=data, headers={"DPoP": _proof(foreign, key, nonce=nonce)}
        )
        _error(refused, 400, "use_dpop_nonce")


def test_the_nonce_key_is_derived_from_the_kek_apart_from_other_keys() -> None:
    kek = bytes(range(32))
    assert derive_dpop_nonce_key(kek) == derive_dpop_nonce_key(kek)
    assert len(derive_dpop_nonce_key(kek)) == 32
    assert derive_dpop_nonce_key(kek) != derive_successor_key(kek)
    assert derive_dpop_nonce_key(kek) != derive_dpop_nonce_key(bytes(32))


async def test_dpop_nonce_without_a_nonce_key_is_refused(harness: Harness) -> None:
    service = harness.service
    settings = dataclasses.replace(service.settings, dpop_nonce=True)
    with pytest.raises(ValueError, match="dpop_nonce_key"):
        TokenService(
            service.store,
            settings,
            service.keyring,
            service.hasher,
            service.limiter,
            service.audit,
            service.clock,
        )


# -- introspection, discovery, metrics --------------------------------------------------------


async def test_introspection_shows_the_binding(alice: Harness, key: jwtkit.Key) -> None:
    secret = await alice.add_client("rs", audiences=("jwtkit",))
    bound = (await _tokens(alice, key))["access_token"]
    answer = (
        await alice.http.post("/introspect", data={"token": bound}, headers=_basic("rs", secret))
    ).json()
    assert answer["active"] is True
    assert answer["token_type"] == "DPoP"
    assert answer["cnf"] == {"jkt": key.thumbprint()}
    plain = (await _login(alice, None)).json()["access_token"]
    answer = (
        await alice.http.post("/introspect", data={"token": plain}, headers=_basic("rs", secret))
    ).json()
    assert answer["token_type"] == "Bearer"
    assert "cnf" not in answer


async def test_discovery_names_the_proof_algorithms(harness: Harness) -> None:
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        metadata = (await harness.http.get(path)).json()
        assert metadata["dpop_signing_alg_values_supported"] == list(DPOP_ALGORITHMS)
        assert not {"none", "HS256"} & set(metadata["dpop_signing_alg_values_supported"])


async def test_the_metrics_count_dpop_bound_grants(alice: Harness, key: jwtkit.Key) -> None:
    tokens = await _tokens(alice, key)
    await _login(alice, None)
    await _refresh(alice, tokens["refresh_token"], key)
    samples = samples_of((await alice.http.get("/metrics")).text)
    assert value(samples, "jwtkit_dpop_grants_total", grant_type="password") == 1
    assert value(samples, "jwtkit_dpop_grants_total", grant_type="refresh_token") == 1
    assert value(samples, "jwtkit_dpop_grants_total", grant_type="client_credentials") == 0
    assert value(samples, "jwtkit_grants_total", grant_type="password") == 2


def test_bound_jkt_reads_only_a_string_in_an_object() -> None:
    assert bound_jkt({"cnf": {"jkt": "abc"}}) == "abc"
    assert bound_jkt({}) is None
    assert bound_jkt({"cnf": "abc"}) is None
    assert bound_jkt({"cnf": {"jkt": 5}}) is None
    assert bound_jkt({"cnf": {"x5t#S256": "abc"}}) is None
