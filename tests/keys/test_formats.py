"""PEM, DER and OpenSSH import: every accepted form, and a clear InvalidKey for the rest."""

# ruff: noqa: N802 - security-matrix tests carry the row name (A2) in upper case

from __future__ import annotations

import base64
import datetime
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from jwtkit.errors import InvalidKey
from jwtkit.jwk import ECKey, Key, OctKey, RSAKey

PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER


def _private(
    obj: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    fmt: serialization.PrivateFormat,
    encoding: serialization.Encoding = PEM,
    password: bytes | None = None,
) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.NoEncryption()
        if password is None
        else serialization.BestAvailableEncryption(password)
    )
    return obj.private_bytes(encoding, fmt, encryption)


def test_pkcs1_and_sec1_and_certificates(
    rsa_private: rsa.RSAPrivateKey, rsa_certificate: x509.Certificate
) -> None:
    expected = Key.from_cryptography(rsa_private)
    traditional = _private(rsa_private, serialization.PrivateFormat.TraditionalOpenSSL)
    assert traditional.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert Key.from_pem(traditional) == expected
    assert RSAKey.from_pem(traditional) == expected
    encrypted_traditional = _private(
        rsa_private, serialization.PrivateFormat.TraditionalOpenSSL, password=b"pw"
    )
    assert b"DEK-Info" in encrypted_traditional
    assert Key.from_pem(encrypted_traditional, "pw") == expected
    pkcs1_public = rsa_private.public_key().public_bytes(PEM, serialization.PublicFormat.PKCS1)
    assert Key.from_pem(pkcs1_public) == expected.public_key()
    pkcs1_public_der = rsa_private.public_key().public_bytes(DER, serialization.PublicFormat.PKCS1)
    assert Key.from_der(pkcs1_public_der) == expected.public_key()
    assert Key.from_der(_private(rsa_private, serialization.PrivateFormat.TraditionalOpenSSL,
                                 DER)) == expected  # fmt: skip
    certificate_pem = rsa_certificate.public_bytes(PEM)
    assert Key.from_pem(certificate_pem, kid="c") == Key.from_cryptography(
        rsa_private.public_key(), kid="c"
    )
    assert Key.from_der(rsa_certificate.public_bytes(DER)) == expected.public_key()
    assert Key.from_cryptography(rsa_certificate) == expected.public_key()
    ec_private = ec.generate_private_key(ec.SECP384R1())
    sec1 = _private(ec_private, serialization.PrivateFormat.TraditionalOpenSSL)
    assert sec1.startswith(b"-----BEGIN EC PRIVATE KEY-----")
    assert ECKey.from_pem(sec1) == Key.from_cryptography(ec_private)


def test_pem_layout_tolerance(rsa_private: rsa.RSAPrivateKey) -> None:
    expected = Key.from_cryptography(rsa_private)
    pem = _private(rsa_private, serialization.PrivateFormat.PKCS8)
    assert Key.from_pem(b"\r\n  " + pem.replace(b"\n", b"\r\n") + b"\r\n\r\n") == expected
    assert Key.from_pem(pem.replace(b"\n", b"\r")) == expected
    indented = b"\n".join(b"    " + line for line in pem.splitlines())
    assert Key.from_pem(indented) == expected
    params = ec.generate_private_key(ec.SECP256R1())
    with_params = (
        b"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
        + _private(params, serialization.PrivateFormat.TraditionalOpenSSL)
    )
    assert Key.from_pem(with_params) == Key.from_cryptography(params)


