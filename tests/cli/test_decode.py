"""``jwtkit decode``: header, claims and signature, always labelled UNVERIFIED."""

from __future__ import annotations

import json
from pathlib import Path

import jwtkit

from .helpers import NOW, SECRET, b64, one_line_error, raw_token, run, write

DECODE_KEYS = {"verified", "format", "header", "claims", "signature", "times", "note"}


def test_decode_shows_unverified_header_claims_signature_and_times() -> None:
    token = jwtkit.encode(
        {"sub": "42", "iss": "https://id.example", "exp": NOW + 14 * 60 + 20, "iat": NOW - 30,
         "nbf": NOW - 3 * 86400, "name": "Alice"},
        SECRET,
        headers={"kid": "k1"},
    )  # fmt: skip
    result = run("decode", token)
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert lines[0].startswith("UNVERIFIED")
    assert "Header" in lines
    assert "Claims" in lines
    assert "Signature" in lines
    text = result.out
    assert "expires in 14 min" in text
    assert "2023-11-14T22:27:40Z" in text
    assert "valid since 3 days ago" in text
    assert "issued 30 s ago" in text
    assert "issuer" in text
    assert "subject" in text
    assert "key ID" in text
    assert "HS256, 32 bytes" in text
    assert "lifetime 15 min (exp - iat)" in text
    assert "\x1b[" not in text  # no colour when not a terminal


def test_decode_json_schema() -> None:
    token = jwtkit.encode({"sub": "42", "exp": NOW - 3 * 86400}, SECRET)
    data = run("decode", "--json", token).json()
    assert set(data) == DECODE_KEYS
    assert data["verified"] is False
    assert data["format"] == "JWS"
    assert data["header"] == {"alg": "HS256", "typ": "JWT"}
    assert data["claims"] == {"sub": "42", "exp": NOW - 3 * 86400}
    assert data["signature"] == {"algorithm": "HS256", "length": 32}
    assert data["times"] == {
        "exp": {"iso": "2023-11-11T22:13:20Z", "relative": "expired 3 days ago"}
    }
    assert data["note"] is None


def test_decode_reads_stdin_a_file_and_a_bearer_header(tmp_path: Path) -> None:
    token = jwtkit.encode({"sub": "42"}, SECRET)
    expected = run("decode", "--json", token).json()
    assert run("decode", "--json", "-", stdin=token + "\n").json() == expected
    assert run("decode", "--json", stdin=f"Bearer {token}").json() == expected
    assert run("decode", "--json", write(tmp_path / "t.txt", f"  {token}\n")).json() == expected
    assert run("decode", "--json", f"bearer {token}").json() == expected


def test_decode_jwe_shows_the_protected_header_only() -> None:
    header = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "k"}
    token = ".".join([b64(json.dumps(header).encode()), "AAAA", "BBBB", "CCCC", "DDDD"])
    human = run("decode", token)
    assert human.code == 0
    assert "encrypted token (JWE): shows the protected header only" in human.out
    assert "content encryption" in human.out
    data = run("decode", "--json", token).json()
    assert set(data) == DECODE_KEYS
    assert data["format"] == "JWE"
    assert data["header"] == header
    assert data["claims"] is None
    assert data["signature"] is None
    assert data["times"] == {}
    assert data["note"] == "encrypted token (JWE): shows the protected header only"


def test_decode_unsecured_token_says_so() -> None:
    token = raw_token({"alg": "none"}, {"sub": "x"}, b"")
    result = run("decode", token)
    assert result.code == 0
    assert "none: no signature (an unsecured token)" in result.out


def test_decode_escapes_control_characters_from_the_token() -> None:
    token = raw_token({"alg": "HS256", "kid": "\x1b[31mred"}, {"\x1b]0;x\x07": "\u202eevil"})
    result = run("decode", token)
    assert result.code == 0
    assert "\x1b" not in result.out
    assert "\u202e" not in result.out
    assert "\\u001b[31mred" in result.out
    assert "\\u202eevil" in result.out
    data = run("decode", "--json", token)
    assert "\x1b" not in data.out
    assert "\u202e" not in data.out
    assert data.json()["header"]["kid"] == "\x1b[31mred"


def test_decode_shows_claims_that_are_not_numeric_dates() -> None:
    token = raw_token({"alg": "HS256"}, {"exp": "tomorrow", "iat": True})
    result = run("decode", token)
    assert "expires: not a NumericDate" in result.out
    times = run("decode", "--json", token).json()["times"]
    assert times == {
        "exp": {"iso": None, "relative": None},
        "iat": {"iso": None, "relative": None},
    }


def test_decode_empty_claims_and_colour_on_a_terminal() -> None:
    token = raw_token({"alg": "HS256"}, {})
    result = run("decode", token, tty_stdout=True)
    assert "(none)" in result.out
    assert "\x1b[" in result.out
    plain = run("decode", token, tty_stdout=True, env={"NO_COLOR": "1"})
    assert "\x1b[" not in plain.out
    dumb = run("decode", token, tty_stdout=True, env={"TERM": "dumb"})
    assert "\x1b[" not in dumb.out


def test_decode_errors_are_one_line_with_exit_status_1() -> None:
    assert one_line_error(run("decode", "a.b"), 1) == "token: 2 segments, expected 3 (JWS compact)"
    message = one_line_error(run("decode", "e30.!!!.x"), 1)
    assert "base64url" in message
    bad_json = b64(b"{nope") + "." + b64(b"{}") + ".c2ln"
    assert "header: invalid JSON" in one_line_error(run("decode", bad_json), 1)
    assert "header" in one_line_error(run("decode", "a.b.c.d.e"), 1)
    assert one_line_error(run("decode", stdin="  \n"), 1) == "the token is empty"


def test_decode_usage_errors_exit_2(tmp_path: Path) -> None:
    message = one_line_error(run("decode", "not-a-token"), 2)
    assert message == "TOKEN is neither a token nor a readable file"
    missing = one_line_error(run("decode", str(tmp_path / "missing" / "t.txt")), 2)
    assert "cannot read" in missing
    assert "No such file" in missing
    assert "missing TOKEN" in one_line_error(run("decode", tty_stdin=True), 2)
    assert "No such option" in one_line_error(run("decode", "--nope"), 2)
