"""PyJWT's documented usage (usage.rst, api.rst, algorithms.rst), run with PyJWT itself and
with ``jwtkit.pyjwt``: the same calls give the same results and raise the same exceptions,
caught by their PyJWT names.

Each test takes ``jwt``, the module under test, as PyJWT's users import it. Secrets are long
enough for both libraries (PyJWT only warns about short ones; jwtkit refuses them, see
``test_strictness.py``). Time claims are set far enough from now that no test needs to wait.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
import uuid
from datetime import datetime, timedelta, timezone
from types import ModuleType
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization

import jwtkit.pyjwt
from jwtkit.jwa import InsecureAlgorithmWarning

from .keys import PASSPHRASE, SECRET, ec_pair, ed25519_pair, encrypted_rsa_pem, rsa_pair

LIBRARIES = {"PyJWT": pyjwt, "jwtkit.pyjwt": jwtkit.pyjwt}


@pytest.fixture(params=sorted(LIBRARIES))
def jwt(request: pytest.FixtureRequest) -> ModuleType:
    module: ModuleType = LIBRARIES[request.param]
    return module


def unverified(jwt: ModuleType) -> contextlib.AbstractContextManager[Any]:
    """jwtkit.pyjwt warns when the signature check is switched off; PyJWT does not."""
    if jwt is jwtkit.pyjwt:
        return pytest.warns(InsecureAlgorithmWarning, match="verify_signature")
    return contextlib.nullcontext()


def now() -> int:
    return int(time.time())


# -- encoding and decoding with each kind of key --------------------------------------------


def test_hs256_round_trip_gives_the_same_token_in_both(jwt: ModuleType) -> None:
    encoded = jwt.encode({"some": "payload"}, SECRET, algorithm="HS256")
    assert encoded == pyjwt.encode({"some": "payload"}, SECRET, algorithm="HS256")
    assert jwt.decode(encoded, SECRET, algorithms=["HS256"]) == {"some": "payload"}


def test_hs256_is_the_default_algorithm(jwt: ModuleType) -> None:
    encoded = jwt.encode({"some": "payload"}, SECRET)
    assert jwt.get_unverified_header(encoded)["alg"] == "HS256"


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_hmac_algorithms(jwt: ModuleType, algorithm: str) -> None:
    encoded = jwt.encode({"some": "payload"}, SECRET, algorithm=algorithm)
    assert encoded == pyjwt.encode({"some": "payload"}, SECRET, algorithm=algorithm)
    assert jwt.decode(encoded, SECRET, algorithms=[algorithm]) == {"some": "payload"}


@pytest.mark.parametrize(
    ("algorithm", "pair", "as_text"),
    [
        ("RS256", rsa_pair, False),
        ("PS256", rsa_pair, True),
        ("ES256", ec_pair, False),
        ("EdDSA", ed25519_pair, True),
    ],
)
def test_pem_keys_sign_and_verify(
    jwt: ModuleType, algorithm: str, pair: Any, as_text: bool
) -> None:
    private, public = pair().private, pair().public
    if as_text:
        private, public = private.decode(), public.decode()
    encoded = jwt.encode({"some": "payload"}, private, algorithm=algorithm)
    assert jwt.decode(encoded, public, algorithms=[algorithm]) == {"some": "payload"}
    # and the other library agrees
    other = pyjwt if jwt is jwtkit.pyjwt else jwtkit.pyjwt
    assert other.decode(encoded, public, algorithms=[algorithm]) == {"some": "payload"}


def test_rs256_and_eddsa_tokens_are_identical_in_both(jwt: ModuleType) -> None:
    """Deterministic signatures over the same header and payload are the same bytes."""
    for algorithm, pair in (("RS256", rsa_pair()), ("EdDSA", ed25519_pair())):
        encoded = jwt.encode({"some": "payload"}, pair.private, algorithm=algorithm)
        assert encoded == pyjwt.encode({"some": "payload"}, pair.private, algorithm=algorithm)


def test_a_passphrase_protected_key_is_passed_as_a_cryptography_object(jwt: ModuleType) -> None:
    private_key = serialization.load_pem_private_key(encrypted_rsa_pem(), password=PASSPHRASE)
    encoded = jwt.encode({"some": "payload"}, private_key, algorithm="RS256")
    public_key = private_key.public_key()
    assert jwt.decode(encoded, public_key, algorithms=["RS256"]) == {"some": "payload"}
    # the same objects again: the converted keys are reused
    assert jwt.decode(encoded, public_key, algorithms=["RS256"]) == {"some": "payload"}


def test_a_certificate_public_key_verifies(jwt: ModuleType) -> None:
    """The FAQ: a public key taken from an X.509 certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = ec_pair().key
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer.example")])
    start = datetime.now(tz=timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    encoded = jwt.encode({"some": "payload"}, ec_pair().private, algorithm="ES256")
    public_key = certificate.public_key()
    assert jwt.decode(encoded, public_key, algorithms=["ES256"]) == {"some": "payload"}


# -- headers ---------------------------------------------------------------------------------


def test_additional_headers(jwt: ModuleType) -> None:
    kid = "230498151c214b788dd97f22b85410a5"
    encoded = jwt.encode({"some": "payload"}, SECRET, algorithm="HS256", headers={"kid": kid})
    assert jwt.get_unverified_header(encoded) == {"alg": "HS256", "kid": kid, "typ": "JWT"}


def test_typ_none_leaves_typ_out(jwt: ModuleType) -> None:
    encoded = jwt.encode({"some": "payload"}, SECRET, algorithm="HS256", headers={"typ": None})
    assert jwt.get_unverified_header(encoded) == {"alg": "HS256"}
    assert encoded.startswith("eyJhbGciOiJIUzI1NiJ9.eyJzb21lIjoicGF5bG9hZCJ9.")


def test_alg_in_headers_wins_over_algorithm(jwt: ModuleType) -> None:
    encoded = jwt.encode({"a": 1}, SECRET, algorithm="HS256", headers={"alg": "HS512"})
    assert jwt.get_unverified_header(encoded)["alg"] == "HS512"
    assert jwt.decode(encoded, SECRET, algorithms=["HS512"]) == {"a": 1}


def test_a_custom_json_encoder(jwt: ModuleType) -> None:
    class Encoder(json.JSONEncoder):
        def default(self, o: Any) -> Any:
            if isinstance(o, uuid.UUID):
                return str(o)
            return super().default(o)

    value = uuid.UUID(int=42)
    encoded = jwt.encode({"id": value}, SECRET, algorithm="HS256", json_encoder=Encoder)
    assert jwt.decode(encoded, SECRET, algorithms=["HS256"]) == {"id": str(value)}


# -- reading without verifying ---------------------------------------------------------------


def test_reading_the_claims_without_validation(jwt: ModuleType) -> None:
    encoded = pyjwt.encode({"some": "payload", "exp": now() - 60}, SECRET, algorithm="HS256")
    with unverified(jwt):
        assert jwt.decode(encoded, options={"verify_signature": False}) == {
            "some": "payload",
            "exp": pyjwt.decode(encoded, options={"verify_signature": False})["exp"],
        }


def test_without_the_signature_an_explicit_claim_check_still_applies(jwt: ModuleType) -> None:
    encoded = pyjwt.encode({"exp": now() - 60}, SECRET, algorithm="HS256")
    options = {"verify_signature": False, "verify_exp": True}
    with unverified(jwt), pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(encoded, options=options)


def test_without_the_signature_required_claims_are_still_required(jwt: ModuleType) -> None:
    encoded = pyjwt.encode({"sub": "42"}, SECRET, algorithm="HS256")
    options = {"verify_signature": False, "require": ["exp"]}
    with unverified(jwt), pytest.raises(jwt.MissingRequiredClaimError) as caught:
        jwt.decode(encoded, options=options)
    assert caught.value.claim == "exp"


def test_reading_headers_without_validation(jwt: ModuleType) -> None:
    kid = "230498151c214b788dd97f22b85410a5"
    encoded = pyjwt.encode({"some": "payload"}, SECRET, algorithm="HS256", headers={"kid": kid})
    assert jwt.get_unverified_header(encoded) == {"alg": "HS256", "kid": kid, "typ": "JWT"}


# -- registered claims -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "exp", [1371720939, datetime(2013, 6, 20, 9, 35, 39, tzinfo=timezone.utc)], ids=["int", "dt"]
)
def test_an_expired_token_raises_expired_signature_error(jwt: ModuleType, exp: Any) -> None:
    token = jwt.encode({"exp": exp}, SECRET)
    assert pyjwt.decode(token, options={"verify_signature": False}) == {"exp": 1371720939}
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(token, SECRET, algorithms=["HS256"])


