"""``private_key_jwt``: clients that authenticate with a JWT signed by their own key.

Through the real HTTP app (RFC 7523 §2.2 and §3, RFC 7521 §4.2, OIDC Core §9): a client
registered with a JWK Set of public keys gets tokens with an assertion, at the token, revocation
and introspection endpoints; every way an assertion can be wrong is refused with
``invalid_client`` and a description of what was wrong, each in its own test (replay and
audience injection: security matrix E6). Time comes from the harness's frozen clock, never from
sleeping.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
from typing import Any

import httpx
import pytest
from conftest import Harness, RunApp

import jwtkit
from jwtkit.server.client_assertions import (
    CLIENT_ASSERTION_TYPE,
    CLOCK_SKEW,
    MAX_ASSERTION_LENGTH,
    MAX_ASSERTION_LIFETIME,
    MAX_JTI_LENGTH,
    MAX_JWKS_LENGTH,
    SIGNING_ALGORITHMS,
    AssertionRefused,
    ClientAssertions,
    check_client_jwks,
    replay_key,
)
from jwtkit.server.credentials import ClientAuth
from jwtkit.server.models import Client
from jwtkit.server.tokens import new_client_secret

pytestmark = pytest.mark.anyio

CLIENT = "svc"


@pytest.fixture(scope="module")
def key() -> jwtkit.Key:
    """The client's private key (it registers the public half)."""
    return jwtkit.Key.generate("ES256", kid="svc-1")


def jwks_of(*keys: jwtkit.Key) -> str:
    return json.dumps({"keys": [k.public_key().to_jwk() for k in keys]})


async def add_key_client(
    harness: Harness,
    *keys: jwtkit.Key,
    client_id: str = CLIENT,
    jwks: str | None = None,
    secret_hash: str | None = None,
    grants: tuple[str, ...] = ("client_credentials",),
) -> Client:
    client = Client(
        id=client_id,
        secret_hash=secret_hash,
        grant_types=grants,
        scopes=("read",),
        created_at=harness.clock(),
        jwks=jwks_of(*keys) if jwks is None else jwks,
    )
    await harness.store.add_client(client)
    return client


def claims_for(harness: Harness, client_id: str = CLIENT, **changes: Any) -> dict[str, Any]:
    """The claims of a good assertion; a change to ``None`` leaves the claim out."""
    now = int(harness.clock())
    claims: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        "aud": harness.settings.issuer,
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(16),
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def assertion(
    harness: Harness,
    key: jwtkit.Key,
    client_id: str = CLIENT,
    *,
    algorithm: str | None = None,
    typ: str | None = "JWT",
    **changes: Any,
) -> str:
    return jwtkit.encode(
        claims_for(harness, client_id, **changes), key, algorithm=algorithm or key.alg, typ=typ
    )


def assertion_form(token: str, **extra: str) -> dict[str, str]:
    return {"client_assertion_type": CLIENT_ASSERTION_TYPE, "client_assertion": token, **extra}


async def client_credentials(harness: Harness, token: str, **extra: str) -> httpx.Response:
    data = {"grant_type": "client_credentials", **assertion_form(token, **extra)}
    return await harness.http.post("/token", data=data)


def refused(response: httpx.Response, description: str) -> None:
    """``invalid_client`` (401) whose description contains ``description``."""
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["error"] == "invalid_client"
    assert description in body["error_description"], body["error_description"]
    assert response.headers["www-authenticate"].startswith("Basic ")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def forged(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return ".".join(
        (b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), b64(signature))
    )


# -- the happy paths --------------------------------------------------------------------------


async def test_a_key_client_gets_a_token_with_a_signed_assertion(
    harness: Harness, key: jwtkit.Key
) -> None:
    await add_key_client(harness, key)
    answer = await client_credentials(harness, assertion(harness, key))
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert tokens["scope"] == "read"
    assert "refresh_token" not in tokens
    claims = jwtkit.decode(
        tokens["access_token"],
        await harness.keyset(),
        audience=harness.settings.audience,
        issuer=harness.settings.issuer,
        now=harness.clock(),
    )
    assert (claims["sub"], claims["client_id"]) == (CLIENT, CLIENT)


async def test_client_id_may_name_the_client_too(harness: Harness, key: jwtkit.Key) -> None:
    await add_key_client(harness, key)
    answer = await client_credentials(harness, assertion(harness, key), client_id=CLIENT)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("algorithm", SIGNING_ALGORITHMS)
