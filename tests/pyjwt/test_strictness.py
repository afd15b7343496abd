"""Where ``jwtkit.pyjwt`` is deliberately stricter than PyJWT: each refusal, its message (why,
and how to opt out), and the opt-out working. PyJWT's own behaviour is shown beside it, so a
change on either side is noticed."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import jwtkit.pyjwt as jwt
from jwtkit import UsageError
from jwtkit.jwa import InsecureAlgorithmWarning

from .keys import SECRET, rsa_pair


def _pyjwt_quietly(call: Callable[[], str]) -> str:
    """A token made by PyJWT, whose warning about the weak key is not the point here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


def _unsigned_token() -> str:
    """A token PyJWT makes with ``alg: none``."""
    no_key: Any = None
    return pyjwt.encode({"a": 1}, no_key, algorithm="none")


@pytest.mark.parametrize("secret", ["secret", "too-short-for-hs256"])
def test_short_or_well_known_secrets_are_refused_until_allow_weak(secret: str) -> None:
    token = _pyjwt_quietly(lambda: pyjwt.encode({"some": "payload"}, secret, algorithm="HS256"))
    with pytest.raises(jwt.InvalidKeyError, match="allow_weak=True"):
        jwt.encode({"some": "payload"}, secret, algorithm="HS256")
    with pytest.raises(jwt.InvalidKeyError, match="allow_weak=True"):
        jwt.decode(token, secret, algorithms=["HS256"])
    assert jwt.encode({"some": "payload"}, secret, algorithm="HS256", allow_weak=True) == token
    assert jwt.decode(token, secret, algorithms=["HS256"], allow_weak=True) == {"some": "payload"}
    assert jwt.decode(token, secret.encode(), algorithms=["HS256"], allow_weak=True)


def test_a_short_secret_is_named_with_its_reason() -> None:
    with pytest.raises(jwt.InvalidKeyError, match=r"shorter than the 256-bit hash.*RFC 7518"):
        jwt.encode({"a": 1}, "too-short-for-hs256", algorithm="HS256")
    with pytest.raises(jwt.InvalidKeyError, match="well-known example value"):
        jwt.encode({"a": 1}, "secret", algorithm="HS256")


def test_algorithms_as_a_string_is_refused_with_the_reason() -> None:
    token = jwt.encode({"a": 1}, SECRET)
    assert pyjwt.decode(token, SECRET, algorithms="HS256") == {"a": 1}
    with pytest.raises(UsageError, match=r"a list of names, e.g. \['HS256'\].*substrings"):
        jwt.decode(token, SECRET, algorithms="HS256")
    assert jwt.decode(token, SECRET, algorithms=["HS256"]) == {"a": 1}


def test_missing_algorithms_is_refused_with_the_reason() -> None:
    token = jwt.encode({"a": 1}, SECRET)
    with pytest.raises(pyjwt.DecodeError, match="algorithms"):
        pyjwt.decode(token, SECRET)
    with pytest.raises(jwt.DecodeError, match=r"algorithms is required.*RFC 8725 §3.1"):
        jwt.decode(token, SECRET)


@pytest.mark.parametrize("algorithm", ["none", None])
def test_encoding_with_none_is_refused_and_names_the_way_out(algorithm: str | None) -> None:
    no_key: Any = None
    assert pyjwt.encode({"a": 1}, no_key, algorithm=algorithm).endswith(".")
    with pytest.raises(UsageError, match=r"unsigned.*RFC 8725 §3.1.*DEFAULT_REGISTRY.including"):
        jwt.encode({"a": 1}, None, algorithm=algorithm)


@pytest.mark.parametrize("names", [["none"], ["HS256", "NONE"], ("none",)])
def test_decoding_with_none_is_refused_and_names_the_way_out(names: list[str]) -> None:
    token = _unsigned_token()
    with pytest.raises(UsageError, match=r"never accepts it.*verify_signature"):
        jwt.decode(token, None, algorithms=names)


