"""PyJWT's ``PyJWKClient`` over :class:`jwtkit.remote.JWKSClient`.

The fetching, its limits and its cache are :mod:`jwtkit.remote`'s (extra ``remote``): the URL
policy (``https``; ``http`` only to a loopback host; no other scheme), checked redirects on the
same host, a size cap, a timeout over the whole fetch, one fetch in flight, a cooldown between
refetches for an unknown ``kid``, and the last good keys kept through a failed fetch. PyJWT's
options map onto it:

* ``lifespan`` is ``cache_ttl`` (the server's ``Cache-Control: max-age`` may shorten it),
  ``cooldown_duration`` is ``cooldown`` (at most ``lifespan``), ``headers`` and ``timeout``
  are passed on; ``ssl_context`` becomes the ``verify`` of the HTTP transport;
* ``cache_jwk_set=False`` fetches at every :meth:`PyJWKClient.get_jwk_set`;
* ``cache_keys`` and ``max_cached_keys`` are accepted and change nothing: keys are found by
  ``kid`` in the cached set.

Errors are :class:`~jwtkit.pyjwt.exceptions.PyJWKClientConnectionError` (fetching failed) and
:class:`~jwtkit.pyjwt.exceptions.PyJWKClientError` (anything else), with the
:mod:`jwtkit.remote` error as their ``__cause__``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from ssl import SSLContext
from typing import TYPE_CHECKING, Any

from .._extras import require
from .._messages import short
from ..errors import JWTError, UsageError
from ..jwk import KeySet
from ._api import get_unverified_header
from ._jwk import PyJWK, PyJWKSet
from .exceptions import PyJWKClientConnectionError, PyJWKClientError

if TYPE_CHECKING:
    from ..remote import JWKSClient

__all__ = ["PyJWKClient"]

_WHAT = "jwtkit.pyjwt.PyJWKClient"


class _Translated:
    """Turns the errors of :mod:`jwtkit.remote` and of key lookups into PyJWT's two."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if not isinstance(exc, JWTError) or isinstance(exc, PyJWKClientError):
            return
        from ..remote import JWKSFetchError  # noqa: PLC0415 - the remote extra is optional

        error = PyJWKClientConnectionError if isinstance(exc, JWKSFetchError) else PyJWKClientError
        raise error(exc.message) from exc


_translated = _Translated()


