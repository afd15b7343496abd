# ruff: noqa: N802
"""Nested (signed, then encrypted) and unsigned encrypted JWTs: RFC 7519 §5.2, §7.2, §11.2,
RFC 8725 §3.3 and §3.11, security matrix A6 (a JWE is never accepted where a JWS is expected,
and vice versa), with the RFC 7519 A.1/A.2 and RFC 7520 §6 vectors."""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from typing import Any

import pytest

import jwtkit
from jwtkit import DecryptionError, Key, MalformedToken, UsageError, jwa
from jwtkit.testing import FrozenClock
from vectors import load_cookbook, load_rfc_cases

PAIRS = [
    ("RSA-OAEP-256", "A256GCM"),
    ("ECDH-ES+A256KW", "A256GCM"),
    ("ECDH-ES", "A128CBC-HS256"),
    ("A256KW", "A256CBC-HS512"),
    ("dir", "A256GCM"),
]


@pytest.fixture(scope="module")
def signer() -> Key:
    return Key.generate("ES256", kid="sig")


def _recipient(alg: str, enc: str) -> tuple[Key, Key]:
    """(key to encrypt to, key to decrypt with) for ``alg``."""
    secret: Key
    if alg == "dir":
        secret = jwtkit.OctKey.generate(256)
        return secret, secret
    if alg.startswith("A"):
        secret = Key.generate(alg)
        return secret, secret
    private = Key.generate(alg, kid="enc")
    return private.public_key(), private


@pytest.mark.parametrize(("alg", "enc"), PAIRS)
def test_sign_then_encrypt_round_trip(signer: Key, alg: str, enc: str) -> None:
    to, decrypt_with = _recipient(alg, enc)
    token = jwtkit.encode(
        {"sub": "1"},
        signer,
        encrypt_with=to,
        encryption_algorithm=alg,
        content_encryption=enc,
    )
    assert token.count(".") == 4
    decoded = jwtkit.decode_complete(
        token,
        signer.public_key(),
        algorithms=["ES256"],
        decryption_key=decrypt_with,
        decryption_algorithms=[alg],
        content_encryptions=[enc],
    )
    assert decoded.claims == {"sub": "1"}
    assert decoded.header["alg"] == "ES256"
    assert decoded.encryption_header is not None
    assert decoded.encryption_header["cty"] == "JWT"
    assert decoded.encryption_header["enc"] == enc
    assert decoded.key == signer.public_key()


def test_verifier_decrypts_then_verifies_with_the_callers_keys(signer: Key) -> None:
    recipient = Key.generate("RSA-OAEP-256")
    clock = FrozenClock(1_800_000_000)
    verifier = jwtkit.Verifier(
        signer.public_key(),
        algorithms=["ES256"],
        audience="api",
        clock=clock,
        decryption_key=recipient,
        decryption_algorithms=["RSA-OAEP-256"],
        content_encryptions=["A256GCM"],
    )
    token = jwtkit.encode(
        {"sub": "1", "aud": "api"},
        signer,
        expires_in=60,
        now=clock(),
        encrypt_with=recipient.public_key(),
    )
    assert verifier.decode(token) == {"sub": "1", "aud": "api", "iat": 1_800_000_000,
                                      "exp": 1_800_000_060}  # fmt: skip
    clock.advance(61)
    with pytest.raises(jwtkit.ExpiredToken):
        verifier.decode(token)
    # The inner JWS is verified with the caller's keys only: another signer is refused.
    forged = jwtkit.encode(
        {"sub": "1", "aud": "api"}, Key.generate("ES256"), encrypt_with=recipient.public_key()
    )
    with pytest.raises(jwtkit.InvalidSignature):
        verifier.decode(forged, now=1_800_000_000)


def test_A6_a_signed_jwt_is_refused_where_an_encrypted_one_is_expected(signer: Key) -> None:
    recipient = Key.generate("RSA-OAEP-256")
    with pytest.raises(MalformedToken, match="encrypted JWT was expected"):
        jwtkit.decode(
            jwtkit.encode({"sub": "1"}, signer),
            signer.public_key(),
            algorithms=["ES256"],
            decryption_key=recipient,
            decryption_algorithms=["RSA-OAEP-256"],
            content_encryptions=["A256GCM"],
        )
    with pytest.raises(MalformedToken, match="encrypted JWT was expected"):
        jwtkit.decode(
            jwtkit.encode({"sub": "1"}, signer).encode(),
            signer.public_key(),
            algorithms=["ES256"],
            decryption_key=recipient,
            decryption_algorithms=["RSA-OAEP-256"],
            content_encryptions=["A256GCM"],
        )


