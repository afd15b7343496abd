"""Tests of the JWS JSON Serialization (``jwtkit.jws.sign_json``, ``verify_json``,
``verify_json_all``): RFC 7515 §7.2 (general and flattened forms), RFC 7797 (``b64: false``,
detached content), the header rules of security matrix A7-A10, the semantics of several
signatures, interoperability with jwcrypto and joserfc, and random mutations (hypothesis).
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Mapping
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jws as joserfc_jws
from joserfc.jwk import KeySet as JoserfcKeySet
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws

import jwtkit
from jwtkit import jwa, jws
from jwtkit._codec import b64url_decode, b64url_encode
from jwtkit.errors import (
    AlgorithmNotAllowed,
    InvalidKey,
    InvalidSignature,
    JWTError,
    KeyNotFound,
    MalformedToken,
    TokenTooLarge,
    UnsupportedCritical,
    UsageError,
)
from jwtkit.jwk import Key, KeySet, OctKey
from jwtkit.jws import Signer

PAYLOAD = b"It's a dangerous business, going out your door. \xe2\x80\x94 \x00\xff bytes"
SECRET = b"jwtkit-json-test-secret/" + b"0123456789abcdef" * 3

HMAC = OctKey(SECRET, kid="hmac-1")
EC = Key.generate("ES256", kid="ec-1")
RSA = Key.generate("RSA", kid="rsa-1")
OTHER_EC = Key.generate("ES256", kid="ec-1")  # same kid, different key
TRUSTED = KeySet([HMAC, EC.public_key(), RSA.public_key()], allow_mixed=True)
ALGS = ["HS256", "ES256", "RS256"]


def b64(data: bytes) -> str:
    return b64url_encode(data)


def protected_segment(header: Mapping[str, Any]) -> str:
    return b64(json.dumps(dict(header), separators=(",", ":")).encode("utf-8"))


def two_signatures(payload: bytes = PAYLOAD) -> dict[str, Any]:
    """A general JWS: ES256 (kid protected), then HS256 (kid unprotected)."""
    return jws.sign_json(
        payload,
        [Signer(EC, "ES256"), Signer(HMAC, "HS256", unprotected={"kid": HMAC.kid})],
    )


def hs256_entry(header: Mapping[str, Any] | None = None, **members: Any) -> dict[str, Any]:
    """A flattened HS256 JWS of PAYLOAD with the given protected header, then ``members``."""
    return jws.sign_json(
        PAYLOAD, [Signer(HMAC, "HS256", protected=header, **members)], flatten=True
    )


# ---------------------------------------------------------------------------------------------
# round trips and the shape of what sign_json writes


def test_general_form_with_two_signatures_round_trips_through_json_text() -> None:
    document = two_signatures()
    assert list(document) == ["payload", "signatures"]
    assert document["payload"] == b64(PAYLOAD)
    first, second = document["signatures"]
    assert json.loads(b64url_decode(first["protected"])) == {"alg": "ES256", "kid": "ec-1"}
    assert "header" not in first
    assert json.loads(b64url_decode(second["protected"])) == {"alg": "HS256"}
    assert second["header"] == {"kid": "hmac-1"}
    for given_doc in (document, json.dumps(document), json.dumps(document).encode("utf-8")):
        result = jws.verify_json(given_doc, TRUSTED, algorithms=ALGS)
        assert result.payload == PAYLOAD
        assert result.signature_index == 0
        assert result.algorithm == "ES256"
        assert result.header == {"alg": "ES256", "kid": "ec-1"}
        assert result.unprotected is None
        assert result.key is TRUSTED[1]


def test_flattened_form_round_trips() -> None:
    document = jws.sign_json(PAYLOAD, [Signer(RSA, "RS256")], flatten=True)
    assert list(document) == ["payload", "protected", "signature"]
    result = jws.verify_json(document, RSA.public_key(), algorithms=["RS256"])
    assert (result.payload, result.signature_index, result.algorithm) == (PAYLOAD, 0, "RS256")
    assert jws.verify_json_all(json.dumps(document), RSA.public_key(), ["RS256"])[0].key == (
        RSA.public_key()
    )


def test_every_signature_is_reported_by_verify_json_all() -> None:
    document = jws.sign_json(
        PAYLOAD,
        [Signer(EC, "ES256"), Signer(HMAC, "HS256"), Signer(RSA, "PS256")],
    )
    results = jws.verify_json_all(document, TRUSTED, algorithms=[*ALGS, "PS256"])
    assert [(r.signature_index, r.algorithm) for r in results] == [
        (0, "ES256"),
        (1, "HS256"),
        (2, "PS256"),
    ]
    assert [r.key for r in results] == [TRUSTED[1], TRUSTED[0], TRUSTED[2]]
    assert all(r.payload == PAYLOAD for r in results)


def test_detached_payload_in_both_forms() -> None:
    for flatten in (False, True):
        document = jws.sign_json(PAYLOAD, [Signer(HMAC, "HS256")], detached=True, flatten=flatten)
        assert "payload" not in document
        result = jws.verify_json(document, HMAC, ["HS256"], detached_payload=PAYLOAD)
        assert result.payload == PAYLOAD
        with pytest.raises(InvalidSignature):
            jws.verify_json(document, HMAC, ["HS256"], detached_payload=PAYLOAD + b"!")
        with pytest.raises(MalformedToken, match="detached"):
            jws.verify_json(document, HMAC, ["HS256"])


def test_unencoded_payload_stands_as_text_in_the_payload_member() -> None:
    text = "$.02 and spaces, dots. \u2019"
    document = jws.sign_json(
        text.encode("utf-8"), [Signer(HMAC, "HS256", protected={"b64": False})], flatten=True
    )
    assert document["payload"] == text
    header = json.loads(b64url_decode(document["protected"]))
    assert header == {"alg": "HS256", "b64": False, "crit": ["b64"], "kid": "hmac-1"}
    result = jws.verify_json(document, HMAC, ["HS256"])
    assert result.payload == text.encode("utf-8")
    assert result.header["b64"] is False
    tampered = dict(document, payload=text + " ")
    with pytest.raises(InvalidSignature):
        jws.verify_json(tampered, HMAC, ["HS256"])


def test_unencoded_detached_payload_may_be_any_bytes() -> None:
    raw = b"\xff\xfe not UTF-8"
    document = jws.sign_json(raw, [Signer(HMAC, "HS256", protected={"b64": False})], detached=True)
    assert "payload" not in document
    assert jws.verify_json(document, HMAC, ["HS256"], detached_payload=raw).payload == raw


def test_signers_may_share_b64_false_and_crit_is_kept_with_caller_extensions() -> None:
    document = jws.sign_json(
        b"text",
        [
            Signer(HMAC, "HS256", protected={"b64": False, "crit": ["x-ext"], "x-ext": 1}),
            Signer(EC, "ES256", protected={"b64": False}),
        ],
    )
    first = json.loads(b64url_decode(document["signatures"][0]["protected"]))
    assert first["crit"] == ["x-ext", "b64"]
    with pytest.raises(UnsupportedCritical):
        jws.verify_json_all(document, TRUSTED, ALGS)
    results = jws.verify_json_all(document, TRUSTED, ALGS, crit=["x-ext"])
    assert [r.payload for r in results] == [b"text", b"text"]


def test_alg_and_kid_in_the_unprotected_header_leave_no_protected_header() -> None:
    """RFC 7520 §4.7 style: nothing is protected but the payload."""
    document = hs256_entry(unprotected={"alg": "HS256", "kid": "hmac-1"})
    assert "protected" not in document
    assert document["header"] == {"alg": "HS256", "kid": "hmac-1"}
    result = jws.verify_json(document, HMAC, ["HS256"])
    assert result.header == {}
    assert result.unprotected == {"alg": "HS256", "kid": "hmac-1"}
    signing_input = b"." + b64(PAYLOAD).encode("ascii")
    algorithm = jwa.DEFAULT_REGISTRY.signature("HS256")
    assert algorithm is not None
    assert b64(algorithm.signer(HMAC)(signing_input)) == document["signature"]


def test_sign_json_uses_the_keys_own_alg_and_kid() -> None:
    key = OctKey(SECRET, kid="k", alg="HS384")
    document = jws.sign_json(b"x", [Signer(key)], flatten=True)
    assert json.loads(b64url_decode(document["protected"])) == {"alg": "HS384", "kid": "k"}
    override = jws.sign_json(b"x", [Signer(key, protected={"kid": "other"})], flatten=True)
    assert json.loads(b64url_decode(override["protected"]))["kid"] == "other"


def test_sign_json_never_mutates_its_inputs_and_copies_unprotected_headers() -> None:
    protected: dict[str, Any] = {"typ": "JOSE", "b64": False}
    unprotected: dict[str, Any] = {"x-list": [1, 2]}
    before = copy.deepcopy((protected, unprotected))
    document = jws.sign_json(
        b"x", [Signer(HMAC, "HS256", protected=protected, unprotected=unprotected)]
    )
    assert (protected, unprotected) == before
    document["signatures"][0]["header"]["x-list"].append(3)
    assert unprotected == {"x-list": [1, 2]}


def test_unsecured_json_only_with_an_opted_in_registry_and_no_key() -> None:
    with pytest.warns(jwa.InsecureAlgorithmWarning):
        registry = jwa.DEFAULT_REGISTRY.including(jwa.NONE)
    document = jws.sign_json(b"x", [Signer(None, "none")], flatten=True, registry=registry)
    assert document["signature"] == ""
    result = jws.verify_json(document, None, ["none"], registry=registry)
    assert (result.payload, result.key) == (b"x", None)
    with pytest.raises(UsageError, match="no key"):
        jws.verify_json(document, HMAC, ["none"], registry=registry)
    with pytest.raises(InvalidSignature):
        jws.verify_json(dict(document, signature="AAAA"), None, ["none"], registry=registry)
    with pytest.raises(AlgorithmNotAllowed):
        jws.verify_json(document, HMAC, ["HS256"])
    with pytest.raises(UsageError, match="not enabled"):
        jws.verify_json(document, None, ["none"])
    with pytest.raises(UsageError, match="takes no key"):
        jws.sign_json(b"x", [Signer(HMAC, "none")], registry=registry)
    with pytest.raises(UsageError, match="needs a key"):
        jws.sign_json(b"x", [Signer(None, "HS256")])


# ---------------------------------------------------------------------------------------------
# sign_json: usage errors


@pytest.mark.parametrize(
    ("signers", "kwargs", "match"),
    [
        ([], {}, "empty"),
        ("HS256", {}, "sequence"),
        (Signer(HMAC, "HS256"), {}, "sequence"),
        ([HMAC], {}, "signers\\[0\\]"),
        ([Signer(HMAC, "HS256"), Signer(EC, "ES256")], {"flatten": True}, "exactly one"),
        ([Signer(HMAC, "HS256", protected={"alg": "HS512"})], {}, "does not match"),
        ([Signer(HMAC, "HS256", unprotected={"alg": "HS512"})], {}, "does not match"),
        ([Signer(HMAC, "HS256", protected={"typ": "a"}, unprotected={"typ": "b"})], {}, "disjoint"),
        ([Signer(HMAC, "HS256", unprotected={"crit": ["x"]})], {}, "'crit'"),
        ([Signer(HMAC, "HS256", unprotected={"b64": False})], {}, "'b64'"),
        ([Signer(HMAC, "HS256", protected=["typ"])], {}, "mapping"),  # type: ignore[arg-type]
        ([Signer(HMAC, "HS256", protected={1: "x"})], {}, "strings"),  # type: ignore[dict-item]
        ([Signer(HMAC, "HS256", protected={"kid": 7})], {}, "'kid' must be a string"),
        ([Signer(HMAC, "HS256", protected={"crit": ["x-unset"]})], {}, "absent"),
        ([Signer(HMAC, "HS256", protected={"b64": False, "crit": "b64"})], {}, "crit"),
        ([Signer(HMAC, "HS256", unprotected={"x": {1, 2}})], {}, "JSON"),
        ([Signer(HMAC, "HS256", protected={"x": {1, 2}})], {}, "JSON"),
        (
            [Signer(HMAC, "HS256", protected={"b64": False}), Signer(EC, "ES256")],
            {},
            "agree on 'b64'",
        ),
        ([Signer(HMAC, "HS256", protected={"b64": False})], {}, "UTF-8"),
        ([Signer(HMAC)], {}, "algorithm is required"),
    ],
)
def test_sign_json_rejects_wrong_calls(signers: Any, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(UsageError, match=match):
        jws.sign_json(b"\xff not UTF-8", signers, **kwargs)


def test_sign_json_rejects_a_payload_that_is_not_bytes_and_unknown_algorithms() -> None:
    with pytest.raises(UsageError, match="bytes"):
        jws.sign_json("text", [Signer(HMAC, "HS256")])  # type: ignore[arg-type]
    with pytest.raises(AlgorithmNotAllowed):
        jws.sign_json(b"x", [Signer(HMAC, "HS999")])
    with pytest.raises(InvalidKey):
        jws.sign_json(b"x", [Signer(HMAC, "ES256")])


def test_sign_json_accepts_secret_bytes_and_pem_text_as_keys() -> None:
    document = jws.sign_json(b"x", [Signer(SECRET, "HS256")])
    assert jws.verify_json(document, SECRET, ["HS256"]).payload == b"x"


# ---------------------------------------------------------------------------------------------
# several signatures: which one verifies, which are skipped, what is raised


def _tamper_signature(entry: dict[str, Any]) -> None:
    signature = entry["signature"]
    entry["signature"] = ("A" if signature[0] != "A" else "B") + signature[1:]


def test_a_bad_first_signature_is_passed_over_and_the_second_reported() -> None:
    """Security matrix A8: the result says exactly which signature verified."""
    document = two_signatures()
    _tamper_signature(document["signatures"][0])
    result = jws.verify_json(document, TRUSTED, ALGS)
    assert result.signature_index == 1
    assert result.algorithm == "HS256"
    assert result.header == {"alg": "HS256"}
    assert result.unprotected == {"kid": "hmac-1"}
    assert result.key is HMAC
    with pytest.raises(InvalidSignature):
        jws.verify_json_all(document, TRUSTED, ALGS)


def test_signatures_with_an_algorithm_not_allowed_or_an_unknown_kid_are_skipped() -> None:
    document = two_signatures()
    assert jws.verify_json(document, TRUSTED, ["HS256"]).signature_index == 1
    assert jws.verify_json(document, KeySet([HMAC]), ALGS).signature_index == 1
    with pytest.raises(AlgorithmNotAllowed):
        jws.verify_json_all(document, TRUSTED, ["HS256"])
    with pytest.raises(KeyNotFound):
        jws.verify_json_all(document, KeySet([HMAC]), ALGS)


def test_when_none_verifies_the_most_telling_reason_is_raised() -> None:
    document = two_signatures()
    with pytest.raises(AlgorithmNotAllowed):
        jws.verify_json(document, TRUSTED, ["RS256"])
    with pytest.raises(KeyNotFound):
        jws.verify_json(document, KeySet([RSA.public_key()]), ALGS)
    # ES256 has no key (KeyNotFound), HS256 has a key but a bad signature: InvalidSignature.
    _tamper_signature(document["signatures"][1])
    with pytest.raises(InvalidSignature):
        jws.verify_json(document, KeySet([HMAC]), ALGS)
    # A key with the right kid that does not fit the algorithm: InvalidKey, not a skip silently.
    with pytest.raises(InvalidKey):
        jws.verify_json(document, KeySet([OctKey(SECRET, kid="ec-1")]), ["ES256"])


def test_a_wrong_key_with_the_same_kid_does_not_verify() -> None:
    document = two_signatures()
    with pytest.raises(InvalidSignature):
        jws.verify_json(document, OTHER_EC.public_key(), ["ES256"])


def test_an_empty_signature_never_verifies() -> None:
    document = hs256_entry()
    with pytest.raises(InvalidSignature):
        jws.verify_json(dict(document, signature=""), HMAC, ["HS256"])


def test_a_malformed_entry_rejects_the_whole_jws_even_if_another_verifies() -> None:
    document = two_signatures()
    document["signatures"][1]["header"] = {"kid": 42}
    with pytest.raises(MalformedToken, match="'kid'"):
        jws.verify_json(document, TRUSTED, ALGS)
    document = two_signatures()
    document["signatures"].append({"signature": "AAAA"})
    with pytest.raises(MalformedToken, match="signatures\\[2\\]"):
        jws.verify_json(document, TRUSTED, ALGS)


def test_keys_are_chosen_by_the_kid_of_the_joint_header_and_only_from_trusted_keys() -> None:
    """A4: a key embedded in the header is never used; the kid may be unprotected (RFC 7520
    §4.6), and a resolver sees the joint header."""
    attacker = Key.generate("ES256", kid="ec-1")
    document = jws.sign_json(
        PAYLOAD,
        [Signer(attacker, "ES256", unprotected={"jwk": attacker.public_key().to_jwk()})],
        flatten=True,
    )
    with pytest.raises(InvalidSignature):
        jws.verify_json(document, EC.public_key(), ["ES256"])
    seen: list[dict[str, Any]] = []

    def resolver(header: Mapping[str, Any]) -> Key:
        seen.append(dict(header))
        return HMAC

    document = hs256_entry(unprotected={"kid": "hmac-1", "x-note": "n"})
    assert jws.verify_json(document, resolver, ["HS256"]).key is HMAC
    assert seen == [{"alg": "HS256", "kid": "hmac-1", "x-note": "n"}]


def test_algorithms_may_come_from_keys_that_carry_their_own_alg() -> None:
    document = hs256_entry()
    assert jws.verify_json(document, OctKey(SECRET, alg="HS256")).payload == PAYLOAD
    with pytest.raises(UsageError, match="algorithms is required"):
        jws.verify_json(document, HMAC)


def test_max_signatures_bounds_the_work() -> None:
    document = jws.sign_json(PAYLOAD, [Signer(HMAC, "HS256")] * 3)
    assert jws.verify_json(document, HMAC, ["HS256"], max_signatures=3).payload == PAYLOAD
    with pytest.raises(TokenTooLarge):
        jws.verify_json(document, HMAC, ["HS256"], max_signatures=2)


# ---------------------------------------------------------------------------------------------
# parsing: every member of the right type (RFC 7515 §7.2.1), strict JSON


def _general() -> dict[str, Any]:
    return two_signatures()


def _with(**changes: Any) -> dict[str, Any]:
    document = hs256_entry()
    for name, value in changes.items():
        if value is _DROP:
            document.pop(name, None)
        else:
            document[name] = value
    return document


_DROP = object()


def _entry_with(**changes: Any) -> dict[str, Any]:
    document = _general()
    entry = document["signatures"][1]
    for name, value in changes.items():
        if value is _DROP:
            entry.pop(name, None)
        else:
            entry[name] = value
    return document


_HS256 = protected_segment({"alg": "HS256"})

MALFORMED: list[Any] = [
    pytest.param(json.dumps([1]), id="a JSON array"),
    pytest.param("eyJhbGciOiJIUzI1NiJ9.eA.AAAA", id="a compact JWS"),
    pytest.param(b"eyJhbGciOiJIUzI1NiJ9.eA.AAAA", id="a compact JWS as bytes"),
    pytest.param('{"payload": "eA", "payload": "eA", "signature": ""}', id="duplicate names"),
    pytest.param(b'\xef\xbb\xbf{"payload":"eA"}', id="a BOM"),
    pytest.param(b'{"payload":"\xff"}', id="invalid UTF-8"),
    pytest.param('{"payload":"\ud800"}', id="a lone surrogate in text"),
    pytest.param('{"x": NaN}', id="NaN"),
    pytest.param('{"x":' + "[" * 40 + "]" * 40 + "}", id="too deep"),
    pytest.param('{"payload": "eA"', id="truncated"),
    pytest.param(42, id="not a mapping or text"),
    pytest.param({"payload": "eA"}, id="no signature at all"),
    pytest.param(
        {"protected": "eyJhbGciOiJSU0EtT0FFUCJ9", "ciphertext": "AA", "iv": "AA", "tag": "AA"},
        id="a JWE (A6)",
    ),
    pytest.param(_with(signatures=[]), id="flattened and general mixed"),
    pytest.param({"payload": "eA", "signatures": {}}, id="signatures not an array"),
    pytest.param({"payload": "eA", "signatures": []}, id="signatures empty"),
    pytest.param({"payload": "eA", "signatures": ["x"]}, id="an entry not an object"),
    pytest.param(_entry_with(protected=_DROP, header=_DROP), id="neither protected nor header"),
    pytest.param(_entry_with(signature=_DROP), id="no signature member"),
    pytest.param(_entry_with(signature=None), id="signature null"),
    pytest.param(_entry_with(signature="AA+/"), id="signature not base64url"),
    pytest.param(_entry_with(signature=b"AAAA"), id="signature bytes"),
    pytest.param(_entry_with(protected=7), id="protected a number"),
    pytest.param(_entry_with(protected=""), id="protected empty"),
    pytest.param(_entry_with(protected="eyJhbGciOiJIUzI1NiJ9=="), id="protected padded"),
    pytest.param(_entry_with(protected="eyJhbGciOiJIUzI1NiJ9Q"), id="protected non-canonical"),
    pytest.param(_entry_with(protected=b64(b"[1]")), id="protected not an object"),
    pytest.param(_entry_with(protected=b64(b"\xff")), id="protected not UTF-8"),
    pytest.param(
        _entry_with(protected=b64(b'{"alg":"HS256","alg":"none"}')),
        id="duplicate names in the protected header",
    ),
    pytest.param(_entry_with(header=["kid"]), id="header an array"),
    pytest.param(_entry_with(header="kid"), id="header a string"),
    pytest.param(_entry_with(header={1: "x"}), id="header with a non-string name"),
    pytest.param(_entry_with(header={"alg": "HS256"}), id="alg in both headers (A8)"),
    pytest.param(_entry_with(header={"kid": "hmac-1", "crit": ["x"]}), id="crit unprotected"),
    pytest.param(_entry_with(header={"kid": "hmac-1", "b64": True}), id="b64 unprotected (A10)"),
    pytest.param(_entry_with(protected=_DROP, header={"kid": "hmac-1"}), id="alg missing"),
    pytest.param(_entry_with(header={"kid": ["hmac-1"]}), id="kid an array"),
    pytest.param(_with(payload=_DROP, protected=_DROP, header=_DROP), id="only a signature"),
    pytest.param(_with(payload=7), id="payload a number"),
    pytest.param(_with(payload=True), id="payload a boolean"),
    pytest.param(_with(payload="e A"), id="payload not base64url"),
    pytest.param(_with(payload="eB"), id="payload non-canonical"),
    pytest.param(
        {
            "payload": "eA",
            "signatures": [
                {"protected": protected_segment({"alg": "HS256"}), "signature": ""},
                {
                    "protected": protected_segment({"alg": "HS256", "b64": False, "crit": ["b64"]}),
                    "signature": "",
                },
            ],
        },
        id="signatures disagree on b64",
    ),
    pytest.param(
        {
            "payload": "\ud800",
            "protected": protected_segment({"alg": "HS256", "b64": False, "crit": ["b64"]}),
            "signature": "",
        },
        id="unencoded payload with a lone surrogate",
    ),
]


@pytest.mark.parametrize("document", MALFORMED)
def test_malformed_json_serializations_are_rejected(document: Any) -> None:
    with pytest.raises(MalformedToken):
        jws.verify_json(document, TRUSTED, ALGS)
    with pytest.raises(MalformedToken):
        jws.verify_json_all(document, TRUSTED, ALGS)
    if isinstance(document, dict):
        try:
            text = json.dumps(document)
        except TypeError:  # bytes: only a Mapping can carry them
            return
        if json.loads(text) != document:  # a non-string member name: only a Mapping has it
            return
        with pytest.raises(MalformedToken):
            jws.verify_json(text, TRUSTED, ALGS)


def test_a_jwe_and_a_compact_token_are_named_in_the_error() -> None:
    with pytest.raises(MalformedToken, match="JWE"):
        jws.verify_json({"ciphertext": "AA", "iv": "AA", "tag": "AA"}, HMAC, ["HS256"])
    with pytest.raises(MalformedToken, match="compact"):
        jws.verify_json(jws.sign(b"x", HMAC, "HS256"), HMAC, ["HS256"])


def test_too_large_text_is_rejected_before_parsing() -> None:
    text = json.dumps(hs256_entry())
    assert jws.verify_json(text, HMAC, ["HS256"], max_token_size=len(text)).payload == PAYLOAD
    for given_doc in (text, text.encode("utf-8")):
        with pytest.raises(TokenTooLarge):
            jws.verify_json(given_doc, HMAC, ["HS256"], max_token_size=len(text) - 1)


def test_detached_payload_must_be_bytes_and_not_given_twice() -> None:
    document = hs256_entry()
    with pytest.raises(UsageError, match="bytes"):
        jws.verify_json(document, HMAC, ["HS256"], detached_payload="x")  # type: ignore[arg-type]
    with pytest.raises(MalformedToken, match="has one"):
        jws.verify_json(document, HMAC, ["HS256"], detached_payload=PAYLOAD)


def test_unknown_members_are_ignored_as_rfc7515_7_2_1_requires() -> None:
    document = two_signatures()
    document["x-top"] = {"anything": [1, 2]}
    document["signatures"][0]["x-entry"] = None
    assert jws.verify_json(document, TRUSTED, ALGS).payload == PAYLOAD
    assert jws.verify_json(json.dumps(document), TRUSTED, ALGS).payload == PAYLOAD
    flat = hs256_entry()
    flat["x-top"] = "ignored"
    assert jws.verify_json(flat, HMAC, ["HS256"]).payload == PAYLOAD


def test_an_empty_unprotected_header_object_is_tolerated() -> None:
    """RFC 7515 §7.2.1 asks producers to omit an empty "header"; accepting one is harmless."""
    document = dict(hs256_entry(), header={})
    result = jws.verify_json(document, HMAC, ["HS256"])
    assert result.unprotected == {}


def test_a_mapping_that_is_not_a_dict_is_accepted() -> None:
    class Frozen(Mapping[str, Any]):
        def __init__(self, data: dict[str, Any]) -> None:
            self._data = data

        def __getitem__(self, name: str) -> Any:
            return self._data[name]

        def __iter__(self) -> Any:
            return iter(self._data)

        def __len__(self) -> int:
            return len(self._data)

    document = two_signatures()
    wrapped = Frozen(
        {
            "payload": document["payload"],
            "signatures": tuple(Frozen(entry) for entry in document["signatures"]),
        }
    )
    assert jws.verify_json(wrapped, TRUSTED, ALGS).payload == PAYLOAD


def test_verify_json_never_mutates_its_input() -> None:
    document = two_signatures()
    before = copy.deepcopy(document)
    result = jws.verify_json(document, TRUSTED, ["HS256"])
    assert document == before
    assert result.unprotected is not None
    result.unprotected["kid"] = "changed"
    assert document == before


# ---------------------------------------------------------------------------------------------
# security matrix rows A7-A10, as they apply to the JSON serialization


def test_A7_json_text_of_a_jws_is_refused_by_jws_verify_and_jwtkit_decode() -> None:  # noqa: N802
    claims = {"sub": "42", "exp": 4_102_444_800}
    token = jwtkit.encode(claims, HMAC, algorithm="HS256")
    header, payload, signature = token.split(".")
    flattened = {"protected": header, "payload": payload, "signature": signature}
    general = {"payload": payload, "signatures": [{"protected": header, "signature": signature}]}
    assert jws.verify_json(flattened, HMAC, ["HS256"]).payload == b64url_decode(payload)
    for document in (flattened, general):
        text = json.dumps(document)
        for given_doc in (text, text.encode("utf-8")):
            with pytest.raises(MalformedToken):
                jws.verify(given_doc, HMAC, algorithms=["HS256"])
            with pytest.raises(MalformedToken):
                jwtkit.decode(given_doc, HMAC, algorithms=["HS256"])
            with pytest.raises(MalformedToken):
                jwtkit.Verifier(HMAC, algorithms=["HS256"]).decode(given_doc)
        with pytest.raises(JWTError):
            jws.verify(document, HMAC, algorithms=["HS256"])  # type: ignore[arg-type]
        with pytest.raises(JWTError):
            jwtkit.decode(document, HMAC, algorithms=["HS256"])  # type: ignore[arg-type]
    with pytest.raises(MalformedToken):
        jws.verify_json(token, HMAC, ["HS256"])


def test_A7_cve_2022_39227_polyglot_yields_only_the_verified_payload() -> None:  # noqa: N802
    """A compact-looking member name is just an unknown member: the payload returned is the
    one the signature covers, never the forged one spliced into the name."""
    token = jwtkit.encode({"sub": "42"}, HMAC, algorithm="HS256")
    header, payload, signature = token.split(".")
    forged = b64(b'{"sub":"42","admin":true}')
    polyglot = (
        '{"  ' + header + "." + forged + '.":"","protected":"' + header + '","payload":"'
        + payload + '","signature":"' + signature + '"}'
    )  # fmt: skip
    result = jws.verify_json(polyglot, HMAC, ["HS256"])
    assert json.loads(result.payload) == {"sub": "42"}


def test_A8_unprotected_values_never_override_protected_ones() -> None:  # noqa: N802
    document = hs256_entry({"typ": "JWT"})
    for name, value in (("alg", "none"), ("typ", "other"), ("kid", "x")):
        if name == "kid":
            document = hs256_entry({"kid": "hmac-1"})
        forged = dict(document, header={name: value})
        with pytest.raises(MalformedToken, match="disjoint"):
            jws.verify_json(forged, HMAC, ["HS256"])


def test_A8_a_bad_signature_beside_a_good_one_is_visible_to_the_caller() -> None:  # noqa: N802
    document = two_signatures()
    _tamper_signature(document["signatures"][1])
    result = jws.verify_json(document, TRUSTED, ALGS)
    assert (result.signature_index, result.algorithm) == (0, "ES256")
    with pytest.raises(InvalidSignature):
        jws.verify_json_all(document, TRUSTED, ALGS)


def test_A9_crit_only_in_the_protected_header_and_unknown_extensions_rejected() -> None:  # noqa: N802
    document = hs256_entry()
    with pytest.raises(MalformedToken, match="protected header"):
        jws.verify_json(dict(document, header={"crit": ["x"], "x": 1}), HMAC, ["HS256"])
    critical = hs256_entry({"crit": ["x-ext"], "x-ext": 1})
    with pytest.raises(UnsupportedCritical):
        jws.verify_json(critical, HMAC, ["HS256"])
    assert jws.verify_json(critical, HMAC, ["HS256"], crit=["x-ext"]).header["x-ext"] == 1
    # A critical extension whose value stands in the unprotected header is present in the JOSE
    # header (RFC 7515 §4.1.11), so the caller who declared it sees it there.
    unprotected_value = hs256_entry({"crit": ["x-ext"]}, unprotected={"x-ext": 2})
    result = jws.verify_json(unprotected_value, HMAC, ["HS256"], crit=["x-ext"])
    assert result.unprotected == {"x-ext": 2}


def test_A10_b64_only_protected_and_always_critical() -> None:  # noqa: N802
    document = hs256_entry()
    with pytest.raises(MalformedToken, match="protected header"):
        jws.verify_json(dict(document, header={"b64": False}), HMAC, ["HS256"])
    segment = protected_segment({"alg": "HS256", "b64": False})
    algorithm = jwa.DEFAULT_REGISTRY.signature("HS256")
    assert algorithm is not None
    signature = b64(algorithm.signer(HMAC)(segment.encode() + b".text"))
    no_crit = {"payload": "text", "protected": segment, "signature": signature}
    with pytest.raises(UnsupportedCritical):
        jws.verify_json(no_crit, HMAC, ["HS256"])
    with pytest.raises(UnsupportedCritical):
        jws.verify_json(no_crit, HMAC, ["HS256"], crit=["b64"])


# ---------------------------------------------------------------------------------------------
# interoperability with jwcrypto and joserfc, both ways


def _jwcrypto_key(key: Key, private: bool = False) -> Any:
    jwk = key.to_jwk(private=True) if private or key.kty == "oct" else key.public_key().to_jwk()
    return jwcrypto_jwk.JWK(**jwk)


def _joserfc_keys(keys: list[Key], private: bool = False) -> Any:
    jwks = [
        key.to_jwk(private=True) if private or key.kty == "oct" else key.public_key().to_jwk()
        for key in keys
    ]
    return JoserfcKeySet.import_key_set({"keys": jwks})


def test_interop_jwtkit_general_and_flattened_verify_in_jwcrypto() -> None:
    document = jws.sign_json(
        PAYLOAD, [Signer(EC, "ES256"), Signer(RSA, "RS256", unprotected={"typ": "JOSE"})]
    )
    for key in (EC, RSA):
        peer = jwcrypto_jws.JWS()
        peer.deserialize(json.dumps(document))
        peer.verify(_jwcrypto_key(key))
        assert peer.payload == PAYLOAD
    flat = jws.sign_json(PAYLOAD, [Signer(HMAC, "HS256")], flatten=True)
    peer = jwcrypto_jws.JWS()
    peer.deserialize(json.dumps(flat))
    peer.verify(_jwcrypto_key(HMAC))
    assert peer.payload == PAYLOAD


def test_interop_jwcrypto_general_and_flattened_verify_in_jwtkit() -> None:
    peer = jwcrypto_jws.JWS(PAYLOAD)
    peer.add_signature(
        _jwcrypto_key(EC, private=True),
        alg="ES256",
        protected=json.dumps({"alg": "ES256"}),
        header=json.dumps({"kid": "ec-1"}),
    )
    peer.add_signature(
        _jwcrypto_key(RSA, private=True),
        alg="RS256",
        protected=json.dumps({"alg": "RS256", "kid": "rsa-1"}),
    )
    text = peer.serialize()
    assert "signatures" in json.loads(text)
    results = jws.verify_json_all(text, TRUSTED, ALGS)
    assert [(r.signature_index, r.algorithm, r.payload) for r in results] == [
        (0, "ES256", PAYLOAD),
        (1, "RS256", PAYLOAD),
    ]
    assert results[0].unprotected == {"kid": "ec-1"}
    single = jwcrypto_jws.JWS(PAYLOAD)
    single.add_signature(
        _jwcrypto_key(HMAC, private=True), alg="HS256", protected=json.dumps({"alg": "HS256"})
    )
    flat = single.serialize()
    assert "signatures" not in json.loads(flat)
    assert jws.verify_json(flat, HMAC, ["HS256"]).payload == PAYLOAD


def test_interop_jwtkit_general_and_flattened_verify_in_joserfc() -> None:
    document = jws.sign_json(
        PAYLOAD,
        [Signer(EC, "ES256"), Signer(RSA, "RS256", unprotected={"kid": RSA.kid})],
    )
    verified = joserfc_jws.deserialize_json(cast(Any, document), _joserfc_keys([EC, RSA]))
    assert verified.payload == PAYLOAD
    flat = jws.sign_json(PAYLOAD, [Signer(EC, "ES256")], flatten=True)
    assert joserfc_jws.deserialize_json(cast(Any, flat), _joserfc_keys([EC])).payload == PAYLOAD


def test_interop_joserfc_general_and_flattened_verify_in_jwtkit() -> None:
    keys = _joserfc_keys([EC, RSA, HMAC], private=True)
    document = joserfc_jws.serialize_json(
        [
            {"protected": {"alg": "ES256"}, "header": {"kid": "ec-1"}},
            {"protected": {"alg": "RS256", "kid": "rsa-1"}},
            {"protected": {"alg": "HS256", "kid": "hmac-1"}},
        ],
        PAYLOAD,
        keys,
    )
    results = jws.verify_json_all(document, TRUSTED, ALGS)
    assert [(r.signature_index, r.algorithm) for r in results] == [
        (0, "ES256"),
        (1, "RS256"),
        (2, "HS256"),
    ]
    assert {r.payload for r in results} == {PAYLOAD}
    flat = joserfc_jws.serialize_json({"protected": {"alg": "ES256"}}, PAYLOAD, keys)
    assert "signatures" not in flat
    result = jws.verify_json(json.dumps(flat), TRUSTED, ALGS)
    assert (result.payload, result.algorithm) == (PAYLOAD, "ES256")


# ---------------------------------------------------------------------------------------------
# hypothesis: random mutations of a valid general JWS give a jwtkit error or an honest result

MUTATION_KEYS = KeySet([HMAC, EC.public_key()], allow_mixed=True)
MUTATION_ALGS = ["HS256", "ES256"]
ORIGINAL = jws.sign_json(
    PAYLOAD,
    [
        Signer(HMAC, "HS256", protected={"typ": "JOSE"}, unprotected={"x-a": [1]}),
        Signer(EC, "ES256", unprotected={"kid": "ec-1"}),
    ],
)
# What was genuinely signed: (protected segment, signature) -> protected header.
GENUINE = {
    (entry.get("protected", ""), entry["signature"]): json.loads(b64url_decode(entry["protected"]))
    for entry in ORIGINAL["signatures"]
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
SEGMENT_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/. {}\"'\u00e9"


def _paths(document: Any) -> list[tuple[Any, Any]]:
    """(container, key) pairs for every member a mutation may touch."""
    found: list[tuple[Any, Any]] = []
    if isinstance(document, dict):
        found.extend((document, name) for name in document)
        signatures = document.get("signatures")
        if isinstance(signatures, list):
            found.extend((signatures, i) for i in range(len(signatures)))
            for entry in signatures:
                if isinstance(entry, dict):
                    found.extend((entry, name) for name in entry)
                    header = entry.get("header")
                    if isinstance(header, dict):
                        found.extend((header, name) for name in header)
    return found


def _mutate_string(data: st.DataObject, text: str) -> str:
    position = data.draw(st.integers(0, len(text)))
    char = data.draw(st.sampled_from(SEGMENT_CHARS))
    action = data.draw(st.sampled_from(["insert", "replace", "delete", "truncate"]))
    if action == "insert" or not text:
        return text[:position] + char + text[position:]
    position = min(position, len(text) - 1)
    if action == "replace":
        return text[:position] + char + text[position + 1 :]
    if action == "delete":
        return text[:position] + text[position + 1 :]
    return text[:position]


def _reencode(data: st.DataObject, entry: dict[str, Any]) -> None:
    """Re-encode a protected header: duplicate a name, move one out, or change one."""
    try:
        raw = b64url_decode(entry["protected"]).decode("utf-8")
        header = json.loads(raw)
    except (JWTError, ValueError):  # already mutated beyond re-encoding
        return
    if not isinstance(header, dict) or not header:
        return
    name = data.draw(st.sampled_from(sorted(header)))
    action = data.draw(st.sampled_from(["duplicate", "move", "change", "b64", "crit"]))
    if action == "duplicate":
        value = json.dumps(data.draw(json_values))
        entry["protected"] = b64((raw[:-1] + f',"{name}":{value}' + "}").encode("utf-8"))
    elif action == "move":
        entry.setdefault("header", {})
        if isinstance(entry["header"], dict):
            entry["header"][name] = header.pop(name)
        entry["protected"] = protected_segment(header)
    elif action == "change":
        header[name] = data.draw(st.sampled_from(["none", "HS256", "ES256", "RS256", 1, None]))
        entry["protected"] = protected_segment(header)
    elif action == "b64":
        entry["protected"] = protected_segment({**header, "b64": False, "crit": ["b64"]})
    else:
        entry["protected"] = protected_segment({**header, "crit": [name]})


def _mutate(data: st.DataObject, document: dict[str, Any]) -> Any:
    action = data.draw(
        st.sampled_from(
            ["drop", "replace", "string", "protected", "overlap", "append", "text", "swap"]
        )
    )
    paths = _paths(document)
    if action in {"drop", "replace", "string"} and paths:
        container, name = data.draw(st.sampled_from(paths))
        if action == "drop":
            del container[name]
        elif action == "replace" or not isinstance(container[name], str):
            container[name] = data.draw(json_values)
        else:
            container[name] = _mutate_string(data, container[name])
        return document
    signatures = document.get("signatures")
    if not isinstance(signatures, list):
        signatures = []
    entries = [e for e in signatures if isinstance(e, dict)]
    if action == "protected" and any(isinstance(e.get("protected"), str) for e in entries):
        entry = data.draw(
            st.sampled_from([e for e in entries if isinstance(e.get("protected"), str)])
        )
        _reencode(data, entry)
    elif action == "overlap" and entries:
        entry = data.draw(st.sampled_from(entries))
        header = entry.get("header")
        entry["header"] = {**(header if isinstance(header, dict) else {}), "alg": "HS256"}
    elif action == "append" and isinstance(document.get("signatures"), list):
        document["signatures"].append(
            data.draw(st.sampled_from([copy.deepcopy(e) for e in entries] or [{}]) | json_values)
        )
    elif action == "swap" and len(entries) == 2:
        member = data.draw(st.sampled_from(["protected", "header", "signature"]))
        first, second = entries
        first[member], second[member] = second.get(member), first.get(member)
    elif action == "text":
        text = json.dumps(document)
        choice = data.draw(st.sampled_from(["edit", "duplicate", "bom", "nul"]))
        if choice == "edit":
            return _mutate_string(data, text)
        if choice == "duplicate":
            return '{"payload":"' + b64(b"forged") + '",' + text[1:]
        if choice == "bom":
            return "\ufeff" + text
        return text[:-1] + ',"x":"\\u0000"}'
    return document


def _assert_honest(mutated: Any, result: jws.VerifiedJWS) -> None:
    """A successful verification must be of genuinely signed bytes."""
    document = json.loads(mutated) if isinstance(mutated, str) else mutated
    assert result.payload == PAYLOAD
    entries = document.get("signatures", [document])
    assert result.signature_index is not None
    entry = entries[result.signature_index]
    pair = (entry.get("protected", ""), entry["signature"])
    assert pair in GENUINE
    assert result.header == GENUINE[pair]


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_mutations_of_a_general_jws_give_a_jwtkit_error_or_an_honest_result(
    data: st.DataObject,
) -> None:
    mutated: Any = copy.deepcopy(ORIGINAL)
    for _ in range(data.draw(st.integers(1, 3))):
        if not isinstance(mutated, dict):
            break
        mutated = _mutate(data, mutated)
    for verify in (jws.verify_json, jws.verify_json_all):
        try:
            outcome = verify(mutated, MUTATION_KEYS, MUTATION_ALGS)
        except JWTError:
            continue
        results = outcome if isinstance(outcome, tuple) else (outcome,)
        for result in results:
            _assert_honest(mutated, result)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=64), st.booleans(), st.booleans())
def test_sign_json_then_verify_json_returns_any_payload(
    payload: bytes, flatten: bool, detached: bool
) -> None:
    document = jws.sign_json(payload, [Signer(HMAC, "HS256")], flatten=flatten, detached=detached)
    kwargs: dict[str, Any] = {"detached_payload": payload} if detached else {}
    assert jws.verify_json(json.dumps(document), HMAC, ["HS256"], **kwargs).payload == payload


def test_base64_helper_matches_the_codec() -> None:
    assert b64(b"\xff\xfe") == base64.urlsafe_b64encode(b"\xff\xfe").rstrip(b"=").decode()
