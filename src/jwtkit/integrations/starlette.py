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

Both verify with ``await verifier.adecode(token)``, so a Verifier on an
``AsyncJWKSClient`` never blocks the event loop. Refusals: see :mod:`jwtkit.integrations` (400,
401, 403, and 503 when the issuer's keys are unavailable).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .._extras import MissingExtra
from ..jwt import Verifier
from ._bearer import (
    DEFAULT_REALM,
    SCOPE_CLAIMS,
    BearerError,
    aauthenticate,
    check_realm,
    check_scope_claims,
    check_scopes,
    check_verifier,
    parse_authorization,
    single_header,
    token_scopes,
)

try:
    from starlette.authentication import (
        AuthCredentials,
        AuthenticationBackend,
        AuthenticationError,
        BaseUser,
    )
    from starlette.datastructures import Headers
    from starlette.middleware import Middleware
    from starlette.middleware.authentication import AuthenticationMiddleware
    from starlette.requests import HTTPConnection
    from starlette.responses import JSONResponse, PlainTextResponse, Response
    from starlette.types import ASGIApp, Receive, Scope, Send
except ImportError as exc:  # a test hides starlette to check the message
    raise MissingExtra(exc.name or "starlette", "starlette") from exc

__all__ = [
    "BearerError",
    "JWTAuthBackend",
    "JWTAuthenticationError",
    "JWTMiddleware",
    "JWTUser",
    "error_response",
]

#: WebSocket close code for a refused handshake (RFC 6455 §7.4.1: policy violation).
_WS_POLICY_VIOLATION = 1008


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


def error_response(error: BearerError, realm: str = DEFAULT_REALM) -> Response:
    """The JSON response of a refusal: status, ``WWW-Authenticate`` and RFC 6749 §5.2 body."""
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers(realm))


class JWTAuthenticationError(AuthenticationError):
    """What :class:`JWTAuthBackend` raises for a bad token; ``str()`` is the safe description."""

    def __init__(self, error: BearerError, realm: str) -> None:
        super().__init__(error.description)
        self.error = error
        self.realm = realm


class JWTAuthBackend(AuthenticationBackend):
    """An ``AuthenticationBackend`` that accepts ``Authorization: Bearer <JWT>``.

    ``scope_claims`` names the claims the scopes come from (first present wins); ``realm`` is
    sent in challenges. Requests without bearer credentials stay anonymous.
    """

    def __init__(
        self,
        verifier: Verifier,
        *,
        realm: str = DEFAULT_REALM,
        scope_claims: str | Sequence[str] = SCOPE_CLAIMS,
    ) -> None:
        self.verifier = check_verifier(verifier, "JWTAuthBackend")
        self.realm = check_realm(realm)
        self.scope_claims = check_scope_claims(scope_claims)

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        try:
            header = single_header(conn.headers.getlist("authorization"))
            if parse_authorization(header) is None:
                return None
            claims = await aauthenticate(self.verifier, header, scope_claims=self.scope_claims)
        except BearerError as exc:
            raise JWTAuthenticationError(exc, self.realm) from exc
        scopes = token_scopes(claims, self.scope_claims)
        return AuthCredentials(list(scopes)), JWTUser(claims, scopes)

    @staticmethod
    def on_error(conn: HTTPConnection, exc: AuthenticationError) -> Response:
        """``on_error`` for ``AuthenticationMiddleware``: the RFC 6750 §3 answer."""
        if isinstance(exc, JWTAuthenticationError):
            return error_response(exc.error, exc.realm)
        return PlainTextResponse(str(exc), status_code=400)  # Starlette's default

    def middleware(self) -> Middleware:
        """``Middleware(AuthenticationMiddleware, backend=self, on_error=self.on_error)``."""
        return Middleware(AuthenticationMiddleware, backend=self, on_error=self.on_error)


class JWTMiddleware:
    """Pure ASGI middleware: every HTTP/WebSocket request needs a valid bearer token.

    ``scopes`` are required on every request. ``exclude_paths`` are left alone: an entry
    matches its exact path, or every path below it when it ends with ``/``
    (``("/health", "/public/")``). The claims land in ``scope["state"]["claims"]``, read as
    ``request.state.claims``. A refused WebSocket handshake is closed with code 1008.
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
    ) -> None:
        self.app = app
        self.verifier = check_verifier(verifier, "JWTMiddleware")
        self.scopes = check_scopes(scopes)
        self.realm = check_realm(realm)
        self.scope_claims = check_scope_claims(scope_claims)
        paths = tuple(exclude_paths)
        self._exact = frozenset(p for p in paths if not p.endswith("/"))
        self._prefixes = tuple(p for p in paths if p.endswith("/"))

    def _excluded(self, path: str) -> bool:
        return path in self._exact or path.startswith(self._prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._excluded(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            header = single_header(Headers(scope=scope).getlist("authorization"))
            claims = await aauthenticate(
                self.verifier, header, self.scopes, scope_claims=self.scope_claims
            )
        except BearerError as exc:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": _WS_POLICY_VIOLATION})
            else:
                await error_response(exc, self.realm)(scope, receive, send)
            return
        scopes = token_scopes(claims, self.scope_claims)
        scope.setdefault("state", {})["claims"] = claims
        scope["auth"] = AuthCredentials(list(scopes))
        scope["user"] = JWTUser(claims, scopes)
        await self.app(scope, receive, send)
