"""Replays the JWS JSON-serialization vectors of ``tests/vectors`` (RFC 7515 §7.2, RFC 7797).

* ``rfc/*.json``: every ``kind: "jws"`` case with a ``json`` member: RFC 7515 A.6 (general, two
  signatures), A.7 (flattened) and RFC 7797 4.2-json (``b64: false`` in flattened JSON). They
  verify; the deterministic signatures are made again, byte for byte, over the exact protected
  header bytes; and ``jws.sign_json`` reproduces them where the header bytes are canonical.
* ``rfc7520/`` (JOSE Cookbook): ``output.json`` and ``output.json_flat`` of every JWS file,
  §4.1-4.8, the Ed25519 example and the two RFC 7797 files, with the quirks of
  ``rfc7520/README.md``: 4.8 needs key selection by ``kid`` *and* key type (quirk 8),
  ``rfc7797/4.2...`` is signed without ``crit`` and must be rejected (quirk 1), and only the
  ``output`` of ``rfc7797/hmac...`` is used (quirk 2).

``test_vectors_jws_jwt.py`` checks that the JSON cases it does not replay are exactly the ones
listed here, so that no vector is dropped silently. A missing vectors folder fails, never skips.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from jwtkit import jws
from jwtkit._codec import b64url_decode, b64url_encode, json_dumps
from jwtkit.errors import JWTError, UnsupportedCritical
from jwtkit.jwa import DEFAULT_REGISTRY
from jwtkit.jwk import Key, KeySet
from jwtkit.jws import Signer
from vectors import VECTORS_DIR, load_cookbook, load_rfc_cases

Case = dict[str, Any]

#: The ``rfc/*.json`` JWS cases replayed here: those with a JSON serialization.
RFC_JSON_CASES = {("rfc7515", "A.6"), ("rfc7515", "A.7"), ("rfc7797", "4.2-json")}

#: Cookbook JWS files whose JSON outputs are replayed here, mapped to the indexes of their
#: signatures that are deterministic (rfc7520/README.md, "Reproducibility"; quirk 11: the
#: files' own flags are incomplete).
COOKBOOK_JSON: dict[str, tuple[int, ...]] = {
    "jws/4_1.rsa_v15_signature.json": (0,),
    "jws/4_2.rsa-pss_signature.json": (),
    "jws/4_3.ecdsa_signature.json": (),
    "jws/4_4.hmac-sha2_integrity_protection.json": (0,),
    "jws/4_5.signature_with_detached_content.json": (0,),
    "jws/4_6.protecting_specific_header_fields.json": (0,),
    "jws/4_7.protecting_content_only.json": (0,),
    "jws/4_8.multiple_signatures.json": (0, 2),  # RS256 and HS256; ES512 is randomized
    "rfc7797/hmac-sha2_b64_false.json": (0,),
    "curve25519/jws.json": (0,),  # Ed25519 (RFC 8037 A.4): EdDSA is deterministic
}
#: Quirk 1: signed with ``b64: false`` but without ``crit`` (RFC 7797 §6): must be rejected.
COOKBOOK_B64_WITHOUT_CRIT = "rfc7797/4.2.hmac-sha2_b64_false.json"
#: Every cookbook file this module replays.
COOKBOOK_JSON_FILES = frozenset(COOKBOOK_JSON) | {COOKBOOK_B64_WITHOUT_CRIT}

FORMS = ("json", "json_flat")


def _rfc_case(stem: str, ident: str) -> Case:
    for case in load_rfc_cases(stem):
        if case["id"] == ident:
            return case
    pytest.fail(f"vector {stem} {ident} not found under {VECTORS_DIR}")


def _keys(jwks: Any) -> list[Key]:
    return [Key.from_jwk(jwk) for jwk in (jwks if isinstance(jwks, list) else [jwks])]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _entries(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The signature objects of a general or flattened JWS."""
    if "signatures" in document:
        entries: list[dict[str, Any]] = document["signatures"]
        return entries
    return [document]


def _signing_input(protected_segment: str, payload: bytes, encoded: bool = True) -> bytes:
    signed = b64url_encode(payload).encode("ascii") if encoded else payload
    return protected_segment.encode("ascii") + b"." + signed


def _sign_raw(alg: str, key: Key, signing_input: bytes) -> str:
    algorithm = DEFAULT_REGISTRY.signature(alg)
    assert algorithm is not None
    return b64url_encode(algorithm.signer(key)(signing_input))


# ---------------------------------------------------------------------------------------------
# nothing is dropped


def test_every_rfc_jws_json_case_is_replayed_here() -> None:
    found = {
        (stem, case["id"])
        for stem in ("rfc7515", "rfc7797", "rfc7519", "rfc8037")
        for case in load_rfc_cases(stem)
        if case["kind"] == "jws" and "json" in case
    }
    assert found == RFC_JSON_CASES


