"""The HTTP layer of the token service: a FastAPI app around :class:`~.tokens.TokenService`.

:func:`create_app` builds the ASGI app; its lifespan opens the store and loads the key ring.

Endpoints: ``POST /token`` (RFC 6749 §3.2, §5), ``POST /revoke`` (RFC 7009), ``POST
/introspect`` (RFC 7662), ``GET /.well-known/jwks.json``, ``GET
/.well-known/oauth-authorization-server`` (RFC 8414) and ``/.well-known/openid-configuration``,
``GET /userinfo`` (a Bearer-protected resource, RFC 6750), ``POST /users`` (registration),
``POST /users/me/password``, ``GET /healthz``.

``GET /docs`` (Swagger UI) and ``GET /openapi.json`` are served when ``settings.docs_enabled``
(on in development, off in production unless ``docs = true``). Swagger UI's script, style sheet
and icon come from the ``swagger-ui-bundle-v2`` package and are served by the service itself
under ``/docs/assets/``, so the page works without internet access and sends no request to
another host (FastAPI's own ``/docs`` loads them from a CDN); ReDoc, which only exists on a
CDN, is off.

Every answer is JSON, errors included (RFC 6749 §5.2 shape): validation problems are 400, a
body over ``max_body_bytes`` is 413 (chunked bodies too), a store outage is 503 and a bug is a
bare 500 whose details go to the log only. Every answer, whoever sends it (a route, an error
handler, the request limits, the shortcut below, /docs), carries ``X-Content-Type-Options:
nosniff``, and ``Strict-Transport-Security: max-age=31536000`` (RFC 6797, one year) when the
issuer is https (:func:`security_headers`).

The ``Authorization`` header is read by :mod:`jwtkit._oauth`, the code the integrations use:
exactly one field (two are a 400 ``invalid_request``, RFC 6750 §3.1), ``Bearer`` and one
``b64token`` (RFC 6750 §2.1).

``GET /userinfo`` is the request a protected resource serves most, so it takes a shortcut:
the app (:class:`_ServiceApp`) answers it before FastAPI's middleware stack, routing and
dependency machinery (about a third of the request's cost on uvicorn), with the same handler
as the declared route, the same ``Content-Length`` checks as the body limit, and the same
error answers as the exception handlers. The route stays declared, so the OpenAPI document
describes it (Bearer security scheme, its 200, 400, 401 and 503 answers), and it serves the
request whenever the shortcut is off: when middleware other than the service's own was added
to the app (CORS, say), which must see every request, when an exception handler was changed,
or when FastAPI's own OpenTelemetry instrumentation is on.

.. warning::
   Rate limits use the client address of the socket. Behind a reverse proxy, run uvicorn with
   ``--forwarded-allow-ips`` (``jwtkit serve --forwarded-allow-ips 10.0.0.1``) so that the
   proxy's ``X-Forwarded-For`` is trusted; never trust it from everyone.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jwtkit

from .. import _oauth
from ._extras import MissingExtra

try:
    from fastapi import FastAPI, Request, Security
    from fastapi.exceptions import RequestValidationError
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
    from fastapi.security import HTTPBearer
    from pydantic import BaseModel, ConfigDict, Field, ValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from starlette.requests import ClientDisconnect
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
    from swagger_ui_bundle import swagger_ui_path
except ImportError as exc:  # pragma: no cover - the server extra is installed in tests
    raise MissingExtra(exc.name or "fastapi", "server") from exc

from .audit import AuditLog
from .config import Settings, load_settings
from .keyring import KeyRing, resolve_key_encryption_key
from .oauth_errors import OAuthError, bearer_challenge
from .passwords import PasswordHasher
from .ratelimit import LoginLimiter
from .storage import Store, StoreError, open_store
from .tokens import (
    JWKS_MAX_AGE,
    PASSWORD_GENERATION_CLAIM,
    ClientAuth,
    TokenService,
    derive_successor_key,
    parse_basic_authorization,
)

__all__ = ["HSTS_MAX_AGE", "BodyTooLarge", "app_from_environment", "create_app", "security_headers"]

logger = logging.getLogger("jwtkit.server")

#: RFC 6749 §5.1: token responses must not be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_FORM = "application/x-www-form-urlencoded"
_MAX_FIELDS = 32
#: RFC 6797 §6.1: one year, the value browsers' HSTS preload lists ask for; no
#: ``includeSubDomains``, since the issuer's sibling hosts are not the service's to pin.
HSTS_MAX_AGE = 31_536_000


class BodyTooLarge(Exception):
    """The request body exceeds ``max_body_bytes`` (answered 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body exceeds {limit} bytes")
        self.limit = limit


# -- request bodies ------------------------------------------------------------------------


class Registration(BaseModel):
    """``POST /users``."""

    model_config = ConfigDict(extra="forbid", strict=True)
    username: str = Field(min_length=1, max_length=64, examples=["alice"])
    password: str = Field(min_length=1, max_length=1024, examples=["correct horse battery"])


class PasswordChange(BaseModel):
    """``POST /users/me/password``."""

    model_config = ConfigDict(extra="forbid", strict=True)
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


def _form_schema(properties: dict[str, str], required: list[str]) -> dict[str, Any]:
    """An OpenAPI request body for a form-encoded endpoint (parsed by hand, see _form)."""
    schema = {
        "type": "object",
        "properties": {
            name: {"type": "string", "description": text} for name, text in properties.items()
        },
        "required": required,
    }
    return {"requestBody": {"required": True, "content": {_FORM: {"schema": schema}}}}


def _json_schema(model: type[BaseModel]) -> dict[str, Any]:
    content = {"application/json": {"schema": model.model_json_schema()}}
    return {"requestBody": {"required": True, "content": content}}


_TOKEN_FORM = _form_schema(
    {
        "grant_type": "password, refresh_token or client_credentials",
        "username": "password grant",
        "password": "password grant",
        "refresh_token": "refresh_token grant",
        "scope": "space-separated scopes (optional)",
        "client_id": "client_secret_post, or a public client",
        "client_secret": "client_secret_post (or use HTTP Basic)",
    },
    ["grant_type"],
)
_TOKEN_FORM_WITH_HINT = _form_schema(
    {
        "token": "the token",
        "token_type_hint": "access_token or refresh_token (optional)",
        "client_id": "client_secret_post, or a public client",
        "client_secret": "client_secret_post (or use HTTP Basic)",
    },
    ["token"],
)


def _media_type(request: Request) -> tuple[str, dict[str, str]]:
    value = request.headers.get("content-type", "")
    media, *parameters = value.split(";")
    params = {}
    for parameter in parameters:
        name, _, text = parameter.strip().partition("=")
        params[name.strip().lower()] = text.strip().strip('"').lower()
    return media.strip().lower(), params


def _decode_body(body: bytes, params: Mapping[str, str]) -> str:
    charset = params.get("charset", "utf-8")
    if charset not in {"utf-8", "utf8", "us-ascii"}:
        raise OAuthError("invalid_request", "the request body must be UTF-8")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "the request body is not valid UTF-8") from None


