"""DPoP proofs across libraries: the RFC 9449 examples, and proofs made or checked by PyJWT,
joserfc and jwcrypto.

None of the peer libraries in the test dependencies has a DPoP API (authlib 1.9 has none
either), so the peers build the proof as RFC 9449 §4.2 describes it, a JWT with ``typ`` and
``jwk`` in its header, and check ours the same way: with the key of the ``jwk`` header.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import jwt as pyjwt
import pytest
from joserfc import jws as joserfc_jws
from joserfc import jwt as joserfc_jwt
from joserfc.errors import SecurityWarning as JoserfcSecurityWarning
from joserfc.jwk import ECKey as JoserfcECKey
from joserfc.jwk import OKPKey as JoserfcOKPKey
from joserfc.jwk import RSAKey as JoserfcRSAKey
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws
from jwcrypto import jwt as jwcrypto_jwt

import jwtkit
from jwtkit.dpop import DPoPVerifier, access_token_hash, create_proof
from jwtkit.errors import InvalidDPoPProof
from jwtkit.testing import FrozenClock
from vectors import load_rfc_cases

URL = "https://api.example/items"
TOKEN = "an-access-token"
PEER_ALGORITHMS = ("ES256", "PS256", "RS256", "EdDSA")


def _claims() -> dict[str, Any]:
    return {
        "jti": str(uuid.uuid4()),
        "htm": "POST",
        "htu": URL,
        "iat": int(time.time()),
        "ath": access_token_hash(TOKEN),
    }


def _private_jwk(key: jwtkit.Key) -> dict[str, Any]:
    return key.to_jwk(private=True)


def _joserfc_key(algorithm: str, jwk: dict[str, Any]) -> Any:
    kinds: dict[str, Any] = {"ES256": JoserfcECKey, "PS256": JoserfcRSAKey, "RS256": JoserfcRSAKey}
    return kinds.get(algorithm, JoserfcOKPKey).import_key(jwk)


@contextlib.contextmanager
def _joserfc_eddsa() -> Iterator[None]:
    """joserfc warns that RFC 9864 deprecates "EdDSA"; RFC 9449 proofs still use it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JoserfcSecurityWarning)
        yield


# -- RFC 9449 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", load_rfc_cases("rfc9449"), ids=lambda case: case["id"])
def test_rfc_9449_example_proofs(case: dict[str, Any]) -> None:
    verifier = DPoPVerifier(clock=FrozenClock(case["now"]))
    proof = verifier.verify(
        case["token"],
        method=case["method"],
        url=case["url"],
        access_token=case.get("access_token"),
        jkt=case["expected"]["jkt"],
    )
    assert proof.jkt == case["expected"]["jkt"]
    assert dict(proof.claims) == case["expected"]["claims"]
    assert proof.key == jwtkit.Key.from_jwk(case["key"])
    if "access_token" in case:
        assert access_token_hash(case["access_token"]) == case["expected"]["ath"]
    with pytest.raises(InvalidDPoPProof, match="already used"):
        verifier.verify(case["token"], method=case["method"], url=case["url"])


@pytest.mark.parametrize("case", load_rfc_cases("rfc9449"), ids=lambda case: case["id"])
def test_rfc_9449_example_proofs_fail_on_another_request(case: dict[str, Any]) -> None:
    verifier = DPoPVerifier(clock=FrozenClock(case["now"]))
    with pytest.raises(InvalidDPoPProof, match="htm"):
        verifier.verify(case["token"], method="PUT", url=case["url"])
    with pytest.raises(InvalidDPoPProof, match="iat"):
        DPoPVerifier().verify(case["token"], method=case["method"], url=case["url"])


# -- proofs made by the peers, checked by jwtkit -----------------------------------------------