async def test_every_allowed_algorithm_is_accepted(harness: Harness, algorithm: str) -> None:
    own = jwtkit.Key.generate(algorithm)
    await add_key_client(harness, own)
    answer = await client_credentials(harness, assertion(harness, own, algorithm=algorithm))
    assert answer.status_code == 200, answer.text


async def test_any_registered_key_may_sign(harness: Harness, key: jwtkit.Key) -> None:
    """A client rolling its key over registers both; the kid picks one, and without a kid every
    key that fits the algorithm is tried."""
    new = jwtkit.Key.generate("EdDSA", kid="svc-2")
    await add_key_client(harness, key, new)
    assert (await client_credentials(harness, assertion(harness, key))).status_code == 200
    assert (await client_credentials(harness, assertion(harness, new))).status_code == 200
    kidless = jwtkit.Key.from_jwk(
        {name: value for name, value in key.to_jwk(private=True).items() if name != "kid"}
    )
    assert kidless.kid is None
    assert (await client_credentials(harness, assertion(harness, kidless))).status_code == 200


@pytest.mark.parametrize("typ", [None, "JWT", "client-authentication+jwt", "application/jwt"])
async def test_the_typ_may_be_absent_jwt_or_client_authentication(
    harness: Harness, key: jwtkit.Key, typ: str | None
) -> None:
    await add_key_client(harness, key)
    answer = await client_credentials(harness, assertion(harness, key, typ=typ))
    assert answer.status_code == 200, answer.text


async def test_an_audience_array_holding_only_the_issuer_is_accepted(
    harness: Harness, key: jwtkit.Key
) -> None:
    await add_key_client(harness, key)
    token = assertion(harness, key, aud=[harness.settings.issuer])
    assert (await client_credentials(harness, token)).status_code == 200


async def test_a_small_clock_difference_is_allowed(harness: Harness, key: jwtkit.Key) -> None:
    """The client's clock runs ahead (iat and nbf a little in the future) or behind (exp just
    past): within CLOCK_SKEW, both are accepted."""
    await add_key_client(harness, key)
    now = int(harness.clock())
    ahead = assertion(harness, key, iat=now + 20, nbf=now + 20, exp=now + 20 + 300)
    assert (await client_credentials(harness, ahead)).status_code == 200
    behind = assertion(harness, key, exp=now + 10)
    harness.clock.advance(30)
    assert (await client_credentials(harness, behind)).status_code == 200


async def test_revocation_and_introspection_accept_assertions(
    harness: Harness, key: jwtkit.Key
) -> None:
    await add_key_client(harness, key)
    tokens = (await client_credentials(harness, assertion(harness, key))).json()
    introspected = await harness.http.post(
        "/introspect",
        data={"token": tokens["access_token"], **assertion_form(assertion(harness, key))},
    )
    assert introspected.status_code == 200, introspected.text
    assert introspected.json()["active"] is True
    assert introspected.json()["client_id"] == CLIENT
    revoked = await harness.http.post(
        "/revoke",
        data={"token": tokens["access_token"], **assertion_form(assertion(harness, key))},
    )
    assert revoked.status_code == 200, revoked.text
    again = await harness.http.post(
        "/introspect",
        data={"token": tokens["access_token"], **assertion_form(assertion(harness, key))},
    )
    assert again.json() == {"active": False}


async def test_the_metadata_publishes_private_key_jwt_and_its_algorithms(
    harness: Harness,
) -> None:
    document = (await harness.http.get("/.well-known/oauth-authorization-server")).json()
    for endpoint in ("token", "revocation", "introspection"):
        assert "private_key_jwt" in document[f"{endpoint}_endpoint_auth_methods_supported"]
        algorithms = document[f"{endpoint}_endpoint_auth_signing_alg_values_supported"]
        assert algorithms == list(SIGNING_ALGORITHMS)
        assert not any(name.startswith("HS") or name == "none" for name in algorithms)
    assert "none" in document["token_endpoint_auth_methods_supported"]
    assert "none" not in document["introspection_endpoint_auth_methods_supported"]


# -- refusals: the signature ------------------------------------------------------------------