async def _form(request: Request) -> dict[str, str]:
    """The parameters of a form-encoded OAuth request (RFC 6749 §3.2).

    Parameters without a value are treated as omitted (§3.1); a parameter given twice is an
    error (§3.2); anything that is not ``application/x-www-form-urlencoded`` UTF-8 is refused.
    """
    media, params = _media_type(request)
    if media != _FORM:
        raise OAuthError(
            "invalid_request", f"the request body must be {_FORM} (RFC 6749 §3.2)", 400
        )
    text = _decode_body(await request.body(), params)
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=bool(text),
            errors="strict",
            max_num_fields=_MAX_FIELDS,
        )
    except ValueError:
        raise OAuthError("invalid_request", "the form body is malformed") from None
    form: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in pairs:
        if name in seen:
            raise OAuthError(
                "invalid_request", f"parameter {name[:40]!r} is repeated (RFC 6749 §3.2)"
            )
        seen.add(name)
        if value:
            form[name] = value
    return form


async def _json_body(request: Request, model: type[BaseModel]) -> Any:
    media, params = _media_type(request)
    if media != "application/json":
        raise OAuthError("invalid_request", "the request body must be application/json", 415)
    text = _decode_body(await request.body(), params)
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        raise OAuthError("invalid_request", _validation_summary(exc.errors())) from None


