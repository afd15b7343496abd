"""Bearer tokens for FastAPI (extra ``fastapi``): a dependency that yields the verified claims.

::

    from fastapi import Depends, FastAPI
    from jwtkit.integrations.fastapi import configure, require_token

    app = FastAPI()
    configure(app, verifier)                       # once: the Verifier and the error bodies

    @app.get("/items")
    async def items(claims: dict = Depends(require_token(scopes=["read"]))):
        return {"sub": claims["sub"]}

``require_token(verifier=None, *, scopes=(), realm="api")`` verifies ``Authorization: Bearer``
with ``await verifier.adecode(token)`` (an ``AsyncJWKSClient`` is awaited), checks the scopes
(from ``scope`` or ``scp``) and returns the claims. Without a ``verifier`` it uses the one
:func:`configure` stored in ``app.state``. It declares a ``fastapi.security.HTTPBearer``, so the
OpenAPI document lists an HTTP bearer scheme and ``/docs`` shows the lock.

Refusals (RFC 6750 §3, see :mod:`jwtkit.integrations`) are raised as
:class:`BearerHTTPException`, an ``HTTPException`` with the right status and
``WWW-Authenticate`` header. :func:`configure` installs the handler that answers them with the
RFC 6749 §5.2 body ``{"error": ..., "error_description": ...}``; without it FastAPI's default
handler answers ``{"detail": "<description>"}`` with the same status and headers.

DPoP (RFC 9449): ``require_token(dpop=DPoPSettings(...))`` takes ``Authorization: DPoP`` with
its ``DPoP`` proof too (``DPoPSettings(required=True)``: only that), checked against the
request's method and URL (``request.url``, or the settings' ``public_url`` behind a proxy) and
the token's ``cnf.jkt``; a DPoP-bound token sent as Bearer is refused (RFC 9449 §7.2).

Protected Resource Metadata (RFC 9728): ``configure(app, verifier,
resource_metadata=ResourceMetadata("https://api.example", scopes_supported=["read"]))``
includes :func:`metadata_router` (``GET`` on the well-known path, RFC 9728 §3.1, outside the
OpenAPI document) and makes every challenge name the document (``resource_metadata="..."``,
RFC 9728 §5.1).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Annotated, Any

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
    single_header,
)
from ._resource import ResourceMetadata, require_metadata

try:
    from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
    from fastapi.responses import JSONResponse, Response
    from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
except ImportError as exc:  # a test hides fastapi to check the message
    raise MissingExtra(exc.name or "fastapi", "fastapi") from exc

__all__ = [
    "METADATA_ATTRIBUTE",
    "STATE_ATTRIBUTE",
    "BearerError",
    "BearerHTTPException",
    "DPoPSettings",
    "ResourceMetadata",
    "bearer_scheme",
    "configure",
    "metadata_router",
    "require_token",
]

#: The ``app.state`` attribute :func:`configure` stores the Verifier in.
STATE_ATTRIBUTE = "jwtkit_verifier"
#: The ``app.state`` attribute :func:`configure` stores the :class:`ResourceMetadata` in.
METADATA_ATTRIBUTE = "jwtkit_resource_metadata"

#: The security scheme every ``require_token`` dependency declares (OpenAPI ``HTTPBearer``).
bearer_scheme = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="A JWT access token: `Authorization: Bearer <token>` (RFC 6750).",
)

ClaimsDependency = Callable[..., Coroutine[Any, Any, dict[str, Any]]]


class BearerHTTPException(HTTPException):
    """A refused request: ``status_code``, ``detail`` (the description), the challenge header.

    ``error`` is the :class:`BearerError` with the RFC 6750 code; ``resource_metadata``, the
    URL of the RFC 9728 document, is named in the challenge when given; ``dpop`` adds the DPoP
    challenge (RFC 9449 §7.1).
    """

    def __init__(
        self,
        error: BearerError,
        realm: str = DEFAULT_REALM,
        resource_metadata: str | None = None,
        dpop: DPoPSettings | None = None,
    ) -> None:
        super().__init__(
            error.status, error.description, error.headers(realm, resource_metadata, dpop)
        )
        self.error = error


async def _answer(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BearerHTTPException)  # noqa: S101 - registered for this class only
    return JSONResponse(exc.error.body(), status_code=exc.status_code, headers=exc.headers)


def metadata_router(metadata: ResourceMetadata) -> APIRouter:
    """An ``APIRouter`` serving ``metadata`` at its well-known path (RFC 9728 §3.1), left out
    of the OpenAPI document. Without ``authorization_servers`` the document names the issuer
    of the app's Verifier's JWKS client (:func:`configure`) when it was discovered.
    :func:`configure` includes it for you when given ``resource_metadata``.
    """
    require_metadata(metadata, "metadata_router")

    async def protected_resource_metadata(request: Request) -> Response:
        verifier = getattr(request.app.state, STATE_ATTRIBUTE, None)
        return Response(
            metadata.body(verifier), media_type="application/json", headers=metadata.headers()
        )

    router = APIRouter()
    router.add_api_route(
        metadata.path, protected_resource_metadata, methods=["GET"], include_in_schema=False
    )
    return router


def configure(
    app: FastAPI,
    verifier: Verifier | None = None,
    *,
    resource_metadata: ResourceMetadata | None = None,
) -> None:
    """Store ``verifier`` for ``require_token()`` and answer refusals with RFC 6749 §5.2 bodies.

    Call it when creating the app: Starlette collects exception handlers when the app starts
    (at its first request or lifespan event), so the handler must be there before. A verifier
    that needs ``await`` to build (``await AsyncJWKSClient.from_issuer(...)``) can be set at
    startup, in the lifespan, with a second ``configure(app, verifier)``. ``verifier`` may be
    omitted when every ``require_token`` is given its own.

    ``resource_metadata`` (RFC 9728) is given once, with the first call: the app then serves
    the document (:func:`metadata_router`) and every challenge of ``require_token`` names it.
    """
    if verifier is not None:
        setattr(app.state, STATE_ATTRIBUTE, check_verifier(verifier, "configure"))
    if resource_metadata is not None:
        _configure_metadata(app, require_metadata(resource_metadata, "configure"))
    if app.exception_handlers.get(BearerHTTPException) is _answer:
        return
    if app.middleware_stack is not None:
        raise UsageError(
            "configure(app) must first be called before the app starts (its error handler is "
            "collected then): call configure(app) when creating the app, and "
            "configure(app, verifier) at startup"
        )
    app.add_exception_handler(BearerHTTPException, _answer)


def _configure_metadata(app: FastAPI, metadata: ResourceMetadata) -> None:
    current = getattr(app.state, METADATA_ATTRIBUTE, None)
    if current is metadata:
        return
    if current is not None:
        raise UsageError("configure: resource_metadata is given once, with the first call")
    setattr(app.state, METADATA_ATTRIBUTE, metadata)
    app.include_router(metadata_router(metadata))


def _configured_verifier(request: Request) -> Verifier:
    verifier = getattr(request.app.state, STATE_ATTRIBUTE, None)
    if verifier is None:
        raise UsageError(
            "require_token() without a verifier needs "
            "jwtkit.integrations.fastapi.configure(app, verifier)"
        )
    return check_verifier(verifier, "app.state." + STATE_ATTRIBUTE)


def require_token(
    verifier: Verifier | None = None,
    *,
    scopes: str | Iterable[str] = (),
    realm: str = DEFAULT_REALM,
    scope_claims: str | Sequence[str] = SCOPE_CLAIMS,
    dpop: DPoPSettings | None = None,
) -> ClaimsDependency:
    """A dependency that returns the verified claims of the request's bearer token.

    ``scopes`` must all be granted (403 ``insufficient_scope`` otherwise); ``realm`` is named
    in the ``WWW-Authenticate`` challenge; ``scope_claims`` are the claims scopes are read
    from; ``dpop`` takes DPoP-bound tokens too (RFC 9449 §7). Use it as
    ``Depends(require_token(...))`` in a route's parameters or ``dependencies=[...]``.
    """
    fixed = None if verifier is None else check_verifier(verifier, "require_token")
    required = check_scopes(scopes)
    check_realm(realm)
    claim_names = check_scope_claims(scope_claims)
    settings = check_dpop(dpop, "require_token")

    async def verified_claims(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    ) -> dict[str, Any]:
        # ``credentials`` is declared for the OpenAPI document; the header is parsed strictly
        # here (RFC 6750 §2.1), which HTTPBearer does not do.
        del credentials
        active = fixed if fixed is not None else _configured_verifier(request)
        facts = None
        if settings is not None:
            facts = DPoPRequest(request.method, str(request.url), request.headers.getlist("dpop"))
        try:
            header = single_header(request.headers.getlist("authorization"))
            return await aauthenticate(
                active,
                header,
                required,
                scope_claims=claim_names,
                dpop=settings,
                request=facts,
            )
        except BearerError as exc:
            metadata = getattr(request.app.state, METADATA_ATTRIBUTE, None)
            url = metadata.url if isinstance(metadata, ResourceMetadata) else None
            raise BearerHTTPException(exc, realm, url, settings) from exc

    return verified_claims
