"""Regression tests for the key rows of the security matrix: A2, A3, A5, B6, F1-F4.

Each test is named after its row (and advisory, where the row names one); the rows are in
``docs/security.md``.
"""

# ruff: noqa: N802 - the test names carry the row name (A2, F1, ...) in upper case

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from jwtkit._codec import b64url_encode
from jwtkit.errors import InvalidKey, JWTError
from jwtkit.jwk import ECKey, Key, KeySet, OctKey, RSAKey

# -- helpers ---------------------------------------------------------------------------------


def _refused_as_secret(secret: bytes) -> None:
    """Refused as bytes, as text and inside an oct JWK; allow_weak changes nothing."""
    with pytest.raises(InvalidKey, match="must never be used as a symmetric secret"):
        OctKey(secret)
    with pytest.raises(InvalidKey, match="must never be used as a symmetric secret"):
        OctKey(secret, allow_weak=True)
    with pytest.raises(InvalidKey, match="must never be used as a symmetric secret"):
        Key.from_jwk({"kty": "oct", "k": b64url_encode(secret)}, allow_weak=True)
    try:
        text = secret.decode("utf-8")
    except UnicodeDecodeError:
        return
    with pytest.raises(InvalidKey, match="must never be used as a symmetric secret"):
        OctKey(text, alg="HS256")


def _spki_pem(private: rsa.RSAPrivateKey) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _der_int(value: int) -> bytes:
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return b"\x02" + _der_length(len(body)) + body


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _pkcs1_public_der(n: int, e: int) -> bytes:
    body = _der_int(n) + _der_int(e)
    return b"\x30" + _der_length(len(body)) + body


# -- A2: public keys, certificates, JWKs and SSH keys never become HMAC secrets --------------


def test_A2_spki_pem_public_key_refused_as_hmac_secret(rsa_private: rsa.RSAPrivateKey) -> None:
    _refused_as_secret(_spki_pem(rsa_private))


def test_A2_cve_2017_11424_pkcs1_pem_public_key_refused_as_hmac_secret(
    rsa_private: rsa.RSAPrivateKey,
) -> None:
    _refused_as_secret(
        rsa_private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
        )
    )


def test_A2_cve_2023_48223_certificate_pem_refused_as_hmac_secret(
    rsa_certificate: x509.Certificate,
) -> None:
    _refused_as_secret(rsa_certificate.public_bytes(serialization.Encoding.PEM))


def test_A2_cve_2023_48223_pem_with_leading_whitespace_and_crlf_refused_as_hmac_secret(
    rsa_private: rsa.RSAPrivateKey,
) -> None:
    pem = _spki_pem(rsa_private).replace(b"\n", b"\r\n")
    _refused_as_secret(b"\r\n  \t" + pem + b"\r\n\r\n")
    _refused_as_secret(b"  \n" + pem)


def test_A2_private_key_pem_refused_as_hmac_secret(rsa_private: rsa.RSAPrivateKey) -> None:
    _refused_as_secret(
        rsa_private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )


def test_A2_cve_2022_29217_ssh_public_key_refused_as_hmac_secret(
    rsa_private: rsa.RSAPrivateKey,
) -> None:
    for private in (rsa_private, ed25519.Ed25519PrivateKey.generate()):
        line = private.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        _refused_as_secret(line)
        _refused_as_secret(line + b" alice@example.com\r\n")
        _refused_as_secret(b'from="10.0.0.1" ' + line)


def test_A2_cve_2024_33663_ecdsa_openssh_public_key_refused_as_hmac_secret() -> None:
    for curve in (ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1()):
        line = (
            ec.generate_private_key(curve)
            .public_key()
            .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        )
        assert line.startswith(b"ecdsa-sha2-nistp")
        _refused_as_secret(line)


def test_A2_openssh_private_key_refused_as_hmac_secret() -> None:
    private = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    _refused_as_secret(private)
    blob = base64.b64decode(b"".join(private.strip().split(b"\n")[1:-1]))
    _refused_as_secret(blob)


