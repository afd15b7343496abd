"""RFC 9901's own examples (tests/vectors/sd-jwt/rfc9901.json): every Disclosure re-encoded
byte for byte from its salt, name and value; every SD-JWT and presentation verified with the
example Issuer key (Appendix A.5) and processed into the RFC's payload."""

from __future__ import annotations

from typing import Any

import pytest

from jwtkit import Key, decode_unverified
from jwtkit._sd.disclosures import hasher
from jwtkit.sd_jwt import SDJWT, Disclosure, SDJWTVerifier
from vectors import load_sd_jwt

DOCUMENT = load_sd_jwt()
EXAMPLES = {example["section"]: example for example in DOCUMENT["examples"]}
ISSUER_KEY = Key.from_jwk(DOCUMENT["issuer_public_key"])


def _all_disclosures() -> list[tuple[str, dict[str, Any]]]:
    return [(e["section"], d) for e in DOCUMENT["examples"] for d in e["disclosures"]]


@pytest.mark.parametrize(("section", "entry"), _all_disclosures())
def test_rfc9901_disclosure_reencodes_exactly(section: str, entry: dict[str, Any]) -> None:
    made = Disclosure.create(entry["salt"], entry.get("name"), entry["value"])
    assert made.encoded == entry["disclosure"], section
    assert hasher("sha-256")(made.encoded) == entry["digest"]
    parsed = Disclosure.parse(entry["disclosure"])
    assert (parsed.salt, parsed.name, parsed.value) == (
        entry["salt"],
        entry.get("name"),
        entry["value"],
    )


@pytest.mark.parametrize("entry", DOCUMENT["disclosure_examples"], ids=lambda e: e["section"])
def test_rfc9901_section_4_2_disclosure_examples(entry: dict[str, Any]) -> None:
    made = Disclosure.create(
        entry["salt"], entry.get("name"), entry["value"], ensure_ascii=entry["ensure_ascii"]
    )
    assert made.encoded == entry["disclosure"]
    assert hasher("sha-256")(made.encoded) == entry["digest"]


def test_rfc9901_section_4_2_1_equivalent_encodings_parse_to_the_same_value() -> None:
    equivalent = DOCUMENT["equivalent_encodings"]
    digests = set()
    for encoded in equivalent["disclosures"]:
        parsed = Disclosure.parse(encoded)
        assert (parsed.name, parsed.value) == ("family_name", equivalent["value"])
        digests.add(hasher("sha-256")(encoded))
    assert len(digests) == len(equivalent["disclosures"])  # each encoding its own digest


def _verifier(example: dict[str, Any], **kwargs: Any) -> SDJWTVerifier:
    header = decode_unverified(example["presentation"].split("~")[0]).header
    return SDJWTVerifier(ISSUER_KEY, algorithms=["ES256"], typ=header["typ"], **kwargs)


@pytest.mark.parametrize("section", sorted(EXAMPLES))
def test_rfc9901_presentation_gives_the_processed_payload(section: str) -> None:
    example = EXAMPLES[section]
    presentation = example["presentation"]
    kb_jwt = presentation.rsplit("~", 1)[1]
    if kb_jwt:
        kb = example.get("kb_jwt_payload") or decode_unverified(kb_jwt).claims
        verifier = _verifier(example, require_key_binding=True, key_binding_audience=kb["aud"])
        verified = verifier.verify(presentation, nonce=kb["nonce"], now=kb["iat"])
        assert verified.key_binding == kb
    else:
        verified = _verifier(example).verify(presentation, now=1700000000)
    assert verified.claims == example["processed_payload"]


@pytest.mark.parametrize("section", sorted(s for s in EXAMPLES if "issued" in EXAMPLES[s]))
def test_rfc9901_issued_sd_jwt_parses_for_the_holder(section: str) -> None:
    example = EXAMPLES[section]
    held = SDJWT.parse(example["issued"], ISSUER_KEY, algorithms=["ES256"])
    assert held.payload == example["sd_jwt_payload"]
    assert {d.encoded for d in held.disclosures} == {
        d["disclosure"] for d in example["disclosures"]
    }


def test_rfc9901_section_5_issuance_is_the_signed_jwt_and_its_disclosures() -> None:
    example = EXAMPLES["5"]
    expected = (
        example["issuer_signed_jwt"]
        + "~"
        + "".join(d["disclosure"] + "~" for d in example["disclosures"])
    )
    assert example["issued"] == expected
    held = SDJWT.parse(example["issued"], ISSUER_KEY, algorithms=["ES256"])
    assert held.claims == {**example["input_claims"], **_visible(example["sd_jwt_payload"])}


def test_rfc9901_section_5_holder_reproduces_the_presented_disclosures() -> None:
    example = EXAMPLES["5"]
    held = SDJWT.parse(example["issued"])
    chosen = held.select(["/given_name", "/family_name", "/address", "/nationalities/0"])
    presented = example["presentation"].split("~")[1:-1]
    assert sorted(d.encoded for d in chosen) == sorted(presented)


def test_rfc9901_appendix_a_1_decoys_match_no_disclosure() -> None:
    example = EXAMPLES["A.1"]
    known = {d["digest"] for d in example["disclosures"]}
    payload = example["sd_jwt_payload"]
    digests = set(payload["_sd"]) | set(payload["address"]["_sd"])
    assert len(digests - known) == 6  # the six decoys the RFC lists


def _visible(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in ("_sd", "_sd_alg", "nationalities")}
