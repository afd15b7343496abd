"""Checks on HMAC / symmetric secrets: what must never become a secret, and what is too weak.

* :func:`asymmetric_form` (security matrix A2): a "secret" that is really a public key,
  certificate, private key, JWK or SSH key is how algorithm-confusion attacks turn a verifier's
  public key into an HMAC key (CVE-2017-11424, CVE-2022-29217, CVE-2024-33663,
  CVE-2024-37568, CVE-2023-48223). Such input is refused whatever the caller says, in every
  way a key file is commonly written: after a byte order mark (RFC 3629 §6) or whitespace, in
  UTF-16/UTF-32 (RFC 8259 §8.1 names them), as base64 (RFC 4648 §4-5) or hex (RFC 4648 §8)
  of DER, and as JSON holding a JWK anywhere (a JWK, a JWK Set, an array of JWKs; RFC 7517
  §4-5).
* :data:`WELL_KNOWN_SECRETS` (security matrix B6): secrets copied from tutorials and defaults,
  refused unless the caller opts out.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
import re
from collections.abc import Iterator

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.utils import CryptographyDeprecationWarning

from .der_shape import key_container

__all__ = ["WELL_KNOWN_SECRETS", "asymmetric_form"]

#: Secrets that appear in documentation, tutorials, debuggers and framework defaults.
#: Compared byte for byte (security matrix B6).
WELL_KNOWN_SECRETS = frozenset(
    {
        b"secret",
        b"your-256-bit-secret",
        b"your-384-bit-secret",
        b"your-512-bit-secret",
        b"a-string-secret-at-least-256-bits-long",
        b"changeme",
        b"change-me",
        b"changeit",
        b"password",
        b"key",
        b"jwt-secret",
        b"jwt_secret",
        b"jwtsecret",
        b"secretkey",
        b"secret-key",
        b"secret_key",
        b"mysecret",
        b"my-secret",
        b"supersecret",
        b"shhhhh",
        b"keyboard cat",
        b"your_jwt_secret",
        b"default",
        b"test",
    }
)

# An OpenSSH public key line (possibly after authorized_keys options): a key type, blanks,
# then the base64 blob, which always starts with "AAAA" (a uint32 length below 2**24).
_SSH_PUBLIC_LINE = re.compile(
    rb"(?:^|\s)(?:ssh-[A-Za-z0-9@.-]+|ecdsa-sha2-[A-Za-z0-9@.-]+|sk-[A-Za-z0-9@.-]+)"
    rb"\s+AAAA[A-Za-z0-9+/]"
)
_BASE64_TEXT = re.compile(rb"[A-Za-z0-9+/_-]+={0,2}")
_HEX_TEXT = re.compile(rb"(?:0[xX])?((?:[0-9A-Fa-f]{2})+)")
_HEX_SEPARATORS = re.compile(rb"[\s:]+")
_DER_SEQUENCE = 0x30
# The shortest DER key worth looking for (an Ed25519/X25519 SPKI) is 44 bytes: 60 characters
# of base64, 88 of hex.
_MIN_BASE64_DER = 40
_MIN_HEX_DER = 88
_UTF8_BOM = codecs.BOM_UTF8
# What may surround a key in a file: ASCII whitespace and UTF-8 byte order marks.
_PADDING = b" \t\r\n\x0b\x0c"


def asymmetric_form(secret: bytes) -> str | None:
    """Name the key format ``secret`` is written in, or ``None`` if it is none of them.

    Looks for a PEM block, an OpenSSH public key line or private key, JSON holding a JWK
    anywhere (an object with ``kty`` or ``keys``: a JWK, a JWK Set, an array of JWKs), and DER
    (raw, base64 or hex) that ``cryptography`` loads as a public key, private key or X.509
    certificate. Leading and trailing whitespace and UTF-8 byte order marks are ignored, and
    text in UTF-16 or UTF-32 is read as the same text in UTF-8.
    """
    if _is_der_key(secret):
        return "DER key or certificate data"
    for text in _readings(secret):
        form = _text_form(text)
        if form is not None:
            return form
    return None


def _readings(secret: bytes) -> Iterator[bytes]:
    """``secret`` without what may surround a key in a file, then re-encoded from UTF-16/32."""
    yield _unpadded(secret)
    encoding = json.detect_encoding(secret)
    if encoding.startswith(("utf-16", "utf-32")):
        try:
            text = secret.decode(encoding)
        except UnicodeError:
            return
        yield _unpadded(text.encode("utf-8"))


def _unpadded(data: bytes) -> bytes:
    """``data`` without surrounding ASCII whitespace and UTF-8 byte order marks."""
    while True:
        stripped = data.strip(_PADDING)
        stripped = stripped.removeprefix(_UTF8_BOM).removesuffix(_UTF8_BOM)
        if stripped == data:
            return data
        data = stripped


def _text_form(text: bytes) -> str | None:
    if b"-----BEGIN" in text:
        return "a PEM block"
    if text.startswith(b"openssh-key-v1\x00"):
        return "an OpenSSH private key"
    if _SSH_PUBLIC_LINE.search(text):
        return "an OpenSSH public key"
    if text.startswith((b"{", b"[")) and _holds_jwk(text):
        return "a JWK or JWK Set (JSON text)"
    if _is_der_key(text):
        return "DER key or certificate data"
    compact = b"".join(text.split())
    if len(compact) >= _MIN_BASE64_DER and _BASE64_TEXT.fullmatch(compact):
        decoded = _b64decode_any(compact)
        if decoded is not None and _is_der_key(decoded):
            return "base64 of a DER key or certificate"
    digits = _HEX_TEXT.fullmatch(_HEX_SEPARATORS.sub(b"", text))
    if (
        digits is not None
        and len(digits[1]) >= _MIN_HEX_DER
        and _is_der_key(bytes.fromhex(digits[1].decode("ascii")))
    ):
        return "hex of a DER key or certificate"
    return None


def _holds_jwk(text: bytes) -> bool:
    """``True`` when ``text`` is JSON with an object carrying ``kty`` or ``keys`` anywhere."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return False
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "kty" in item or "keys" in item:
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _b64decode_any(text: bytes) -> bytes | None:
    """Decode standard or URL-safe base64, padded or not; ``None`` if it is neither."""
    normalized = text.rstrip(b"=").replace(b"-", b"+").replace(b"_", b"/")
    try:
        return base64.b64decode(normalized + b"=" * (-len(normalized) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _is_der_key(data: bytes) -> bool:
    """``True`` when ``data`` is DER of a key or certificate.

    A key container of any algorithm counts by its shape alone (:func:`key_container`), whatever
    ``cryptography`` release reads it. Other forms (PKCS#1, SEC1, certificates) count when
    ``cryptography`` reads them; a structure it recognizes but cannot use (an unsupported curve,
    an encrypted private key without its password, a deprecated key type) counts too.
    """
    if not data or data[0] != _DER_SEQUENCE:
        return False
    if key_container(data) is not None:
        return True
    try:
        return _read_by_cryptography(data)
    except CryptographyDeprecationWarning:  # DSA or DH under an "error" warnings filter
        return True


def _read_by_cryptography(data: bytes) -> bool:
    try:
        serialization.load_der_public_key(data)  # PKCS#1 (SPKI is a key_container)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        pass
    else:
        return True
    try:
        x509.load_der_x509_certificate(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        pass
    else:
        return True
    try:
        serialization.load_der_private_key(data, password=None)
    except (TypeError, UnsupportedAlgorithm):
        return True  # encrypted (it asked for a password) or of an unsupported kind
    except ValueError:
        return False
    return True