def test_A2_jwk_json_text_refused_as_hmac_secret() -> None:
    public = Key.generate("ES256", kid="k").public_key()
    _refused_as_secret(json.dumps(public.to_jwk()).encode("utf-8"))
    _refused_as_secret(b"  " + json.dumps(public.to_jwk(), indent=2).encode("utf-8"))
    _refused_as_secret(json.dumps({"keys": [public.to_jwk()]}).encode("utf-8"))
    # JSON that is not a key is an ordinary (if odd) secret
    assert OctKey(b'{"not": "a key", "padding": "0123456789abcdef"}').secret.startswith(b"{")
    assert OctKey(b"{not json at all, 0123456789abcdef0123456789}").secret.startswith(b"{")


def test_A2_der_public_key_certificate_and_private_key_refused_as_hmac_secret(
    rsa_private: rsa.RSAPrivateKey, rsa_certificate: x509.Certificate
) -> None:
    public = rsa_private.public_key()
    spki_der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _refused_as_secret(spki_der)
    _refused_as_secret(
        public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    )
    _refused_as_secret(rsa_certificate.public_bytes(serialization.Encoding.DER))
    ec_private = ec.generate_private_key(ec.SECP256R1())
    _refused_as_secret(
        ec_private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    _refused_as_secret(
        ec_private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pw"),
        )
    )
    # the body of a PEM without its armour, and DER with stray whitespace around it
    _refused_as_secret(base64.b64encode(spki_der))
    _refused_as_secret(base64.encodebytes(spki_der))
    _refused_as_secret(base64.urlsafe_b64encode(spki_der).rstrip(b"="))
    _refused_as_secret(b"\n" + spki_der + b"\n")


