"""The DER key-container sniffer: real containers of every key type are recognized by shape,
anything that is not exactly one of them is not (X.690 §8.1, RFC 5280 §4.1.1.2, RFC 5958 §2)."""

from __future__ import annotations

import warnings

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa

from jwtkit._keys import formats
from jwtkit._keys.der_shape import key_container
from jwtkit.errors import InvalidKey
from jwtkit.jwk import Key, OctKey

from .test_unsupported_types import DATA, _der

DER = serialization.Encoding.DER
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo
PKCS8 = serialization.PrivateFormat.PKCS8
NONE = serialization.NoEncryption()


def _pair(private: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> tuple[bytes, bytes]:
    return (
        private.public_key().public_bytes(DER, SPKI),
        private.private_bytes(DER, PKCS8, NONE),
    )


@pytest.mark.parametrize(
    "private",
    [ed25519.Ed25519PrivateKey.generate(), ec.generate_private_key(ec.SECP384R1())],
    ids=["Ed25519", "P-384"],
)
def test_real_containers_are_recognized(
    private: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey,
) -> None:
    public, secret = _pair(private)
    assert key_container(public) == "SubjectPublicKeyInfo"
    assert key_container(secret) == "PrivateKeyInfo"


def test_long_form_lengths(rsa_private: rsa.RSAPrivateKey) -> None:
    public = rsa_private.public_key().public_bytes(DER, SPKI)
    assert public[1] == 0x82  # two length octets
    assert key_container(public) == "SubjectPublicKeyInfo"
    assert key_container(rsa_private.private_bytes(DER, PKCS8, NONE)) == "PrivateKeyInfo"


@pytest.mark.parametrize("name", ["dsa-public.pem", "dh-public.pem", "ml-dsa-44-public.pem"])
def test_containers_of_algorithms_jose_does_not_use_are_still_containers(name: str) -> None:
    """ML-DSA keys are AKP keys where cryptography can sign with them; where it cannot (before
    48.0.0), their DER must still be told apart from a secret."""
    assert key_container(_der((DATA / name).read_bytes())) == "SubjectPublicKeyInfo"


@pytest.mark.parametrize("name", ["ml-dsa-44-public.pem", "ml-dsa-44-private.pem"])
def test_ml_dsa_der_is_never_an_hmac_secret(name: str) -> None:
    der = _der((DATA / name).read_bytes())
    with pytest.raises(InvalidKey, match="symmetric secret"):
        OctKey(der)


def test_an_unknown_algorithm_is_a_container_and_never_an_hmac_secret() -> None:
    public, _ = _pair(ed25519.Ed25519PrivateKey.generate())
    odd = public.replace(bytes.fromhex("06032b6570"), bytes.fromhex("06032b657f"))
    assert key_container(odd) == "SubjectPublicKeyInfo"
    with pytest.raises(InvalidKey, match="symmetric secret"):
        OctKey(odd)


def test_certificates_and_traditional_forms_are_not_containers(
    rsa_private: rsa.RSAPrivateKey,
) -> None:
    certificate = _der((DATA / "dsa-certificate.pem").read_bytes())
    assert key_container(certificate) is None
    pkcs1 = rsa_private.private_bytes(DER, serialization.PrivateFormat.TraditionalOpenSSL, NONE)
    assert key_container(pkcs1) is None


def _mutations(good: bytes) -> dict[str, bytes]:
    return {
        "empty": b"",
        "one byte": b"\x30",
        "trailing byte": good + b"\x00",
        "cut short": good[:-1],
        "not a sequence": b"\x31" + good[1:],
        "indefinite length": b"\x30\x80" + good[2:],
        "five length octets": b"\x30\x85\x00\x00\x00\x00\x10" + bytes(16),
        "length octets past the end": b"\x30\x82\x01",
        "non-minimal long form": b"\x30\x81\x05" + bytes.fromhex("3003060100"),
        "leading zero length octet": b"\x30\x82\x00\x85" + bytes(0x85),
        "algorithm not a sequence": b"\x30\x07\x31\x03\x06\x01\x00\x03\x00",
        "empty object identifier": b"\x30\x06\x30\x02\x06\x00\x03\x00",
        "sequence without an oid": b"\x30\x07\x30\x03\x02\x01\x00\x03\x00",
        "spki with an octet string": b"\x30\x07\x30\x03\x06\x01\x00\x04\x00",
        "spki with nothing after the algorithm": b"\x30\x05\x30\x03\x06\x01\x00",
        "pkcs8 with a bit string": b"\x30\x0a\x02\x01\x00\x30\x03\x06\x01\x00\x03\x00",
        "pkcs8 without an algorithm": b"\x30\x07\x02\x01\x00\x04\x02\x00\x00",
        "neither": b"\x30\x03\x04\x01\x00",
    }


@pytest.mark.parametrize("name", sorted(_mutations(b"\x30\x00")))
def test_anything_else_is_not_a_container(name: str) -> None:
    public, _ = _pair(ed25519.Ed25519PrivateKey.generate())
    assert key_container(_mutations(public)[name]) is None


def test_the_minimal_well_formed_shapes_are_containers() -> None:
    assert key_container(b"\x30\x07\x30\x03\x06\x01\x00\x03\x00") == "SubjectPublicKeyInfo"
    assert key_container(b"\x30\x0a\x02\x01\x00\x30\x03\x06\x01\x00\x04\x00") == "PrivateKeyInfo"


def test_other_der_forms_of_keys_are_refused_as_hmac_secrets(
    rsa_private: rsa.RSAPrivateKey,
) -> None:
    """Beyond the two containers, what ``cryptography`` reads is a key too: PKCS#1 public and
    private keys and traditional (PKCS#1 / SEC1 / DSA) private keys, even under an ``error``
    warnings filter, where loading a DSA key raises cryptography's deprecation warning."""
    traditional = serialization.PrivateFormat.TraditionalOpenSSL
    pkcs1_public = rsa_private.public_key().public_bytes(DER, serialization.PublicFormat.PKCS1)
    forms = [pkcs1_public, rsa_private.private_bytes(DER, traditional, NONE)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dsa_key = serialization.load_pem_private_key((DATA / "dsa-private.pem").read_bytes(), None)
        assert isinstance(dsa_key, dsa.DSAPrivateKey)
        forms.append(dsa_key.private_bytes(DER, traditional, NONE))
    for form in forms:
        assert key_container(form) is None
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(InvalidKey, match="symmetric secret"):
                OctKey(form)


def test_a_pkcs8_key_of_an_unknown_algorithm_is_unsupported_whatever_the_loader_raises() -> None:
    """cryptography before 47 raises ValueError for it; the message is the same either way."""
    _, private = _pair(ed25519.Ed25519PrivateKey.generate())
    odd = private.replace(bytes.fromhex("06032b6570"), bytes.fromhex("06032b657f"))
    error = formats._private_key_error(ValueError("unknown"), None, "DER private key", odd)
    assert "unsupported key type or encryption" in str(error)
    plain = formats._private_key_error(ValueError("bad"), None, "DER private key", b"\x30\x00")
    assert str(plain) == "DER private key: not a valid private key"


def test_a_pem_private_block_whose_body_is_not_base64_is_not_a_valid_key() -> None:
    block = b"-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n"
    with pytest.raises(InvalidKey, match="not a valid private key"):
        Key.from_pem(block)
