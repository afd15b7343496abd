"""RFC 9901 §4 and §7.1: the compact form, and every misuse of digests and Disclosures, each
rejected with InvalidSDJWT before any claim reaches the application."""

from __future__ import annotations

from typing import Any

import pytest

from jwtkit._codec import b64url_encode
from jwtkit._sd.processing import MAX_NESTING, split
from jwtkit.errors import InvalidSDJWT, TokenTooLarge
from jwtkit.sd_jwt import SDJWT

from .helpers import NOW, digest, disclosure, signed, verifier

EMAIL = disclosure("email", "a@example.com")
ELEMENT = disclosure(None, "DE", salt="ZWxlbWVudGVsZW1lbnRlbA")


def test_split_reads_the_three_forms() -> None:
    assert split("j~") == ("j", [], None)
    assert split(b"j~d1~d2~") == ("j", ["d1", "d2"], None)
    assert split("j~d1~kb") == ("j", ["d1"], "kb")


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("j", InvalidSDJWT, "no '~'"),
        ("j~~d~", InvalidSDJWT, "empty Disclosure"),
        (b"j\xff~", InvalidSDJWT, "not ASCII"),
        (7, InvalidSDJWT, "expected a string"),
        ("j~" + "d~" * 5, InvalidSDJWT, "more than 3 Disclosures"),
        ("j~" + "x" * 100, TokenTooLarge, "longer than 50"),
    ],
)
def test_split_refuses(text: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        split(text, 50 if isinstance(text, str) and len(text) > 50 else 1000, 3)


def _verify(payload: dict[str, Any], *disclosures: Any) -> dict[str, Any]:
    return dict(verifier().verify(signed(payload, *disclosures), now=NOW).claims)


def test_processing_removes_sd_sd_alg_and_undisclosed_array_elements() -> None:
    payload = {"_sd": [digest(EMAIL.encoded), digest("decoy")], "_sd_alg": "sha-256",
               "n": ["US", {"...": digest(ELEMENT.encoded)}, {"...": digest("other")}],
               "o": {"_sd": []}}  # fmt: skip
    assert _verify(payload, EMAIL, ELEMENT) == {"n": ["US", "DE"], "o": {}, "email": EMAIL.value}
    assert _verify(payload) == {"n": ["US"], "o": {}}


@pytest.mark.parametrize(
    ("payload", "disclosures", "message"),
    [
        ({"_sd": [digest(EMAIL.encoded)] * 2}, [EMAIL], "appears more than once"),
        ({"_sd": ["x"], "a": [{"...": "x"}]}, [], "appears more than once"),
        ({"_sd": [digest(EMAIL.encoded)]}, [EMAIL, EMAIL], "sent more than once"),
        ({"_sd": []}, [EMAIL], "not referenced"),
        ({"a": {"...": "x"}}, [], "outside an array element"),
        ({"a": {"_sd_alg": "sha-256"}}, [], "top level only"),
        ({"_sd": "x"}, [], "array of strings"),
        ({"_sd": [1]}, [], "array of strings"),
        ({"_sd": [digest(ELEMENT.encoded)]}, [ELEMENT], "array-element Disclosure"),
        ({"a": [{"...": digest(EMAIL.encoded)}]}, [EMAIL], "object-property Disclosure"),
        ({"a": [{"...": "x", "b": 1}]}, [], "exactly"),
        ({"a": [{"...": 1}]}, [], "exactly"),
        ({"_sd_alg": "md5"}, [], "'_sd_alg' 'md5' is not accepted"),
        ({"_sd_alg": 1}, [], "is not accepted"),
    ],
)
def test_processing_rejects(payload: dict[str, Any], disclosures: list[Any], message: str) -> None:
    with pytest.raises(InvalidSDJWT, match=message):
        _verify(payload, *disclosures)


@pytest.mark.parametrize("name", ["_sd", "...", "_sd_alg"])
def test_processing_rejects_disclosures_of_reserved_names(name: str) -> None:
    # Disclosure.create refuses these names, so the Disclosure is encoded by hand.
    forged = b64url_encode(f'["salt", "{name}", 1]'.encode())
    with pytest.raises(InvalidSDJWT, match="reserved member"):
        _verify({"_sd": [digest(forged)]}, forged)


def test_processing_rejects_a_disclosure_that_collides_with_a_claim() -> None:
    with pytest.raises(InvalidSDJWT, match="already exists"):
        _verify({"email": "plain", "_sd": [digest(EMAIL.encoded)]}, EMAIL)


def test_processing_bounds_nesting_through_disclosures() -> None:
    chain = [disclosure("v", 0)]
    for level in range(MAX_NESTING + 1):
        chain.append(disclosure("v", {"_sd": [digest(chain[-1].encoded)]}, salt=f"s{level}"))
    with pytest.raises(InvalidSDJWT, match="nested deeper"):
        _verify({"_sd": [digest(chain[-1].encoded)]}, *chain)


def test_a_holder_processes_an_unverified_sd_jwt_and_rejects_garbage() -> None:
    held = SDJWT.parse(signed({"_sd": [digest(EMAIL.encoded)]}, EMAIL))
    assert held.claims == {"email": EMAIL.value}
    with pytest.raises(InvalidSDJWT, match="Issuer-signed JWT"):
        SDJWT.parse("not-a-jwt~")
