"""The token service's own ID tokens checked by ``jwtkit.oidc`` as a relying party would:
``IDTokenVerifier`` over the published keys, and ``AsyncOIDCClient.from_issuer`` discovering the
service in-process (the ASGI transport), for RS256, ES256 and EdDSA (Ed25519) ID tokens.
The flows are the browser-less ones of ``browser_flow.py``; time is the harness's FrozenClock.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from authlib.oidc.core import CodeIDToken
from browser_flow import Flow, add_web_client
from conftest import Harness, RunApp
from joserfc import jwt
from joserfc.errors import InvalidClaimError, SecurityWarning
from joserfc.jwk import KeySet

import jwtkit
from jwtkit import errors
from jwtkit.oidc import IDTokenVerifier, token_hash
from jwtkit.remote import AsyncOIDCClient

pytestmark = pytest.mark.anyio

ALGORITHMS = ("RS256", "ES256", "EdDSA")


@pytest.fixture
async def provider(run_app: RunApp) -> AsyncIterator[Harness]:
    """A service that signs ID tokens with RS256, ES256 or EdDSA, alice registered and one
    first-party client per algorithm (``web-RS256``, ...)."""
    async with run_app(id_token_algorithms=ALGORITHMS) as harness:
        await harness.register()
        for alg in ALGORITHMS:
            await add_web_client(harness, f"web-{alg}", first_party=True, id_token_alg=alg)
        yield harness


async def _authlib(
    harness: Harness, id_token: str, client_id: str, **params: str | None
) -> dict[str, Any]:
    """The ID token checked as authlib's OpenID Connect client does: joserfc for the
    signature, then ``CodeIDToken`` (iss, aud, exp, iat, nonce, azp, at_hash)."""
    document: Any = await harness.jwks()
    keys = KeySet.import_key_set(document)
    with warnings.catch_warnings():
        # joserfc warns that the name EdDSA is deprecated (RFC 9864); the service still uses it.
        warnings.simplefilter("ignore", SecurityWarning)
        decoded = jwt.decode(id_token, keys, algorithms=list(ALGORITHMS))
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {
            "iss": {"essential": True, "value": harness.settings.issuer},
            "aud": {"essential": True, "value": client_id},
        },
        {"client_id": client_id, **params},
    )
    claims.validate(now=int(harness.clock()))
    return dict(claims)


async def _client(harness: Harness, client_id: str) -> AsyncOIDCClient:
    transport = httpx.ASGITransport(app=harness.app)
    return await AsyncOIDCClient.from_issuer(
        harness.settings.issuer, client_id, transport=transport, clock=harness.clock
    )


@pytest.mark.parametrize("alg", ALGORITHMS)
async def test_the_services_id_tokens_pass_the_relying_party_checks(
    provider: Harness, alg: str
) -> None:
    flow = Flow(provider, client_id=f"web-{alg}")
    tokens = await flow.tokens()
    id_token, access_token = tokens["id_token"], tokens["access_token"]
    assert jwtkit.decode_unverified(id_token).header["alg"] == alg
    verifier = IDTokenVerifier(
        await provider.keyset(),
        issuer=provider.settings.issuer,
        client_id=f"web-{alg}",
        algorithms=[alg],
        clock=provider.clock,
    )
    claims = verifier.decode(id_token, nonce=flow.nonce, access_token=access_token, max_age=60)
    assert claims["azp"] == f"web-{alg}"
    key = (await provider.keyset()).get(jwtkit.decode_unverified(id_token).header["kid"])[0]
    assert claims["at_hash"] == token_hash(access_token, alg, key)
    theirs = await _authlib(
        provider, id_token, f"web-{alg}", nonce=flow.nonce, access_token=access_token
    )
    assert theirs == claims
    with pytest.raises(InvalidClaimError):  # authlib refuses another access token too
        await _authlib(provider, id_token, f"web-{alg}", access_token="another")

    async with await _client(provider, f"web-{alg}") as client:
        assert alg in client.algorithms  # from id_token_signing_alg_values_supported
        assert client.metadata["token_endpoint"] == f"{provider.settings.issuer}/token"
        found = await client.avalidate_id_token(
            id_token, nonce=flow.nonce, access_token=access_token, max_age=60
        )
        assert found == claims


async def test_the_relying_party_refuses_what_does_not_belong_to_its_login(
    provider: Harness,
) -> None:
    first, second = Flow(provider, client_id="web-RS256"), Flow(provider, client_id="web-RS256")
    tokens, other = await first.tokens(), await second.tokens()
    id_token = tokens["id_token"]
    async with await _client(provider, "web-RS256") as client:
        with pytest.raises(errors.InvalidNonce):  # the ID token of another login
            await client.avalidate_id_token(id_token, nonce=second.nonce)
        with pytest.raises(errors.InvalidTokenHash):  # another login's access token
            await client.avalidate_id_token(
                id_token, nonce=first.nonce, access_token=other["access_token"]
            )
        with pytest.raises(errors.InvalidTokenHash):  # the code flow's token has no c_hash
            await client.avalidate_id_token(id_token, code="a-code")
        provider.clock.advance(120)
        with pytest.raises(jwtkit.ExpiredToken, match="authenticate again"):
            await client.avalidate_id_token(id_token, nonce=first.nonce, max_age=60)
    async with await _client(provider, "web-ES256") as elsewhere:
        with pytest.raises(jwtkit.InvalidAudience):  # issued to another client
            await elsewhere.avalidate_id_token(id_token)
