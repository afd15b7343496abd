"""The Verifier (RFC 9901 §7.1 step 2 and 6, §7.3): the Issuer's signature, the processed
claims, Key Binding, and its own arguments."""

from __future__ import annotations

from typing import Any

import pytest

from jwtkit import Key, OctKey, encode
from jwtkit.errors import (
    AlgorithmNotAllowed,
    ExpiredToken,
    InvalidIssuer,
    InvalidKeyBinding,
    InvalidType,
    MissingClaim,
    UsageError,
)
from jwtkit.sd_jwt import SDJWT, SDJWTVerifier, issue
from jwtkit.testing import FrozenClock

from .helpers import AUDIENCE, HOLDER, ISSUER, NONCE, NOW, OTHER, kb_verifier, signed, verifier

CLAIMS = {"iss": "https://issuer.example", "exp": NOW + 3600, "email": "a@example.com"}
ISSUED = issue(CLAIMS, ISSUER, disclose=["/email"], holder_key=HOLDER)
HELD = SDJWT.parse(ISSUED)


def _shown(**kwargs: Any) -> str:
    arguments: dict[str, Any] = {
        "holder_key": HOLDER, "audience": AUDIENCE, "nonce": NONCE, "now": NOW, **kwargs,
    }  # fmt: skip
    return HELD.present(["/email"], **arguments)


def test_verify_returns_claims_header_disclosures_and_key_binding() -> None:
    verified = kb_verifier(issuer="https://issuer.example").verify(_shown(), nonce=NONCE, now=NOW)
    assert verified.claims["email"] == "a@example.com"
    assert verified.header["typ"] == "sd-jwt"
    assert [d.name for d in verified.disclosures] == ["email"]
    assert verified.key_binding is not None
    assert verified.key_binding["aud"] == AUDIENCE
    assert verified.holder_key == HOLDER.public_key()


def test_claims_are_checked_on_the_processed_payload() -> None:
    with pytest.raises(ExpiredToken):
        verifier().verify(ISSUED, now=NOW + 7200)
    with pytest.raises(InvalidIssuer):
        verifier(issuer="https://other.example").verify(ISSUED, now=NOW)
    with pytest.raises(MissingClaim):
        verifier(require=["email"]).verify(HELD.present(), now=NOW)
    assert verifier(require=["email"]).verify(ISSUED, now=NOW).claims["email"]


def test_the_issuer_signature_rules_of_decode_apply() -> None:
    with pytest.raises(InvalidType):
        verifier(typ="dc+sd-jwt").verify(ISSUED, now=NOW)
    with pytest.raises(AlgorithmNotAllowed):
        SDJWTVerifier(ISSUER.public_key(), algorithms=["ES384"]).verify(ISSUED, now=NOW)


def test_the_verifier_reads_its_clock() -> None:
    clock = FrozenClock(NOW)
    checker = kb_verifier(clock=clock)
    assert checker.verify(_shown(), nonce=NONCE).claims["email"]
    clock.advance(301)
    with pytest.raises(InvalidKeyBinding, match="iat"):
        checker.verify(_shown(), nonce=NONCE)


def _kb(claims: dict[str, Any], key: Key = HOLDER, typ: str = "kb+jwt", alg: str = "ES256") -> str:
    sd_jwt = HELD.present(["/email"])
    base = {"iat": NOW, "aud": AUDIENCE, "nonce": NONCE, "sd_hash": _hash(sd_jwt)}
    return sd_jwt + encode({**base, **claims}, key, alg, typ=typ)


def _hash(sd_jwt: str) -> str:
    from jwtkit._sd.disclosures import hasher

    return hasher("sha-256")(sd_jwt)


def test_a_well_formed_hand_made_key_binding_jwt_verifies() -> None:
    assert kb_verifier().verify(_kb({}), nonce=NONCE, now=NOW).key_binding is not None


