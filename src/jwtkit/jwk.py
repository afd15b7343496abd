"""JSON Web Keys: the public key API of jwtkit (RFC 7517, RFC 7518 §6, RFC 8037, RFC 9964,
RFC 7638).

* :class:`Key` - the common interface; ``Key.generate("ES256")``, ``Key.from_jwk(...)``,
  ``Key.from_pem(...)``, ``key.check_usable(alg, operation)``, ``key.thumbprint()``.
* :class:`OctKey`, :class:`RSAKey`, :class:`ECKey`, :class:`OKPKey`, :class:`AKPKey` - the
  five key types (``AKPKey``: ML-DSA, RFC 9964).
* :class:`KeySet` and :class:`SkippedKey` - JWK Sets (RFC 7517 §5).

See ``docs/keys.md`` for a guide. The implementation lives in :mod:`jwtkit._keys`.
"""

from __future__ import annotations

from ._keys import AKPKey, ECKey, Key, KeySet, OctKey, OKPKey, RSAKey, SkippedKey

__all__ = ["AKPKey", "ECKey", "Key", "KeySet", "OKPKey", "OctKey", "RSAKey", "SkippedKey"]
