"""A small certificate authority for the chain tests: real CA -> intermediate -> leaf chains.

Every certificate is made with ``cryptography`` at a fixed time (:data:`NOW`), so that the
tests move a :class:`jwtkit.testing.FrozenClock` instead of waiting.
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: The Unix time at which the chains are valid (2026-05-28).
NOW = 1_780_000_000
DAY = 86_400
_NOW = datetime.datetime.fromtimestamp(NOW, datetime.timezone.utc)

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

SIGNING = "signing"
NON_REPUDIATION = "non_repudiation"
ENCIPHERMENT = "encipherment"


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    certificate: x509.Certificate
    key: PrivateKey

    @property
    def x5c(self) -> str:
        """The certificate as an ``x5c`` member: standard base64 of its DER."""
        return x5c_of(self.certificate)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def x5c_of(certificate: x509.Certificate) -> str:
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_usage(kind: str) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=kind == SIGNING,
        content_commitment=kind == NON_REPUDIATION,
        key_encipherment=kind == ENCIPHERMENT,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=kind == "ca",
        crl_sign=kind == "ca",
        encipher_only=False,
        decipher_only=False,
    )


def _build(
    subject: str,
    key: PrivateKey,
    issuer: Issued | None,
    *,
    ca: bool,
    days: tuple[int, int],
    san: Sequence[str] = (),
    usage: str | None = None,
    eku: Sequence[x509.ObjectIdentifier] = (),
) -> Issued:
    public = key.public_key()
    signer = key if issuer is None else issuer.key
    issuer_name = _name(subject) if issuer is None else issuer.certificate.subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOW + datetime.timedelta(days=days[0]))
        .not_valid_after(_NOW + datetime.timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
            critical=False,
        )
    )
    if ca:
        builder = builder.add_extension(_key_usage("ca"), critical=True)
    elif usage is not None:
        builder = builder.add_extension(_key_usage(usage), critical=True)
    if san:
        names = [x509.DNSName(name) for name in san]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    digest = None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return Issued(builder.sign(signer, digest), key)


def root(name: str = "Test Root", *, days: tuple[int, int] = (-365, 3650)) -> Issued:
    """A self-signed root CA on P-256."""
    return _build(name, ec.generate_private_key(ec.SECP256R1()), None, ca=True, days=days)


def intermediate(
    issuer: Issued, name: str = "Test Intermediate", *, days: tuple[int, int] = (-30, 365)
) -> Issued:
    """An intermediate CA on P-256."""
    return _build(name, ec.generate_private_key(ec.SECP256R1()), issuer, ca=True, days=days)


def leaf(
    issuer: Issued,
    key: PrivateKey,
    *,
    name: str = "signer",
    san: Sequence[str] = ("signer.example",),
    usage: str | None = SIGNING,
    days: tuple[int, int] = (-1, 30),
    eku: Sequence[x509.ObjectIdentifier] = (),
) -> Issued:
    """An end-entity certificate for ``key``, signed by ``issuer``."""
    return _build(name, key, issuer, ca=False, days=days, san=san, usage=usage, eku=eku)


CODE_SIGNING = ExtendedKeyUsageOID.CODE_SIGNING