async def test_a_signature_by_another_key_is_refused(harness: Harness, key: jwtkit.Key) -> None:
    await add_key_client(harness, key)
    stranger = jwtkit.Key.generate("ES256", kid="svc-1")
    answer = await client_credentials(harness, assertion(harness, stranger))
    refused(answer, "signature does not verify with the client's keys")


async def test_an_algorithm_no_registered_key_fits_is_refused(
    harness: Harness, key: jwtkit.Key
) -> None:
    await add_key_client(harness, key)
    rsa = jwtkit.Key.generate("RS256")
    answer = await client_credentials(harness, assertion(harness, rsa))
    refused(answer, "signature does not verify with the client's keys")


async def test_hs256_with_the_public_key_as_the_secret_is_refused(
    harness: Harness, key: jwtkit.Key
) -> None:
    """The registered keys are public: an HMAC over them proves nothing (security matrix A2).
    Whether the "secret" is the PEM, the JWK or the JWK Set text, HS256 is not allowed."""
    await add_key_client(harness, key)
    claims = claims_for(harness)
    public = key.public_key()
    for secret in (public.to_pem(), json.dumps(public.to_jwk()).encode(), jwks_of(key).encode()):
        header = {"alg": "HS256", "typ": "JWT", "kid": "svc-1"}
        signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
        tag = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        answer = await client_credentials(harness, f"{signing_input}.{b64(tag)}")
        refused(answer, "must be signed with one of RS256")


async def test_alg_none_is_refused(harness: Harness, key: jwtkit.Key) -> None:
    await add_key_client(harness, key)
    for alg in ("none", "None", "NONE"):
        answer = await client_credentials(harness, forged({"alg": alg}, claims_for(harness)))
        refused(answer, "must be signed with one of")


async def test_an_assertion_that_is_not_a_jwt_is_refused(harness: Harness, key: jwtkit.Key) -> None:
    await add_key_client(harness, key)
    refused(await client_credentials(harness, "not-a-jwt"), "the client assertion is malformed")
    good = assertion(harness, key)
    refused(await client_credentials(harness, good + ".x.y"), "the client assertion is malformed")


async def test_a_signed_assertion_with_a_bad_header_is_refused(
    harness: Harness, key: jwtkit.Key
) -> None:
    """The header is checked by the core after the claims were read unverified: an unknown
    critical extension makes the assertion invalid."""
    await add_key_client(harness, key)
    token = jwtkit.encode(claims_for(harness), key, headers={"crit": ["x"], "x": 1})
    refused(await client_credentials(harness, token), "the client assertion is malformed")


async def test_an_explicitly_typed_other_jwt_is_refused(harness: Harness, key: jwtkit.Key) -> None:
    await add_key_client(harness, key)
    for typ in ("at+jwt", "dpop+jwt", "logout+jwt"):
        answer = await client_credentials(harness, assertion(harness, key, typ=typ))
        refused(answer, "typ must be JWT or client-authentication+jwt")


# -- refusals: the claims ---------------------------------------------------------------------


async def test_iss_other_than_sub_is_refused(harness: Harness, key: jwtkit.Key) -> None:
    await add_key_client(harness, key)
    answer = await client_credentials(harness, assertion(harness, key, iss="someone-else"))
    refused(answer, "issuer 'someone-else' is not accepted")


async def test_a_missing_iss_is_refused(harness: Harness, key: jwtkit.Key) -> None:
    await add_key_client(harness, key)
    answer = await client_credentials(harness, assertion(harness, key, iss=None))
    refused(answer, "required claim 'iss' is missing")


@pytest.mark.parametrize("sub", [None, "", 42])
async def test_an_assertion_without_a_client_id_as_sub_is_refused(
    harness: Harness, key: jwtkit.Key, sub: object
) -> None:
    await add_key_client(harness, key)
    answer = await client_credentials(harness, assertion(harness, key, sub=sub))
    refused(answer, "sub must be the client id")


async def test_another_audience_is_refused(harness: Harness, key: jwtkit.Key) -> None:
    await add_key_client(harness, key)
    answer = await client_credentials(harness, assertion(harness, key, aud="https://other.example"))
    refused(answer, f"aud must be the issuer identifier {harness.settings.issuer}")


async def test_the_token_endpoint_url_as_audience_is_refused(
    harness: Harness, key: jwtkit.Key
) -> None:
    """draft-ietf-oauth-rfc7523bis: only the issuer identifier, so that an assertion a client
    was tricked into making for another server's token endpoint cannot be replayed here."""
    await add_key_client(harness, key)
    token_endpoint = f"{harness.settings.issuer}/token"
    answer = await client_credentials(harness, assertion(harness, key, aud=token_endpoint))
    refused(answer, "aud must be the issuer identifier")