def test_A6_an_encrypted_jwt_is_refused_without_a_decryption_key(signer: Key) -> None:
    recipient = Key.generate("RSA-OAEP-256")
    token = jwtkit.encode({"sub": "1"}, signer, encrypt_with=recipient.public_key())
    with pytest.raises(MalformedToken, match="JWE"):
        jwtkit.decode(token, signer.public_key(), algorithms=["ES256"])
    with pytest.raises(MalformedToken):
        jwtkit.jws.verify(token, signer.public_key(), algorithms=["ES256"])


def test_unsigned_encrypted_jwts_only_by_explicit_opt_in(signer: Key) -> None:
    recipient = Key.generate("ECDH-ES+A256KW")
    with pytest.raises(UsageError, match="allow_unsigned"):
        jwtkit.encode({"sub": "1"}, None, encrypt_with=recipient.public_key())
    with pytest.raises(UsageError, match="encrypted JWTs only"):
        jwtkit.encode({"sub": "1"}, signer, allow_unsigned=True)
    token = jwtkit.encode(
        {"sub": "1"},
        None,
        encrypt_with=recipient.public_key(),
        allow_unsigned=True,
        expires_in=60,
        now=1_800_000_000,
    )
    options: dict[str, Any] = {
        "decryption_key": recipient,
        "decryption_algorithms": ["ECDH-ES+A256KW"],
        "content_encryptions": ["A256GCM"],
    }
    with pytest.raises(MalformedToken, match="allow_unsigned=True"):
        jwtkit.decode(token, signer.public_key(), algorithms=["ES256"], **options)
    decoded = jwtkit.decode_complete(
        token, None, allow_unsigned=True, typ="JWT", now=1_800_000_001, **options
    )
    assert decoded.claims["sub"] == "1"
    assert decoded.algorithm is None
    assert decoded.key is None
    assert decoded.encryption_header is not None
    assert decoded.encryption_header["typ"] == "JWT"
    with pytest.raises(jwtkit.InvalidType):
        jwtkit.decode(token, None, allow_unsigned=True, typ="at+jwt", now=1_800_000_001, **options)
    with pytest.raises(jwtkit.ExpiredToken):
        jwtkit.decode(token, None, allow_unsigned=True, now=1_800_000_061, **options)
    # A signed token inside is still verified when allow_unsigned is given.
    nested = jwtkit.encode({"sub": "2"}, signer, encrypt_with=recipient.public_key())
    with pytest.raises(jwtkit.AlgorithmNotAllowed):
        jwtkit.decode(nested, None, allow_unsigned=True, **options)


def test_decryption_arguments_are_checked(signer: Key) -> None:
    recipient = Key.generate("RSA-OAEP-256")
    with pytest.raises(UsageError, match="need a decryption_key"):
        jwtkit.Verifier(signer.public_key(), algorithms=["ES256"], allow_unsigned=True)
    with pytest.raises(UsageError, match="allow-lists"):
        jwtkit.Verifier(signer.public_key(), algorithms=["ES256"], decryption_key=recipient)
    with pytest.raises(UsageError, match="not strings"):
        jwtkit.Verifier(
            signer.public_key(),
            algorithms=["ES256"],
            decryption_key=recipient,
            decryption_algorithms="RSA-OAEP-256",
            content_encryptions=["A256GCM"],
        )
    with pytest.raises(UsageError, match="encryption_algorithm is required"):
        jwtkit.encode({"sub": "1"}, signer, encrypt_with=jwtkit.OctKey.generate(256))
    wrong = Key.generate("RSA-OAEP-256")
    token = jwtkit.encode({"sub": "1"}, signer, encrypt_with=recipient.public_key())
    with pytest.raises(DecryptionError):
        jwtkit.decode(
            token,
            signer.public_key(),
            algorithms=["ES256"],
            decryption_key=wrong,
            decryption_algorithms=["RSA-OAEP-256"],
            content_encryptions=["A256GCM"],
        )


def test_a_non_jwt_plaintext_marked_cty_jwt_is_malformed(signer: Key) -> None:
    recipient = Key.generate("RSA-OAEP-256")
    token = jwtkit.jwe.encrypt(
        "é".encode(),
        recipient.public_key(),
        algorithm="RSA-OAEP-256",
        encryption="A256GCM",
        headers={"cty": "JWT"},
    )
    with pytest.raises(MalformedToken, match="not a compact JWT"):
        jwtkit.decode(
            token,
            signer.public_key(),
            algorithms=["ES256"],
            decryption_key=recipient,
            decryption_algorithms=["RSA-OAEP-256"],
            content_encryptions=["A256GCM"],
        )


