"""Checks on HMAC / symmetric secrets: what must never become a secret, and what is too weak.

* :func:`asymmetric_form` (security matrix A2): a "secret" that is really a public key,
  certificate, private key, JWK or SSH key is how algorithm-confusion attacks turn a verifier's
  public key into an HMAC key (CVE-2017-11424, CVE-2022-29217, CVE-2024-33663,
  CVE-2024-37568, CVE-2023-48223). Such input is refused whatever the caller says.
* :data:`WELL_KNOWN_SECRETS` (security matrix B6): secrets copied from tutorials and defaults,
  refused unless the caller opts out.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

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
_DER_SEQUENCE = 0x30
# The shortest DER key worth looking for (an Ed25519/X25519 SPKI) is 44 bytes: 60 characters.
_MIN_BASE64_DER = 40


def asymmetric_form(secret: bytes) -> str | None:
    """Name the key format ``secret`` is written in, or ``None`` if it is none of them.

    Looks for a PEM block, an OpenSSH public key line or private key, a JSON object carrying
    ``kty`` or ``keys`` (a JWK or JWK Set), and DER (raw or base64) that ``cryptography``
    loads as a public key, private key or X.509 certificate. Leading and trailing whitespace
    (including CRLF) is ignored.
    """
    text = secret.strip()
    if b"-----BEGIN" in text:
        return "a PEM block"
    if text.startswith(b"openssh-key-v1\x00"):
        return "an OpenSSH private key"
    if _SSH_PUBLIC_LINE.search(text):
        return "an OpenSSH public key"
    if text.startswith(b"{") and _is_jwk_json(text):
        return "a JWK (JSON text)"
    if _is_der_key(secret) or (text != secret and _is_der_key(text)):
        return "DER key or certificate data"
    compact = b"".join(text.split())
    if len(compact) >= _MIN_BASE64_DER and _BASE64_TEXT.fullmatch(compact):
        decoded = _b64decode_any(compact)
        if decoded is not None and _is_der_key(decoded):
            return "base64 of a DER key or certificate"
    return None


def _is_jwk_json(text: bytes) -> bool:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and ("kty" in value or "keys" in value)


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
