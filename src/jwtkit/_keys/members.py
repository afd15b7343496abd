"""Reading the members of a JWK object: strict base64url values and the metadata members.

Base64url members are decoded with :func:`jwtkit._codec.b64url_decode` (no padding, no
whitespace, canonical trailing bits, RFC 7515 §2); any failure is an
:class:`~jwtkit.errors.InvalidKey` naming the member. A member that is present with JSON
``null`` is an error, not "absent" (security matrix D3).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._codec import b64url_decode, b64url_encode
from .._messages import short
from ..errors import InvalidKey, MalformedToken

__all__ = [
    "METADATA_MEMBERS",
    "b64_member",
    "encode_uint",
    "metadata_kwargs",
    "string_member",
    "uint_member",
]

#: JWK member name -> constructor keyword, for the members every key type shares.
METADATA_MEMBERS = (
    ("kid", "kid"),
    ("use", "use"),
    ("key_ops", "key_ops"),
    ("alg", "alg"),
    ("x5c", "x5c"),
    ("x5t", "x5t"),
    ("x5t#S256", "x5t_s256"),
)


def string_member(jwk: Mapping[str, Any], name: str) -> str:
    """A required string member."""
    if name not in jwk:
        raise InvalidKey(f"JWK: missing required member {name!r}")
    value = jwk[name]
    if not isinstance(value, str):
        raise InvalidKey(f"JWK: member {name!r} must be a string, got {short(value)}")
    return value


def b64_member(jwk: Mapping[str, Any], name: str) -> bytes:
    """A required base64url member, decoded."""
    value = string_member(jwk, name)
    try:
        return b64url_decode(value, f"JWK member {name!r}")
    except MalformedToken as exc:
        raise InvalidKey(exc.message) from None


def uint_member(jwk: Mapping[str, Any], name: str) -> int:
    """A required "Base64urlUInt" member (RFC 7518 §2): a big-endian unsigned integer."""
    raw = b64_member(jwk, name)
    if not raw:
        raise InvalidKey(f"JWK: member {name!r} is empty")
    return int.from_bytes(raw, "big")


def encode_uint(value: int, length: int | None = None) -> str:
    """Base64urlUInt: minimal big-endian octets (RFC 7518 §2), or exactly ``length`` octets."""
    size = length if length is not None else max(1, (value.bit_length() + 7) // 8)
    return b64url_encode(value.to_bytes(size, "big"))


def metadata_kwargs(jwk: Mapping[str, Any]) -> dict[str, Any]:
    """The shared members as constructor keywords; the constructors validate their types."""
    kwargs: dict[str, Any] = {}
    for member, keyword in METADATA_MEMBERS:
        if member in jwk:
            value = jwk[member]
            if value is None:
                raise InvalidKey(f"JWK: member {member!r} is null")
            kwargs[keyword] = value
    return kwargs
