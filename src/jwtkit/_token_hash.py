"""The OpenID Connect token hashes (``at_hash``, ``c_hash``): one implementation for the token
service that writes them and :mod:`jwtkit.oidc` that checks them.

OpenID Connect Core 1.0 §3.1.3.6 (``at_hash``) and §3.3.2.11 (``c_hash``): the base64url of the
left-most half of the hash of the ASCII octets of the value, with the hash of the ID token's
JWS ``alg``. JWA names that hash for HS/RS/PS/ES algorithms (RFC 7518 §3.1, RFC 8812 §3.2 for
ES256K); EdDSA names none, so it follows the curve of the key (OpenID Connect Token Hash
Algorithms 1.0, settled in OpenID Connect issue #1125): SHA-512 for Ed25519, SHAKE256 with a
114-octet output for Ed448 (the hash Ed448 itself uses, RFC 8032 §5.2).
"""

from __future__ import annotations

import hashlib
import re

from ._codec import b64url_encode
from ._messages import short
from .errors import UsageError
from .jwk import Key, OKPKey

__all__ = ["token_hash"]

_SHA2 = re.compile(r"(?:HS|RS|PS|ES)(256|384|512)|ES256K")
_ED448_OUTPUT = 114


def _curve(algorithm: str, key: Key | None) -> str:
    """The Edwards curve that decides the hash of an EdDSA family ``alg``."""
    if algorithm != "EdDSA":
        return algorithm  # Ed25519 or Ed448: RFC 9864 §2, the name says the curve
    if not isinstance(key, OKPKey) or key.crv not in ("Ed25519", "Ed448"):
        raise UsageError(
            "token hash: EdDSA's hash depends on the key's curve; pass the Ed25519 or Ed448 "
            "key that signed the token"
        )
    return key.crv


def token_hash(value: str, algorithm: str, key: Key | None = None) -> str:
    """The ``at_hash`` / ``c_hash`` of ``value`` for an ID token signed with ``algorithm``
    (OpenID Connect Core 1.0 §3.1.3.6, §3.3.2.11); ``key`` is the signing (or verifying) key,
    needed only for ``EdDSA``, whose hash follows the key's curve.

    Raises :class:`~jwtkit.errors.UsageError` for an algorithm without a defined hash (``none``,
    an unknown name) and for a value that is not ASCII.
    """
    if not isinstance(value, str) or not value.isascii():
        raise UsageError("token hash: the value must be an ASCII string (Core §3.1.3.6)")
    data = value.encode("ascii")
    match = _SHA2.fullmatch(algorithm) if isinstance(algorithm, str) else None
    if match is not None:
        digest = hashlib.new(f"sha{match.group(1) or 256}", data).digest()
    elif algorithm in ("EdDSA", "Ed25519", "Ed448"):
        if _curve(algorithm, key) == "Ed25519":
            digest = hashlib.sha512(data).digest()
        else:
            digest = hashlib.shake_256(data).digest(_ED448_OUTPUT)
    else:
        raise UsageError(f"token hash: no hash is defined for algorithm {short(algorithm)}")
    return b64url_encode(digest[: len(digest) // 2])