def test_certificate_chain_uses_the_first_certificate(
    rsa_private: rsa.RSAPrivateKey,
    rsa_certificate: x509.Certificate,
    certificate_factory: Callable[..., x509.Certificate],
) -> None:
    other = certificate_factory(ec.generate_private_key(ec.SECP256R1()))
    chain = rsa_certificate.public_bytes(PEM) + other.public_bytes(PEM)
    assert Key.from_pem(chain) == Key.from_cryptography(rsa_private.public_key())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no '-----BEGIN"),
        (b"   \r\n", "no '-----BEGIN"),
        (b"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", "no '-----BEGIN"),
        (b"-----BEGIN PUBLIC KEY-----\nAAAA\n", "no complete key block"),
        (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PRIVATE KEY-----", "no complete key block"),
        (b"-----BEGIN DSA PRIVATE KEY-----\nAAAA\n-----END DSA PRIVATE KEY-----",
         "unsupported block type 'DSA PRIVATE KEY'"),
        (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "not a valid public key"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
         "not a valid private key"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
         "not a valid X.509 certificate"),
        (b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----",
         "OpenSSH private key"),
        ("-----BEGIN PUBLIC KEY-----\nñ\n-----END PUBLIC KEY-----", "must be ASCII"),
        (b"ssh-ed25519 AAAAnotbase64", "cannot read a 'ssh-ed25519' key"),
        (b"ssh-dss AAAAB3NzaC1kc3MAAACBAP", "cannot read a 'ssh-dss' key"),
        (b"ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQ=", "certificates"),
        (b"sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t",
         "security-key"),
    ],
)  # fmt: skip
def test_from_pem_errors(data: bytes | str, message: str) -> None:
    with pytest.raises(InvalidKey, match=message):
        Key.from_pem(data)


def test_from_pem_refuses_wrong_input_types() -> None:
    with pytest.raises(InvalidKey, match="expected bytes or str, got int"):
        Key.from_pem(5)  # type: ignore[arg-type]
    with pytest.raises(InvalidKey, match="password: expected bytes or str"):
        Key.from_pem(b"-----BEGIN PUBLIC KEY-----\nA\n-----END PUBLIC KEY-----", 5)  # type: ignore[arg-type]
    with pytest.raises(InvalidKey, match="expected bytes"):
        Key.from_der("MIIB")  # type: ignore[arg-type]
    pem = bytearray(Key.generate("ES256").to_pem())
    assert isinstance(Key.from_pem(pem), ECKey)  # type: ignore[arg-type]


def test_passwords(rsa_private: rsa.RSAPrivateKey) -> None:
    encrypted = _private(rsa_private, serialization.PrivateFormat.PKCS8, password=b"right")
    plain = _private(rsa_private, serialization.PrivateFormat.PKCS8)
    public = rsa_private.public_key().public_bytes(PEM, serialization.PublicFormat.PKCS1)
    with pytest.raises(InvalidKey, match="encrypted; a password is needed"):
        Key.from_pem(encrypted)
    with pytest.raises(InvalidKey, match="wrong password"):
        Key.from_pem(encrypted, "wrong")
    with pytest.raises(InvalidKey, match="not encrypted"):
        Key.from_pem(plain, "unneeded")
    with pytest.raises(InvalidKey, match="not encrypted"):
        Key.from_pem(public, "unneeded")
    encrypted_der = _private(rsa_private, serialization.PrivateFormat.PKCS8, DER, b"right")
    assert Key.from_der(encrypted_der, "right") == Key.from_cryptography(rsa_private)
    with pytest.raises(InvalidKey, match="encrypted; a password is needed"):
        Key.from_der(encrypted_der)
    with pytest.raises(InvalidKey, match="wrong password"):
        Key.from_der(encrypted_der, b"wrong")
    with pytest.raises(InvalidKey, match="not a public key, certificate or private key"):
        Key.from_der(b"\x30\x03\x02\x01\x01")
    with pytest.raises(InvalidKey, match="not encrypted"):
        Key.from_der(_private(rsa_private, serialization.PrivateFormat.PKCS8, DER), "pw")
    with pytest.raises(InvalidKey, match="wrong password or bad data"):
        Key.from_der(b"garbage", "pw")