class _AsyncProvider:
    def __init__(self, keys: jwtkit.KeySet) -> None:
        self.keys = keys

    async def keyset_for_async(self, header: Mapping[str, Any]) -> jwtkit.KeySet:
        return self.keys


@pytest.mark.anyio
async def test_adecode_unwraps_nested_jwts(signer: Key) -> None:
    recipient = Key.generate("RSA-OAEP-256")
    verifier = jwtkit.Verifier(
        _AsyncProvider(jwtkit.KeySet([signer.public_key()])),
        algorithms=["ES256"],
        decryption_key=recipient,
        decryption_algorithms=["RSA-OAEP-256"],
        content_encryptions=["A256GCM"],
    )
    token = jwtkit.encode({"sub": "1"}, signer, encrypt_with=recipient.public_key())
    assert await verifier.adecode(token) == {"sub": "1"}
    unsigned = jwtkit.encode(
        {"sub": "2"}, None, encrypt_with=recipient.public_key(), allow_unsigned=True
    )
    unsigned_verifier = jwtkit.Verifier(
        None,
        decryption_key=recipient,
        decryption_algorithms=["RSA-OAEP-256"],
        content_encryptions=["A256GCM"],
        allow_unsigned=True,
    )
    assert (await unsigned_verifier.adecode_complete(unsigned)).claims == {"sub": "2"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _legacy_registry() -> jwa.Registry:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwa.InsecureAlgorithmWarning)
        return jwa.DEFAULT_REGISTRY.including(jwa.RSA1_5)


def test_rfc7519_a1_unsigned_encrypted_jwt() -> None:
    case = next(c for c in load_rfc_cases("rfc7519.json") if c["id"] == "A.1")
    key = Key.from_jwk(case["key"])
    options: dict[str, Any] = {
        "decryption_key": key,
        "decryption_algorithms": [case["alg"]],
        "content_encryptions": [case["enc"]],
    }
    # RSA1_5 is opt-in: refused by default.
    with pytest.raises(UsageError, match="RSA1_5"):
        jwtkit.decode(case["token"], None, allow_unsigned=True, now=case["now"], **options)
    claims = jwtkit.decode(
        case["token"],
        None,
        allow_unsigned=True,
        now=case["now"],
        registry=_legacy_registry(),
        **options,
    )
    assert claims == json.loads(case["expected"]["plaintext"])


def test_rfc7519_a2_nested_jwt() -> None:
    case = next(c for c in load_rfc_cases("rfc7519.json") if c["id"] == "A.2")
    decoded = jwtkit.decode_complete(
        case["token"],
        Key.from_jwk(case["inner_key"]),
        algorithms=["RS256"],
        now=case["now"],
        registry=_legacy_registry(),
        decryption_key=Key.from_jwk(case["key"]),
        decryption_algorithms=[case["alg"]],
        content_encryptions=[case["enc"]],
    )
    assert decoded.header["alg"] == "RS256"
    assert decoded.claims["iss"] == "joe"
    assert decoded.encryption_header is not None
    assert decoded.encryption_header["cty"] == "JWT"


def test_rfc7520_section_6_nesting_signatures_and_encryption() -> None:
    case = load_cookbook("6.nesting_signatures_and_encryption.json")
    sign, encrypt = case["sign"], case["encrypt"]
    claims = jwtkit.decode(
        encrypt["output"]["compact"],
        Key.from_jwk(sign["input"]["key"]).public_key(),
        algorithms=[sign["input"]["alg"]],
        now=1300819379,
        decryption_key=Key.from_jwk(encrypt["input"]["key"]),
        decryption_algorithms=[encrypt["input"]["alg"]],
        content_encryptions=[encrypt["input"]["enc"]],
    )
    assert claims == json.loads(sign["input"]["payload"])


def test_unsigned_encrypted_jwt_argument_checks() -> None:
    recipient = Key.generate("ECDH-ES+A256KW")
    with pytest.raises(UsageError, match="mapping"):
        jwtkit.encode(
            ["not", "claims"],  # type: ignore[arg-type]
            None,
            encrypt_with=recipient.public_key(),
            allow_unsigned=True,
        )
    token = jwtkit.encode(
        {"sub": "1"}, None, encrypt_with=recipient.public_key(), allow_unsigned=True, typ=None
    )
    decoded = jwtkit.decode_complete(
        token,
        None,
        decryption_key=recipient,
        decryption_algorithms=["ECDH-ES+A256KW"],
        content_encryptions=["A256GCM"],
        allow_unsigned=True,
    )
    assert decoded.encryption_header is not None
    assert "typ" not in decoded.encryption_header
