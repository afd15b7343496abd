"""Replays the JWS and JWT test vectors in ``tests/vectors`` as data.

* ``rfc/*.json``: every ``kind: "jws"`` case in compact form and every ``kind: "jwt"`` case that
  is a JWS. Valid cases verify and give their payload or claims; reproducible ones are signed
  again over the exact ``protected_header`` bytes and must match byte for byte; invalid ones
  (RFC 7515 A.5 and E, RFC 7519 6.1) raise a :class:`jwtkit.errors.JWTError` with the defaults.
* ``rfc7520/``: the JOSE Cookbook JWS files with a compact output (RFC 7520 §4.1-4.5, the
  Ed25519 example and the RFC 7797 compact example).

The JSON serializations (RFC 7515 A.6, A.7, RFC 7797 4.2-json and the cookbook's JSON-only
files) are replayed by ``test_jws_json_vectors.py``; JWE-based JWTs belong to a later feature.
Both are listed by name here, so that no case is dropped silently.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import jwtkit
from jws.test_jws_json_vectors import COOKBOOK_JSON_FILES, RFC_JSON_CASES
from jwtkit import jws
from jwtkit._codec import b64url_decode, b64url_encode, json_dumps
from jwtkit._keys.mldsa_support import ML_DSA_MIN_CRYPTOGRAPHY, MLDSA_MODULE
from jwtkit.errors import AlgorithmNotAllowed, ExpiredToken, JWTError
from jwtkit.jwa import DEFAULT_REGISTRY
from jwtkit.jwk import Key
from vectors import VECTORS_DIR, load_cookbook, load_rfc_cases

RFC_DIR = VECTORS_DIR / "rfc"
COOKBOOK_DIR = VECTORS_DIR / "rfc7520"

Case = dict[str, Any]

# JSON-only cases (RFC 7515 §7.2), by file and id: test_jws_json_vectors.py replays them.
JSON_ONLY_JWS = {("rfc7515", "A.6"), ("rfc7515", "A.7"), ("rfc7797", "4.2-json")}
# Encrypted and nested JWTs (RFC 7519 A.1, A.2) belong to the JWE feature.
DEFERRED_JWE_JWT = {("rfc7519", "A.1"), ("rfc7519", "A.2")}

# Cookbook JWS files replayed here (compact output) and whether they are reproducible, from the
# table in rfc7520/README.md (the files' own flags are incomplete, quirk 11).
COOKBOOK_COMPACT = {
    "jws/4_1.rsa_v15_signature.json": True,
    "jws/4_2.rsa-pss_signature.json": False,
    "jws/4_3.ecdsa_signature.json": False,
    "jws/4_4.hmac-sha2_integrity_protection.json": True,
    "jws/4_5.signature_with_detached_content.json": True,
    "curve25519/jws.json": True,
}
# RFC 7797 compact example: its `signing` block is wrong (quirk 2), so only `output` is used.
COOKBOOK_B64_FALSE_COMPACT = "rfc7797/hmac-sha2_b64_false.json"
# JSON-only cookbook JWS files: test_jws_json_vectors.py replays them.
JSON_ONLY_COOKBOOK = {
    "jws/4_6.protecting_specific_header_fields.json",
    "jws/4_7.protecting_content_only.json",
    "jws/4_8.multiple_signatures.json",
    "rfc7797/4.2.hmac-sha2_b64_false.json",
}


# ---------------------------------------------------------------------------------------------
# loading (a missing vectors directory fails loudly, never skips)


def _rfc_cases() -> list[tuple[str, Case]]:
    """Every case of rfc/*.json as ``(file stem, case)``; empty when the folder is missing."""
    if not RFC_DIR.is_dir():
        return []
    found = []
    for path in sorted(RFC_DIR.glob("*.json")):
        for case in load_rfc_cases(path.name):
            found.append((path.stem, case))
    return found


RFC_CASES = _rfc_cases()
#: RFC 9964 cases need a cryptography that signs with ML-DSA; elsewhere they skip, saying why.
_NEEDS_MLDSA = pytest.mark.skipif(
    MLDSA_MODULE is None, reason=f"ML-DSA needs cryptography >= {ML_DSA_MIN_CRYPTOGRAPHY}"
)


def _params(select: Callable[[str, Case], bool]) -> list[Any]:
    chosen = [
        pytest.param(
            case,
            id=f"{stem}-{case['id']}",
            marks=[_NEEDS_MLDSA] if str(case.get("alg", "")).startswith("ML-DSA-") else [],
        )
        for stem, case in RFC_CASES
        if select(stem, case)
    ]
    # No vectors at all (or none of this kind) must fail, not skip: see _require.
    return chosen or [pytest.param(None, id="no-vectors-found")]


def _find(stem: str, ident: str) -> Case | None:
    for file_stem, case in RFC_CASES:
        if file_stem == stem and case["id"] == ident:
            return case
    return None


def _require(case: Case | None) -> Case:
    if case is None:
        pytest.fail(f"no test vectors found under {VECTORS_DIR}: the vectors folder is required")
    return case


def _cookbook(relpath: str) -> Any:
    return load_cookbook(relpath)


def _is_compact_jws(stem: str, case: Case) -> bool:
    return bool(case["kind"] == "jws" and "token" in case)


def _is_jws_jwt(stem: str, case: Case) -> bool:
    return bool(case["kind"] == "jwt" and case["token"].count(".") == 2)


def test_vectors_folder_is_present() -> None:
    if not RFC_DIR.is_dir() or not COOKBOOK_DIR.is_dir():
        pytest.fail(f"test vectors missing: expected {RFC_DIR} and {COOKBOOK_DIR}")
    assert len(RFC_CASES) == 49  # the README's count: a changed folder must be noticed


# ---------------------------------------------------------------------------------------------
# rfc/*.json, kind "jws"


def test_json_only_jws_cases_are_replayed_by_the_json_vector_runner() -> None:
    jws_cases = {(stem, case["id"]): case for stem, case in RFC_CASES if case["kind"] == "jws"}
    assert jws_cases, "no JWS vectors found"
    not_compact = {ident for ident, case in jws_cases.items() if "token" not in case}
    assert not_compact == JSON_ONLY_JWS
    for ident in JSON_ONLY_JWS:
        assert "json" in jws_cases[ident], ident
    assert JSON_ONLY_JWS <= RFC_JSON_CASES  # replayed by test_jws_json_vectors.py
    replayed = {ident for ident, case in jws_cases.items() if _is_compact_jws(ident[0], case)}
    assert replayed | JSON_ONLY_JWS == set(jws_cases)
    assert replayed == {
        ("rfc7515", "A.1"), ("rfc7515", "A.2"), ("rfc7515", "A.3"), ("rfc7515", "A.4"),
        ("rfc7515", "A.5"), ("rfc7515", "E"), ("rfc7797", "4.1"), ("rfc7797", "4.2"),
        ("rfc8037", "A.4"), ("rfc8037", "A.5"), ("rfc9964", "A.1-ML-DSA-44-jws"),
        ("rfc9964", "A.1-ML-DSA-65-jws"), ("rfc9964", "A.1-ML-DSA-87-jws"),
    }  # fmt: skip


def _payload(case: Case) -> bytes:
    if "payload_b64u" in case:  # reserved by the README for binary payloads
        return b64url_decode(case["payload_b64u"])
    return str(case["payload"]).encode("utf-8")


def _verify_kwargs(case: Case) -> dict[str, Any]:
    if case.get("detached_payload"):
        return {"detached_payload": _payload(case)}
    return {}


@pytest.mark.parametrize(
    "case", _params(lambda stem, case: _is_compact_jws(stem, case) and case["expected"]["valid"])
)
def test_rfc_jws_compact_verifies_and_gives_the_payload(case: Case | None) -> None:
    case = _require(case)
    key = Key.from_jwk(case["key"])
    result = jws.verify(case["token"], key, algorithms=[case["alg"]], **_verify_kwargs(case))
    assert result.payload == _payload(case)
    assert result.algorithm == case["alg"]
    assert result.header == json.loads(case["protected_header"])
    assert result.key is key
    if key.is_private and key.kty != "oct":
        public = key.public_key()
        again = jws.verify(case["token"], public, algorithms=[case["alg"]], **_verify_kwargs(case))
        assert again.payload == _payload(case)


@pytest.mark.parametrize(
    "case",
    _params(
        lambda stem, case: (
            _is_compact_jws(stem, case)
            and case["expected"]["valid"]
            and not case.get("detached_payload")
        )
    ),
)
def test_rfc_jws_compact_verifies_from_bytes_and_with_a_key_set(case: Case | None) -> None:
    case = _require(case)
    key = Key.from_jwk(case["key"])
    keys = jwtkit.KeySet([key])
    result = jws.verify(case["token"].encode("ascii"), keys, algorithms=[case["alg"]])
    assert result.payload == _payload(case)


def _signing_input(case: Case) -> bytes:
    header_segment = b64url_encode(case["protected_header"].encode("utf-8"))
    header = json.loads(case["protected_header"])
    payload = _payload(case)
    signed = payload if header.get("b64", True) is False else b64url_encode(payload).encode()
    return header_segment.encode("ascii") + b"." + signed


@pytest.mark.parametrize(
    "case",
    _params(lambda stem, case: _is_compact_jws(stem, case) and case.get("reproducible") is True),
)
def test_rfc_jws_reproducible_signatures_match_byte_for_byte(case: Case | None) -> None:
    case = _require(case)
    key = Key.from_jwk(case["key"])
    signing_input = _signing_input(case)
    if "signing_input" in case["expected"]:
        assert signing_input == case["expected"]["signing_input"].encode("utf-8")
    algorithm = DEFAULT_REGISTRY.signature(case["alg"])
    assert algorithm is not None
    signature = algorithm.signer(key)(signing_input)
    header_segment, _, signed_payload = signing_input.decode("utf-8").partition(".")
    payload_segment = "" if case.get("detached_payload") else signed_payload
    assert f"{header_segment}.{payload_segment}.{b64url_encode(signature)}" == case["token"]


@pytest.mark.parametrize(
    "case",
    _params(lambda stem, case: _is_compact_jws(stem, case) and case.get("reproducible") is True),
)
def test_rfc_jws_sign_reproduces_tokens_whose_header_is_in_canonical_form(
    case: Case | None,
) -> None:
    """Where the RFC's header bytes are exactly what jws.sign writes, jws.sign itself must
    reproduce the token (RFC 7515 A.1 has CRLF in its header, so it is skipped here)."""
    case = _require(case)
    header = json.loads(case["protected_header"])
    if json_dumps(header) != case["protected_header"].encode("utf-8"):
        assert case["id"] == "A.1"  # the only reproducible case with a hand-formatted header
        return
    extra = {name: value for name, value in header.items() if name != "alg"}
    token = jws.sign(
        _payload(case),
        Key.from_jwk(case["key"]),
        algorithm=case["alg"],
        headers=extra or None,
        detached=bool(case.get("detached_payload")),
    )
    assert token == case["token"]


@pytest.mark.parametrize(
    "case",
    _params(lambda stem, case: _is_compact_jws(stem, case) and not case["expected"]["valid"]),
)
def test_rfc_jws_invalid_cases_are_rejected_with_defaults(case: Case | None) -> None:
    case = _require(case)
    assert case["id"] in {"A.5", "E"}
    key = Key.from_jwk(case["key"])
    # As the vector states it (alg "none"), and as an HS256 verifier holding the key would.
    for algorithms in ([case["alg"]], ["HS256"], ["HS256", "RS256", "ES256"]):
        with pytest.raises(JWTError):
            jws.verify(case["token"], key, algorithms=algorithms)
        with pytest.raises(JWTError):
            jws.verify(case["token"].encode("ascii"), [key], algorithms=algorithms)


def test_rfc7515_A5_unsecured_jws_is_not_an_allowed_algorithm() -> None:  # noqa: N802
    case = _require(_find("rfc7515", "A.5"))
    with pytest.raises(AlgorithmNotAllowed):
        jws.verify(case["token"], Key.from_jwk(case["key"]), algorithms=["HS256"])


# ---------------------------------------------------------------------------------------------
# rfc/*.json, kind "jwt"


def test_encrypted_jwt_cases_are_the_only_ones_deferred() -> None:
    jwt_cases = {(stem, case["id"]): case for stem, case in RFC_CASES if case["kind"] == "jwt"}
    assert jwt_cases, "no JWT vectors found"
    jwe = {ident for ident, case in jwt_cases.items() if not _is_jws_jwt(ident[0], case)}
    assert jwe == DEFERRED_JWE_JWT
    for ident in DEFERRED_JWE_JWT:
        assert jwt_cases[ident]["token"].count(".") == 4, ident
        assert "enc" in jwt_cases[ident], ident
    assert set(jwt_cases) - jwe == {("rfc7519", "3.1"), ("rfc7519", "6.1")}


@pytest.mark.parametrize(
    "case", _params(lambda stem, case: _is_jws_jwt(stem, case) and case["expected"]["valid"])
)
def test_rfc_jwt_decodes_at_its_now_to_the_expected_claims(case: Case | None) -> None:
    case = _require(case)
    key = Key.from_jwk(case["key"])
    claims = jwtkit.decode(case["token"], key, algorithms=[case["alg"]], now=case["now"])
    assert claims == case["expected"]["claims"]
    decoded = jwtkit.decode_complete(case["token"], key, algorithms=[case["alg"]], now=case["now"])
    assert decoded.header == json.loads(case["protected_header"])
    assert decoded.claims == case["expected"]["claims"]
    assert decoded.algorithm == case["alg"]
    verifier = jwtkit.Verifier(key, algorithms=[case["alg"]])
    assert verifier.decode(case["token"], now=case["now"]) == case["expected"]["claims"]
    assert verifier.decode(case["token"], now=case["now"]) == case["expected"]["claims"]


@pytest.mark.parametrize(
    "case",
    _params(
        lambda stem, case: (
            _is_jws_jwt(stem, case) and case["expected"].get("expired_at_current_time") is True
        )
    ),
)
def test_rfc_jwt_is_expired_with_the_real_clock(case: Case | None) -> None:
    case = _require(case)
    key = Key.from_jwk(case["key"])
    with pytest.raises(ExpiredToken) as info:
        jwtkit.decode(case["token"], key, algorithms=[case["alg"]])
    assert info.value.claim == "exp"
    assert "2011-03-22T18:43:00Z" in str(info.value)
    with pytest.raises(ExpiredToken):
        jwtkit.Verifier(key, algorithms=[case["alg"]]).decode(case["token"])


@pytest.mark.parametrize(
    "case", _params(lambda stem, case: _is_jws_jwt(stem, case) and not case["expected"]["valid"])
)
def test_rfc_jwt_unsecured_is_rejected(case: Case | None) -> None:
    case = _require(case)
    assert case["alg"] == "none"
    key = Key.from_jwk(case["key"])
    with pytest.raises(JWTError):
        jwtkit.decode(case["token"], key, algorithms=[case["alg"]], now=case["now"])
    with pytest.raises(AlgorithmNotAllowed):
        jwtkit.decode(case["token"], key, algorithms=["HS256"], now=case["now"])
    with pytest.raises(AlgorithmNotAllowed):
        jwtkit.Verifier(key, algorithms=["HS256"]).decode(case["token"], now=case["now"])
    with pytest.raises(JWTError):
        jwtkit.decode_complete(case["token"], key, algorithms=["HS256"], now=case["now"])


# ---------------------------------------------------------------------------------------------
# rfc7520 (JOSE Cookbook)


def test_cookbook_jws_files_are_all_replayed_here_or_by_the_json_vector_runner() -> None:
    if not COOKBOOK_DIR.is_dir():
        pytest.fail(f"test vectors missing: {COOKBOOK_DIR}")
    present = {
        path.relative_to(COOKBOOK_DIR).as_posix()
        for pattern in ("jws/*.json", "rfc7797/*.json", "curve25519/jws.json")
        for path in COOKBOOK_DIR.glob(pattern)
    }
    replayed = set(COOKBOOK_COMPACT) | {COOKBOOK_B64_FALSE_COMPACT}
    assert present == replayed | JSON_ONLY_COOKBOOK
    assert not replayed & JSON_ONLY_COOKBOOK
    assert JSON_ONLY_COOKBOOK <= COOKBOOK_JSON_FILES  # replayed by test_jws_json_vectors.py
    for relpath in JSON_ONLY_COOKBOOK:
        output = _cookbook(relpath)["output"]
        assert "compact" not in output, relpath
        assert "json" in output or "json_flat" in output, relpath
    for relpath in replayed:
        assert "compact" in _cookbook(relpath)["output"], relpath


@pytest.mark.parametrize("relpath", sorted(COOKBOOK_COMPACT))
def test_cookbook_compact_jws_verifies_and_gives_the_payload(relpath: str) -> None:
    vector = _cookbook(relpath)
    key = Key.from_jwk(vector["input"]["key"])
    payload = vector["input"]["payload"].encode("utf-8")
    token = vector["output"]["compact"]
    detached = token.split(".")[1] == ""
    assert detached == relpath.startswith("jws/4_5")
    kwargs: dict[str, Any] = {"detached_payload": payload} if detached else {}
    result = jws.verify(token, key, algorithms=[vector["input"]["alg"]], **kwargs)
    assert result.payload == payload
    assert result.header == vector["signing"]["protected"]
    if key.kty != "oct":
        again = jws.verify(token, key.public_key(), algorithms=[vector["input"]["alg"]], **kwargs)
        assert again.payload == payload


@pytest.mark.parametrize(
    "relpath", sorted(relpath for relpath, again in COOKBOOK_COMPACT.items() if again)
)
def test_cookbook_reproducible_signatures_match_byte_for_byte(relpath: str) -> None:
    vector = _cookbook(relpath)
    assert vector.get("reproducible") is True
    key = Key.from_jwk(vector["input"]["key"])
    payload = vector["input"]["payload"].encode("utf-8")
    signing = vector["signing"]
    signing_input = signing["protected_b64u"] + "." + b64url_encode(payload)
    assert signing_input == signing["sig-input"]
    algorithm = DEFAULT_REGISTRY.signature(vector["input"]["alg"])
    assert algorithm is not None
    signature = b64url_encode(algorithm.signer(key)(signing_input.encode("ascii")))
    assert signature == signing["sig"]
    compact = vector["output"]["compact"]
    assert compact.split(".")[2] == signature
    # jws.sign writes these headers exactly as the cookbook does, so it reproduces them too.
    extra = {name: value for name, value in signing["protected"].items() if name != "alg"}
    detached = compact.split(".")[1] == ""
    regenerated = jws.sign(payload, key, vector["input"]["alg"], headers=extra, detached=detached)
    assert regenerated == compact


def test_cookbook_rfc7797_compact_unencoded_payload_with_spaces_verifies() -> None:
    """RFC 7797 §5.2: an unencoded payload in compact form may hold any printable text
    except '.', spaces included. Only ``output`` is trustworthy in this file (quirk 2)."""
    vector = _cookbook(COOKBOOK_B64_FALSE_COMPACT)
    key = Key.from_jwk(vector["input"]["key"])
    compact = vector["output"]["compact"]
    payload = vector["input"]["payload"]
    assert compact.split(".")[1] == payload == "This is the payload string!"
    result = jws.verify(compact, key, algorithms=["HS256"])
    assert result.payload == payload.encode("utf-8")
    assert result.header == {"alg": "HS256", "b64": False, "crit": ["b64"]}
    assert jws.verify(compact, key).payload == payload.encode("utf-8")  # key alg is HS256
    regenerated = jws.sign(payload.encode("utf-8"), key, "HS256", headers={"b64": False})
    assert regenerated == compact
    with pytest.raises(jwtkit.InvalidSignature):
        jws.verify(compact.replace("payload", "pay1oad"), key, algorithms=["HS256"])
