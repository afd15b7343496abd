"""The encoding layer: strict base64url, strict JSON, and compact-serialization checks.

Everything a token is made of passes through here before any other code sees it, so that each
value has exactly one accepted encoding (security matrix B7, D1-D5):

* base64url without padding, only ``[A-Za-z0-9_-]``, no whitespace, zero trailing bits
  (RFC 7515 §2, RFC 4648 §5 and §3.5);
* JSON that is UTF-8 without a BOM, has an object at the top level, no duplicate member names,
  no ``NaN``/``Infinity``, no number that overflows to infinity, and bounded nesting
  (RFC 7515 §5.2, RFC 7519 §7.2, RFC 8725 §3.7, RFC 8259 §4);
* compact serializations with exactly the right number of dots and only base64url characters,
  checked before splitting, with a maximum size;
* the JSON serializations of JWS and JWE (RFC 7515 §7.2, RFC 7516 §7.2) read by one loader,
  with a maximum size, and their ``signatures``/``recipients`` arrays bounded by one rule.

Standard library only.
"""

from __future__ import annotations

import binascii
import json
import math
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .errors import MalformedToken, TokenTooLarge

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_JSON_ENTRIES",
    "DEFAULT_MAX_TOKEN_SIZE",
    "b64url_decode",
    "b64url_decode_fast",
    "b64url_encode",
    "check_compact",
    "json_dumps",
    "json_entries",
    "json_loads_object",
    "json_loads_value",
    "json_serialization_object",
    "json_type",
]

#: Default upper bound on the length of a token, in characters (security matrix D1).
DEFAULT_MAX_TOKEN_SIZE = 256 * 1024
#: Default upper bound on JSON nesting in headers and claims (security matrix D2).
DEFAULT_MAX_DEPTH = 32
#: Default upper bound on the signatures of a JWS and the recipients of a JWE in JSON
#: serialization, so that one input cannot make a verifier run an unbounded number of
#: signature checks or key unwraps (security matrix D1).
DEFAULT_MAX_JSON_ENTRIES = 32

_B64URL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
# The last character of a segment whose length is 2 (mod 4) carries 4 unused bits, and of one
# whose length is 3 (mod 4) carries 2; canonical encodings leave them zero (RFC 4648 §3.5).
_CANONICAL_LAST_2 = frozenset("AQgw")
_CANONICAL_LAST_3 = frozenset("AEIMQUYcgkosw048")
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")
_JWS_COMPACT_RE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")


_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
# Decoding table: base64url's '-' and '_' become '+' and '/', while the standard alphabet's own
# '+', '/' and '=' become '!', which strict decoding refuses (one alphabet, no padding, B7).
_FROM_URLSAFE = bytes.maketrans(b"-_+/=", b"+/!!!")
_b2a = binascii.b2a_base64
_a2b = binascii.a2b_base64


def b64url_encode(data: bytes) -> str:
    """Encode ``data`` as unpadded base64url (RFC 7515 §2)."""
    return _b2a(data, newline=False).translate(_TO_URLSAFE).rstrip(b"=").decode("ascii")


def b64url_decode_fast(segment: str) -> bytes:
    """Strictly decode a base64url segment; raise ``ValueError`` (no message) on any flaw.

    For hot paths that fall back to :func:`b64url_decode` to report the precise error.
    """
    rest = len(segment) & 3
    padding = b""
    if rest:
        if rest == 1 or segment[-1] not in (_CANONICAL_LAST_2 if rest == 2 else _CANONICAL_LAST_3):
            raise ValueError("non-canonical base64url")
        padding = b"==" if rest == 2 else b"="
    data = segment.encode("ascii").translate(_FROM_URLSAFE) + padding
    if sys.version_info >= (3, 11):
        return _a2b(data, strict_mode=True)
    if not _B64URL_RE.fullmatch(segment):  # pragma: no cover - Python 3.10
        raise ValueError("not base64url")
    return _a2b(data)  # pragma: no cover - Python 3.10


def _check_b64url_tail(segment: str, what: str) -> None:
    rest = len(segment) & 3
    if rest == 0:
        return
    if rest == 1:
        raise MalformedToken(f"{what}: invalid base64url length {len(segment)}")
    last = segment[-1]
    if last not in (_CANONICAL_LAST_2 if rest == 2 else _CANONICAL_LAST_3):
        raise MalformedToken(f"{what}: non-canonical base64url (non-zero trailing bits)")