def test_verify_exp_false_accepts_an_expired_token(jwt: ModuleType) -> None:
    token = jwt.encode({"exp": 1371720939}, SECRET)
    options = {"verify_exp": False}
    assert jwt.decode(token, SECRET, algorithms=["HS256"], options=options) == {"exp": 1371720939}


@pytest.mark.parametrize("leeway", [60, timedelta(seconds=60)], ids=["seconds", "timedelta"])
def test_leeway_admits_a_recently_expired_token(jwt: ModuleType, leeway: Any) -> None:
    token = jwt.encode({"exp": datetime.now(tz=timezone.utc) - timedelta(seconds=20)}, SECRET)
    assert jwt.decode(token, SECRET, leeway=leeway, algorithms=["HS256"])
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(token, SECRET, leeway=5, algorithms=["HS256"])


def test_not_before_with_and_without_leeway(jwt: ModuleType) -> None:
    token = jwt.encode({"nbf": datetime.now(tz=timezone.utc) + timedelta(seconds=20)}, SECRET)
    with pytest.raises(jwt.ImmatureSignatureError):
        jwt.decode(token, SECRET, algorithms=["HS256"])
    assert jwt.decode(token, SECRET, leeway=60, algorithms=["HS256"])
    past = jwt.encode({"nbf": 1371720939}, SECRET)
    assert jwt.decode(past, SECRET, algorithms=["HS256"]) == {"nbf": 1371720939}


