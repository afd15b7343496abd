"""JSON Web Signature (RFC 7515): sign bytes and verify compact or JSON-serialized tokens.

::

    token = jwtkit.jws.sign(b"hello", key, algorithm="ES256")
    result = jwtkit.jws.verify(token, key.public_key(), algorithms=["ES256"])
    result.payload, result.header, result.key

    document = jwtkit.jws.sign_json(b"hello", [Signer(ec_key, "ES256"), Signer(rsa_key, "RS256")])
    result = jwtkit.jws.verify_json(document, trusted_keys, algorithms=["ES256", "RS256"])
    result.signature_index, result.header, result.unprotected, result.key

Verification needs an allow-list of algorithms, uses only the keys you pass (never keys named
by the token), processes ``crit`` (RFC 7515 §4.1.11) and supports RFC 7797 unencoded and
detached payloads. The JSON serialization (RFC 7515 §7.2, general and flattened) has its own
entry points, so that a JSON document is never taken for a compact token, nor the reverse.
:func:`verify_json_policy` verifies a document with several signatures (a hybrid classical and
post-quantum token) under a :class:`SignaturePolicy`: any, all, or required algorithms.
"""

from __future__ import annotations

from ._jws_compact import VerifiedJWS, sign, verify
from ._jws_json import Signer, sign_json, verify_json, verify_json_all
from ._jws_policy import SignaturePolicy, verify_json_policy

__all__ = [
    "SignaturePolicy",
    "Signer",
    "VerifiedJWS",
    "sign",
    "sign_json",
    "verify",
    "verify_json",
    "verify_json_all",
    "verify_json_policy",
]
