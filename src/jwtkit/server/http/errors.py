"""The exception handlers: every error is an RFC 6749 §5.2 JSON body, never cached.

Validation problems are 400, a body over ``max_body_bytes`` 413, a store outage 503 (logged,
naming no secret); a bug is a bare 500 answered by :class:`.middleware.CatchAll`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from ..oauth_errors import OAuthError
from ..storage import StoreError
from .requests import BodyTooLarge, validation_summary

__all__ = [
    "NO_STORE",
    "STORE_RETRY_AFTER",
    "add_exception_handlers",
    "json_error",
    "oauth_error_response",
    "store_error_response",
]

logger = logging.getLogger("jwtkit.server")


#: RFC 6749 §5.1: token responses must not be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def json_error(
    error: str, description: str, status: int, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        OAuthError(error, description).body(),
        status_code=status,
        headers={**NO_STORE, **(headers or {})},
    )


def oauth_error_response(exc: OAuthError) -> JSONResponse:
    """RFC 6749 §5.2 (and RFC 6750 §3 with its challenge): never cached."""
    return JSONResponse(exc.body(), status_code=exc.status, headers={**NO_STORE, **exc.headers})


#: Seconds a client is asked to wait after a store outage answer (RFC 9110 §10.2.3): about the
#: time a pool needs to notice a database that is back.
STORE_RETRY_AFTER = 5


def store_error_response(method: str, path: str, exc: StoreError) -> JSONResponse:
    """A store outage: logged (the message names no secrets), answered 503 with
    ``Retry-After``."""
    logger.error("storage error in %s %s: %s", method, path, exc)
    return json_error(
        "temporarily_unavailable",
        "the service is temporarily unavailable",
        503,
        {"Retry-After": str(STORE_RETRY_AFTER)},
    )


def add_exception_handlers(app: FastAPI) -> None:
    async def oauth_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, OAuthError)  # noqa: S101 - registered for OAuthError only
        return oauth_error_response(exc)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)  # noqa: S101
        return json_error("invalid_request", validation_summary(exc.errors()), 400)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)  # noqa: S101
        codes = {404: "not_found", 405: "method_not_allowed"}
        return json_error(
            codes.get(exc.status_code, "invalid_request"),
            str(exc.detail),
            exc.status_code,
            exc.headers,
        )

    async def store_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StoreError)  # noqa: S101 - registered for StoreError only
        return store_error_response(request.method, request.url.path, exc)

    async def body_too_large(request: Request, exc: Exception) -> Response:
        return json_error("invalid_request", str(exc), 413)

    async def disconnected(request: Request, exc: Exception) -> Response:
        # The client left before sending its whole body: nobody reads this answer.
        return json_error("invalid_request", "the client disconnected", 400)

    app.add_exception_handler(OAuthError, oauth_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(StoreError, store_error)
    app.add_exception_handler(BodyTooLarge, body_too_large)
    app.add_exception_handler(ClientDisconnect, disconnected)