def _validation_summary(errors: Any) -> str:
    """One line from pydantic/FastAPI errors: where and what, never the input value."""
    parts = []
    for error in list(errors)[:3]:
        location = ".".join(str(item) for item in error.get("loc", ()) if item != "body")
        parts.append(f"{location or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _authorization(request: Request) -> str | None:
    """The request's one ``Authorization`` value; several are a 400 (RFC 6750 §3.1)."""
    return _single_authorization(request.headers.getlist("authorization"))


def _single_authorization(values: Sequence[str]) -> str | None:
    try:
        return _oauth.single_authorization(values)
    except _oauth.MalformedAuthorization as exc:
        raise _malformed_authorization(exc.description) from None


def _malformed_authorization(description: str) -> OAuthError:
    """400 ``invalid_request`` with its Bearer challenge (RFC 6750 §3.1)."""
    return OAuthError(
        "invalid_request",
        description,
        400,
        {"WWW-Authenticate": bearer_challenge("invalid_request", description)},
    )


def _client_auth(request: Request, form: Mapping[str, str]) -> ClientAuth:
    """The client credentials of a request: HTTP Basic or the form (RFC 6749 §2.3.1)."""
    header = _authorization(request)
    form_id, form_secret = form.get("client_id"), form.get("client_secret")
    if header is not None:
        if form_secret is not None:
            raise OAuthError(
                "invalid_request", "use one client authentication method only (RFC 6749 §2.3)"
            )
        client_id, secret = parse_basic_authorization(header)
        if form_id is not None and form_id != client_id:
            raise OAuthError("invalid_request", "client_id differs from the Basic credentials")
        return ClientAuth(client_id, secret, "client_secret_basic")
    if form_secret is not None:
        return ClientAuth(form_id, form_secret, "client_secret_post")
    return ClientAuth(form_id, None, "none")


def _bearer_token(request: Request) -> str:
    """The access token of ``Authorization: Bearer`` (RFC 6750 §2.1), or a 401/400."""
    return _bearer_token_of(request.headers.getlist("authorization"))


def _bearer_token_of(values: Sequence[str]) -> str:
    """The access token of a request's ``Authorization`` values, or a 401/400: decided by
    :mod:`jwtkit._oauth`, as the integrations decide (RFC 6750 §2.1, §3.1)."""
    try:
        token = _oauth.parse_bearer(_oauth.single_authorization(values))
    except _oauth.MalformedAuthorization as exc:
        raise _malformed_authorization(exc.description) from None
    if token is None:
        # RFC 6750 §3.1: no error code when the request carries no Bearer credentials.
        raise OAuthError(
            "invalid_request", _oauth.MISSING_TOKEN, 401, {"WWW-Authenticate": bearer_challenge()}
        )
    return token


def _client_ip(request: Request) -> str:
    """The socket's peer address (uvicorn rewrites it from trusted proxies only)."""
    return request.client.host if request.client is not None else "unknown"


def _service(request: Request) -> TokenService:
    service: TokenService = request.app.state.service
    return service


# -- middleware ------------------------------------------------------------------------------


def _error_body(error: str, description: str) -> bytes:
    return json.dumps(_oauth.error_body(error, description)).encode()


async def _send_json(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _refused_length(value: bytes, limit: int, send: Send) -> bool:
    """Answer 400 for a malformed ``Content-Length`` value, 413 for one over ``limit``; return
    whether it did (then the request is over)."""
    if not value.isdigit():
        await _send_json(send, 400, _error_body("invalid_request", "bad Content-Length"))
        return True
    if int(value) > limit:
        description = str(BodyTooLarge(limit))
        await _send_json(send, 413, _error_body("invalid_request", description))
        return True
    return False


class _BodyLimit:
    """413 for bodies over ``limit`` bytes: at once from ``Content-Length``, else (chunked)
    as soon as the body read so far passes the limit (:class:`BodyTooLarge`)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and await _refused_length(value, self.limit, send):
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, limited, send)


class _CatchAll:
    """The last line: an unexpected exception becomes a bare JSON 500 and one log record.

    Counted in ``app.state.unhandled_errors``, which the tests keep at zero for bad input.
    """

    def __init__(self, app: ASGIApp, owner: FastAPI) -> None:
        self.app = app
        self.owner = owner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception:
            if started:  # pragma: no cover - every endpoint answers in one piece
                _count_unhandled(self.owner, scope)
                raise
            await _unhandled(self.owner, scope, send)


def _count_unhandled(owner: FastAPI, scope: Scope) -> None:
    """Count and log (with the traceback) the exception being handled."""
    owner.state.unhandled_errors += 1
    logger.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))


async def _unhandled(owner: FastAPI, scope: Scope, send: Send) -> None:
    """Count and log the exception being handled; answer a bare JSON 500."""
    _count_unhandled(owner, scope)
    await _send_json(send, 500, _error_body("server_error", "internal server error"))


# -- GET /userinfo ---------------------------------------------------------------------------

_BEARER = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="JWT",
    description="An access token of this service (RFC 9068 JWT, RFC 6750 Bearer).",
    auto_error=False,
)
_CLAIM_TYPES = {
    "iss": "string",
    "sub": "string",
    "aud": "string",
    "exp": "integer",
    "iat": "integer",
    "jti": "string",
    "client_id": "string",
    "scope": "string",
    PASSWORD_GENERATION_CLAIM: "integer",
}
_CHALLENGE_HEADER = {
    "WWW-Authenticate": {
        "description": 'The Bearer challenge (RFC 6750 §3), e.g. `Bearer realm="jwtkit", '
        'error="invalid_token", error_description="the access token has expired"`',
        "schema": {"type": "string"},
    }
}
_ERROR_SCHEMA = {
    "application/json": {
        "schema": {
            "type": "object",
            "properties": {
                "error": {"type": "string"},
                "error_description": {"type": "string"},
            },
            "required": ["error", "error_description"],
        }
    }
}
_USERINFO_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The claims of the caller's access token (RFC 9068 §2.2), not cached",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {name: {"type": kind} for name, kind in _CLAIM_TYPES.items()},
                    "required": ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"],
                }
            }
        },
    },
    400: {
        "description": "invalid_request: a malformed Authorization header (RFC 6750 §3.1)",
        "headers": _CHALLENGE_HEADER,
        "content": _ERROR_SCHEMA,
    },
    401: {
        "description": "no Bearer token (challenge without an error code), or invalid_token: "
        "a bad, expired or revoked token, a disabled user, a removed client (RFC 6750 §3.1)",
        "headers": _CHALLENGE_HEADER,
        "content": _ERROR_SCHEMA,
    },
    503: {
        "description": "temporarily_unavailable: the database is unavailable",
        "content": _ERROR_SCHEMA,
    },
}
_USERINFO_PATH = "/userinfo"


async def _userinfo(service: TokenService, authorization: Sequence[str]) -> JSONResponse:
    """``GET /userinfo``: the claims of the caller's valid access token (RFC 6750);
    ``authorization`` holds the request's ``Authorization`` values."""
    claims = await service.verify_access_token(_bearer_token_of(authorization))
    return JSONResponse(claims, headers=NO_STORE)


def _telemetry_enabled(app: FastAPI) -> bool:
    """Whether FastAPI's native OpenTelemetry instrumentation (newer FastAPI versions) traces
    the requests: then /userinfo must go through FastAPI too."""
    enabled = getattr(getattr(app, "_native_telemetry", None), "enabled", None)
    return bool(enabled is not None and enabled())


def security_headers(settings: Settings) -> tuple[tuple[bytes, bytes], ...]:
    """The headers of every answer: ``X-Content-Type-Options: nosniff`` (a JSON answer is never
    sniffed as HTML or script), and ``Strict-Transport-Security`` (RFC 6797) when the issuer,
    the service's public URL, is https."""
    headers = [(b"x-content-type-options", b"nosniff")]
    if settings.issuer.startswith("https://"):
        headers.append((b"strict-transport-security", f"max-age={HSTS_MAX_AGE}".encode()))
    return tuple(headers)


def _adding(send: Send, extra: tuple[tuple[bytes, bytes], ...]) -> Send:
    """``send`` adding ``extra`` to the response's headers (those it does not set itself)."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            present = {bytes(name).lower() for name, _ in headers}
            headers.extend(item for item in extra if item[0] not in present)
            message = {**message, "headers": headers}
        await send(message)

    return sending


class _ServiceApp(FastAPI):
    """The service's FastAPI app, with the ``GET /userinfo`` shortcut (module docstring)
    and the :func:`security_headers` on every answer."""

    #: Whether the shortcut is on: decided when the middleware stack is built.
    userinfo_shortcut = False
    #: Added to every HTTP answer, whoever sends it (set by :func:`create_app`).
    security_headers: tuple[tuple[bytes, bytes], ...] = ()
    #: The exception handlers :func:`create_app` installed (the shortcut answers as they do).
    own_exception_handlers: dict[Any, Any] | None = None

    def build_middleware_stack(self) -> ASGIApp:
        """Build the stack; turn the shortcut on only while the app's middleware and exception
        handlers are the service's own (Starlette's ``max_body_size`` counts as foreign) and
        FastAPI's own OpenTelemetry instrumentation is off."""
        own: tuple[object, ...] = (_BodyLimit, _CatchAll)
        self.userinfo_shortcut = (
            getattr(self, "max_body_size", None) is None
            and all(entry.cls in own for entry in self.user_middleware)
            and self.exception_handlers == self.own_exception_handlers
            and not _telemetry_enabled(self)
        )
        return super().build_middleware_stack()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        send = _adding(send, self.security_headers)
        if (
            self.userinfo_shortcut
            and scope["path"] == _USERINFO_PATH
            and scope["method"] == "GET"
            and not scope.get("root_path")
        ):
            await self._userinfo_shortcut(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def _userinfo_shortcut(self, scope: Scope, receive: Receive, send: Send) -> None:
        """What the middleware, the route and the exception handlers would answer."""
        authorization: list[str] = []
        limit = self.state.settings.max_body_bytes
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization.append(value.decode("latin-1"))
            elif name == b"content-length" and await _refused_length(value, limit, send):
                return
        try:
            response: Response = await _userinfo(self.state.service, authorization)
        except OAuthError as exc:
            response = _oauth_error_response(exc)
        except StoreError as exc:
            response = _store_error_response("GET", _USERINFO_PATH, exc)
        except Exception:
            await _unhandled(self, scope, send)
            return
        await response(scope, receive, send)


# -- the app ---------------------------------------------------------------------------------


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    clock: Callable[[], float] | None = None,
) -> FastAPI:
    """The token service as an ASGI app.

    Without ``store`` the lifespan opens ``open_store(settings.database)`` and closes it on
    shutdown; a given ``store`` must already be open and stays the caller's to close.
    ``clock`` (Unix seconds) drives every expiry; tests pass a FrozenClock.
    """
    now: Callable[[], float] = time.time if clock is None else clock

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = store is None
        active = open_store(settings.database) if store is None else store
        if own:
            await active.open()
        try:
            keyring = await KeyRing.load(active, settings, now)
            successor_key = None
            if settings.refresh_grace_period > 0:
                successor_key = derive_successor_key(resolve_key_encryption_key(settings))
            app.state.service = TokenService(
                active,
                settings,
                keyring,
                PasswordHasher.from_settings(settings),
                LoginLimiter(active, settings, now),
                AuditLog(clock=now),
                now,
                successor_key=successor_key,
            )
            yield
        finally:
            if own:
                await active.close()

    app = _ServiceApp(
        title="jwtkit token service",
        version=jwtkit.__version__,
        summary="OAuth 2.0 token endpoint with RFC 9068 access tokens, rotated refresh "
        "tokens, revocation, introspection and a JWKS.",
        lifespan=lifespan,
        # FastAPI's /docs and /redoc load their assets from a CDN: _add_docs serves Swagger UI.
        openapi_url=_OPENAPI_PATH if settings.docs_enabled else None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.unhandled_errors = 0
    app.security_headers = security_headers(settings)
    app.add_middleware(_BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(_CatchAll, owner=app)
    _add_exception_handlers(app)
    app.own_exception_handlers = dict(app.exception_handlers)
    _add_routes(app)
    if settings.docs_enabled:
        _add_docs(app)
    return app


def app_from_environment() -> FastAPI:
    """The app for settings from ``JWTKIT_*`` variables (and ``JWTKIT_CONFIG``): the factory
    that ``jwtkit serve --workers N`` hands to uvicorn (``factory=True``)."""
    return create_app(load_settings())


def _json_error(
    error: str, description: str, status: int, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        OAuthError(error, description).body(),
        status_code=status,
        headers={**NO_STORE, **(headers or {})},
    )


def _oauth_error_response(exc: OAuthError) -> JSONResponse:
    """RFC 6749 §5.2 (and RFC 6750 §3 with its challenge): never cached."""
    return JSONResponse(exc.body(), status_code=exc.status, headers={**NO_STORE, **exc.headers})


def _store_error_response(method: str, path: str, exc: StoreError) -> JSONResponse:
    """A store outage: logged (the message names no secrets), answered 503."""
    logger.error("storage error in %s %s: %s", method, path, exc)
    return _json_error("temporarily_unavailable", "the service is temporarily unavailable", 503)


def _add_exception_handlers(app: FastAPI) -> None:
    async def oauth_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, OAuthError)  # noqa: S101 - registered for OAuthError only
        return _oauth_error_response(exc)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)  # noqa: S101
        return _json_error("invalid_request", _validation_summary(exc.errors()), 400)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)  # noqa: S101
        codes = {404: "not_found", 405: "method_not_allowed"}
        return _json_error(
            codes.get(exc.status_code, "invalid_request"),
            str(exc.detail),
            exc.status_code,
            exc.headers,
        )

    async def store_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StoreError)  # noqa: S101 - registered for StoreError only
        return _store_error_response(request.method, request.url.path, exc)

    async def body_too_large(request: Request, exc: Exception) -> Response:
        return _json_error("invalid_request", str(exc), 413)

    async def disconnected(request: Request, exc: Exception) -> Response:
        # The client left before sending its whole body: nobody reads this answer.
        return _json_error("invalid_request", "the client disconnected", 400)

    app.add_exception_handler(OAuthError, oauth_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(StoreError, store_error)
    app.add_exception_handler(BodyTooLarge, body_too_large)
    app.add_exception_handler(ClientDisconnect, disconnected)


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "invalid_request (RFC 6749 §5.2)"},
    401: {"description": "invalid_client or invalid_token"},
}