class PyJWKClient:
    """The signing keys of a JWK Set URL (RFC 7517 §5), as PyJWT's ``PyJWKClient``.

    ::

        jwks_client = jwt.PyJWKClient("https://id.example/.well-known/jwks.json")
        signing_key = jwks_client.get_signing_key_from_jwt(token)
        claims = jwt.decode(token, signing_key, audience="api")

    Needs the ``remote`` extra: ``pip install 'jwtkit[remote]'``.

    .. warning::
       Unlike PyJWT, only ``https`` URLs are fetched (``http`` only to a loopback host, for
       development and tests): a key set fetched over plain HTTP can be replaced by anyone on
       the path, and with it every token.
    """

    def __init__(
        self,
        uri: str,
        cache_keys: bool = False,
        max_cached_keys: int = 16,
        cache_jwk_set: bool = True,
        lifespan: float = 300,
        headers: Mapping[str, Any] | None = None,
        timeout: float = 30,
        ssl_context: SSLContext | None = None,
        cooldown_duration: float = 30,
    ) -> None:
        httpx = require("httpx", "remote", _WHAT)
        from ..remote import JWKSClient  # noqa: PLC0415 - the remote extra is optional

        for name, value in (("lifespan", lifespan), ("cooldown_duration", cooldown_duration)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise PyJWKClientError(f"{name}: expected a number of seconds")
        if not 0 < lifespan < math.inf:
            raise PyJWKClientError(f"lifespan must be more than 0 seconds, got {lifespan!r}")
        if not 0 <= cooldown_duration < math.inf:
            raise PyJWKClientError(
                f"cooldown_duration must be 0 or more seconds, got {cooldown_duration!r}"
            )
        transport = None
        if ssl_context is not None:
            if not isinstance(ssl_context, SSLContext):
                raise UsageError("ssl_context: expected an ssl.SSLContext")
            transport = httpx.HTTPTransport(verify=ssl_context)
        self.uri = uri
        self.cache_jwk_set = bool(cache_jwk_set)
        with _translated:
            self._client: JWKSClient = JWKSClient(
                uri,
                cache_ttl=lifespan,
                cooldown=min(cooldown_duration, lifespan),
                timeout=timeout,
                headers=None if headers is None else dict(headers),
                transport=transport,
            )
        self._sets: tuple[KeySet, PyJWKSet] | None = None

    def _wrapped(self, keyset: KeySet) -> PyJWKSet:
        """The PyJWKSet of ``keyset``, made once per key set the remote client returns."""
        sets = self._sets
        if sets is not None and sets[0] is keyset:
            return sets[1]
        wrapped = PyJWKSet._of(keyset)
        self._sets = (keyset, wrapped)
        return wrapped

    def fetch_data(self) -> dict[str, Any]:
        """Fetch the JWK Set now; return its usable keys as a JWK Set dict (members that jwtkit
        skips, such as secret or private keys and unknown types, are left out)."""
        with _translated:
            return self._client.refresh().to_jwks()

    def get_jwk_set(self, refresh: bool = False) -> PyJWKSet:
        """The JWK Set: cached, or fetched when the cache is empty or expired, when
        ``refresh`` is true, or at every call with ``cache_jwk_set=False``."""
        with _translated:
            if refresh or not self.cache_jwk_set:
                keyset = self._client.refresh()
            else:
                keyset = self._client.get_keyset()
            return self._wrapped(keyset)

    def get_signing_keys(self, refresh: bool = False) -> list[PyJWK]:
        """The keys of the set meant for signatures (``use`` is ``sig`` or absent) that have a
        ``kid``; :class:`PyJWKClientError` when there are none."""
        keys = self.match_signing_keys(self.get_jwk_set(refresh))
        if not keys:
            raise PyJWKClientError(f"the JWK Set at {self._client!r} holds no signing keys")
        return keys

    @staticmethod
    def match_signing_keys(jwk_set: PyJWKSet) -> list[PyJWK]:
        """The signing keys of ``jwk_set`` that have a ``kid``."""
        return [key for key in jwk_set.keys if key.public_key_use in {"sig", None} and key.key_id]

    def get_signing_key(self, kid: str) -> PyJWK:
        """The signing key with this ``kid``. An unknown ``kid`` refetches the set (at most
        once per cooldown) before :class:`PyJWKClientError`."""
        if not isinstance(kid, str):
            raise PyJWKClientError(f"kid: expected a string, got {type(kid).__name__}")
        with _translated:
            keyset = self._client.keyset_for({"kid": kid})
            found = self.match_kid(self.match_signing_keys(self._wrapped(keyset)), kid)
        if found is None:
            raise PyJWKClientError(f"Unable to find a signing key that matches: {short(kid)}")
        return found

    def get_signing_key_from_jwt(self, token: str | bytes) -> PyJWK:
        """The signing key named by the ``kid`` of ``token``'s (unverified) header."""
        kid = get_unverified_header(token).get("kid")
        if kid is None:
            raise PyJWKClientError("the token's header has no 'kid' to find its key by")
        return self.get_signing_key(kid)

    @staticmethod
    def match_kid(signing_keys: list[PyJWK], kid: str) -> PyJWK | None:
        """The first of ``signing_keys`` with this ``kid``, or ``None``."""
        for key in signing_keys:
            if key.key_id == kid:
                return key
        return None

    def close(self) -> None:
        """Close the HTTP connections (PyJWT has no such method; jwtkit's client does)."""
        self._client.close()

    def __repr__(self) -> str:
        return f"PyJWKClient({self._client.url!r})"
