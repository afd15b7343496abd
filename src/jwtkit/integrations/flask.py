"""Bearer tokens for Flask (extra ``flask``): the ``JWTKit`` extension and ``@require_token``.

::

    from flask import Flask
    from jwtkit.integrations.flask import JWTKit, current_claims, require_token

    app = Flask(__name__)
    JWTKit(app, verifier)                          # or init_app(app, verifier)

    @app.get("/items")
    @require_token(scopes=["read"])
    def items():
        return {"sub": current_claims()["sub"]}

The decorator verifies ``Authorization: Bearer`` with ``verifier.decode`` (Flask is
synchronous), checks the scopes (from ``scope`` or ``scp``) and puts the claims in
``flask.g.jwt_claims``, which :func:`current_claims` returns. Refusals are answered by the
decorator as RFC 6750 §3 JSON responses (see :mod:`jwtkit.integrations`); async views work
(through ``app.ensure_sync``).

DPoP (RFC 9449): ``JWTKit(app, verifier, dpop=DPoPSettings(...))`` (or
``require_token(dpop=...)`` for one view) takes ``Authorization: DPoP`` with its ``DPoP`` proof
too (``DPoPSettings(required=True)``: only that), checked against the request's method and URL
(``request.url``, or the settings' ``public_url`` behind a proxy; Werkzeug's ``ProxyFix`` is the
way to trust a proxy's ``X-Forwarded-*``) and the token's ``cnf.jkt``; a DPoP-bound token sent
as Bearer is refused (RFC 9449 §7.2).

Protected Resource Metadata (RFC 9728): ``JWTKit(app, verifier,
resource_metadata=ResourceMetadata("https://api.example", scopes_supported=["read"]))`` serves
the document on ``GET`` at its well-known path (RFC 9728 §3.1; endpoint
``jwtkit_resource_metadata``) and makes every challenge name it (``resource_metadata="..."``,
RFC 9728 §5.1).

.. warning::
   A Verifier built on an async key provider (``jwtkit.remote.AsyncJWKSClient``) cannot be
   used here: :class:`JWTKit` and ``require_token(verifier)`` refuse it at setup. Use
   ``jwtkit.remote.JWKSClient``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, Protocol, TypeVar, cast, overload

from .._extras import MissingExtra
from ..errors import UsageError
from ..jwt import Verifier
from ._bearer import (
    DEFAULT_REALM,
    SCOPE_CLAIMS,
    BearerError,
    DPoPRequest,
    DPoPSettings,
    authenticate,
    check_dpop,
    check_realm,
    check_scope_claims,
    check_scopes,
    check_verifier,
    single_header,
)
from ._resource import ResourceMetadata, check_metadata

try:
    from flask import Flask, Response, current_app, g, request
except ImportError as exc:  # a test hides flask to check the message
    raise MissingExtra(exc.name or "flask", "flask") from exc

__all__ = [
    "EXTENSION_NAME",
    "METADATA_ENDPOINT",
    "BearerError",
    "DPoPSettings",
    "JWTKit",
    "ResourceMetadata",
    "ViewDecorator",
    "current_claims",
    "error_response",
    "init_app",
    "require_token",
]

#: The key of ``app.extensions`` the settings live under.
EXTENSION_NAME = "jwtkit"
#: The endpoint name of the RFC 9728 document's route (``url_for("jwtkit_resource_metadata")``).
METADATA_ENDPOINT = "jwtkit_resource_metadata"

P = ParamSpec("P")
R = TypeVar("R")


class ViewDecorator(Protocol):
    """What ``require_token(...)`` returns: the wrapper of a sync or async view is sync."""

    @overload
    def __call__(self, view: Callable[P, Awaitable[R]]) -> Callable[P, R | Response]: ...

    @overload
    def __call__(self, view: Callable[P, R]) -> Callable[P, R | Response]: ...


@dataclass(frozen=True)
class _Settings:
    verifier: Verifier
    realm: str
    scope_claims: tuple[str, ...]
    resource_metadata: ResourceMetadata | None = None
    dpop: DPoPSettings | None = None


class JWTKit:
    """The Flask extension: the Verifier (and realm, scope claims) of an app.

    ``JWTKit(app, verifier)`` or, with the application-factory pattern,
    ``jwtkit = JWTKit(verifier=verifier)`` then ``jwtkit.init_app(app)``. The settings are
    stored in ``app.extensions["jwtkit"]``. With ``resource_metadata`` (RFC 9728) the app
    serves that document and every challenge names it. With ``dpop`` the views take
    DPoP-bound tokens too (RFC 9449 §7).
    """

    def __init__(
        self,
        app: Flask | None = None,
        verifier: Verifier | None = None,
        *,
        realm: str = DEFAULT_REALM,
        scope_claims: str | Sequence[str] = SCOPE_CLAIMS,
        resource_metadata: ResourceMetadata | None = None,
        dpop: DPoPSettings | None = None,
    ) -> None:
        self.verifier = None if verifier is None else check_verifier(verifier, "JWTKit", sync=True)
        self.realm = check_realm(realm)
        self.scope_claims = check_scope_claims(scope_claims)
        self.resource_metadata = check_metadata(resource_metadata, "JWTKit")
        self.dpop = check_dpop(dpop, "JWTKit")
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask, verifier: Verifier | None = None) -> None:
        """Register with ``app``; ``verifier`` overrides the one given to the constructor."""
        chosen = verifier if verifier is not None else self.verifier
        if chosen is None:
            raise UsageError("JWTKit.init_app: a Verifier is required")
        chosen = check_verifier(chosen, "JWTKit.init_app", sync=True)
        metadata = self.resource_metadata
        app.extensions[EXTENSION_NAME] = _Settings(
            chosen, self.realm, self.scope_claims, metadata, self.dpop
        )
        if metadata is not None:
            app.add_url_rule(metadata.path, METADATA_ENDPOINT, _metadata_view, methods=["GET"])


def _metadata_view() -> Response:
    """The app's RFC 9728 document (``application/json``, public ``Cache-Control``)."""
    settings: _Settings = current_app.extensions[EXTENSION_NAME]
    metadata = cast("ResourceMetadata", settings.resource_metadata)
    return current_app.response_class(
        metadata.body(settings.verifier),
        headers=metadata.headers(),
        mimetype="application/json",
    )