def test_issued_at_in_the_future_is_immature(jwt: ModuleType) -> None:
    token = jwt.encode({"iat": now() + 600}, SECRET)
    with pytest.raises(jwt.ImmatureSignatureError):
        jwt.decode(token, SECRET, algorithms=["HS256"])
    past = jwt.encode({"iat": datetime(2013, 6, 20, 9, 35, 39, tzinfo=timezone.utc)}, SECRET)
    assert jwt.decode(past, SECRET, algorithms=["HS256"]) == {"iat": 1371720939}


def test_a_non_numeric_iat_is_an_invalid_issued_at_error(jwt: ModuleType) -> None:
    token = jwt.encode({"iat": "yesterday"}, SECRET)
    with pytest.raises(jwt.InvalidIssuedAtError):
        jwt.decode(token, SECRET, algorithms=["HS256"])


def test_issuer(jwt: ModuleType) -> None:
    token = jwt.encode({"some": "payload", "iss": "urn:foo"}, SECRET)
    assert jwt.decode(token, SECRET, issuer="urn:foo", algorithms=["HS256"])["iss"] == "urn:foo"
    assert jwt.decode(token, SECRET, issuer=["urn:bar", "urn:foo"], algorithms=["HS256"])
    with pytest.raises(jwt.InvalidIssuerError):
        jwt.decode(token, SECRET, issuer="urn:invalid", algorithms=["HS256"])
    options = {"verify_iss": False}
    assert jwt.decode(token, SECRET, issuer="urn:x", algorithms=["HS256"], options=options)


