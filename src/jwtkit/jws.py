"""JSON Web Signature (RFC 7515): sign bytes and verify compact tokens.

::

    token = jwtkit.jws.sign(b"hello", key, algorithm="ES256")
    result = jwtkit.jws.verify(token, key.public_key(), algorithms=["ES256"])
    result.payload, result.header, result.key

Verification needs an allow-list of algorithms, uses only the keys you pass (never keys named
by the token), processes ``crit`` (RFC 7515 §4.1.11) and supports RFC 7797 unencoded and
detached payloads.
"""

from __future__ import annotations

from ._jws_compact import VerifiedJWS, sign, verify

__all__ = ["VerifiedJWS", "sign", "verify"]
