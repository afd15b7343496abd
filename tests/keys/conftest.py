"""Keys shared by the key-layer tests; RSA generation is slow, so each is made once."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


@pytest.fixture(scope="session")
def rsa_private() -> rsa.RSAPrivateKey:
    """A 2048-bit RSA private key."""
    return rsa.generate_private_key(65537, 2048)


@pytest.fixture(scope="session")
def rsa_1024() -> rsa.RSAPrivateKey:
    """A weak 1024-bit RSA private key (security matrix F1)."""
    return rsa.generate_private_key(65537, 1024)  # noqa: S505 - deliberately weak, for F1


def make_certificate(
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey | None = None,
) -> x509.Certificate:
    """A self-signed certificate holding ``public_key`` (default: the signer's own)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jwtkit test")])
    now = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key if public_key is not None else private_key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(private_key, hashes.SHA256())
    )


@pytest.fixture(scope="session")
def rsa_certificate(rsa_private: rsa.RSAPrivateKey) -> x509.Certificate:
    """A self-signed certificate for :func:`rsa_private`."""
    return make_certificate(rsa_private)


@pytest.fixture(scope="session")
def certificate_factory() -> Callable[..., x509.Certificate]:
    """:func:`make_certificate`, as a fixture (test modules do not import conftest)."""
    return make_certificate
