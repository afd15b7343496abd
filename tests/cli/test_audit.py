"""``jwtkit audit``: findings on crafted tokens, ``--crack``, ``--fail-on`` and the JSON schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import jwtkit
from jwtkit.cli.audit import SEVERITIES, crack, luhn, weak_secrets

from .helpers import NOW, b64, one_line_error, raw_token, run, write

AUDIT_KEYS = {"verified", "format", "algorithm", "findings", "counts", "fail_on", "failed"}
FINDING_KEYS = {"id", "severity", "location", "message", "fix"}
GOOD_HEADER = {"alg": "ES256", "typ": "at+jwt", "kid": "2026-11"}
GOOD_CLAIMS = {
    "iss": "https://id.example",
    "sub": "42",
    "aud": "api",
    "jti": "8c1f",
    "iat": NOW - 60,
    "exp": NOW + 840,
}


def audit(header: dict[str, Any], claims: dict[str, Any], *args: str) -> dict[str, Any]:
    result = run("audit", "--json", *args, raw_token(header, claims))
    data: dict[str, Any] = result.json()
    return data


def ids(header: dict[str, Any], claims: dict[str, Any], *args: str) -> set[str]:
    return {finding["id"] for finding in audit(header, claims, *args)["findings"]}


def test_a_good_token_has_no_findings() -> None:
    data = audit(GOOD_HEADER, GOOD_CLAIMS)
    assert set(data) == AUDIT_KEYS
    assert data["findings"] == []
    assert data["counts"] == {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0}
    assert data["verified"] is False
    assert data["format"] == "JWS"
    assert data["algorithm"] == "ES256"
    assert data["fail_on"] is None
    assert data["failed"] is False
    human = run("audit", raw_token(GOOD_HEADER, GOOD_CLAIMS))
    assert human.out.startswith("UNVERIFIED  audit of a JWS token (ES256): no findings")


def test_findings_have_a_severity_a_location_and_a_fix() -> None:
    data = audit({"alg": "none"}, {"sub": "x"})
    assert data["findings"], data
    for finding in data["findings"]:
        assert set(finding) == FINDING_KEYS
        assert finding["severity"] in SEVERITIES
        assert finding["fix"]
        assert "\n" not in finding["fix"]
    severities = [SEVERITIES.index(f["severity"]) for f in data["findings"]]
    assert severities == sorted(severities)  # most severe first
    assert data["counts"]["high"] == sum(f["severity"] == "high" for f in data["findings"])


@pytest.mark.parametrize(
    ("header", "expected", "severity"),
    [
        ({"alg": "none"}, "alg-none", "high"),
        ({"alg": "nOnE"}, "alg-none", "high"),
        ({"typ": "JWT"}, "alg-missing", "high"),
        ({"alg": 5}, "alg-invalid", "high"),
        ({"alg": "HS1"}, "alg-unknown", "medium"),
        ({"alg": "HS256"}, "alg-hmac", "low"),
        ({"alg": "ES256"}, "typ-missing", "low"),
        ({"alg": "ES256", "typ": "application/JWT"}, "typ-generic", "info"),
        ({"alg": "ES256", "kid": 7}, "kid-invalid", "medium"),
        ({"alg": "ES256", "kid": "../../dev/null"}, "kid-suspicious", "high"),
        ({"alg": "ES256", "kid": "x' UNION SELECT 'key"}, "kid-suspicious", "high"),
        ({"alg": "ES256", "kid": "k|rm -rf /"}, "kid-suspicious", "high"),
        ({"alg": "ES256", "kid": "https://evil.example/k"}, "kid-suspicious", "high"),
        ({"alg": "ES256", "kid": "a\x00b"}, "kid-suspicious", "high"),
        ({"alg": "ES256", "kid": "k" * 200}, "kid-suspicious", "high"),
        ({"alg": "ES256", "jku": "https://evil.example/jwks"}, "header-jku", "high"),
        ({"alg": "ES256", "x5u": "https://evil.example/cert"}, "header-x5u", "high"),
        ({"alg": "ES256", "jwk": {"kty": "EC"}}, "header-jwk", "high"),
        ({"alg": "ES256", "x5c": ["MIIB"]}, "header-x5c", "medium"),
        ({"alg": "ES256", "crit": ["exp"], "exp": 1}, "header-crit", "info"),
    ],
)
def test_header_findings(header: dict[str, Any], expected: str, severity: str) -> None:
    findings = audit(header, GOOD_CLAIMS)["findings"]
    matching = [f for f in findings if f["id"] == expected]
    assert matching, findings
    assert matching[0]["severity"] == severity
    assert matching[0]["location"].startswith("header.")


def test_kid_findings_name_the_kind_of_injection() -> None:
    finding = audit({**GOOD_HEADER, "kid": "/etc/passwd; `id`"}, GOOD_CLAIMS)["findings"][0]
    assert "path syntax" in finding["message"]
    assert "shell metacharacters" in finding["message"]
    assert "RFC 8725 §3.10" in finding["fix"]
    assert ids({**GOOD_HEADER, "kid": "2026-11_a.b"}, GOOD_CLAIMS) == set()


def test_case_variant_of_none_is_called_out() -> None:
    (finding,) = [
        f for f in audit({"alg": "NONE"}, GOOD_CLAIMS)["findings"] if f["id"] == "alg-none"
    ]
    assert "case variant" in finding["message"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"exp": None}, {"exp-missing"}),
        ({"exp": "tomorrow"}, {"exp-invalid"}),
        ({"iat": True}, {"iat-invalid"}),
        ({"nbf": "soon"}, {"nbf-invalid"}),
        ({"aud": None}, {"aud-missing"}),
        ({"iss": None}, {"iss-missing"}),
        ({"jti": None}, {"jti-missing"}),
        ({"iat": None}, {"iat-missing"}),
        ({"exp": NOW - 3 * 86400, "iat": NOW - 4 * 86400}, {"expired"}),
        ({"iat": NOW + 600}, {"iat-future"}),
        ({"nbf": NOW + 60}, {"nbf-future"}),
        ({"exp": NOW + 30 * 86400}, {"lifetime-long"}),
    ],
)
def test_claims_findings(change: dict[str, Any], expected: set[str]) -> None:
    claims = {k: v for k, v in {**GOOD_CLAIMS, **change}.items() if v is not None}
    assert ids(GOOD_HEADER, claims) == expected


def test_lifetime_threshold_and_basis() -> None:
    claims = {**GOOD_CLAIMS, "exp": NOW + 7200}
    assert "lifetime-long" not in ids(GOOD_HEADER, claims)
    data = audit(GOOD_HEADER, claims, "--max-lifetime", "1h")
    (finding,) = [f for f in data["findings"] if f["id"] == "lifetime-long"]
    assert finding["message"] == "lifetime 2 h (exp - iat) is longer than 60 min"
    no_iat = {"exp": NOW + 3 * 86400, "nbf": NOW - 60}
    (by_nbf,) = [f for f in audit(GOOD_HEADER, no_iat)["findings"] if f["id"] == "lifetime-long"]
    assert "(exp - nbf)" in by_nbf["message"]
    (left,) = [
        f for f in audit(GOOD_HEADER, {"exp": NOW + 3 * 86400})["findings"]
        if f["id"] == "lifetime-long"
    ]  # fmt: skip
    assert "(left)" in left["message"]
    assert "negative" in one_line_error(run("audit", "--max-lifetime=-1h", "a.b.c"), 2)


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"password": "x"}, "sensitive-name"),
        ({"user": {"client_secret": "x"}}, "sensitive-name"),
        ({"API-Key": "x"}, "sensitive-name"),
        ({"refresh_token": "x"}, "sensitive-name"),
        ({"pwd": 1234}, "sensitive-name"),
        ({"contact": "alice@example.com"}, "email"),
        ({"cards": ["4111 1111 1111 1111"]}, "card-number"),
        ({"pan": 5555555555554444}, "card-number"),
        ({"amex": "3782-822463-10005"}, "card-number"),
        ({"tax": "123-45-6789"}, "national-id"),
        ({"ni": "AB 12 34 56 C"}, "national-id"),
        ({"bank": "GB82 WEST 1234 5698 7654 32"}, "iban"),
        ({"note": "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE"}, "private-key"),
        ({"cloud": "AKIAIOSFODNN7EXAMPLE"}, "aws-key-id"),
        ({"upstream": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghijkl"}, "embedded-token"),
    ],
)
def test_sensitive_data_findings(claims: dict[str, Any], expected: str) -> None:
    findings = audit(GOOD_HEADER, {**GOOD_CLAIMS, **claims})["findings"]
    assert expected in {f["id"] for f in findings}, findings
    (finding,) = [f for f in findings if f["id"] == expected]
    assert finding["location"].startswith("claims.")
    assert "anyone holding the token can read" in finding["message"]


@pytest.mark.parametrize(
    "value",
    [
        "4111 1111 1111 1112",  # fails Luhn
        1700000000123,  # a millisecond time: no card prefix
        "1234567812345670",  # passes Luhn, but no issuer starts with 1
        "000-12-3456",  # not an SSN
        "GB82 WEST 1234 5698 7654 33",  # fails mod 97
        "no-at-sign.example",
        True,
        [1, 2],
    ],
)
def test_ordinary_values_are_not_flagged(value: Any) -> None:
    assert ids(GOOD_HEADER, {**GOOD_CLAIMS, "data": value}) == set()


def test_paths_of_nested_findings() -> None:
    claims = {**GOOD_CLAIMS, "users": [{"name": "a", "mail": "a@b.example"}]}
    (finding,) = audit(GOOD_HEADER, claims)["findings"]
    assert finding["location"] == "claims.users[0].mail"


def test_luhn() -> None:
    assert luhn("79927398713")
    assert not luhn("79927398710")


def test_crack_finds_a_weak_secret_and_misses_a_strong_one(tmp_path: Path) -> None:
    weak = jwtkit.encode(GOOD_CLAIMS, jwtkit.OctKey(b"changeme", allow_weak=True), "HS256")
    data = run("audit", "--crack", "--json", weak).json()
    (cracked,) = [f for f in data["findings"] if f["id"] == "weak-secret"]
    assert cracked["severity"] == "high"
    assert '"changeme"' in cracked["message"]
    strong = jwtkit.encode(GOOD_CLAIMS, jwtkit.OctKey.generate(256), "HS256")
    assert "weak-secret" not in {
        f["id"] for f in run("audit", "--crack", "--json", strong).json()["findings"]
    }
    custom = jwtkit.encode(
        GOOD_CLAIMS, jwtkit.OctKey(b"our-team-key-2019", allow_weak=True), "HS384"
    )
    wordlist = write(tmp_path / "words.txt", "# ours\r\nnope\r\nour-team-key-2019\r\n")
    found = run("audit", "--wordlist", wordlist, "--json", custom).json()
    assert "weak-secret" in {f["id"] for f in found["findings"]}
    es = run("audit", "--crack", "--json", raw_token(GOOD_HEADER, GOOD_CLAIMS)).json()
    assert "weak-secret" not in {f["id"] for f in es["findings"]}
    human = run("audit", "--crack", weak)
    assert "weak-secret" in human.out
    assert "fix:" in human.out
    missing = run("audit", "--wordlist", str(tmp_path / "none.txt"), weak)
    assert "--wordlist: cannot read" in one_line_error(missing, 2)


def test_the_shipped_weak_secrets() -> None:
    secrets = weak_secrets()
    assert len(secrets) >= 300
    assert len(set(secrets)) == len(secrets)
    assert {b"secret", b"your-256-bit-secret", b"keyboard cat", b"123456"} <= set(secrets)
    assert not any(s.startswith(b"#") for s in secrets)
    token = jwtkit.encode({}, jwtkit.OctKey(b"123456", allow_weak=True), "HS256")
    assert crack(token, "HS256", secrets) == b"123456"
    assert crack(token, "HS256", [b"-----BEGIN PUBLIC KEY-----"]) is None  # refused as a secret


@pytest.mark.parametrize(("level", "code"), [("high", 0), ("medium", 1), ("low", 1)])
def test_fail_on_sets_the_exit_status(level: str, code: int) -> None:
    token = raw_token(GOOD_HEADER, {k: v for k, v in GOOD_CLAIMS.items() if k != "aud"})
    result = run("audit", "--fail-on", level, "--json", token)
    assert result.code == code
    assert result.json()["failed"] is bool(code)
    assert result.json()["fail_on"] == level
    if code:
        assert one_line_error(result, 1) == f"audit: findings at or above {level} (worst: medium)"
    assert "'info' is not one of" in one_line_error(run("audit", "--fail-on", "info", token), 2)


def test_audit_of_a_jwe_reads_the_header_only() -> None:
    header = {"alg": "RSA1_5", "enc": "A128CBC-HS256", "zip": "DEF", "jku": "https://x.example"}
    token = ".".join([b64(json.dumps(header).encode()), "AAAA", "BBBB", "CCCC", "DDDD"])
    data = run("audit", "--json", token).json()
    assert data["format"] == "JWE"
    assert {f["id"] for f in data["findings"]} == {"alg-rsa1_5", "header-zip", "header-jku"}
    human = run("audit", token)
    assert "audit of a JWE token (RSA1_5)" in human.out
    okay = ".".join([b64(b'{"alg":"dir","enc":"A256GCM"}'), "", "BBBB", "CCCC", "DDDD"])
    assert run("audit", "--json", okay).json()["findings"] == []


def test_audit_of_a_malformed_token_fails_with_one_line() -> None:
    assert one_line_error(run("audit", "a.b"), 1).startswith("token: 2 segments")


def test_audit_colours_severities_on_a_terminal() -> None:
    result = run("audit", raw_token({"alg": 1}, {}), tty_stdout=True)
    assert "\x1b[" in result.out
    assert "a JWS token:" in result.out  # no algorithm name to show
