"""RFC 9901 §9 (Security Considerations), one test or more per relevant subsection, named by
its number; and the privacy consideration on decoys (§10.4)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from jwtkit.errors import (
    AlgorithmNotAllowed,
    ExpiredToken,
    InvalidKeyBinding,
    InvalidSDJWT,
    InvalidSignature,
    InvalidType,
    MalformedToken,
    MissingClaim,
    TokenTooLarge,
    UsageError,
)
from jwtkit.sd_jwt import SDJWT, Disclosure, SDJWTVerifier, issue

from .helpers import (
    AUDIENCE,
    HOLDER,
    ISSUER,
    NONCE,
    NOW,
    OTHER,
    digest,
    disclosure,
    kb_verifier,
    signed,
    verifier,
)  # fmt: skip

CLAIMS: dict[str, Any] = {
    "iss": "https://issuer.example",
    "email": "a@example.com",
    "degree": "BSc",
    "nationalities": ["US", "DE"],
}
ISSUED = issue(
    CLAIMS, ISSUER, disclose=["/email", "/degree", "/nationalities/1"], holder_key=HOLDER
)
HELD = SDJWT.parse(ISSUED)


def _payload_text(sd_jwt: str) -> str:
    segment = sd_jwt.split("~", maxsplit=1)[0].split(".")[1]
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode()


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _present(paths: list[str], **kwargs: Any) -> str:
    arguments = {"holder_key": HOLDER, "audience": AUDIENCE, "nonce": NONCE, "now": NOW, **kwargs}
    return HELD.present(paths, **arguments)


# §9.1 Mandatory Signing of the Issuer-signed JWT


def test_rfc9901_9_1_an_unsigned_issuer_jwt_is_refused() -> None:
    unsigned = _b64({"alg": "none", "typ": "sd-jwt"}) + "." + _b64({"email": "forged"}) + ".~"
    with pytest.raises(AlgorithmNotAllowed):
        verifier().verify(unsigned, now=NOW)
    with pytest.raises(UsageError, match="none"):
        SDJWTVerifier(ISSUER.public_key(), algorithms=["none"])
    with pytest.raises(UsageError, match=r"RFC 9901 §9\.1"):
        issue(CLAIMS, None)  # type: ignore[arg-type]


def test_rfc9901_9_1_a_modified_issuer_payload_fails_its_signature() -> None:
    jwt, rest = ISSUED.split("~", 1)
    header, _payload, signature = jwt.split(".")
    forged = json.loads(_payload_text(ISSUED)) | {"degree_in_clear": "PhD"}
    with pytest.raises(InvalidSignature):
        verifier().verify(f"{header}.{_b64(forged)}.{signature}~{rest}", now=NOW)


# §9.2 Manipulation of Disclosures


def test_rfc9901_9_2_a_modified_disclosure_matches_no_digest() -> None:
    original = dict(HELD.disclosable())["/degree"]
    forged = Disclosure.create(original.salt, "degree", "PhD")
    with pytest.raises(InvalidSDJWT, match="not referenced"):
        verifier().verify(HELD.issuer_jwt + "~" + forged.encoded + "~", now=NOW)


def test_rfc9901_9_2_a_disclosure_cannot_be_renamed_or_moved() -> None:
    original = dict(HELD.disclosable())["/nationalities/1"]
    as_property = Disclosure.create(original.salt, "nationality", original.value)
    with pytest.raises(InvalidSDJWT, match="not referenced"):
        verifier().verify(HELD.issuer_jwt + "~" + as_property.encoded + "~", now=NOW)


# §9.3 Entropy of the Salt


def test_rfc9901_9_3_salts_are_128_random_bits_and_new_for_every_claim() -> None:
    claims = {"a": {"type": "x"}, "b": {"type": "x"}}
    held = SDJWT.parse(issue(claims, ISSUER, disclose=["/a/type", "/b/type"]))
    salts = [d.salt for _, d in held.disclosable()]
    assert len(set(salts)) == 2
    assert all(len(base64.urlsafe_b64decode(s + "==")) == 16 for s in salts)
    again = SDJWT.parse(issue(claims, ISSUER, disclose=["/a/type", "/b/type"]))
    assert not set(salts) & {d.salt for _, d in again.disclosable()}


# §9.4 Choice of a Hash Algorithm


def test_rfc9901_9_4_truncated_hashes_are_refused_and_the_verifier_chooses() -> None:
    with pytest.raises(UsageError, match="not supported"):
        issue(CLAIMS, ISSUER, sd_alg="sha-256-32")
    strong = issue(CLAIMS, ISSUER, disclose=["/email"], sd_alg="sha-512")
    assert verifier().verify(strong, now=NOW).claims["email"]
    with pytest.raises(InvalidSDJWT, match="not accepted"):
        verifier(sd_algorithms=["sha-256"]).verify(strong, now=NOW)


def test_rfc9901_9_4_sd_hash_uses_the_sd_alg_hash() -> None:
    held = SDJWT.parse(
        issue(CLAIMS, ISSUER, disclose=["/email"], holder_key=HOLDER, sd_alg="sha3-256")
    )
    shown = held.present(["/email"], holder_key=HOLDER, audience=AUDIENCE, nonce=NONCE, now=NOW)
    assert kb_verifier().verify(shown, nonce=NONCE, now=NOW).claims["email"]


# §9.5 Key Binding


def test_rfc9901_9_5_a_verifier_that_requires_key_binding_refuses_a_bare_sd_jwt() -> None:
    stripped = _present(["/email"]).rsplit("~", 1)[0] + "~"
    with pytest.raises(InvalidKeyBinding, match="requires Key Binding"):
        kb_verifier().verify(stripped, nonce=NONCE, now=NOW)


def test_rfc9901_9_5_the_key_binding_jwt_must_be_signed_by_the_cnf_key() -> None:
    other_held = SDJWT.parse(issue(CLAIMS, ISSUER, disclose=["/email"], holder_key=OTHER))
    stolen = other_held.present(["/email"])
    kb = _present(["/email"]).rsplit("~", 1)[1]
    with pytest.raises(InvalidKeyBinding, match="signature"):
        kb_verifier().verify(stolen + kb, nonce=NONCE, now=NOW)


def test_rfc9901_9_5_key_binding_algorithms_are_the_verifiers_choice() -> None:
    checker = kb_verifier(key_binding_algorithms=["EdDSA"])
    with pytest.raises(InvalidKeyBinding, match="ES256"):
        checker.verify(_present(["/email"]), nonce=NONCE, now=NOW)


def test_rfc9901_7_3_replay_with_another_nonce_or_an_old_iat_is_refused() -> None:
    shown = _present(["/email"])
    with pytest.raises(InvalidKeyBinding, match="nonce"):
        kb_verifier().verify(shown, nonce="the-next-transaction", now=NOW)
    with pytest.raises(InvalidKeyBinding, match="iat"):
        kb_verifier().verify(shown, nonce=NONCE, now=NOW + 301)
    assert kb_verifier(key_binding_max_age=600).verify(shown, nonce=NONCE, now=NOW + 301)


# §9.6 Concealing Claim Names


def test_rfc9901_9_6_hidden_claim_names_and_values_are_not_in_the_issuer_jwt() -> None:
    text = _payload_text(ISSUED)
    assert "email" not in text
    assert "a@example.com" not in text
    assert '"DE"' not in text
    assert "iss" in text  # plaintext claims stay visible


# §9.7 Selectively-Disclosable Validity Claims


def test_rfc9901_9_7_the_issuer_keeps_validity_claims_in_the_clear() -> None:
    for name in ("iss", "exp", "nbf", "cnf", "aud"):
        with pytest.raises(UsageError, match=r"§9\.7"):
            issue({name: 1}, ISSUER, disclose=[f"/{name}"])
    assert issue({"aud": ["a", "b"]}, ISSUER, disclose=["/aud/0"])  # entries may be


def test_rfc9901_9_7_validity_claims_count_only_when_disclosed() -> None:
    hidden_exp = disclosure("exp", NOW - 10)
    sd_jwt = signed({"_sd": [digest(hidden_exp.encoded)]}, hidden_exp)
    with pytest.raises(ExpiredToken):
        verifier().verify(sd_jwt, now=NOW)
    withheld = sd_jwt.split("~")[0] + "~"
    assert verifier().verify(withheld, now=NOW).claims == {}
    with pytest.raises(MissingClaim):
        verifier(require=["exp"]).verify(withheld, now=NOW)


# §9.9 Forwarding Credentials


def test_rfc9901_9_9_a_presentation_made_for_one_verifier_fails_at_another() -> None:
    other = kb_verifier(key_binding_audience="https://another-verifier.example")
    with pytest.raises(InvalidKeyBinding, match="aud"):
        other.verify(_present(["/email"]), nonce=NONCE, now=NOW)


# §9.10 Integrity of SD-JWTs and SD-JWT+KBs


def test_rfc9901_9_10_disclosures_added_or_removed_after_key_binding_break_sd_hash() -> None:
    shown = _present(["/email", "/degree"])
    parts = shown.split("~")
    removed = "~".join([parts[0], parts[1], parts[-1]])
    with pytest.raises(InvalidKeyBinding, match="sd_hash"):
        kb_verifier().verify(removed, nonce=NONCE, now=NOW)
    extra = dict(HELD.disclosable())["/nationalities/1"].encoded
    added = "~".join([*parts[:-1], extra, parts[-1]])
    with pytest.raises(InvalidKeyBinding, match="sd_hash"):
        kb_verifier().verify(added, nonce=NONCE, now=NOW)


# §9.11 Explicit Typing


def test_rfc9901_9_11_the_typ_of_each_jwt_is_checked() -> None:
    with pytest.raises(InvalidType):
        verifier(typ="example+sd-jwt").verify(ISSUED, now=NOW)
    typed = issue(CLAIMS, ISSUER, typ="example+sd-jwt")
    assert verifier(typ="application/example+sd-jwt").verify(typed, now=NOW)
    kb_as_issuer_jwt = _present([]).rsplit("~", 1)[1] + "~"
    with pytest.raises((InvalidType, InvalidSignature)):
        verifier(typ="sd-jwt").verify(kb_as_issuer_jwt, now=NOW)


# §4.2.2, §7.2: array elements and the Holder's choice


def test_rfc9901_4_2_2_undisclosed_array_elements_disappear() -> None:
    assert verifier().verify(HELD.present([]), now=NOW).claims["nationalities"] == ["US"]
    shown = HELD.present(["/nationalities/1"])
    assert verifier().verify(shown, now=NOW).claims["nationalities"] == ["US", "DE"]


def test_rfc9901_7_2_the_holder_discloses_only_what_it_chooses() -> None:
    claims = verifier().verify(HELD.present(["/email"]), now=NOW).claims
    assert "email" in claims
    assert "degree" not in claims


# §10.4 Decoy Digests


def test_rfc9901_10_4_decoys_look_like_digests() -> None:
    payload = json.loads(_payload_text(issue(CLAIMS, ISSUER, disclose=["/email"], decoys=5)))
    assert len(payload["_sd"]) > 1
    assert {len(d) for d in payload["_sd"]} == {43}


# Bounded input (security matrix D1)


def test_the_number_of_disclosures_and_the_size_are_bounded() -> None:
    many = ISSUED.split("~")[0] + "~" + "WyJhIiwgMV0~" * 20
    with pytest.raises(InvalidSDJWT, match="more than 10 Disclosures"):
        verifier(max_disclosures=10).verify(many, now=NOW)
    with pytest.raises(TokenTooLarge):
        verifier(max_size=100).verify(ISSUED, now=NOW)
    with pytest.raises(InvalidSDJWT, match="more than 1024"):
        verifier().verify("x~" * 2000, now=NOW)


def test_errors_carry_no_salts_or_disclosed_values() -> None:
    original = dict(HELD.disclosable())["/degree"]
    forged = Disclosure.create(original.salt, "degree", "PhD")
    with pytest.raises(InvalidSDJWT) as caught:
        verifier().verify(
            HELD.issuer_jwt + "~" + forged.encoded + "~" + forged.encoded + "~", now=NOW
        )
    assert original.salt not in str(caught.value)
    assert "PhD" not in str(caught.value)
    with pytest.raises(MalformedToken):
        verifier().verify("a.b~", now=NOW)
