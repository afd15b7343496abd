"""Generating every kind of key, and round trips through JWK, PEM, DER and OpenSSH."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from jwtkit._keys.requirements import ALGORITHM_REQUIREMENTS
from jwtkit.errors import InvalidKey
from jwtkit.jwk import ECKey, Key, OctKey, OKPKey, RSAKey

GENERATED: dict[str, tuple[type[Key], object]] = {
    # alg -> (class, crv or size)
    "HS256": (OctKey, 256),
    "HS384": (OctKey, 384),
    "HS512": (OctKey, 512),
    "A128KW": (OctKey, 128),
    "A192KW": (OctKey, 192),
    "A256KW": (OctKey, 256),
    "A128GCMKW": (OctKey, 128),
    "A192GCMKW": (OctKey, 192),
    "A256GCMKW": (OctKey, 256),
    "dir": (OctKey, 256),
    "PBES2-HS256+A128KW": (OctKey, 256),
    "PBES2-HS384+A192KW": (OctKey, 256),
    "PBES2-HS512+A256KW": (OctKey, 256),
    "RS256": (RSAKey, 2048),
    "RS384": (RSAKey, 2048),
    "RS512": (RSAKey, 2048),
    "PS256": (RSAKey, 2048),
    "PS384": (RSAKey, 2048),
    "PS512": (RSAKey, 2048),
    "RSA-OAEP": (RSAKey, 2048),
    "RSA-OAEP-256": (RSAKey, 2048),
    "RSA-OAEP-384": (RSAKey, 2048),
    "RSA-OAEP-512": (RSAKey, 2048),
    "RSA1_5": (RSAKey, 2048),
    "ES256": (ECKey, "P-256"),
    "ES384": (ECKey, "P-384"),
    "ES512": (ECKey, "P-521"),
    "ES256K": (ECKey, "secp256k1"),
    "EdDSA": (OKPKey, "Ed25519"),
    "Ed25519": (OKPKey, "Ed25519"),
    "Ed448": (OKPKey, "Ed448"),
    "ECDH-ES": (ECKey, "P-256"),
    "ECDH-ES+A128KW": (ECKey, "P-256"),
    "ECDH-ES+A192KW": (ECKey, "P-256"),
    "ECDH-ES+A256KW": (ECKey, "P-256"),
}


def _shape(key: Key) -> object:
    if isinstance(key, OctKey):
        return len(key.secret) * 8
    if isinstance(key, RSAKey):
        return key.size
    assert isinstance(key, (ECKey, OKPKey))
    return key.crv


@pytest.fixture(scope="module")
def generated() -> dict[str, Key]:
    return {alg: Key.generate(alg, kid=f"kid-{alg}") for alg in GENERATED}


@pytest.mark.parametrize("alg", sorted(GENERATED))
def test_generate_for_algorithm(alg: str, generated: dict[str, Key]) -> None:
    key = generated[alg]
    cls, shape = GENERATED[alg]
    assert type(key) is cls
    assert _shape(key) == shape
    assert key.alg == alg
    assert key.kid == f"kid-{alg}"
    assert key.is_private
    assert key.supports(alg)
    operation = "sign" if ALGORITHM_REQUIREMENTS[alg].family == "sig" else "decrypt"
    key.check_usable(alg, operation)


@pytest.mark.parametrize("alg", sorted(GENERATED))
def test_jwk_round_trip(alg: str, generated: dict[str, Key]) -> None:
    key = generated[alg]
    again = Key.from_jwk(key.to_jwk(private=True))
    assert again == key
    assert hash(again) == hash(key)
    assert type(key).from_jwk(key.to_jwk(private=True)) == key
    if not isinstance(key, OctKey):
        public = key.public_key()
        assert not public.is_private
        assert Key.from_jwk(public.to_jwk()) == public
        assert public.thumbprint() == key.thumbprint()
        assert public != key


@pytest.mark.parametrize("alg", sorted(a for a, (cls, _) in GENERATED.items() if cls is not OctKey))
def test_pem_and_der_round_trip(alg: str, generated: dict[str, Key]) -> None:
    key = generated[alg]
    pem = key.to_pem(private=True)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    again = Key.from_pem(pem, kid=key.kid, alg=key.alg)
    assert again == key
    assert Key.from_pem(pem.decode("ascii"), kid=key.kid, alg=key.alg) == key
    public_pem = key.to_pem()
    assert public_pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert Key.from_pem(public_pem, kid=key.kid, alg=key.alg) == key.public_key()
    encrypted = key.to_pem(private=True, password="correct horse")
    assert b"ENCRYPTED PRIVATE KEY" in encrypted
    assert Key.from_pem(encrypted, "correct horse", kid=key.kid, alg=key.alg) == key
    assert Key.from_pem(encrypted, b"correct horse", kid=key.kid, alg=key.alg) == key
    private_der = serialization.load_pem_private_key(pem, None).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert Key.from_der(private_der, kid=key.kid, alg=key.alg) == key
    public_der = serialization.load_pem_public_key(public_pem).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert Key.from_der(public_der, kid=key.kid, alg=key.alg) == key.public_key()


def test_generate_by_kty_and_options() -> None:
    oct_key = Key.generate("oct")
    assert isinstance(oct_key, OctKey)
    assert len(oct_key.secret) == 32
    assert oct_key.alg is None
    assert len(OctKey.generate(384).secret) == 48
    assert len(OctKey.generate("HS512").secret) == 64
    assert OctKey.generate("HS512").alg == "HS512"
    assert len(OctKey.generate("HS256", size=512).secret) == 64
    assert len(OctKey.generate(size=128).secret) == 16
    assert len(OctKey.generate("oct", size=136).secret) == 17
    rsa_key = RSAKey.generate(size=3072)
    assert rsa_key.size == 3072
    assert rsa_key.alg is None
    assert not rsa_key.weak
    assert RSAKey.generate("PS256").alg == "PS256"
    ec_key = ECKey.generate()
    assert ec_key.crv == "P-256"
    assert ECKey.generate(crv="P-384").crv == "P-384"
    assert Key.generate("EC", crv="secp256k1").supports("ES256K")
    assert OKPKey.generate().crv == "Ed25519"
    for crv in ("Ed25519", "Ed448", "X25519", "X448"):
        okp = OKPKey.generate(crv=crv)
        assert okp.crv == crv
        assert Key.from_jwk(okp.to_jwk(private=True)) == okp
        assert Key.from_pem(okp.to_pem(private=True)) == okp
        assert Key.from_pem(okp.to_pem()) == okp.public_key()
    assert OKPKey.generate("EdDSA", crv="Ed448").crv == "Ed448"
    x448 = Key.generate("ECDH-ES+A256KW", crv="X448")
    assert isinstance(x448, OKPKey)
    assert x448.crv == "X448"
    assert Key.generate("ECDH-ES", crv="P-521").supports("ECDH-ES")
    meta = Key.generate("ES256", kid="k", use="sig", key_ops=["sign", "verify"])
    assert (meta.kid, meta.use, meta.key_ops) == ("k", "sig", ("sign", "verify"))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Key.generate("none"), "unknown algorithm"),
        (lambda: Key.generate("HS1"), "unknown algorithm"),
        (lambda: Key.generate(256), "expected an algorithm"),  # type: ignore[arg-type]
        (lambda: Key.generate("RS256", size=1024), "between 2048"),
        (lambda: Key.generate("RSA", size=100_000), "between 2048"),
        (lambda: Key.generate("RSA", crv="P-256"), "'crv' does not apply"),
        (lambda: Key.generate("HS256", size=128), "at least 256 bits"),
        (lambda: Key.generate("A128KW", size=256), "exactly 128 bits"),
        (lambda: Key.generate("oct", size=100), "multiple of 8"),
        (lambda: Key.generate("oct", size=64), "at least 128"),
        (lambda: Key.generate("ES256", crv="P-384"), "does not fit"),
        (lambda: Key.generate("ES256", size=256), "'size' does not apply"),
        (lambda: Key.generate("EC", crv="Ed25519"), "does not fit"),
        (lambda: Key.generate("OKP", crv="P-256"), "does not fit"),
        (lambda: Key.generate("ECDH-ES", crv="secp256k1"), "does not fit"),
        (lambda: Key.generate("EdDSA", crv="X25519"), "does not fit"),
        (lambda: OctKey.generate(256, size=512), "give the size once"),
        (lambda: OctKey.generate(True), "expected a size"),
        (lambda: OctKey.generate("ES256"), "holds an EC key"),
        (lambda: RSAKey.generate("ES256"), "holds an EC key"),
        (lambda: ECKey.generate("EdDSA"), "holds an OKP key"),
        (lambda: OKPKey.generate("RS256"), "holds an RSA key"),
        (lambda: Key.generate("ES256", use="enc", key_ops=["sign"]), "contradict"),
    ],
)
def test_generate_refuses_bad_arguments(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(InvalidKey, match=message):
        call()


def _openssh_private(
    obj: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey,
) -> bytes:
    return obj.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )


def _openssh_public(
    obj: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey,
) -> bytes:
    return obj.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )


@pytest.mark.parametrize("kind", ["ed25519", "rsa", "p256", "p384", "p521"])
def test_openssh_round_trip(kind: str, rsa_private: rsa.RSAPrivateKey) -> None:
    obj: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    if kind == "ed25519":
        obj = ed25519.Ed25519PrivateKey.generate()
    elif kind == "rsa":
        obj = rsa_private
    else:
        curve = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1(), "p521": ec.SECP521R1()}[kind]
        obj = ec.generate_private_key(curve)
    expected = Key.from_cryptography(obj, kid="ssh")
    private_text = _openssh_private(obj)
    public_line = _openssh_public(obj) + b" user@host\n"
    assert Key.from_ssh(private_text, kid="ssh") == expected
    assert Key.from_pem(private_text, kid="ssh") == expected
    assert Key.from_ssh(public_line, kid="ssh") == expected.public_key()
    assert Key.from_pem(public_line.decode("ascii"), kid="ssh") == expected.public_key()
    assert Key.from_ssh(b"  " + public_line.replace(b"\n", b"\r\n")) == Key.from_cryptography(
        obj.public_key()
    )