async def test_an_audience_array_with_other_values_is_refused(
    harness: Harness, key: jwtkit.Key
) -> None:
    """An assertion meant for several servers can be replayed by each of them (audience
    injection): the issuer must be the only audience."""
    await add_key_client(harness, key)
    issuer = harness.settings.issuer
    for audience in ([issuer, "https://attacker.example"], [issuer, f"{issuer}/token"]):
        answer = await client_credentials(harness, assertion(harness, key, aud=audience))
        refused(answer, f"aud must be the issuer identifier {issuer} alone")


async def test_a_missing_aud_is_refused(harness: Harness, key: jwtkit.Key) -> None:
    await add_key_client(harness, key)
    answer = await client_credentials(harness, assertion(harness, key, aud=None))
    refused(answer, "required claim 'aud' is missing")


async def test_a_missing_exp_is_refused(harness: Harness, key: jwtkit.Key) -> None:
    await add_key_client(harness, key)
    answer = await client_credentials(harness, assertion(harness, key, exp=None))
    refused(answer, "required claim 'exp' is missing")


async def test_a_missing_jti_is_refused(harness: Harness, key: jwtkit.Key) -> None:
    await add_key_client(harness, key)
    answer = await client_credentials(harness, assertion(harness, key, jti=None))
    refused(answer, "required claim 'jti' is missing")


@pytest.mark.parametrize(
    ("jti", "message"),
    [
        ("", f"jti must be a string of 1 to {MAX_JTI_LENGTH} characters"),
        ("j" * (MAX_JTI_LENGTH + 1), f"jti must be a string of 1 to {MAX_JTI_LENGTH} characters"),
        (42, "claim 'jti': must be a string"),
        (["a"], "claim 'jti': must be a string"),
    ],
)
async def test_a_jti_that_is_not_a_short_string_is_refused(
    harness: Harness, key: jwtkit.Key, jti: object, message: str
) -> None:
    await add_key_client(harness, key)
    answer = await client_credentials(harness, assertion(harness, key, jti=jti))
    refused(answer, message)


async def test_an_expired_assertion_is_refused(harness: Harness, key: jwtkit.Key) -> None:
    await add_key_client(harness, key)
    token = assertion(harness, key, exp=int(harness.clock()) + 10)
    harness.clock.advance(10 + CLOCK_SKEW)
    refused(await client_credentials(harness, token), "the client assertion has expired")


async def test_an_exp_too_far_ahead_is_refused(harness: Harness, key: jwtkit.Key) -> None:
    await add_key_client(harness, key)
    now = int(harness.clock())
    longest = now + int(MAX_ASSERTION_LIFETIME + CLOCK_SKEW)
    assert (await client_credentials(harness, assertion(harness, key, exp=longest))).is_success
    answer = await client_credentials(harness, assertion(harness, key, exp=longest + 1))
    refused(answer, f"exp is more than {int(MAX_ASSERTION_LIFETIME)} seconds ahead")


async def test_an_assertion_not_yet_valid_is_refused(harness: Harness, key: jwtkit.Key) -> None:
    await add_key_client(harness, key)
    now = int(harness.clock())
    later = assertion(harness, key, nbf=now + 120, exp=now + 240)
    refused(await client_credentials(harness, later), "not valid before")
    future = assertion(harness, key, iat=now + 120, exp=now + 240)
    refused(await client_credentials(harness, future), "issued in the future")


# -- refusals: replay -------------------------------------------------------------------------


async def test_a_replayed_assertion_is_refused(harness: Harness, key: jwtkit.Key) -> None:
    await add_key_client(harness, key)
    token = assertion(harness, key, jti="once")
    assert (await client_credentials(harness, token)).status_code == 200
    refused(await client_credentials(harness, token), "already used: its jti is accepted once")
    # The jti is what counts: another assertion with the same jti is a replay too...
    again = assertion(harness, key, jti="once", exp=int(harness.clock()) + 90)
    refused(await client_credentials(harness, again), "already used")
    # ... at every endpoint, until the first assertion could no longer be accepted.
    revoke = await harness.http.post("/revoke", data={"token": "x", **assertion_form(again)})
    refused(revoke, "already used")
    harness.clock.advance(60 + CLOCK_SKEW)
    late = assertion(harness, key, jti="once")
    assert (await client_credentials(harness, late)).status_code == 200


