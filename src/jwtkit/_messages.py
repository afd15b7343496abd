"""Keeping error messages and reprs short and free of key material (security matrix F4).

Only identifiers (``kid``, ``alg``, member names) ever reach a message, and those are
attacker-controlled strings when they come from a JWK Set, so they are shown through
:func:`short`: ``repr`` (control characters escaped), cut to a bounded length.

A token's values shown to people (the commands' output, the token audit's findings) go
through :func:`safe` (compact JSON) or :func:`printable`: non-printable characters (ANSI
escapes, bidi overrides, lone surrogates) are written as ``\\uXXXX``, so a token cannot send
escape sequences to a terminal or reorder the text around it.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["printable", "safe", "short"]

_MAX_SHOWN = 60


def short(value: object) -> str:
    """A bounded ``repr`` of an identifier, or the type name of anything that is not a string."""
    if isinstance(value, str):
        shown = repr(value[:_MAX_SHOWN])
        return shown if len(value) <= _MAX_SHOWN else shown + "..."
    if value is None:
        return "null"
    return f"a value of type {type(value).__name__}"


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def printable(text: str, keep: str = "") -> str:
    """``text`` with its non-printable characters (except those in ``keep``) escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in keep else _escape(c) for c in text)


def safe(value: Any) -> str:
    """A token's value as compact JSON that is safe to print: non-printable characters (ANSI
    escapes, bidi overrides, lone surrogates) are written as ``\\uXXXX``."""
    return printable(json.dumps(value, ensure_ascii=False, separators=(", ", ": ")))