def b64url_decode(segment: str | bytes, what: str = "value") -> bytes:
    """Decode strict, unpadded, canonical base64url; anything else raises :class:`MalformedToken`.

    ``what`` names the value in the error message ("header", "signature", a JWK member, ...).
    """
    if isinstance(segment, bytes):
        try:
            segment = segment.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedToken(f"{what}: not base64url (non-ASCII bytes)") from None
    if not isinstance(segment, str):
        raise MalformedToken(f"{what}: expected a base64url string, got {type(segment).__name__}")
    if not _B64URL_RE.fullmatch(segment):
        raise MalformedToken(
            f"{what}: not base64url (only A-Z a-z 0-9 - _ without padding or whitespace)"
        )
    return _decode_checked_alphabet(segment, what)


def _decode_checked_alphabet(segment: str, what: str) -> bytes:
    """Decode a segment already known to hold only base64url characters."""
    _check_b64url_tail(segment, what)
    try:
        return b64url_decode_fast(segment)
    except ValueError:  # pragma: no cover - alphabet and length checked above
        raise MalformedToken(f"{what}: not base64url") from None


def _reject_constant(name: str) -> Any:
    raise MalformedToken(f"JSON: {name} is not allowed (RFC 8259 §6)")


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise MalformedToken("JSON: number out of range")
    return value


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise MalformedToken(f"JSON: duplicate member name {name!r} (RFC 7515 §5.2)")
            seen.add(name)
    return obj


_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique_object,
    parse_float=_parse_float,
    parse_constant=_reject_constant,
)
_decode_raw = _DECODER.decode
# The decoder's C scanner, typed by hand (the stubs do not declare it).
_scan_once: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def _depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value, iteratively (no recursion to exhaust)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in item)
    return deepest