def test_A2_unsupported_curve_der_still_refused_as_hmac_secret() -> None:
    brainpool = ec.generate_private_key(ec.BrainpoolP256R1())
    _refused_as_secret(
        brainpool.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def test_A2_ordinary_secrets_are_still_accepted() -> None:
    for secret in (
        b"0" * 40,  # starts with the DER SEQUENCE byte 0x30
        b"\x30\x82\x01\x22" + b"\x00" * 40,
        b"A" * 64,  # base64 alphabet, decodes to no key
        b"ssh-rsa-is-a-fine-word-in-a-long-passphrase-0123456789",
        b"sk-proj-0123456789abcdef0123456789abcdef",
        "pässwörd-ünïcode-0123456789-abcdefghijklmnop".encode(),
    ):
        assert OctKey(secret).secret == secret


def test_A2_cve_2024_37568_key_type_decides_not_the_header(
    rsa_private: rsa.RSAPrivateKey,
) -> None:
    public = Key.from_cryptography(rsa_private.public_key())
    for alg in ("HS256", "HS384", "HS512"):
        assert not public.supports(alg)
        with pytest.raises(InvalidKey, match="does not fit"):
            public.check_usable(alg, "verify")
    keyset = KeySet([public, OctKey.generate("HS256")], allow_mixed=True)
    assert [key.kty for key in keyset.select(None, "HS256", "verify")] == ["oct"]
    assert [key.kty for key in keyset.select(None, "RS256", "verify")] == ["RSA"]


# -- A3: one key, one algorithm -------------------------------------------------------------


def test_A3_key_alg_param_must_equal_the_algorithm_byte_for_byte() -> None:
    key = Key.generate("RS256")
    key.check_usable("RS256", "sign")
    for other in ("RS384", "PS256", "rs256", "RS256 "):
        with pytest.raises(InvalidKey):
            key.check_usable(other, "sign")


def test_A3_use_enc_key_refused_for_signatures() -> None:
    key = Key.generate("RSA", use="enc")
    with pytest.raises(InvalidKey, match="'use' 'enc'"):
        key.check_usable("RS256", "verify")
    key.check_usable("RSA-OAEP-256", "encrypt")
    sig = Key.generate("EC", use="sig")
    with pytest.raises(InvalidKey, match="'use' 'sig'"):
        sig.check_usable("ECDH-ES", "deriveKey")


def test_A3_key_ops_without_verify_refused() -> None:
    key = Key.generate("ES256", key_ops=["sign"])
    key.check_usable("ES256", "sign")
    with pytest.raises(InvalidKey, match="'key_ops' without 'verify'"):
        key.check_usable("ES256", "verify")


def test_A3_curve_must_match_the_algorithm_es512_with_p256() -> None:
    key = ECKey.generate(crv="P-256")
    assert not key.supports("ES512")
    with pytest.raises(InvalidKey, match="needs an EC key on P-521"):
        key.check_usable("ES512", "verify")
    with pytest.raises(InvalidKey, match="cannot carry 'alg' 'ES512'"):
        Key.from_jwk({**key.public_key().to_jwk(), "alg": "ES512"})


def test_A3_rsa_oaep_key_refused_for_rsa1_5() -> None:
    key = Key.generate("RSA-OAEP")
    with pytest.raises(InvalidKey, match="restricted to 'alg' 'RSA-OAEP'"):
        key.check_usable("RSA1_5", "decrypt")


def test_A3_hs512_refuses_a_32_byte_secret() -> None:
    key = OctKey.generate(256)
    key.check_usable("HS256", "verify")
    with pytest.raises(InvalidKey, match="shorter than the 512-bit hash"):
        key.check_usable("HS512", "verify")
    with pytest.raises(InvalidKey, match="shorter than the 384-bit hash"):
        key.check_usable("HS384", "sign")


def test_A3_public_key_cannot_sign_or_decrypt() -> None:
    public = Key.generate("ES256").public_key()
    public.check_usable("ES256", "verify")
    with pytest.raises(InvalidKey, match="public key; 'sign' needs the private key"):
        public.check_usable("ES256", "sign")
    rsa_public = Key.generate("RSA-OAEP-256").public_key()
    rsa_public.check_usable("RSA-OAEP-256", "encrypt")
    for operation in ("decrypt", "unwrapKey"):
        with pytest.raises(InvalidKey, match="needs the private key"):
            rsa_public.check_usable("RSA-OAEP-256", operation)


def test_A3_none_is_never_usable() -> None:
    for key in (OctKey.generate(), Key.generate("ES256")):
        assert not key.supports("none")
        with pytest.raises(InvalidKey, match="no key can be used with algorithm 'none'"):
            key.check_usable("none", "verify")


# -- A5: kid is an opaque string -------------------------------------------------------------


@pytest.mark.parametrize("kid", [1, 1.5, True, None, ["a"], {"a": 1}])
def test_A5_non_string_kid_refused_by_from_jwk(kid: object) -> None:
    jwk: dict[str, Any] = {**Key.generate("ES256").public_key().to_jwk(), "kid": kid}
    with pytest.raises(InvalidKey, match="kid"):
        Key.from_jwk(jwk)


@pytest.mark.parametrize("kid", [1, None, ["x"], False])
def test_A5_non_string_kid_in_jwks_is_skipped(kid: object) -> None:
    good = Key.generate("ES256", kid="good").public_key().to_jwk()
    bad = {**Key.generate("ES256").public_key().to_jwk(), "kid": kid}
    keyset = KeySet.from_jwks({"keys": [bad, good]})
    assert [key.kid for key in keyset] == ["good"]
    assert len(keyset.skipped) == 1
    assert keyset.skipped[0].index == 0
    assert keyset.skipped[0].kid is None
    assert "kid" in keyset.skipped[0].reason


@pytest.mark.parametrize("kid", ["../../dev/null", "' UNION SELECT 1 --", "|cmd", "a\x00b", ""])
def test_A5_kid_injection_strings_are_opaque_lookup_keys(kid: str) -> None:
    key = Key.generate("ES256", kid=kid)
    keyset = KeySet([key, Key.generate("ES256", kid="other")])
    assert keyset.get(kid) == (key,)
    assert keyset.select(kid, "ES256", "verify") == (key,)
    assert keyset.select(1, "ES256", "verify") == ()  # type: ignore[arg-type]
    assert keyset.get(None) == ()  # type: ignore[arg-type]


# -- B6: weak HMAC secrets --------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [b"secret", b"your-256-bit-secret", b"a-string-secret-at-least-256-bits-long", b"changeme",
     b"password", b"key", b"jwt-secret"],
)  # fmt: skip
def test_B6_well_known_secret_refused_unless_allow_weak(secret: bytes) -> None:
    with pytest.raises(InvalidKey, match="well-known"):
        OctKey(secret)
    with pytest.raises(InvalidKey, match="well-known"):
        OctKey(secret.decode("ascii"))
    with pytest.raises(InvalidKey, match="well-known"):
        Key.from_jwk({"kty": "oct", "k": b64url_encode(secret)})
    key = OctKey(secret, allow_weak=True)
    assert key.allow_weak
    key.check_usable("HS256", "verify")  # allow_weak also admits the short length
    assert Key.from_jwk(key.to_jwk(private=True), allow_weak=True) == key


