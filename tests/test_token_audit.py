"""The shared token audit (``jwtkit._token_audit``): its entry points and its bounds. The rules
themselves are tested through ``jwtkit audit`` (tests/cli/test_audit.py)."""

from __future__ import annotations

import json
import time

import pytest

import jwtkit
from jwtkit._token_audit import audit_request, audit_token, sensitive_values
from jwtkit.errors import MalformedToken, UsageError


def test_a_weak_hmac_secret_is_found_only_among_the_given_secrets() -> None:
    token = jwtkit.jws.sign(b"{}", jwtkit.OctKey(b"secret", allow_weak=True), "HS256")
    assert "weak-secret" not in {f.id for f in audit_token(token, now=0).findings}
    audit = audit_token(token, now=0, secrets=[b"other", b"secret"])
    assert audit.format == "JWS"
    assert audit.algorithm == "HS256"
    [cracked] = [f for f in audit.findings if f.id == "weak-secret"]
    assert cracked.location == "signature"
    assert '"secret"' in cracked.message


def test_a_jwe_is_audited_by_its_header() -> None:
    key = jwtkit.OctKey.generate("A256KW")
    token = jwtkit.jwe.encrypt(b"{}", key, algorithm="A256KW", encryption="A256GCM")
    audit = audit_token(token, now=0)
    assert (audit.format, audit.algorithm) == ("JWE", "A256KW")
    assert audit.findings == []


def test_the_answer_to_post_audit() -> None:
    token = jwtkit.jws.sign(b'{"sub": "x"}', jwtkit.OctKey.generate("HS256"), "HS256")
    answer = audit_request(json.dumps({"token": token}).encode(), now=0)
    assert set(answer) == {"findings", "counts"}
    assert list(answer["counts"]) == ["critical", "high", "medium", "low", "info"]
    severities = [f["severity"] for f in answer["findings"]]
    assert severities == sorted(severities, key=list(answer["counts"]).index)
    for finding in answer["findings"]:
        assert set(finding) == {"id", "severity", "where", "message", "fix"}
    assert sum(answer["counts"].values()) == len(answer["findings"])
    with pytest.raises(UsageError):
        audit_request(b'{"token": ["a"]}', now=0)
    with pytest.raises(UsageError):
        audit_request(b'{"jwt": "a.b.c"}', now=0)
    with pytest.raises(MalformedToken, match="request body"):
        audit_request(b"[]", now=0)
    with pytest.raises(MalformedToken, match="more than the maximum"):
        audit_request(json.dumps({"token": "a" * 300_000}).encode(), now=0)


@pytest.mark.parametrize(
    "value", ["alice@example.com", "mail:alice@example.com", "to x.y+z@mail.example.org!"]
)
def test_e_mail_addresses_anywhere_in_a_value(value: str) -> None:
    assert [f.id for f in sensitive_values({"note": value})] == ["email"]


@pytest.mark.parametrize("unit", ["a.", "1-", "A", "%"])
def test_a_long_run_of_address_characters_costs_linear_time(unit: str) -> None:
    # Tried from every position of the run, the e-mail pattern took seconds for 40,000
    # characters and minutes for 200,000; anchored at the start of the run, milliseconds.
    value = unit * (200_000 // len(unit))
    started = time.perf_counter()
    assert sensitive_values({"note": value}) == []
    assert time.perf_counter() - started < 2.0
