"""JSON Web Tokens (RFC 7519): encode, decode and the reusable :class:`Verifier`.

The same functions are available at the top level (``jwtkit.encode``, ``jwtkit.decode``, ...).
``encode_json``/``decode_json`` make and read JWTs in the JWS JSON serialization with several
signatures (hybrid classical and post-quantum tokens) under a ``jws.SignaturePolicy``.
"""

from __future__ import annotations

from ._jwt import (
    DecodedJSONJWT,
    DecodedJWT,
    Verifier,
    decode,
    decode_complete,
    decode_json,
    decode_unverified,
    encode,
    encode_json,
    normalize_typ,
)

__all__ = [
    "DecodedJSONJWT",
    "DecodedJWT",
    "Verifier",
    "decode",
    "decode_complete",
    "decode_json",
    "decode_unverified",
    "encode",
    "encode_json",
    "normalize_typ",
]
