"""Bearer tokens for Starlette (extra ``starlette``): a backend and a middleware.

Two ways, pick one:

* :class:`JWTAuthBackend` plugs into Starlette's own ``AuthenticationMiddleware``. A valid
  token gives ``request.user`` (a :class:`JWTUser` with ``.claims``) and ``request.auth.scopes``
  (from ``scope``/``scp``); a request without a token stays anonymous, so public and private
  routes mix and ``@requires("read")`` guards the private ones (Starlette answers 403 there). A
  bad token is refused by :meth:`JWTAuthBackend.on_error` with an RFC 6750 §3 answer (pass it
  as ``on_error``; :meth:`JWTAuthBackend.middleware` does both).
* :class:`JWTMiddleware` is a pure ASGI middleware that protects everything but
  ``exclude_paths`` and answers 401/403 itself (RFC 6750 §3); the claims are in
  ``request.state.claims`` (and ``request.user``/``request.auth`` are set as above).

Protected Resource Metadata (RFC 9728): give either a
:class:`~jwtkit.integrations.ResourceMetadata` as ``resource_metadata=``. :class:`JWTMiddleware`
then answers ``GET`` on its well-known path (RFC 9728 §3.1) itself; with the backend, add
:meth:`JWTAuthBackend.metadata_route` (or :func:`metadata_route`) to the routes. Every challenge
then names the document (``resource_metadata="..."``, RFC 9728 §5.1).

DPoP (RFC 9449): give either ``dpop=DPoPSettings(...)`` to take ``Authorization: DPoP``
with its ``DPoP`` proof as well (``DPoPSettings(required=True)``: only that). The proof is
checked against the request's method and URL (``request.url``, or the settings'
``public_url`` behind a proxy) and the token's ``cnf.jkt``; a DPoP-bound token sent as Bearer
is refused (RFC 9449 §7.2). See :class:`~jwtkit.integrations._bearer.DPoPSettings`.

Both verify with ``await verifier.adecode(token)``, so a Verifier on an
``AsyncJWKSClient`` never blocks the event loop. Refusals: see :mod:`jwtkit.integrations` (400,
401, 403, and 503 when the issuer's keys are unavailable).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .._extras import MissingExtra
from ..errors import UsageError
from ..jwt import Verifier
from ._bearer import (
    DEFAULT_REALM,
    SCOPE_CLAIMS,
    BearerError,
    DPoPRequest,
    DPoPSettings,
    aauthenticate,
    check_dpop,
    check_realm,
    check_scope_claims,
    check_scopes,
    check_verifier,
    has_credentials,
    single_header,
    token_scopes,
)
from ._resource import ResourceMetadata, check_metadata, require_metadata

try:
    from starlette.authentication import (
        AuthCredentials,
        AuthenticationBackend,
        AuthenticationError,
        BaseUser,
    )
    from starlette.middleware import Middleware
    from starlette.middleware.authentication import AuthenticationMiddleware
    from starlette.requests import HTTPConnection
    from starlette.responses import JSONResponse, PlainTextResponse, Response
    from starlette.routing import Route
    from starlette.types import ASGIApp, Receive, Scope, Send
except ImportError as exc:  # a test hides starlette to check the message
    raise MissingExtra(exc.name or "starlette", "starlette") from exc

__all__ = [
    "BearerError",
    "DPoPSettings",
    "JWTAuthBackend",
    "JWTAuthenticationError",
    "JWTMiddleware",
    "JWTUser",
    "ResourceMetadata",
    "error_response",
    "metadata_response",
    "metadata_route",
]

#: WebSocket close code for a refused handshake (RFC 6455 §7.4.1: policy violation).
_WS_POLICY_VIOLATION = 1008
#: A WebSocket handshake is an HTTP GET to the http(s) URL of its ws(s) URL (RFC 6455 §3).
_HANDSHAKE_SCHEMES = {"ws": "http", "wss": "https"}


def _dpop_request(conn: HTTPConnection, dpop: DPoPSettings | None) -> DPoPRequest | None:
    """The method, URL and ``DPoP`` headers of ``conn`` when DPoP is taken."""
    if dpop is None:
        return None
    url = conn.url
    if url.scheme in _HANDSHAKE_SCHEMES:
        url = url.replace(scheme=_HANDSHAKE_SCHEMES[url.scheme])
    method = conn.scope.get("method", "GET")
    return DPoPRequest(method, str(url), conn.headers.getlist("dpop"))


class JWTUser(BaseUser):
    """The user of a request with a valid token: ``claims``, ``scopes``; ``identity`` is ``sub``."""

    def __init__(self, claims: dict[str, Any], scopes: Sequence[str] = ()) -> None:
        self.claims = claims
        self.scopes = tuple(scopes)

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.identity

    @property
    def identity(self) -> str:
        subject = self.claims.get("sub")
        return subject if isinstance(subject, str) else ""

    def __repr__(self) -> str:
        return f"JWTUser(sub={self.identity!r}, scopes={self.scopes!r})"


def error_response(
    error: BearerError,
    realm: str = DEFAULT_REALM,
    resource_metadata: ResourceMetadata | None = None,
    dpop: DPoPSettings | None = None,
) -> Response:
    """The JSON response of a refusal: status, ``WWW-Authenticate`` and RFC 6749 §5.2 body;
    the challenge names ``resource_metadata``'s document when given (RFC 9728 §5.1), and
    offers DPoP with ``dpop`` (RFC 9449 §7.1)."""
    url = None if resource_metadata is None else resource_metadata.url
    return JSONResponse(
        error.body(), status_code=error.status, headers=error.headers(realm, url, dpop)
    )


def metadata_response(metadata: ResourceMetadata, verifier: Verifier | None = None) -> Response:
    """The RFC 9728 document as ``application/json`` with its ``Cache-Control``; ``verifier``
    gives the default authorization server (its JWKS client's discovered issuer)."""
    return Response(
        metadata.body(verifier), media_type="application/json", headers=metadata.headers()
    )


def metadata_route(metadata: ResourceMetadata, verifier: Verifier | None = None) -> Route:
    """A ``GET`` route serving ``metadata`` at its well-known path (RFC 9728 §3.1)."""
    require_metadata(metadata, "metadata_route")

    async def protected_resource_metadata(request: HTTPConnection) -> Response:
        return metadata_response(metadata, verifier)

    return Route(metadata.path, protected_resource_metadata, methods=["GET"])


class JWTAuthenticationError(AuthenticationError):
    """What :class:`JWTAuthBackend` raises for a bad token; ``str()`` is the safe description."""

    def __init__(
        self,
        error: BearerError,
        realm: str,
        resource_metadata: ResourceMetadata | None = None,
        dpop: DPoPSettings | None = None,
    ) -> None:
        super().__init__(error.description)
        self.error = error
        self.realm = realm
        self.resource_metadata = resource_metadata
        self.dpop = dpop


class JWTAuthBackend(AuthenticationBackend):
    """An ``AuthenticationBackend`` that accepts ``Authorization: Bearer <JWT>``.

    ``scope_claims`` names the claims the scopes come from (first present wins); ``realm`` is
    sent in challenges. Requests without bearer credentials stay anonymous. With
    ``resource_metadata`` the challenges name its RFC 9728 document, which
    :meth:`metadata_route` serves. With ``dpop`` the DPoP scheme is taken too (RFC 9449 §7).
    """

    def __init__(
        self,
        verifier: Verifier,
        *,
        realm: str = DEFAULT_REALM,
        scope_claims: str | Sequence[str] = SCOPE_CLAIMS,
        resource_metadata: ResourceMetadata | None = None,
        dpop: DPoPSettings | None = None,
    ) -> None:
        self.verifier = check_verifier(verifier, "JWTAuthBackend")
        self.realm = check_realm(realm)
        self.scope_claims = check_scope_claims(scope_claims)
        self.resource_metadata = check_metadata(resource_metadata, "JWTAuthBackend")
        self.dpop = check_dpop(dpop, "JWTAuthBackend")

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        try:
            header = single_header(conn.headers.getlist("authorization"))
            if not has_credentials(header, self.dpop):
                return None
            claims = await aauthenticate(
                self.verifier,
                header,
                scope_claims=self.scope_claims,
                dpop=self.dpop,
                request=_dpop_request(conn, self.dpop),
            )
        except BearerError as exc:
            raise JWTAuthenticationError(
                exc, self.realm, self.resource_metadata, self.dpop
            ) from exc
        scopes = token_scopes(claims, self.scope_claims)
        return AuthCredentials(list(scopes)), JWTUser(claims, scopes)

    @staticmethod
    def on_error(conn: HTTPConnection, exc: AuthenticationError) -> Response:
        """``on_error`` for ``AuthenticationMiddleware``: the RFC 6750 §3 answer."""
        if isinstance(exc, JWTAuthenticationError):
            return error_response(exc.error, exc.realm, exc.resource_metadata, exc.dpop)
        return PlainTextResponse(str(exc), status_code=400)  # Starlette's default

    def middleware(self) -> Middleware:
        """``Middleware(AuthenticationMiddleware, backend=self, on_error=self.on_error)``."""
        return Middleware(AuthenticationMiddleware, backend=self, on_error=self.on_error)

    def metadata_route(self) -> Route:
        """The route of this backend's RFC 9728 document (``resource_metadata`` is needed)."""
        if self.resource_metadata is None:
            raise UsageError(
                "JWTAuthBackend.metadata_route: give JWTAuthBackend(..., resource_metadata=...)"
            )
        return metadata_route(self.resource_metadata, self.verifier)


class JWTMiddleware:
    """Pure ASGI middleware: every HTTP/WebSocket request needs a valid bearer token.

    ``scopes`` are required on every request. ``exclude_paths`` are left alone: an entry
    matches its exact path, or every path below it when it ends with ``/``
    (``("/health", "/public/")``). The claims land in ``scope["state"]["claims"]``, read as
    ``request.state.claims``. A refused WebSocket handshake is closed with code 1008.
    With ``resource_metadata`` the middleware answers ``GET``/``HEAD`` on the document's
    well-known path (RFC 9728 §3.1) without a token, and its challenges name the document.
    With ``dpop`` the DPoP scheme is taken too (RFC 9449 §7).
    """

    def __init__(
        self,
        app: ASGIApp,
        verifier: Verifier,
        *,
        scopes: str | Iterable[str] = (),
        realm: str = DEFAULT_REALM,
        exclude_paths: Iterable[str] = (),
        scope_claims: str | Sequence[str] = SCOPE_CLAIMS,
        resource_metadata: ResourceMetadata | None = None,
        dpop: DPoPSettings | None = None,
    ) -> None:
        self.app = app
        self.verifier = check_verifier(verifier, "JWTMiddleware")
        self.scopes = check_scopes(scopes)
        self.realm = check_realm(realm)
        self.scope_claims = check_scope_claims(scope_claims)
        self.resource_metadata = check_metadata(resource_metadata, "JWTMiddleware")
        self.dpop = check_dpop(dpop, "JWTMiddleware")
        paths = tuple(exclude_paths)
        self._exact = frozenset(p for p in paths if not p.endswith("/"))
        self._prefixes = tuple(p for p in paths if p.endswith("/"))

    def _excluded(self, path: str) -> bool:
        return path in self._exact or path.startswith(self._prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._excluded(scope["path"]):
            await self.app(scope, receive, send)
            return
        metadata = self.resource_metadata
        if metadata is not None and scope["type"] == "http" and scope["path"] == metadata.path:
            if scope["method"] in ("GET", "HEAD"):
                response = metadata_response(metadata, self.verifier)
            else:
                response = PlainTextResponse(
                    "Method Not Allowed", status_code=405, headers={"Allow": "GET, HEAD"}
                )
            await response(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        try:
            header = single_header(conn.headers.getlist("authorization"))
            claims = await aauthenticate(
                self.verifier,
                header,
                self.scopes,
                scope_claims=self.scope_claims,
                dpop=self.dpop,
                request=_dpop_request(conn, self.dpop),
            )
        except BearerError as exc:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": _WS_POLICY_VIOLATION})
            else:
                response = error_response(exc, self.realm, self.resource_metadata, self.dpop)
                await response(scope, receive, send)
            return
        scopes = token_scopes(claims, self.scope_claims)
        scope.setdefault("state", {})["claims"] = claims
        scope["auth"] = AuthCredentials(list(scopes))
        scope["user"] = JWTUser(claims, scopes)
        await self.app(scope, receive, send)
