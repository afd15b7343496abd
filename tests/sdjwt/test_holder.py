"""The Holder (RFC 9901 §7.2): parsing, listing, choosing Disclosures, presenting."""

from __future__ import annotations

from typing import Any

import pytest

from jwtkit import InvalidSignature, OctKey, decode_unverified
from jwtkit.errors import InvalidSDJWT, UsageError
from jwtkit.sd_jwt import SDJWT, issue, key_binding_jwt

from .helpers import AUDIENCE, HOLDER, ISSUER, NONCE, NOW, OTHER, signed

CLAIMS: dict[str, Any] = {
    "sub": "user_42",
    "email": "a@example.com",
    "address": {"street": "1 Main St", "country": "US", "region": "Any"},
    "nationalities": ["US", "DE", "FR"],
}
DISCLOSE = [
    "/email", "/address", "/address/street", "/address/country", "/nationalities/0",
    "/nationalities/2",
]  # fmt: skip
ISSUED = issue(CLAIMS, ISSUER, disclose=DISCLOSE, holder_key=HOLDER, decoys=2)


def _held() -> SDJWT:
    return SDJWT.parse(ISSUED, ISSUER.public_key(), algorithms=["ES256"])


def test_parse_verifies_the_issuer_and_lists_disclosures_by_path() -> None:
    held = _held()
    assert {k: v for k, v in held.claims.items() if k != "cnf"} == CLAIMS
    assert [path for path, _ in held.disclosable()] == [
        "/address", "/address/country", "/address/street", "/email", "/nationalities/0",
        "/nationalities/2",
    ]  # fmt: skip
    assert held.sd_alg == "sha-256"
    assert held.issuer_jwt == ISSUED.split("~")[0]
    assert held.header["typ"] == "sd-jwt"


def test_parse_refuses_a_bad_issuer_signature_and_an_sd_jwt_kb() -> None:
    with pytest.raises(InvalidSignature):
        SDJWT.parse(ISSUED, OTHER.public_key(), algorithms=["ES256"])
    with pytest.raises(InvalidSDJWT, match="not an SD-JWT\\+KB"):
        SDJWT.parse(ISSUED + "eyJ.eyJ.sig")


def _presented(presentation: str) -> set[str]:
    return set(presentation.split("~")[1:-1])


def _paths(held: SDJWT, *paths: str) -> set[str]:
    return {d.encoded for p, d in held.disclosable() if p in paths}


def test_choosing_a_nested_claim_brings_its_parents() -> None:
    held = _held()
    chosen = held.present(["/address/country"])
    assert _presented(chosen) == _paths(held, "/address", "/address/country")


def test_choosing_a_claim_brings_everything_inside_it() -> None:
    held = _held()
    assert _presented(held.present(["/address"])) == _paths(
        held, "/address", "/address/country", "/address/street"
    )


def test_choosing_plain_claims_and_array_elements() -> None:
    held = _held()
    assert _presented(held.present(["/sub"])) == set()
    assert _presented(held.present([("nationalities", 2)])) == _paths(held, "/nationalities/2")
    assert _presented(held.present()) == set()


def test_choosing_a_missing_claim_is_a_usage_error() -> None:
    for path in ("/phone", "/nationalities/7", "/email/x"):
        with pytest.raises(UsageError, match="no claim at"):
            _held().select([path])


def test_present_with_key_binding() -> None:
    shown = _held().present(["/email"], holder_key=HOLDER, audience=AUDIENCE, nonce=NONCE, now=NOW)
    kb = decode_unverified(shown.rsplit("~", 1)[1])
    assert kb.header["typ"] == "kb+jwt"
    assert kb.claims["iat"] == NOW
    assert {kb.claims["aud"], kb.claims["nonce"]} == {AUDIENCE, NONCE}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"audience": AUDIENCE}, "pass holder_key"),
        ({"holder_key": HOLDER, "nonce": NONCE}, "audience and nonce"),
        ({"holder_key": OTHER, "audience": AUDIENCE, "nonce": NONCE}, "not the key"),
        ({"holder_key": "key", "audience": AUDIENCE, "nonce": NONCE}, "expected a jwtkit Key"),
    ],
)
def test_present_refuses(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        _held().present(["/email"], **kwargs)


def test_present_with_key_binding_needs_a_cnf_key() -> None:
    with pytest.raises(UsageError, match=r"no 'cnf\.jwk'"):
        SDJWT.parse(signed({"sub": "x"})).present(holder_key=HOLDER, audience="a", nonce="n")
    broken = SDJWT.parse(signed({"cnf": {"jwk": {"kty": "EC"}}}))
    with pytest.raises(InvalidSDJWT, match="not a usable key"):
        broken.present(holder_key=HOLDER, audience="a", nonce="n")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"holder_key": OctKey.generate(256)}, "key pair"),
        ({"audience": ""}, "audience"),
        ({"nonce": 5}, "nonce"),
        ({"algorithm": "HS256"}, "digital signature"),
    ],
)
def test_key_binding_jwt_refuses(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {
        "holder_key": HOLDER, "audience": AUDIENCE, "nonce": NONCE, "sd_alg": "sha-256", **kwargs,
    }  # fmt: skip
    with pytest.raises(UsageError, match=message):
        key_binding_jwt(ISSUED, arguments.pop("holder_key"), **arguments)


def test_key_binding_jwt_reads_the_clock_when_no_time_is_given() -> None:
    kb = key_binding_jwt(ISSUED, HOLDER, audience=AUDIENCE, nonce=NONCE, sd_alg="sha-256")
    assert decode_unverified(kb).claims["iat"] > NOW