def test_audience(jwt: ModuleType) -> None:
    token = jwt.encode({"some": "payload", "aud": ["urn:foo", "urn:bar"]}, SECRET)
    assert jwt.decode(token, SECRET, audience="urn:foo", algorithms=["HS256"])
    assert jwt.decode(token, SECRET, audience="urn:bar", algorithms=["HS256"])
    single = jwt.encode({"some": "payload", "aud": "urn:foo"}, SECRET)
    assert jwt.decode(single, SECRET, audience=["urn:foo", "urn:bar"], algorithms=["HS256"])
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(single, SECRET, audience=["urn:invalid"], algorithms=["HS256"])
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(single, SECRET, algorithms=["HS256"])  # a token for someone: audience needed
    options = {"verify_aud": False}
    assert jwt.decode(single, SECRET, algorithms=["HS256"], options=options)


def test_an_expected_audience_requires_the_claim(jwt: ModuleType) -> None:
    token = jwt.encode({"some": "payload"}, SECRET)
    with pytest.raises(jwt.MissingRequiredClaimError) as caught:
        jwt.decode(token, SECRET, audience="urn:foo", algorithms=["HS256"])
    assert caught.value.claim == "aud"


def test_strict_audience(jwt: ModuleType) -> None:
    options = {"strict_aud": True}
    single = jwt.encode({"aud": "urn:foo"}, SECRET)
    decoded = jwt.decode(single, SECRET, audience="urn:foo", algorithms=["HS256"], options=options)
    assert decoded == {"aud": "urn:foo"}
    listed = jwt.encode({"aud": ["urn:foo"]}, SECRET)
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(listed, SECRET, audience="urn:foo", algorithms=["HS256"], options=options)
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(single, SECRET, audience=["urn:foo"], algorithms=["HS256"], options=options)


def test_subject_and_jwt_id(jwt: ModuleType) -> None:
    jti = str(uuid.uuid4())
    token = jwt.encode({"some": "payload", "sub": "1234567890", "jti": jti}, SECRET)
    decoded = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert (decoded["sub"], decoded["jti"]) == ("1234567890", jti)
    assert jwt.decode(token, SECRET, algorithms=["HS256"], subject="1234567890")
    with pytest.raises(jwt.exceptions.InvalidSubjectError):
        jwt.decode(token, SECRET, algorithms=["HS256"], subject="someone else")
    options = {"verify_sub": False, "verify_jti": False}
    assert jwt.decode(token, SECRET, algorithms=["HS256"], subject="x", options=options)


def test_requiring_presence_of_claims(jwt: ModuleType) -> None:
    token = jwt.encode({"sub": "1234567890", "iat": 1371720939}, SECRET)
    options = {"require": ["exp", "iss", "sub"]}
    with pytest.raises(jwt.MissingRequiredClaimError) as caught:
        jwt.decode(token, SECRET, options=options, algorithms=["HS256"])
    assert caught.value.claim == "exp"
    assert "exp" in str(caught.value)


def test_enforce_minimum_key_length_is_accepted(jwt: ModuleType) -> None:
    token = jwt.encode({"a": 1}, SECRET)
    options = {"enforce_minimum_key_length": True}
    assert jwt.decode(token, SECRET, algorithms=["HS256"], options=options) == {"a": 1}


# -- exceptions ------------------------------------------------------------------------------


def test_a_bad_signature_is_an_invalid_signature_error_and_a_decode_error(jwt: ModuleType) -> None:
    token = jwt.encode({"a": 1}, SECRET)
    for name in ("InvalidSignatureError", "DecodeError", "InvalidTokenError", "PyJWTError"):
        with pytest.raises(getattr(jwt, name)):
            jwt.decode(token, SECRET[::-1], algorithms=["HS256"])


def test_garbage_is_a_decode_error(jwt: ModuleType) -> None:
    with pytest.raises(jwt.DecodeError):
        jwt.decode("not a token", SECRET, algorithms=["HS256"])