def json_loads_object(
    data: bytes, what: str = "JSON", max_depth: int = DEFAULT_MAX_DEPTH
) -> dict[str, Any]:
    """Parse ``data`` as strict UTF-8 JSON whose top level is an object.

    Rejects a BOM, invalid UTF-8, duplicate member names, ``NaN``/``Infinity``, numbers that
    overflow, nesting deeper than ``max_depth`` and any non-object top level, each with a
    :class:`MalformedToken` naming ``what``.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedToken(f"{what}: not valid UTF-8 (RFC 8725 §3.7)") from None
    # Cheap bound first: the depth cannot exceed the number of opening brackets.
    shallow = text.count("{") + text.count("[") <= max_depth
    if shallow:
        # Fast path: the C scanner alone, for input with no surrounding whitespace. Anything
        # unusual falls through to the full decoder, which reports the precise error.
        try:
            value, end = _scan_once(text, 0)
        except (StopIteration, ValueError, MalformedToken, RecursionError):
            pass
        else:
            if end == len(text) and type(value) is dict:
                return value
    try:
        value = _decode_raw(text)
    except RecursionError:
        raise MalformedToken(f"{what}: nesting deeper than {max_depth} levels") from None
    except MalformedToken as exc:
        raise MalformedToken(f"{what}: {exc.message}") from None
    except ValueError as exc:
        raise MalformedToken(f"{what}: invalid JSON ({_json_reason(exc)})") from None
    if not shallow and _depth(value) > max_depth:
        raise MalformedToken(f"{what}: nesting deeper than {max_depth} levels")
    if type(value) is not dict:
        raise MalformedToken(f"{what}: expected a JSON object, got {json_type(value)}")
    return value


def json_loads_value(data: bytes, what: str = "JSON", max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Parse ``data`` as strict UTF-8 JSON of any type, with the rules of
    :func:`json_loads_object` (no BOM, no duplicate names, no ``NaN``, bounded nesting).

    For values that are not objects at the top level, such as an SD-JWT Disclosure (a JSON
    array, RFC 9901 §4.2).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedToken(f"{what}: not valid UTF-8 (RFC 8725 §3.7)") from None
    try:
        value = _decode_raw(text)
    except RecursionError:
        raise MalformedToken(f"{what}: nesting deeper than {max_depth} levels") from None
    except MalformedToken as exc:
        raise MalformedToken(f"{what}: {exc.message}") from None
    except ValueError as exc:
        raise MalformedToken(f"{what}: invalid JSON ({_json_reason(exc)})") from None
    if _depth(value) > max_depth:
        raise MalformedToken(f"{what}: nesting deeper than {max_depth} levels")
    return value


def _json_reason(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at position {exc.pos}"
    return str(exc)  # pragma: no cover - the decoder raises JSONDecodeError


def json_type(value: Any) -> str:
    """What a JSON value is, in words for error messages ("an array", "null", ...)."""
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return type(value).__name__


def json_dumps(value: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """Serialize ``value`` as compact UTF-8 JSON; ``NaN`` and ``Infinity`` are refused.

    Raises ``TypeError`` for values JSON cannot hold, ``ValueError`` for ``NaN``/``Infinity``
    and for values that contain themselves.
    """
    if default is None and _C_ENCODE is not None and type(value) is dict:
        try:
            return "".join(_C_ENCODE(value, 0)).encode("utf-8")
        except RecursionError:  # without markers, a value that contains itself recurses
            raise ValueError("Circular reference detected") from None
    encoder = _ENCODER if default is None else _make_encoder(default)
    return encoder.encode(value).encode("utf-8")


def _make_encoder(default: Callable[[Any], Any] | None) -> json.JSONEncoder:
    return json.JSONEncoder(
        separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=default
    )


_ENCODER = _make_encoder(None)


def _unserializable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# JSONEncoder.encode builds the C encoder anew on every call; for the hot path (claims and
# headers are dicts) build it once, with the same settings as _ENCODER. The standard library
# exposes it as json.encoder.c_make_encoder (None where the C accelerator is missing).
_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODE: Callable[[Any, int], Any] | None = (
    None
    if _c_make_encoder is None
    else _c_make_encoder(
        None, _unserializable, json.encoder.encode_basestring, None, ":", ",", False, False,
        False,
    )
)  # fmt: skip


def json_serialization_object(
    data: object, what: str, max_size: int, compact_hint: str
) -> Mapping[str, Any]:
    """A JWS or JWE in JSON serialization (RFC 7515 §7.2, RFC 7516 §7.2) as a mapping.

    ``data`` is the parsed object (any mapping, taken as it is) or its JSON text: ``str`` (at
    most ``max_size`` characters) or bytes-like (at most ``max_size`` bytes), parsed by
    :func:`json_loads_object`. Text that is not valid Unicode (a lone surrogate) is not valid
    UTF-8 either and is refused as such. Text that does not start with ``{`` is refused with
    ``compact_hint``, which names the entry point for the compact form. Every failure is a
    :class:`MalformedToken` or :class:`TokenTooLarge` naming ``what``.
    """
    if isinstance(data, Mapping):
        return data
    if isinstance(data, str):
        if len(data) > max_size:
            raise TokenTooLarge(f"{what}: {len(data)} characters, more than the maximum {max_size}")
        raw = data.encode("utf-8", "surrogatepass")
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        if len(raw) > max_size:
            raise TokenTooLarge(f"{what}: {len(raw)} bytes, more than the maximum {max_size}")
    else:
        raise MalformedToken(f"{what}: expected a mapping, str or bytes, got {type(data).__name__}")
    if not raw.lstrip(b" \t\r\n").startswith(b"{"):
        raise MalformedToken(f"{what}: not a JSON object; {compact_hint}")
    return json_loads_object(raw, what)


def json_entries(value: object, what: str, name: str, maximum: int) -> Sequence[Any]:
    """The ``signatures`` of a JWS or the ``recipients`` of a JWE: a non-empty array
    (RFC 7515 §7.2.1, RFC 7516 §7.2.1) of at most ``maximum`` entries (security matrix D1).

    ``what`` names the document (``"JWS JSON"``) and ``name`` the member. The count is checked
    before any entry is looked at, so an oversized array costs no parsing and no cryptography.
    """
    if not isinstance(value, (list, tuple)):
        raise MalformedToken(f"{what}: {name!r} must be an array, got {json_type(value)}")
    if not value:
        raise MalformedToken(f"{what}: {name!r} is empty; it must be a non-empty array")
    if len(value) > maximum:
        raise TokenTooLarge(f"{what}: {len(value)} {name}, more than the maximum {maximum}")
    return value


def check_compact(
    token: object, parts: int = 3, max_size: int = DEFAULT_MAX_TOKEN_SIZE
) -> list[str]:
    """Check a compact serialization and split it into ``parts`` base64url segments.

    The size, the dot count and the alphabet are checked before anything is split or decoded
    (security matrix D1, A7). ``bytes`` input must be ASCII.
    """
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedToken(
                "token: not ASCII; a compact token is base64url and dots"
            ) from None
    if not isinstance(token, str):
        raise MalformedToken(f"token: expected str or bytes, got {type(token).__name__}")
    if len(token) > max_size:
        raise TokenTooLarge(f"token: {len(token)} characters, more than the maximum {max_size}")
    dots = token.count(".")
    if dots != parts - 1:
        raise MalformedToken(
            f"token: {dots + 1} segments, expected {parts} (compact serialization)"
        )
    if parts == 3:
        if not _JWS_COMPACT_RE.fullmatch(token):
            raise MalformedToken("token: only base64url characters and dots are allowed")
    elif not _B64URL_RE.fullmatch(token.replace(".", "")):
        raise MalformedToken("token: only base64url characters and dots are allowed")
    return token.split(".")