def test_every_cookbook_jws_file_with_a_json_output_is_replayed_here() -> None:
    folder = VECTORS_DIR / "rfc7520"
    if not folder.is_dir():
        pytest.fail(f"test vectors missing: {folder}")
    with_json = set()
    for pattern in ("jws/*.json", "rfc7797/*.json", "curve25519/jws.json"):
        for path in folder.glob(pattern):
            relpath = path.relative_to(folder).as_posix()
            if set(FORMS) & set(load_cookbook(relpath)["output"]):
                with_json.add(relpath)
    assert with_json == COOKBOOK_JSON_FILES


# ---------------------------------------------------------------------------------------------
# rfc/*.json


def test_rfc7515_A6_general_two_signatures_each_verifies_with_its_key() -> None:  # noqa: N802
    case = _rfc_case("rfc7515", "A.6")
    keys = _keys(case["keys"])
    payload = case["payload"].encode("utf-8")
    document = case["json"]
    everything = KeySet(keys)
    results = jws.verify_json_all(document, everything, algorithms=["RS256", "ES256"])
    assert len(results) == case["expected"]["signature_count"] == 2
    for index, (result, key, alg) in enumerate(zip(results, keys, ["RS256", "ES256"], strict=True)):
        assert result.signature_index == index
        assert result.payload == payload
        assert result.algorithm == alg
        assert result.key is key
        assert result.header == {"alg": alg}
        assert result.unprotected == {"kid": key.kid}
    # Any one signature is enough for verify_json; it reports which one verified.
    first = jws.verify_json(json.dumps(document), everything, algorithms=["RS256", "ES256"])
    assert (first.signature_index, first.key) == (0, keys[0])
    for index, (key, alg) in enumerate(zip(keys, ["RS256", "ES256"], strict=True)):
        alone = jws.verify_json(document, key.public_key(), algorithms=[alg])
        assert alone.signature_index == index
        assert alone.payload == payload
        by_alg = jws.verify_json(document, everything, algorithms=[alg])
        assert by_alg.signature_index == index


def test_rfc7515_A6_rs256_signature_is_reproduced_byte_for_byte() -> None:  # noqa: N802
    """RS256 (PKCS#1 v1.5) is deterministic, so A.6's first signature can be made again."""
    case = _rfc_case("rfc7515", "A.6")
    rsa = _keys(case["keys"])[0]
    payload = case["payload"].encode("utf-8")
    entry = case["json"]["signatures"][0]
    assert b64url_decode(entry["protected"]) == b'{"alg":"RS256"}'
    signing_input = _signing_input(entry["protected"], payload)
    assert _sign_raw("RS256", rsa, signing_input) == entry["signature"]
    ec = _keys(case["keys"])[1]
    made = jws.sign_json(
        payload,
        [
            Signer(rsa, "RS256", unprotected={"kid": rsa.kid}),
            Signer(ec, "ES256", unprotected={"kid": ec.kid}),
        ],
    )
    assert made["payload"] == case["json"]["payload"]
    assert made["signatures"][0] == entry
    assert made["signatures"][1]["protected"] == case["json"]["signatures"][1]["protected"]
    assert made["signatures"][1]["header"] == case["json"]["signatures"][1]["header"]
    both = jws.verify_json_all(made, KeySet([rsa, ec]), algorithms=["RS256", "ES256"])
    assert [r.signature_index for r in both] == [0, 1]


def test_rfc7515_A7_flattened_verifies_and_sign_json_flattens_alike() -> None:  # noqa: N802
    case = _rfc_case("rfc7515", "A.7")
    key = Key.from_jwk(case["key"])
    payload = case["payload"].encode("utf-8")
    document = case["json"]
    assert "signatures" not in document
    assert b64url_decode(document["protected"]) == case["protected_header"].encode("utf-8")
    for given in (document, json.dumps(document), json.dumps(document).encode("utf-8")):
        result = jws.verify_json(given, key.public_key(), algorithms=[case["alg"]])
        assert result.payload == payload
        assert result.signature_index == 0
        assert result.header == json.loads(case["protected_header"])
        assert result.unprotected == document["header"]
    made = jws.sign_json(
        payload, [Signer(key, "ES256", unprotected={"kid": key.kid})], flatten=True
    )
    assert set(made) == set(document)
    assert {name: made[name] for name in ("payload", "protected", "header")} == {
        name: document[name] for name in ("payload", "protected", "header")
    }
    assert jws.verify_json(made, key.public_key(), algorithms=["ES256"]).payload == payload


