"""Regression tests for the JWE rows of the security matrix (the rows: docs/security.md).

A6 (JWE/JWS confusion), A7 (compact/JSON confusion), A8 (header overlap), A9 (``crit`` in an
unprotected header), A10 (``zip``/``b64`` outside the protected header) and every C row:
C1 invalid ``epk``, C2 RSA1_5 uniform failure, C3 AES-CBC-HMAC tag first, C4 AES-GCM tag and IV,
C5 PBES2 bounds, C6 decompression bombs, C7 encrypted key / IV / tag presence.
"Reject" always means a jwtkit error, never another exception, never a result.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from typing import Any, NoReturn

import pytest

import jwtkit
from jwtkit import _jwa_content, _jwa_keymgmt, jwa, jwe, jws
from jwtkit._codec import b64url_decode, b64url_encode, json_dumps
from jwtkit.errors import (
    AlgorithmNotAllowed,
    DecryptionError,
    InvalidKey,
    JWTError,
    MalformedToken,
    TokenTooLarge,
    UnsupportedCritical,
    UsageError,
)
from jwtkit.jwk import ECKey, OctKey, OKPKey

from .jwe_helpers import OPT_IN, decryption_key, rsa1_5_token, rsa_key

PLAINTEXT = b"The true sign of intelligence is not knowledge but imagination."
SECRET = bytes(range(32))


def _segments(token: str) -> list[str]:
    return token.split(".")


def _forge(
    header: dict[str, Any],
    encrypted_key: bytes = b"",
    iv: bytes = bytes(12),
    ciphertext: bytes = b"x" * 16,
    tag: bytes = bytes(16),
) -> str:
    """A compact JWE with any header and parts: what an attacker can send."""
    return ".".join(
        [
            b64url_encode(json_dumps(header)),
            *(b64url_encode(part) for part in (encrypted_key, iv, ciphertext, tag)),
        ]
    )


def _refuse(name: str) -> Callable[..., NoReturn]:
    def refuse(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError(f"{name} must not run for this input")

    return refuse


def _decrypt(token: str, key: Any, alg: str, enc: str = "A128GCM", **kwargs: Any) -> Any:
    return jwe.decrypt(token, key, algorithms=[alg], encryptions=[enc], **kwargs)


# -- allow-lists (RFC 8725 §3.1) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("algorithms", "encryptions"),
    [
        (None, ["A128GCM"]),
        (["dir"], None),
        ("dir", ["A128GCM"]),
        (["dir"], b"A128GCM"),
        ([], ["A128GCM"]),
        (["dir"], [1]),
        (["DIR"], ["A128GCM"]),
        (["dir"], ["A128gcm"]),
        (["RSA1_5"], ["A128GCM"]),
    ],
)
def test_allow_lists_are_required_and_checked_against_the_registry(
    algorithms: Any, encryptions: Any
) -> None:
    token = jwe.encrypt(PLAINTEXT, SECRET, algorithm="dir", encryption="A256GCM")
    with pytest.raises(UsageError):
        jwe.decrypt(token, SECRET, algorithms=algorithms, encryptions=encryptions)
    with pytest.raises(UsageError):
        jwe.decrypt_json({}, SECRET, algorithms=algorithms, encryptions=encryptions)


def test_alg_or_enc_outside_the_allow_list_is_refused_before_any_crypto(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = jwe.encrypt(PLAINTEXT, SECRET, algorithm="A256KW", encryption="A256GCM")
    from cryptography.hazmat.primitives import keywrap

    monkeypatch.setattr(keywrap, "aes_key_unwrap", _refuse("key unwrap"))
    with pytest.raises(AlgorithmNotAllowed, match="algorithm 'A256KW' is not allowed"):
        _decrypt(token, SECRET, "A128KW", "A256GCM")
    with pytest.raises(AlgorithmNotAllowed, match="encryption 'A256GCM' is not allowed"):
        _decrypt(token, SECRET, "A256KW", "A128GCM")


@pytest.mark.parametrize("bad", [-1, 1.5, "10", True, None])
def test_limits_must_be_non_negative_integers(bad: Any) -> None:
    token = jwe.encrypt(PLAINTEXT, SECRET, algorithm="dir", encryption="A256GCM")
    with pytest.raises(UsageError):
        _decrypt(token, SECRET, "dir", "A256GCM", max_decompressed_size=bad)
    with pytest.raises(UsageError):
        _decrypt(token, SECRET, "dir", "A256GCM", max_pbes2_count=bad)


# -- A6: a JWE is never a JWS, and the other way round ---------------------------------------


def test_a6_jws_given_to_jwe_decrypt_is_rejected() -> None:
    signed = jws.sign(PLAINTEXT, SECRET, algorithm="HS256")
    with pytest.raises(MalformedToken):
        _decrypt(signed, SECRET, "dir", "A256GCM")
    # A JWS header squeezed into five segments has no 'enc'.
    header, payload, signature = signed.split(".")
    with pytest.raises(MalformedToken, match="'enc' is missing"):
        jwe.decrypt(
            f"{header}..{payload}.{signature}.",
            SECRET,
            algorithms=["dir"],
            encryptions=["A256GCM"],
        )


def test_a6_jwe_given_to_jws_verify_and_jwt_decode_is_rejected() -> None:
    token = jwe.encrypt(b'{"sub":"42"}', SECRET, algorithm="dir", encryption="A256GCM")
    with pytest.raises(MalformedToken):
        jws.verify(token, SECRET, algorithms=["HS256"])
    with pytest.raises(MalformedToken):
        jwtkit.decode(token, SECRET, algorithms=["HS256"])


# -- A7: compact and JSON are separate entry points ------------------------------------------


def test_a7_json_serialization_given_to_compact_decrypt_is_rejected() -> None:
    data = jwe.encrypt_json(PLAINTEXT, [jwe.Recipient(SECRET, "dir")], encryption="A256GCM")
    for given in (json.dumps(data), json.dumps(data).encode(), data):
        with pytest.raises(MalformedToken):
            _decrypt(given, SECRET, "dir", "A256GCM")  # type: ignore[arg-type]


def test_a7_compact_given_to_decrypt_json_is_rejected() -> None:
    token = jwe.encrypt(PLAINTEXT, SECRET, algorithm="dir", encryption="A256GCM")
    for given in (token, token.encode(), 42, ["x"]):
        with pytest.raises(MalformedToken):
            jwe.decrypt_json(given, SECRET, algorithms=["dir"], encryptions=["A256GCM"])  # type: ignore[arg-type]


def test_a7_jws_json_given_to_decrypt_json_is_rejected() -> None:
    signature = b64url_encode(bytes(32))
    data = {"payload": "eyJ9", "protected": "eyJhbGciOiJIUzI1NiJ9", "signature": signature}
    with pytest.raises(MalformedToken, match="ciphertext"):
        jwe.decrypt_json(data, SECRET, algorithms=["dir"], encryptions=["A256GCM"])


@pytest.mark.parametrize(
    "change",
    [
        {"recipients": [], "ciphertext": "AA"},
        {"recipients": "x"},
        {"recipients": [1]},
        {"recipients": [{"header": []}]},
        {"recipients": [{"encrypted_key": 1}]},
        {"recipients": [{}], "encrypted_key": "AA"},
        {"recipients": [{}], "header": {}},
        {"header": "x"},
        {"unprotected": []},
        {"protected": 1},
        {"iv": None},
        {"ciphertext": 1},
        {"aad": ["x"]},
        {"aad": "\u00e9t\u00e9"},  # found by Hypothesis: non-ASCII text in the AAD member
        {"aad": "a b"},
        {"protected": "e30"},  # '{}': no alg, no enc
        {"protected": "!!"},
    ],
)
def test_a7_malformed_json_members_are_rejected(change: dict[str, Any]) -> None:
    data = jwe.encrypt_json(PLAINTEXT, [jwe.Recipient(SECRET, "dir")], encryption="A256GCM")
    data.update(change)
    with pytest.raises(MalformedToken):
        jwe.decrypt_json(data, SECRET, algorithms=["dir"], encryptions=["A256GCM"])


def test_a7_json_text_is_bounded_and_parsed_strictly() -> None:
    data = jwe.encrypt_json(PLAINTEXT, [jwe.Recipient(SECRET, "dir")], encryption="A256GCM")
    text = json.dumps(data)
    assert jwe.decrypt_json(
        text, SECRET, algorithms=["dir"], encryptions=["A256GCM"]
    ).plaintext == (PLAINTEXT)
    with pytest.raises(TokenTooLarge):
        jwe.decrypt_json(
            text, SECRET, algorithms=["dir"], encryptions=["A256GCM"], max_token_size=100
        )
    duplicate = text[:-1] + ', "iv": "AA"}'
    with pytest.raises(MalformedToken, match="duplicate"):
        jwe.decrypt_json(duplicate, SECRET, algorithms=["dir"], encryptions=["A256GCM"])


# -- A8: protected, shared unprotected and per-recipient header names are disjoint -----------


@pytest.mark.parametrize(
    ("unprotected", "header"),
    [
        ({"enc": "A256GCM"}, None),  # the same value, still refused
        ({"enc": "A128GCM"}, None),  # unprotected trying to override protected
        (None, {"enc": "A128GCM"}),
        ({"kid": "a"}, {"kid": "b"}),
        ({"alg": "dir"}, {"alg": "dir"}),
    ],
)
def test_a8_overlapping_header_names_are_rejected(
    unprotected: dict[str, Any] | None, header: dict[str, Any] | None
) -> None:
    data = jwe.encrypt_json(
        PLAINTEXT, [jwe.Recipient(SECRET, "dir")], encryption="A256GCM", flatten=True
    )
    if unprotected is not None:
        data["unprotected"] = unprotected
    if header is not None:
        data["header"] = header
    with pytest.raises(MalformedToken, match="more than one header"):
        jwe.decrypt_json(data, SECRET, algorithms=["dir"], encryptions=["A256GCM", "A128GCM"])


def test_a8_encrypt_json_refuses_overlapping_names() -> None:
    with pytest.raises(UsageError, match="more than one header"):
        jwe.encrypt_json(
            PLAINTEXT,
            [jwe.Recipient(SECRET, "dir", {"cty": "a"})],
            encryption="A256GCM",
            unprotected={"cty": "b"},
        )
    with pytest.raises(UsageError, match="more than one header"):
        jwe.encrypt_json(
            PLAINTEXT,
            [jwe.Recipient(SECRET, "dir")],
            encryption="A256GCM",
            protected={"cty": "a"},
            unprotected={"cty": "a"},
        )


def test_a8_unprotected_values_are_reported_apart_and_protected_ones_are_authenticated() -> None:
    data = jwe.encrypt_json(
        PLAINTEXT,
        [jwe.Recipient(SECRET, "dir", {"x-note": "per recipient"})],
        encryption="A256GCM",
        protected={"cty": "text/plain"},
        unprotected={"x-shared": "shared"},
    )
    result = jwe.decrypt_json(data, SECRET, algorithms=["dir"], encryptions=["A256GCM"])
    assert result.header == {"cty": "text/plain", "enc": "A256GCM", "alg": "dir"}
    assert result.unprotected == {"x-shared": "shared"}
    assert result.recipient_header == {"x-note": "per recipient"}
    # Changing a protected value breaks the tag; the unprotected ones are not protected.
    tampered = dict(data)
    tampered["protected"] = b64url_encode(
        json_dumps({"cty": "text/html", "enc": "A256GCM", "alg": "dir"})
    )
    with pytest.raises(DecryptionError):
        jwe.decrypt_json(tampered, SECRET, algorithms=["dir"], encryptions=["A256GCM"])


# -- A9: crit only in the protected header ---------------------------------------------------


def test_a9_crit_in_the_unprotected_headers_is_rejected() -> None:
    base = jwe.encrypt_json(
        PLAINTEXT, [jwe.Recipient(SECRET, "dir")], encryption="A256GCM", flatten=True
    )
    for member in ("unprotected", "header"):
        data = dict(base, **{member: {"crit": ["x-ext"], "x-ext": 1}})
        with pytest.raises(MalformedToken, match="'crit' is allowed only in the protected"):
            jwe.decrypt_json(
                data, SECRET, algorithms=["dir"], encryptions=["A256GCM"], crit=["x-ext"]
            )
    with pytest.raises(UsageError, match="crit"):
        jwe.encrypt_json(
            PLAINTEXT, [jwe.Recipient(SECRET, "dir")], encryption="A256GCM",
            unprotected={"crit": ["x"], "x": 1},
        )  # fmt: skip
    with pytest.raises(UsageError, match="crit"):
        jwe.encrypt_json(
            PLAINTEXT, [jwe.Recipient(SECRET, "dir", {"crit": ["x"], "x": 1})],
            encryption="A256GCM",
        )  # fmt: skip


def test_a9_crit_in_the_protected_header_must_be_understood() -> None:
    token = jwe.encrypt(
        PLAINTEXT,
        SECRET,
        algorithm="dir",
        encryption="A256GCM",
        headers={"crit": ["x-ext"], "x-ext": True},
    )
    with pytest.raises(UnsupportedCritical):
        _decrypt(token, SECRET, "dir", "A256GCM")
    assert _decrypt(token, SECRET, "dir", "A256GCM", crit=["x-ext"]).header["x-ext"] is True
    for bad in ([], ["enc"], "x-ext", ["x-ext", "x-ext"]):
        forged = _forge({"alg": "dir", "enc": "A256GCM", "crit": bad, "x-ext": 1})
        with pytest.raises(MalformedToken):
            _decrypt(forged, SECRET, "dir", "A256GCM", crit=["x-ext"])


def test_a9_crit_must_name_a_protected_parameter() -> None:
    data = jwe.encrypt_json(
        PLAINTEXT,
        [jwe.Recipient(SECRET, "dir", {"x-ext": 1})],
        encryption="A256GCM",
        protected={"crit": ["x-ext"]},
        flatten=True,
    )
    with pytest.raises(MalformedToken, match="not in the protected header"):
        jwe.decrypt_json(data, SECRET, algorithms=["dir"], encryptions=["A256GCM"], crit=["x-ext"])


# -- A10 / C6: zip and b64 only where they belong --------------------------------------------


def test_a10_c6_zip_in_an_unprotected_header_is_rejected() -> None:
    base = jwe.encrypt_json(
        PLAINTEXT, [jwe.Recipient(SECRET, "dir")], encryption="A256GCM", flatten=True
    )
    for member in ("unprotected", "header"):
        data = dict(base, **{member: {"zip": "DEF"}})
        with pytest.raises(MalformedToken, match="'zip' is allowed only in the protected"):
            jwe.decrypt_json(data, SECRET, algorithms=["dir"], encryptions=["A256GCM"])
    recipients = [jwe.Recipient(SECRET, "dir")]
    with pytest.raises(UsageError, match="compress=True"):
        jwe.encrypt_json(PLAINTEXT, recipients, encryption="A256GCM", protected={"zip": "DEF"})
    with pytest.raises(UsageError, match="compress=True"):
        jwe.encrypt_json(PLAINTEXT, recipients, encryption="A256GCM", unprotected={"zip": "DEF"})
    with pytest.raises(UsageError, match="compress=True"):
        jwe.encrypt(
            PLAINTEXT, SECRET, algorithm="dir", encryption="A256GCM", headers={"zip": "DEF"}
        )


def test_a10_b64_is_refused_in_a_jwe() -> None:
    forged = _forge({"alg": "dir", "enc": "A256GCM", "b64": False, "crit": ["b64"]})
    with pytest.raises(MalformedToken, match="JWS only"):
        _decrypt(forged, SECRET, "dir", "A256GCM")
    with pytest.raises(UsageError, match="JWS only"):
        jwe.encrypt(PLAINTEXT, SECRET, algorithm="dir", encryption="A256GCM", headers={"b64": True})


def test_c6_unknown_zip_value_is_rejected() -> None:
    for value in ("GZIP", "def", 1):
        forged = _forge({"alg": "dir", "enc": "A256GCM", "zip": value})
        with pytest.raises(MalformedToken):
            _decrypt(forged, SECRET, "dir", "A256GCM")


# -- C1: invalid epk --------------------------------------------------------------------------


def _ecdh_token(epk: Any, enc: str = "A128GCM") -> str:
    return _forge({"alg": "ECDH-ES", "enc": enc, "epk": epk})


@pytest.mark.parametrize(
    "epk",
    [
        None,
        "not an object",
        {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url_encode(bytes(31) + b"\1"),
            "y": b64url_encode(bytes(31) + b"\1"),
        },
        {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},
        {"kty": "oct", "k": b64url_encode(SECRET)},
        {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(bytes(32))},
        {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
    ],
    ids=["missing", "string", "off-curve", "short", "oct", "ed25519", "rsa"],
)
def test_c1_invalid_epk_is_rejected_before_key_agreement(
    epk: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_jwa_keymgmt, "ecdh_shared_secret", _refuse("key agreement"))
    header: dict[str, Any] = {"alg": "ECDH-ES", "enc": "A128GCM"}
    if epk is not None:
        header["epk"] = epk
    with pytest.raises(MalformedToken, match="epk"):
        _decrypt(_forge(header), decryption_key("ECDH-ES"), "ECDH-ES")


def test_c1_epk_carrying_a_private_key_is_rejected() -> None:
    ephemeral = ECKey.generate(crv="P-256")
    token = _ecdh_token(ephemeral.to_jwk(private=True))
    with pytest.raises(MalformedToken, match="public key"):
        _decrypt(token, decryption_key("ECDH-ES"), "ECDH-ES")


def test_c1_epk_on_another_curve_is_rejected_before_key_agreement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_jwa_keymgmt, "ecdh_shared_secret", _refuse("key agreement"))
    for crv, recipient in (("P-384", "P-256"), ("X25519", "P-256"), ("X448", "X25519")):
        other = ECKey.generate(crv=crv) if crv.startswith("P") else OKPKey.generate(crv=crv)
        token = _ecdh_token(other.public_key().to_jwk())
        with pytest.raises(InvalidKey, match="same curve"):
            _decrypt(token, decryption_key("ECDH-ES", curve=recipient), "ECDH-ES")


@pytest.mark.parametrize(
    "u",
    [
        bytes(32),
        (1).to_bytes(32, "little"),
        bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
        bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
    ],
    ids=["zero", "one", "order-8-a", "order-8-b"],
)
def test_c1_x25519_low_order_epk_gives_no_shared_secret(u: bytes) -> None:
    token = _ecdh_token({"kty": "OKP", "crv": "X25519", "x": b64url_encode(u)})
    with pytest.raises(DecryptionError):
        _decrypt(token, decryption_key("ECDH-ES", curve="X25519"), "ECDH-ES")


def test_c1_x448_all_zero_epk_gives_no_shared_secret() -> None:
    token = _ecdh_token({"kty": "OKP", "crv": "X448", "x": b64url_encode(bytes(56))})
    with pytest.raises(DecryptionError):
        _decrypt(token, decryption_key("ECDH-ES", curve="X448"), "ECDH-ES")


def test_c1_encrypting_to_a_low_order_x25519_key_is_refused() -> None:
    from cryptography.hazmat.primitives.asymmetric import x25519

    low = OKPKey(x25519.X25519PublicKey.from_public_bytes(bytes(32)))
    with pytest.raises(InvalidKey, match="low-order"):
        jwe.encrypt(PLAINTEXT, low, algorithm="ECDH-ES", encryption="A128GCM")


@pytest.mark.parametrize("member", ["apu", "apv"])
def test_c1_apu_apv_must_be_base64url(member: str) -> None:
    epk = ECKey.generate(crv="P-256").public_key().to_jwk()
    for value in (1, "not base64!", "A"):
        token = _forge({"alg": "ECDH-ES", "enc": "A128GCM", "epk": epk, member: value})
        with pytest.raises(MalformedToken, match=member):
            _decrypt(token, decryption_key("ECDH-ES"), "ECDH-ES")


# -- C2: RSA1_5 fails uniformly, with a random CEK ---------------------------------------------


def _rsa1_5_failures() -> dict[str, str]:
    key = rsa_key()
    good = rsa1_5_token(key, PLAINTEXT)
    header, encrypted, iv, ciphertext, tag = _segments(good)
    from cryptography.hazmat.primitives.asymmetric import padding

    # Valid PKCS#1 v1.5 padding around a 16-byte CEK, where A128CBC-HS256 needs 32 bytes.
    sixteen = key.crypto_public_key.encrypt(bytes(16), padding.PKCS1v15())
    short_cek = rsa1_5_token(key, PLAINTEXT, encrypted_key=sixteen)
    modulus = (key.crypto_public_key.key_size + 7) // 8
    raw_key = b64url_decode(encrypted)
    flipped = bytes([raw_key[0] ^ 1]) + raw_key[1:]
    zeros = b64url_encode(bytes(len(b64url_decode(ciphertext))))

    def with_key(value: bytes) -> str:
        return ".".join([header, b64url_encode(value), iv, ciphertext, tag])

    return {
        "garbage encrypted key": with_key(bytes(modulus)),
        "short encrypted key": with_key(b"\1" * 10),
        "long encrypted key": with_key(b"\1" * (modulus + 1)),
        "flipped encrypted key": with_key(flipped),
        "wrong CEK length": short_cek,
        "bad tag": ".".join([header, encrypted, iv, ciphertext, b64url_encode(bytes(16))]),
        "bad ciphertext": ".".join([header, encrypted, iv, zeros, tag]),
    }


def test_c2_every_rsa1_5_failure_is_the_same_decryption_error() -> None:
    messages = set()
    for reason, token in _rsa1_5_failures().items():
        with pytest.raises(JWTError) as caught:
            _decrypt(token, rsa_key(), "RSA1_5", "A128CBC-HS256", registry=OPT_IN)
        assert type(caught.value) is DecryptionError, reason
        messages.add((str(caught.value), repr(caught.value), caught.value.code))
    assert messages == {
        ("decryption failed", "DecryptionError('decryption failed')", "decryption_failed")
    }


@pytest.mark.parametrize("reason", ["garbage encrypted key", "wrong CEK length"])
def test_c2_rsa1_5_failure_continues_with_the_random_cek(
    reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Prove the fallback path: with the 'random' CEK pinned, content sealed with it opens."""
    pinned = bytes(range(32))
    calls: list[int] = []

    def pinned_cek(size: int) -> bytes:
        calls.append(size)
        return pinned[:size]

    monkeypatch.setattr(_jwa_keymgmt, "_random_cek", pinned_cek)
    key = rsa_key()
    modulus = (key.crypto_public_key.key_size + 7) // 8
    if reason == "garbage encrypted key":
        token = rsa1_5_token(key, PLAINTEXT, cek=pinned, encrypted_key=bytes(modulus))
    else:
        from cryptography.hazmat.primitives.asymmetric import padding

        wrong = key.crypto_public_key.encrypt(bytes(16), padding.PKCS1v15())
        token = rsa1_5_token(key, PLAINTEXT, cek=pinned, encrypted_key=wrong)
    result = _decrypt(token, key, "RSA1_5", "A128CBC-HS256", registry=OPT_IN)
    assert result.plaintext == PLAINTEXT
    assert calls == [32]


