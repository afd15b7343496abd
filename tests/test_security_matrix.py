# ruff: noqa: N802 - test names carry the security-matrix row ids (A1, B5, ...) in capitals
"""Security regression tests, one or more per row of the security matrix
(``docs/security.md``), named after the row and the advisories it names, in the
style of PyJWT's ``test_advisory.py``.

Every attack goes end to end through the public entry points (``jwtkit.decode``,
``jwtkit.Verifier``, ``jwtkit.jws.verify``). Forged tokens that jwtkit would refuse to produce
are built by hand with ``cryptography``, ``hmac`` and ``base64``. Every rejection asserts the
exact jwtkit error class, so a crash with any other exception fails the test.

Elsewhere: the JWE half of A6, the JWE side of A7-A10 and section C (JWE) are in
``tests/jwe/test_security_matrix_jwe.py``; A8 and the JSON side of A7-A10 (JWS JSON
serialization) in ``tests/jws/test_jws_json.py``; D6 (remote JWKS) in ``tests/remote/``; the
key-construction side of A2/A3/A5/B6/F1-F4 in ``tests/keys/``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import inspect
import json
import socket
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.x509.oid import NameOID

import jwtkit
import jwtkit._jwa_signing
from jwtkit import jws
from jwtkit._codec import DEFAULT_MAX_TOKEN_SIZE
from jwtkit._keysource import KeyArgument
from jwtkit.errors import (
    AlgorithmNotAllowed,
    ClaimError,
    InvalidAudience,
    InvalidIssuer,
    InvalidKey,
    InvalidSignature,
    InvalidType,
    JWTError,
    KeyNotFound,
    MalformedToken,
    MissingClaim,
    TokenTooLarge,
    UnsupportedCritical,
    UsageError,
)
from jwtkit.jwa import DEFAULT_REGISTRY, NONE, InsecureAlgorithmWarning, Registry
from jwtkit.testing import FrozenClock
from vectors import load_cookbook, load_rfc_cases

NOW = 1_700_000_000
#: A strong, fixed 32-byte HMAC secret (HS256-sized).
SECRET = hashlib.sha256(b"jwtkit security-matrix regression tests").digest()
OTHER_SECRET = hashlib.sha256(b"not the verifier's secret").digest()
CLAIMS: dict[str, Any] = {"sub": "42", "admin": False}

Signer = Callable[[bytes], bytes]
PrivateKey = (
    rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
)

# Group orders (SEC 2 §2.4.2; FIPS 186-5) and the Ed25519/Ed448 subgroup orders (RFC 8032 §5).
CURVE_ORDERS = {
    "ES256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "ES384": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
        "581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
    "ES512": int(
        "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "FA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
        16,
    ),
}
ED25519_L = 2**252 + 27742317777372353535851937790883648493
ED448_L = 2**446 - 13818066809895115352007386748515426880336692474882178609894547503885
ED25519_P = 2**255 - 19
B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


# ---------------------------------------------------------------------------------------------
# hand-made tokens


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def lenient_b64decode(segment: str) -> bytes:
    """What a lenient decoder makes of a segment: padding added, trailing bits ignored."""
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def segment(value: Mapping[str, Any] | bytes) -> str:
    return b64(value if isinstance(value, bytes) else json_bytes(value))


def signed(header_segment: str, payload_segment: str, sign: Signer | None) -> str:
    """``header.payload.signature`` with the signature computed over exactly these segments."""
    signing_input = f"{header_segment}.{payload_segment}"
    signature = b"" if sign is None else sign(signing_input.encode("utf-8"))
    return f"{signing_input}.{b64(signature)}"


def forge(
    header: Mapping[str, Any] | bytes, claims: Mapping[str, Any] | bytes, sign: Signer | None
) -> str:
    return signed(segment(header), segment(claims), sign)


def parts(token: str) -> tuple[str, str, str]:
    header_segment, payload_segment, signature_segment = token.split(".")
    return header_segment, payload_segment, signature_segment


def with_signature(token: str, signature: bytes) -> str:
    header_segment, payload_segment, _ = parts(token)
    return f"{header_segment}.{payload_segment}.{b64(signature)}"


def hs(secret: bytes, digest: str = "sha256") -> Signer:
    def sign(data: bytes) -> bytes:
        return hmac.digest(secret, data, digest)

    return sign


def rsa_signer(
    private: rsa.RSAPrivateKey, pad: padding.AsymmetricPadding, algorithm: hashes.HashAlgorithm
) -> Signer:
    def sign(data: bytes) -> bytes:
        return private.sign(data, pad, algorithm)

    return sign


def pss(salt_length: int, mgf_hash: hashes.HashAlgorithm | None = None) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(mgf_hash or hashes.SHA256()), salt_length=salt_length)


_EC_HASHES: dict[int, type[hashes.HashAlgorithm]] = {
    256: hashes.SHA256,
    384: hashes.SHA384,
    521: hashes.SHA512,
}


def ecdsa_signer(private: ec.EllipticCurvePrivateKey) -> Signer:
    """JOSE ECDSA: fixed-length big-endian R || S (RFC 7518 §3.4)."""
    size = (private.curve.key_size + 7) // 8
    scheme = ec.ECDSA(_EC_HASHES[private.curve.key_size]())

    def sign(data: bytes) -> bytes:
        r, s = decode_dss_signature(private.sign(data, scheme))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")

    return sign


def ecdsa_der_signer(private: ec.EllipticCurvePrivateKey) -> Signer:
    scheme = ec.ECDSA(_EC_HASHES[private.curve.key_size]())

    def sign(data: bytes) -> bytes:
        return private.sign(data, scheme)

    return sign


def int_b64(value: int) -> str:
    return b64(value.to_bytes((value.bit_length() + 7) // 8 or 1, "big"))


_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


def public_jwk(private: PrivateKey, **extra: Any) -> dict[str, Any]:
    """The public JWK of ``private``, built from the numbers (independent of jwtkit)."""
    jwk: dict[str, Any]
    if isinstance(private, rsa.RSAPrivateKey):
        numbers = private.public_key().public_numbers()
        jwk = {"kty": "RSA", "n": int_b64(numbers.n), "e": int_b64(numbers.e)}
    elif isinstance(private, ec.EllipticCurvePrivateKey):
        point = private.public_key().public_numbers()
        size = (private.curve.key_size + 7) // 8
        jwk = {
            "kty": "EC",
            "crv": _CURVE_NAMES[private.curve.name],
            "x": b64(point.x.to_bytes(size, "big")),
            "y": b64(point.y.to_bytes(size, "big")),
        }
    else:
        raw = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        crv = "Ed25519" if isinstance(private, ed25519.Ed25519PrivateKey) else "Ed448"
        jwk = {"kty": "OKP", "crv": crv, "x": b64(raw)}
    jwk.update(extra)
    return jwk


def self_signed_certificate(
    private: CertificateIssuerPrivateKeyTypes, name: str
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    algorithm = (
        None
        if isinstance(private, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey))
        else hashes.SHA256()
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(private.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2020, 1, 1, tzinfo=timezone.utc))
        .not_valid_after(datetime(2040, 1, 1, tzinfo=timezone.utc))
        .sign(private, algorithm)
    )


def unaligned(value: Mapping[str, Any]) -> dict[str, Any]:
    """``value`` plus a ``pad`` member so that its base64url length is 2 or 3 (mod 4)."""
    for n in range(4):
        candidate = {**value, "pad": "x" * n}
        if len(segment(candidate)) % 4 in (2, 3):
            return candidate
    raise AssertionError("unreachable: four consecutive lengths cover every residue")


def with_trailing_bits(text: str) -> str:
    """The same bytes for a lenient decoder, but with a non-zero unused bit (RFC 4648 §3.5)."""
    assert len(text) % 4 in (2, 3)
    value = B64URL_ALPHABET.index(text[-1])
    changed = text[:-1] + B64URL_ALPHABET[value | 1]
    assert changed != text
    assert lenient_b64decode(changed) == lenient_b64decode(text)
    return changed


# ---------------------------------------------------------------------------------------------
# running one attack through every entry point


def reject_everywhere(
    token: str | bytes,
    key: KeyArgument,
    algorithms: Sequence[str],
    error: type[JWTError] | tuple[type[JWTError], ...],
    *,
    crit: Sequence[str] = (),
    max_token_size: int | None = None,
    include_jws: bool = True,
) -> None:
    """``decode``, ``decode_complete``, a fresh ``Verifier`` (``decode`` and
    ``decode_complete``) and, unless told otherwise, ``jws.verify`` all raise ``error``."""
    size = DEFAULT_MAX_TOKEN_SIZE if max_token_size is None else max_token_size
    with pytest.raises(error):
        jwtkit.decode(token, key, algorithms=algorithms, crit=crit, now=NOW, max_token_size=size)
    with pytest.raises(error):
        jwtkit.decode_complete(
            token, key, algorithms=algorithms, crit=crit, now=NOW, max_token_size=size
        )
    with pytest.raises(error):
        jwtkit.Verifier(
            key, algorithms=algorithms, crit=crit, clock=FrozenClock(NOW), max_token_size=size
        ).decode(token)
    with pytest.raises(error):
        jwtkit.Verifier(
            key, algorithms=algorithms, crit=crit, clock=FrozenClock(NOW), max_token_size=size
        ).decode_complete(token)
    if include_jws:
        with pytest.raises(error):
            jws.verify(token, key, algorithms=algorithms, crit=crit, max_token_size=size)


def warm_verifier(key: KeyArgument, algorithms: Sequence[str], valid_token: str) -> jwtkit.Verifier:
    """A Verifier whose header cache already holds ``valid_token``'s header (the fast path)."""
    verifier = jwtkit.Verifier(key, algorithms=algorithms, clock=FrozenClock(NOW))
    verifier.decode(valid_token)
    verifier.decode(valid_token)
    return verifier


# ---------------------------------------------------------------------------------------------
# keys


@dataclass(frozen=True)
class Signing:
    """A key pair as cryptography and jwtkit see it, and a hand-made JOSE signer."""

    alg: str
    crypto: PrivateKey
    private: jwtkit.Key
    public: jwtkit.Key
    sign: Signer


def _signing(alg: str, crypto: PrivateKey, sign: Signer) -> Signing:
    private = jwtkit.Key.from_cryptography(crypto)
    return Signing(alg, crypto, private, private.public_key(), sign)


@pytest.fixture(scope="module")
def rsa_crypto() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def signings(rsa_crypto: rsa.RSAPrivateKey) -> dict[str, Signing]:
    """One pair per asymmetric algorithm family, keyed by the JWS ``alg``."""
    out: dict[str, Signing] = {
        "RS256": _signing(
            "RS256", rsa_crypto, rsa_signer(rsa_crypto, padding.PKCS1v15(), hashes.SHA256())
        ),
        "PS256": _signing("PS256", rsa_crypto, rsa_signer(rsa_crypto, pss(32), hashes.SHA256())),
    }
    for alg, curve in (
        ("ES256", ec.SECP256R1()),
        ("ES384", ec.SECP384R1()),
        ("ES512", ec.SECP521R1()),
    ):
        ec_private = ec.generate_private_key(curve)
        out[alg] = _signing(alg, ec_private, ecdsa_signer(ec_private))
    ed = ed25519.Ed25519PrivateKey.generate()
    out["EdDSA"] = _signing("EdDSA", ed, ed.sign)
    ed_448 = ed448.Ed448PrivateKey.generate()
    out["Ed448"] = _signing("Ed448", ed_448, ed_448.sign)
    return out


