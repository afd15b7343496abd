"""AKP keys (RFC 9964): ML-DSA-44/65/87 key pairs as JWK, PEM and DER, their thumbprints,
equality and usability, and the clear refusal where ``cryptography`` cannot do ML-DSA."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

import jwtkit
from jwtkit._codec import b64url_decode, b64url_encode
from jwtkit._keys import akp_key, mldsa_support
from jwtkit._keys.mldsa_support import ML_DSA_MIN_CRYPTOGRAPHY
from jwtkit.errors import InvalidKey
from jwtkit.jwk import AKPKey, Key, KeySet, OKPKey

DATA = Path(__file__).resolve().parent / "data"
ALGORITHMS = ["ML-DSA-44", "ML-DSA-65", "ML-DSA-87"]
PUBLIC_LENGTHS = {"ML-DSA-44": 1312, "ML-DSA-65": 1952, "ML-DSA-87": 2592}
needs_mldsa = pytest.mark.skipif(
    mldsa_support.MLDSA_MODULE is None,
    reason=f"ML-DSA needs cryptography >= {ML_DSA_MIN_CRYPTOGRAPHY}",
)


@pytest.fixture(scope="module", params=ALGORITHMS)
def akp(request: pytest.FixtureRequest) -> AKPKey:
    if mldsa_support.MLDSA_MODULE is None:
        pytest.skip(f"ML-DSA needs cryptography >= {ML_DSA_MIN_CRYPTOGRAPHY}")
    return AKPKey.generate(request.param, kid="pq-1")


def _der(pem: bytes) -> bytes:
    body = re.search(rb"-----BEGIN [A-Z ]+-----\n(.*?)\n-----END", pem, re.DOTALL)
    assert body is not None
    return base64.b64decode(body.group(1))


# -- generation and JWK ---------------------------------------------------------------------


@needs_mldsa
@pytest.mark.parametrize("alg", ALGORITHMS)
def test_generate_names_the_parameter_set(alg: str) -> None:
    key = Key.generate(alg, kid="k", use="sig")
    assert isinstance(key, AKPKey)
    assert key.kty == "AKP"
    assert key.alg == alg
    assert key.parameters.name == alg
    assert key.parameters.public_length == PUBLIC_LENGTHS[alg]
    assert repr(key.parameters) == f"MLDSAParameters({alg!r})"
    assert key.is_private
    assert key.supports(alg)
    assert not any(key.supports(other) for other in ALGORITHMS if other != alg)
    assert not key.supports("EdDSA")


@needs_mldsa
def test_generate_akp_without_an_algorithm_is_ml_dsa_65() -> None:
    assert Key.generate("AKP").alg == "ML-DSA-65"
    assert AKPKey.generate().alg == "ML-DSA-65"
    for extra in ({"size": 256}, {"crv": "Ed25519"}):
        with pytest.raises(InvalidKey, match="do not apply to AKP keys"):
            Key.generate("ML-DSA-44", **extra)
    with pytest.raises(InvalidKey, match="holds an AKP key"):
        OKPKey.generate("ML-DSA-44")


def test_generate_mentions_ml_dsa_for_an_unknown_name() -> None:
    with pytest.raises(InvalidKey, match=r"'ML-DSA-65'.*'AKP'"):
        Key.generate("ML-DSA-99")


def test_jwk_round_trip(akp: AKPKey) -> None:
    private = akp.to_jwk(private=True)
    assert set(private) == {"kty", "alg", "pub", "priv", "kid"}
    assert private["kty"] == "AKP"
    assert private["alg"] == akp.alg
    assert len(b64url_decode(private["pub"], "pub")) == akp.parameters.public_length
    assert len(b64url_decode(private["priv"], "priv")) == 32  # RFC 9964 §4: the seed
    public = akp.to_jwk()
    assert set(public) == {"kty", "alg", "pub", "kid"}
    assert Key.from_jwk(private) == akp
    assert Key.from_jwk(json.dumps(public)) == akp.public_key()
    assert not Key.from_jwk(public).is_private
    assert AKPKey.from_jwk(public).alg == akp.alg


def _jwk(alg: str = "ML-DSA-44") -> dict[str, Any]:
    return AKPKey.generate(alg).to_jwk(private=True)


@needs_mldsa
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"alg": None}, "missing required member 'alg'"),
        ({"alg": 44}, "'alg' must be a string"),
        ({"alg": "ES256"}, "unsupported AKP algorithm 'ES256'"),
        ({"alg": "ml-dsa-44"}, "unsupported AKP algorithm"),
        ({"pub": None}, "missing required member 'pub'"),
        ({"pub": "AAAA"}, "'pub' must be 1312 bytes for ML-DSA-44, got 3"),
        ({"pub": "not base64!"}, "pub"),
        ({"priv": "AAAA"}, r"'priv' must be the 32-byte seed for ML-DSA-44, got 3 bytes"),
        ({"priv": b64url_encode(bytes(32))}, "does not match 'pub'"),
        ({"priv": 1}, "'priv' must be a string"),
    ],
)
def test_jwk_member_errors(change: dict[str, Any], message: str) -> None:
    jwk = _jwk()
    for name, value in change.items():
        if value is None:
            del jwk[name]
        else:
            jwk[name] = value
    with pytest.raises(InvalidKey, match=message):
        Key.from_jwk(jwk)


@needs_mldsa
def test_a_jwk_of_another_parameter_set_is_refused() -> None:
    """``pub`` of ML-DSA-65 under ``alg: ML-DSA-44`` has the wrong length."""
    jwk = _jwk("ML-DSA-65")
    jwk["alg"] = "ML-DSA-44"
    with pytest.raises(InvalidKey, match="1312 bytes for ML-DSA-44, got 1952"):
        Key.from_jwk(jwk)


@needs_mldsa
def test_key_set_reads_akp_keys_and_skips_bad_ones() -> None:
    good = _jwk("ML-DSA-65")
    bad = dict(good, alg="RS256", kid="bad")
    keys = KeySet.from_jwks({"keys": [good, bad]})
    assert len(keys) == 1
    assert keys[0].alg == "ML-DSA-65"
    assert keys.skipped[0].kid == "bad"
    assert "unsupported AKP algorithm" in keys.skipped[0].reason


# -- thumbprints (RFC 9964 §6) --------------------------------------------------------------


def test_thumbprint_hashes_alg_kty_and_pub_only(akp: AKPKey) -> None:
    jwk = akp.to_jwk()
    canonical = json.dumps(
        {"alg": jwk["alg"], "kty": "AKP", "pub": jwk["pub"]}, separators=(",", ":")
    ).encode()
    assert canonical.startswith(b'{"alg":"ML-DSA-')
    assert akp.thumbprint() == b64url_encode(hashlib.sha256(canonical).digest())
    assert akp.public_key().thumbprint() == akp.thumbprint()
    assert akp.thumbprint_uri().endswith(akp.thumbprint())
    other_metadata = AKPKey.from_jwk(dict(jwk, kid="other", use="sig"))
    assert other_metadata.thumbprint() == akp.thumbprint()


# -- PEM and DER ----------------------------------------------------------------------------


def test_pem_and_der_round_trip(akp: AKPKey) -> None:
    private_pem = akp.to_pem(private=True)
    assert private_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert Key.from_pem(private_pem, kid="pq-1") == akp
    assert Key.from_der(_der(private_pem), kid="pq-1") == akp
    public_pem = akp.to_pem()
    assert public_pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    loaded = Key.from_pem(public_pem, kid="pq-1")
    assert loaded == akp.public_key()
    assert loaded.alg == akp.alg
    assert Key.from_der(_der(public_pem), kid="pq-1") == akp.public_key()
    encrypted = akp.to_pem(private=True, password="pw")
    assert encrypted.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert Key.from_pem(encrypted, "pw", kid="pq-1") == akp


def test_pkcs8_holds_the_seed_only(akp: AKPKey) -> None:
    """cryptography writes the seed-only PKCS#8 form (the ``seed [0]`` choice); 32 seed bytes
    plus the algorithm identifier make 54 bytes."""
    der = _der(akp.to_pem(private=True))
    assert len(der) == 54
    seed = b64url_decode(akp.to_jwk(private=True)["priv"], "priv")
    assert der.endswith(b"\x80\x20" + seed)


@needs_mldsa
def test_the_data_files_are_ml_dsa_44_keys() -> None:
    private = Key.from_pem((DATA / "ml-dsa-44-private.pem").read_bytes())
    public = Key.from_pem((DATA / "ml-dsa-44-public.pem").read_bytes())
    assert isinstance(private, AKPKey)
    assert private.alg == "ML-DSA-44"
    assert public == private.public_key()
    assert Key.from_der(_der((DATA / "ml-dsa-44-public.pem").read_bytes())) == public


@needs_mldsa
def test_pem_with_another_alg_is_refused() -> None:
    pem = (DATA / "ml-dsa-44-public.pem").read_bytes()
    with pytest.raises(InvalidKey, match="cannot carry 'alg' 'ML-DSA-65'"):
        Key.from_pem(pem, alg="ML-DSA-65")
    with pytest.raises(InvalidKey, match="cannot carry 'alg' 'ES256'"):
        Key.from_pem(pem, alg="ES256")


@needs_mldsa
def test_ml_dsa_certificates_and_x5c() -> None:
    """A certificate's ML-DSA key is an AKP key, and an AKP JWK's x5c must hold its own key."""
    assert mldsa_support.MLDSA_MODULE is not None
    private = mldsa_support.MLDSA_MODULE.MLDSA65PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pq")])
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=1))
        .sign(private, None)
    )
    key = Key.from_cryptography(private)
    assert Key.from_pem(certificate.public_bytes(serialization.Encoding.PEM)) == key.public_key()
    jwk = key.public_key().to_jwk()
    jwk["x5c"] = [base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()]
    assert Key.from_jwk(jwk).x5c == tuple(jwk["x5c"])
    other = AKPKey.generate("ML-DSA-65").public_key().to_jwk()
    with pytest.raises(InvalidKey, match="x5c"):
        Key.from_jwk(dict(other, x5c=jwk["x5c"]))


# -- objects, equality, repr ----------------------------------------------------------------


def test_wrapping_cryptography_objects(akp: AKPKey) -> None:
    private = akp.crypto_private_key
    assert private is not None
    assert Key.from_cryptography(private, kid="pq-1") == akp
    assert Key.from_cryptography(akp.crypto_public_key, kid="pq-1") == akp.public_key()
    assert AKPKey(private).alg == akp.alg
    with pytest.raises(InvalidKey, match="expected an ML-DSA-44, ML-DSA-65 or ML-DSA-87 key"):
        AKPKey(ed25519.Ed25519PrivateKey.generate())  # type: ignore[arg-type]


def test_equality_hash_and_repr(akp: AKPKey) -> None:
    jwk = akp.to_jwk(private=True)
    same = Key.from_jwk(jwk)
    assert same == akp
    assert hash(same) == hash(akp)
    assert akp.public_key() != akp
    assert AKPKey.generate(akp.alg, kid="pq-1") != akp
    assert Key.from_jwk(dict(jwk, kid="other")) != akp
    text = repr(akp)
    assert text == f"<AKPKey kty='AKP' {akp.alg} kid='pq-1' alg='{akp.alg}' private>"
    assert jwk["pub"][:16] not in text
    assert jwk["priv"][:16] not in text
    assert str(akp.public_key()).endswith("public>")


def test_public_key_keeps_metadata() -> None:
    if mldsa_support.MLDSA_MODULE is None:
        pytest.skip(f"ML-DSA needs cryptography >= {ML_DSA_MIN_CRYPTOGRAPHY}")
    key = AKPKey.generate("ML-DSA-44", kid="k", use="sig", key_ops=["sign", "verify"])
    public = key.public_key()
    assert (public.kid, public.use, public.alg, public.key_ops) == (
        "k",
        "sig",
        "ML-DSA-44",
        ("verify",),
    )
    assert public.public_key() is public


# -- usability ------------------------------------------------------------------------------


@needs_mldsa
def test_check_usable() -> None:
    key = AKPKey.generate("ML-DSA-65", kid="k")
    key.check_usable("ML-DSA-65", "sign")
    key.public_key().check_usable("ML-DSA-65", "verify")
    with pytest.raises(InvalidKey, match=r"does not fit ML-DSA-44: it needs an AKP key for"):
        key.check_usable("ML-DSA-44", "verify")
    with pytest.raises(InvalidKey, match="public key; 'sign' needs the private key"):
        key.public_key().check_usable("ML-DSA-65", "sign")
    with pytest.raises(InvalidKey, match="has no 'encrypt' operation"):
        key.check_usable("ML-DSA-65", "encrypt")
    with pytest.raises(InvalidKey, match="'use' 'enc'"):
        AKPKey.generate("ML-DSA-65", use="enc").check_usable("ML-DSA-65", "verify")
    with pytest.raises(InvalidKey, match="'key_ops' without 'sign'"):
        AKPKey.generate("ML-DSA-65", key_ops=["verify"]).check_usable("ML-DSA-65", "sign")
    with pytest.raises(InvalidKey, match="it needs an AKP key for ML-DSA-65"):
        Key.generate("ES256").check_usable("ML-DSA-65", "verify")


# -- without ML-DSA in cryptography ---------------------------------------------------------


@pytest.fixture
def without_mldsa(monkeypatch: pytest.MonkeyPatch) -> None:
    """Behave as on a ``cryptography`` release that cannot do ML-DSA."""
    monkeypatch.setattr(mldsa_support, "MLDSA_MODULE", None)


@pytest.mark.usefixtures("without_mldsa")
def test_every_entry_point_names_the_release_needed() -> None:
    expected = (
        r"ML-DSA \(RFC 9964\) is unsupported by cryptography [0-9.]+; it needs "
        r"cryptography >= 48\.0\.0 with ML-DSA support"
    )
    for alg in [*ALGORITHMS, "AKP"]:
        with pytest.raises(InvalidKey, match=expected):
            Key.generate(alg)
    jwk = {"kty": "AKP", "alg": "ML-DSA-44", "pub": b64url_encode(bytes(1312))}
    with pytest.raises(InvalidKey, match="JWK: " + expected):
        Key.from_jwk(jwk)
    with pytest.raises(InvalidKey, match="AKPKey: " + expected):
        AKPKey(object())  # type: ignore[arg-type]
    assert akp_key.mldsa_classes() == ()
    keys = KeySet.from_jwks({"keys": [jwk]})
    assert len(keys) == 0
    assert "cryptography >= 48.0.0" in keys.skipped[0].reason


@needs_mldsa
def test_without_mldsa_a_cryptography_key_object_is_unsupported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert mldsa_support.MLDSA_MODULE is not None
    private = mldsa_support.MLDSA_MODULE.MLDSA44PrivateKey.generate()
    monkeypatch.setattr(mldsa_support, "MLDSA_MODULE", None)
    with pytest.raises(InvalidKey, match="unsupported key object"):
        Key.from_cryptography(private)


def test_load_mldsa_without_the_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """cryptography before 47.0.0 has no ``mldsa`` module."""
    from cryptography.hazmat.primitives import asymmetric

    monkeypatch.delattr(asymmetric, "mldsa", raising=False)
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.asymmetric.mldsa", None)
    assert mldsa_support.load_mldsa() is None


@needs_mldsa
def test_load_mldsa_without_a_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """cryptography 47.0.0 has the module, but its wheels' backend raises on first use."""
    module = mldsa_support.MLDSA_MODULE
    assert module is not None
    assert mldsa_support.load_mldsa() is module

    def unsupported(data: bytes) -> None:
        raise UnsupportedAlgorithm("ML-DSA-44 is not supported by this backend.")

    monkeypatch.setattr(module.MLDSA44PrivateKey, "from_seed_bytes", unsupported)
    assert mldsa_support.load_mldsa() is None


