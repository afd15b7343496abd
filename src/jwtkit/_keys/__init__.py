"""The key layer's implementation (RFC 7517, RFC 7518 §6, RFC 8037, RFC 8812, RFC 9964, RFC 7638,
RFC 9278).

Private: import from :mod:`jwtkit.jwk`. One module per concern:

* ``base`` - the abstract :class:`Key` (metadata, ``check_usable``, equality, factories);
* ``oct_key``, ``rsa_key``, ``ec_key``, ``okp_key``, ``akp_key`` - one key type each (the last
  four over ``asymmetric``);
* ``keyset`` - :class:`KeySet` and :class:`SkippedKey`;
* ``factory`` - JWK / ``cryptography`` object / random generation dispatch;
* ``formats`` - PEM, DER and OpenSSH reading; ``members`` - JWK member decoding;
* ``der_shape`` - the outer shape of DER key containers, for algorithms ``cryptography`` lacks;
  ``mldsa_support`` - whether this ``cryptography`` can do ML-DSA, and the error when not;
* ``requirements`` - which key fits which algorithm; ``secret_checks`` - unsafe HMAC secrets;
* ``certificates`` - ``x5c``/``x5t``; ``chains`` - ``x5c`` chains validated against the
  caller's trust anchors (public as :mod:`jwtkit.x509`); ``thumbprint`` - RFC 7638/9278. Safe
  text for errors and reprs comes from :mod:`jwtkit._messages`.
"""

from __future__ import annotations

from .akp_key import AKPKey
from .base import Key
from .ec_key import ECKey
from .keyset import KeySet, SkippedKey
from .oct_key import OctKey
from .okp_key import OKPKey
from .rsa_key import RSAKey

__all__ = ["AKPKey", "ECKey", "Key", "KeySet", "OKPKey", "OctKey", "RSAKey", "SkippedKey"]