def test_c2_the_random_cek_is_drawn_on_success_too(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = _jwa_keymgmt._random_cek

    def spy(size: int) -> bytes:
        calls.append(size)
        return original(size)

    monkeypatch.setattr(_jwa_keymgmt, "_random_cek", spy)
    token = rsa1_5_token(rsa_key(), PLAINTEXT, "A256GCM")
    result = _decrypt(token, rsa_key(), "RSA1_5", "A256GCM", registry=OPT_IN)
    assert result.plaintext == PLAINTEXT
    assert calls == [32]


def test_c2_rsa1_5_is_off_by_default() -> None:
    token = rsa1_5_token(rsa_key(), PLAINTEXT)
    with pytest.raises(UsageError, match=r"including\(jwtkit\.jwa\.RSA1_5\)"):
        _decrypt(token, rsa_key(), "RSA1_5", "A128CBC-HS256")
    with pytest.raises(AlgorithmNotAllowed):
        _decrypt(token, rsa_key(), "RSA-OAEP", "A128CBC-HS256")


@pytest.mark.parametrize("alg", ["RSA-OAEP", "A128KW", "A128GCMKW", "ECDH-ES+A128KW", "dir"])
def test_c2_every_other_decryption_failure_has_the_same_message(alg: str) -> None:
    key = decryption_key(alg, "A128GCM")
    public = key if isinstance(key, OctKey) else key.public_key()
    token = jwe.encrypt(PLAINTEXT, public, algorithm=alg, encryption="A128GCM")
    parts = _segments(token)
    parts[4] = b64url_encode(bytes(16))
    with pytest.raises(DecryptionError) as caught:
        _decrypt(".".join(parts), key, alg)
    assert str(caught.value) == "decryption failed"


# -- C3: AES-CBC-HMAC checks the whole tag first ---------------------------------------------


@pytest.mark.parametrize("enc", ["A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512"])
def test_c3_truncated_tag_is_rejected(enc: str) -> None:
    token = jwe.encrypt(PLAINTEXT, decryption_key("A256KW"), algorithm="A256KW", encryption=enc)
    parts = _segments(token)
    tag = b64url_decode(parts[4])
    for cut in {tag[:-1], tag[:16], tag[:8], b""} - {tag}:
        parts[4] = b64url_encode(cut)
        with pytest.raises(DecryptionError):
            _decrypt(".".join(parts), decryption_key("A256KW"), "A256KW", enc)


@pytest.mark.parametrize("enc", ["A128CBC-HS256", "A256CBC-HS512"])
def test_c3_tag_is_checked_before_any_decryption_so_padding_is_never_observable(
    enc: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = decryption_key("A256KW")
    token = jwe.encrypt(PLAINTEXT, key, algorithm="A256KW", encryption=enc)
    parts = _segments(token)
    ciphertext = b64url_decode(parts[3])
    # Corrupting the last block would break the padding if it were ever decrypted.
    parts[3] = b64url_encode(ciphertext[:-16] + bytes(16))
    monkeypatch.setattr(_jwa_content, "Cipher", _refuse("AES-CBC decryption"))
    with pytest.raises(DecryptionError) as caught:
        _decrypt(".".join(parts), key, "A256KW", enc)
    assert str(caught.value) == "decryption failed"
    parts = _segments(token)
    parts[4] = b64url_encode(bytes(len(b64url_decode(parts[4]))))
    with pytest.raises(DecryptionError):
        _decrypt(".".join(parts), key, "A256KW", enc)


def test_c3_aad_length_is_authenticated() -> None:
    """AL binds the split between AAD and ciphertext: moving bytes across it fails."""
    alg = jwa.CONTENT_ENCRYPTION_ALGORITHMS["A128CBC-HS256"]
    cek, iv = alg.generate_cek(), alg.generate_iv()
    ciphertext, tag = alg.encrypt(cek, iv, b"x" * 40, b"header-bytes")
    with pytest.raises(DecryptionError):
        alg.decrypt(cek, iv, ciphertext, tag, b"header-bytes" + b"\0" * 8)


# -- C4: AES-GCM tag exactly 16 bytes, IV exactly 12 -----------------------------------------


@pytest.mark.parametrize("enc", ["A128GCM", "A256GCM"])
def test_c4_short_gcm_tag_or_wrong_iv_is_rejected(enc: str) -> None:
    token = jwe.encrypt(PLAINTEXT, SECRET, algorithm="A256KW", encryption=enc)
    for index, value in ((4, bytes(15)), (4, bytes(12)), (4, b""), (2, bytes(16)), (2, bytes(8))):
        parts = _segments(token)
        parts[index] = b64url_encode(value)
        with pytest.raises(DecryptionError):
            _decrypt(".".join(parts), SECRET, "A256KW", enc)


@pytest.mark.parametrize(
    ("member", "value", "match"),
    [
        ("iv", bytes(8), "96 bits"),
        ("tag", bytes(12), "128 bits"),
        ("iv", None, "'iv' is missing"),
        ("tag", None, "'tag' is missing"),
    ],
)
def test_c4_aes_gcm_key_wrap_iv_and_tag_must_have_exact_lengths(
    member: str, value: bytes | None, match: str
) -> None:
    key = decryption_key("A256GCMKW")
    token = jwe.encrypt(PLAINTEXT, key, algorithm="A256GCMKW", encryption="A128GCM")
    header = json.loads(b64url_decode(_segments(token)[0]))
    if value is None:
        del header[member]
    else:
        header[member] = b64url_encode(value)
    parts = _segments(token)
    parts[0] = b64url_encode(json_dumps(header))
    with pytest.raises(MalformedToken, match=match):
        _decrypt(".".join(parts), key, "A256GCMKW")


def test_c4_aes_gcm_key_wrap_with_a_wrong_tag_is_a_decryption_error() -> None:
    key = decryption_key("A128GCMKW")
    token = jwe.encrypt(PLAINTEXT, key, algorithm="A128GCMKW", encryption="A128GCM")
    header = json.loads(b64url_decode(_segments(token)[0]))
    header["tag"] = b64url_encode(bytes(16))
    parts = _segments(token)
    parts[0] = b64url_encode(json_dumps(header))
    with pytest.raises(DecryptionError):
        _decrypt(".".join(parts), key, "A128GCMKW")


# -- C5: PBES2 bounds, checked before any derivation -----------------------------------------

PBES2_KEY = OctKey(b"correct horse battery staple")


def _pbes2_token(**params: Any) -> str:
    header = {"alg": "PBES2-HS256+A128KW", "enc": "A128GCM", "p2s": b64url_encode(bytes(16))}
    header.update(params)
    return _forge({k: v for k, v in header.items() if v is not None}, encrypted_key=bytes(24))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"p2c": 10**9}, "above the maximum 600000"),
        ({"p2c": 600_001}, "above the maximum 600000"),
        ({"p2c": 2**70}, "above the maximum"),
        ({"p2c": 999}, "below the minimum 1000"),
        ({"p2c": 0}, "below the minimum"),
        ({"p2c": -5}, "below the minimum"),
        ({"p2c": "4096"}, "integer"),
        ({"p2c": 4096.0}, "integer"),
        ({"p2c": True}, "integer"),
        ({"p2c": [4096]}, "integer"),
        ({}, "'p2c' is missing"),
        ({"p2c": 4096, "p2s": b64url_encode(bytes(7))}, "at least 8 bytes"),
        ({"p2c": 4096, "p2s": ""}, "at least 8 bytes"),
        ({"p2c": 4096, "p2s": None}, "'p2s' is missing"),
        ({"p2c": 4096, "p2s": 12345678}, "'p2s' must be a base64url"),
        ({"p2c": 4096, "p2s": "AAAAAAAAAA=="}, "p2s"),
    ],
)
def test_c5_pbes2_parameters_are_refused_before_pbkdf2_runs(
    params: dict[str, Any], match: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_jwa_keymgmt, "PBKDF2HMAC", _refuse("PBKDF2"))
    with pytest.raises(MalformedToken, match=match):
        _decrypt(_pbes2_token(**params), PBES2_KEY, "PBES2-HS256+A128KW", registry=OPT_IN)