def _broken_ml_dsa_containers() -> dict[str, bytes]:
    """An ML-DSA-44 SubjectPublicKeyInfo and PKCS#8 key whose key material is cut short: right
    shape and algorithm, but no ``cryptography`` release reads them."""
    algorithm = bytes.fromhex("300b0609608648016503040311")
    bit_string = bytes.fromhex("030500") + bytes(4)
    spki = bytes([0x30, len(algorithm) + len(bit_string)]) + algorithm + bit_string
    octets = bytes.fromhex("0406") + bytes.fromhex("8004") + bytes(4)
    body = bytes.fromhex("020100") + algorithm + octets
    return {"PUBLIC KEY": spki, "PRIVATE KEY": bytes([0x30, len(body)]) + body}


def _pem(label: str, der: bytes) -> bytes:
    text = base64.encodebytes(der).decode("ascii")
    return f"-----BEGIN {label}-----\n{text}-----END {label}-----\n".encode("ascii")


@pytest.mark.parametrize("label", ["PUBLIC KEY", "PRIVATE KEY"])
def test_ml_dsa_files_name_the_release_needed(monkeypatch: pytest.MonkeyPatch, label: str) -> None:
    """Before 48.0.0, cryptography's loaders cannot read ML-DSA files; the error says why."""
    der = _broken_ml_dsa_containers()[label]
    monkeypatch.setattr(mldsa_support, "MLDSA_MODULE", None)
    with pytest.raises(InvalidKey, match=r"^PEM .*ML-DSA.*cryptography >= 48\.0\.0"):
        Key.from_pem(_pem(label, der))
    with pytest.raises(InvalidKey, match=r"^DER: ML-DSA.*cryptography >= 48\.0\.0"):
        Key.from_der(der)


