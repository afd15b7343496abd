"""Issuing SD-JWTs (RFC 9901 §4.1, §4.2): what becomes a digest, and what is refused."""

from __future__ import annotations

from typing import Any

import pytest

from jwtkit import OctKey, decode_unverified
from jwtkit.errors import UsageError
from jwtkit.sd_jwt import SDJWT, issue

from .helpers import HOLDER, ISSUER, digest

CLAIMS: dict[str, Any] = {
    "iss": "https://issuer.example",
    "sub": "user_42",
    "email": "a@example.com",
    "address": {"street": "1 Main St", "country": "US"},
    "nationalities": ["US", "DE", "FR"],
}


def _payload(sd_jwt: str) -> dict[str, Any]:
    return decode_unverified(sd_jwt.split("~", maxsplit=1)[0]).claims


def test_issue_replaces_chosen_claims_by_sorted_digests() -> None:
    sd_jwt = issue(CLAIMS, ISSUER, disclose=["/email", ("address", "street"), "/nationalities/1"])
    assert sd_jwt.endswith("~")
    payload = _payload(sd_jwt)
    held = SDJWT.parse(sd_jwt)
    by_path = dict(held.disclosable())
    assert set(by_path) == {"/email", "/address/street", "/nationalities/1"}
    assert payload["_sd"] == [digest(by_path["/email"].encoded)]
    assert payload["address"] == {
        "country": "US",
        "_sd": [digest(by_path["/address/street"].encoded)],
    }
    assert payload["nationalities"] == [
        "US",
        {"...": digest(by_path["/nationalities/1"].encoded)},
        "FR",
    ]
    assert payload["_sd_alg"] == "sha-256"
    assert decode_unverified(sd_jwt.split("~")[0]).header["typ"] == "sd-jwt"
    assert held.claims == CLAIMS


def test_issue_recursive_disclosures_nest_digests_inside_disclosures() -> None:
    sd_jwt = issue(CLAIMS, ISSUER, disclose=["/address", "/address/country"])
    held = SDJWT.parse(sd_jwt)
    outer = dict(held.disclosable())["/address"]
    assert outer.value == {
        "street": "1 Main St",
        "_sd": [digest(dict(held.disclosable())["/address/country"].encoded)],
    }
    assert held.claims == CLAIMS


def test_issue_adds_decoys_to_objects_and_arrays_with_digests() -> None:
    sd_jwt = issue(CLAIMS, ISSUER, disclose=["/email", "/nationalities/0"], decoys=3)
    payload = _payload(sd_jwt)
    assert 2 <= len(payload["_sd"]) <= 4
    assert payload["_sd"] == sorted(payload["_sd"])
    assert 4 <= len(payload["nationalities"]) <= 6
    assert "_sd" not in payload["address"]  # nothing hidden there: no decoys either
    assert SDJWT.parse(sd_jwt).claims == CLAIMS


def test_issue_with_a_holder_key_puts_its_public_jwk_in_cnf() -> None:
    sd_jwt = issue({"sub": "x"}, ISSUER, holder_key=HOLDER)
    jwk = _payload(sd_jwt)["cnf"]["jwk"]
    assert jwk == HOLDER.public_key().to_jwk()
    from_dict = issue({"sub": "x"}, ISSUER, holder_key=HOLDER.public_key().to_jwk())
    assert _payload(from_dict)["cnf"] == {"jwk": jwk}


def test_issue_leaves_out_certificate_members_of_the_holder_jwk() -> None:
    jwk = {**HOLDER.public_key().to_jwk(), "x5u": "https://example.com/cert"}
    assert "x5u" not in _payload(issue({}, ISSUER, holder_key=jwk))["cnf"]["jwk"]


def test_issue_other_hash_typ_and_expiry() -> None:
    sd_jwt = issue(
        CLAIMS, ISSUER, "ES256", disclose=["/email"], sd_alg="sha-512", typ="example+sd-jwt",
        expires_in=60, now=1_700_000_000,
    )  # fmt: skip
    decoded = decode_unverified(sd_jwt.split("~")[0])
    assert decoded.header["typ"] == "example+sd-jwt"
    assert decoded.claims["_sd_alg"] == "sha-512"
    assert decoded.claims["exp"] == 1_700_000_060
    assert len(decoded.claims["_sd"][0]) == 86


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"key": None}, "key is required"),
        ({"claims": [1]}, "expected a mapping"),
        ({"claims": {"a": {1, 2}}}, "not a JSON object"),
        ({"decoys": -1}, "decoys"),
        ({"decoys": True}, "decoys"),
        ({"claims": {"a": [{"_sd": []}]}}, "reserved"),
        ({"claims": {"a": {"...": 1}}}, "reserved"),
        ({"claims": {"cnf": {}}, "holder_key": HOLDER}, "'cnf'"),
        ({"holder_key": OctKey.generate(256)}, "not a secret"),
        ({"disclose": ["/missing"]}, "no claim at /missing"),
        ({"disclose": ["/nationalities/3"]}, "no claim"),
        ({"disclose": ["/email/0"]}, "no claim"),
        ({"disclose": ["/iss"]}, "RFC 9901 §9.7"),
        ({"disclose": ["/exp"], "claims": {"exp": 1}}, "§9.7"),
        ({"sd_alg": "md5"}, "not supported"),
    ],
)
def test_issue_refuses(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"claims": CLAIMS, "key": ISSUER, **kwargs}
    with pytest.raises(UsageError, match=message):
        issue(arguments.pop("claims"), arguments.pop("key"), **arguments)
