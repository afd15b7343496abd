"""Interop with the SD-JWT reference implementation (the ``sd-jwt`` package, OpenWallet
Foundation Labs, on jwcrypto): jwtkit's SD-JWTs verify there, and its SD-JWT+KBs here."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier as ReferenceVerifier

from jwtkit import Key, decode_unverified
from jwtkit.sd_jwt import SDJWT, SDJWTVerifier, issue
from vectors import load_sd_jwt

from .helpers import AUDIENCE, HOLDER, ISSUER, NONCE

CLAIMS: dict[str, Any] = {
    "iss": "https://issuer.example",
    "sub": "user_42",
    "given_name": "Erika",
    "address": {"street_address": "Heidestraße 17", "locality": "Köln", "country": "DE"},
    "nationalities": ["DE", "FR"],
}


def _jwcrypto(key: Key, private: bool = False) -> JWK:
    return JWK.from_json(json.dumps(key.to_jwk(private=private)))


def test_an_sd_jwt_issued_and_presented_by_jwtkit_verifies_with_the_reference() -> None:
    issued = issue(
        CLAIMS,
        ISSUER,
        disclose=["/given_name", "/address", "/address/locality", "/nationalities/1"],
        holder_key=HOLDER,
        decoys=3,
    )
    shown = SDJWT.parse(issued).present(
        ["/given_name", "/address/locality", "/nationalities/1"],
        holder_key=HOLDER,
        audience=AUDIENCE,
        nonce=NONCE,
    )
    reference = ReferenceVerifier(
        shown,
        lambda issuer, header: _jwcrypto(ISSUER.public_key()),
        expected_aud=AUDIENCE,
        expected_nonce=NONCE,
    )
    assert reference.get_verified_payload() == {
        **CLAIMS,
        "cnf": {"jwk": HOLDER.public_key().to_jwk()},
    }


def test_an_sd_jwt_kb_made_by_the_reference_verifies_with_jwtkit() -> None:
    user_claims = {
        "iss": "https://issuer.example",
        "sub": "user_42",
        SDObj("given_name"): "Erika",
        SDObj("address"): {"street_address": "Heidestraße 17", SDObj("locality"): "Köln"},
        "nationalities": [SDObj("DE"), "FR"],
    }
    issuer = SDJWTIssuer(
        user_claims,
        _jwcrypto(ISSUER, private=True),
        holder_key=_jwcrypto(HOLDER),
        add_decoy_claims=True,
    )
    holder = SDJWTHolder(issuer.sd_jwt_issuance)
    holder.create_presentation(
        {"given_name": True, "address": {"locality": True}, "nationalities": [True, False]},
        nonce=NONCE,
        aud=AUDIENCE,
        holder_key=_jwcrypto(HOLDER, private=True),
    )
    verifier = SDJWTVerifier(
        ISSUER.public_key(),
        algorithms=["ES256"],
        issuer="https://issuer.example",
        require_key_binding=True,
        key_binding_audience=AUDIENCE,
    )
    verified = verifier.verify(holder.sd_jwt_presentation, nonce=NONCE, now=time.time())
    assert {k: v for k, v in verified.claims.items() if k != "cnf"} == {
        "iss": "https://issuer.example",
        "sub": "user_42",
        "given_name": "Erika",
        "address": {"street_address": "Heidestraße 17", "locality": "Köln"},
        "nationalities": ["DE", "FR"],
    }
    assert verified.holder_key == HOLDER.public_key()
    held = SDJWT.parse(issuer.sd_jwt_issuance, ISSUER.public_key(), algorithms=["ES256"])
    assert [path for path, _ in held.disclosable()] == [
        "/address", "/address/locality", "/given_name", "/nationalities/0",
    ]  # fmt: skip


@pytest.mark.parametrize("example", load_sd_jwt()["examples"], ids=lambda e: e["section"])
def test_the_rfc9901_presentations_verify_with_the_reference_too(example: dict[str, Any]) -> None:
    """The vectors' second check: the reference verifier, with the Appendix A.5 key, gives the
    processed payload the RFC states (tests/vectors/README.md, "checked_with")."""
    issuer_key = JWK.from_json(json.dumps(load_sd_jwt()["issuer_public_key"]))
    presentation = example["presentation"]
    kb_jwt = presentation.rsplit("~", 1)[1]
    expected: dict[str, Any] = {}
    if kb_jwt:
        kb = decode_unverified(kb_jwt).claims
        expected = {"expected_aud": kb["aud"], "expected_nonce": kb["nonce"]}
    reference = ReferenceVerifier(presentation, lambda issuer, header: issuer_key, **expected)
    assert reference.get_verified_payload() == example["processed_payload"]
