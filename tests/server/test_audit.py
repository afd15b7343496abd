"""Audit events: one JSON line each, and no token, password or secret can be logged."""

from __future__ import annotations

import json
import logging

import pytest

import jwtkit
from jwtkit.server.audit import EVENTS, FORBIDDEN_FIELDS, AuditLog, looks_like_jwt
from jwtkit.testing import FrozenClock

TOKEN = jwtkit.encode({"sub": "42"}, jwtkit.Key.generate("ES256"), algorithm="ES256")


@pytest.fixture
def audit() -> AuditLog:
    return AuditLog(clock=FrozenClock(1_700_000_000.25))


def _lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [json.loads(record.getMessage()) for record in caplog.records]


def test_event_is_one_json_line(audit: AuditLog, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="jwtkit.audit"):
        audit.event(
            "login_ok",
            user_id="u1",
            username="alice\nsecond line",
            client_ip="10.0.0.1",
            attempts=2,
            latency=0.25,
            rehashed=False,
            family_id=None,
        )
    [record] = caplog.records
    assert record.name == "jwtkit.audit"
    assert record.levelno == logging.INFO
    message = record.getMessage()
    assert "\n" not in message
    assert json.loads(message) == {
        "event": "login_ok",
        "time": "2023-11-14T22:13:20.250Z",
        "user_id": "u1",
        "username": "alice\nsecond line",
        "client_ip": "10.0.0.1",
        "attempts": 2,
        "latency": 0.25,
        "rehashed": False,
        "family_id": None,
    }
    assert list(json.loads(message))[:2] == ["event", "time"]


def test_security_events_are_warnings(audit: AuditLog, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="jwtkit.audit"):
        for name in sorted(EVENTS):
            audit.event(name)
    levels = {record.getMessage(): record.levelno for record in caplog.records}
    warnings = {json.loads(m)["event"] for m, level in levels.items() if level == logging.WARNING}
    assert warnings == {"login_failed", "reuse_detected", "code_reused", "rate_limited"}
    assert [line["event"] for line in _lines(caplog)] == sorted(EVENTS)


def test_the_service_events_are_listed() -> None:
    assert {
        "login_ok",
        "login_failed",
        "refresh",
        "reuse_detected",
        "revoke",
        "password_changed",
        "key_rotated",
        "key_retired",
        "rate_limited",
        "session_started",
        "session_ended",
        "code_reused",
    } == EVENTS


def test_other_logger_name(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="myapp.audit"):
        AuditLog("myapp.audit").event("custom_event", ok=True)
    [line] = _lines(caplog)
    assert line["event"] == "custom_event"
    assert isinstance(line["time"], str)
    assert line["time"].endswith("Z")


@pytest.mark.parametrize(
    "name",
    [
        *sorted(FORBIDDEN_FIELDS),
        "new_password",
        "Password",
        "api_secret",
        "id_token",
        "ACCESS_TOKEN",
    ],
)
def test_fields_that_carry_secrets_are_refused(
    audit: AuditLog, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    with (
        caplog.at_level(logging.DEBUG),
        pytest.raises(ValueError, match=f"audit field {name!r} is refused"),
    ):
        audit.event("login_ok", **{name: "hunter2-value"})
    assert "hunter2-value" not in caplog.text
    assert caplog.records == []


@pytest.mark.parametrize(
    "value",
    [
        TOKEN,
        f"Bearer {TOKEN}",
        f"x.{TOKEN}",
        f"prefix {TOKEN} suffix",
        TOKEN.rsplit(".", 1)[0] + ".",  # unsigned form
        "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d",  # JWE compact
    ],
)
def test_values_that_look_like_a_jwt_are_refused(audit: AuditLog, value: str) -> None:
    with pytest.raises(ValueError, match="looks like a JWT"):
        audit.event("refresh", reason=value)


@pytest.mark.parametrize(
    "value",
    ["id.example.com", "10.0.0.1", "1.2.3", "a.b.c", "alice", "", "jwtkit 0.1.0", "ab.!!.cd"],
)
def test_ordinary_values_are_not_mistaken_for_jwts(value: str) -> None:
    assert not looks_like_jwt(value)


def test_reserved_and_bad_names(audit: AuditLog) -> None:
    for name in ("time", "level", "logger", "message"):  # the fields of a JSON log line
        with pytest.raises(ValueError, match=f"'{name}' is reserved"):
            audit.event("login_ok", **{name: "now"})
    with pytest.raises(ValueError, match="lower_snake_case"):
        audit.event("Login OK")
    with pytest.raises(ValueError, match="lower_snake_case"):
        audit.event(None)  # type: ignore[arg-type]


def test_values_must_be_scalars(audit: AuditLog) -> None:
    with pytest.raises(TypeError, match="must be a string, number, boolean or None, got dict"):
        audit.event("login_ok", extra={"a": 1})  # type: ignore[arg-type]


def test_non_finite_numbers_become_null(audit: AuditLog, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="jwtkit.audit"):
        audit.event("refresh", took=float("nan"))
    assert _lines(caplog)[0]["took"] is None


def test_the_listener_hears_every_logged_event(caplog: pytest.LogCaptureFixture) -> None:
    heard: list[tuple[str, dict[str, object]]] = []
    audit = AuditLog(
        clock=FrozenClock(0), on_event=lambda name, fields: heard.append((name, dict(fields)))
    )
    with caplog.at_level(logging.INFO, logger="jwtkit.audit"):
        audit.event("login_failed", reason="bad_password")
        with pytest.raises(ValueError, match="refused"):
            audit.event("login_failed", password="x")  # refused: neither logged nor heard
    assert heard == [
        (
            "login_failed",
            {"event": "login_failed", "time": "1970-01-01T00:00:00.000Z", "reason": "bad_password"},
        )
    ]
    [record] = caplog.records
    # A JSON log line takes the fields as they are (jwtkit.server.log_format).
    assert record.json_fields == {"message": "login_failed", **heard[0][1]}  # type: ignore[attr-defined]