def _add_routes(app: FastAPI) -> None:
    settings: Settings = app.state.settings

    @app.post("/token", openapi_extra=_TOKEN_FORM, responses=_ERRORS, tags=["oauth"])
    async def token(request: Request) -> JSONResponse:
        """The token endpoint (RFC 6749 §3.2): ``password``, ``refresh_token`` and
        ``client_credentials`` grants. Answers §5.1 or §5.2, never cached."""
        form = await _form(request)
        service = _service(request)
        answer = await service.token(form, _client_auth(request, form), _client_ip(request))
        return JSONResponse(answer, headers=NO_STORE)

    @app.post("/revoke", openapi_extra=_TOKEN_FORM_WITH_HINT, responses=_ERRORS, tags=["oauth"])
    async def revoke(request: Request) -> Response:
        """Token revocation (RFC 7009): a refresh token revokes its whole family, an access
        token its ``jti``. Unknown tokens are answered 200 too (§2.2)."""
        form = await _form(request)
        service = _service(request)
        await service.revoke(form, _client_auth(request, form), _client_ip(request))
        return Response(status_code=200, headers=NO_STORE)

    @app.post("/introspect", openapi_extra=_TOKEN_FORM_WITH_HINT, responses=_ERRORS, tags=["oauth"])
    async def introspect(request: Request) -> JSONResponse:
        """Token introspection (RFC 7662) for authenticated confidential clients;
        ``{"active": false}`` for any token that is not valid now."""
        form = await _form(request)
        service = _service(request)
        answer = await service.introspect(form, _client_auth(request, form), _client_ip(request))
        return JSONResponse(answer, headers=NO_STORE)

    @app.get("/.well-known/jwks.json", tags=["discovery"])
    async def jwks(request: Request) -> JSONResponse:
        """The public signing keys (RFC 7517 §5): pending, active and recently retired."""
        document = await _service(request).jwks()
        return JSONResponse(
            document,
            headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"},
            media_type="application/jwk-set+json",
        )

    @app.get("/.well-known/oauth-authorization-server", tags=["discovery"])
    async def metadata(request: Request) -> JSONResponse:
        """Authorization server metadata (RFC 8414 §3)."""
        return JSONResponse(_service(request).metadata())

    @app.get("/.well-known/openid-configuration", tags=["discovery"])
    async def openid_configuration(request: Request) -> JSONResponse:
        """The same metadata at the OpenID Connect discovery path (RFC 8414 §5)."""
        return JSONResponse(_service(request).metadata())

    @app.get(
        _USERINFO_PATH,
        responses=_USERINFO_RESPONSES,
        dependencies=[Security(_BEARER)],
        tags=["resources"],
    )
    async def userinfo(request: Request) -> JSONResponse:
        """A protected resource: the claims of the caller's access token (RFC 6750).

        The token must be valid at this service: signature, `typ: at+jwt`, issuer, audience
        and expiry (RFC 9068 §4), not revoked (RFC 7009), issued after the user's last
        password change, of an enabled user or an existing client.
        """
        return await _userinfo(_service(request), request.headers.getlist("authorization"))

    @app.post(
        "/users",
        status_code=201,
        openapi_extra=_json_schema(Registration),
        responses={**_ERRORS, 403: {"description": "registration is disabled"}},
        tags=["users"],
    )
    async def register(request: Request) -> JSONResponse:
        """Create a user (only when registration is enabled: on in development)."""
        if not settings.registration_enabled:
            raise OAuthError("access_denied", "registration is disabled on this server", 403)
        body: Registration = await _json_body(request, Registration)
        user = await _service(request).create_user(
            body.username, body.password, _client_ip(request)
        )
        answer = {"id": user.id, "username": user.username, "created_at": int(user.created_at)}
        return JSONResponse(answer, status_code=201)

    @app.post(
        "/users/me/password",
        openapi_extra=_json_schema(PasswordChange),
        responses=_ERRORS,
        dependencies=[Security(_BEARER)],
        tags=["users"],
    )
    async def change_password(request: Request) -> JSONResponse:
        """Change the caller's password: every refresh family of the user is revoked and
        the access tokens issued before now stop working at this service."""
        service = _service(request)
        claims = await service.verify_access_token(_bearer_token(request))
        body: PasswordChange = await _json_body(request, PasswordChange)
        revoked = await service.change_password(
            claims, body.current_password, body.new_password, _client_ip(request)
        )
        return JSONResponse(
            {"status": "password changed", "revoked_refresh_tokens": revoked}, headers=NO_STORE
        )

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}


# -- GET /docs -------------------------------------------------------------------------------

_OPENAPI_PATH = "/openapi.json"
_DOCS_PATH = "/docs"
_DOCS_ASSETS_PATH = "/docs/assets"
#: The files of the Swagger UI bundle that /docs uses, and their media types. Only these are
#: served: the bundle also holds a demo page that loads a document from the internet.
_DOCS_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


def _add_docs(app: FastAPI) -> None:
    """``GET /docs``: Swagger UI with its assets served from ``/docs/assets/`` (no CDN)."""
    assets = Path(swagger_ui_path)

    @app.get(_DOCS_PATH, include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + _OPENAPI_PATH,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{_DOCS_ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{_DOCS_ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{_DOCS_ASSETS_PATH}/favicon-32x32.png",
            # No badge that would send the document to validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(_DOCS_ASSETS_PATH + "/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> FileResponse:
        media_type = _DOCS_ASSETS.get(name)
        if media_type is None:
            raise StarletteHTTPException(404, "Not Found")
        return FileResponse(
            assets / name, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"}
        )
