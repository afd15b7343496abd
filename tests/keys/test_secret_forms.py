"""Attack finding 5: public-key forms that still became HMAC secrets (security matrix A2).

JWK text after a UTF-8 BOM, a JSON array of JWKs and hex-encoded DER were accepted as
``OctKey`` secrets, and an HS256 token forged with the BOM form verified. Each form below, and
its near variants, must be refused whatever the caller says (``allow_weak`` included).
"""

# ruff: noqa: N802 - the test names carry the row name (A2) in upper case

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from jwtkit import jwt
from jwtkit._codec import b64url_encode
from jwtkit.errors import InvalidKey
from jwtkit.jwk import Key, OctKey

BOM = b"\xef\xbb\xbf"


def _refused(secret: bytes) -> None:
    """Refused as bytes, as text, with allow_weak and inside an oct JWK."""
    with pytest.raises(InvalidKey, match="must never be used as a symmetric secret"):
        OctKey(secret)
    with pytest.raises(InvalidKey, match="must never be used as a symmetric secret"):
        OctKey(secret, allow_weak=True)
    with pytest.raises(InvalidKey, match="must never be used as a symmetric secret"):
        Key.from_jwk({"kty": "oct", "k": b64url_encode(secret)}, allow_weak=True)
    try:
        text = secret.decode("utf-8")
    except UnicodeDecodeError:
        return
    with pytest.raises(InvalidKey, match="must never be used as a symmetric secret"):
        OctKey(text)


def _public_jwk_text() -> bytes:
    return json.dumps(Key.generate("ES256", kid="k").public_key().to_jwk()).encode()


def _spki_der(private: rsa.RSAPrivateKey) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _pem(private: rsa.RSAPrivateKey) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# -- a UTF-8 BOM (and whitespace) before any key form -----------------------------------------

_PREFIXES = [BOM, BOM + b" ", b" " + BOM, BOM + b"\r\n", BOM + BOM, b"\t" + BOM + b"\n "]


@pytest.mark.parametrize("prefix", _PREFIXES, ids=repr)
def test_A2_jwk_text_after_a_bom_is_refused(prefix: bytes) -> None:
    jwk_text = _public_jwk_text()
    _refused(prefix + jwk_text)
    _refused(prefix + jwk_text + b"\n")
    _refused(prefix + b'{"keys": [' + jwk_text + b"]}")


@pytest.mark.parametrize("prefix", _PREFIXES, ids=repr)
def test_A2_pem_ssh_and_der_after_a_bom_are_refused(
    prefix: bytes, rsa_private: rsa.RSAPrivateKey
) -> None:
    spki = _spki_der(rsa_private)
    _refused(prefix + _pem(rsa_private))
    _refused(
        prefix
        + rsa_private.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
    )
    _refused(prefix + base64.b64encode(spki))
    _refused(prefix + base64.encodebytes(spki))
    _refused(prefix + spki)
    _refused(spki + b"\n" + BOM)


def test_A2_utf16_encoded_key_text_is_refused(rsa_private: rsa.RSAPrivateKey) -> None:
    for text in (_public_jwk_text(), _pem(rsa_private)):
        for encoding in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
            _refused(text.decode().encode(encoding))


# -- a JSON array holding JWKs ----------------------------------------------------------------


def test_A2_json_array_of_jwks_is_refused() -> None:
    one, two = _public_jwk_text(), _public_jwk_text()
    _refused(b"[" + one + b"]")
    _refused(b"[" + one + b", " + two + b"]")
    _refused(b" [\n  " + one + b"\n]\n")
    _refused(BOM + b"[" + one + b"]")
    _refused(b'["padding", 1, ' + one + b"]")
    _refused(b"[[" + one + b"]]")
    _refused(b'{"jwks": {"keys": [' + one + b"]}}")
    _refused(b'[{"keys": [' + one + b"]}]")


def test_A2_json_that_holds_no_key_is_still_a_secret() -> None:
    for secret in (
        b'["not", "a", "key", "0123456789abcdef0123456789"]',
        b'[{"name": "value"}, {"padding": "0123456789abcdef"}]',
        b"[this is not json, 0123456789abcdef0123456789]",
    ):
        assert OctKey(secret).secret == secret


# -- hex-encoded DER ---------------------------------------------------------------------------


def _hex_variants(der: bytes) -> list[bytes]:
    lower = der.hex().encode()
    upper = lower.upper()
    wrapped = b"\n".join(lower[i : i + 64] for i in range(0, len(lower), 64))
    return [
        lower,
        upper,
        b"  " + upper + b"\r\n",
        wrapped,
        BOM + lower,
        b"0x" + lower,
        der.hex(":").encode(),
        der.hex(" ").upper().encode(),
    ]


def test_A2_hex_encoded_der_is_refused(
    rsa_private: rsa.RSAPrivateKey, rsa_certificate: x509.Certificate
) -> None:
    public = rsa_private.public_key()
    for der in (
        _spki_der(rsa_private),
        public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1),
        rsa_certificate.public_bytes(serialization.Encoding.DER),
        base64.b64decode(Key.generate("EdDSA").public_key().to_pem().split(b"\n")[1]),
    ):
        for variant in _hex_variants(der):
            _refused(variant)


def test_A2_hex_that_is_no_key_is_still_a_secret() -> None:
    for secret in (
        bytes(range(32)).hex().encode(),
        hashlib.sha256(b"x").hexdigest().encode(),
        hashlib.sha512(b"x").hexdigest().upper().encode(),
        b"30" * 40,  # starts like a DER SEQUENCE, is none
        b"\x00A\x00B\x00C-an-odd-length-secret-that-is-not-utf-16",
    ):
        assert OctKey(secret).secret == secret


# -- end to end: the forged HS256 token ---------------------------------------------------------


@pytest.mark.parametrize(
    "as_configured",
    [
        pytest.param(lambda text: BOM + text, id="bom-bytes"),
        pytest.param(lambda text: (BOM + text).decode("utf-8"), id="bom-str"),
        pytest.param(lambda text: b"[" + text + b"]", id="array"),
    ],
)
def test_A2_token_forged_with_the_public_jwk_text_is_refused(
    as_configured: Callable[[bytes], bytes | str],
) -> None:
    signing = Key.generate("ES256", kid="k")
    configured = as_configured(json.dumps(signing.public_key().to_jwk()).encode())
    secret = configured.encode() if isinstance(configured, str) else configured
    header = b64url_encode(b'{"alg":"HS256","typ":"JWT"}')
    payload = b64url_encode(b'{"sub":"admin"}')
    signing_input = f"{header}.{payload}".encode()
    forged = f"{header}.{payload}." + b64url_encode(
        hmac.new(secret, signing_input, "sha256").digest()
    )
    with pytest.raises(InvalidKey, match="must never be used as a symmetric secret"):
        jwt.decode(forged, configured, algorithms=["HS256", "ES256"])
    # the genuine token still verifies with the genuine key
    genuine = jwt.encode({"sub": "admin"}, signing)
    assert jwt.decode(genuine, signing.public_key(), algorithms=["ES256"]) == {"sub": "admin"}
