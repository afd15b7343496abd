"""Rendering for the ``jwtkit`` commands: JSON for machines, aligned text for people.

Colour is used only when standard output is a terminal and ``NO_COLOR`` is unset or empty
(https://no-color.org) and ``TERM`` is not ``dumb``; piped output is the same text without
escape codes. Every value that comes from a token is shown through :func:`safe` (JSON-quoted,
with non-printable characters escaped; defined in :mod:`jwtkit._messages`, shared with the
token audit), so a token cannot send escape sequences to the terminal.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click

from .._messages import printable, safe
from ._glossary import CLAIMS, HEADER, TIME_CLAIMS
from ._time import human_duration, iso, numeric_date, relative

__all__ = [
    "Style",
    "color_enabled",
    "emit_json",
    "key_label",
    "printable",
    "safe",
    "table",
    "time_phrase",
    "times_json",
    "token_sections",
]

_ROLES: Mapping[str, dict[str, Any]] = {
    "title": {"bold": True},
    "name": {"fg": "cyan"},
    "note": {"dim": True},
    "good": {"fg": "green", "bold": True},
    "bad": {"fg": "red", "bold": True},
    "warn": {"fg": "yellow", "bold": True},
    "critical": {"fg": "magenta", "bold": True, "reverse": True},
    "high": {"fg": "red", "bold": True},
    "medium": {"fg": "yellow", "bold": True},
    "low": {"fg": "blue", "bold": True},
    "info": {"dim": True},
}
_MAX_VALUE_COLUMN = 44
_MAX_NAME_COLUMN = 16


def color_enabled() -> bool:
    """``True`` when standard output is a terminal and neither ``NO_COLOR`` nor a dumb
    ``TERM`` asks for plain text."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()


class Style:
    """Applies a role's colour when colour is on; the identity otherwise."""

    def __init__(self, color: bool | None = None) -> None:
        self.color = color_enabled() if color is None else color

    def __call__(self, text: str, role: str) -> str:
        if not self.color:
            return text
        return click.style(text, **_ROLES[role])


def emit_json(value: Any) -> None:
    """Print ``value`` as indented JSON (non-printable characters escaped, still valid JSON)."""
    text = json.dumps(value, ensure_ascii=False, indent=2)
    click.echo(printable(text, keep="\n"))


def table(rows: Sequence[tuple[str, str, str]], style: Style, indent: str = "  ") -> list[str]:
    """Rows of (name, value, note) aligned in columns; notes are dimmed."""
    if not rows:
        return []
    name_width = min(max(len(r[0]) for r in rows), _MAX_NAME_COLUMN)
    value_width = min(max(len(r[1]) for r in rows), _MAX_VALUE_COLUMN)
    lines = []
    for name, value, note in rows:
        line = indent + style(name.ljust(name_width), "name") + "  "
        if note:
            line += value.ljust(value_width) + "  " + style(note, "note")
        else:
            line += value
        lines.append(line.rstrip())
    return lines


def time_phrase(name: str, timestamp: float, now: float) -> str:
    """``expires in 14 min``, ``expired 3 days ago``, ``issued 2 h ago``..."""
    when = relative(timestamp, now)
    future = timestamp > now
    if name == "exp":
        return f"expires {when}" if future else f"expired {when}"
    if name == "nbf":
        return f"valid {when}" if future else f"valid since {when}"
    if name == "iat":
        return f"issued {when}" + (" (in the future)" if future else "")
    return when


def times_json(claims: Mapping[str, Any], now: float) -> dict[str, Any]:
    """``{"exp": {"iso": ..., "relative": ...}, ...}`` for the NumericDate claims present;
    a claim that is not a NumericDate gets ``{"iso": null, "relative": null}``."""
    times: dict[str, Any] = {}
    for name in TIME_CLAIMS:
        if name not in claims:
            continue
        stamp = numeric_date(claims[name])
        if stamp is None:
            times[name] = {"iso": None, "relative": None}
        else:
            times[name] = {"iso": iso(stamp), "relative": time_phrase(name, stamp, now)}
    return times


def _claim_note(name: str, value: Any, now: float) -> str:
    word = CLAIMS.get(name, "")
    if name not in TIME_CLAIMS:
        return word
    stamp = numeric_date(value)
    if stamp is None:
        return f"{word}: not a NumericDate (seconds since 1970)"
    return f"{word}  {iso(stamp)}, {time_phrase(name, stamp, now)}"


def token_sections(
    header: Mapping[str, Any], claims: Mapping[str, Any] | None, now: float, style: Style
) -> list[str]:
    """The ``Header`` and ``Claims`` sections: each member, its value, a word about it."""
    lines = [style("Header", "title")]
    lines += table([(printable(k), safe(v), HEADER.get(k, "")) for k, v in header.items()], style)
    if claims is not None:
        lines += ["", style("Claims", "title")]
        rows = [(printable(k), safe(v), _claim_note(k, v, now)) for k, v in claims.items()]
        lines += table(rows, style) if rows else ["  (none)"]
        exp, iat = numeric_date(claims.get("exp")), numeric_date(claims.get("iat"))
        if exp is not None and iat is not None and exp > iat:
            lines.append(style(f"  lifetime {human_duration(exp - iat)} (exp - iat)", "note"))
    return lines


def key_label(key: Any) -> str:
    """``EC key "k1"``: the type and kid of a :class:`~jwtkit.jwk.Key`, no key material."""
    kid = key.kid
    return f"{key.kty} key" + ("" if kid is None else f" {safe(kid)}")
