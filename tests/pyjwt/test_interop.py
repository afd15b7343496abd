"""Tokens travel between PyJWT and ``jwtkit.pyjwt`` in both directions, for every signature
algorithm both offer, with keys given as PEM, as ``cryptography`` objects and as JWKs."""

from __future__ import annotations

import time
from functools import cache
from types import ModuleType
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

import jwtkit.pyjwt

from .keys import SECRET

NOW = int(time.time())
CLAIMS: dict[str, Any] = {
    "iss": "https://id.example",
    "sub": "user-42",
    "aud": ["api", "other"],
    "iat": NOW - 5,
    "nbf": NOW - 5,
    "exp": NOW + 3600,
    "jti": "c0ffee",
    "scope": "read write",
    "nested": {"list": [1, 2.5, None, True], "text": "é☃"},
}
CURVES = {"ES256": ec.SECP256R1(), "ES256K": ec.SECP256K1(), "ES384": ec.SECP384R1(),
          "ES512": ec.SECP521R1()}  # fmt: skip


@cache
def private_key(algorithm: str) -> Any:
    if algorithm[:2] in {"RS", "PS"}:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm in CURVES:
        return ec.generate_private_key(CURVES[algorithm])
    if algorithm == "EdDSA448":
        return ed448.Ed448PrivateKey.generate()
    return ed25519.Ed25519PrivateKey.generate()


ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES256K", "ES384",
              "ES512", "EdDSA", "EdDSA448"]  # fmt: skip
DIRECTIONS = [(pyjwt, jwtkit.pyjwt), (jwtkit.pyjwt, pyjwt)]
DIRECTION_IDS = ["PyJWT-to-jwtkit", "jwtkit-to-PyJWT"]


@pytest.mark.parametrize(("signer", "verifier"), DIRECTIONS, ids=DIRECTION_IDS)
@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_hmac_tokens_cross(signer: ModuleType, verifier: ModuleType, algorithm: str) -> None:
    token = signer.encode(CLAIMS, SECRET, algorithm=algorithm, headers={"kid": "s1"})
    decoded = verifier.decode_complete(token, SECRET.encode(), algorithms=[algorithm],
                                       audience="api", issuer="https://id.example")  # fmt: skip
    assert decoded["payload"] == CLAIMS
    assert decoded["header"] == {"alg": algorithm, "typ": "JWT", "kid": "s1"}


@pytest.mark.parametrize(("signer", "verifier"), DIRECTIONS, ids=DIRECTION_IDS)
@pytest.mark.parametrize("algorithm", ASYMMETRIC)
@pytest.mark.parametrize("form", ["pem", "object"])
def test_asymmetric_tokens_cross(
    signer: ModuleType, verifier: ModuleType, algorithm: str, form: str
) -> None:
    key = private_key(algorithm)
    name = "EdDSA" if algorithm == "EdDSA448" else algorithm
    signing: Any = key
    verifying: Any = key.public_key()
    if form == "pem":
        signing = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())  # fmt: skip
        verifying = verifying.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    token = signer.encode(CLAIMS, signing, algorithm=name)
    claims = verifier.decode(token, verifying, algorithms=[name], audience="api")
    assert claims == CLAIMS
    with pytest.raises(verifier.InvalidSignatureError):
        verifier.decode(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
                        verifying, algorithms=[name], audience="api")  # fmt: skip


@pytest.mark.parametrize(("signer", "verifier"), DIRECTIONS, ids=DIRECTION_IDS)
def test_a_jwk_made_by_one_verifies_in_the_other(signer: ModuleType, verifier: ModuleType) -> None:
    key = private_key("ES256")
    jwk = signer.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.pop("key_ops", None)
    token = signer.encode(CLAIMS, key, algorithm="ES256", headers={"kid": "e1"})
    verifying = verifier.PyJWK({**jwk, "kid": "e1"})
    assert verifier.decode(token, verifying, audience="api") == CLAIMS
    keyset = verifier.PyJWKSet.from_dict({"keys": [{**jwk, "kid": "e1"}]})
    assert verifier.decode(token, keyset["e1"], audience="api") == CLAIMS


def test_an_expired_token_from_pyjwt_is_expired_in_jwtkit() -> None:
    token = pyjwt.encode({**CLAIMS, "exp": NOW - 3600}, SECRET, algorithm="HS256")
    with pytest.raises(pyjwt.ExpiredSignatureError):
        pyjwt.decode(token, SECRET, algorithms=["HS256"], audience="api")
    with pytest.raises(jwtkit.pyjwt.ExpiredSignatureError):
        jwtkit.pyjwt.decode(token, SECRET, algorithms=["HS256"], audience="api")