def test_an_algorithm_outside_the_list_is_an_invalid_algorithm_error(jwt: ModuleType) -> None:
    token = jwt.encode({"a": 1}, SECRET, algorithm="HS512")
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(token, SECRET, algorithms=["HS256"])


def test_the_exceptions_module_has_pyjwts_names(jwt: ModuleType) -> None:
    import importlib

    ours = importlib.import_module(f"{jwt.__name__}.exceptions")
    for name in pyjwt.exceptions.__dict__:
        if name.endswith("Error"):
            assert issubclass(getattr(ours, name), Exception), name
    assert issubclass(ours.PyJWKClientConnectionError, ours.PyJWKClientError)
    assert issubclass(ours.InvalidSignatureError, ours.DecodeError)
    assert issubclass(ours.ExpiredSignatureError, ours.InvalidTokenError)


# -- OpenID Connect: decode_complete and at_hash ---------------------------------------------


def test_oidc_at_hash(jwt: ModuleType) -> None:
    access_token = "an opaque access token"
    digest = jwt.get_algorithm_by_name("RS256").compute_hash_digest(access_token.encode())
    at_hash = base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()
    claims = {"iss": "https://id.example", "aud": "client-1", "at_hash": at_hash}
    id_token = jwt.encode(claims, rsa_pair().private, algorithm="RS256", headers={"kid": "k1"})
    data = jwt.decode_complete(id_token, key=rsa_pair().public, audience="client-1",
                               algorithms=["RS256"])  # fmt: skip
    payload, header = data["payload"], data["header"]
    alg_obj = jwt.get_algorithm_by_name(header["alg"])
    digest = alg_obj.compute_hash_digest(access_token.encode())
    computed = base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()
    assert computed == payload["at_hash"]
    assert set(data) >= {"header", "payload", "signature"}
    assert isinstance(data["signature"], bytes)
    with pytest.raises(NotImplementedError):
        jwt.get_algorithm_by_name("XS999")


# -- PyJWK, PyJWKSet and the algorithms module -----------------------------------------------


