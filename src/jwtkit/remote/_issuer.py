"""An issuer's published documents fetched as they are, for ``jwtkit audit --issuer``.

:class:`IssuerDocuments` fetches the authorization server metadata from both well-known
locations (OpenID Connect Discovery 1.0 §4, RFC 8414 §3.1: :func:`~._client.discovery_urls`)
and a JWK Set, through the one fetcher (:func:`~._http.fetch_json`: the URL policy, redirects
checked hop by hop, the size cap and the overall timeout) and with the same httpx settings as
:class:`~jwtkit.remote.JWKSClient`. Unlike the client it judges nothing: an ``issuer`` that
differs, a ``jwks_uri`` over plain ``http`` or an unusable key are the auditor's findings, not
errors. A location that answers with an HTTP error or a document that is not JSON is recorded
beside the other; a network failure, or no usable document at either location, is a
:class:`~jwtkit.remote.DiscoveryError`, the same one the client raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import cast

from ._client import _Discovery, _http_settings, _options, check_issuer
from ._errors import JWKSError
from ._extras import httpx
from ._http import DEFAULT_MAX_BYTES, Document, check_url, fetch_json, is_loopback_http

__all__ = ["IssuerDocuments", "Location"]


@dataclass(frozen=True)
class Location:
    """One well-known location: its URL and what it answered, a document or why not."""

    url: str
    document: Document | None
    problem: str | None


class IssuerDocuments:
    """The metadata and JWK Set of ``issuer`` (which must pass the URL policy and have no
    query, RFC 8414 §2: else :class:`~jwtkit.remote.UnsafeURL`), fetched with ``timeout``
    seconds for each document and at most ``max_bytes`` bytes each. Use it as a context
    manager: it holds an HTTP connection pool."""

    def __init__(
        self,
        issuer: str,
        *,
        timeout: float = 5,
        max_bytes: int = DEFAULT_MAX_BYTES,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.issuer = check_issuer(issuer)
        self._options = _options(
            cache_ttl=600,
            cooldown=30,
            timeout=timeout,
            max_bytes=max_bytes,
            max_stale=86_400,
            headers=None,
            clock=None,
            allow_weak=False,
        )
        self._http = httpx.Client(
            transport=transport,
            **_http_settings(self.issuer, self._options, transport is not None),
        )

    def metadata(self) -> tuple[Location, Location]:
        """What the OpenID Connect location and the RFC 8414 location answered, in that
        order; at least one holds a document (else :class:`~jwtkit.remote.DiscoveryError`)."""
        discovery = _Discovery(self.issuer)
        found: list[Location] = []
        for url in discovery.urls:
            try:
                document = self.fetch(url, "metadata")
            except JWKSError as exc:
                discovery.failure(url, exc)  # raises for a network failure
                found.append(Location(url, None, exc.message))
            else:
                found.append(Location(url, document, None))
        if all(location.document is None for location in found):
            raise discovery.give_up()
        return found[0], found[1]

    def jwks_url_allowed(self, url: object) -> bool:
        """Whether the URL policy lets a ``jwks_uri`` be fetched: ``https``, or ``http`` to a
        loopback host when the issuer itself is loopback ``http``."""
        try:
            check_url(url, "jwks_uri", https_only=not is_loopback_http(self.issuer))
        except JWKSError:
            return False
        return True

    def fetch(self, url: object, what: str) -> Document:
        """The JSON object at ``url`` (a URL that passed the policy), or a
        :class:`~jwtkit.remote.JWKSError`."""
        options = self._options
        return fetch_json(self._http, cast(str, url), options.fetch, options.clock, what)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> IssuerDocuments:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