def test_rfc7797_4_2_json_unencoded_payload_verifies_and_reproduces() -> None:
    case = _rfc_case("rfc7797", "4.2-json")
    key = Key.from_jwk(case["key"])
    payload = case["payload"].encode("utf-8")
    document = case["json"]
    assert document["payload"] == "$.02"  # raw text, a '.' included (RFC 7797 §5.3)
    result = jws.verify_json(document, key, algorithms=["HS256"])
    assert result.payload == payload
    assert result.header == {"alg": "HS256", "b64": False, "crit": ["b64"]}
    assert result.unprotected is None
    # Regenerated from the exact protected header bytes of the vector.
    segment = b64url_encode(case["protected_header"].encode("utf-8"))
    signing_input = _signing_input(segment, payload, encoded=False)
    assert signing_input == case["expected"]["signing_input"].encode("utf-8")
    assert _sign_raw("HS256", key, signing_input) == document["signature"]
    # Those bytes are canonical, so sign_json writes exactly the vector.
    assert json_dumps(json.loads(case["protected_header"])) == case["protected_header"].encode()
    made = jws.sign_json(payload, [Signer(key, "HS256", protected={"b64": False})], flatten=True)
    assert made == document
    # Detached, the same signature verifies against the supplied payload.
    detached = {name: value for name, value in document.items() if name != "payload"}
    assert jws.verify_json(detached, key, ["HS256"], detached_payload=payload).payload == payload
    with pytest.raises(JWTError):
        jws.verify_json(detached, key, ["HS256"], detached_payload=b"$.03")


# ---------------------------------------------------------------------------------------------
# rfc7520 (JOSE Cookbook)


def _cookbook_params() -> list[Any]:
    return [
        pytest.param(relpath, form, id=f"{relpath}-{form}")
        for relpath in sorted(COOKBOOK_JSON)
        for form in FORMS
        if relpath != "jws/4_8.multiple_signatures.json" or form == "json"  # 4.8: general only
    ]


def _signing_blocks(vector: dict[str, Any]) -> list[dict[str, Any]]:
    return _list(vector["signing"])


@pytest.mark.parametrize(("relpath", "form"), _cookbook_params())
def test_cookbook_json_verifies_every_signature_and_gives_the_payload(
    relpath: str, form: str
) -> None:
    vector = load_cookbook(relpath)
    document = vector["output"][form]
    keys = _keys(vector["input"]["key"])
    algs = _list(vector["input"]["alg"])
    payload = vector["input"]["payload"].encode("utf-8")
    kwargs: dict[str, Any] = {}
    if "payload" not in document:
        assert relpath.startswith("jws/4_5")  # detached content (RFC 7515 Appendix F)
        kwargs["detached_payload"] = payload
    entries = _entries(document)
    assert len(entries) == len(algs) == len(keys)
    public = KeySet(
        [key if key.kty == "oct" else key.public_key() for key in keys], allow_mixed=True
    )
    for trusted in (KeySet(keys), public):
        results = jws.verify_json_all(document, trusted, algorithms=algs, **kwargs)
        assert [r.signature_index for r in results] == list(range(len(entries)))
        for result, entry, alg, key in zip(results, entries, algs, trusted, strict=True):
            assert result.payload == payload
            assert result.algorithm == alg
            assert result.key is key
            expected_protected = (
                json.loads(b64url_decode(entry["protected"])) if "protected" in entry else {}
            )
            assert result.header == expected_protected
            assert result.unprotected == entry.get("header")
        text = json.dumps(document)
        assert jws.verify_json(text, trusted, algorithms=algs, **kwargs).signature_index == 0
    if relpath.startswith("rfc7797/"):  # quirk 2: trust the outputs only
        assert results[0].header == {"alg": "HS256", "b64": False, "crit": ["b64"]}
    else:
        for result, signing in zip(results, _signing_blocks(vector), strict=True):
            assert result.header == signing.get("protected", {})
            assert result.unprotected == signing.get("unprotected")


@pytest.mark.parametrize(("relpath", "form"), _cookbook_params())
def test_cookbook_json_deterministic_signatures_match_byte_for_byte(
    relpath: str, form: str
) -> None:
    vector = load_cookbook(relpath)
    document = vector["output"][form]
    keys = _keys(vector["input"]["key"])
    algs = _list(vector["input"]["alg"])
    payload = vector["input"]["payload"].encode("utf-8")
    entries = _entries(document)
    deterministic = COOKBOOK_JSON[relpath]
    assert deterministic or relpath in {
        "jws/4_2.rsa-pss_signature.json",  # PS384: randomized
        "jws/4_3.ecdsa_signature.json",  # ES512: randomized
    }
    for index in deterministic:
        entry = entries[index]
        segment = entry.get("protected", "")  # 4.7: no protected header, input starts with '.'
        encoded = not relpath.startswith("rfc7797/")
        signing_input = _signing_input(segment, payload, encoded)
        if encoded:
            assert signing_input.decode("ascii") == _signing_blocks(vector)[index]["sig-input"]
        assert _sign_raw(algs[index], keys[index], signing_input) == entry["signature"]