@pytest.mark.parametrize(
    ("presentation", "message"),
    [
        (_kb({}, key=OTHER), "signature verification failed"),
        (_kb({}, typ="JWT"), "typ"),
        (_kb({"aud": "https://elsewhere.example"}), "aud"),
        (_kb({"aud": [AUDIENCE]}), "single string"),
        (_kb({"nonce": "other"}), "'nonce' is 'other'"),
        (_kb({"nonce": 5}), "'nonce' is"),
        (_kb({"sd_hash": "x" * 43}), "sd_hash"),
        (_kb({"sd_hash": 5}), "sd_hash"),
        (_kb({"iat": NOW - 3600}), "iat"),
        (_kb({"iat": NOW + 3600}), "iat"),
        (_kb({"sd_hash": None}), "sd_hash"),
        (_kb({}, alg="ES256") + "x", "signature"),
    ],
)
def test_key_binding_jwt_checks(presentation: str, message: str) -> None:
    with pytest.raises(InvalidKeyBinding, match=message):
        kb_verifier().verify(presentation, nonce=NONCE, now=NOW)


def test_key_binding_jwt_claims_are_required() -> None:
    sd_jwt = HELD.present(["/email"])
    for missing in ("iat", "aud", "nonce", "sd_hash"):
        claims = {"iat": NOW, "aud": AUDIENCE, "nonce": NONCE, "sd_hash": _hash(sd_jwt)}
        del claims[missing]
        with pytest.raises(InvalidKeyBinding, match=missing):
            kb_verifier().verify(sd_jwt + encode(claims, HOLDER, "ES256", typ="kb+jwt"),
                                 nonce=NONCE, now=NOW)  # fmt: skip


@pytest.mark.parametrize(
    ("cnf", "message"),
    [
        (None, "names no Holder key"),
        ({"jwk": "x"}, "names no Holder key"),
        ({"jwk": {"kty": "EC"}}, "not a usable key"),
        ({"jwk": HOLDER.to_jwk(private=True)}, "must be a public key"),
        ({"jwk": OctKey.generate(256).to_jwk(private=True)}, "must be a public key"),
    ],
)
def test_the_holder_key_comes_from_cnf_jwk(cnf: Any, message: str) -> None:
    claims = {} if cnf is None else {"cnf": cnf}
    sd_jwt = signed(claims)
    kb = encode({"iat": NOW, "aud": AUDIENCE, "nonce": NONCE, "sd_hash": _hash(sd_jwt)},
                HOLDER, "ES256", typ="kb+jwt")  # fmt: skip
    with pytest.raises(InvalidKeyBinding, match=message):
        kb_verifier().verify(sd_jwt + kb, nonce=NONCE, now=NOW)


def test_a_key_binding_jwt_sent_when_none_is_required_is_checked_all_the_same() -> None:
    assert verifier().verify(_shown(), now=NOW).key_binding is not None
    assert verifier(key_binding_audience=AUDIENCE).verify(_shown(), nonce=NONCE, now=NOW)
    with pytest.raises(InvalidKeyBinding):
        verifier().verify(_kb({}, key=OTHER), now=NOW)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sd_algorithms": "sha-256"}, "sd_algorithms"),
        ({"sd_algorithms": []}, "sd_algorithms"),
        ({"sd_algorithms": ["md5"]}, "not supported"),
        ({"key_binding_algorithms": "ES256"}, "not a string"),
        ({"key_binding_algorithms": ["HS256"]}, "asymmetric"),
        ({"key_binding_algorithms": []}, "asymmetric"),
        ({"require_key_binding": 1}, "True or False"),
        ({"key_binding_audience": ""}, "Verifier's identifier"),
        ({"require_key_binding": True}, "needs key_binding_audience"),
        ({"max_disclosures": -1}, "max_disclosures"),
        ({"key_binding_max_age": 0}, "positive"),
    ],
)
def test_verifier_arguments_are_checked(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        verifier(**kwargs)


def test_verify_arguments_are_checked() -> None:
    with pytest.raises(UsageError, match="nonce"):
        kb_verifier().verify(_shown())
    with pytest.raises(UsageError, match="nonce"):
        verifier().verify(ISSUED, nonce="")
