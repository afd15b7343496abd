"""ASGI middleware of the token service, and the app class with the ``GET /userinfo`` fast path.

:class:`BodyLimit` answers 413 for a body over ``max_body_bytes`` (chunked ones too),
:class:`CatchAll` turns a bug into a bare JSON 500 and one log record, :func:`security_headers`
go on every answer, and :class:`ServiceApp` answers ``GET /userinfo`` before FastAPI's own
machinery while nothing else needs to see the request (docs/server.md, "How it works").
:class:`ServiceApp` also tells its :attr:`~ServiceApp.observe` of every request, the shortcut's
included: the metrics and the JSON access log (:func:`request_observer`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from time import perf_counter
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ... import _oauth
from ..config import Settings
from ..metrics import UNMATCHED, Metrics
from ..oauth_errors import OAuthError
from ..storage import StoreError
from .errors import oauth_error_response, store_error_response
from .requests import BodyTooLarge
from .routes import USERINFO_PATH, userinfo_response

__all__ = [
    "HSTS_MAX_AGE",
    "BodyLimit",
    "CatchAll",
    "Observer",
    "ServiceApp",
    "endpoint_of",
    "request_observer",
    "security_headers",
]

logger = logging.getLogger("jwtkit.server")
#: The JSON access log (``log_format = "json"``): one record per request.
access_logger = logging.getLogger("jwtkit.access")
#: Told of every answered request: (scope, endpoint, status, seconds); ``endpoint`` is the
#: route's path template, or :data:`~..metrics.UNMATCHED`.
Observer = Callable[[Scope, str, int, float], None]
#: RFC 6797 §6.1: one year, the value browsers' HSTS preload lists ask for; no
#: ``includeSubDomains``, since the issuer's sibling hosts are not the service's to pin.
HSTS_MAX_AGE = 31_536_000


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


class BodyLimit:
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


class CatchAll:
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


class _Answer:
    """``send`` adding ``extra`` to the response's headers (those it does not set itself), and
    remembering the status it sent (500 until then: an answer that never started failed)."""

    __slots__ = ("extra", "send", "status")

    def __init__(self, send: Send, extra: tuple[tuple[bytes, bytes], ...]) -> None:
        self.send = send
        self.extra = extra
        self.status = 500

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            headers = list(message.get("headers", ()))
            present = {bytes(name).lower() for name, _ in headers}
            headers.extend(item for item in self.extra if item[0] not in present)
            message = {**message, "headers": headers}
        await self.send(message)


def endpoint_of(scope: Scope) -> str:
    """The path template of the route that answered (``/docs/assets/{name}``), from the
    ``route`` that routing put in the scope; :data:`~..metrics.UNMATCHED` for no route."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else UNMATCHED


def request_observer(metrics: Metrics | None, access_log: bool) -> Observer | None:
    """What :class:`ServiceApp` tells of every request: ``metrics`` count it, and with
    ``access_log`` (``log_format = "json"``) one record goes to the ``jwtkit.access`` logger
    with the method, the path (never the query: it can carry an ``id_token_hint``), the
    status, the duration in seconds and the client address. ``None`` when neither is on."""
    observers: list[Observer] = []
    if metrics is not None:

        def count(scope: Scope, endpoint: str, status: int, seconds: float) -> None:
            metrics.observe_request(endpoint, scope["method"], status, seconds)

        observers.append(count)
    if access_log:
        observers.append(_log_access)
    if not observers:
        return None
    if len(observers) == 1:
        return observers[0]
    return _both(observers)


def _both(observers: Sequence[Observer]) -> Observer:
    def observe(scope: Scope, endpoint: str, status: int, seconds: float) -> None:
        for observer in observers:
            observer(scope, endpoint, status, seconds)

    return observe


def _log_access(scope: Scope, endpoint: str, status: int, seconds: float) -> None:
    if not access_logger.isEnabledFor(logging.INFO):
        return
    client = scope.get("client")
    fields = {
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "duration": round(seconds, 6),
        "client": client[0] if client else None,
    }
    access_logger.info(
        "%s %s %d", scope["method"], scope["path"], status, extra={"json_fields": fields}
    )


class ServiceApp(FastAPI):
    """The service's FastAPI app, with the ``GET /userinfo`` shortcut (docs/server.md, "How it
    works") and the :func:`security_headers` on every answer."""

    #: Whether the shortcut is on: decided when the middleware stack is built.
    userinfo_shortcut = False
    #: Added to every HTTP answer, whoever sends it (set by :func:`create_app`).
    security_headers: tuple[tuple[bytes, bytes], ...] = ()
    #: The exception handlers :func:`create_app` installed (the shortcut answers as they do).
    own_exception_handlers: dict[Any, Any] | None = None
    #: Told of every HTTP request once it is answered (set by :func:`create_app`, see
    #: :func:`request_observer`); ``None``: nothing is measured.
    observe: Observer | None = None

    def build_middleware_stack(self) -> ASGIApp:
        """Build the stack; turn the shortcut on only while the app's middleware and exception
        handlers are the service's own (Starlette's ``max_body_size`` counts as foreign) and
        FastAPI's own OpenTelemetry instrumentation is off."""
        own: tuple[object, ...] = (BodyLimit, CatchAll)
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
        answer = _Answer(send, self.security_headers)
        shortcut = (
            self.userinfo_shortcut
            and scope["path"] == USERINFO_PATH
            and scope["method"] == "GET"
            and not scope.get("root_path")
        )
        observe = self.observe
        started = perf_counter()
        try:
            if shortcut:
                await self._userinfo_shortcut(scope, receive, answer)
            else:
                await super().__call__(scope, receive, answer)
        finally:
            if observe is not None:
                endpoint = USERINFO_PATH if shortcut else endpoint_of(scope)
                observe(scope, endpoint, answer.status, perf_counter() - started)

    async def _userinfo_shortcut(self, scope: Scope, receive: Receive, send: Send) -> None:
        """What the middleware, the route and the exception handlers would answer."""
        authorization: list[str] = []
        dpop: list[str] = []
        limit = self.state.settings.max_body_bytes
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization.append(value.decode("latin-1"))
            elif name == b"dpop":
                dpop.append(value.decode("latin-1"))
            elif name == b"content-length" and await _refused_length(value, limit, send):
                return
        try:
            response: Response = await userinfo_response(self.state.service, authorization, dpop)
        except OAuthError as exc:
            response = oauth_error_response(exc)
        except StoreError as exc:
            response = store_error_response("GET", USERINFO_PATH, exc)
        except Exception:
            await _unhandled(self, scope, send)
            return
        await response(scope, receive, send)