def test_c5_max_pbes2_count_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    token = jwe.encrypt(
        PLAINTEXT,
        PBES2_KEY,
        algorithm="PBES2-HS256+A128KW",
        encryption="A128GCM",
        headers={"p2c": 5000},
        registry=OPT_IN,
    )
    result = _decrypt(token, PBES2_KEY, "PBES2-HS256+A128KW", registry=OPT_IN, max_pbes2_count=5000)
    assert result.plaintext == PLAINTEXT
    monkeypatch.setattr(_jwa_keymgmt, "PBKDF2HMAC", _refuse("PBKDF2"))
    with pytest.raises(MalformedToken, match="above the maximum 4999"):
        _decrypt(token, PBES2_KEY, "PBES2-HS256+A128KW", registry=OPT_IN, max_pbes2_count=4999)


def test_c5_pbes2_is_off_by_default_for_both_directions() -> None:
    with pytest.raises(UsageError, match="PBES2_HS256_A128KW"):
        _decrypt(_pbes2_token(p2c=4096), PBES2_KEY, "PBES2-HS256+A128KW")
    with pytest.raises(AlgorithmNotAllowed, match="PBES2_HS512_A256KW"):
        jwe.encrypt(PLAINTEXT, PBES2_KEY, algorithm="PBES2-HS512+A256KW", encryption="A128GCM")