def test_B6_well_known_secrets_compare_exact_bytes() -> None:
    assert OctKey(b"Secret-but-longer-than-the-example-0123456789").secret
    with pytest.raises(InvalidKey, match="short"):
        OctKey(b"SECRET").check_usable("HS256", "verify")


def test_B6_empty_secret_always_refused() -> None:
    for empty in (b"", ""):
        with pytest.raises(InvalidKey, match="empty"):
            OctKey(empty, allow_weak=True)
    with pytest.raises(InvalidKey, match="empty"):
        Key.from_jwk({"kty": "oct", "k": ""}, allow_weak=True)


@pytest.mark.parametrize(("alg", "length"), [("HS256", 32), ("HS384", 48), ("HS512", 64)])
def test_B6_secret_shorter_than_the_hash_refused_for_sign_and_verify(alg: str, length: int) -> None:
    short = OctKey(b"k" * (length - 1))
    for operation in ("sign", "verify"):
        with pytest.raises(InvalidKey, match=r"RFC 7518 §3\.2"):
            short.check_usable(alg, operation)
    OctKey(b"k" * (length - 1), allow_weak=True).check_usable(alg, "sign")
    OctKey(b"k" * length).check_usable(alg, "sign")
    assert short.supports(alg)  # supports() is about the key type only


# -- F1: weak or malformed asymmetric keys are refused at import ------------------------------


def test_F1_rsa_below_2048_bits_refused(rsa_1024: rsa.RSAPrivateKey) -> None:
    pem = rsa_1024.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    jwk = Key.from_cryptography(rsa_1024, allow_weak=True).to_jwk(private=True)
    loaders: list[Callable[[], object]] = [
        lambda: Key.from_pem(pem),
        lambda: Key.from_cryptography(rsa_1024),
        lambda: Key.from_cryptography(rsa_1024.public_key()),
        lambda: Key.from_jwk(jwk),
        lambda: RSAKey(rsa_1024),
    ]
    for load in loaders:
        with pytest.raises(InvalidKey, match="below the 2048-bit minimum"):
            load()


def test_F1_weak_rsa_with_allow_weak_may_only_verify(rsa_1024: rsa.RSAPrivateKey) -> None:
    key = Key.from_cryptography(rsa_1024, alg="RS256", allow_weak=True)
    assert isinstance(key, RSAKey)
    assert key.weak
    assert key.size == 1024
    key.check_usable("RS256", "verify")
    with pytest.raises(InvalidKey, match="may only verify, not sign"):
        key.check_usable("RS256", "sign")
    public = key.public_key()
    assert isinstance(public, RSAKey)
    assert public.weak
    public.check_usable("RS256", "verify")
    encryptor = Key.from_cryptography(rsa_1024.public_key(), allow_weak=True)
    with pytest.raises(InvalidKey, match="may only verify, not encrypt"):
        encryptor.check_usable("RSA-OAEP", "encrypt")
    assert Key.from_jwk(key.to_jwk(private=True), allow_weak=True) == key


def test_F1_rsa_below_1024_bits_refused_even_with_allow_weak(
    rsa_1024: rsa.RSAPrivateKey,
) -> None:
    n = rsa_1024.public_key().public_numbers().n >> 200
    n |= 1
    jwk = {"kty": "RSA", "n": b64url_encode(n.to_bytes(103, "big")), "e": "AQAB"}
    with pytest.raises(InvalidKey, match="far too small"):
        Key.from_jwk(jwk, allow_weak=True)


def test_F1_rsa_e_equal_1_refused(rsa_private: rsa.RSAPrivateKey) -> None:
    public = Key.from_cryptography(rsa_private.public_key()).to_jwk()
    for e in ("AQ", "AQAA", "Ag"):  # 1, 65536 (even), 2
        with pytest.raises(InvalidKey, match="must be odd and at least 3"):
            Key.from_jwk({**public, "e": e}, allow_weak=True)
    der = _pkcs1_public_der(rsa_private.public_key().public_numbers().n, 1)
    with pytest.raises(InvalidKey):
        Key.from_der(der, allow_weak=True)
    pem = (
        b"-----BEGIN RSA PUBLIC KEY-----\n"
        + base64.encodebytes(der)
        + b"-----END RSA PUBLIC KEY-----\n"
    )
    with pytest.raises(InvalidKey):
        Key.from_pem(pem, allow_weak=True)