@pytest.fixture(scope="module")
def oct_key() -> jwtkit.OctKey:
    return jwtkit.OctKey(SECRET)


@pytest.fixture
def none_registry() -> Registry:
    """The explicit opt-in to ``none``; it must warn."""
    with pytest.warns(InsecureAlgorithmWarning):
        return DEFAULT_REGISTRY.including(NONE)


def hs256_token(claims: Mapping[str, Any] = CLAIMS, header: Mapping[str, Any] | None = None) -> str:
    return forge({"alg": "HS256", **(header or {})}, claims, hs(SECRET))


# =============================================================================================
# A. Algorithm and key selection
# =============================================================================================

# --- A1 ---------------------------------------------------------------------------------------

NONE_SPELLINGS = ["none", "None", "NONE", "nOnE"]


@pytest.mark.parametrize("alg", NONE_SPELLINGS)
def test_A1_alg_none_any_casing_rejected(
    alg: str, oct_key: jwtkit.OctKey, signings: dict[str, Signing]
) -> None:
    rs = signings["RS256"]
    unsigned = forge({"alg": alg, "typ": "JWT"}, CLAIMS, None)
    with_hmac = forge({"alg": alg, "typ": "JWT"}, CLAIMS, hs(SECRET))
    for token in (unsigned, with_hmac):
        reject_everywhere(token, oct_key, ["HS256"], AlgorithmNotAllowed)
        reject_everywhere(token, rs.public, ["RS256"], AlgorithmNotAllowed)
        mixed = jwtkit.KeySet([oct_key, rs.public], allow_mixed=True)
        reject_everywhere(token, mixed, ["HS256", "RS256"], AlgorithmNotAllowed)
        # A key that carries its own alg implies the allow-list; "none" is still not in it.
        with pytest.raises(AlgorithmNotAllowed):
            jwtkit.decode(token, jwtkit.OctKey(SECRET, alg="HS256"), now=NOW)


@pytest.mark.parametrize("alg", NONE_SPELLINGS)
def test_A1_none_cannot_be_allowed_without_the_opt_in_registry(
    alg: str, oct_key: jwtkit.OctKey
) -> None:
    token = forge({"alg": alg}, CLAIMS, None)
    with pytest.raises(UsageError):
        jwtkit.decode(token, oct_key, algorithms=[alg])
    with pytest.raises(UsageError):
        jwtkit.Verifier(oct_key, algorithms=["HS256", alg])
    with pytest.raises(UsageError):
        jws.verify(token, None, algorithms=[alg])
    with pytest.raises(AlgorithmNotAllowed):
        jws.sign(b"payload", None, algorithm="none")
    with pytest.raises(AlgorithmNotAllowed):
        jwtkit.encode(CLAIMS, None, algorithm="none")


def test_A1_rfc_unsecured_vectors_rejected_by_default() -> None:
    cases = [
        case
        for name in ("rfc7515", "rfc7519")
        for case in load_rfc_cases(name)
        if case.get("alg") == "none" and case["expected"]["valid"] is False
    ]
    assert len(cases) >= 2
    for case in cases:
        key = jwtkit.Key.from_jwk(case["key"])
        with pytest.raises(JWTError):
            jwtkit.decode(case["token"], key, algorithms=["HS256"], now=case.get("now", NOW))
        with pytest.raises(JWTError):
            jws.verify(case["token"], key, algorithms=["HS256"])


def test_A1_none_accepted_only_with_opt_in_registry_and_no_key(
    none_registry: Registry, oct_key: jwtkit.OctKey
) -> None:
    token = signed(segment({"alg": "none"}), b64(b"unsecured payload"), None)
    result = jws.verify(token, None, algorithms=["none"], registry=none_registry)
    assert result.payload == b"unsecured payload"
    assert result.algorithm == "none"
    assert result.key is None
    # Opted in, but a key was given: the caller expects a signature.
    with pytest.raises(UsageError):
        jws.verify(token, oct_key, algorithms=["none"], registry=none_registry)
    with pytest.raises(UsageError):
        jws.verify(token, oct_key, algorithms=["HS256", "none"], registry=none_registry)
    # Opted in, no key, but the "unsecured" token carries a signature.
    with_signature_bytes = signed(segment({"alg": "none"}), b64(b"x"), hs(SECRET))
    with pytest.raises(InvalidSignature):
        jws.verify(with_signature_bytes, None, algorithms=["none"], registry=none_registry)
    # The opt-in is for the exact name "none" only.
    for spelling in ("None", "NONE", "nOnE"):
        other = signed(segment({"alg": spelling}), b64(b"x"), None)
        with pytest.raises(AlgorithmNotAllowed):
            jws.verify(other, None, algorithms=["none"], registry=none_registry)
        with pytest.raises(UsageError):
            jws.verify(other, None, algorithms=[spelling], registry=none_registry)
    # Without the opt-in registry the same call is refused.
    with pytest.raises(UsageError):
        jws.verify(token, None, algorithms=["none"])


def test_A1_decode_refuses_none_even_with_opt_in_registry(
    none_registry: Registry, oct_key: jwtkit.OctKey
) -> None:
    token = forge({"alg": "none", "typ": "JWT"}, CLAIMS, None)
    with pytest.raises(UsageError):
        jwtkit.decode(token, [], algorithms=["none"], registry=none_registry)
    with pytest.raises(UsageError):
        jwtkit.decode(token, oct_key, algorithms=["HS256", "none"], registry=none_registry)
    with pytest.raises(UsageError):
        jwtkit.Verifier([], algorithms=["none"], registry=none_registry)
    with pytest.raises(AlgorithmNotAllowed):
        jwtkit.decode(token, oct_key, algorithms=["HS256"], registry=none_registry)


@pytest.mark.parametrize("alg", ["HS256", "RS256", "ES256", "EdDSA"])
def test_A1_empty_signature_rejected(
    alg: str, oct_key: jwtkit.OctKey, signings: dict[str, Signing]
) -> None:
    if alg == "HS256":
        key: jwtkit.Key = oct_key
        valid = hs256_token()
    else:
        key = signings[alg].public
        valid = forge({"alg": alg}, CLAIMS, signings[alg].sign)
    header_segment, payload_segment, _ = parts(valid)
    stripped = f"{header_segment}.{payload_segment}."
    reject_everywhere(stripped, key, [alg], InvalidSignature)
    verifier = warm_verifier(key, [alg], valid)
    with pytest.raises(InvalidSignature):
        verifier.decode(stripped)