@needs_mldsa
@pytest.mark.parametrize("label", ["PUBLIC KEY", "PRIVATE KEY"])
def test_broken_ml_dsa_files_are_bad_data_where_ml_dsa_works(label: str) -> None:
    der = _broken_ml_dsa_containers()[label]
    with pytest.raises(InvalidKey) as from_pem:
        Key.from_pem(_pem(label, der))
    with pytest.raises(InvalidKey) as from_der:
        Key.from_der(der)
    assert "ML-DSA" not in str(from_pem.value) + str(from_der.value)


@pytest.mark.skipif(
    mldsa_support.MLDSA_MODULE is not None, reason="for cryptography releases without ML-DSA"
)
@pytest.mark.parametrize("name", ["ml-dsa-44-public.pem", "ml-dsa-44-private.pem"])
def test_old_cryptography_names_the_release_for_ml_dsa_files(name: str) -> None:
    pem = (DATA / name).read_bytes()
    with pytest.raises(InvalidKey, match=r"cryptography >= 48\.0\.0"):
        Key.from_pem(pem)
    with pytest.raises(InvalidKey, match=r"cryptography >= 48\.0\.0"):
        Key.from_der(_der(pem))


def test_top_level_export() -> None:
    assert jwtkit.AKPKey is AKPKey
    assert AKPKey.kty == "AKP"