def test_F1_ec_point_off_the_curve_refused() -> None:
    jwk = Key.generate("ES256").public_key().to_jwk()
    y = int.from_bytes(base64.urlsafe_b64decode(jwk["y"] + "="), "big")
    off = {**jwk, "y": b64url_encode(((y + 1) % 2**256).to_bytes(32, "big"))}
    with pytest.raises(InvalidKey, match="not on P-256"):
        Key.from_jwk(off)
    zero = {**jwk, "x": b64url_encode(bytes(32)), "y": b64url_encode(bytes(32))}
    with pytest.raises(InvalidKey, match="not on P-256"):
        Key.from_jwk(zero)


def test_F1_ec_point_of_another_curve_refused() -> None:
    p256 = Key.generate("ES256").public_key().to_jwk()
    with pytest.raises(InvalidKey, match="not on secp256k1"):
        Key.from_jwk({**p256, "crv": "secp256k1"})


@pytest.mark.parametrize("member", ["x", "y", "d"])
@pytest.mark.parametrize("delta", [-1, 1])
def test_F1_ec_coordinate_of_wrong_length_refused(member: str, delta: int) -> None:
    jwk = Key.generate("ES512").to_jwk(private=True)
    raw = base64.urlsafe_b64decode(jwk[member] + "=" * (-len(jwk[member]) % 4))
    assert len(raw) == 66
    changed = raw[1:] if delta < 0 else b"\x00" + raw
    with pytest.raises(InvalidKey, match=f"'{member}' must be 66 bytes on P-521"):
        Key.from_jwk({**jwk, member: b64url_encode(changed)})


@pytest.mark.parametrize("crv", ["Ed25519", "Ed448", "X25519", "X448"])
@pytest.mark.parametrize("member", ["x", "d"])
def test_F1_okp_value_of_wrong_length_refused(crv: str, member: str) -> None:
    jwk = Key.generate("OKP", crv=crv).to_jwk(private=True)
    raw = base64.urlsafe_b64decode(jwk[member] + "=" * (-len(jwk[member]) % 4))
    with pytest.raises(InvalidKey, match=f"'{member}' must be {len(raw)} bytes"):
        Key.from_jwk({**jwk, member: b64url_encode(raw + b"\x00")})


def test_F1_private_value_must_match_the_public_key() -> None:
    for alg in ("ES256", "EdDSA"):
        one, two = Key.generate(alg).to_jwk(private=True), Key.generate(alg).to_jwk(private=True)
        with pytest.raises(InvalidKey, match="does not match"):
            Key.from_jwk({**one, "d": two["d"]})
    rsa_one = Key.generate("RS256").to_jwk(private=True)
    rsa_two = Key.generate("RS256").to_jwk(private=True)
    with pytest.raises(InvalidKey, match="does not match"):
        Key.from_jwk({**rsa_one, "d": rsa_two["d"]})
    with pytest.raises(InvalidKey, match="inconsistent"):
        Key.from_jwk({**rsa_one, "p": rsa_two["p"]})


# -- F2: a JWKS keeps its good keys and says why it dropped the others -------------------------


def test_F2_unusable_keys_in_a_jwks_are_skipped_with_a_reason(
    rsa_1024: rsa.RSAPrivateKey,
) -> None:
    good_ec = Key.generate("ES256", kid="ec").public_key().to_jwk()
    good_rsa = Key.generate("RS256", kid="rsa").public_key().to_jwk()
    weak = Key.from_cryptography(rsa_1024.public_key(), kid="weak", allow_weak=True).to_jwk()
    off_curve = {**good_ec, "kid": "off", "y": good_ec["x"]}
    jwks = {
        "keys": [
            {"kty": "PQC", "kid": "future"},
            good_ec,
            "not an object",
            weak,
            {"kty": "EC", "kid": "broken", "crv": "P-256", "x": "!!", "y": "AA"},
            off_curve,
            good_rsa,
            {"kid": "no-kty"},
            {"kty": "RSA", "kid": "oth", **{k: good_rsa[k] for k in ("n", "e")}, "d": "AQ",
             "oth": []},
        ],
        "other": "ignored",
    }  # fmt: skip
    keyset = KeySet.from_jwks(json.dumps(jwks))
    assert [key.kid for key in keyset] == ["ec", "rsa"]
    reasons = {skipped.index: (skipped.kid, skipped.reason) for skipped in keyset.skipped}
    assert sorted(reasons) == [0, 2, 3, 4, 5, 7, 8]
    assert reasons[0] == ("future", "JWK: unsupported key type 'kty' 'PQC'")
    assert reasons[2] == (None, "not a JSON object")
    assert "2048" in reasons[3][1]
    assert reasons[3][0] == "weak"
    assert "'x'" in reasons[4][1]
    assert "not on P-256" in reasons[5][1]
    assert "kty" in reasons[7][1]
    assert "oth" in reasons[8][1]
    assert len(KeySet.from_jwks(jwks, allow_weak=True)) == 3


