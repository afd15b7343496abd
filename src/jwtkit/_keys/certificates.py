"""The X.509 members of a JWK: ``x5c``, ``x5t`` and ``x5t#S256`` (RFC 7517 §4.7-4.9).

They are kept and exported again, never used to *find* trust here: validating a chain against
trust anchors the caller gives is :mod:`.chains` (``jwtkit.x509``). What is checked here is
that they are well formed and agree with the key: the first certificate of ``x5c`` must hold
the very public key of the JWK (RFC 7517 §4.7), and the thumbprints must be 20 / 32 bytes and,
when ``x5c`` is present, the SHA-1 / SHA-256 of its first certificate.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from .._codec import b64url_decode
from .._messages import short
from ..errors import InvalidKey, MalformedToken
from .formats import CRYPTO_ERRORS, deprecated_types_refused

__all__ = ["X509Members", "check_x509_members", "load_chain"]


@dataclass(frozen=True)
class X509Members:
    """The validated ``x5c`` chain (base64 DER strings, leaf first) and thumbprints."""

    x5c: tuple[str, ...] | None = None
    x5t: str | None = None
    x5t_s256: str | None = None


def _decode_certificate(value: object, index: int) -> bytes:
    if not isinstance(value, str):
        raise InvalidKey(f"'x5c'[{index}] must be a base64 string, got {short(value)}")
    try:
        der = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidKey(
            f"'x5c'[{index}] is not base64 (RFC 7517 §4.7 uses standard base64, not base64url)"
        ) from None
    if base64.b64encode(der).decode("ascii") != value:
        raise InvalidKey(f"'x5c'[{index}] is not canonical base64")
    return der


def _load_certificate(der: bytes, index: int) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except CRYPTO_ERRORS:
        raise InvalidKey(f"'x5c'[{index}] is not a DER X.509 certificate") from None


def _certificate_spki(certificate: x509.Certificate) -> bytes:
    try:
        with deprecated_types_refused("'x5c'[0]"):
            public = certificate.public_key()
    except CRYPTO_ERRORS:
        raise InvalidKey("'x5c'[0]: the certificate's public key cannot be read") from None
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    context = hashes.Hash(algorithm)
    context.update(data)
    return context.finalize()


def _check_thumbprint(
    value: object, member: str, length: int, algorithm: hashes.HashAlgorithm, leaf: bytes | None
) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidKey(f"{member!r} must be a base64url string, got {short(value)}")
    try:
        digest = b64url_decode(value, member)
    except MalformedToken as exc:
        raise InvalidKey(exc.message) from None
    if len(digest) != length:
        raise InvalidKey(f"{member!r} must encode {length} bytes, got {len(digest)}")
    if leaf is not None and digest != _digest(algorithm, leaf):
        raise InvalidKey(f"{member!r} is not the thumbprint of the first 'x5c' certificate")
    return value


def _chain_ders(x5c: object) -> tuple[tuple[str, ...], list[bytes]]:
    """The chain's strings and their DER bytes, each checked (standard, canonical base64)."""
    if isinstance(x5c, (str, bytes)) or not isinstance(x5c, Sequence) or not x5c:
        raise InvalidKey("'x5c' must be a non-empty array of base64 certificates")
    ders = [_decode_certificate(item, index) for index, item in enumerate(x5c)]
    return tuple(x5c), ders


def load_chain(x5c: object) -> list[x509.Certificate]:
    """The certificates of an ``x5c`` value (standard base64 DER, RFC 7517 §4.7), in order."""
    return [_load_certificate(der, index) for index, der in enumerate(_chain_ders(x5c)[1])]


def check_x509_members(
    x5c: object, x5t: object, x5t_s256: object, spki: bytes | None
) -> X509Members:
    """Validate ``x5c``/``x5t``/``x5t#S256`` against the key whose SPKI DER is ``spki``.

    ``spki`` is ``None`` for a symmetric key, which cannot carry certificates.
    """
    if x5c is None and x5t is None and x5t_s256 is None:
        return X509Members()
    if spki is None:
        raise InvalidKey("'x5c', 'x5t' and 'x5t#S256' do not apply to a symmetric (oct) key")
    chain: tuple[str, ...] | None = None
    leaf: bytes | None = None
    if x5c is not None:
        chain, ders = _chain_ders(x5c)
        for index, der in enumerate(ders):
            certificate = _load_certificate(der, index)
            if index == 0 and _certificate_spki(certificate) != spki:
                raise InvalidKey(
                    "'x5c': the first certificate does not hold this key (RFC 7517 §4.7)"
                )
        leaf = ders[0]
    return X509Members(
        chain,
        _check_thumbprint(x5t, "x5t", 20, hashes.SHA1(), leaf),  # noqa: S303 - a name, not a MAC
        _check_thumbprint(x5t_s256, "x5t#S256", 32, hashes.SHA256(), leaf),
    )