async def test_concurrent_uses_of_one_assertion_have_one_winner(
    harness: Harness, key: jwtkit.Key
) -> None:
    await add_key_client(harness, key)
    token = assertion(harness, key)
    answers = await asyncio.gather(*(client_credentials(harness, token) for _ in range(10)))
    assert sorted(answer.status_code for answer in answers) == [200] + [401] * 9


async def test_two_clients_may_use_the_same_jti(harness: Harness, key: jwtkit.Key) -> None:
    other = jwtkit.Key.generate("ES256")
    await add_key_client(harness, key)
    await add_key_client(harness, other, client_id="other")
    mine = assertion(harness, key, jti="same")
    theirs = assertion(harness, other, "other", jti="same")
    assert (await client_credentials(harness, mine)).status_code == 200
    assert (await client_credentials(harness, theirs)).status_code == 200
    assert replay_key(CLIENT, "same") != replay_key("other", "same")


async def test_a_refused_assertion_does_not_use_up_its_jti(
    harness: Harness, key: jwtkit.Key
) -> None:
    """Only a verified assertion records its jti: a forgery cannot block the client's own."""
    await add_key_client(harness, key)
    stranger = jwtkit.Key.generate("ES256")
    forgery = assertion(harness, stranger, jti="mine")
    refused(await client_credentials(harness, forgery), "signature")
    assert (await client_credentials(harness, assertion(harness, key, jti="mine"))).is_success


# -- refusals: the client ---------------------------------------------------------------------


async def test_an_assertion_for_an_unknown_client_is_refused(
    harness: Harness, key: jwtkit.Key
) -> None:
    answer = await client_credentials(harness, assertion(harness, key, "nobody"))
    refused(answer, "unknown client")


async def test_a_client_id_other_than_the_sub_is_refused(harness: Harness, key: jwtkit.Key) -> None:
    await add_key_client(harness, key)
    await add_key_client(harness, key, client_id="other")
    answer = await client_credentials(harness, assertion(harness, key), client_id="other")
    refused(answer, "client_id differs from the client assertion's sub")


async def test_a_client_with_a_secret_cannot_use_an_assertion(
    harness: Harness, key: jwtkit.Key
) -> None:
    await harness.add_client(CLIENT)
    answer = await client_credentials(harness, assertion(harness, key))
    refused(answer, "this client has no registered keys")


async def test_a_key_client_cannot_use_a_secret(harness: Harness, key: jwtkit.Key) -> None:
    """It has none; whatever secret is tried, with Basic or in the form, fails."""
    await add_key_client(harness, key)
    data = {"grant_type": "client_credentials"}
    basic = await harness.http.post("/token", data=data, auth=(CLIENT, new_client_secret()))
    refused(basic, "client authentication failed")
    posted = {**data, "client_id": CLIENT, "client_secret": new_client_secret()}
    refused(await harness.http.post("/token", data=posted), "client authentication failed")


async def test_a_key_client_must_authenticate(harness: Harness, key: jwtkit.Key) -> None:
    """Naming itself is not enough: a client with keys is confidential."""
    await add_key_client(harness, key, grants=("password", "refresh_token"))
    await harness.register()
    answer = await harness.login(client_id=CLIENT)
    refused(answer, "this client must authenticate")
    anonymous = await harness.http.post("/token", data={"grant_type": "client_credentials"})
    refused(anonymous, "client authentication is required")
    assert "private_key_jwt" in anonymous.json()["error_description"]


async def test_a_client_with_a_secret_and_keys_may_use_either(
    harness: Harness, key: jwtkit.Key
) -> None:
    secret = new_client_secret()
    await add_key_client(harness, key, secret_hash=await harness.service.hasher.hash(secret))
    assert (await client_credentials(harness, assertion(harness, key))).status_code == 200
    data = {"grant_type": "client_credentials"}
    assert (await harness.http.post("/token", data=data, auth=(CLIENT, secret))).is_success


