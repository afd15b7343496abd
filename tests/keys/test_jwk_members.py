"""JWK import rules: member types, strict base64url, metadata, X.509 members (RFC 7517 §4)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from jwtkit._codec import b64url_encode
from jwtkit.errors import InvalidKey, JWTError, MalformedToken
from jwtkit.jwk import ECKey, Key, OctKey, OKPKey, RSAKey


@pytest.fixture(scope="module")
def ec_jwk() -> dict[str, Any]:
    return Key.generate("ES256").to_jwk(private=True)


@pytest.fixture(scope="module")
def rsa_jwk(rsa_private: rsa.RSAPrivateKey) -> dict[str, Any]:
    return Key.from_cryptography(rsa_private).to_jwk(private=True)


def test_from_jwk_accepts_text_bytes_and_mappings(ec_jwk: dict[str, Any]) -> None:
    import json

    key = Key.from_jwk(ec_jwk)
    assert Key.from_jwk(json.dumps(ec_jwk)) == key
    assert Key.from_jwk(json.dumps(ec_jwk).encode("utf-8")) == key
    assert ECKey.from_jwk(ec_jwk) == key
    with pytest.raises(InvalidKey, match=r"RSAKey\.from_jwk: the input holds an EC key"):
        RSAKey.from_jwk(ec_jwk)


@pytest.mark.parametrize(
    "text",
    [b"", b"not json", b"[1, 2]", b'"kty"', b"\xff\xfe", b'{"kty": "oct", "kty": "RSA"}',
     "{\"kty\": \"\ud800\"}"],
)  # fmt: skip
def test_from_jwk_bad_json_is_malformed(text: bytes | str) -> None:
    with pytest.raises(MalformedToken):
        Key.from_jwk(text)


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ({}, "missing required member 'kty'"),
        ({"kty": 1}, "unsupported key type"),
        ({"kty": "oct"}, "missing required member 'k'"),
        ({"kty": "oct", "k": 5}, "'k' must be a string"),
        ({"kty": "oct", "k": "AAAA=="}, "not base64url"),
        ({"kty": "oct", "k": "AB"}, "non-canonical"),
        ({"kty": "oct", "k": "A"}, "invalid base64url length"),
        ({"kty": "oct", "k": "a b"}, "not base64url"),
        ({"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0", "x5c": ["AA"]},
         "do not apply to a symmetric"),
        ({"kty": "EC", "crv": "P-192", "x": "AA", "y": "AA"}, "unsupported EC curve"),
        ({"kty": "EC", "crv": 7, "x": "AA", "y": "AA"}, "'crv' must be a string"),
        ({"kty": "OKP", "crv": "Ed25519"}, "missing required member 'x'"),
        ({"kty": "OKP", "crv": "X9"}, "unsupported OKP curve"),
        ({"kty": "RSA", "n": "", "e": "AQAB"}, "'n' is empty"),
    ],
)  # fmt: skip
def test_from_jwk_member_errors(jwk: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidKey, match=message):
        Key.from_jwk(jwk)


def test_from_jwk_refuses_a_non_mapping() -> None:
    with pytest.raises(InvalidKey, match="expected a JSON object"):
        Key.from_jwk(["kty"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"use": "signature"}, "'use' must be"),
        ({"use": 1}, "'use' must be"),
        ({"use": None}, "'use' is null"),
        ({"kid": None}, "'kid' is null"),
        ({"alg": 256}, "'alg' must be a string"),
        ({"alg": ""}, "'alg' must not be empty"),
        ({"alg": "RS256"}, "cannot carry 'alg' 'RS256'"),
        ({"key_ops": "sign"}, "'key_ops' must be an array"),
        ({"key_ops": {"sign": True}}, "'key_ops' must be an array"),
        ({"key_ops": ["sign", 1]}, "'key_ops' must hold strings"),
        ({"key_ops": ["sign", "sign"]}, "lists 'sign' twice"),
        ({"use": "sig", "key_ops": ["sign", "deriveKey"]}, "contradict"),
        ({"use": "enc", "key_ops": ["verify"]}, "contradict"),
        ({"x5t": 1}, "'x5t' must be a base64url string"),
        ({"x5t": "AAAA"}, "'x5t' must encode 20 bytes"),
        ({"x5t": "AA=="}, "not base64url"),
        ({"x5t#S256": b64url_encode(bytes(20))}, "'x5t#S256' must encode 32 bytes"),
        ({"x5c": "MII"}, "'x5c' must be a non-empty array"),
        ({"x5c": []}, "'x5c' must be a non-empty array"),
        ({"x5c": [1]}, r"'x5c'\[0\] must be a base64 string"),
        ({"x5c": ["not base64!"]}, r"'x5c'\[0\] is not base64"),
        ({"x5c": ["AAA"]}, r"'x5c'\[0\] is not base64"),
        ({"x5c": ["AAB="]}, r"'x5c'\[0\] is not canonical"),
        ({"x5c": ["AAAA"]}, r"'x5c'\[0\] is not a DER X.509 certificate"),
    ],
)  # fmt: skip
def test_metadata_member_errors(
    ec_jwk: dict[str, Any], changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidKey, match=message):
        Key.from_jwk({**ec_jwk, **changes})


def test_metadata_is_kept_and_exported(ec_jwk: dict[str, Any]) -> None:
    jwk = {**ec_jwk, "kid": "k", "use": "sig", "key_ops": ["sign", "verify", "custom"],
           "alg": "ES256", "ext": True, "x5u": "https://example.com/never-fetched"}  # fmt: skip
    key = Key.from_jwk(jwk)
    assert (key.kid, key.use, key.key_ops, key.alg) == (
        "k",
        "sig",
        ("sign", "verify", "custom"),
        "ES256",
    )
    exported = key.to_jwk(private=True)
    assert "ext" not in exported
    assert "x5u" not in exported
    assert exported["key_ops"] == ["sign", "verify", "custom"]
    public = key.public_key()
    assert public.key_ops == ("verify", "custom")
    assert public.to_jwk()["key_ops"] == ["verify", "custom"]
    assert Key.generate("ES256", key_ops=[]).key_ops == ()


def test_constructor_validates_metadata_too(rsa_private: rsa.RSAPrivateKey) -> None:
    with pytest.raises(InvalidKey, match="'kid' must be a string"):
        RSAKey(rsa_private, kid=5)  # type: ignore[arg-type]
    with pytest.raises(InvalidKey, match="'key_ops' must be an array"):
        OctKey(b"x" * 32, key_ops="verify")
    with pytest.raises(InvalidKey, match="expected bytes or str"):
        OctKey(32)  # type: ignore[arg-type]
    with pytest.raises(InvalidKey, match="not valid Unicode"):
        OctKey("\ud800" * 40)
    assert OctKey(bytearray(b"y" * 32)).secret == b"y" * 32  # type: ignore[arg-type]
    assert OctKey(memoryview(b"y" * 32)) == OctKey(b"y" * 32)  # type: ignore[arg-type]
    assert OctKey("clé-secrète-assez-longue-0123456789abcdef").secret.startswith("clé".encode())
    with pytest.raises(InvalidKey, match="expected an RSA key object"):
        RSAKey(ec.generate_private_key(ec.SECP256R1()))  # type: ignore[arg-type]
    with pytest.raises(InvalidKey, match="expected an EC key object"):
        ECKey(rsa_private)  # type: ignore[arg-type]
    with pytest.raises(InvalidKey, match="expected an Ed25519, Ed448, X25519 or X448 key"):
        OKPKey(rsa_private)  # type: ignore[arg-type]


def test_rsa_private_jwk_variants(rsa_jwk: dict[str, Any]) -> None:
    key = Key.from_jwk(rsa_jwk)
    minimal = {name: rsa_jwk[name] for name in ("kty", "n", "e", "d")}
    assert Key.from_jwk(minimal) == key  # CRT parameters recovered
    with_zero = {**rsa_jwk, "n": b64url_encode(b"\x00" + base64.urlsafe_b64decode(
        rsa_jwk["n"] + "=" * (-len(rsa_jwk["n"]) % 4)))}  # fmt: skip
    assert Key.from_jwk(with_zero) == key  # a leading zero octet is tolerated, not re-emitted
    assert key.to_jwk(private=True)["n"] == rsa_jwk["n"]
    partial = {name: rsa_jwk[name] for name in ("kty", "n", "e", "d", "p", "q")}
    with pytest.raises(InvalidKey, match="all of p, q, dp, dq, qi or none"):
        Key.from_jwk(partial)
    no_d = {name: rsa_jwk[name] for name in ("kty", "n", "e", "p", "q")}
    with pytest.raises(InvalidKey, match="'d' is missing"):
        Key.from_jwk(no_d)
    with pytest.raises(InvalidKey, match="multi-prime"):
        Key.from_jwk({**rsa_jwk, "oth": [{"r": "AQ", "d": "AQ", "t": "AQ"}]})
    for bogus_d in ("AQ", rsa_jwk["n"]):
        with pytest.raises(InvalidKey, match="'d' does not match"):
            Key.from_jwk({**minimal, "d": bogus_d})
    n = int.from_bytes(
        base64.urlsafe_b64decode(rsa_jwk["n"] + "=" * (-len(rsa_jwk["n"]) % 4)), "big"
    )
    with pytest.raises(InvalidKey, match="modulus 'n' must be odd"):
        Key.from_jwk({"kty": "RSA", "n": b64url_encode((n + 1).to_bytes(256, "big")), "e": "AQAB"})
    huge = b64url_encode(b"\xff" * 2049)
    with pytest.raises(InvalidKey, match="larger than the 16384-bit maximum"):
        Key.from_jwk({"kty": "RSA", "n": huge, "e": "AQAB"})


def test_rsa_public_numbers_rejected_by_cryptography(rsa_jwk: dict[str, Any]) -> None:
    e_too_big = {"kty": "RSA", "n": rsa_jwk["n"], "e": b64url_encode(b"\xff" * 300)}
    with pytest.raises(InvalidKey, match="inconsistent or invalid"):
        Key.from_jwk(e_too_big)


def test_ec_private_value_out_of_range(ec_jwk: dict[str, Any]) -> None:
    with pytest.raises(InvalidKey, match="out of range"):
        Key.from_jwk({**ec_jwk, "d": b64url_encode(bytes(32))})
    with pytest.raises(InvalidKey, match="out of range"):
        Key.from_jwk({**ec_jwk, "d": b64url_encode(b"\xff" * 32)})


def test_okp_invalid_values() -> None:
    jwk = Key.generate("OKP", crv="X25519").to_jwk(private=True)
    other = Key.generate("OKP", crv="X25519").to_jwk(private=True)
    with pytest.raises(InvalidKey, match="does not match 'x'"):
        Key.from_jwk({**jwk, "d": other["d"]})
    ed448 = Key.generate("Ed448").to_jwk()
    with pytest.raises(InvalidKey, match="'x' must be 57 bytes on Ed448"):
        Key.from_jwk({**ed448, "x": b64url_encode(bytes(32))})


def test_x5c_must_hold_the_jwk_key(
    rsa_private: rsa.RSAPrivateKey,
    rsa_certificate: x509.Certificate,
    certificate_factory: Callable[..., x509.Certificate],
) -> None:
    der = rsa_certificate.public_bytes(serialization.Encoding.DER)
    leaf = base64.b64encode(der).decode("ascii")
    ca_der = certificate_factory(ec.generate_private_key(ec.SECP256R1())).public_bytes(
        serialization.Encoding.DER
    )
    chain = [leaf, base64.b64encode(ca_der).decode("ascii")]
    x5t = b64url_encode(hashlib.sha1(der).digest())  # noqa: S324 - the x5t definition
    x5t_s256 = b64url_encode(hashlib.sha256(der).digest())
    public_jwk = Key.from_cryptography(rsa_private.public_key()).to_jwk()
    key = Key.from_jwk({**public_jwk, "x5c": chain, "x5t": x5t, "x5t#S256": x5t_s256})
    assert key.x5c == tuple(chain)
    assert (key.x5t, key.x5t_s256) == (x5t, x5t_s256)
    exported = key.to_jwk()
    assert exported["x5c"] == chain
    assert exported["x5t"] == x5t
    assert exported["x5t#S256"] == x5t_s256
    assert key.public_key() is key
    private = Key.from_jwk({**Key.from_cryptography(rsa_private).to_jwk(private=True),
                            "x5c": chain})  # fmt: skip
    assert private.public_key().x5c == tuple(chain)
    other = Key.generate("RS256").public_key().to_jwk()
    with pytest.raises(InvalidKey, match="does not hold this key"):
        Key.from_jwk({**other, "x5c": chain})
    with pytest.raises(InvalidKey, match="not the thumbprint"):
        Key.from_jwk({**public_jwk, "x5c": chain, "x5t": b64url_encode(bytes(20))})
    with pytest.raises(InvalidKey, match="not the thumbprint"):
        Key.from_jwk({**public_jwk, "x5c": chain, "x5t#S256": b64url_encode(bytes(32))})
    with pytest.raises(InvalidKey, match=r"'x5c'\[1\] is not a DER X.509"):
        Key.from_jwk({**public_jwk, "x5c": [leaf, "AAAA"]})
    # thumbprints alone are only checked for shape
    alone = Key.from_jwk({**other, "x5t#S256": x5t_s256})
    assert alone.x5c is None
    assert alone.x5t_s256 == x5t_s256


def test_x5c_with_an_ed25519_certificate_key() -> None:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    signer = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "ed")])
    import datetime

    now = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(signer.public_key()).serial_number(2).not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1)).sign(signer, None)
    )  # fmt: skip
    chain = [base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()]
    key = Key.from_jwk({**Key.from_cryptography(signer).public_key().to_jwk(), "x5c": chain})
    assert isinstance(key, OKPKey)
    assert Key.from_cryptography(certificate) == Key.from_cryptography(signer.public_key())


def test_every_error_is_a_jwterror(ec_jwk: dict[str, Any]) -> None:
    for broken in ({**ec_jwk, "x": None}, {**ec_jwk, "crv": None}, {"kty": None}):
        with pytest.raises(JWTError):
            Key.from_jwk(broken)
