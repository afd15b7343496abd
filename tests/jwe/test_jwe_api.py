"""The public JWE API (RFC 7516 §5, §7): arguments, headers, several recipients, key sources.

The vectors, the security matrix and the property tests live in their own files; this one
pins how ``encrypt``/``decrypt``/``encrypt_json``/``decrypt_json`` behave for their callers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from jwtkit import jwa, jwe
from jwtkit._codec import b64url_decode, b64url_encode, json_loads_object
from jwtkit._jwa_keymgmt import KeyParameters
from jwtkit.errors import (
    AlgorithmNotAllowed,
    DecryptionError,
    InvalidKey,
    KeyNotFound,
    MalformedToken,
    UsageError,
)
from jwtkit.jwk import Key, KeySet, OctKey

from .jwe_helpers import OPT_IN, decryption_key, encryption_key, rsa_key

PLAINTEXT = b"You can trust us to stick with you through thick and thin."
SECRET = bytes(range(32))


def _protected(token: str) -> dict[str, Any]:
    return json_loads_object(b64url_decode(token.split(".", maxsplit=1)[0]))


# -- compact ----------------------------------------------------------------------------------


def test_encrypt_builds_the_protected_header_alg_enc_kid_zip_and_caller_members() -> None:
    key = OctKey(SECRET, kid="k1")
    token = jwe.encrypt(
        PLAINTEXT, key, algorithm="A256KW", encryption="A256GCM",
        headers={"cty": "text/plain", "alg": "A256KW", "enc": "A256GCM"}, compress=True,
    )  # fmt: skip
    assert _protected(token) == {
        "alg": "A256KW", "enc": "A256GCM", "cty": "text/plain", "kid": "k1", "zip": "DEF",
    }  # fmt: skip
    result = jwe.decrypt(token, key, algorithms=["A256KW"], encryptions=["A256GCM"])
    assert result.plaintext == PLAINTEXT
    assert result.joint_header == result.header
    assert (result.unprotected, result.recipient_header, result.recipient_index) == (None,) * 3
    explicit = jwe.encrypt(
        PLAINTEXT, key, algorithm="A256KW", encryption="A256GCM", headers={"kid": "other"}
    )
    assert _protected(explicit)["kid"] == "other"


@pytest.mark.parametrize(
    ("headers", "match"),
    [
        ({"alg": "A128KW"}, "algorithm is 'A256KW'"),
        ({"enc": "A128GCM"}, "encryption is 'A256GCM'"),
        ({"epk": {}}, "'epk' is set by the key-management algorithm"),
        ({"iv": "AA"}, "'iv' is set"),
        ({"tag": "AA"}, "'tag' is set"),
        ({"x": object()}, "not JSON-serializable"),
        ({"x": float("nan")}, "not JSON-serializable"),
        ({"kid": 5}, "'kid' must be a string"),
    ],
)
def test_encrypt_refuses_bad_headers(headers: dict[str, Any], match: str) -> None:
    with pytest.raises((UsageError, MalformedToken), match=match):
        jwe.encrypt(PLAINTEXT, SECRET, algorithm="A256KW", encryption="A256GCM", headers=headers)


def test_encrypt_refuses_bad_arguments() -> None:
    with pytest.raises(UsageError, match="plaintext must be bytes"):
        jwe.encrypt("text", SECRET, algorithm="dir", encryption="A256GCM")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="must be a mapping"):
        jwe.encrypt(PLAINTEXT, SECRET, algorithm="dir", encryption="A256GCM", headers=[])  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="key"):
        jwe.encrypt(PLAINTEXT, 42, algorithm="dir", encryption="A256GCM")  # type: ignore[arg-type]
    with pytest.raises(AlgorithmNotAllowed, match="algorithm 'none'"):
        jwe.encrypt(PLAINTEXT, SECRET, algorithm="none", encryption="A256GCM")
    with pytest.raises(AlgorithmNotAllowed, match="algorithm 'HS256'"):
        jwe.encrypt(PLAINTEXT, SECRET, algorithm="HS256", encryption="A256GCM")
    with pytest.raises(AlgorithmNotAllowed, match="encryption 'A256CBC'"):
        jwe.encrypt(PLAINTEXT, SECRET, algorithm="dir", encryption="A256CBC")
    with pytest.raises(AlgorithmNotAllowed):
        jwe.encrypt(PLAINTEXT, SECRET, algorithm=None, encryption="A256GCM")  # type: ignore[arg-type]


def test_decrypt_accepts_bytes_tokens_and_reports_the_key_that_decrypted() -> None:
    keys = KeySet([OctKey(bytes(range(1, 33))), OctKey(SECRET)])
    token = jwe.encrypt(PLAINTEXT, SECRET, algorithm="A256KW", encryption="A128GCM")
    result = jwe.decrypt(token.encode(), keys, algorithms=["A256KW"], encryptions=["A128GCM"])
    assert result.key is keys[1]
    assert result.algorithm == "A256KW"
    assert result.encryption == "A128GCM"


def test_decrypt_with_a_key_resolver_and_a_key_provider() -> None:
    key = OctKey(SECRET, kid="k")
    token = jwe.encrypt(PLAINTEXT, key, algorithm="A256KW", encryption="A128GCM")
    seen: list[Mapping[str, Any]] = []

    def resolve(header: Mapping[str, Any]) -> Key:
        seen.append(header)
        return key

    result = jwe.decrypt(token, resolve, algorithms=["A256KW"], encryptions=["A128GCM"])
    assert result.key is key
    assert seen[0]["kid"] == "k"

    class Provider:
        def keyset_for(self, header: Mapping[str, Any]) -> KeySet:
            return KeySet([key])

    assert jwe.decrypt(
        token, Provider(), algorithms=["A256KW"], encryptions=["A128GCM"]
    ).key is key  # fmt: skip


def test_dir_key_bound_to_the_enc_works_through_a_key_provider_but_not_a_resolver() -> None:
    """RFC 7520 quirk 7: the rule applies to fixed keys and providers, whose sets are known."""
    key = OctKey(bytes(16), alg="A128GCM", allow_weak=True)
    token = jwe.encrypt(PLAINTEXT, key, algorithm="dir", encryption="A128GCM")

    class Provider:
        def keyset_for(self, header: Mapping[str, Any]) -> KeySet:
            return KeySet([key])

    result = jwe.decrypt(token, Provider(), algorithms=["dir"], encryptions=["A128GCM"])
    assert result.key is key
    with pytest.raises(InvalidKey, match="restricted"):
        jwe.decrypt(token, lambda header: key, algorithms=["dir"], encryptions=["A128GCM"])


def test_several_candidate_keys_are_tried_in_order_until_one_decrypts() -> None:
    good = decryption_key("ECDH-ES+A256KW", curve="P-256")
    token = jwe.encrypt(
        PLAINTEXT, good.public_key(), algorithm="ECDH-ES+A256KW", encryption="A256GCM"
    )
    decoys = [Key.generate("EC") for _ in range(2)]
    keys = KeySet([*decoys, good])
    assert jwe.decrypt(
        token, keys, algorithms=["ECDH-ES+A256KW"], encryptions=["A256GCM"]
    ).key is good  # fmt: skip
    with pytest.raises(DecryptionError):
        jwe.decrypt(token, KeySet(decoys), algorithms=["ECDH-ES+A256KW"], encryptions=["A256GCM"])


# -- JSON -------------------------------------------------------------------------------------


def test_encrypt_json_to_several_recipients_each_decrypts_its_own_entry() -> None:
    rsa = rsa_key()
    ec = decryption_key("ECDH-ES+A128KW", curve="P-384")
    oct_key = OctKey(SECRET, kid="shared-secret")
    data = jwe.encrypt_json(
        PLAINTEXT,
        [
            jwe.Recipient(rsa.public_key(), "RSA-OAEP-256", {"kid": "rsa"}),
            jwe.Recipient(ec.public_key(), "ECDH-ES+A128KW", {"apu": b64url_encode(b"me")}),
            jwe.Recipient(oct_key, "A256GCMKW"),
        ],
        encryption="A256CBC-HS512",
        protected={"cty": "text/plain"},
        unprotected={"jku": "https://example.com/keys"},
        aad=b"additional data",
    )
    assert json_loads_object(b64url_decode(data["protected"])) == {
        "cty": "text/plain", "enc": "A256CBC-HS512",
    }  # fmt: skip
    headers = [r["header"] for r in data["recipients"]]
    assert headers[0] == {"kid": "rsa", "alg": "RSA-OAEP-256"}
    assert set(headers[1]) == {"apu", "alg", "epk"}
    assert set(headers[2]) == {"alg", "kid", "iv", "tag"}
    assert data["aad"] == b64url_encode(b"additional data")
    algorithms = ["RSA-OAEP-256", "ECDH-ES+A128KW", "A256GCMKW"]
    for index, key in enumerate((rsa, ec, oct_key)):
        result = jwe.decrypt_json(data, key, algorithms=algorithms, encryptions=["A256CBC-HS512"])
        assert result.plaintext == PLAINTEXT
        assert result.recipient_index == index
        assert result.recipient_header == headers[index]
        assert result.unprotected == {"jku": "https://example.com/keys"}
        assert result.aad == b"additional data"
    # Only the A256GCMKW recipient is allowed: the others are skipped.
    only = jwe.decrypt_json(data, oct_key, algorithms=["A256GCMKW"], encryptions=["A256CBC-HS512"])
    assert only.recipient_index == 2


def test_decrypt_json_reports_why_no_recipient_could_be_used() -> None:
    data = jwe.encrypt_json(
        PLAINTEXT,
        [
            jwe.Recipient(OctKey(SECRET, kid="a"), "A256KW"),
            jwe.Recipient(rsa_key().public_key(), "RSA-OAEP"),
        ],
        encryption="A128GCM",
    )
    with pytest.raises(AlgorithmNotAllowed):
        jwe.decrypt_json(data, SECRET, algorithms=["A128KW"], encryptions=["A128GCM"])
    with pytest.raises(KeyNotFound):
        jwe.decrypt_json(
            data, OctKey(SECRET, kid="x"), algorithms=["A256KW"], encryptions=["A128GCM"]
        )
    with pytest.raises(DecryptionError):
        jwe.decrypt_json(
            data,
            OctKey(bytes(range(5, 37))),
            algorithms=["A256KW", "RSA-OAEP"],
            encryptions=["A128GCM"],
        )


def test_single_recipient_json_protects_alg_kid_and_key_management_parameters() -> None:
    key = OctKey(SECRET, kid="k")
    data = jwe.encrypt_json(
        PLAINTEXT,
        [jwe.Recipient(key, "A256GCMKW", {"x-note": "unprotected"})],
        encryption="A128GCM",
        flatten=True,
    )
    assert "recipients" not in data
    protected = json_loads_object(b64url_decode(data["protected"]))
    assert set(protected) == {"enc", "alg", "kid", "iv", "tag"}
    assert data["header"] == {"x-note": "unprotected"}
    result = jwe.decrypt_json(data, key, algorithms=["A256GCMKW"], encryptions=["A128GCM"])
    assert result.plaintext == PLAINTEXT
    assert result.recipient_index == 0
    # alg and kid may also be given by the caller, in the protected or per-recipient header.
    again = jwe.encrypt_json(
        PLAINTEXT,
        [jwe.Recipient(key, "A256KW", {"kid": "k", "alg": "A256KW"})],
        encryption="A128GCM",
    )
    assert again["recipients"][0]["header"] == {"kid": "k", "alg": "A256KW"}
    with_alg = jwe.encrypt_json(
        PLAINTEXT, [jwe.Recipient(key, "A256KW")], encryption="A128GCM", protected={"alg": "A256KW"}
    )
    assert json_loads_object(b64url_decode(with_alg["protected"]))["alg"] == "A256KW"


def test_direct_modes_in_json_have_no_encrypted_key() -> None:
    for alg in ("dir", "ECDH-ES"):
        key = decryption_key(alg, "A256GCM")
        data = jwe.encrypt_json(
            PLAINTEXT, [jwe.Recipient(encryption_key(alg, "A256GCM"), alg)], encryption="A256GCM"
        )
        assert data["recipients"] == [{}]
        result = jwe.decrypt_json(data, key, algorithms=[alg], encryptions=["A256GCM"])
        assert result.plaintext == PLAINTEXT


def test_dir_key_bound_to_the_enc_encrypts_json_too() -> None:
    key = OctKey(SECRET, alg="A256GCM")
    data = jwe.encrypt_json(PLAINTEXT, [jwe.Recipient(key, "dir")], encryption="A256GCM")
    result = jwe.decrypt_json(data, key, algorithms=["dir"], encryptions=["A256GCM"])
    assert result.key is key


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"plaintext": "text"}, "plaintext must be bytes"),
        ({"aad": "text"}, "aad must be bytes"),
        ({"recipients": jwe.Recipient(SECRET, "dir")}, "list of Recipient"),
        ({"recipients": "dir"}, "list of Recipient"),
        ({"recipients": []}, "empty"),
        ({"recipients": [(SECRET, "dir")]}, "not a Recipient"),
        (
            {"recipients": [jwe.Recipient(SECRET, "A256KW")] * 2, "flatten": True},
            "exactly one recipient",
        ),
        ({"recipients": [jwe.Recipient(SECRET, "dir")] * 2}, "one recipient only"),
        ({"protected": {"enc": "A128GCM"}}, "not 'A256GCM'"),
        ({"protected": {"alg": "A128KW"}}, "per recipient"),
        (
            {"unprotected": {"alg": "A256KW"}, "recipients": [jwe.Recipient(SECRET, "A256KW")] * 2},
            "per recipient",
        ),
        (
            {"recipients": [jwe.Recipient(SECRET, "A256KW", {"alg": "dir"})]},
            "algorithm is 'A256KW'",
        ),
        ({"unprotected": {"iv": "AA"}}, "'iv' is set"),
        ({"protected": {"x": {1, 2}}}, "not JSON-serializable"),
    ],
)  # fmt: skip
def test_encrypt_json_refuses_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    arguments: dict[str, Any] = {
        "plaintext": PLAINTEXT,
        "recipients": [jwe.Recipient(SECRET, "A256KW")],
        "encryption": "A256GCM",
    }
    arguments.update(kwargs)
    with pytest.raises(UsageError, match=match):
        jwe.encrypt_json(**arguments)


def test_decrypt_json_accepts_text_bytes_and_mappings() -> None:
    data = jwe.encrypt_json(PLAINTEXT, [jwe.Recipient(SECRET, "A256KW")], encryption="A128GCM")
    for given in (data, json.dumps(data), json.dumps(data).encode()):
        result = jwe.decrypt_json(given, SECRET, algorithms=["A256KW"], encryptions=["A128GCM"])
        assert result.plaintext == PLAINTEXT
    # Members this library does not know are ignored (RFC 7516 §7.2.1).
    extended = dict(data, **{"x-vendor": {"anything": [1, 2]}})
    assert jwe.decrypt_json(
        extended, SECRET, algorithms=["A256KW"], encryptions=["A128GCM"]
    ).plaintext == PLAINTEXT  # fmt: skip
    # An empty aad member is present, hence part of the AAD.
    with_aad = jwe.encrypt_json(
        PLAINTEXT, [jwe.Recipient(SECRET, "A256KW")], encryption="A128GCM", aad=b""
    )
    assert with_aad["aad"] == ""
    result = jwe.decrypt_json(with_aad, SECRET, algorithms=["A256KW"], encryptions=["A128GCM"])
    assert result.aad == b""
    without = {k: v for k, v in with_aad.items() if k != "aad"}
    with pytest.raises(DecryptionError):
        jwe.decrypt_json(without, SECRET, algorithms=["A256KW"], encryptions=["A128GCM"])


# -- algorithm objects, used directly -------------------------------------------------------


def test_unwrapping_a_cek_of_the_wrong_length_is_a_decryption_error() -> None:
    enc = jwa.CONTENT_ENCRYPTION_ALGORITHMS["A256GCM"]  # needs 32 bytes
    rsa = rsa_key()
    oaep = jwa.KEY_MANAGEMENT_ALGORITHMS["RSA-OAEP-256"]
    from cryptography.hazmat.primitives import hashes

    sha256 = hashes.SHA256()
    short = rsa.crypto_public_key.encrypt(
        bytes(16), padding.OAEP(mgf=padding.MGF1(sha256), algorithm=sha256, label=None)
    )
    with pytest.raises(DecryptionError):
        oaep.unwrap(rsa, enc, KeyParameters(), short)
    gcmkw = jwa.KEY_MANAGEMENT_ALGORITHMS["A256GCMKW"]
    iv = bytes(12)
    sealed = AESGCM(SECRET).encrypt(iv, bytes(16), b"")
    parameters = KeyParameters(iv=iv, tag=sealed[-16:])
    with pytest.raises(DecryptionError):
        gcmkw.unwrap(OctKey(SECRET), enc, parameters, sealed[:-16])


@pytest.mark.parametrize(
    ("alg", "key"),
    [
        ("A128KW", rsa_key),
        ("A128KW", lambda: OctKey(SECRET)),
        ("A256GCMKW", lambda: OctKey(bytes(16), allow_weak=True)),
        ("dir", rsa_key),
        ("PBES2-HS256+A128KW", rsa_key),
        ("RSA-OAEP", lambda: OctKey(SECRET)),
        ("RSA1_5", lambda: OctKey(SECRET)),
    ],
)
def test_check_key_refuses_keys_of_the_wrong_kind_or_size(alg: str, key: Any) -> None:
    algorithm = OPT_IN.key_management(alg)
    assert algorithm is not None
    with pytest.raises(InvalidKey):
        algorithm.check_key(key(), jwa.CONTENT_ENCRYPTION_ALGORITHMS["A128GCM"], KeyParameters())
