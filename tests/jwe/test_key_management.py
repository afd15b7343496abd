"""JWE key management (RFC 7518 §4, RFC 8037 §3.2): agreement vectors, round trips, key binding.

* RFC 7518 Appendix C (ECDH-ES P-256 Concat KDF) and RFC 8037 A.6/A.7 (X25519/X448 Z), both
  sides of each agreement;
* a compact round trip for every ``alg`` (curves: P-256/384/521, X25519, X448);
* one key, one algorithm (security matrix A3), including an RSA-OAEP key offered an RSA1_5 JWE;
* the registry holding all three kinds of algorithm, with RSA1_5 and PBES2 opt-in.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, x448, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from jwtkit import jwa, jwe
from jwtkit._codec import b64url_decode, b64url_encode, json_loads_object
from jwtkit._jwa_keymgmt import (
    KeyManagementAlgorithm,
    KeyParameters,
    concat_kdf,
    concat_kdf_other_info,
    ecdh_shared_secret,
)
from jwtkit.errors import (
    AlgorithmNotAllowed,
    DecryptionError,
    InvalidKey,
    JWTError,
    KeyNotFound,
    UsageError,
)
from jwtkit.jwk import ECKey, Key, KeySet, OctKey, OKPKey, RSAKey
from vectors import load_rfc_cases

from .jwe_helpers import (
    ALL_ALGORITHMS,
    OPT_IN,
    PBES2_NAMES,
    decryption_key,
    encryption_key,
    rsa1_5_token,
    rsa_key,
)

PLAINTEXT = b"Live long and prosper."
CURVES = ("P-256", "P-384", "P-521", "X25519", "X448")


def _case(rfc: str, case_id: str) -> dict[str, Any]:
    found = [c for c in load_rfc_cases(rfc) if c["id"] == case_id]
    assert len(found) == 1, f"{rfc} {case_id} is missing from the shared vectors"
    return found[0]


def _header(token: str) -> dict[str, Any]:
    return json_loads_object(b64url_decode(token.split(".", maxsplit=1)[0]))


def _roundtrip(alg: str, enc: str = "A128GCM", curve: str = "P-256", **kwargs: Any) -> None:
    headers = {"p2c": 1000} if alg in PBES2_NAMES else None
    if alg == "RSA1_5":
        token = rsa1_5_token(rsa_key(), PLAINTEXT, enc)
    else:
        token = jwe.encrypt(
            PLAINTEXT,
            encryption_key(alg, enc, curve),
            algorithm=alg,
            encryption=enc,
            headers=headers,
            registry=OPT_IN,
            **kwargs,
        )
    result = jwe.decrypt(
        token,
        decryption_key(alg, enc, curve),
        algorithms=[alg],
        encryptions=[enc],
        registry=OPT_IN,
    )
    assert result.plaintext == PLAINTEXT
    assert (result.algorithm, result.encryption) == (alg, enc)
    assert result.header["alg"] == alg


# -- key agreement vectors ------------------------------------------------------------------


def test_rfc7518_appendix_c_ecdh_es_concat_kdf_both_sides() -> None:
    case = _case("rfc7518", "C")
    expected = case["expected"]
    bob = Key.from_jwk(case["key"])
    alice = Key.from_jwk(case["ephemeral_key"])
    z = ecdh_shared_secret(bob, alice.public_key())
    assert z.hex() == expected["z_hex"]
    assert ecdh_shared_secret(alice, bob.public_key()) == z
    header = case["header"]
    apu, apv = b64url_decode(header["apu"]), b64url_decode(header["apv"])
    assert (apu, apv) == (b"Alice", b"Bob")
    assert concat_kdf_other_info(header["enc"], apu, apv, 128).hex() == expected["other_info_hex"]
    derived = concat_kdf(z, header["enc"], apu, apv, 16)
    assert b64url_encode(derived) == expected["derived_key_b64u"]
    # The same through the algorithm object: direct mode takes AlgorithmID = enc.
    ecdh = jwa.KEY_MANAGEMENT_ALGORITHMS["ECDH-ES"]
    enc = jwa.CONTENT_ENCRYPTION_ALGORITHMS["A128GCM"]
    parameters = ecdh.read_parameters(header, 0)
    assert ecdh.unwrap(bob, enc, parameters, b"") == derived
    wrapped = ecdh.wrap(bob.public_key(), enc, header, ephemeral=alice)
    assert wrapped.cek == derived
    assert wrapped.header == {"epk": header["epk"]}


@pytest.mark.parametrize(
    ("case_id", "private_class"),
    [("A.6", x25519.X25519PrivateKey), ("A.7", x448.X448PrivateKey)],
    ids=["rfc8037-A.6-X25519", "rfc8037-A.7-X448"],
)
def test_rfc8037_x25519_x448_shared_secret_both_sides(case_id: str, private_class: Any) -> None:
    case = _case("rfc8037", case_id)
    expected = case["expected"]
    recipient = OKPKey(
        private_class.from_private_bytes(bytes.fromhex(case["recipient_private_key_hex"]))
    )
    ephemeral = OKPKey(
        private_class.from_private_bytes(bytes.fromhex(case["ephemeral_private_key_hex"]))
    )
    published = Key.from_jwk(case["key"])
    assert recipient.public_key().to_jwk() == {k: v for k, v in case["key"].items() if k != "kid"}
    assert published.to_jwk()["x"] == b64url_encode(
        bytes.fromhex(expected["recipient_public_key_hex"])
    )
    assert ephemeral.public_key().to_jwk() == expected["ephemeral_public_key"]
    assert ephemeral.public_key().to_jwk() == case["header"]["epk"]
    z = ecdh_shared_secret(ephemeral, published)
    assert z.hex() == expected["z_hex"]
    assert ecdh_shared_secret(recipient, ephemeral.public_key()) == z

    # The header of the example, completed into a JWE with the example's ephemeral key.
    alg = jwa.KEY_MANAGEMENT_ALGORITHMS[case["alg"]]
    enc = jwa.CONTENT_ENCRYPTION_ALGORITHMS[case["enc"]]
    wrapped = alg.wrap(published, enc, case["header"], ephemeral=ephemeral)
    assert wrapped.header == {"epk": case["header"]["epk"]}
    parameters = alg.read_parameters(case["header"], 0)
    assert alg.unwrap(recipient, enc, parameters, wrapped.encrypted_key) == wrapped.cek


# -- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALL_ALGORITHMS)
def test_every_algorithm_round_trips(alg: str) -> None:
    _roundtrip(alg)


@pytest.mark.parametrize("curve", CURVES)
@pytest.mark.parametrize("alg", ["ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW"])
def test_ecdh_es_round_trips_on_every_curve(alg: str, curve: str) -> None:
    _roundtrip(alg, "A256CBC-HS512", curve)


@pytest.mark.parametrize("enc", ["A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512", "A192GCM"])
def test_dir_uses_a_key_exactly_as_long_as_the_cek(enc: str) -> None:
    _roundtrip("dir", enc)


@pytest.mark.parametrize(
    ("alg", "hash_class"),
    [
        ("RSA-OAEP", hashes.SHA1),
        ("RSA-OAEP-256", hashes.SHA256),
        ("RSA-OAEP-384", hashes.SHA384),
        ("RSA-OAEP-512", hashes.SHA512),
    ],
)
def test_rsa_oaep_variants_use_the_named_hash_for_oaep_and_mgf1(alg: str, hash_class: Any) -> None:
    key = rsa_key()
    token = jwe.encrypt(PLAINTEXT, key.public_key(), algorithm=alg, encryption="A256GCM")
    encrypted_key = b64url_decode(token.split(".")[1])
    private = key.crypto_private_key
    assert private is not None
    oaep = padding.OAEP(mgf=padding.MGF1(hash_class()), algorithm=hash_class(), label=None)
    assert len(private.decrypt(encrypted_key, oaep)) == 32


def test_ecdh_es_direct_uses_apu_and_apv_in_the_kdf() -> None:
    key = decryption_key("ECDH-ES")
    token = jwe.encrypt(
        PLAINTEXT,
        key.public_key(),
        algorithm="ECDH-ES",
        encryption="A128GCM",
        headers={"apu": b64url_encode(b"Alice"), "apv": b64url_encode(b"Bob")},
    )
    header = _header(token)
    z = ecdh_shared_secret(key, Key.from_jwk(header["epk"]))
    cek = concat_kdf(z, "A128GCM", b"Alice", b"Bob", 16)
    _, _, iv, ciphertext, tag = token.split(".")
    plaintext = AESGCM(cek).decrypt(
        b64url_decode(iv),
        b64url_decode(ciphertext) + b64url_decode(tag),
        token.split(".")[0].encode(),
    )
    assert plaintext == PLAINTEXT
    assert jwe.decrypt(token, key, algorithms=["ECDH-ES"], encryptions=["A128GCM"]).plaintext == (
        PLAINTEXT
    )


def test_ecdh_es_with_key_wrap_takes_alg_as_the_algorithm_id() -> None:
    key = decryption_key("ECDH-ES+A128KW")
    alg = jwa.KEY_MANAGEMENT_ALGORITHMS["ECDH-ES+A128KW"]
    enc = jwa.CONTENT_ENCRYPTION_ALGORITHMS["A256GCM"]
    wrapped = alg.wrap(key.public_key(), enc, {})
    z = ecdh_shared_secret(key, Key.from_jwk(wrapped.header["epk"]))
    kek = concat_kdf(z, "ECDH-ES+A128KW", b"", b"", 16)
    from cryptography.hazmat.primitives import keywrap

    assert keywrap.aes_key_unwrap(kek, wrapped.encrypted_key) == wrapped.cek


def test_aes_gcm_key_wrap_publishes_iv_and_tag() -> None:
    key = decryption_key("A256GCMKW")
    token = jwe.encrypt(PLAINTEXT, key, algorithm="A256GCMKW", encryption="A128CBC-HS256")
    header = _header(token)
    assert len(b64url_decode(header["iv"])) == 12
    assert len(b64url_decode(header["tag"])) == 16


def test_pbes2_publishes_p2s_and_a_default_p2c_or_keeps_the_callers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alg = jwa.PBES2_HS256_A128KW
    enc = jwa.CONTENT_ENCRYPTION_ALGORITHMS["A128GCM"]
    password = OctKey(b"correct horse battery staple")
    given = alg.wrap(password, enc, {"p2c": 1000, "p2s": b64url_encode(b"0123456789abcdef")})
    assert given.header == {}
    parameters = alg.read_parameters(
        {"p2c": 1000, "p2s": b64url_encode(b"0123456789abcdef")}, 10**6
    )
    assert alg.unwrap(password, enc, parameters, given.encrypted_key) == given.cek
    # The default count is expensive by design; run it once with PBKDF2 short-circuited.
    from jwtkit import _jwa_keymgmt

    calls: list[int] = []

    class FakeKDF:
        def __init__(self, algorithm: Any, length: int, salt: bytes, iterations: int) -> None:
            calls.append(iterations)
            self.length = length

        def derive(self, password: bytes) -> bytes:
            return bytes(self.length)

    monkeypatch.setattr(_jwa_keymgmt, "PBKDF2HMAC", FakeKDF)
    fresh = alg.wrap(password, enc, {})
    assert calls == [600_000]
    assert fresh.header["p2c"] == 600_000
    assert len(b64url_decode(fresh.header["p2s"])) == 16


@pytest.mark.parametrize(
    ("header", "match"),
    [
        ({"p2c": 999}, "p2c"),
        ({"p2c": "1000"}, "p2c"),
        ({"p2c": True}, "p2c"),
        ({"p2c": 1000, "p2s": b64url_encode(b"short")}, "p2s"),
    ],
)
def test_pbes2_encrypt_refuses_weak_parameters(header: dict[str, Any], match: str) -> None:
    with pytest.raises(UsageError, match=match):
        jwe.encrypt(
            PLAINTEXT,
            decryption_key("PBES2-HS256+A128KW"),
            algorithm="PBES2-HS256+A128KW",
            encryption="A128GCM",
            headers=header,
            registry=OPT_IN,
        )


def test_rsa1_5_is_decryption_only_even_when_opted_in() -> None:
    with pytest.raises(UsageError, match="decryption only"):
        jwe.encrypt(
            PLAINTEXT, rsa_key().public_key(), algorithm="RSA1_5", encryption="A128GCM",
            registry=OPT_IN,
        )  # fmt: skip
    with pytest.raises(UsageError, match="decryption only"):
        jwa.RSA1_5.wrap(rsa_key(), jwa.CONTENT_ENCRYPTION_ALGORITHMS["A128GCM"], {})


def test_a_shared_cek_of_the_wrong_length_is_a_usage_error() -> None:
    alg = jwa.KEY_MANAGEMENT_ALGORITHMS["A128KW"]
    enc = jwa.CONTENT_ENCRYPTION_ALGORITHMS["A128GCM"]
    with pytest.raises(UsageError, match="16-byte CEK"):
        alg.wrap(decryption_key("A128KW"), enc, {}, bytes(15))
    ecdh = jwa.KEY_MANAGEMENT_ALGORITHMS["ECDH-ES"]
    with pytest.raises(UsageError, match="agrees the CEK itself"):
        ecdh.wrap(encryption_key("ECDH-ES"), enc, {}, bytes(16))


def test_the_base_key_management_class_is_abstract() -> None:
    base = KeyManagementAlgorithm("X")
    enc = jwa.CONTENT_ENCRYPTION_ALGORITHMS["A128GCM"]
    key = decryption_key("A128KW")
    assert base.read_parameters({}, 0) == KeyParameters()
    base.check_key(key, enc, KeyParameters())  # accepts any key
    assert not base.direct
    with pytest.raises(NotImplementedError):
        base.unwrap(key, enc, KeyParameters(), b"")
    with pytest.raises(NotImplementedError):
        base.wrap(key, enc, {})


def test_ecdh_shared_secret_refuses_mismatched_or_public_only_keys() -> None:
    p256 = decryption_key("ECDH-ES", curve="P-256")
    x25519_key = decryption_key("ECDH-ES", curve="X25519")
    with pytest.raises(ValueError, match="private key"):
        ecdh_shared_secret(p256.public_key(), p256.public_key())
    with pytest.raises(ValueError, match="same curve"):
        ecdh_shared_secret(p256, x25519_key.public_key())
    with pytest.raises(ValueError, match="same curve"):
        ecdh_shared_secret(x25519_key, decryption_key("ECDH-ES", curve="X448").public_key())


# -- one key, one algorithm (security matrix A3) --------------------------------------------


def test_rsa_oaep_key_is_refused_for_an_rsa1_5_jwe() -> None:
    """A3: an RSA key bound to RSA-OAEP never decrypts RSA1_5, even with RSA1_5 opted in."""
    key = rsa_key()
    bound = RSAKey(key.crypto_private_key, alg="RSA-OAEP")  # type: ignore[arg-type]
    token = rsa1_5_token(key, PLAINTEXT)
    with pytest.raises(InvalidKey, match="restricted to 'alg' 'RSA-OAEP'"):
        jwe.decrypt(
            token, bound, algorithms=["RSA1_5"], encryptions=["A128CBC-HS256"], registry=OPT_IN
        )
    with pytest.raises(InvalidKey):
        jwe.encrypt(PLAINTEXT, bound.public_key(), algorithm="RSA-OAEP-256", encryption="A128GCM")


def test_key_bound_to_a256gcmkw_cannot_encrypt_or_decrypt_a256kw() -> None:
    key = OctKey(bytes(range(32)), alg="A256GCMKW")
    with pytest.raises(InvalidKey):
        OctKey(bytes(range(16)), alg="A256KW")  # wrong length for its own alg
    other = OctKey(bytes(range(32)), alg="A256KW")
    token = jwe.encrypt(PLAINTEXT, other, algorithm="A256KW", encryption="A128GCM")
    with pytest.raises(InvalidKey, match="restricted"):
        jwe.encrypt(PLAINTEXT, key, algorithm="A256KW", encryption="A128GCM")
    with pytest.raises(InvalidKey, match="restricted"):
        jwe.decrypt(token, key, algorithms=["A256KW"], encryptions=["A128GCM"])


def test_signature_keys_are_refused_for_encryption() -> None:
    signing = OctKey(bytes(range(32)), use="sig")
    with pytest.raises(InvalidKey, match="use"):
        jwe.encrypt(PLAINTEXT, signing, algorithm="A256KW", encryption="A128GCM")
    token = jwe.encrypt(
        PLAINTEXT, OctKey(bytes(range(32))), algorithm="A256KW", encryption="A128GCM"
    )
    with pytest.raises(InvalidKey):
        jwe.decrypt(token, signing, algorithms=["A256KW"], encryptions=["A128GCM"])
    hs256 = OctKey(bytes(range(32)), alg="HS256")
    with pytest.raises(InvalidKey):
        jwe.decrypt(token, hs256, algorithms=["A256KW"], encryptions=["A128GCM"])


def test_key_ops_without_unwrap_key_is_refused_for_decryption() -> None:
    token = jwe.encrypt(
        PLAINTEXT, OctKey(bytes(range(32))), algorithm="A256KW", encryption="A128GCM"
    )
    wrap_only = OctKey(bytes(range(32)), key_ops=["wrapKey"])
    with pytest.raises(InvalidKey, match="key_ops"):
        jwe.decrypt(token, wrap_only, algorithms=["A256KW"], encryptions=["A128GCM"])


def test_a_public_key_cannot_decrypt() -> None:
    key = rsa_key()
    token = jwe.encrypt(PLAINTEXT, key.public_key(), algorithm="RSA-OAEP-256", encryption="A128GCM")
    with pytest.raises(InvalidKey, match="public key"):
        jwe.decrypt(token, key.public_key(), algorithms=["RSA-OAEP-256"], encryptions=["A128GCM"])


@pytest.mark.parametrize(
    ("alg", "key"),
    [
        ("RSA-OAEP", OctKey(bytes(range(32)))),
        ("A128KW", rsa_key),
        ("A128GCMKW", lambda: decryption_key("ECDH-ES")),
        ("dir", rsa_key),
        ("ECDH-ES", OctKey(bytes(range(32)))),
        ("ECDH-ES+A128KW", lambda: rsa_key().public_key()),
    ],
)
def test_a_key_of_the_wrong_type_is_refused_when_encrypting(alg: str, key: Any) -> None:
    recipient = key() if callable(key) else key
    with pytest.raises(InvalidKey):
        jwe.encrypt(PLAINTEXT, recipient, algorithm=alg, encryption="A128GCM")


def test_ecdh_keys_on_other_curves_or_signature_curves_are_refused() -> None:
    ed25519 = OKPKey.generate(crv="Ed25519")
    with pytest.raises(InvalidKey):
        jwe.encrypt(PLAINTEXT, ed25519.public_key(), algorithm="ECDH-ES", encryption="A128GCM")
    secp256k1 = ECKey.generate(crv="secp256k1")
    with pytest.raises(InvalidKey):
        jwe.encrypt(PLAINTEXT, secp256k1.public_key(), algorithm="ECDH-ES", encryption="A128GCM")
    alg = jwa.KEY_MANAGEMENT_ALGORITHMS["ECDH-ES"]
    enc = jwa.CONTENT_ENCRYPTION_ALGORITHMS["A128GCM"]
    with pytest.raises(InvalidKey, match="needs an EC"):
        alg.check_key(ed25519, enc, KeyParameters(epk=decryption_key("ECDH-ES").public_key()))  # type: ignore[arg-type]


def test_dir_key_of_the_wrong_length_is_refused_both_ways() -> None:
    short = OctKey(bytes(range(16)), allow_weak=True)
    with pytest.raises(InvalidKey, match="exactly 32 bytes"):
        jwe.encrypt(PLAINTEXT, short, algorithm="dir", encryption="A256GCM")
    token = jwe.encrypt(PLAINTEXT, OctKey(bytes(range(32))), algorithm="dir", encryption="A256GCM")
    with pytest.raises(InvalidKey, match="exactly 32 bytes"):
        jwe.decrypt(token, short, algorithms=["dir"], encryptions=["A256GCM"])


def test_ecdh_epk_on_another_curve_than_the_key_is_refused() -> None:
    p256 = decryption_key("ECDH-ES", curve="P-256")
    p384 = decryption_key("ECDH-ES", curve="P-384")
    token = jwe.encrypt(PLAINTEXT, p384.public_key(), algorithm="ECDH-ES", encryption="A128GCM")
    with pytest.raises(InvalidKey, match="same curve"):
        jwe.decrypt(token, p256, algorithms=["ECDH-ES"], encryptions=["A128GCM"])
    # With both keys trusted, the one on the epk's curve is chosen.
    both = KeySet([p256, p384])
    assert jwe.decrypt(token, both, algorithms=["ECDH-ES"], encryptions=["A128GCM"]).key == p384


def test_a_key_set_is_searched_by_kid_and_algorithm() -> None:
    first = OctKey(bytes(range(32)), kid="one")
    second = OctKey(bytes(range(1, 33)), kid="two")
    token = jwe.encrypt(PLAINTEXT, second, algorithm="A256KW", encryption="A128GCM")
    assert _header(token)["kid"] == "two"
    result = jwe.decrypt(
        token, KeySet([first, second]), algorithms=["A256KW"], encryptions=["A128GCM"]
    )
    assert result.key is second
    with pytest.raises(KeyNotFound):
        jwe.decrypt(token, first, algorithms=["A256KW"], encryptions=["A128GCM"])
    anonymous = OctKey(bytes(range(32)))
    wrong = jwe.encrypt(PLAINTEXT, anonymous, algorithm="A256KW", encryption="A128GCM")
    unnamed_pair = KeySet([OctKey(bytes(range(2, 34))), anonymous])
    assert jwe.decrypt(wrong, unnamed_pair, algorithms=["A256KW"], encryptions=["A128GCM"]).key == (
        anonymous
    )


def test_a_wrong_key_of_the_right_kind_is_one_decryption_error() -> None:
    token = jwe.encrypt(
        PLAINTEXT, OctKey(bytes(range(32))), algorithm="A256KW", encryption="A128GCM"
    )
    with pytest.raises(DecryptionError, match=r"^decryption failed$"):
        jwe.decrypt(
            token, OctKey(bytes(range(1, 33))), algorithms=["A256KW"], encryptions=["A128GCM"]
        )


def test_secrets_and_pem_text_are_accepted_as_keys() -> None:
    secret = bytes(range(32))
    token = jwe.encrypt(PLAINTEXT, secret, algorithm="dir", encryption="A256GCM")
    assert (
        jwe.decrypt(token, secret, algorithms=["dir"], encryptions=["A256GCM"]).plaintext
        == PLAINTEXT
    )
    key = rsa_key()
    token = jwe.encrypt(
        PLAINTEXT, key.public_key().to_pem(), algorithm="RSA-OAEP-256", encryption="A256GCM"
    )
    pem = key.to_pem(private=True)
    result = jwe.decrypt(token, pem, algorithms=["RSA-OAEP-256"], encryptions=["A256GCM"])
    assert result.plaintext == PLAINTEXT


# -- the registry ---------------------------------------------------------------------------


def test_default_registry_holds_every_jwe_algorithm_except_the_opt_in_ones() -> None:
    registry = jwa.DEFAULT_REGISTRY
    opt_in = {"RSA1_5", *PBES2_NAMES}
    assert registry.key_management_names == set(ALL_ALGORITHMS) - opt_in
    assert registry.key_management_names == set(jwa.KEY_MANAGEMENT_ALGORITHMS)
    assert registry.content_encryption_names == set(jwa.CONTENT_ENCRYPTION_ALGORITHMS)
    for name in opt_in:
        assert registry.key_management(name) is None
    assert registry.key_management("a128kw") is None
    assert registry.key_management(b"A128KW") is None
    assert registry.content_encryption(None) is None
    assert registry.content_encryption("A128GCM") is jwa.CONTENT_ENCRYPTION_ALGORITHMS["A128GCM"]
    # ``in`` and iteration keep their meaning: signature algorithms.
    assert "A128KW" not in registry
    assert set(registry) == registry.signature_names


@pytest.mark.parametrize(
    "alg", [jwa.RSA1_5, jwa.PBES2_HS256_A128KW, jwa.PBES2_HS384_A192KW, jwa.PBES2_HS512_A256KW]
)
def test_opting_in_warns_and_adds_the_algorithm(alg: KeyManagementAlgorithm) -> None:
    with pytest.warns(jwa.InsecureAlgorithmWarning, match=alg.name.replace("+", r"\+")):
        registry = jwa.DEFAULT_REGISTRY.including(alg)
    assert registry.key_management(alg.name) is alg
    assert alg.opt_in


def test_including_and_excluding_work_for_every_kind() -> None:
    registry = jwa.DEFAULT_REGISTRY.excluding("A128KW", "A128GCM", "HS256")
    assert "A128KW" not in registry.key_management_names
    assert "A128GCM" not in registry.content_encryption_names
    assert "HS256" not in registry.signature_names
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        restored = registry.including(
            jwa.KEY_MANAGEMENT_ALGORITHMS["A128KW"],
            jwa.CONTENT_ENCRYPTION_ALGORITHMS["A128GCM"],
            jwa.SIGNATURE_ALGORITHMS["HS256"],
        )
    assert restored.key_management_names == jwa.DEFAULT_REGISTRY.key_management_names
    assert restored.content_encryption_names == jwa.DEFAULT_REGISTRY.content_encryption_names
    assert restored.signature_names == jwa.DEFAULT_REGISTRY.signature_names
    assert "'A128KW'" in repr(jwa.DEFAULT_REGISTRY)
    with pytest.raises(UsageError, match="not an algorithm"):
        jwa.DEFAULT_REGISTRY.including("A128KW")  # type: ignore[arg-type]


def test_a_registry_without_an_algorithm_refuses_it_everywhere() -> None:
    registry = jwa.DEFAULT_REGISTRY.excluding("A128KW", "A192GCM")
    key = decryption_key("A128KW")
    with pytest.raises(AlgorithmNotAllowed):
        jwe.encrypt(PLAINTEXT, key, algorithm="A128KW", encryption="A128GCM", registry=registry)
    with pytest.raises(AlgorithmNotAllowed):
        jwe.encrypt(PLAINTEXT, key, algorithm="A256KW", encryption="A192GCM", registry=registry)
    with pytest.raises(AlgorithmNotAllowed, match="including"):
        jwe.encrypt(PLAINTEXT, key, algorithm="PBES2-HS256+A128KW", encryption="A128GCM")
    token = jwe.encrypt(PLAINTEXT, key, algorithm="A128KW", encryption="A128GCM")
    with pytest.raises(JWTError):
        jwe.decrypt(token, key, algorithms=["A128KW"], encryptions=["A128GCM"], registry=registry)


def test_the_ecdh_unwrapper_needs_an_ecdh_key_and_a_private_one() -> None:
    """The per-key preparation refuses a key ECDH-ES cannot agree with; a public key passes
    candidate selection only if its key_ops allow it, and then every unwrap fails opaquely."""
    algorithm = jwa.DEFAULT_REGISTRY.key_management("ECDH-ES")
    enc = jwa.DEFAULT_REGISTRY.content_encryption("A256GCM")
    assert algorithm is not None
    assert enc is not None
    with pytest.raises(InvalidKey, match="needs an EC"):
        algorithm.unwrapper(OctKey.generate(256), enc)
    public = ECKey.generate(crv="P-256").public_key()
    unwrap = algorithm.unwrapper(public, enc)
    epk = ECKey.generate(crv="P-256").public_key()
    with pytest.raises(DecryptionError):
        unwrap(KeyParameters(epk=epk), b"")
