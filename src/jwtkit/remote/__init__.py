"""Verifying tokens from other issuers: a remote JWK Set (RFC 7517 §5), cached, sync and async.

::

    import jwtkit
    from jwtkit.remote import JWKSClient

    jwks = JWKSClient.from_issuer("https://id.example")   # OpenID / RFC 8414 discovery
    verifier = jwtkit.Verifier(jwks, algorithms=["ES256"], issuer="https://id.example",
                               audience="api")
    claims = verifier.decode(token)

    # asyncio / trio: the same options, and await the fetches
    jwks = await AsyncJWKSClient.from_issuer("https://id.example")
    claims = await jwtkit.Verifier(jwks, algorithms=["ES256"], ...).adecode(token)

Keys are cached (``cache_ttl``, or the server's ``max-age`` within bounds); an unknown ``kid``
refetches at most once per ``cooldown``; one fetch is in flight at a time; a failed fetch keeps
the last good keys for up to ``max_stale`` seconds; unusable keys are skipped and logged on the
``jwtkit.remote`` logger (security matrix D6, F2). Only ``https`` URLs are fetched (``http``
only to a loopback host), with a size cap, a timeout and checked redirects. See
``docs/remote.md``.

OpenID Connect relying parties: :class:`OIDCClient` (``docs/oidc.md``). Tokens from several
issuers: :class:`MultiIssuerVerifier` (``docs/remote.md``, "Many issuers").

Needs the ``remote`` extra (httpx): ``pip install 'jwtkit[remote]'``.
"""

from __future__ import annotations

from ._client import AsyncJWKSClient, JWKSClient
from ._errors import DiscoveryError, JWKSError, JWKSFetchError, JWKSInvalid, UnsafeURL
from ._extras import MissingExtra
from ._issuers import MultiIssuerVerifier, TrustedIssuer
from ._oidc import AsyncOIDCClient, OIDCClient

__all__ = [
    "AsyncJWKSClient",
    "AsyncOIDCClient",
    "DiscoveryError",
    "JWKSClient",
    "JWKSError",
    "JWKSFetchError",
    "JWKSInvalid",
    "MissingExtra",
    "MultiIssuerVerifier",
    "OIDCClient",
    "TrustedIssuer",
    "UnsafeURL",
]