def _public_jwk(kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = pyjwt.algorithms.RSAAlgorithm.to_jwk(
        rsa_pair().key.public_key(), as_dict=True
    )
    jwk.pop("key_ops", None)
    return {**jwk, "kid": kid, "use": "sig"}


def test_pyjwk_from_dict_and_json(jwt: ModuleType) -> None:
    token = jwt.encode({"a": 1}, rsa_pair().private, algorithm="RS256", headers={"kid": "k1"})
    for key in (
        jwt.PyJWK(_public_jwk("k1")),
        jwt.PyJWK.from_dict(_public_jwk("k1")),
        jwt.PyJWK.from_json(json.dumps(_public_jwk("k1"))),
    ):
        assert (key.key_id, key.key_type, key.algorithm_name) == ("k1", "RSA", "RS256")
        assert key.public_key_use == "sig"
        assert key.key.public_numbers() == rsa_pair().key.public_key().public_numbers()
        assert jwt.decode(token, key, algorithms=["RS256"]) == {"a": 1}
        assert jwt.decode(token, key) == {"a": 1}  # a PyJWK's algorithm is the allow-list
        assert jwt.decode(token, key.key, algorithms=["RS256"]) == {"a": 1}


@pytest.mark.parametrize(
    ("pair", "expected"), [(ec_pair, ("EC", "ES256")), (ed25519_pair, ("OKP", "EdDSA"))]
)
def test_pyjwk_infers_the_algorithm(jwt: ModuleType, pair: Any, expected: Any) -> None:
    algorithm_class = "ECAlgorithm" if expected[0] == "EC" else "OKPAlgorithm"
    jwk = getattr(pyjwt.algorithms, algorithm_class).to_jwk(pair().key, as_dict=True)
    jwk.pop("key_ops", None)
    key = jwt.PyJWK(jwk)
    assert (key.key_type, key.algorithm_name) == expected
    assert jwt.PyJWK(jwk, algorithm=expected[1]).algorithm_name == expected[1]
    token = jwt.encode({"a": 1}, key)  # signs with the key's own algorithm
    assert jwt.get_unverified_header(token)["alg"] == expected[1]
    assert jwt.decode(token, key) == {"a": 1}


def test_an_oct_pyjwk_gives_the_secret_bytes(jwt: ModuleType) -> None:
    jwk = {"kty": "oct", "k": base64.urlsafe_b64encode(SECRET.encode()).rstrip(b"=").decode()}
    key = jwt.PyJWK(jwk)
    assert (key.key, key.algorithm_name, key.key_id) == (SECRET.encode(), "HS256", None)
    assert jwt.decode(jwt.encode({"a": 1}, SECRET), key) == {"a": 1}


def test_pyjwk_refuses_a_jwk_without_kty(jwt: ModuleType) -> None:
    with pytest.raises(jwt.InvalidKeyError):
        jwt.PyJWK({"n": "AQAB"})


def test_pyjwkset(jwt: ModuleType) -> None:
    data = {"keys": [_public_jwk("k1"), {**_public_jwk("k2"), "use": "enc"}, {"kty": "XYZ"}]}
    for keyset in (jwt.PyJWKSet.from_dict(data), jwt.PyJWKSet.from_json(json.dumps(data))):
        assert [key.key_id for key in keyset.keys] == ["k1", "k2"]
        assert keyset["k1"].key_id == "k1"
        assert [key.key_id for key in keyset] == ["k1", "k2"]
        with pytest.raises(KeyError):
            keyset["unknown"]


@pytest.mark.parametrize("data", [{"keys": []}, {}, {"keys": [{"kty": "XYZ"}]}])
def test_an_unusable_jwk_set_is_a_pyjwkset_error(jwt: ModuleType, data: Any) -> None:
    with pytest.raises(jwt.PyJWKSetError):
        jwt.PyJWKSet.from_dict(data)
    with pytest.raises(jwt.PyJWKSetError):
        jwt.PyJWKSet.from_json(json.dumps(data))


@pytest.mark.parametrize(
    ("name", "pair"),
    [("RSAAlgorithm", rsa_pair), ("RSAPSSAlgorithm", rsa_pair), ("ECAlgorithm", ec_pair),
     ("OKPAlgorithm", ed25519_pair)],
)  # fmt: skip
def test_algorithm_jwk_conversions(jwt: ModuleType, name: str, pair: Any) -> None:
    algorithm = getattr(jwt.algorithms, name)
    private, public = pair().key, pair().key.public_key()
    private_jwk = algorithm.to_jwk(private)
    public_jwk = algorithm.to_jwk(public, as_dict=True)
    assert isinstance(private_jwk, str)
    assert isinstance(public_jwk, dict)
    loaded_private = algorithm.from_jwk(private_jwk)
    loaded_public = algorithm.from_jwk(public_jwk)
    assert _spki(loaded_private.public_key()) == _spki(public)
    assert _spki(loaded_public) == _spki(public)
    # the other library reads what this one wrote
    other = pyjwt if jwt is jwtkit.pyjwt else jwtkit.pyjwt
    assert _spki(getattr(other.algorithms, name).from_jwk(public_jwk)) == _spki(public)


def test_hmac_algorithm_jwk_conversions(jwt: ModuleType) -> None:
    jwk = jwt.algorithms.HMACAlgorithm.to_jwk(SECRET, as_dict=True)
    assert jwk["kty"] == "oct"
    assert jwt.algorithms.HMACAlgorithm.from_jwk(json.dumps(jwk)) == SECRET.encode()
    assert "SHA256" in dir(jwt.algorithms.HMACAlgorithm)


def test_default_algorithms(jwt: ModuleType) -> None:
    names = set(jwt.algorithms.get_default_algorithms())
    expected = {"HS256", "HS384", "HS512", "RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA"}
    assert expected <= names
    assert jwt.algorithms.has_crypto


def _spki(key: Any) -> bytes:
    spki: bytes = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return spki
