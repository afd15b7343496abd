"""Security audit events: one JSON object per line, through the ``logging`` module.

::

    audit = AuditLog()
    audit.event("login_failed", username="alice", client_ip="10.0.0.7", reason="bad_password")
    # {"event":"login_failed","time":"2023-11-14T22:13:20.000Z","username":"alice",...}

Each event is also handed to the ``on_event`` listener, if any: the service's metrics count
what the events say (:meth:`jwtkit.server.metrics.Metrics.audit_event`). With ``log_format =
"json"`` an event's fields become the fields of its log line, not a JSON string inside one
(the record carries them as ``json_fields``, :mod:`jwtkit.server.log_format`).

Tokens, passwords and secrets never reach the log: the field names that carry them are
refused, and so is any value that contains something shaped like a JWT (RFC 7519 §3, the
JWS compact form of RFC 7515 §7.1). Such a call raises :class:`ValueError` at once, so a
mistake shows in the tests instead of in the logs. Log a ``jti`` or a family id instead.
"""

from __future__ import annotations

import binascii
import json
import logging
import math
import re
import time
from base64 import urlsafe_b64decode
from collections.abc import Callable, Mapping
from datetime import datetime, timezone

from .models import AuditSeverity

__all__ = ["EVENTS", "FORBIDDEN_FIELDS", "AuditLog", "looks_like_jwt", "severity"]

#: The events the service emits. Others are allowed (lower_snake_case names).
EVENTS = frozenset(
    {
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
    }
)
#: Field names that are refused outright; names containing "password" or "secret", or ending
#: in "token", are refused too.
FORBIDDEN_FIELDS = frozenset(
    {"token", "access_token", "refresh_token", "password", "secret", "client_secret"}
)
#: Events that are security warnings rather than routine information.
_WARNING_EVENTS = frozenset({"login_failed", "reuse_detected", "code_reused", "rate_limited"})
_LEVELS: dict[AuditSeverity, int] = {"info": logging.INFO, "warning": logging.WARNING}
#: Field names the record itself has (and, in a JSON log line, the line: level, logger,
#: message).
_RESERVED = frozenset({"event", "time", "level", "logger", "message"})
_EVENT_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
# Three or more dot-separated base64url runs: the JWS (3 parts) and JWE (5 parts) compact forms.
_COMPACT = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*){2,}")


def _is_json_object_segment(segment: str) -> bool:
    try:
        decoded = urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return False
    return decoded.lstrip()[:1] == b"{"


def looks_like_jwt(value: str) -> bool:
    """``True`` when ``value`` contains a JWS/JWE compact serialization: a base64url segment
    that decodes to a JSON object (the JOSE header) followed by two or more dotted segments."""
    for match in _COMPACT.finditer(value):
        segments = match.group().split(".")
        if any(_is_json_object_segment(segment) for segment in segments[:-2]):
            return True
    return False


def severity(name: str) -> AuditSeverity:
    """``"warning"`` for the events that are security warnings, ``"info"`` for the rest."""
    return "warning" if name in _WARNING_EVENTS else "info"


def _refused_name(name: str) -> bool:
    lowered = name.lower()
    return (
        lowered in FORBIDDEN_FIELDS
        or "password" in lowered
        or "secret" in lowered
        or lowered.endswith("token")
    )


class AuditLog:
    """Emits audit events as single-line JSON records on the ``logger_name`` logger.

    ``login_failed``, ``reuse_detected`` and ``rate_limited`` are logged at WARNING, the rest
    at INFO.
    """

    def __init__(
        self,
        logger_name: str = "jwtkit.audit",
        *,
        clock: Callable[[], float] = time.time,
        on_event: Callable[[str, Mapping[str, object]], None] | None = None,
    ) -> None:
        self.logger = logging.getLogger(logger_name)
        self._clock = clock
        self._on_event = on_event

    def event(self, name: str, **fields: str | int | float | bool | None) -> None:
        """Log one event. Raises :class:`ValueError` for a field that could carry a token,
        password or secret, and :class:`TypeError` for a value that is not a scalar."""
        if not isinstance(name, str) or not _EVENT_NAME.fullmatch(name):
            raise ValueError(f"audit event names are lower_snake_case, got {name!r}")
        record: dict[str, object] = {
            "event": name,
            "time": datetime.fromtimestamp(self._clock(), timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
        }
        for key, value in fields.items():
            if key in _RESERVED:
                raise ValueError(f"audit field {key!r} is reserved")
            if _refused_name(key):
                raise ValueError(
                    f"audit field {key!r} is refused: tokens, passwords and secrets are never "
                    "logged (log a jti or an id instead)"
                )
            if value is not None and not isinstance(value, (str, int, float)):
                raise TypeError(
                    f"audit field {key!r} must be a string, number, boolean or None, "
                    f"got {type(value).__name__}"
                )
            if isinstance(value, str) and looks_like_jwt(value):
                raise ValueError(
                    f"audit field {key!r} looks like a JWT: tokens are never logged "
                    "(log its jti instead)"
                )
            record[key] = None if isinstance(value, float) and not math.isfinite(value) else value
        self.logger.log(
            _LEVELS[severity(name)],
            json.dumps(record, separators=(",", ":"), ensure_ascii=True),
            extra={"json_fields": {"message": name, **record}},
        )
        if self._on_event is not None:
            self._on_event(name, record)