# -- C6: decompression bombs -----------------------------------------------------------------


def test_c6_decompression_bomb_is_refused_at_the_default_cap() -> None:
    bomb = bytes(10_000_000)
    token = jwe.encrypt(bomb, SECRET, algorithm="dir", encryption="A256GCM", compress=True)
    assert len(token) < 40_000  # ten megabytes in a few kilobytes
    with pytest.raises(TokenTooLarge, match="larger than 250000 bytes"):
        _decrypt(token, SECRET, "dir", "A256GCM")
    with pytest.raises(TokenTooLarge, match="larger than 1000 bytes"):
        _decrypt(token, SECRET, "dir", "A256GCM", max_decompressed_size=1000)
    exact = jwe.encrypt(
        bytes(250_000), SECRET, algorithm="dir", encryption="A256GCM", compress=True
    )
    assert _decrypt(exact, SECRET, "dir", "A256GCM").plaintext == bytes(250_000)
    over = jwe.encrypt(bytes(250_001), SECRET, algorithm="dir", encryption="A256GCM", compress=True)
    with pytest.raises(TokenTooLarge):
        _decrypt(over, SECRET, "dir", "A256GCM")


def test_c6_bomb_in_json_serialization_is_refused_too() -> None:
    data = jwe.encrypt_json(
        bytes(1_000_000), [jwe.Recipient(SECRET, "dir")], encryption="A256GCM", compress=True
    )
    with pytest.raises(TokenTooLarge):
        jwe.decrypt_json(
            data, SECRET, algorithms=["dir"], encryptions=["A256GCM"], max_decompressed_size=10_000
        )