@pytest.mark.parametrize("algorithm", PEER_ALGORITHMS)
def test_pyjwt_proofs_verify(algorithm: str) -> None:
    key = jwtkit.Key.generate(algorithm)
    peer_key = pyjwt.PyJWK(_private_jwk(key), algorithm=algorithm)
    header = {"typ": "dpop+jwt", "jwk": key.public_key().to_jwk()}
    proof = pyjwt.encode(_claims(), peer_key.key, algorithm=algorithm, headers=header)
    checked = DPoPVerifier().verify(
        proof, method="POST", url=URL, access_token=TOKEN, jkt=key.thumbprint()
    )
    assert checked.header["alg"] == algorithm


@pytest.mark.parametrize("algorithm", PEER_ALGORITHMS)
def test_joserfc_proofs_verify(algorithm: str) -> None:
    key = jwtkit.Key.generate(algorithm)
    peer_key = _joserfc_key(algorithm, _private_jwk(key))
    header = {"alg": algorithm, "typ": "dpop+jwt", "jwk": key.public_key().to_jwk()}
    with _joserfc_eddsa():
        proof = joserfc_jwt.encode(header, _claims(), peer_key, algorithms=[algorithm])
    checked = DPoPVerifier().verify(proof, method="POST", url=URL, access_token=TOKEN)
    assert checked.jkt == key.thumbprint() == peer_key.thumbprint()


@pytest.mark.parametrize("algorithm", PEER_ALGORITHMS)
def test_jwcrypto_proofs_verify(algorithm: str) -> None:
    key = jwtkit.Key.generate(algorithm)
    peer_key = jwcrypto_jwk.JWK(**_private_jwk(key))
    header = {"alg": algorithm, "typ": "dpop+jwt", "jwk": key.public_key().to_jwk()}
    token = jwcrypto_jwt.JWT(header=header, claims=_claims())
    token.make_signed_token(peer_key)
    checked = DPoPVerifier().verify(token.serialize(), method="POST", url=URL, access_token=TOKEN)
    assert checked.jkt == key.thumbprint() == peer_key.thumbprint()


def test_peer_proof_with_its_private_key_in_the_header_is_refused() -> None:
    key = jwtkit.Key.generate("ES256")
    header = {"typ": "dpop+jwt", "jwk": _private_jwk(key)}
    peer_key = pyjwt.PyJWK(_private_jwk(key), algorithm="ES256")
    proof = pyjwt.encode(_claims(), peer_key.key, algorithm="ES256", headers=header)
    with pytest.raises(InvalidDPoPProof, match="private"):
        DPoPVerifier().verify(proof, method="POST", url=URL)


# -- proofs made by jwtkit, checked by the peers with the header's key --------------------------


@pytest.mark.parametrize("algorithm", PEER_ALGORITHMS)
def test_jwtkit_proofs_verify_in_the_peers(algorithm: str) -> None:
    key = jwtkit.Key.generate(algorithm)
    proof = create_proof(key, method="POST", url=URL, access_token=TOKEN)
    header = jwtkit.decode_unverified(proof).header
    assert header["typ"] == "dpop+jwt"

    peer_key = pyjwt.PyJWK(header["jwk"], algorithm=algorithm)
    claims = pyjwt.decode(proof, peer_key.key, algorithms=[algorithm])
    assert claims["ath"] == access_token_hash(TOKEN)
    assert claims["htu"] == URL

    joserfc_key = _joserfc_key(algorithm, header["jwk"])
    registry = joserfc_jws.JWSRegistry(algorithms=[algorithm])
    registry.max_header_length = 2048  # an RSA key in the header is longer than its default
    with _joserfc_eddsa():
        decoded = joserfc_jws.deserialize_compact(proof, joserfc_key, registry=registry)
    assert json.loads(decoded.payload)["htm"] == "POST"
    assert joserfc_key.thumbprint() == key.thumbprint()

    signed = jwcrypto_jws.JWS()
    signed.deserialize(proof)
    signed.verify(jwcrypto_jwk.JWK(**header["jwk"]), alg=algorithm)
    assert json.loads(signed.payload)["jti"] == claims["jti"]