@pytest.mark.parametrize(("relpath", "form"), _cookbook_params())
def test_cookbook_json_sign_json_reproduces_the_document(relpath: str, form: str) -> None:
    """The cookbook writes its headers as jws.sign_json does, so sign_json gives the same
    document: exactly, when every signature is deterministic; else entry by entry."""
    vector = load_cookbook(relpath)
    document = vector["output"][form]
    keys = _keys(vector["input"]["key"])
    algs = _list(vector["input"]["alg"])
    payload = vector["input"]["payload"].encode("utf-8")
    signers = []
    for entry, key, alg in zip(_entries(document), keys, algs, strict=True):
        protected = json.loads(b64url_decode(entry["protected"])) if "protected" in entry else {}
        assert json_dumps(protected) == (
            b64url_decode(entry["protected"]) if "protected" in entry else b"{}"
        )
        extra = {name: value for name, value in protected.items() if name not in {"alg", "crit"}}
        signers.append(Signer(key, alg, protected=extra, unprotected=entry.get("header")))
    made = jws.sign_json(
        payload, signers, flatten=form == "json_flat", detached="payload" not in document
    )
    deterministic = COOKBOOK_JSON[relpath]
    if len(deterministic) == len(signers):
        assert made == document
        assert list(made) == [name for name in document if name in made]  # same member order
    else:
        assert set(made) == set(document)
        made_entries, given_entries = _entries(made), _entries(document)
        for index, (mine, theirs) in enumerate(zip(made_entries, given_entries, strict=True)):
            if index in deterministic:
                assert mine == theirs
            else:
                assert {k: v for k, v in mine.items() if k != "signature"} == {
                    k: v for k, v in theirs.items() if k != "signature"
                }
    kwargs: dict[str, Any] = {} if "payload" in made else {"detached_payload": payload}
    results = jws.verify_json_all(made, KeySet(keys), algorithms=algs, **kwargs)
    assert len(results) == len(signers)


def test_cookbook_4_8_kid_shared_by_rsa_and_ec_keys_selects_by_key_type() -> None:
    """Quirk 8: the RSA and the EC key share the kid 'bilbo.baggins@hobbiton.example'.

    Choosing by kid alone would try the wrong key for one of the signatures; jwtkit chooses by
    kid *and* fitness for the algorithm (kty, crv), so each signature finds its own key."""
    vector = load_cookbook("jws/4_8.multiple_signatures.json")
    document = vector["output"]["json"]
    rsa, ec, hmac = _keys(vector["input"]["key"])
    assert rsa.kid == ec.kid == "bilbo.baggins@hobbiton.example"
    keys = KeySet([ec, rsa, hmac])  # the EC key first: a kid-only lookup would pick it
    for index, (alg, key) in enumerate([("RS256", rsa), ("ES512", ec), ("HS256", hmac)]):
        result = jws.verify_json(document, keys, algorithms=[alg])
        assert result.signature_index == index
        assert result.key is key
    # 4.8's ES512 signature has no protected header: alg and kid are both unprotected.
    es512 = jws.verify_json(document, KeySet([rsa, ec]), algorithms=["ES512"])
    assert es512.header == {}
    assert es512.unprotected == {"alg": "ES512", "kid": "bilbo.baggins@hobbiton.example"}


@pytest.mark.parametrize("form", FORMS)
def test_cookbook_rfc7797_4_2_b64_false_without_crit_is_rejected(form: str) -> None:
    """Quirk 1: the file is signed over a header with ``b64: false`` and no ``crit``.

    RFC 7797 §6 (security matrix A10) requires ``b64`` to be listed in ``crit``: with the
    defaults, and even with the caller declaring ``b64`` understood, it is refused."""
    vector = load_cookbook(COOKBOOK_B64_WITHOUT_CRIT)
    document = vector["output"][form]
    key = Key.from_jwk(vector["input"]["key"])
    for entry in _entries(document):
        assert json.loads(b64url_decode(entry["protected"])) == {"alg": "HS256", "b64": False}
    for given in (document, json.dumps(document)):
        with pytest.raises(UnsupportedCritical):
            jws.verify_json(given, key, algorithms=["HS256"])
        with pytest.raises(UnsupportedCritical):
            jws.verify_json(given, key, algorithms=["HS256"], crit=["b64"])
        with pytest.raises(JWTError):
            jws.verify_json_all(given, key)  # the key's own alg is HS256
