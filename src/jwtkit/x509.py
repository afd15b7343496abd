"""``x5c`` certificate chains validated against trust anchors the caller gives.

* :class:`ChainPolicy` - the trust anchors (required) and the rules a chain must meet: an
  optional DNS name or check of the leaf certificate, the most intermediates, the clock;
  ``policy.verify_chain(x5c)`` returns the leaf's key;
* :class:`X5CKeyProvider` - the ``key`` of a Verifier that verifies each token with the key of
  the chain in its ``x5c`` header, once ``policy`` has validated that chain.

A JWK's own chain is checked with :meth:`jwtkit.jwk.Key.verify_certificate_chain`. Failures
raise :class:`jwtkit.errors.UntrustedCertificate`. See ``docs/keys.md``, "Certificate chains".
"""

from __future__ import annotations

from ._keys.chains import ChainPolicy, X5CKeyProvider

__all__ = ["ChainPolicy", "X5CKeyProvider"]