@pytest.mark.parametrize("alg", ["HS256", "RS256", "ES256", "EdDSA"])
def test_A1_signature_cut_short_rejected(
    alg: str, oct_key: jwtkit.OctKey, signings: dict[str, Signing]
) -> None:
    if alg == "HS256":
        key: jwtkit.Key = oct_key
        valid = hs256_token()
    else:
        key = signings[alg].public
        valid = forge({"alg": alg}, CLAIMS, signings[alg].sign)
    signature = parts(valid)[2]
    verifier = warm_verifier(key, [alg], valid)
    for keep in (len(signature) - 1, len(signature) - 2, len(signature) // 2, 4, 1):
        token = valid[: len(valid) - len(signature) + keep]
        reject_everywhere(token, key, [alg], InvalidSignature)
        with pytest.raises(InvalidSignature):
            verifier.decode(token)


def test_A1_two_segment_and_other_segment_counts_rejected(oct_key: jwtkit.OctKey) -> None:
    header_segment, payload_segment, signature_segment = parts(hs256_token())
    for token in (
        f"{header_segment}.{payload_segment}",
        f"{header_segment}.{signature_segment}",
        header_segment,
        f"{header_segment}.{payload_segment}.{signature_segment}.",
        f"{header_segment}.{payload_segment}.{signature_segment}.{signature_segment}",
        "",
        ".",
        "..",
        f".{payload_segment}.{signature_segment}",
    ):
        reject_everywhere(token, oct_key, ["HS256"], MalformedToken)


@pytest.mark.parametrize(
    "alg", ["hs256", "Hs256", "HS256 ", " HS256", "HS256\x00", "HS256\u200b", "HS 256", "HS-256"]
)
def test_A1_algorithm_names_compared_byte_exactly(alg: str, oct_key: jwtkit.OctKey) -> None:
    token = forge({"alg": alg}, CLAIMS, hs(SECRET))
    reject_everywhere(token, oct_key, ["HS256"], AlgorithmNotAllowed)
    with pytest.raises(UsageError):
        jwtkit.decode(token, oct_key, algorithms=[alg])


def test_A1_algorithm_names_compared_byte_exactly_asymmetric(signings: dict[str, Signing]) -> None:
    es = signings["ES256"]
    for alg in ("es256", "ES256 ", "Es256"):
        token = forge({"alg": alg}, CLAIMS, es.sign)
        reject_everywhere(token, es.public, ["ES256"], AlgorithmNotAllowed)


# --- A2 ---------------------------------------------------------------------------------------

KINDS = ["RSA", "EC", "Ed25519"]
NATURAL_ALG = {"RSA": "RS256", "EC": "ES256", "Ed25519": "EdDSA"}


@dataclass(frozen=True)
class Victim:
    """The verifier's asymmetric key pair, whose public half the attacker knows."""

    kind: str
    alg: str
    crypto: PrivateKey
    public: jwtkit.Key
    materials: dict[str, bytes]


def _public_materials(private: PrivateKey) -> dict[str, bytes]:
    """Every public form of ``private`` an attacker may know and a naive library may use as an
    HMAC secret."""
    enc, fmt = serialization.Encoding, serialization.PublicFormat
    public = private.public_key()
    spki_pem = public.public_bytes(enc.PEM, fmt.SubjectPublicKeyInfo)
    spki_der = public.public_bytes(enc.DER, fmt.SubjectPublicKeyInfo)
    certificate = self_signed_certificate(private, "victim")
    openssh = public.public_bytes(enc.OpenSSH, fmt.OpenSSH)
    jwk = public_jwk(private)
    materials = {
        "spki_pem": spki_pem,
        "spki_pem_body_base64": b"".join(spki_pem.splitlines()[1:-1]),
        "spki_pem_leading_whitespace": b"\n \t" + spki_pem,
        "spki_pem_leading_crlf": b"\r\n" + spki_pem,
        "spki_pem_crlf": spki_pem.replace(b"\n", b"\r\n"),
        "spki_pem_no_final_newline": spki_pem.rstrip(b"\n"),
        "spki_der": spki_der,
        "spki_der_base64": base64.b64encode(spki_der),
        "spki_der_base64url": base64.urlsafe_b64encode(spki_der).rstrip(b"="),
        "certificate_pem": certificate.public_bytes(enc.PEM),
        "certificate_pem_leading_whitespace": b"  \r\n" + certificate.public_bytes(enc.PEM),
        "certificate_der": certificate.public_bytes(enc.DER),
        "openssh": openssh,
        "openssh_with_comment": openssh + b" victim@example.com\n",
        "openssh_leading_whitespace": b"\n  " + openssh,
        "openssh_authorized_keys_options": b'no-pty,from="10.0.0.1" ' + openssh + b" victim",
        "jwk_json": json.dumps(jwk).encode(),
        "jwk_json_compact": json_bytes(jwk),
        "jwk_json_pretty": json.dumps(jwk, indent=2).encode(),
        "jwk_json_leading_whitespace": b"\n  " + json_bytes(jwk),
        "jwks_json": json_bytes({"keys": [jwk]}),
    }
    if isinstance(public, rsa.RSAPublicKey):
        pkcs1_pem = public.public_bytes(enc.PEM, fmt.PKCS1)
        materials["pkcs1_pem"] = pkcs1_pem
        materials["pkcs1_pem_leading_whitespace"] = b"\n\n   " + pkcs1_pem
        materials["pkcs1_pem_crlf"] = pkcs1_pem.replace(b"\n", b"\r\n")
        materials["pkcs1_der"] = public.public_bytes(enc.DER, fmt.PKCS1)
    return materials


@pytest.fixture(scope="module")
def victims(signings: dict[str, Signing]) -> dict[str, Victim]:
    out = {}
    for kind in KINDS:
        signing = signings[NATURAL_ALG[kind]]
        out[kind] = Victim(
            kind, signing.alg, signing.crypto, signing.public, _public_materials(signing.crypto)
        )
    return out


def assert_never_an_hmac_secret(victim: Victim, names: Iterable[str]) -> None:
    """The attacker signs HS256 with the public material; the verifier passes that material
    (as bytes and as text) or its key object: nothing verifies, whatever the allow-list."""
    checked = 0
    for name in names:
        material = victim.materials[name]
        token = forge({"alg": "HS256", "typ": "JWT"}, CLAIMS, hs(material))
        arguments: list[KeyArgument] = [material]
        with contextlib.suppress(UnicodeDecodeError):
            arguments.append(material.decode("ascii"))
        for argument in arguments:
            for algorithms in (["HS256", victim.alg], ["HS256"]):
                reject_everywhere(token, argument, algorithms, InvalidKey)
        # The verifier's own key object with a mixed allow-list: the key's type decides.
        reject_everywhere(token, victim.public, ["HS256", victim.alg], InvalidKey)
        checked += 1
    assert checked


@pytest.mark.parametrize("kind", KINDS)
def test_A2_cve_2017_11424_hs256_with_spki_pem_public_key_secret_rejected(
    kind: str, victims: dict[str, Victim]
) -> None:
    assert_never_an_hmac_secret(
        victims[kind], ["spki_pem", "spki_pem_no_final_newline", "spki_pem_body_base64"]
    )


@pytest.mark.parametrize("kind", KINDS)
def test_A2_cve_2022_29217_hs256_with_ssh_public_key_secret_rejected(
    kind: str, victims: dict[str, Victim]
) -> None:
    assert_never_an_hmac_secret(
        victims[kind],
        [
            "openssh",
            "openssh_with_comment",
            "openssh_leading_whitespace",
            "openssh_authorized_keys_options",
        ],
    )


@pytest.mark.parametrize("kind", KINDS)
def test_A2_cve_2024_33663_hs256_with_certificate_secret_rejected(
    kind: str, victims: dict[str, Victim]
) -> None:
    assert_never_an_hmac_secret(
        victims[kind],
        ["certificate_pem", "certificate_pem_leading_whitespace", "certificate_der"],
    )


@pytest.mark.parametrize("kind", KINDS)
def test_A2_cve_2023_48223_hs256_with_whitespace_or_crlf_pem_secret_rejected(
    kind: str, victims: dict[str, Victim]
) -> None:
    names = ["spki_pem_leading_whitespace", "spki_pem_leading_crlf", "spki_pem_crlf"]
    if kind == "RSA":
        names += ["pkcs1_pem", "pkcs1_pem_leading_whitespace", "pkcs1_pem_crlf"]
    assert_never_an_hmac_secret(victims[kind], names)


@pytest.mark.parametrize("kind", KINDS)
def test_A2_cve_2024_37568_hs256_with_jwk_json_secret_rejected(
    kind: str, victims: dict[str, Victim]
) -> None:
    assert_never_an_hmac_secret(
        victims[kind],
        [
            "jwk_json",
            "jwk_json_compact",
            "jwk_json_pretty",
            "jwk_json_leading_whitespace",
            "jwks_json",
        ],
    )


@pytest.mark.parametrize("kind", KINDS)
def test_A2_cve_2026_48526_hs256_with_der_public_key_secret_rejected(
    kind: str, victims: dict[str, Victim]
) -> None:
    names = ["spki_der", "spki_der_base64", "spki_der_base64url"]
    if kind == "RSA":
        names.append("pkcs1_der")
    assert_never_an_hmac_secret(victims[kind], names)


def test_A2_mixed_allow_list_key_type_decides_not_header(
    oct_key: jwtkit.OctKey, victims: dict[str, Victim], signings: dict[str, Signing]
) -> None:
    """An HMAC key and an RSA key side by side, HS256 and RS256 both allowed: the forged HS256
    token is checked against the HMAC key only and fails; genuine tokens still pass."""
    victim = victims["RSA"]
    keys = jwtkit.KeySet([oct_key, victim.public], allow_mixed=True)
    algorithms = ["HS256", "RS256"]
    for name in ("spki_pem", "pkcs1_pem", "jwk_json", "spki_der"):
        forged = forge({"alg": "HS256"}, CLAIMS, hs(victim.materials[name]))
        reject_everywhere(forged, keys, algorithms, InvalidSignature)
    assert jwtkit.decode(hs256_token(), keys, algorithms=algorithms) == CLAIMS
    genuine_rs256 = forge({"alg": "RS256"}, CLAIMS, signings["RS256"].sign)
    assert jwtkit.decode(genuine_rs256, keys, algorithms=algorithms) == CLAIMS
    # An RS256 header with only the HMAC key: the header cannot turn a secret into an RSA key.
    reject_everywhere(genuine_rs256, oct_key, algorithms, InvalidKey)


# --- A3 ---------------------------------------------------------------------------------------


def test_A3_key_with_alg_rs256_used_for_ps256_token_rejected(
    rsa_crypto: rsa.RSAPrivateKey, signings: dict[str, Signing]
) -> None:
    token = forge({"alg": "PS256"}, CLAIMS, signings["PS256"].sign)
    assert jwtkit.decode(token, signings["PS256"].public, algorithms=["PS256"]) == CLAIMS
    for restricted in (
        jwtkit.Key.from_jwk(public_jwk(rsa_crypto, alg="RS256")),
        jwtkit.Key.from_cryptography(rsa_crypto.public_key(), alg="RS256"),
    ):
        reject_everywhere(token, restricted, ["PS256"], InvalidKey)
        reject_everywhere(token, restricted, ["RS256", "PS256"], InvalidKey)
        # Without an allow-list the key's own alg is the allow-list.
        with pytest.raises(AlgorithmNotAllowed):
            jwtkit.decode(token, restricted)


def test_A3_key_with_use_enc_rejected_for_signatures(
    rsa_crypto: rsa.RSAPrivateKey, signings: dict[str, Signing]
) -> None:
    token = forge({"alg": "RS256"}, CLAIMS, signings["RS256"].sign)
    key = jwtkit.Key.from_jwk(public_jwk(rsa_crypto, use="enc"))
    reject_everywhere(token, key, ["RS256"], InvalidKey)
    assert (
        jwtkit.decode(
            token, jwtkit.Key.from_jwk(public_jwk(rsa_crypto, use="sig")), algorithms=["RS256"]
        )
        == CLAIMS
    )


@pytest.mark.parametrize("key_ops", [["encrypt"], ["sign"], ["wrapKey", "unwrapKey"]])
def test_A3_key_ops_without_verify_rejected(
    key_ops: list[str], signings: dict[str, Signing]
) -> None:
    es = signings["ES256"]
    token = forge({"alg": "ES256"}, CLAIMS, es.sign)
    key = jwtkit.Key.from_jwk(public_jwk(es.crypto, key_ops=key_ops))
    reject_everywhere(token, key, ["ES256"], InvalidKey)
    allowed = jwtkit.Key.from_jwk(public_jwk(es.crypto, key_ops=["verify"]))
    assert jwtkit.decode(token, allowed, algorithms=["ES256"]) == CLAIMS


def test_A3_es512_header_with_p256_key_rejected(signings: dict[str, Signing]) -> None:
    p256 = signings["ES256"]
    # A P-256 signature relabelled ES512, and the other way round with a P-521 key.
    token = forge({"alg": "ES512"}, CLAIMS, p256.sign)
    reject_everywhere(token, p256.public, ["ES512"], InvalidKey)
    reject_everywhere(token, p256.public, ["ES256", "ES512"], InvalidKey)
    p521 = signings["ES512"]
    token = forge({"alg": "ES256"}, CLAIMS, p521.sign)
    reject_everywhere(token, p521.public, ["ES256", "ES512"], InvalidKey)
    token = forge({"alg": "ES384"}, CLAIMS, signings["ES384"].sign)
    reject_everywhere(token, p256.public, ["ES384"], InvalidKey)


def test_A3_hs512_token_with_32_byte_key_rejected(oct_key: jwtkit.OctKey) -> None:
    assert len(SECRET) == 32
    token = forge({"alg": "HS512"}, CLAIMS, hs(SECRET, "sha512"))
    reject_everywhere(token, oct_key, ["HS512"], InvalidKey)
    reject_everywhere(token, SECRET, ["HS256", "HS512"], InvalidKey)
    with pytest.raises(InvalidKey):
        jwtkit.encode(CLAIMS, oct_key, algorithm="HS512")
    # The same key is fine for HS256.
    assert jwtkit.decode(hs256_token(), oct_key, algorithms=["HS256", "HS512"]) == CLAIMS


def test_A3_key_with_alg_hs256_used_for_hs384_token_rejected() -> None:
    secret = hashlib.sha384(b"long enough for HS384").digest()
    token = forge({"alg": "HS384"}, CLAIMS, hs(secret, "sha384"))
    key = jwtkit.OctKey(secret, alg="HS256")
    reject_everywhere(token, key, ["HS384"], InvalidKey)
    assert jwtkit.decode(token, jwtkit.OctKey(secret), algorithms=["HS384"]) == CLAIMS


# --- A4 ---------------------------------------------------------------------------------------


@pytest.fixture
def network_attempts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record (and refuse) every attempt to resolve a name or open a connection."""
    attempts: list[str] = []

    def refuse(*args: object, **kwargs: object) -> NoReturn:
        attempts.append(repr(args)[:200])
        raise OSError("network access attempted by a test that must stay offline")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return attempts


@dataclass(frozen=True)
class HeaderKeyAttack:
    attacker: ec.EllipticCurvePrivateKey
    legit: Signing
    trusted: jwtkit.KeySet


@pytest.fixture(scope="module")
def header_key_attack(signings: dict[str, Signing]) -> HeaderKeyAttack:
    legit = signings["ES256"]
    trusted = jwtkit.KeySet([jwtkit.Key.from_cryptography(legit.crypto.public_key(), kid="legit")])
    return HeaderKeyAttack(ec.generate_private_key(ec.SECP256R1()), legit, trusted)


def assert_header_key_ignored(attack: HeaderKeyAttack, extra_header: Mapping[str, Any]) -> None:
    sign = ecdsa_signer(attack.attacker)
    # The attacker names their own kid: it is not among the trusted keys.
    token = forge({"alg": "ES256", "kid": "attacker", **extra_header}, CLAIMS, sign)
    reject_everywhere(token, attack.trusted, ["ES256"], KeyNotFound)
    # No kid: the trusted key is tried, and the attacker's signature does not verify with it.
    token = forge({"alg": "ES256", **extra_header}, CLAIMS, sign)
    reject_everywhere(token, attack.trusted, ["ES256"], InvalidSignature)
    reject_everywhere(token, attack.legit.public, ["ES256"], InvalidSignature)
    # The trusted key's kid, but the attacker's signature.
    token = forge({"alg": "ES256", "kid": "legit", **extra_header}, CLAIMS, sign)
    reject_everywhere(token, attack.trusted, ["ES256"], InvalidSignature)
    # No trusted key at all: nothing to fall back on, certainly not the header.
    token = forge({"alg": "ES256", **extra_header}, CLAIMS, sign)
    reject_everywhere(token, jwtkit.KeySet([]), ["ES256"], KeyNotFound)
    # A token the trusted key did sign passes, whatever key the header advertises.
    genuine = forge({"alg": "ES256", "kid": "legit", **extra_header}, CLAIMS, attack.legit.sign)
    decoded = jwtkit.decode_complete(genuine, attack.trusted, algorithms=["ES256"])
    assert decoded.claims == CLAIMS
    assert decoded.key is not None
    assert decoded.key.thumbprint() == attack.legit.public.thumbprint()


def test_A4_cve_2018_0114_embedded_jwk_header_never_trusted(
    header_key_attack: HeaderKeyAttack, network_attempts: list[str]
) -> None:
    jwk = public_jwk(header_key_attack.attacker, kid="attacker", alg="ES256", use="sig")
    assert_header_key_ignored(header_key_attack, {"jwk": jwk})
    assert network_attempts == []


def test_A4_cve_2026_27962_x5c_header_never_trusted(
    header_key_attack: HeaderKeyAttack, network_attempts: list[str]
) -> None:
    certificate = self_signed_certificate(header_key_attack.attacker, "legit")
    chain = [base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()]
    assert_header_key_ignored(header_key_attack, {"x5c": chain})
    assert network_attempts == []


@pytest.mark.parametrize(
    "extra_header",
    [
        {"jku": "https://attacker.example/jwks.json"},
        {"jku": "http://127.0.0.1:9/jwks.json"},
        {"jku": "file:///etc/passwd"},
        {"x5u": "https://attacker.example/cert.pem"},
        {"x5u": "http://169.254.169.254/latest/meta-data/"},
        {"jku": "https://attacker.example/jwks.json", "x5u": "https://attacker.example/c.pem"},
    ],
)
def test_A4_cve_2026_48522_jku_and_x5u_headers_never_fetched(
    extra_header: dict[str, str],
    header_key_attack: HeaderKeyAttack,
    network_attempts: list[str],
) -> None:
    assert_header_key_ignored(header_key_attack, extra_header)
    assert network_attempts == []


# --- A5 ---------------------------------------------------------------------------------------

INJECTION_KIDS = [
    "../../dev/null",
    "../../../../../../../../dev/null",
    "/dev/null",
    "' UNION SELECT 'secret' --",
    "x' OR '1'='1",
    "|cmd",
    "| cat /etc/passwd",
    "; rm -rf /",
    "$(id)",
    "`id`",
    "legit\x00",
    "legit ",
    " legit",
    "LEGIT",
    "",
    "legit/../legit",
    "*",
    "%",
]


@pytest.fixture(scope="module")
def kid_keys() -> jwtkit.KeySet:
    return jwtkit.KeySet([jwtkit.OctKey(SECRET, kid="legit")])


@pytest.mark.parametrize("kid", INJECTION_KIDS)
def test_A5_kid_injection_strings_are_opaque_lookups(kid: str, kid_keys: jwtkit.KeySet) -> None:
    # The classic attack signs with the empty secret (the content of /dev/null) ...
    empty_secret = forge({"alg": "HS256", "kid": kid}, CLAIMS, hs(b""))
    reject_everywhere(empty_secret, kid_keys, ["HS256"], KeyNotFound)
    # ... but even the verifier's real secret does not help: the kid matches exactly or not.
    real_secret = forge({"alg": "HS256", "kid": kid}, CLAIMS, hs(SECRET))
    reject_everywhere(real_secret, kid_keys, ["HS256"], KeyNotFound)


def test_A5_kid_naming_a_file_never_reads_it(tmp_path: Path, kid_keys: jwtkit.KeySet) -> None:
    attacker_secret = b"attacker-controlled file content, long enough for HS256"
    path = tmp_path / "secret.key"
    path.write_bytes(attacker_secret)
    token = forge({"alg": "HS256", "kid": str(path)}, CLAIMS, hs(attacker_secret))
    reject_everywhere(token, kid_keys, ["HS256"], KeyNotFound)


def test_A5_matching_kid_is_an_exact_lookup(kid_keys: jwtkit.KeySet) -> None:
    token = forge({"alg": "HS256", "kid": "legit"}, CLAIMS, hs(SECRET))
    assert jwtkit.decode(token, kid_keys, algorithms=["HS256"]) == CLAIMS


@pytest.mark.parametrize("kid", [1, 0, None, [], {}, ["legit"], {"kid": "legit"}, True, 1.5])
def test_A5_non_string_kid_rejected(kid: object, kid_keys: jwtkit.KeySet) -> None:
    token = forge({"alg": "HS256", "kid": kid}, CLAIMS, hs(SECRET))
    reject_everywhere(token, kid_keys, ["HS256"], MalformedToken)
    reject_everywhere(token, jwtkit.OctKey(SECRET), ["HS256"], MalformedToken)


# --- A6 (the JWS half; the JWE half is in tests/jwe/test_security_matrix_jwe.py) ------------------


def _five_segment_tokens() -> list[str]:
    jwe_header = segment({"alg": "dir", "enc": "A256GCM"})
    hs_header = segment({"alg": "HS256", "typ": "JWT"})
    valid = hs256_token()
    return [
        f"{jwe_header}..{b64(bytes(12))}.{b64(b'ciphertext')}.{b64(bytes(16))}",
        f"{hs_header}.{b64(bytes(32))}.{b64(bytes(12))}.{b64(json_bytes(CLAIMS))}.{b64(bytes(16))}",
        f"{valid}.{b64(bytes(16))}.{b64(bytes(16))}",
        f"{segment({'alg': 'RSA-OAEP', 'enc': 'A128GCM', 'cty': 'JWT'})}.{valid}.{b64(bytes(16))}",
        "....",
    ]


def test_A6_cve_2022_3102_cve_2023_51774_decode_never_accepts_five_part_token(
    oct_key: jwtkit.OctKey,
) -> None:
    for token in _five_segment_tokens():
        reject_everywhere(token, oct_key, ["HS256"], MalformedToken)
        reject_everywhere(token.encode("ascii"), oct_key, ["HS256"], MalformedToken)


def test_A6_cve_2022_3102_encrypted_jwt_vector_rejected_by_decode() -> None:
    (case,) = [c for c in load_rfc_cases("rfc7519") if c["id"] == "A.1"]
    token: str = case["token"]
    assert token.count(".") == 4
    key = jwtkit.Key.from_jwk(case["key"])
    reject_everywhere(token, key, ["RS256"], MalformedToken)
    reject_everywhere(token, key.public_key(), ["RS256", "PS256"], MalformedToken)


# --- A7 ---------------------------------------------------------------------------------------


def _polyglots(valid: str) -> list[str]:
    header_segment, payload_segment, signature_segment = parts(valid)
    forged_payload = segment({"sub": "42", "admin": True})
    flattened = {
        "protected": header_segment,
        "payload": payload_segment,
        "signature": signature_segment,
    }
    general = {
        "payload": payload_segment,
        "signatures": [{"protected": header_segment, "signature": signature_segment}],
    }
    # CVE-2022-39227 (python-jwt): compact-looking text whose JSON parse is a different token.
    cve_2022_39227 = (
        '{"  ' + header_segment + "." + forged_payload + '.":"","protected":"'
        + header_segment + '","payload":"' + payload_segment
        + '","signature":"' + signature_segment + '"}'
    )  # fmt: skip
    middle = len(header_segment) + 1 + len(payload_segment) // 2
    return [
        json.dumps(flattened),
        json.dumps(general),
        cve_2022_39227,
        f'"{valid}"',
        "{" + valid + "}",
        f"[{valid}]",
        valid + "\n",
        valid + "\r\n",
        valid + " ",
        valid + "\t",
        " " + valid,
        "\n" + valid,
        valid[:middle] + " " + valid[middle:],
        valid[:middle] + "\n" + valid[middle:],
        valid[:middle] + "\r\n" + valid[middle:],
        valid.replace(".", " . "),
        valid + "\x00",
        valid + "\u3000",
    ]


def test_A7_cve_2022_39227_json_and_whitespace_polyglots_rejected_by_jwt_api(
    oct_key: jwtkit.OctKey,
) -> None:
    valid = hs256_token()
    verifier = warm_verifier(oct_key, ["HS256"], valid)
    for text in _polyglots(valid):
        reject_everywhere(text, oct_key, ["HS256"], MalformedToken, include_jws=False)
        with pytest.raises(MalformedToken):
            verifier.decode(text)
        with pytest.raises(MalformedToken):
            verifier.decode(text.encode("utf-8"))


def test_A7_whitespace_around_compact_jws_rejected_by_jws_verify(oct_key: jwtkit.OctKey) -> None:
    valid = hs256_token()
    for text in (valid + "\n", valid + " ", " " + valid, "\t" + valid, valid + "\r\n"):
        with pytest.raises(MalformedToken):
            jws.verify(text, oct_key, algorithms=["HS256"])


def test_A7_claims_come_from_the_verified_bytes(oct_key: jwtkit.OctKey) -> None:
    valid = hs256_token()
    header_segment, payload_segment, signature_segment = parts(valid)
    decoded = jwtkit.decode_complete(valid, oct_key, algorithms=["HS256"])
    assert decoded.claims == json.loads(lenient_b64decode(payload_segment))
    # The forged claims of the polyglot, spliced into a compact token with the genuine header
    # and signature, do not verify: on the cold path nor on the cached-header fast path.
    spliced = f"{header_segment}.{segment({'sub': '42', 'admin': True})}.{signature_segment}"
    reject_everywhere(spliced, oct_key, ["HS256"], InvalidSignature)
    verifier = warm_verifier(oct_key, ["HS256"], valid)
    with pytest.raises(InvalidSignature):
        verifier.decode(spliced)
    with pytest.raises(InvalidSignature):
        verifier.decode_complete(spliced)
    assert verifier.decode(valid) == CLAIMS


# --- A9 ---------------------------------------------------------------------------------------

UNDEFINED_EXT = "http://example.com/UNDEFINED"


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "HS256", "crit": [UNDEFINED_EXT], UNDEFINED_EXT: True},
        {"alg": "HS256", "crit": ["exp"], "exp": NOW + 60},
        {"alg": "HS256", "crit": ["ext"], "ext": "value"},
        {"alg": "HS256", "crit": ["ext", "b64"], "ext": 1, "b64": True},
    ],
)
def test_A9_cve_2026_32597_cve_2025_59420_unknown_critical_extension_rejected(
    header: dict[str, Any], oct_key: jwtkit.OctKey
) -> None:
    token = forge(header, CLAIMS, hs(SECRET))
    reject_everywhere(token, oct_key, ["HS256"], UnsupportedCritical)
    with pytest.raises(UnsupportedCritical) as caught:
        jwtkit.decode(token, oct_key, algorithms=["HS256"])
    assert caught.value.code == "unsupported_critical"
    # Declaring a different extension does not cover this one.
    reject_everywhere(token, oct_key, ["HS256"], UnsupportedCritical, crit=["other"])


def test_A9_rfc7515_appendix_e_vector_rejected() -> None:
    (case,) = [c for c in load_rfc_cases("rfc7515") if c["id"] == "E"]
    key = jwtkit.Key.from_jwk(case["key"])
    # alg "none" and an unknown crit: either reason may come first (vectors README).
    with pytest.raises(JWTError):
        jws.verify(case["token"], key, algorithms=["HS256"])
    with pytest.raises(JWTError):
        jws.verify(case["token"], key, algorithms=["HS256"], crit=[UNDEFINED_EXT])
    with pytest.raises(JWTError):
        jwtkit.decode(case["token"], key, algorithms=["HS256"])


@pytest.mark.parametrize(
    ("header", "declared"),
    [
        # crit empty
        ({"alg": "HS256", "crit": []}, []),
        # crit naming registered header parameters, even if the caller "declares" them
        ({"alg": "HS256", "crit": ["alg"]}, []),
        ({"alg": "HS256", "crit": ["alg"]}, ["alg"]),
        ({"alg": "HS256", "kid": "k", "crit": ["kid"]}, ["kid"]),
        ({"alg": "HS256", "typ": "JWT", "crit": ["typ"]}, ["typ"]),
        ({"alg": "HS256", "crit": ["crit"]}, ["crit"]),
        # crit listing a member that is absent
        ({"alg": "HS256", "crit": ["ext"]}, ["ext"]),
        ({"alg": "HS256", "crit": ["ext", "other"], "ext": 1}, ["ext", "other"]),
        # crit not an array of strings
        ({"alg": "HS256", "crit": "ext", "ext": 1}, ["ext"]),
        ({"alg": "HS256", "crit": {"ext": True}, "ext": 1}, ["ext"]),
        ({"alg": "HS256", "crit": None}, []),
        ({"alg": "HS256", "crit": 1}, []),
        ({"alg": "HS256", "crit": True}, []),
        ({"alg": "HS256", "crit": [1], "1": 1}, []),
        ({"alg": "HS256", "crit": [["ext"]], "ext": 1}, ["ext"]),
        # duplicate names
        ({"alg": "HS256", "crit": ["ext", "ext"], "ext": 1}, ["ext"]),
    ],
)
def test_A9_malformed_crit_rejected(
    header: dict[str, Any], declared: list[str], oct_key: jwtkit.OctKey
) -> None:
    token = forge(header, CLAIMS, hs(SECRET))
    reject_everywhere(token, oct_key, ["HS256"], MalformedToken, crit=declared)


@pytest.mark.parametrize("name", ["exp", "ext", UNDEFINED_EXT])
def test_A9_declared_critical_extension_accepted(name: str, oct_key: jwtkit.OctKey) -> None:
    header = {"alg": "HS256", "crit": [name], name: NOW + 60}
    token = forge(header, CLAIMS, hs(SECRET))
    decoded = jwtkit.decode_complete(token, oct_key, algorithms=["HS256"], crit=[name], now=NOW)
    assert decoded.claims == CLAIMS
    assert decoded.header[name] == NOW + 60
    verifier = jwtkit.Verifier(oct_key, algorithms=["HS256"], crit=[name, "other"])
    assert verifier.decode(token, now=NOW) == CLAIMS
    assert jws.verify(token, oct_key, algorithms=["HS256"], crit=[name]).header == header


# --- A10 --------------------------------------------------------------------------------------


def test_A10_b64_false_without_crit_rejected_rfc7797_vector() -> None:
    vector = load_cookbook("rfc7797/4.2.hmac-sha2_b64_false.json")
    flat = vector["output"]["json_flat"]
    key = jwtkit.Key.from_jwk(vector["input"]["key"])
    payload = flat["payload"].encode("utf-8")
    header = json.loads(lenient_b64decode(flat["protected"]))
    # The vector's header really has b64:false and no crit, and its signature is genuine: the
    # only reason left to reject it is the missing crit (RFC 7797 §6).
    assert header == {"alg": "HS256", "b64": False}
    secret = lenient_b64decode(vector["input"]["key"]["k"])
    expected_signature = hmac.digest(secret, flat["protected"].encode() + b"." + payload, "sha256")
    assert b64(expected_signature) == flat["signature"]
    compact = f"{flat['protected']}..{flat['signature']}"
    with pytest.raises(MalformedToken):
        jws.verify(compact, key, algorithms=["HS256"], detached_payload=payload)
    with pytest.raises(MalformedToken):
        jws.verify(compact, key, algorithms=["HS256"], detached_payload=payload, crit=["b64"])
    reject_everywhere(compact, key, ["HS256"], MalformedToken, include_jws=False)
    # Control: the same payload, signed with crit as RFC 7797 requires, verifies.
    good = jws.sign(payload, key, algorithm="HS256", headers={"b64": False}, detached=True)
    assert jws.verify(good, key, algorithms=["HS256"], detached_payload=payload).payload == payload


@pytest.mark.parametrize("b64_value", ["false", 0, 1, None, [], {}, "true"])
def test_A10_b64_not_a_boolean_rejected(b64_value: object, oct_key: jwtkit.OctKey) -> None:
    header = {"alg": "HS256", "b64": b64_value, "crit": ["b64"]}
    payload = b"$.02"
    unencoded = signed(segment(header), "", lambda data: hs(SECRET)(data + payload))
    with pytest.raises(MalformedToken):
        jws.verify(unencoded, oct_key, algorithms=["HS256"], detached_payload=payload)
    encoded = forge(header, CLAIMS, hs(SECRET))
    reject_everywhere(encoded, oct_key, ["HS256"], MalformedToken)


def test_A10_b64_true_without_crit_rejected(oct_key: jwtkit.OctKey) -> None:
    token = forge({"alg": "HS256", "b64": True}, CLAIMS, hs(SECRET))
    reject_everywhere(token, oct_key, ["HS256"], MalformedToken)


def test_A10_b64_false_in_a_jwt_rejected(oct_key: jwtkit.OctKey) -> None:
    # An unencoded payload made only of base64url characters, so that the token passes every
    # format check: only the b64 rule for JWTs can reject it (RFC 7797 §7).
    payload = b"eyJzdWIiOiI0MiJ9"
    token = jws.sign(payload, oct_key, algorithm="HS256", headers={"b64": False})
    assert jws.verify(token, oct_key, algorithms=["HS256"]).payload == payload
    reject_everywhere(token, oct_key, ["HS256"], MalformedToken, include_jws=False)
    reject_everywhere(token, oct_key, ["HS256"], MalformedToken, crit=["b64"], include_jws=False)
    with pytest.raises(UsageError):
        jwtkit.encode(CLAIMS, oct_key, algorithm="HS256", headers={"b64": False})


# =============================================================================================
# B. Signature primitives
# =============================================================================================

# --- B1 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512"])
def test_B1_cve_2022_21449_psychic_ecdsa_signatures_rejected(
    alg: str, signings: dict[str, Signing]
) -> None:
    es = signings[alg]
    size = {"ES256": 32, "ES384": 48, "ES512": 66}[alg]
    n = CURVE_ORDERS[alg]
    valid = forge({"alg": alg, "typ": "JWT"}, CLAIMS, es.sign)
    raw = lenient_b64decode(parts(valid)[2])
    r, s = int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big")
    assert 0 < r < n
    assert 0 < s < n
    # (r, n - s) is the other valid signature: proves that n is this curve's true order.
    assert isinstance(es.crypto, ec.EllipticCurvePrivateKey)
    signing_input = valid.rpartition(".")[0].encode("ascii")
    scheme = ec.ECDSA(_EC_HASHES[es.crypto.curve.key_size]())
    es.crypto.public_key().verify(encode_dss_signature(r, n - s), signing_input, scheme)
    limit = 2 ** (8 * size)
    candidates = [
        (0, 0),
        (0, s),
        (r, 0),
        (n, s),
        (r, n),
        (n, n),
        (n + 1, s),
        (r, n + 1),
        (limit - 1, s),
        (r, limit - 1),
        (limit - 1, limit - 1),
        (r + n, s),
        (r, s + n),
    ]
    verifier = warm_verifier(es.public, [alg], valid)
    tried = 0
    for bad_r, bad_s in candidates:
        if bad_r >= limit or bad_s >= limit:
            continue  # does not fit the fixed-length encoding
        token = with_signature(valid, bad_r.to_bytes(size, "big") + bad_s.to_bytes(size, "big"))
        reject_everywhere(token, es.public, [alg], InvalidSignature)
        with pytest.raises(InvalidSignature):
            verifier.decode(token)
        tried += 1
    assert tried >= 11


def test_B1_ecdsa_range_check_uses_the_true_group_orders() -> None:
    """r and s must be rejected outside [1, n-1] before any curve arithmetic (B1); that check
    is only as good as its table of group orders (checked against cryptography above)."""
    table = jwtkit._jwa_signing._CURVE_ORDERS
    assert table["P-256"] == CURVE_ORDERS["ES256"]
    assert table["P-384"] == CURVE_ORDERS["ES384"]
    assert table["P-521"] == CURVE_ORDERS["ES512"]
    assert table["P-521"].bit_length() == 521


# --- B2 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512"])
def test_B2_der_encoded_or_wrong_length_ecdsa_signature_rejected(
    alg: str, signings: dict[str, Signing]
) -> None:
    es = signings[alg]
    assert isinstance(es.crypto, ec.EllipticCurvePrivateKey)
    valid = forge({"alg": alg}, CLAIMS, es.sign)
    raw = lenient_b64decode(parts(valid)[2])
    der = forge({"alg": alg}, CLAIMS, ecdsa_der_signer(es.crypto))
    half = len(raw) // 2
    for token in (
        der,
        with_signature(valid, raw[:-1]),
        with_signature(valid, raw + b"\x00"),
        with_signature(valid, b"\x00" + raw),
        with_signature(valid, raw[1:]),
        # each coordinate one byte shorter / longer
        with_signature(valid, raw[1:half] + raw[half + 1 :]),
        with_signature(valid, b"\x00" + raw[:half] + b"\x00" + raw[half:]),
    ):
        reject_everywhere(token, es.public, [alg], InvalidSignature)


# --- B3 ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rs256_leading_zero_token(signings: dict[str, Signing]) -> str:
    """A genuine RS256 token whose signature starts with a zero byte."""
    rs = signings["RS256"]
    for counter in range(20_000):
        token = forge({"alg": "RS256"}, {**CLAIMS, "n": counter}, rs.sign)
        if lenient_b64decode(parts(token)[2])[0] == 0:
            return token
    pytest.fail("no RS256 signature with a leading zero byte found")


def test_B3_rsa_signature_not_exactly_modulus_length_rejected(
    signings: dict[str, Signing], rs256_leading_zero_token: str
) -> None:
    rs = signings["RS256"]
    valid = forge({"alg": "RS256"}, CLAIMS, rs.sign)
    raw = lenient_b64decode(parts(valid)[2])
    assert len(raw) == 256
    for token in (
        with_signature(valid, b"\x00" + raw),  # leading zero added: same integer
        with_signature(valid, raw + b"\x00"),
        with_signature(valid, raw[:-1]),
        with_signature(valid, raw[1:]),
        with_signature(valid, raw + raw),
    ):
        reject_everywhere(token, rs.public, ["RS256"], InvalidSignature)
    # Leading zero stripped: the same integer in 255 bytes, which lenient verifiers accept.
    assert jwtkit.decode(rs256_leading_zero_token, rs.public, algorithms=["RS256"]) != {}
    leading_zero = lenient_b64decode(parts(rs256_leading_zero_token)[2])
    assert leading_zero[0] == 0
    stripped = with_signature(rs256_leading_zero_token, leading_zero[1:])
    reject_everywhere(stripped, rs.public, ["RS256"], InvalidSignature)


@pytest.mark.parametrize(
    ("salt_length", "mgf_hash"),
    [
        (0, None),
        (padding.PSS.MAX_LENGTH, None),
        (20, None),
        (64, None),
        (32, hashes.SHA1()),  # noqa: S303 - a deliberately wrong MGF hash
        (32, hashes.SHA512()),
    ],
)
def test_B3_pss_signature_with_other_salt_length_or_mgf_rejected(
    salt_length: int,
    mgf_hash: hashes.HashAlgorithm | None,
    rsa_crypto: rsa.RSAPrivateKey,
    signings: dict[str, Signing],
) -> None:
    public = signings["PS256"].public
    control = forge({"alg": "PS256"}, CLAIMS, rsa_signer(rsa_crypto, pss(32), hashes.SHA256()))
    assert jwtkit.decode(control, public, algorithms=["PS256"]) == CLAIMS
    sign = rsa_signer(rsa_crypto, pss(salt_length, mgf_hash), hashes.SHA256())
    token = forge({"alg": "PS256"}, CLAIMS, sign)
    reject_everywhere(token, public, ["PS256"], InvalidSignature)


def test_B3_pkcs1_signature_presented_as_pss_and_vice_versa_rejected(
    signings: dict[str, Signing],
) -> None:
    rs, ps = signings["RS256"], signings["PS256"]
    reject_everywhere(
        forge({"alg": "PS256"}, CLAIMS, rs.sign), ps.public, ["PS256"], InvalidSignature
    )
    reject_everywhere(
        forge({"alg": "RS256"}, CLAIMS, ps.sign), rs.public, ["RS256"], InvalidSignature
    )


# --- B4 ---------------------------------------------------------------------------------------


def _ed25519_signature_with_r(
    private: ed25519.Ed25519PrivateKey, r_bytes: bytes, message: bytes
) -> bytes:
    """An Ed25519 signature whose R is the identity point written as ``r_bytes`` (r = 0):
    S = H(R || A || M) * a mod L. Lenient decoders accept any encoding of the identity."""
    seed = private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    digest = hashlib.sha512(seed).digest()
    a = int.from_bytes(digest[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    k = int.from_bytes(hashlib.sha512(r_bytes + public + message).digest(), "little") % ED25519_L
    return r_bytes + (k * a % ED25519_L).to_bytes(32, "little")


def test_B4_ed25519_signature_with_s_not_below_l_rejected(signings: dict[str, Signing]) -> None:
    ed = signings["EdDSA"]
    valid = forge({"alg": "EdDSA"}, CLAIMS, ed.sign)
    assert jwtkit.decode(valid, ed.public, algorithms=["EdDSA"]) == CLAIMS
    raw = lenient_b64decode(parts(valid)[2])
    s = int.from_bytes(raw[32:], "little")
    assert s < ED25519_L
    for bad_s in (s + ED25519_L, s + 2 * ED25519_L, 2**256 - 1):
        assert bad_s < 2**256
        token = with_signature(valid, raw[:32] + bad_s.to_bytes(32, "little"))
        reject_everywhere(token, ed.public, ["EdDSA"], InvalidSignature)


def test_B4_ed448_signature_with_s_not_below_l_rejected(signings: dict[str, Signing]) -> None:
    ed = signings["Ed448"]
    valid = forge({"alg": "EdDSA"}, CLAIMS, ed.sign)
    assert jwtkit.decode(valid, ed.public, algorithms=["EdDSA"]) == CLAIMS
    raw = lenient_b64decode(parts(valid)[2])
    assert len(raw) == 114
    s = int.from_bytes(raw[57:], "little")
    token = with_signature(valid, raw[:57] + (s + ED448_L).to_bytes(57, "little"))
    reject_everywhere(token, ed.public, ["EdDSA", "Ed448"], InvalidSignature)


def test_B4_ed25519_non_canonical_point_encoding_rejected(signings: dict[str, Signing]) -> None:
    ed = signings["EdDSA"]
    private = ed.crypto
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    header_segment = segment({"alg": "EdDSA"})
    payload_segment = segment(CLAIMS)
    message = f"{header_segment}.{payload_segment}".encode("ascii")
    canonical_identity = (1).to_bytes(32, "little")
    # Control: with R written canonically, the hand-made signature is genuine.
    signature = _ed25519_signature_with_r(private, canonical_identity, message)
    control = f"{header_segment}.{payload_segment}.{b64(signature)}"
    assert jwtkit.decode(control, ed.public, algorithms=["EdDSA"]) == CLAIMS
    for r_bytes in (
        (ED25519_P + 1).to_bytes(32, "little"),  # y = p + 1, i.e. y = 1 written >= p
        canonical_identity[:31] + b"\x80",  # x = 0 with the sign bit set ("negative zero")
    ):
        signature = _ed25519_signature_with_r(private, r_bytes, message)
        token = f"{header_segment}.{payload_segment}.{b64(signature)}"
        reject_everywhere(token, ed.public, ["EdDSA", "Ed25519"], InvalidSignature)


# --- B5 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alg", "digest"), [("HS256", "sha256"), ("HS384", "sha384"), ("HS512", "sha512")]
)
def test_B5_truncated_or_extended_hmac_tag_rejected(alg: str, digest: str) -> None:
    secret = hashlib.sha512(b"B5 secret").digest()
    key = jwtkit.OctKey(secret)
    valid = forge({"alg": alg}, CLAIMS, hs(secret, digest))
    assert jwtkit.decode(valid, key, algorithms=[alg]) == CLAIMS
    tag = lenient_b64decode(parts(valid)[2])
    verifier = warm_verifier(key, [alg], valid)
    for bad in (tag[:16], tag[:-1], tag + b"\x00", tag + tag[:1], tag[: len(tag) // 2], tag[:1]):
        token = with_signature(valid, bad)
        reject_everywhere(token, key, [alg], InvalidSignature)
        with pytest.raises(InvalidSignature):
            verifier.decode(token)


def test_B5_hmac_tags_compared_with_compare_digest() -> None:
    source = inspect.getsource(jwtkit._jwa_signing.HMAC)
    assert "compare_digest" in source
    verify_source = inspect.getsource(jwtkit._jwa_signing.HMAC.verifier)
    assert "compare_digest" in verify_source


# --- B6 ---------------------------------------------------------------------------------------

WEAK_SECRETS = [
    b"short",
    b"x" * 31,
    b"secret",
    b"your-256-bit-secret",
    b"a-string-secret-at-least-256-bits-long",
    b"changeme",
    b"keyboard cat",
]


@pytest.mark.parametrize("secret", [b"", *WEAK_SECRETS])
def test_B6_empty_short_or_well_known_hmac_secret_refused(secret: bytes) -> None:
    token = forge({"alg": "HS256", "typ": "JWT"}, CLAIMS, hs(secret))
    for argument in (secret, secret.decode("ascii")):
        with pytest.raises(InvalidKey):
            jwtkit.encode(CLAIMS, argument, algorithm="HS256")
        with pytest.raises(InvalidKey):
            jws.sign(b"payload", argument, algorithm="HS256")
        reject_everywhere(token, argument, ["HS256"], InvalidKey)


@pytest.mark.parametrize("secret", WEAK_SECRETS)
def test_B6_weak_hmac_secret_allowed_only_with_explicit_opt_out(secret: bytes) -> None:
    with pytest.raises(InvalidKey):
        jwtkit.encode(CLAIMS, jwtkit.OctKey(secret), algorithm="HS256")
    key = jwtkit.OctKey(secret, allow_weak=True)
    token = jwtkit.encode(CLAIMS, key, algorithm="HS256")
    assert jwtkit.decode(token, key, algorithms=["HS256"]) == CLAIMS
    forged = forge({"alg": "HS256"}, CLAIMS, hs(secret))
    assert jwtkit.decode(forged, key, algorithms=["HS256"]) == CLAIMS
    assert jwtkit.Verifier(key, algorithms=["HS256"]).decode(forged) == CLAIMS


def test_B6_secret_shorter_than_hash_refused_for_hs384_and_hs512() -> None:
    for alg, digest, length in (("HS384", "sha384", 47), ("HS512", "sha512", 63)):
        secret = hashlib.sha512(b"B6").digest()[:length]
        token = forge({"alg": alg}, CLAIMS, hs(secret, digest))
        with pytest.raises(InvalidKey):
            jwtkit.encode(CLAIMS, secret, algorithm=alg)
        reject_everywhere(token, secret, [alg], InvalidKey)


# --- B7 ---------------------------------------------------------------------------------------


def test_B7_padding_in_any_segment_rejected(oct_key: jwtkit.OctKey) -> None:
    header = unaligned({"alg": "HS256"})
    claims = unaligned(CLAIMS)
    header_segment, payload_segment = segment(header), segment(claims)
    padded_header = header_segment + "=" * (-len(header_segment) % 4)
    padded_payload = payload_segment + "=" * (-len(payload_segment) % 4)
    assert "=" in padded_header
    assert "=" in padded_payload
    valid = signed(header_segment, payload_segment, hs(SECRET))
    signature = parts(valid)[2]
    assert len(signature) % 4 != 0
    for token in (
        signed(padded_header, payload_segment, hs(SECRET)),
        signed(header_segment, padded_payload, hs(SECRET)),
        f"{header_segment}.{payload_segment}.{signature}=",
        f"{header_segment}.{payload_segment}.{signature}" + "=" * (-len(signature) % 4),
        f"{header_segment}.{payload_segment}.{signature}==",
    ):
        reject_everywhere(token, oct_key, ["HS256"], MalformedToken)


def test_B7_standard_base64_alphabet_rejected(oct_key: jwtkit.OctKey) -> None:
    header = {"alg": "HS256", "kid": "???>>>"}
    claims = {**CLAIMS, "note": "???>>>"}
    header_segment, payload_segment = segment(header), segment(claims)
    std_header = header_segment.replace("-", "+").replace("_", "/")
    std_payload = payload_segment.replace("-", "+").replace("_", "/")
    assert std_header != header_segment
    assert std_payload != payload_segment
    for token in (
        signed(std_header, payload_segment, hs(SECRET)),
        signed(header_segment, std_payload, hs(SECRET)),
    ):
        reject_everywhere(token, oct_key, ["HS256"], MalformedToken)
    # A signature with "-" or "_" rewritten to "+" or "/".
    for counter in range(200):
        valid = forge({"alg": "HS256"}, {**CLAIMS, "n": counter}, hs(SECRET))
        signature = parts(valid)[2]
        if "-" in signature or "_" in signature:
            break
    else:
        pytest.fail("no HS256 tag with '-' or '_' found")
    std_signature = signature.replace("-", "+").replace("_", "/")
    token = valid[: -len(signature)] + std_signature
    reject_everywhere(token, oct_key, ["HS256"], MalformedToken)


def test_B7_whitespace_inside_segments_rejected(oct_key: jwtkit.OctKey) -> None:
    header_segment, payload_segment = segment({"alg": "HS256"}), segment(CLAIMS)
    for space in (" ", "\n", "\r\n", "\t"):
        cut_h, cut_p = len(header_segment) // 2, len(payload_segment) // 2
        spaced_header = header_segment[:cut_h] + space + header_segment[cut_h:]
        spaced_payload = payload_segment[:cut_p] + space + payload_segment[cut_p:]
        valid = signed(header_segment, payload_segment, hs(SECRET))
        signature = parts(valid)[2]
        spaced_signature = signature[:10] + space + signature[10:]
        for token in (
            signed(spaced_header, payload_segment, hs(SECRET)),
            signed(header_segment, spaced_payload, hs(SECRET)),
            f"{header_segment}.{payload_segment}.{spaced_signature}",
        ):
            reject_everywhere(token, oct_key, ["HS256"], MalformedToken)


def test_B7_non_zero_trailing_bits_in_header_or_payload_rejected(oct_key: jwtkit.OctKey) -> None:
    header_segment = segment(unaligned({"alg": "HS256"}))
    payload_segment = segment(unaligned(CLAIMS))
    valid = signed(header_segment, payload_segment, hs(SECRET))
    verifier = warm_verifier(oct_key, ["HS256"], valid)
    # Signed over exactly the non-canonical text, so only the encoding rule can reject them.
    bad_header = signed(with_trailing_bits(header_segment), payload_segment, hs(SECRET))
    bad_payload = signed(header_segment, with_trailing_bits(payload_segment), hs(SECRET))
    for token in (bad_header, bad_payload):
        reject_everywhere(token, oct_key, ["HS256"], MalformedToken)
        with pytest.raises(MalformedToken):
            verifier.decode(token)


@pytest.mark.parametrize("alg", ["HS256", "RS256", "ES256", "EdDSA"])
def test_B7_non_zero_trailing_bits_in_signature_rejected(
    alg: str, oct_key: jwtkit.OctKey, signings: dict[str, Signing]
) -> None:
    if alg == "HS256":
        key: jwtkit.Key = oct_key
        valid = hs256_token()
    else:
        key = signings[alg].public
        valid = forge({"alg": alg}, CLAIMS, signings[alg].sign)
    signature = parts(valid)[2]
    # The same signature bytes for a lenient decoder (checked by with_trailing_bits).
    token = valid[: -len(signature)] + with_trailing_bits(signature)
    reject_everywhere(token, key, [alg], (InvalidSignature, MalformedToken))
    verifier = warm_verifier(key, [alg], valid)
    with pytest.raises((InvalidSignature, MalformedToken)):
        verifier.decode(token)


# =============================================================================================
# D. Parsing and size
# =============================================================================================

# --- D1 ---------------------------------------------------------------------------------------


def test_D1_token_larger_than_default_maximum_rejected(oct_key: jwtkit.OctKey) -> None:
    huge = forge({"alg": "HS256"}, {**CLAIMS, "pad": "x" * 1_000_000}, hs(SECRET))
    started = time.perf_counter()
    reject_everywhere(huge, oct_key, ["HS256"], TokenTooLarge)
    reject_everywhere(huge.encode("ascii"), oct_key, ["HS256"], TokenTooLarge)
    reject_everywhere("A" * 4_000_000, oct_key, ["HS256"], TokenTooLarge)
    reject_everywhere("." * 4_000_000, oct_key, ["HS256"], TokenTooLarge)
    assert time.perf_counter() - started < 2.0
    with pytest.raises(TokenTooLarge) as caught:
        jwtkit.decode(huge, oct_key, algorithms=["HS256"])
    assert caught.value.code == "token_too_large"


def test_D1_configurable_max_token_size(oct_key: jwtkit.OctKey) -> None:
    token = forge({"alg": "HS256"}, {**CLAIMS, "pad": "x" * 1500}, hs(SECRET))
    assert len(token) > 2000
    reject_everywhere(token, oct_key, ["HS256"], TokenTooLarge, max_token_size=1024)
    reject_everywhere(token, oct_key, ["HS256"], TokenTooLarge, max_token_size=len(token) - 1)
    decoded = jwtkit.decode(token, oct_key, algorithms=["HS256"], max_token_size=len(token))
    assert decoded["sub"] == "42"
    verifier = jwtkit.Verifier(oct_key, algorithms=["HS256"], max_token_size=len(token))
    assert verifier.decode(token)["sub"] == "42"
    short = hs256_token()
    with pytest.raises(TokenTooLarge):
        jwtkit.Verifier(oct_key, algorithms=["HS256"], max_token_size=len(short) - 1).decode(short)


def test_D1_thousands_of_dots_rejected_quickly(oct_key: jwtkit.OctKey) -> None:
    valid = hs256_token()
    started = time.perf_counter()
    for token in (
        "." * 5_000,
        "." * 200_000,
        "a." * 100_000,
        valid + "." * 10_000,
        ".".join([valid] * 1_000),
    ):
        reject_everywhere(token, oct_key, ["HS256"], MalformedToken)
    assert time.perf_counter() - started < 2.0


# --- D2 ---------------------------------------------------------------------------------------


def _deep_documents(depth: int) -> list[bytes]:
    arrays = b"[" * depth + b"]" * depth
    objects = b'{"a":' * depth + b"1" + b"}" * depth
    return [arrays, objects]


@pytest.mark.parametrize("depth", [10_000, 500, 100])
def test_D2_deep_json_nesting_rejected_without_recursion_error(
    depth: int, oct_key: jwtkit.OctKey
) -> None:
    for inner in _deep_documents(depth):
        header_token = forge(b'{"alg":"HS256","x":' + inner + b"}", CLAIMS, hs(SECRET))
        reject_everywhere(header_token, oct_key, ["HS256"], MalformedToken)
        # jws.verify does not parse its payload as JSON; the JWT API parses the claims.
        claims_token = forge({"alg": "HS256"}, b'{"sub":"42","x":' + inner + b"}", hs(SECRET))
        reject_everywhere(claims_token, oct_key, ["HS256"], MalformedToken, include_jws=False)


@pytest.mark.parametrize(
    "literal",
    [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e400", b"1E999", b"9" * 5000],
)
def test_D2_nan_infinity_and_overflowing_numbers_rejected(
    literal: bytes, oct_key: jwtkit.OctKey
) -> None:
    header_token = forge(b'{"alg":"HS256","x":' + literal + b"}", CLAIMS, hs(SECRET))
    reject_everywhere(header_token, oct_key, ["HS256"], MalformedToken)
    for claims in (
        b'{"sub":"42","exp":' + literal + b"}",
        b'{"sub":"42","nbf":' + literal + b"}",
        b'{"sub":"42","x":[' + literal + b"]}",
    ):
        token = forge({"alg": "HS256"}, claims, hs(SECRET))
        reject_everywhere(token, oct_key, ["HS256"], MalformedToken, include_jws=False)


# --- D3 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        {"alg": 1},
        {"alg": None},
        {"alg": True},
        {"alg": ["HS256"]},
        {"alg": {"HS256": True}},
        {"typ": "JWT"},  # alg missing
        {"alg": "HS256", "kid": None},
        {"alg": "HS256", "typ": 1},
        {"alg": "HS256", "typ": None},
        {"alg": "HS256", "cty": 1},
        {"alg": "HS256", "crit": "x", "x": 1},
        {"alg": "HS256", "jwk": "x"},
        {"alg": "HS256", "jwk": None},
        {"alg": "HS256", "jwk": ["x"]},
        {"alg": "HS256", "x5c": "x"},
        {"alg": "HS256", "x5c": [1]},
        {"alg": "HS256", "x5c": None},
        {"alg": "HS256", "jku": 1},
        {"alg": "HS256", "x5u": ["https://a.example"]},
        {"alg": "HS256", "x5t": 1},
        {"alg": "HS256", "x5t#S256": None},
    ],
)
def test_D3_header_members_of_wrong_type_or_null_rejected(
    header: dict[str, Any], oct_key: jwtkit.OctKey
) -> None:
    token = forge(header, CLAIMS, hs(SECRET))
    reject_everywhere(token, oct_key, ["HS256"], MalformedToken)


@pytest.mark.parametrize("document", [b"[]", b'"HS256"', b"null", b"1", b"true", b""])
def test_D3_header_or_claims_not_a_json_object_rejected(
    document: bytes, oct_key: jwtkit.OctKey
) -> None:
    reject_everywhere(forge(document, CLAIMS, hs(SECRET)), oct_key, ["HS256"], MalformedToken)
    reject_everywhere(
        forge({"alg": "HS256"}, document, hs(SECRET)),
        oct_key,
        ["HS256"],
        MalformedToken,
        include_jws=False,
    )


# --- D4 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        b'{"alg":"HS256","alg":"none"}',
        b'{"alg":"none","alg":"HS256"}',
        b'{"alg":"HS256","alg":"HS256"}',
        b'{"alg":"HS256","kid":"a","kid":"legit"}',
        b'{"alg":"HS256","crit":["ext"],"ext":1,"ext":2}',
        b'{"alg":"HS256","x":{"a":1,"a":2}}',
    ],
)
def test_D4_duplicate_header_member_names_rejected(header: bytes, oct_key: jwtkit.OctKey) -> None:
    token = forge(header, CLAIMS, hs(SECRET))
    reject_everywhere(token, oct_key, ["HS256"], MalformedToken, crit=["ext"])


@pytest.mark.parametrize(
    "claims",
    [
        b'{"sub":"42","sub":"admin"}',
        b'{"admin":false,"admin":true}',
        b'{"sub":"42","aud":"a","aud":"b"}',
        b'{"sub":"42","exp":1,"exp":9999999999}',
        b'{"sub":"42","x":{"a":1,"a":2}}',
        b'{"sub":"42","x":[{"a":1,"a":2}]}',
    ],
)
def test_D4_duplicate_claim_names_rejected(claims: bytes, oct_key: jwtkit.OctKey) -> None:
    token = forge({"alg": "HS256"}, claims, hs(SECRET))
    reject_everywhere(token, oct_key, ["HS256"], MalformedToken, include_jws=False)


# --- D5 ---------------------------------------------------------------------------------------

BAD_ENCODINGS = [
    b'\xef\xbb\xbf{"alg":"HS256"}',  # UTF-8 BOM
    b'{"alg":"HS256","kid":"\xff"}',  # not UTF-8 at all
    b'{"alg":"HS256","kid":"caf\xe9"}',  # Latin-1
    b'{"alg":"HS256","kid":"\xc0\xaf"}',  # overlong encoding of "/"
    b'{"alg":"HS256","kid":"\xed\xa0\x80"}',  # an encoded surrogate (CESU-8)
    '{"alg":"HS256"}'.encode("utf-16"),  # UTF-16 with its BOM
    '{"alg":"HS256"}'.encode("utf-16-le"),
    '{"alg":"HS256"}'.encode("utf-32"),
]


@pytest.mark.parametrize("header", BAD_ENCODINGS)
def test_D5_non_utf8_or_bom_in_header_rejected(header: bytes, oct_key: jwtkit.OctKey) -> None:
    token = forge(header, CLAIMS, hs(SECRET))
    reject_everywhere(token, oct_key, ["HS256"], MalformedToken)


@pytest.mark.parametrize("header", BAD_ENCODINGS)
def test_D5_non_utf8_or_bom_in_claims_rejected(header: bytes, oct_key: jwtkit.OctKey) -> None:
    claims = header.replace(b"alg", b"sub").replace(b"HS256", b"42").replace(b"kid", b"name")
    claims = claims.replace("alg".encode("utf-16-le"), "sub".encode("utf-16-le"))
    token = forge({"alg": "HS256"}, claims, hs(SECRET))
    reject_everywhere(token, oct_key, ["HS256"], MalformedToken, include_jws=False)


# =============================================================================================
# E. Claims
# =============================================================================================


def _jwt(claims: Mapping[str, Any], **kwargs: Any) -> str:
    return jwtkit.encode(claims, jwtkit.OctKey(SECRET), algorithm="HS256", **kwargs)


def _decode(token: str, **kwargs: Any) -> dict[str, Any]:
    return jwtkit.decode(token, jwtkit.OctKey(SECRET), algorithms=["HS256"], now=NOW, **kwargs)


def _verifier(**kwargs: Any) -> jwtkit.Verifier:
    return jwtkit.Verifier(
        jwtkit.OctKey(SECRET), algorithms=["HS256"], clock=FrozenClock(NOW), **kwargs
    )


# --- E1 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("aud", "audience"),
    [
        ("api", "api"),
        (["api"], "api"),
        (["other", "api"], "api"),
        ("api", ["other", "api"]),
        (["x", "api"], ["api", "y"]),
    ],
)
def test_E1_audience_string_or_list_exact_match_accepted(
    aud: object, audience: str | list[str]
) -> None:
    token = _jwt({**CLAIMS, "aud": aud})
    assert _decode(token, audience=audience)["aud"] == aud
    assert _verifier(audience=audience).decode(token)["aud"] == aud


@pytest.mark.parametrize(
    "aud",
    [
        "api2",
        "ap",
        "API",
        "api ",
        "",
        "https://api",
        ["apix"],
        ["a", "p", "i"],
        [],
        [""],
        [1],
        [None],
        ["api", 1],
        ["api", None],
        [["api"]],
        [{"api": True}],
        {"api": True},
        1,
        None,
        True,
        1.5,
    ],
)
def test_E1_cve_2020_26160_malformed_or_non_matching_audience_rejected(aud: object) -> None:
    token = _jwt({**CLAIMS, "aud": aud})
    with pytest.raises(InvalidAudience) as caught:
        _decode(token, audience="api")
    assert caught.value.claim == "aud"
    with pytest.raises(InvalidAudience):
        _verifier(audience=["api"]).decode(token)


def test_E1_audience_in_token_but_none_expected_rejected() -> None:
    with pytest.raises(InvalidAudience):
        _decode(_jwt({**CLAIMS, "aud": "api"}))
    with pytest.raises(InvalidAudience):
        _decode(_jwt({**CLAIMS, "aud": []}))


def test_E1_audience_expected_but_absent_rejected() -> None:
    with pytest.raises(MissingClaim) as caught:
        _decode(_jwt(CLAIMS), audience="api")
    assert caught.value.claim == "aud"


# --- E2 ---------------------------------------------------------------------------------------

BAD_NUMERIC_DATES: list[object] = [
    str(NOW + 3600),
    "0",
    "",
    True,
    False,
    None,
    [NOW + 3600],
    {"t": NOW + 3600},
    1e20,
    -1e20,
    10**20,
    -(10**20),
    1.7e308,
]


@pytest.mark.parametrize("name", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", BAD_NUMERIC_DATES)
def test_E2_time_claims_of_wrong_type_or_range_rejected_never_absent(
    name: str, value: object
) -> None:
    token = _jwt({**CLAIMS, name: value})
    # A plain ClaimError naming the claim: not "expired"/"not yet valid" (bool is not a
    # number here) and never a pass (not treated as absent).
    with pytest.raises(ClaimError) as caught:
        _decode(token)
    assert type(caught.value) is ClaimError
    assert caught.value.claim == name
    assert caught.value.code == "invalid_claim"
    with pytest.raises(ClaimError) as caught:
        _verifier().decode(token)
    assert type(caught.value) is ClaimError
    with pytest.raises(ClaimError):
        _decode(token, leeway=10**9)


# --- E3 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iss",
    [
        "https://id.example.evil.com",
        "https://id.example/",
        "https://id.example/evil",
        "https://id.exampl",
        "id.example",
        "https",
        "",
        "e",
        "HTTPS://ID.EXAMPLE",
        " https://id.example",
        "https://id.example ",
        "https://id.example\x00",
        ["https://id.example"],
        {"https://id.example": True},
        None,
        1,
    ],
)
def test_E3_cve_2024_53861_issuer_substring_prefix_or_superstring_rejected(iss: object) -> None:
    token = _jwt({**CLAIMS, "iss": iss})
    with pytest.raises(InvalidIssuer) as caught:
        _decode(token, issuer="https://id.example")
    assert caught.value.claim == "iss"
    with pytest.raises(InvalidIssuer):
        _decode(token, issuer=["https://id.example", "https://other.example"])
    with pytest.raises(InvalidIssuer):
        _verifier(issuer="https://id.example").decode(token)


def test_E3_issuer_exact_match_accepted_and_required() -> None:
    token = _jwt({**CLAIMS, "iss": "https://id.example"})
    assert _decode(token, issuer="https://id.example")["iss"] == "https://id.example"
    assert _decode(token, issuer=["https://other.example", "https://id.example"]) != {}
    with pytest.raises(MissingClaim):
        _decode(_jwt(CLAIMS), issuer="https://id.example")


# --- E4 ---------------------------------------------------------------------------------------


def test_E4_expired_and_badly_signed_token_reports_invalid_signature(
    oct_key: jwtkit.OctKey,
) -> None:
    expired_claims = {**CLAIMS, "iat": NOW - 7200, "exp": NOW - 3600}
    genuine = forge({"alg": "HS256", "typ": "JWT"}, expired_claims, hs(SECRET))
    with pytest.raises(jwtkit.ExpiredToken):
        _decode(genuine)
    verifier = jwtkit.Verifier(oct_key, algorithms=["HS256"], clock=FrozenClock(NOW))
    for claims in (
        expired_claims,
        {**expired_claims, "nbf": NOW + 3600},
        {**expired_claims, "aud": [], "iss": 1},
        {"exp": "not a date", "nbf": None},
        b"not JSON at all",
        b'{"exp":1,"exp":2}',
    ):
        forged = forge({"alg": "HS256", "typ": "JWT"}, claims, hs(OTHER_SECRET))
        reject_everywhere(forged, oct_key, ["HS256"], InvalidSignature, include_jws=False)
        with pytest.raises(InvalidSignature):
            _decode(forged, audience="api", issuer="https://id.example")
        with pytest.raises(InvalidSignature):
            verifier.decode(forged)
    # With the header already cached by a genuine (if expired) token.
    with pytest.raises(jwtkit.ExpiredToken):
        verifier.decode(genuine)
    forged = forge({"alg": "HS256", "typ": "JWT"}, expired_claims, hs(OTHER_SECRET))
    with pytest.raises(InvalidSignature):
        verifier.decode(forged)


def test_E4_expired_token_with_unknown_kid_or_disallowed_alg_reports_that_first(
    kid_keys: jwtkit.KeySet,
) -> None:
    expired = {**CLAIMS, "exp": NOW - 3600}
    unknown_kid = forge({"alg": "HS256", "kid": "other"}, expired, hs(SECRET))
    with pytest.raises(KeyNotFound):
        jwtkit.decode(unknown_kid, kid_keys, algorithms=["HS256"], now=NOW)
    wrong_alg = forge({"alg": "HS384", "kid": "legit"}, expired, hs(SECRET, "sha384"))
    with pytest.raises(AlgorithmNotAllowed):
        jwtkit.decode(wrong_alg, kid_keys, algorithms=["HS256"], now=NOW)


# --- E5 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typ", ["JWT", "jwt", "application/jwt", "JOSE", "at+jwt ", "jwt+at", "id_token", "at", ""]
)
def test_E5_id_token_or_other_type_rejected_where_access_token_expected(typ: str) -> None:
    token = _jwt({**CLAIMS, "iss": "https://id.example", "nonce": "n"}, typ=typ)
    with pytest.raises(InvalidType) as caught:
        _decode(token, typ="at+jwt")
    assert caught.value.code == "invalid_type"
    with pytest.raises(InvalidType):
        _verifier(typ="at+jwt").decode(token)
    with pytest.raises(InvalidType):
        _verifier(typ="application/at+jwt").decode(token)


def test_E5_missing_typ_rejected_when_typ_expected() -> None:
    token = _jwt(CLAIMS, typ=None)
    assert "typ" not in jwtkit.decode_unverified(token).header
    with pytest.raises(InvalidType):
        _decode(token, typ="at+jwt")
    with pytest.raises(InvalidType):
        _decode(token, typ="JWT")
    with pytest.raises(InvalidType):
        _verifier(typ="at+jwt").decode(token)


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"])
def test_E5_expected_typ_accepted_case_insensitively(typ: str) -> None:
    token = _jwt(CLAIMS, typ=typ)
    assert _decode(token, typ="at+jwt") == CLAIMS
    assert _verifier(typ="application/at+jwt").decode(token) == CLAIMS