def test_skipping_the_signature_warns_and_still_reads_the_token() -> None:
    token = _unsigned_token()
    with pytest.raises(InsecureAlgorithmWarning, match="without checking its signature"):
        jwt.decode(token, options={"verify_signature": False})
    with pytest.warns(InsecureAlgorithmWarning):
        data = jwt.decode_complete(token, options={"verify_signature": False})
    assert data["payload"] == {"a": 1}
    assert data["header"] == {"alg": "none", "typ": "JWT"}


def test_a_public_key_is_never_an_hmac_secret() -> None:
    """PyJWT refuses this too (CVE-2022-29217); with jwtkit even allow_weak does not help."""
    token = jwt.encode({"a": 1}, SECRET)
    with pytest.raises(pyjwt.InvalidKeyError):
        pyjwt.decode(token, rsa_pair().public, algorithms=["HS256"])
    with pytest.raises(jwt.InvalidKeyError, match="does not fit HS256"):
        jwt.decode(token, rsa_pair().public, algorithms=["HS256"], allow_weak=True)


def test_a_small_rsa_key_verifies_only_with_allow_weak() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - weak on purpose
    public_pem = small.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    token = _pyjwt_quietly(lambda: pyjwt.encode({"a": 1}, small, algorithm="RS256"))
    with pytest.raises(jwt.InvalidKeyError, match="allow_weak"):
        jwt.decode(token, public_pem, algorithms=["RS256"])
    assert jwt.decode(token, public_pem, algorithms=["RS256"], allow_weak=True) == {"a": 1}
    assert jwt.decode(token, small.public_key(), algorithms=["RS256"], allow_weak=True)
    with pytest.raises(jwt.InvalidKeyError):
        jwt.encode({"a": 1}, small, algorithm="RS256", allow_weak=True)  # never for signing


def test_a_padded_or_duplicated_token_is_a_decode_error() -> None:
    token = jwt.encode({"a": 1}, SECRET)
    header, payload, signature = token.split(".")
    with pytest.raises(jwt.DecodeError):
        jwt.decode(f"{header}.{payload}=.{signature}", SECRET, algorithms=["HS256"])


def test_a_string_exp_is_rejected_not_read_as_a_number() -> None:
    token = jwt.encode({"exp": "1371720939"}, SECRET)
    with pytest.raises(pyjwt.ExpiredSignatureError):  # PyJWT reads the string as a number
        pyjwt.decode(token, SECRET, algorithms=["HS256"])
    with pytest.raises(jwt.InvalidTokenError, match="NumericDate"):
        jwt.decode(token, SECRET, algorithms=["HS256"])


def test_unsupported_arguments_say_so() -> None:
    token = jwt.encode({"a": 1}, SECRET)
    with pytest.raises(UsageError, match="detached_payload is not supported"):
        jwt.decode(token, SECRET, algorithms=["HS256"], detached_payload=b"x")
    with pytest.raises(UsageError, match="unknown option"):
        jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_everything": True})
    with pytest.raises(UsageError, match="verify_exp must be True or False"):
        jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": "no"})
    # PyJWT 2 ignores the old verify argument; so does the drop-in
    assert jwt.decode(token, SECRET, algorithms=["HS256"], verify=True) == {"a": 1}
    assert jwt.decode_complete(token, SECRET, ["HS256"], None, True)["payload"] == {"a": 1}


def test_sort_headers_is_accepted() -> None:
    token = jwt.encode({"a": 1}, SECRET, headers={"kid": "k"}, sort_headers=False)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT", "kid": "k"}


def test_a_jwtkit_key_signs_with_its_own_algorithm() -> None:
    import jwtkit

    key = jwtkit.Key.generate("ES256", kid="k1")
    token = jwt.encode({"a": 1}, key)
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "typ": "JWT", "kid": "k1"}
    assert jwt.decode(token, key.public_key()) == {"a": 1}
