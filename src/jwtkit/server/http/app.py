"""The app factory: :func:`create_app` and :func:`app_from_environment`.

:func:`create_app` builds the ASGI app (:class:`.middleware.ServiceApp`) with its middleware,
exception handlers and routes; its lifespan opens the store and loads the key ring.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

import jwtkit

from ..audit import AuditLog
from ..config import Settings, load_settings
from ..credentials import derive_successor_key
from ..health import Readiness
from ..keyring import KeyRing, resolve_key_encryption_key
from ..metrics import Metrics
from ..passwords import PasswordHasher
from ..ratelimit import LoginLimiter
from ..storage import Store, open_store
from ..tokens import TokenService
from .browser import add_browser_routes
from .errors import add_exception_handlers
from .middleware import BodyLimit, CatchAll, ServiceApp, request_observer, security_headers
from .pages import Pages, add_static
from .routes import OPENAPI_PATH, add_docs, add_routes

__all__ = ["app_from_environment", "create_app"]

logger = logging.getLogger("jwtkit.server")


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
    metrics = Metrics(now) if settings.metrics_enabled else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = store is None
        active = open_store(settings.database) if store is None else store
        if own:
            await active.open()
        try:
            keyring = await KeyRing.load(active, settings, now)
            if metrics is not None:
                metrics.watch_keys(keyring)
            # What /readyz asks, by name: each backend the service opens adds its check here.
            app.state.readiness = Readiness({"database": active.ping})
            successor_key = None
            if settings.refresh_grace_period > 0:
                successor_key = derive_successor_key(resolve_key_encryption_key(settings))
            app.state.service = TokenService(
                active,
                settings,
                keyring,
                PasswordHasher.from_settings(settings),
                LoginLimiter(active, settings, now),
                AuditLog(clock=now, on_event=None if metrics is None else metrics.audit_event),
                now,
                successor_key=successor_key,
            )
            yield
        finally:
            if own:
                await active.close()

    app = ServiceApp(
        title="jwtkit token service",
        version=jwtkit.__version__,
        summary="OAuth 2.0 token endpoint with RFC 9068 access tokens, rotated refresh "
        "tokens, revocation, introspection and a JWKS.",
        lifespan=lifespan,
        # FastAPI's /docs and /redoc load their assets from a CDN: add_docs serves Swagger UI.
        openapi_url=OPENAPI_PATH if settings.docs_enabled else None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.unhandled_errors = 0
    app.state.metrics = metrics
    app.security_headers = security_headers(settings)
    app.observe = request_observer(metrics, access_log=settings.log_format == "json")
    if metrics is not None and settings.metrics_token is None and settings.is_production:
        logger.warning(
            "GET /metrics is served without metrics_token: let only your Prometheus reach it "
            "(docs/deploy.md), or set JWTKIT_METRICS_TOKEN"
        )
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(CatchAll, owner=app)
    add_exception_handlers(app)
    app.own_exception_handlers = dict(app.exception_handlers)
    add_routes(app)
    add_browser_routes(app)
    add_static(app)
    app.state.pages = Pages(settings.product_name)
    if settings.docs_enabled:
        add_docs(app)
    return app


def app_from_environment() -> FastAPI:
    """The app for settings from ``JWTKIT_*`` variables (and ``JWTKIT_CONFIG``): the factory
    that ``jwtkit serve --workers N`` hands to uvicorn (``factory=True``)."""
    return create_app(load_settings())
