"""Keys shared by the drop-in's tests: generated once per session, PEM and objects alike."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

#: An HMAC secret long enough for HS512 (64 bytes), so neither library complains.
SECRET = "k7Qe9vTz2LmX4pRw8sYb1NcH6dJf3GuA0oKiE5VyZqWtBnMxCrDgSlPhFjUaIeO2"
PASSPHRASE = b"correct horse battery staple"


@dataclass(frozen=True)
class PemPair:
    """A private key in PKCS#8 PEM and its public key in SPKI PEM, both as bytes."""

    private: bytes
    public: bytes
    #: The private key object (Any: each test uses the methods of its own key type).
    key: Any


def _pair(key: Any) -> PemPair:
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return PemPair(private, public, key)


@cache
def rsa_pair() -> PemPair:
    return _pair(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@cache
def ec_pair() -> PemPair:
    return _pair(ec.generate_private_key(ec.SECP256R1()))


@cache
def ed25519_pair() -> PemPair:
    return _pair(ed25519.Ed25519PrivateKey.generate())


def encrypted_rsa_pem() -> bytes:
    """The RSA private key, PEM encrypted with :data:`PASSPHRASE`."""
    encrypted: bytes = rsa_pair().key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE),
    )
    return encrypted
