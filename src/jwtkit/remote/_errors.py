"""The errors of :mod:`jwtkit.remote`, each a :class:`~jwtkit.errors.JWTError` with a stable code.

::

    JWTError
    └── JWKSError          "jwks_error"            base: anything about a remote key set
        ├── UnsafeURL      "jwks_unsafe_url"       a URL you gave breaks the network policy
        │                                          (also a UsageError)
        ├── JWKSFetchError "jwks_fetch_failed"     network, timeout, HTTP status, size, redirect
        ├── JWKSInvalid    "jwks_invalid"          not JSON, not an object, no "keys" array
        └── DiscoveryError "jwks_discovery_failed" RFC 8414 / OpenID metadata unusable

Messages name the URL's host and what went wrong; they never contain key material, response
bodies or tracebacks of the HTTP library (security matrix F4).
"""

from __future__ import annotations

from typing import ClassVar

from ..errors import JWTError, UsageError

__all__ = ["DiscoveryError", "JWKSError", "JWKSFetchError", "JWKSInvalid", "UnsafeURL"]


class JWKSError(JWTError):
    """A remote key set could not be used. ``host`` names the server, ``status`` the HTTP
    status when there was one."""

    code: ClassVar[str] = "jwks_error"

    def __init__(self, message: str, *, host: str | None = None, status: int | None = None):
        super().__init__(message)
        self.host = host
        self.status = status

    def again(self) -> JWKSError:
        """A fresh copy (same class, message and fields) to raise once more: one failed fetch
        is reported to every caller that waited for it, each with its own traceback."""
        return type(self)(self.message, host=self.host, status=self.status)


class UnsafeURL(JWKSError, UsageError):
    """A URL given to a client (a JWKS URL, an issuer) breaks the network policy: only
    ``https``, or ``http`` to a loopback host (security matrix D6, A4). Raised when the client
    is built, so it is also a :class:`~jwtkit.errors.UsageError`; a refused redirect or
    ``jwks_uri`` is reported as a :class:`JWKSFetchError` or :class:`DiscoveryError`."""

    code = "jwks_unsafe_url"


class JWKSFetchError(JWKSError):
    """Fetching failed: connection, timeout, HTTP status, size cap or a refused redirect."""

    code = "jwks_fetch_failed"


class JWKSInvalid(JWKSError):
    """The document is not a JWK Set (RFC 7517 §5): not JSON, not a JSON object, or no
    ``keys`` array. (A JWK Set whose keys are all unusable is not an error: it is an empty
    set, and no token verifies.)"""

    code = "jwks_invalid"


class DiscoveryError(JWKSError):
    """Authorization server metadata (RFC 8414 §3, OpenID Connect Discovery 1.0 §4) is
    unusable: wrong ``issuer``, no valid ``jwks_uri``, not a JSON object."""

    code = "jwks_discovery_failed"