def test_openssh_edge_cases(rsa_private: rsa.RSAPrivateKey) -> None:
    ed = ed25519.Ed25519PrivateKey.generate()
    line = ed.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                        serialization.PublicFormat.OpenSSH)  # fmt: skip
    with pytest.raises(InvalidKey, match="password was given but the key is public"):
        Key.from_ssh(line, "pw")
    with pytest.raises(InvalidKey, match="password was given but the key is public"):
        Key.from_pem(line, "pw")
    with pytest.raises(InvalidKey, match="expected a public key line"):
        Key.from_ssh(_private(rsa_private, serialization.PrivateFormat.PKCS8))
    with pytest.raises(InvalidKey, match="expected a public key line"):
        Key.from_ssh(b"")
    private = ed.private_bytes(PEM, serialization.PrivateFormat.OpenSSH,
                               serialization.NoEncryption())  # fmt: skip
    with pytest.raises(InvalidKey, match="not encrypted"):
        Key.from_ssh(private, "pw")


def _ssh_string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _encrypted_openssh(private_pem: bytes) -> bytes:
    """Rewrite an unencrypted openssh-key-v1 file as if aes256-ctr/bcrypt protected it."""
    blob = base64.b64decode(b"".join(private_pem.strip().splitlines()[1:-1]))
    magic = b"openssh-key-v1\x00"
    assert blob.startswith(magic)
    fields, offset = [], len(magic)
    for _ in range(3):  # ciphername, kdfname, kdfoptions
        length = int.from_bytes(blob[offset : offset + 4], "big")
        fields.append(blob[offset + 4 : offset + 4 + length])
        offset += 4 + length
    assert fields[:2] == [b"none", b"none"]
    nkeys, offset = blob[offset : offset + 4], offset + 4
    public_length = int.from_bytes(blob[offset : offset + 4], "big")
    public, offset = blob[offset + 4 : offset + 4 + public_length], offset + 4 + public_length
    section = blob[offset + 4 :]
    section += bytes(range(1, 1 + (-len(section) % 16)))  # aes256-ctr blocks are 16 bytes
    kdf_options = _ssh_string(bytes(16)) + (16).to_bytes(4, "big")
    new = magic + _ssh_string(b"aes256-ctr") + _ssh_string(b"bcrypt")
    new += _ssh_string(kdf_options) + nkeys + _ssh_string(public) + _ssh_string(section)
    body = base64.encodebytes(new)
    return b"-----BEGIN OPENSSH PRIVATE KEY-----\n" + body + b"-----END OPENSSH PRIVATE KEY-----\n"


def test_encrypted_openssh_key_without_bcrypt_says_what_to_install() -> None:
    try:
        import bcrypt  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        pass
    else:  # pragma: no cover - bcrypt is not part of the test environment
        pytest.skip("bcrypt is installed: encrypted OpenSSH keys are supported")
    ed = ed25519.Ed25519PrivateKey.generate()
    plain = ed.private_bytes(PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    encrypted = _encrypted_openssh(plain)
    with pytest.raises(InvalidKey, match="need the 'bcrypt' package"):
        Key.from_ssh(encrypted, "pw")
    with pytest.raises(InvalidKey, match="a password is needed"):
        Key.from_ssh(encrypted)


def test_unsupported_key_objects() -> None:
    with pytest.raises(InvalidKey, match="unsupported key object"):
        Key.from_cryptography("not a key")
    brainpool = ec.generate_private_key(ec.BrainpoolP384R1())
    with pytest.raises(InvalidKey, match="unsupported curve 'brainpoolP384r1'"):
        Key.from_cryptography(brainpool)


def test_pem_export_rules(rsa_private: rsa.RSAPrivateKey) -> None:
    key = Key.from_cryptography(rsa_private)
    public = key.public_key()
    with pytest.raises(InvalidKey, match="only applies to a private key"):
        key.to_pem(password="pw")
    with pytest.raises(InvalidKey, match="is public; it has no private key"):
        public.to_pem(private=True)
    with pytest.raises(InvalidKey, match="empty password"):
        key.to_pem(private=True, password="")
    with pytest.raises(InvalidKey, match="password: expected bytes or str"):
        key.to_pem(private=True, password=5)  # type: ignore[arg-type]
    with pytest.raises(InvalidKey, match="no PEM form"):
        OctKey.generate().to_pem()
    with pytest.raises(InvalidKey, match=r"OctKey\.from_pem: the input holds an RSA key"):
        OctKey.from_pem(key.to_pem())


_ED25519_OID = bytes.fromhex("06032b6570")  # 1.3.101.112
_UNKNOWN_OID = bytes.fromhex("06032b6579")  # 1.3.101.121, not a key algorithm


def _unknown_algorithm_certificate(rsa_private: rsa.RSAPrivateKey) -> x509.Certificate:
    """An RSA-signed certificate whose subject key has an algorithm nobody knows."""
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "odd")])
    now = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(ed25519.Ed25519PrivateKey.generate().public_key()).serial_number(3)
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(rsa_private, hashes.SHA256())
    )  # fmt: skip
    der = certificate.public_bytes(DER)
    assert der.count(_ED25519_OID) == 1
    return x509.load_der_x509_certificate(der.replace(_ED25519_OID, _UNKNOWN_OID))


