"""The token service with a post-quantum key: access tokens signed with ML-DSA (RFC 9964),
an ``AKP`` key in the JWKS, and the move from a classical ``signing_algorithm`` to ML-DSA
through ``published_algorithms`` without refusing the tokens already issued."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import RunApp
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws

import jwtkit
from jwtkit._keys import mldsa_support

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(
        mldsa_support.MLDSA_MODULE is None,
        reason="this cryptography release cannot sign with ML-DSA",
    ),
]


def _header(token: str) -> dict[str, Any]:
    return jwtkit.decode_unverified(token).header


def _verify_with_jwcrypto(jwks: dict[str, Any], token: str, alg: str) -> dict[str, Any]:
    """The claims, once jwcrypto has verified the signature with the JWKS (the clock of these
    tests is frozen in the past, so the claims are left to jwtkit's verifier)."""
    keys = jwcrypto_jwk.JWKSet.from_json(json.dumps(jwks))
    signed: Any = jwcrypto_jws.JWS()
    signed.allowed_algs = [alg]
    signed.deserialize(token)
    signed.verify(keys.get_key(_header(token)["kid"]))  # raises unless it verifies
    claims: dict[str, Any] = json.loads(signed.payload)
    return claims


async def test_access_tokens_signed_with_ml_dsa_verify_against_the_jwks(run_app: RunApp) -> None:
    async with run_app(signing_algorithm="ML-DSA-65") as harness:
        await harness.register()
        answer = await harness.tokens()
        token = answer["access_token"]
        header = _header(token)
        assert (header["alg"], header["typ"]) == ("ML-DSA-65", "at+jwt")

        jwks = await harness.jwks()
        (akp,) = [key for key in jwks["keys"] if key["kid"] == header["kid"]]
        assert akp["kty"] == "AKP"
        assert akp["alg"] == "ML-DSA-65"
        assert akp["use"] == "sig"
        assert "priv" not in akp
        # The ID tokens' RS256 key is published beside it.
        assert {key["kty"] for key in jwks["keys"]} == {"AKP", "RSA"}

        verifier = jwtkit.Verifier(
            await harness.keyset(),
            algorithms=["ML-DSA-65"],
            issuer=harness.settings.issuer,
            audience=harness.settings.audience,
            typ="at+jwt",
            clock=harness.clock,
        )
        claims = verifier.decode(token)
        assert claims["sub"]
        if "AKP" in jwcrypto_jwk.JWKTypesRegistry:  # jwcrypto 1.6.0 on: RFC 9964 interop
            assert _verify_with_jwcrypto(jwks, token, "ML-DSA-65")["jti"] == claims["jti"]
        # An RS256 verifier of the same JWKS refuses it: the algorithm is part of the key.
        with pytest.raises(jwtkit.JWTError):
            jwtkit.decode(token, await harness.keyset(), algorithms=["RS256"], audience="jwtkit")

        me = await harness.userinfo(token)
        assert me.status_code == 200, me.text
        assert me.json()["sub"] == claims["sub"]

        discovery = (await harness.http.get("/.well-known/openid-configuration")).json()
        assert discovery["access_token_signing_alg_values_supported"] == ["ML-DSA-65"]
        assert discovery["id_token_signing_alg_values_supported"] == ["RS256"]


async def test_publish_then_rotate_into_ml_dsa_keeps_old_tokens_valid(run_app: RunApp) -> None:
    # 0. Classical: ES256 access tokens.
    async with run_app() as harness:
        await harness.register()
        classical = (await harness.tokens())["access_token"]
        assert _header(classical)["alg"] == "ES256"
        es256_kid = _header(classical)["kid"]

    # 1. Publish the ML-DSA key beside the classical one; tokens are still ES256.
    async with run_app(published_algorithms=("ML-DSA-65",)) as harness:
        jwks = await harness.jwks()
        published = {key["alg"]: key["kid"] for key in jwks["keys"]}
        assert set(published) == {"ES256", "RS256", "ML-DSA-65"}
        assert published["ES256"] == es256_kid
        still_classical = (await harness.tokens())["access_token"]
        assert _header(still_classical)["alg"] == "ES256"
        discovery = (await harness.http.get("/.well-known/oauth-authorization-server")).json()
        assert discovery["access_token_signing_alg_values_supported"] == ["ES256", "ML-DSA-65"]
        assert (await harness.userinfo(classical)).status_code == 200

    # 2. Sign with ML-DSA-65, keep the ES256 key published: both kinds of token verify.
    async with run_app(signing_algorithm="ML-DSA-65", published_algorithms=("ES256",)) as harness:
        post_quantum = (await harness.tokens())["access_token"]
        header = _header(post_quantum)
        assert header["alg"] == "ML-DSA-65"
        assert header["kid"] == published["ML-DSA-65"]  # the key published in step 1
        for token in (classical, still_classical, post_quantum):
            answer = await harness.userinfo(token)
            assert answer.status_code == 200, answer.text
        keys = await harness.keyset()
        for token in (classical, post_quantum):
            jwtkit.decode(
                token,
                keys,
                algorithms=["ES256", "ML-DSA-65"],
                audience="jwtkit",
                now=harness.clock(),
            )
        discovery = (await harness.http.get("/.well-known/openid-configuration")).json()
        assert discovery["access_token_signing_alg_values_supported"] == ["ML-DSA-65", "ES256"]

    # 3. Overlap over: ES256 no longer named; the service refuses ES256 access tokens.
    async with run_app(signing_algorithm="ML-DSA-65") as harness:
        refused = await harness.userinfo(classical)
        assert refused.status_code == 401
        assert (await harness.userinfo(post_quantum)).status_code == 200


async def test_the_key_ring_rotates_an_ml_dsa_key(run_app: RunApp) -> None:
    async with run_app(signing_algorithm="ML-DSA-65") as harness:
        ring = harness.service.keyring
        first = ring.signing_key().kid
        record = await ring.rotate(activate_after=0)
        assert record.algorithm == "ML-DSA-65"
        await ring.refresh()
        assert ring.signing_key().kid == record.kid != first
        kids = [key["kid"] for key in (await harness.jwks())["keys"]]
        assert first in kids  # retired, published until its tokens expire
        assert record.kid in kids
