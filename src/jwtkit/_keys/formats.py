"""Reading PEM, DER and OpenSSH key files into ``cryptography`` key objects.

Accepted (all parsing is done by ``cryptography``):

* PEM: ``PRIVATE KEY`` / ``ENCRYPTED PRIVATE KEY`` (PKCS#8, RFC 5958), ``RSA PRIVATE KEY``
  (PKCS#1, RFC 8017 App. A.1.2), ``EC PRIVATE KEY`` (SEC1, RFC 5915), ``PUBLIC KEY`` (SPKI,
  RFC 5280 §4.1.2.7), ``RSA PUBLIC KEY`` (PKCS#1), ``CERTIFICATE`` (its public key) and
  ``OPENSSH PRIVATE KEY``. An ``EC PARAMETERS`` block in front is skipped; with several key
  blocks (a certificate chain) the first is used. Surrounding whitespace, CRLF line ends and
  indented lines are fine.
* DER: the same structures, binary.
* OpenSSH public key lines (``ssh-ed25519``, ``ssh-rsa``, ``ecdsa-sha2-nistp256/384/521``).

Every failure becomes :class:`~jwtkit.errors.InvalidKey` naming what was wrong; no exception
of ``cryptography`` escapes.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
from collections.abc import Iterator

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.hazmat.primitives.serialization import SSHPrivateKeyTypes, SSHPublicKeyTypes
from cryptography.utils import CryptographyDeprecationWarning

from .._messages import short
from ..errors import InvalidKey
from .der_shape import key_container
from .mldsa_support import mldsa_unavailable, unreadable_mldsa

__all__ = [
    "CRYPTO_ERRORS",
    "LoadedKey",
    "deprecated_types_refused",
    "load_der",
    "load_pem",
    "load_ssh",
]

#: What the loaders return: a private or public ``cryptography`` key object.
#: What a loader hands to the key factory. OpenSSH loaders can return key types that the PEM/DER
#: ones cannot (cryptography 51 added ML-DSA-44+Ed25519 OpenSSH keys); the factory refuses every
#: type it does not support with ``InvalidKey``.
LoadedKey = PrivateKeyTypes | PublicKeyTypes | SSHPrivateKeyTypes | SSHPublicKeyTypes

#: What ``cryptography``'s loaders raise for data they cannot read.
CRYPTO_ERRORS = (ValueError, TypeError, UnsupportedAlgorithm)
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\n(.*?)\n-----END \1-----", re.DOTALL)
_PRIVATE_LABELS = frozenset(
    {b"PRIVATE KEY", b"ENCRYPTED PRIVATE KEY", b"RSA PRIVATE KEY", b"EC PRIVATE KEY"}
)
_PUBLIC_LABELS = frozenset({b"PUBLIC KEY", b"RSA PUBLIC KEY"})
_CERTIFICATE_LABELS = frozenset({b"CERTIFICATE", b"X509 CERTIFICATE"})
_OPENSSH_PRIVATE_LABEL = b"OPENSSH PRIVATE KEY"
_SKIPPED_LABELS = frozenset({b"EC PARAMETERS"})
_SSH_PUBLIC_PREFIXES = (b"ssh-", b"ecdsa-sha2-", b"sk-")


@contextlib.contextmanager
def deprecated_types_refused(what: str) -> Iterator[None]:
    """Refuse a key type that ``cryptography`` deprecates (DSA and finite-field DH, from
    cryptography 51) with the :class:`InvalidKey` every other unsupported type gets.

    Loading such a key warns with ``CryptographyDeprecationWarning``; under an ``error`` warnings
    filter (pytest's ``filterwarnings = error``, ``python -W error``) the warning is raised from
    inside the loader. JOSE has no use for these key types (RFC 7518 §6), so either way the
    caller gets ``InvalidKey``: here, or from the key factory once the key object exists.
    """
    try:
        yield
    except CryptographyDeprecationWarning as exc:
        raise InvalidKey(f"{what}: unsupported key type ({exc})") from None


def _as_bytes(data: object, what: str) -> bytes:
    if isinstance(data, str):
        try:
            return data.encode("ascii")
        except UnicodeEncodeError:
            raise InvalidKey(f"{what}: key text must be ASCII") from None
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise InvalidKey(f"{what}: expected bytes or str, got {type(data).__name__}")


def _as_binary(data: object) -> bytes:
    if isinstance(data, str):
        raise InvalidKey("DER: expected bytes; for text use Key.from_pem")
    return _as_bytes(data, "DER")


def _password(password: object) -> bytes | None:
    if password is None or isinstance(password, bytes):
        return password
    if isinstance(password, str):
        return password.encode("utf-8")
    raise InvalidKey(f"password: expected bytes or str, got {type(password).__name__}")


def _normalize_text(data: bytes) -> bytes:
    """Strip the text and every line, and turn CRLF/CR into LF."""
    lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").strip().split(b"\n")
    return b"\n".join(line.strip() for line in lines)


def _private_key_error(
    exc: Exception, password: bytes | None, what: str, der: bytes | None = None
) -> InvalidKey:
    """Turn a loader's complaint about a private key into a helpful message. ``der``, when
    known, tells a PKCS#8 key of an unknown algorithm (older ``cryptography`` releases raise
    ``ValueError`` for it) from bad data, and an ML-DSA key this ``cryptography`` cannot read."""
    if unreadable_mldsa(der):
        return mldsa_unavailable(what)
    if isinstance(exc, ValueError) and der is not None and key_container(der) is not None:
        exc = UnsupportedAlgorithm(f"{key_container(der)} of an unknown key algorithm")
    if isinstance(exc, TypeError):
        if password is None:
            return InvalidKey(f"{what}: the private key is encrypted; a password is needed")
        return InvalidKey(f"{what}: a password was given but the private key is not encrypted")
    if isinstance(exc, UnsupportedAlgorithm):
        return InvalidKey(f"{what}: unsupported key type or encryption ({exc})")
    if password is not None:
        return InvalidKey(f"{what}: cannot read the private key (wrong password or bad data)")
    return InvalidKey(f"{what}: not a valid private key")


def _pem_der(block: bytes) -> bytes | None:
    """The DER inside one PEM block, or None when its body is not plain base64 (an encrypted
    traditional key has headers)."""
    body = block.split(b"\n")[1:-1]
    try:
        return base64.b64decode(b"".join(body), validate=True)
    except (binascii.Error, ValueError):
        return None


def _certificate_key(certificate: x509.Certificate, what: str) -> PublicKeyTypes:
    try:
        return certificate.public_key()  # a DSA certificate: see deprecated_types_refused
    except CRYPTO_ERRORS:
        raise InvalidKey(f"{what}: the certificate's public key type is not supported") from None


def _load_pem_block(label: bytes, block: bytes, password: bytes | None) -> LoadedKey:
    what = f"PEM {label.decode('ascii')}"
    if label in _PRIVATE_LABELS:
        try:
            return serialization.load_pem_private_key(block, password)
        except CRYPTO_ERRORS as exc:
            raise _private_key_error(exc, password, what, _pem_der(block)) from None
    if password is not None:
        raise InvalidKey(f"{what}: a password was given but the block is not encrypted")
    if label in _PUBLIC_LABELS:
        try:
            return serialization.load_pem_public_key(block)
        except CRYPTO_ERRORS:
            if unreadable_mldsa(_pem_der(block)):
                raise mldsa_unavailable(what) from None
            raise InvalidKey(f"{what}: not a valid public key") from None
    try:
        certificate = x509.load_pem_x509_certificate(block)
    except CRYPTO_ERRORS:
        raise InvalidKey(f"{what}: not a valid X.509 certificate") from None
    return _certificate_key(certificate, what)


@deprecated_types_refused("PEM")
def load_pem(data: bytes | str, password: bytes | str | None = None) -> LoadedKey:
    """Load the first key (or certificate) of PEM text, or an OpenSSH public key line."""
    text = _normalize_text(_as_bytes(data, "PEM"))
    secret = _password(password)
    if text.startswith(_SSH_PUBLIC_PREFIXES):
        if secret is not None:
            raise InvalidKey("OpenSSH public key: a password was given but the key is public")
        return _load_ssh_public(text)
    if not text.startswith(b"-----BEGIN "):
        raise InvalidKey(
            "PEM: no '-----BEGIN ...-----' block found (for DER use Key.from_der, for a "
            "JWK Key.from_jwk)"
        )
    for match in _PEM_BLOCK.finditer(text):
        label = match.group(1)
        if label in _SKIPPED_LABELS:
            continue
        if label == _OPENSSH_PRIVATE_LABEL:
            return _load_ssh_private(match.group(0), secret)
        if label in _PRIVATE_LABELS | _PUBLIC_LABELS | _CERTIFICATE_LABELS:
            return _load_pem_block(label, match.group(0), secret)
        raise InvalidKey(f"PEM: unsupported block type {short(label.decode('ascii'))}")
    raise InvalidKey("PEM: no complete key block ('-----BEGIN' without a matching '-----END')")


@deprecated_types_refused("DER")
def load_der(data: bytes, password: bytes | str | None = None) -> LoadedKey:
    """Load DER: a public key (SPKI or PKCS#1), an X.509 certificate, or a private key."""
    raw = _as_binary(data)
    secret = _password(password)
    if secret is None:
        try:
            return serialization.load_der_public_key(raw)
        except CRYPTO_ERRORS:
            pass
        try:
            certificate = x509.load_der_x509_certificate(raw)
        except CRYPTO_ERRORS:
            pass
        else:
            return _certificate_key(certificate, "DER certificate")
    try:
        return serialization.load_der_private_key(raw, secret)
    except CRYPTO_ERRORS as exc:
        if unreadable_mldsa(raw):
            raise mldsa_unavailable("DER") from None
        if isinstance(exc, ValueError) and secret is None and key_container(raw) is None:
            raise InvalidKey(
                "DER: not a public key, certificate or private key that can be read"
            ) from None
        raise _private_key_error(exc, secret, "DER private key", raw) from None


def _load_ssh_public(line: bytes) -> SSHPublicKeyTypes:
    key_type = line.split(None, 1)[0]
    if key_type.startswith(b"sk-"):
        raise InvalidKey(
            "OpenSSH public key: security-key (sk-) keys cannot sign or verify JOSE objects"
        )
    if key_type.endswith(b"-cert-v01@openssh.com"):
        raise InvalidKey("OpenSSH public key: certificates are not supported; give the key")
    try:
        return serialization.load_ssh_public_key(line)
    except CRYPTO_ERRORS:
        raise InvalidKey(
            f"OpenSSH public key: cannot read a {short(key_type.decode('ascii', 'replace'))} key"
        ) from None


def _load_ssh_private(block: bytes, password: bytes | None) -> SSHPrivateKeyTypes:
    try:
        return serialization.load_ssh_private_key(block, password)
    except UnsupportedAlgorithm as exc:
        if "bcrypt" in str(exc):
            raise InvalidKey(
                "OpenSSH private key: encrypted OpenSSH keys need the 'bcrypt' package "
                "(pip install bcrypt), or convert the key to PKCS#8"
            ) from None
        raise InvalidKey(f"OpenSSH private key: unsupported ({exc})") from None
    except CRYPTO_ERRORS as exc:
        raise _private_key_error(exc, password, "OpenSSH private key") from None


@deprecated_types_refused("OpenSSH")
def load_ssh(data: bytes | str, password: bytes | str | None = None) -> LoadedKey:
    """Load an OpenSSH public key line or an ``OPENSSH PRIVATE KEY`` block."""
    text = _normalize_text(_as_bytes(data, "OpenSSH"))
    secret = _password(password)
    match = _PEM_BLOCK.fullmatch(text)
    if match is not None and match.group(1) == _OPENSSH_PRIVATE_LABEL:
        return _load_ssh_private(text, secret)
    if not text.startswith(_SSH_PUBLIC_PREFIXES):
        raise InvalidKey(
            "OpenSSH: expected a public key line ('ssh-ed25519 AAAA...') or an "
            "'OPENSSH PRIVATE KEY' block"
        )
    if secret is not None:
        raise InvalidKey("OpenSSH public key: a password was given but the key is public")
    return _load_ssh_public(text)