@pytest.mark.parametrize(
    "jwks",
    [
        "not json",
        '{"keys": []}',
        json.dumps({"keys": [jwtkit.OctKey(secrets.token_bytes(32)).to_jwk(private=True)]}),
    ],
)
async def test_a_client_whose_stored_keys_are_unusable_is_refused(
    harness: Harness, key: jwtkit.Key, jwks: str
) -> None:
    """Keys written to the database by other means than ``clients add --jwks``: no signature
    verifies, whatever the assertion."""
    await add_key_client(harness, jwks=jwks)
    answer = await client_credentials(harness, assertion(harness, key))
    refused(answer, "the client's registered keys cannot verify a signature")


async def test_a_stored_private_key_verifies_with_its_public_half(
    harness: Harness, key: jwtkit.Key
) -> None:
    """A private JWK written to the database by other means is used as its public key."""
    await add_key_client(harness, jwks=json.dumps({"keys": [key.to_jwk(private=True)]}))
    assert (await client_credentials(harness, assertion(harness, key))).status_code == 200


# -- refusals: the request --------------------------------------------------------------------


async def test_an_oversized_assertion_is_refused_unread(harness: Harness, key: jwtkit.Key) -> None:
    await add_key_client(harness, key)
    padding = "p" * MAX_ASSERTION_LENGTH
    token = assertion(harness, key, padding=padding)
    assert len(token) > MAX_ASSERTION_LENGTH
    refused(
        await client_credentials(harness, token),
        f"longer than {MAX_ASSERTION_LENGTH} characters",
    )