def _raw_deflate(data: bytes, mode: int = zlib.Z_FINISH) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(mode)


@pytest.mark.parametrize(
    "compressed",
    [
        b"\xff\xff\xff",  # not DEFLATE
        zlib.compress(PLAINTEXT),  # zlib-wrapped, not raw DEFLATE (RFC 7516 §4.1.3)
        _raw_deflate(PLAINTEXT, zlib.Z_SYNC_FLUSH),  # no final block
        _raw_deflate(PLAINTEXT) + b"trailing",
    ],
    ids=["garbage", "zlib-header", "unterminated", "trailing-data"],
)
def test_c6_invalid_deflate_data_is_rejected(compressed: bytes) -> None:
    enc = jwa.CONTENT_ENCRYPTION_ALGORITHMS["A256GCM"]
    protected = b64url_encode(json_dumps({"alg": "dir", "enc": "A256GCM", "zip": "DEF"}))
    iv = enc.generate_iv()
    ciphertext, tag = enc.encrypt(SECRET, iv, compressed, protected.encode())
    token = ".".join([protected, "", *(b64url_encode(p) for p in (iv, ciphertext, tag))])
    with pytest.raises(MalformedToken, match="zip"):
        _decrypt(token, SECRET, "dir", "A256GCM")


# -- C7: encrypted key, IV and tag presence --------------------------------------------------


