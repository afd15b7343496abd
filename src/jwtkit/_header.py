"""Validation of JOSE protected headers: member types and ``crit`` (RFC 7515 §4.1, §4.1.11;
RFC 7797 §6; security matrix A9, A10, D3).

Only the structure is checked here. Which algorithm and which key a header may use is decided by
the caller's allow-list and trusted keys, never by the header (A4): ``jwk``, ``jku``, ``x5u`` and
``x5c`` are kept in the returned header for the caller to read but are never used to find a key
(an ``x5c`` chain only by a :class:`jwtkit.x509.X5CKeyProvider` the caller gives as its key).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from ._messages import short
from .errors import MalformedToken, UnsupportedCritical

__all__ = ["REGISTERED_HEADER_NAMES", "check_header"]

#: Header parameter names registered by RFC 7515 §4.1 and RFC 7516 §4.1 / RFC 7518 §4.
#: ``crit`` must not list them (RFC 7515 §4.1.11).
REGISTERED_HEADER_NAMES = frozenset(
    {
        "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit",
        "enc", "zip", "epk", "apu", "apv", "iv", "tag", "p2s", "p2c",
    }
)  # fmt: skip

#: Extensions this library itself processes when they are listed in ``crit``.
UNDERSTOOD_EXTENSIONS = frozenset({"b64"})

_STRING_MEMBERS = ("alg", "kid", "typ", "cty", "jku", "x5u", "x5t", "x5t#S256", "enc", "zip")


def check_header(header: Mapping[str, Any], understood: Collection[str] = ()) -> None:
    """Check member types and ``crit`` of a protected header; raise :class:`MalformedToken`.

    ``understood`` names extensions the caller processes itself, in addition to ``b64``.
    """
    for name in _STRING_MEMBERS:
        if name in header and type(header[name]) is not str:
            raise MalformedToken(
                f"header: {name!r} must be a string, got {_json_kind(header[name])}"
            )
    if "alg" not in header:
        raise MalformedToken("header: 'alg' is missing (RFC 7515 §4.1.1)")
    if "jwk" in header and type(header["jwk"]) is not dict:
        raise MalformedToken("header: 'jwk' must be an object")
    if "x5c" in header and (
        type(header["x5c"]) is not list or not all(type(c) is str for c in header["x5c"])
    ):
        raise MalformedToken("header: 'x5c' must be an array of strings")
    if "b64" in header and type(header["b64"]) is not bool:
        raise MalformedToken("header: 'b64' must be true or false (RFC 7797 §3)")
    if "crit" in header:
        _check_crit(header, understood)
    elif "b64" in header:
        raise UnsupportedCritical("header: 'b64' must be listed in 'crit' (RFC 7797 §6)")


def _check_crit(header: Mapping[str, Any], understood: Collection[str]) -> None:
    crit = header["crit"]
    if type(crit) is not list or not crit:
        raise MalformedToken("header: 'crit' must be a non-empty array (RFC 7515 §4.1.11)")
    seen: set[str] = set()
    for name in crit:
        if type(name) is not str:
            raise MalformedToken("header: 'crit' must list strings")
        if name in seen:
            raise MalformedToken(f"header: 'crit' lists {short(name)} twice")
        seen.add(name)
        if name in REGISTERED_HEADER_NAMES:
            raise MalformedToken(
                f"header: 'crit' must not list the registered parameter {short(name)}"
            )
        if name not in header:
            raise MalformedToken(f"header: 'crit' lists {short(name)}, which is absent")
        if name not in UNDERSTOOD_EXTENSIONS and name not in understood:
            raise UnsupportedCritical(
                f"header: critical extension {short(name)} is not understood; "
                "pass crit=[...] to declare the extensions your code processes"
            )
    if "b64" in header and "b64" not in seen:
        raise UnsupportedCritical("header: 'b64' must be listed in 'crit' (RFC 7797 §6)")


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__  # pragma: no cover - JSON has no other types