async def test_an_assertion_with_basic_credentials_is_a_bad_request(
    harness: Harness, key: jwtkit.Key
) -> None:
    secret = await harness.add_client("backend")
    await add_key_client(harness, key)
    answer = await harness.http.post(
        "/token",
        data={"grant_type": "client_credentials", **assertion_form(assertion(harness, key))},
        auth=("backend", secret),
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert "one client authentication method only" in answer.json()["error_description"]


async def test_an_assertion_with_a_client_secret_is_a_bad_request(
    harness: Harness, key: jwtkit.Key
) -> None:
    await add_key_client(harness, key)
    answer = await client_credentials(
        harness, assertion(harness, key), client_secret=new_client_secret()
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


@pytest.mark.parametrize("missing", ["client_assertion", "client_assertion_type"])
async def test_half_of_the_assertion_parameters_is_a_bad_request(
    harness: Harness, key: jwtkit.Key, missing: str
) -> None:
    await add_key_client(harness, key)
    form = assertion_form(assertion(harness, key))
    del form[missing]
    answer = await harness.http.post("/token", data={"grant_type": "client_credentials", **form})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert "go together" in answer.json()["error_description"]


async def test_an_unknown_assertion_type_is_invalid_client(
    harness: Harness, key: jwtkit.Key
) -> None:
    """A method this server does not support (RFC 6749 §5.2), e.g. a SAML assertion."""
    await add_key_client(harness, key)
    form = assertion_form(assertion(harness, key))
    form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"
    answer = await harness.http.post("/token", data={"grant_type": "client_credentials", **form})
    refused(answer, f"client_assertion_type must be {CLIENT_ASSERTION_TYPE}")


async def test_refusals_are_audited_without_the_assertion(
    harness: Harness, key: jwtkit.Key, caplog: pytest.LogCaptureFixture
) -> None:
    await add_key_client(harness, key)
    stranger = jwtkit.Key.generate("ES256")
    forgery = assertion(harness, stranger)
    unknown = assertion(harness, key, "nobody")
    with caplog.at_level(logging.INFO, logger="jwtkit.audit"):
        await client_credentials(harness, forgery)
        await client_credentials(harness, unknown)
        good = assertion(harness, key)
        await client_credentials(harness, good)
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "jwtkit.audit"]
    failures = [event for event in events if event["event"] == "client_auth_failed"]
    assert [(e["client_id"], e["method"]) for e in failures] == [
        (CLIENT, "private_key_jwt"),
        (None, "private_key_jwt"),
    ]
    assert "signature" in failures[0]["reason"]
    assert failures[1]["reason"] == "unknown client"
    assert any(event["event"] == "client_token" for event in events)
    for token in (forgery, unknown, good):
        assert token.split(".")[1] not in caplog.text


# -- the verifier cache -----------------------------------------------------------------------


async def test_new_keys_take_effect_at_once(run_app: RunApp, key: jwtkit.Key) -> None:
    """The prepared verifier is kept per (client, registered keys): a client registered again
    with another key is verified with the new one."""
    async with run_app() as harness:
        await add_key_client(harness, key)
        assert (await client_credentials(harness, assertion(harness, key))).status_code == 200
        await harness.store.remove_client(CLIENT)
        new = jwtkit.Key.generate("ES256")
        await add_key_client(harness, new)
        refused(await client_credentials(harness, assertion(harness, key)), "signature")
        assert (await client_credentials(harness, assertion(harness, new))).status_code == 200


@pytest.mark.parametrize("cache_size", [0, 1])
async def test_the_verifier_cache_is_bounded(
    harness: Harness, key: jwtkit.Key, cache_size: int
) -> None:
    assertions = ClientAssertions(
        harness.store, harness.settings.issuer, harness.clock, cache_size=cache_size
    )
    others = [jwtkit.Key.generate("ES256") for _ in range(3)]
    for index, other in enumerate(others):
        await add_key_client(harness, other, client_id=f"c{index}")
    for _ in range(2):
        for index, other in enumerate(others):
            client = await assertions.authenticate(assertion(harness, other, f"c{index}"))
            assert client.id == f"c{index}"
    assert len(assertions._verifiers) == cache_size


async def test_authenticate_without_http(harness: Harness, key: jwtkit.Key) -> None:
    """The service's own entry point: a refusal carries the client id when the client exists."""
    await add_key_client(harness, key)
    assertions = harness.service.client_assertions
    assert (await assertions.authenticate(assertion(harness, key), CLIENT)).id == CLIENT
    with pytest.raises(AssertionRefused) as refusal:
        await assertions.authenticate(assertion(harness, key, exp=None))
    assert (refusal.value.client_id, refusal.value.status) == (CLIENT, 401)
    auth = ClientAuth(None, None, "private_key_jwt", client_assertion="secret-ish")
    assert "secret-ish" not in repr(auth)


# -- registering keys -------------------------------------------------------------------------


def test_check_client_jwks_accepts_public_signature_keys(key: jwtkit.Key) -> None:
    rsa, okp = jwtkit.Key.generate("RS256"), jwtkit.Key.generate("EdDSA")
    keys = check_client_jwks(jwks_of(key, rsa, okp))
    assert [k.kty for k in keys] == ["EC", "RSA", "OKP"]
    assert not any(k.is_private for k in keys)


def _set(*members: object) -> str:
    return json.dumps({"keys": list(members)})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a JWK Set"),
        ("[]", "not a JWK Set"),
        ('{"keys": {}}', "not a JWK Set"),
        ('{"keys": []}', "the JWK Set has no key"),
        (" " * (MAX_JWKS_LENGTH + 1), f"longer than {MAX_JWKS_LENGTH} characters"),
        (_set({"kty": "oct", "k": b64(secrets.token_bytes(32))}), "key 0 is a symmetric"),
        (_set({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}), "key 0 cannot be used"),
        (_set({"kty": "XYZ"}), "key 0 cannot be used"),
        (_set("not an object"), "key 0 cannot be used"),
    ],
)
def test_check_client_jwks_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as refusal:
        check_client_jwks(text)
    assert "\n" not in str(refusal.value)


def test_check_client_jwks_refuses_symmetric_keys_beside_public_ones(key: jwtkit.Key) -> None:
    secret = {"kty": "oct", "k": b64(secrets.token_bytes(32))}
    with pytest.raises(ValueError, match="key 1 is a symmetric"):
        check_client_jwks(_set(key.public_key().to_jwk(), secret))


def test_check_client_jwks_refuses_private_keys(key: jwtkit.Key) -> None:
    with pytest.raises(ValueError, match="key 0 is a private key: register only the public"):
        check_client_jwks(_set(key.to_jwk(private=True)))


@pytest.mark.parametrize(
    "member",
    [
        {**jwtkit.Key.generate("ES256").public_key().to_jwk(), "use": "enc"},
        jwtkit.Key.generate("ES256K").public_key().to_jwk(),
        jwtkit.Key.generate("ECDH-ES", crv="X25519").public_key().to_jwk(),
    ],
    ids=["use-enc", "secp256k1", "x25519"],
)
def test_check_client_jwks_refuses_keys_that_verify_no_allowed_algorithm(
    member: dict[str, Any],
) -> None:
    with pytest.raises(ValueError, match="key 0 cannot verify signatures of RS256"):
        check_client_jwks(_set(member))