def test_c7_dir_and_ecdh_es_with_an_encrypted_key_are_rejected() -> None:
    token = jwe.encrypt(PLAINTEXT, SECRET, algorithm="dir", encryption="A256GCM")
    parts = _segments(token)
    parts[1] = b64url_encode(bytes(40))
    with pytest.raises(MalformedToken, match="uses no encrypted key"):
        _decrypt(".".join(parts), SECRET, "dir", "A256GCM")
    key = decryption_key("ECDH-ES")
    token = jwe.encrypt(PLAINTEXT, key.public_key(), algorithm="ECDH-ES", encryption="A128GCM")
    parts = _segments(token)
    parts[1] = b64url_encode(bytes(24))
    with pytest.raises(MalformedToken, match="uses no encrypted key"):
        _decrypt(".".join(parts), key, "ECDH-ES")


@pytest.mark.parametrize("alg", ["RSA-OAEP-256", "A128KW", "A256GCMKW", "ECDH-ES+A256KW"])
def test_c7_empty_encrypted_key_where_one_is_needed_is_rejected(alg: str) -> None:
    key = decryption_key(alg)
    public = key if isinstance(key, OctKey) else key.public_key()
    parts = _segments(jwe.encrypt(PLAINTEXT, public, algorithm=alg, encryption="A128GCM"))
    parts[1] = ""
    with pytest.raises(MalformedToken, match="needs an encrypted key"):
        _decrypt(".".join(parts), key, alg)