def test_unknown_key_algorithms_are_invalid_keys(rsa_private: rsa.RSAPrivateKey) -> None:
    ed = ed25519.Ed25519PrivateKey.generate()
    pkcs8 = ed.private_bytes(DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    odd_pkcs8 = pkcs8.replace(_ED25519_OID, _UNKNOWN_OID)
    with pytest.raises(InvalidKey, match="unsupported key type or encryption"):
        Key.from_der(odd_pkcs8)
    odd_pem = (b"-----BEGIN PRIVATE KEY-----\n" + base64.encodebytes(odd_pkcs8)
               + b"-----END PRIVATE KEY-----\n")  # fmt: skip
    with pytest.raises(InvalidKey, match="unsupported key type or encryption"):
        Key.from_pem(odd_pem)
    certificate = _unknown_algorithm_certificate(rsa_private)
    with pytest.raises(InvalidKey, match="public key type is not supported"):
        Key.from_pem(certificate.public_bytes(PEM))
    with pytest.raises(InvalidKey, match="public key type is not supported"):
        Key.from_der(certificate.public_bytes(DER))
    with pytest.raises(InvalidKey, match="public key type is not supported"):
        Key.from_cryptography(certificate)
    chain = [base64.b64encode(certificate.public_bytes(DER)).decode("ascii")]
    with pytest.raises(InvalidKey, match="certificate's public key cannot be read"):
        Key.from_jwk({**Key.from_cryptography(ed).public_key().to_jwk(), "x5c": chain})


def test_A2_der_of_an_unknown_key_algorithm_refused_as_hmac_secret() -> None:
    spki = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(InvalidKey, match="symmetric secret"):
        OctKey(spki.replace(_ED25519_OID, _UNKNOWN_OID))


def test_openssh_private_key_with_an_unknown_cipher() -> None:
    plain = ed25519.Ed25519PrivateKey.generate().private_bytes(
        PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    blob = base64.b64decode(b"".join(plain.strip().splitlines()[1:-1]))
    magic = b"openssh-key-v1\x00"
    odd = blob.replace(magic + _ssh_string(b"none"), magic + _ssh_string(b"twofish-cbc"), 1)
    text = (b"-----BEGIN OPENSSH PRIVATE KEY-----\n" + base64.encodebytes(odd)
            + b"-----END OPENSSH PRIVATE KEY-----\n")  # fmt: skip
    with pytest.raises(InvalidKey, match=r"OpenSSH private key: unsupported \(Unsupported cipher"):
        Key.from_ssh(text, "pw")
