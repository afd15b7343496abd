"""OAuth 2.0 Protected Resource Metadata (RFC 9728), framework-free: what every integration serves.

A resource server describes itself to clients with a JSON document (RFC 9728 §2): its
resource identifier, the authorization servers whose tokens it accepts, the scopes it knows,
how it takes a bearer token. :class:`ResourceMetadata` holds that description, checked once
when it is built (a :class:`~jwtkit.UsageError` names what is wrong), and gives:

* :attr:`ResourceMetadata.url` — where the document is published: the well-known suffix
  ``/.well-known/oauth-protected-resource`` inserted between the host and the path of the
  resource identifier (RFC 9728 §3.1; a terminating ``/`` right after the host is dropped), so
  ``https://api.example/v1`` is described at
  ``https://api.example/.well-known/oauth-protected-resource/v1``;
* :attr:`ResourceMetadata.path` — that URL's path, the route an integration answers;
* :meth:`ResourceMetadata.document` — the JSON object (RFC 9728 §2, §3.2). Without
  ``authorization_servers`` it names the issuer of the Verifier's ``jwtkit.remote`` JWKS
  client when that client was built by discovery (``from_issuer``), else none;
* :meth:`ResourceMetadata.headers` — ``Cache-Control: public, max-age=...``: the document is
  public and changes only with the configuration.

Every challenge of an integration configured with metadata carries
``resource_metadata="<url>"`` (RFC 9728 §5.1), so that a client refused with a 401 finds the
authorization server to get a token from.

URL policy, the one ``jwtkit.remote`` applies to what it fetches (without importing httpx):
``https``, or ``http`` to a loopback host (``localhost``, ``127.0.0.0/8``, ``::1``) for
development; no user information, no fragment. The resource identifier has no query either
(RFC 8707 §2, RFC 9728 §1.2), and its path only RFC 3986 path characters without
percent-encoding, so that the published path is exactly the route served.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import SplitResult, urlsplit

from .._urls import URLRefused, check_web_url
from ..errors import UsageError
from ..jwt import Verifier
from ._bearer import DPoPSettings, check_dpop, check_scopes

__all__ = [
    "DEFAULT_MAX_AGE",
    "WELL_KNOWN",
    "ResourceMetadata",
    "authorization_server_of",
    "check_metadata",
    "check_url",
    "metadata_url",
    "require_metadata",
]

#: The well-known URI suffix of RFC 9728 §3 (registered in §8.3).
WELL_KNOWN = "/.well-known/oauth-protected-resource"
#: How long clients and caches may keep the document, in seconds.
DEFAULT_MAX_AGE = 3600

# RFC 3986 §3.3: pchar without pct-encoded, and "/" between segments.
_PATH = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")


def check_url(url: object, what: str, *, query: bool = True) -> SplitResult:
    """The parts of ``url`` if the URL policy (:mod:`jwtkit._urls`, the one ``jwtkit.remote``
    fetches by) allows it, without a query unless ``query``, and fit for a quoted-string (it is
    named in ``WWW-Authenticate``); else a :class:`~jwtkit.UsageError` naming ``what``."""
    try:
        return check_web_url(url, query=query, quotable=True)
    except URLRefused as exc:
        raise UsageError(f"{what}: {exc}") from None


def metadata_url(resource: str) -> str:
    """The URL of ``resource``'s metadata document (RFC 9728 §3.1): the well-known suffix goes
    between the host and the path; a path of just ``/`` is dropped first."""
    parts = urlsplit(resource)
    path = "" if parts.path == "/" else parts.path
    return f"{parts.scheme}://{parts.netloc}{WELL_KNOWN}{path}"


def authorization_server_of(verifier: Verifier | None) -> str | None:
    """The issuer a Verifier's ``jwtkit.remote`` client was discovered from, or ``None``.

    ``JWKSClient.from_issuer(issuer)`` and ``AsyncJWKSClient.from_issuer`` keep the issuer
    whose metadata they checked (their ``issuer`` property); a client built from a JWKS URL,
    and any other key, has none.
    """
    if verifier is None:
        return None
    source = getattr(verifier, "_source", None)  # the Verifier's KeySource (same package)
    for name in ("_provider", "_async_provider"):
        issuer = getattr(getattr(source, name, None), "issuer", None)
        if isinstance(issuer, str):
            return issuer
    return None


class ResourceMetadata:
    """The RFC 9728 description of a protected resource, checked when built.

    ``resource`` is the resource identifier (RFC 9728 §1.2: an ``https`` URL without query or
    fragment; ``http`` to a loopback host for development). ``authorization_servers`` are
    issuer URLs (RFC 8414 §2: no query, no fragment); when empty, the document names the
    issuer the Verifier's JWKS client was discovered from, if any. ``scopes_supported`` are
    scope tokens (RFC 6749 §3.3); ``resource_name`` a human-readable name;
    ``resource_documentation`` a URL of documentation for developers. ``max_age`` is the
    ``Cache-Control`` lifetime in seconds. ``bearer_methods_supported`` is always
    ``["header"]``: the integrations read the token from ``Authorization`` only (RFC 6750 §2.1).
    ``dpop``, the :class:`~jwtkit.integrations._bearer.DPoPSettings` the resource takes DPoP
    with, adds ``dpop_signing_alg_values_supported`` and ``dpop_bound_access_tokens_required``
    (RFC 9728 §2).
    """

    __slots__ = (
        "authorization_servers",
        "dpop",
        "max_age",
        "path",
        "resource",
        "resource_documentation",
        "resource_name",
        "scopes_supported",
        "url",
    )

    #: How the integrations accept tokens (RFC 9728 §2, RFC 6750 §2.1 only).
    bearer_methods_supported: tuple[str, ...] = ("header",)

    def __init__(
        self,
        resource: str,
        *,
        authorization_servers: str | Iterable[str] = (),
        scopes_supported: str | Iterable[str] = (),
        resource_name: str | None = None,
        resource_documentation: str | None = None,
        max_age: int = DEFAULT_MAX_AGE,
        dpop: DPoPSettings | None = None,
    ) -> None:
        parts = check_url(resource, "resource", query=False)
        if not _PATH.fullmatch(parts.path):
            raise UsageError(
                "resource: the path may hold only letters, digits and - . _ ~ ! $ & ' ( ) * + "
                ", ; = : @ / (no percent-encoding), so that it is served as published"
            )
        servers = (
            (authorization_servers,)
            if isinstance(authorization_servers, str)
            else tuple(authorization_servers)
        )
        for server in servers:
            check_url(server, "authorization_servers", query=False)
        if resource_name is not None and (not isinstance(resource_name, str) or not resource_name):
            raise UsageError("resource_name: expected a non-empty string")
        if resource_documentation is not None:
            check_url(resource_documentation, "resource_documentation")
        if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0:
            raise UsageError("max_age: expected a number of seconds (an int, 0 or more)")
        self.resource: str = resource
        self.authorization_servers: tuple[str, ...] = tuple(dict.fromkeys(servers))
        self.scopes_supported: tuple[str, ...] = check_scopes(scopes_supported)
        self.resource_name: str | None = resource_name
        self.resource_documentation: str | None = resource_documentation
        self.max_age: int = max_age
        self.dpop: DPoPSettings | None = check_dpop(dpop, "ResourceMetadata")
        #: Where the document is published (RFC 9728 §3.1).
        self.url: str = metadata_url(resource)
        #: The path of :attr:`url`: the route the integrations answer.
        self.path: str = urlsplit(self.url).path

    def document(self, verifier: Verifier | None = None) -> dict[str, Any]:
        """The metadata document (RFC 9728 §2); ``verifier`` gives the default issuer."""
        servers = list(self.authorization_servers)
        if not servers:
            issuer = authorization_server_of(verifier)
            if issuer is not None:
                servers = [issuer]
        document: dict[str, Any] = {"resource": self.resource}
        if servers:
            document["authorization_servers"] = servers
        if self.scopes_supported:
            document["scopes_supported"] = list(self.scopes_supported)
        document["bearer_methods_supported"] = list(self.bearer_methods_supported)
        if self.resource_name is not None:
            document["resource_name"] = self.resource_name
        if self.resource_documentation is not None:
            document["resource_documentation"] = self.resource_documentation
        if self.dpop is not None:
            document["dpop_signing_alg_values_supported"] = list(self.dpop.algorithms)
            document["dpop_bound_access_tokens_required"] = self.dpop.required
        return document

    def body(self, verifier: Verifier | None = None) -> bytes:
        """:meth:`document` as UTF-8 JSON (RFC 9728 §3.2: ``application/json``)."""
        return json.dumps(self.document(verifier), ensure_ascii=False).encode()

    def headers(self) -> dict[str, str]:
        """``Cache-Control`` for the document: public, kept :attr:`max_age` seconds."""
        return {"Cache-Control": f"public, max-age={self.max_age}"}

    def __repr__(self) -> str:
        return f"ResourceMetadata({self.resource!r})"


def require_metadata(metadata: object, where: str) -> ResourceMetadata:
    """``metadata`` if it is a :class:`ResourceMetadata`, else a :class:`~jwtkit.UsageError`."""
    if not isinstance(metadata, ResourceMetadata):
        raise UsageError(
            f"{where}: expected a ResourceMetadata (RFC 9728), got {type(metadata).__name__}"
        )
    return metadata


def check_metadata(metadata: object, where: str) -> ResourceMetadata | None:
    """``metadata`` if it is ``None`` or a :class:`ResourceMetadata`."""
    return None if metadata is None else require_metadata(metadata, where)