def test_c7_empty_encrypted_key_for_rsa1_5_is_rejected() -> None:
    parts = _segments(rsa1_5_token(rsa_key(), PLAINTEXT))
    parts[1] = ""
    with pytest.raises(MalformedToken, match="needs an encrypted key"):
        _decrypt(".".join(parts), rsa_key(), "RSA1_5", "A128CBC-HS256", registry=OPT_IN)


@pytest.mark.parametrize("alg", ["A128KW", "ECDH-ES+A128KW", "PBES2-HS256+A128KW", "RSA-OAEP"])
def test_c7_encrypted_key_of_the_wrong_length_is_a_decryption_error(alg: str) -> None:
    key = decryption_key(alg)
    public = key if isinstance(key, OctKey) else key.public_key()
    headers = {"p2c": 1000} if alg.startswith("PBES2") else None
    token = jwe.encrypt(
        PLAINTEXT, public, algorithm=alg, encryption="A128GCM", headers=headers, registry=OPT_IN
    )
    for length in (8, 16, 23, 25, 32, 40):
        parts = _segments(token)
        parts[1] = b64url_encode(bytes(length))
        with pytest.raises(DecryptionError):
            _decrypt(".".join(parts), key, alg, registry=OPT_IN)


@pytest.mark.parametrize("enc", ["A128CBC-HS256", "A128GCM"])
def test_c7_missing_iv_or_tag_is_rejected(enc: str) -> None:
    token = jwe.encrypt(PLAINTEXT, SECRET, algorithm="A256KW", encryption=enc)
    for index in (2, 3, 4):
        parts = _segments(token)
        parts[index] = ""
        with pytest.raises(DecryptionError):
            _decrypt(".".join(parts), SECRET, "A256KW", enc)
    data = jwe.encrypt_json(PLAINTEXT, [jwe.Recipient(SECRET, "A256KW")], encryption=enc)
    for member in ("iv", "tag"):
        partial = {k: v for k, v in data.items() if k != member}
        with pytest.raises(DecryptionError):
            jwe.decrypt_json(partial, SECRET, algorithms=["A256KW"], encryptions=[enc])