def init_app(
    app: Flask,
    verifier: Verifier,
    *,
    realm: str = DEFAULT_REALM,
    scope_claims: str | Sequence[str] = SCOPE_CLAIMS,
    resource_metadata: ResourceMetadata | None = None,
    dpop: DPoPSettings | None = None,
) -> JWTKit:
    """``JWTKit(app, verifier, ...)``: register ``verifier`` with ``app``."""
    return JWTKit(
        app,
        verifier,
        realm=realm,
        scope_claims=scope_claims,
        resource_metadata=resource_metadata,
        dpop=dpop,
    )


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
    return current_app.response_class(
        json.dumps(error.body()),
        status=error.status,
        headers=error.headers(realm, url, dpop),
        mimetype="application/json",
    )


def current_claims() -> dict[str, Any]:
    """The verified claims of this request (``flask.g.jwt_claims``)."""
    claims: dict[str, Any] | None = g.get("jwt_claims")
    if claims is None:
        raise UsageError(
            "no verified access token in this request: decorate the view with @require_token()"
        )
    return claims


def require_token(
    verifier: Verifier | None = None,
    *,
    scopes: str | Iterable[str] = (),
    realm: str | None = None,
    dpop: DPoPSettings | None = None,
) -> ViewDecorator:
    """A view decorator: the request needs a valid bearer token granting every one of ``scopes``.

    Without ``verifier`` the app's (:class:`JWTKit`) is used; ``realm`` and ``dpop`` default to
    the app's. Put it below ``@app.route``.
    """
    fixed = None if verifier is None else check_verifier(verifier, "require_token", sync=True)
    required = check_scopes(scopes)
    chosen_realm = None if realm is None else check_realm(realm)
    chosen_dpop = check_dpop(dpop, "require_token")

    def decorator(view: Callable[P, Any]) -> Callable[P, Any]:
        @functools.wraps(view)
        def protected(*args: P.args, **kwargs: P.kwargs) -> Any:
            settings: _Settings | None = current_app.extensions.get(EXTENSION_NAME)
            if fixed is None and settings is None:
                raise UsageError(
                    "require_token() without a verifier needs JWTKit(app, verifier) "
                    "(or jwtkit.integrations.flask.init_app)"
                )
            active = fixed if fixed is not None else cast("_Settings", settings).verifier
            answer_realm = chosen_realm or (settings.realm if settings else DEFAULT_REALM)
            claim_names = settings.scope_claims if settings else SCOPE_CLAIMS
            metadata = settings.resource_metadata if settings else None
            active_dpop = chosen_dpop or (settings.dpop if settings else None)
            facts = None
            if active_dpop is not None:
                facts = DPoPRequest(request.method, request.url, request.headers.getlist("DPoP"))
            try:
                header = single_header(request.headers.getlist("Authorization"))
                claims = authenticate(
                    active,
                    header,
                    required,
                    scope_claims=claim_names,
                    dpop=active_dpop,
                    request=facts,
                )
            except BearerError as exc:
                return error_response(exc, answer_realm, metadata, active_dpop)
            g.jwt_claims = claims
            return current_app.ensure_sync(view)(*args, **kwargs)

        return protected

    return cast("ViewDecorator", decorator)
