"""Durations, points in time and their human forms for the ``jwtkit`` commands.

* :func:`parse_duration`: ``"900"`` (seconds), ``"15m"``, ``"1h30m"``, ``"2d"``, ``"1w"``;
* :func:`parse_time`: a duration from now, ``now``, ``@1700000000`` (a Unix time) or an
  ISO 8601 time (``2026-01-01T00:00:00Z``; without a zone it is UTC);
* :func:`iso` and :func:`relative`: a NumericDate (RFC 7519 §2) shown as
  ``2026-01-01T00:00:00Z`` and ``in 14 min`` / ``3 days ago`` (:func:`relative`,
  :func:`human_duration` and :func:`numeric_date` are :mod:`jwtkit._times`', shared with the
  token audit).

The current time comes from :func:`current_time`, the one clock of the commands (tests replace
it; nothing here reads the clock by itself).
"""

from __future__ import annotations

import math
import re
import time
from datetime import datetime, timezone

import click

from .._times import human_duration, numeric_date, relative

__all__ = [
    "current_time",
    "duration_option",
    "human_duration",
    "iso",
    "numeric_date",
    "parse_duration",
    "parse_time",
    "relative",
    "time_option",
]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"([+-]?)((?:\d+(?:\.\d+)?[smhdw])+|\d+(?:\.\d+)?)")
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def current_time() -> float:
    """The current Unix time (the commands' clock; tests replace this function)."""
    return time.time()


def parse_duration(text: str) -> float:
    """Seconds from ``"900"``, ``"15m"``, ``"1h30m"``, ``"2d"``, ``"-5m"``; ``ValueError``."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"{text!r} is not a duration; use seconds or a number with a unit s, m, h, d or w "
            "(e.g. 900, 15m, 1h30m, 7d)"
        )
    sign, body = match.groups()
    parts = _PART.findall(body)
    total = sum(float(n) * _UNITS[unit] for n, unit in parts) if parts else float(body)
    return -total if sign == "-" else total


def parse_time(text: str, now: float) -> float:
    """A Unix time from a duration after ``now``, ``now``, ``@<unix time>`` or ISO 8601."""
    value = text.strip()
    if value == "now":
        return now
    if value.startswith("@"):
        try:
            stamp = float(value[1:])
        except ValueError:
            raise ValueError(
                f"{text!r}: expected a Unix time after '@', e.g. @1700000000"
            ) from None
        if not math.isfinite(stamp):
            raise ValueError(f"{text!r}: expected a Unix time after '@', e.g. @1700000000")
        return stamp
    try:
        return now + parse_duration(value)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time; use a duration from now (15m, 2h, 7d), 'now', "
            "@<unix time> or an ISO 8601 time (2030-01-01T00:00:00Z)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def duration_option(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """A click callback: the option's :func:`parse_duration` seconds (a usage error on bad
    or negative input)."""
    if value is None:
        return None
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None
    if seconds < 0:
        raise click.BadParameter(f"{value!r}: a negative duration is not allowed here", ctx, param)
    return seconds


def time_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A click callback that checks a :func:`parse_time` argument (the command resolves it
    against the current time)."""
    if value is not None:
        try:
            parse_time(value, 0.0)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None
    return value


def iso(timestamp: float) -> str:
    """ISO 8601 UTC: ``2026-01-01T00:00:00Z`` (fractions of a second are dropped)."""
    return datetime.fromtimestamp(math.floor(timestamp), timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
