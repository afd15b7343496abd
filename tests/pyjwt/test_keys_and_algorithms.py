"""What only the drop-in has to say about keys: PyJWK, PyJWKSet and the algorithm objects
over jwtkit keys, and their refusals (each a PyJWT name over a jwtkit error)."""

from __future__ import annotations

import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519

import jwtkit
import jwtkit.pyjwt as jwt
from jwtkit.pyjwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from .keys import SECRET, ec_pair, rsa_pair


def _okp_x25519_jwk() -> dict[str, str]:
    return jwtkit.Key.from_cryptography(x25519.X25519PrivateKey.generate().public_key()).to_jwk()


def test_a_jwk_set_is_a_key_for_decode() -> None:
    rsa_key = jwtkit.Key.generate("RS256", kid="r1")
    keyset = jwt.PyJWKSet.from_dict({"keys": [rsa_key.public_key().to_jwk(), _okp_x25519_jwk()]})
    assert len(keyset) == 1
    assert keyset.jwtkit_keyset[0] == rsa_key.public_key()
    assert keyset.skipped == (
        "kid null: JWK: no signature algorithm for kty 'OKP' with crv 'X25519'",
    )
    token = jwt.encode({"a": 1}, rsa_key)
    assert jwt.decode(token, keyset, algorithms=["RS256"]) == {"a": 1}
    assert repr(keyset["r1"]).startswith("PyJWK(<RSAKey ")
    assert "algorithm='RS256'" in repr(keyset["r1"])


def test_pyjwk_refusals() -> None:
    with pytest.raises(jwt.PyJWKError, match="expected a dict"):
        jwt.PyJWK(json.dumps(rsa_pair().public.decode()))  # type: ignore[arg-type]
    with pytest.raises(jwt.PyJWKError, match="no signature algorithm for kty 'OKP'"):
        jwt.PyJWK(_okp_x25519_jwk())
    public = jwtkit.Key.from_pem(rsa_pair().public).to_jwk()
    with pytest.raises(jwt.PyJWKError, match="'HS999' is not a supported signature algorithm"):
        jwt.PyJWK(public, algorithm="HS999")
    with pytest.raises(jwt.PyJWKError, match="a RSA key cannot be used with ES256"):
        jwt.PyJWK(public, algorithm="ES256")


def test_the_algorithm_classes_check_the_key_type() -> None:
    ec_jwk = jwtkit.Key.from_pem(ec_pair().public).to_jwk()
    with pytest.raises(jwt.InvalidKeyError, match="expected kty 'RSA', got 'EC'"):
        RSAAlgorithm.from_jwk(ec_jwk)
    with pytest.raises(jwt.InvalidKeyError, match=r"RSAAlgorithm\.to_jwk: expected a RSA key"):
        RSAAlgorithm.to_jwk(ec_pair().key)
    assert ECAlgorithm.from_jwk(json.dumps(ec_jwk)).curve.name == "secp256r1"


def test_hash_digests() -> None:
    algorithm = jwt.get_algorithm_by_name("ES384")
    assert algorithm.compute_hash_digest("text") == hashlib.sha384(b"text").digest()
    assert jwt.algorithms.get_default_algorithms()["HS512"].compute_hash_digest(b"x") == (
        hashlib.sha512(b"x").digest()
    )
    with pytest.raises(NotImplementedError):
        OKPAlgorithm().compute_hash_digest(b"x")


def test_an_hmac_jwk_refuses_what_is_not_a_secret() -> None:
    with pytest.raises(jwt.InvalidKeyError):
        jwt.algorithms.HMACAlgorithm.to_jwk(rsa_pair().public)
    assert jwt.algorithms.HMACAlgorithm.to_jwk(SECRET.encode()).startswith("{")


def test_the_new_errors_have_stable_codes() -> None:
    assert jwt.PyJWKClientError.code == "pyjwk_client_error"
    assert jwt.PyJWKClientConnectionError.code == "pyjwk_client_connection_error"
    assert issubclass(jwt.PyJWKClientError, jwtkit.JWTError)
    assert jwt.InvalidIssuedAtError is jwtkit.ClaimError
    assert jwt.PyJWKSetError is jwt.PyJWKError is jwtkit.InvalidKey


def test_key_errors_do_not_show_the_secret() -> None:
    secret = "Zq8rW2xT5vB9nM3kL7pJ4hG6fD1sA0cEiUoYyXwVtRbNm"
    jwk = jwt.algorithms.HMACAlgorithm.to_jwk(secret, as_dict=True)
    with pytest.raises(jwt.PyJWKError) as caught:
        jwt.PyJWK(jwk, algorithm="ES256")
    assert jwk["k"] not in str(caught.value)
    assert secret not in str(caught.value)
    assert secret not in repr(jwt.PyJWK(jwk))


def test_ml_dsa_has_no_pyjwt_algorithm_class() -> None:
    """PyJWT has no algorithm class for ML-DSA (RFC 9964); jwtkit does not invent one."""
    assert not any(name.startswith("ML-DSA") for name in jwt.algorithms.get_default_algorithms())
    with pytest.raises(NotImplementedError, match="ML-DSA-65"):
        jwt.get_algorithm_by_name("ML-DSA-65")
