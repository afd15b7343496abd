"""The helpers of the token commands: durations and times, input, rendering."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

import jwtkit
from jwtkit.cli import _io, _output, _time
from jwtkit.cli._errors import UsageProblem
from jwtkit.cli.audit import sensitive_values

from .conftest import REAL_CURRENT_TIME
from .helpers import NOW, one_line_error, raw_token, run


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("900", 900.0),
        ("15m", 900.0),
        ("1h30m", 5400.0),
        ("2d", 172800.0),
        ("1w", 604800.0),
        ("1.5s", 1.5),
        ("-5m", -300.0),
        ("+10s", 10.0),
        (" 7d ", 604800.0),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert _time.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "5x", "1h 30m", "1.5.2s", "five"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        _time.parse_duration(text)


def test_parse_time() -> None:
    assert _time.parse_time("now", NOW) == NOW
    assert _time.parse_time("15m", NOW) == NOW + 900
    assert _time.parse_time("@1600000000.5", NOW) == 1600000000.5
    assert _time.parse_time("2030-01-01T01:00:00+01:00", NOW) == 1893456000
    assert _time.parse_time("2030-01-01T00:00:00", NOW) == 1893456000  # naive is UTC
    with pytest.raises(ValueError, match="not a time"):
        _time.parse_time("next tuesday", NOW)
    with pytest.raises(ValueError, match="Unix time"):
        _time.parse_time("@inf", NOW)


def test_human_times() -> None:
    assert _time.relative(NOW + 0.5, NOW) == "now"
    assert _time.relative(NOW + 45, NOW) == "in 45 s"
    assert _time.relative(NOW - 899, NOW) == "15 min ago"
    assert _time.relative(NOW - 850, NOW) == "14 min ago"
    assert _time.relative(NOW + 5 * 3600, NOW) == "in 5 h"
    assert _time.relative(NOW - 3 * 86400, NOW) == "3 days ago"
    assert _time.relative(NOW + 40 * 365.25 * 86400, NOW) == "in 40 years"
    assert _time.iso(NOW + 0.9) == "2023-11-14T22:13:20Z"
    assert _time.numeric_date(10**13) is None
    assert _time.numeric_date(True) is None
    assert _time.numeric_date(1.5) == 1.5


def test_the_real_clock() -> None:
    assert abs(REAL_CURRENT_TIME() - time.time()) < 5


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        ("-3", -3),
        ("0", 0),
        ("007", "007"),
        ("1.25", 1.25),
        ("-1e3", -1000.0),
        ("1e999", "1e999"),
        ("true", True),
        ("false", False),
        ("null", None),
        ("True", "True"),
        ("", ""),
        (" 1", " 1"),
    ],
)
def test_infer_value(text: str, value: object) -> None:
    inferred = _io.infer_value(text)
    assert inferred == value
    assert type(inferred) is type(value)


def test_read_input_outside_a_command_and_from_a_text_only_stdin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("from text"))
    assert _io.read_input("-", "X") == b"from text"


def test_safe_escapes_what_a_terminal_would_interpret() -> None:
    assert _output.safe("a\x1bb") == '"a\\u001bb"'
    assert _output.safe("\u202e") == '"\\u202e"'
    assert _output.safe("\U000e0001") == '"\\udb40\\udc01"'
    assert _output.safe("\ud800") == '"\\ud800"'
    assert _output.safe("héllo ✓") == '"héllo ✓"'
    assert _output.printable("a\nb", keep="\n") == "a\nb"


def test_style_is_plain_without_colour() -> None:
    assert _output.Style(color=False)("x", "bad") == "x"
    assert _output.Style(color=True)("x", "bad") != "x"


def test_decode_shows_other_dates_and_an_empty_header() -> None:
    token = raw_token({}, {"auth_time": NOW - 7200, "updated_at": 10**13})
    result = run("decode", token)
    assert result.code == 0
    assert "authenticated at  2023-11-14T20:13:20Z, 2 h ago" in result.out
    assert "profile updated: not a NumericDate" in result.out


def test_verify_reports_a_key_for_an_algorithm_it_cannot_verify(tmp_path: Path) -> None:
    key = jwtkit.Key.generate("RSA-OAEP-256")  # an encryption key: its alg signs nothing
    path = tmp_path / "enc.jwk"
    path.write_text(json.dumps(key.public_key().to_jwk()))
    message = one_line_error(run("verify", "--key", str(path), "a.b.c"), 2)
    assert "'RSA-OAEP-256' is not a supported algorithm" in message


def test_iban_candidates_that_are_too_short_are_ignored() -> None:
    assert sensitive_values({"ref": "GB82 WEST 1234"}) == []


def test_usage_problem_exit_status() -> None:
    assert UsageProblem("x").exit_code == 2