# -- F3: duplicate kid, never a key of another type --------------------------------------------


def test_F3_duplicate_kid_selects_by_kid_and_algorithm() -> None:
    rsa_key = Key.generate("RSA", kid="dup")
    ec_key = Key.generate("EC", kid="dup")
    hmac_key = OctKey.generate(kid="dup")
    keyset = KeySet([rsa_key, ec_key, hmac_key])
    assert keyset.select("dup", "RS256", "verify") == (rsa_key,)
    assert keyset.select("dup", "ES256", "verify") == (ec_key,)
    assert keyset.select("dup", "HS256", "verify") == (hmac_key,)
    assert keyset.select("dup", "ES384", "verify") == ()
    assert keyset.select("dup", "EdDSA", "verify") == ()
    assert keyset.select(None, "PS256", "sign") == (rsa_key,)
    assert keyset.get("dup") == (rsa_key, ec_key, hmac_key)


# -- F4: no key material in errors, logs or repr ---------------------------------------------


def _material(jwk: dict[str, Any]) -> list[str]:
    return [jwk[name] for name in ("k", "d", "p", "q", "dp", "dq", "qi") if name in jwk]


def _errors(call: Callable[[], object]) -> str:
    try:
        call()
    except JWTError as exc:
        return f"{exc} {exc!r} {exc.message}"
    return ""


def test_F4_repr_str_and_errors_contain_no_key_material() -> None:
    secret = b"known-secret-value-0123456789-abcdefghij"
    oct_key = OctKey(secret, kid="hmac", alg="HS256")
    keys: list[Key] = [
        oct_key,
        Key.generate("RS256", kid="r"),
        Key.generate("ES256", kid="e"),
        Key.generate("EdDSA", kid="o"),
    ]
    for key in keys:
        jwk = key.to_jwk(private=True)
        material = _material(jwk)
        assert material
        texts = [repr(key), str(key), repr(KeySet([key])), f"{key}"]
        texts += [
            _errors(lambda key=key: key.check_usable("ES512", "sign")),  # type: ignore[misc]
            _errors(lambda key=key: key.check_usable("none", "sign")),  # type: ignore[misc]
            _errors(lambda key=key: key.check_usable("HS256", "explode")),  # type: ignore[misc]
            _errors(lambda jwk=jwk: Key.from_jwk({**jwk, "use": "bogus"})),  # type: ignore[misc]
            _errors(lambda jwk=jwk: Key.from_jwk({**jwk, "alg": "PS999"}).check_usable(  # type: ignore[misc]
                "PS999", "sign")),
        ]  # fmt: skip
        if key.kty != "oct":
            public_jwk = key.public_key().to_jwk()
            texts.append(_errors(lambda p=public_jwk: Key.from_jwk({**p, "d": "AAAA"})))  # type: ignore[misc]
            texts.append(_errors(lambda k=key: k.public_key().to_jwk(private=True)))  # type: ignore[misc]
        else:
            texts.append(_errors(oct_key.public_key))
            texts.append(_errors(oct_key.to_pem))
            texts.append(_errors(oct_key.to_jwk))
        for text in texts:
            for value in material:
                assert value not in text, (type(key).__name__, text)
            assert secret.decode() not in text
        for skipped in KeySet.from_jwks({"keys": [{**jwk, "kid": 5}, {**jwk, "x": "bad"}]}).skipped:
            for value in material:
                assert value not in skipped.reason
                assert value not in repr(skipped)


def test_F4_wrong_private_value_is_not_echoed() -> None:
    jwk = Key.generate("ES256").to_jwk(private=True)
    bogus = b64url_encode(b"\x42" * 32)
    message = _errors(lambda: Key.from_jwk({**jwk, "d": bogus}))
    assert message
    assert bogus not in message
    assert jwk["d"] not in message
