"""Keeping error messages and reprs short and free of key material (security matrix F4).

Only identifiers (``kid``, ``alg``, member names) ever reach a message, and those are
attacker-controlled strings when they come from a JWK Set, so they are shown through
:func:`short`: ``repr`` (control characters escaped), cut to a bounded length.
"""

from __future__ import annotations

__all__ = ["short"]

_MAX_SHOWN = 60


def short(value: object) -> str:
    """A bounded ``repr`` of an identifier, or the type name of anything that is not a string."""
    if isinstance(value, str):
        shown = repr(value[:_MAX_SHOWN])
        return shown if len(value) <= _MAX_SHOWN else shown + "..."
    if value is None:
        return "null"
    return f"a value of type {type(value).__name__}"
