"""JSON Web Tokens (RFC 7519): encode, decode and the reusable :class:`Verifier`.

The same functions are available at the top level (``jwtkit.encode``, ``jwtkit.decode``, ...).
"""

from __future__ import annotations

from ._jwt import (
    DecodedJWT,
    Verifier,
    decode,
    decode_complete,
    decode_unverified,
    encode,
    normalize_typ,
)

__all__ = [
    "DecodedJWT",
    "Verifier",
    "decode",
    "decode_complete",
    "decode_unverified",
    "encode",
    "normalize_typ",
]