# -- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "a.b.c.d",
        "a.b.c.d.e.f",
        ".AA.AA.AA.AA",
        "e30.AA.AA.AA.AA",  # '{}': no alg
        "eyJhbGciOiJkaXIiLCJlbmMiOjF9...AA.",  # enc is a number
        "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0.A.AA.AA.AA",  # bad base64url length
        "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AB.AA.AA",  # non-canonical base64url
        "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..A+.AA.AA",
        "e.y.J.h.b",
    ],
)
def test_malformed_compact_tokens_are_rejected(token: str) -> None:
    with pytest.raises(MalformedToken):
        _decrypt(token, SECRET, "dir", "A256GCM")


def test_token_size_is_bounded() -> None:
    token = jwe.encrypt(bytes(5000), SECRET, algorithm="dir", encryption="A256GCM")
    with pytest.raises(TokenTooLarge):
        _decrypt(token, SECRET, "dir", "A256GCM", max_token_size=1000)


def test_errors_never_show_key_material() -> None:
    secret = bytes(range(100, 132))
    token = jwe.encrypt(PLAINTEXT, secret, algorithm="A256KW", encryption="A256GCM")
    failures: list[JWTError] = []
    for key in (OctKey(bytes(range(1, 33))), OctKey(secret, alg="A256GCMKW")):
        with pytest.raises(JWTError) as caught:
            _decrypt(token, key, "A256KW", "A256GCM")
        failures.append(caught.value)
    with pytest.raises(JWTError) as caught:
        jwe.encrypt(PLAINTEXT, OctKey(secret, use="sig"), algorithm="A256KW", encryption="A128GCM")
    failures.append(caught.value)
    for failure in failures:
        for text in (str(failure), repr(failure)):
            assert b64url_encode(secret) not in text
            assert secret.hex() not in text


def test_c5_only_one_pbes2_recipient_is_tried_per_json_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Many cheap PBES2 recipients must not multiply the PBKDF2 work a sender can demand."""
    one = {"header": {"alg": "PBES2-HS256+A128KW", "p2c": 1000, "p2s": b64url_encode(bytes(16))}}
    # as many as a message may carry (jwe.DEFAULT_MAX_RECIPIENTS)
    recipients = [
        dict(one, encrypted_key=b64url_encode(bytes(24))) for _ in range(jwe.DEFAULT_MAX_RECIPIENTS)
    ]
    data = {
        "protected": b64url_encode(json_dumps({"enc": "A128GCM"})),
        "recipients": recipients,
        "iv": b64url_encode(bytes(12)),
        "ciphertext": "AAAA",
        "tag": b64url_encode(bytes(16)),
    }
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    derivations: list[int] = []
    original = PBKDF2HMAC

    def counting(*args: Any, **kwargs: Any) -> Any:
        derivations.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(_jwa_keymgmt, "PBKDF2HMAC", counting)
    with pytest.raises(MalformedToken, match="more than one PBES2 recipient"):
        jwe.decrypt_json(
            data,
            PBES2_KEY,
            algorithms=["PBES2-HS256+A128KW"],
            encryptions=["A128GCM"],
            registry=OPT_IN,
        )
    assert derivations == [1]


@pytest.mark.parametrize(
    ("alg", "headers", "match"),
    [
        ("ECDH-ES", {"apu": "not base64!"}, "apu"),
        ("ECDH-ES+A128KW", {"apv": 5}, "apv"),
        ("PBES2-HS256+A128KW", {"p2s": "A", "p2c": 1000}, "p2s"),
    ],
)
def test_key_management_parameters_given_by_the_caller_are_checked(
    alg: str, headers: dict[str, Any], match: str
) -> None:
    key = decryption_key(alg)
    public = key if isinstance(key, OctKey) else key.public_key()
    with pytest.raises(UsageError, match=match):
        jwe.encrypt(
            PLAINTEXT, public, algorithm=alg, encryption="A128GCM", headers=headers,
            registry=OPT_IN,
        )  # fmt: skip
