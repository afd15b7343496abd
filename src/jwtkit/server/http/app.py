"""The app factory: :func:`create_app` and :func:`app_from_environment`.

:func:`create_app` builds the ASGI app (:class:`.middleware.ServiceApp`) with its middleware,
exception handlers and routes; its lifespan opens the store and loads the key ring, and with
the ``redis`` setting connects the instance to the others (:func:`_redis`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio
from fastapi import FastAPI

import jwtkit

from ..audit import AuditLog
from ..config import Settings, load_settings
from ..credentials import derive_dpop_nonce_key, derive_successor_key
from ..demo import install_demo_user
from ..health import Readiness
from ..keyring import KeyRing, resolve_key_encryption_key
from ..metrics import Metrics
from ..passwords import PasswordHasher
from ..ratelimit import LoginLimiter
from ..storage import Store, open_store
from ..storage.base import LimitCounter
from ..tokens import TokenService
from .browser import add_browser_routes
from .errors import add_exception_handlers
from .home import add_home
from .middleware import BodyLimit, CatchAll, ServiceApp, request_observer, security_headers
from .pages import Pages, add_static
from .routes import OPENAPI_PATH, add_docs, add_routes
from .token_audit import add_audit_route

if TYPE_CHECKING:
    from ..broadcast import Broadcast

__all__ = ["app_from_environment", "create_app"]

logger = logging.getLogger("jwtkit.server")


@dataclass(frozen=True)
class _Redis:
    """What an instance shares with the others through Redis."""

    limits: LimitCounter
    broadcast: Broadcast


@asynccontextmanager
async def _redis(url: str, issuer: str) -> AsyncIterator[_Redis]:
    """The limits and the broadcast of the ``redis`` setting, on one client closed on exit.
    Imported here, so that the service runs without the ``redis`` extra when not asked for."""
    from ..broadcast import Broadcast  # noqa: PLC0415 - the redis extra
    from ..redis_limits import RedisLimitCounter  # noqa: PLC0415
    from ..redis_link import RedisLink  # noqa: PLC0415

    link = RedisLink(url, issuer)
    try:
        yield _Redis(RedisLimitCounter(link), Broadcast(link))
    finally:
        with anyio.CancelScope(shield=True):
            await link.aclose()


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    clock: Callable[[], float] | None = None,
    demo_user: bool = False,
) -> FastAPI:
    """The token service as an ASGI app.

    Without ``store`` the lifespan opens ``open_store(settings.database)`` and closes it on
    shutdown; a given ``store`` must already be open and stays the caller's to close.
    ``clock`` (Unix seconds) drives every expiry; tests pass a FrozenClock.

    With ``demo_user`` (``jwtkit serve``) the lifespan creates the demo user of the page's
    walk-through in development (the ``demo`` setting, :mod:`..demo`).

    With ``settings.redis``, the login and registration limits are counted in Redis (in the
    store while Redis is unavailable), key changes and revocations are published there, and a
    task listens to the other instances' for as long as the app runs (docs/storage.md, "Redis").
    """
    now: Callable[[], float] = time.time if clock is None else clock
    metrics = Metrics(now) if settings.metrics_enabled else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            active = open_store(settings.database) if store is None else store
            if store is None:
                await active.open()
                stack.push_async_callback(active.close)
            shared = None
            if settings.redis is not None:
                shared = await stack.enter_async_context(_redis(settings.redis, settings.issuer))
            keyring = await KeyRing.load(
                active,
                settings,
                now,
                on_change=None if shared is None else shared.broadcast.keys_changed,
            )
            if metrics is not None:
                metrics.watch_keys(keyring)
            # What /readyz asks, by name: each backend the service opens adds its check here.
            # Not Redis: without it the service keeps answering (limits fall back to the
            # database), so an instance without Redis is still ready.
            app.state.readiness = Readiness({"database": active.ping})
            hasher = PasswordHasher.from_settings(settings)
            app.state.demo_user = demo_user and await install_demo_user(
                active, settings, hasher, now()
            )
            successor_key = None
            if settings.refresh_grace_period > 0:
                successor_key = derive_successor_key(resolve_key_encryption_key(settings))
            # The nonces of every instance are keyed alike (RFC 9449 §8): from the KEK.
            nonce_key = None
            if settings.dpop_nonce:
                nonce_key = derive_dpop_nonce_key(resolve_key_encryption_key(settings))
            limiter = (
                LoginLimiter(active, settings, now)
                if shared is None
                else LoginLimiter(shared.limits, settings, now, fallback=active)
            )
            service = TokenService(
                active,
                settings,
                keyring,
                hasher,
                limiter,
                AuditLog(clock=now, on_event=None if metrics is None else metrics.audit_event),
                now,
                successor_key=successor_key,
                dpop_nonce_key=nonce_key,
                on_access_token_revoked=(
                    None if shared is None else shared.broadcast.access_token_revoked
                ),
            )
            app.state.service = service
            if shared is not None:

                async def reload_keys() -> None:
                    await service.refresh_keys(force=True)

                def forget_token(digest: str) -> None:
                    service.access_tokens.cache.discard(digest)

                listeners = await stack.enter_async_context(anyio.create_task_group())
                stack.callback(listeners.cancel_scope.cancel)  # on exit, before waiting for it
                await listeners.start(shared.broadcast.listen, reload_keys, forget_token)
            yield

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
    app.state.demo_user = False
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
    add_audit_route(app)
    add_browser_routes(app)
    add_static(app)
    add_home(app)
    app.state.pages = Pages(settings.product_name)
    if settings.docs_enabled:
        add_docs(app)
    return app


def app_from_environment() -> FastAPI:
    """The app for settings from ``JWTKIT_*`` variables (and ``JWTKIT_CONFIG``): the factory
    that ``jwtkit serve --workers N`` hands to uvicorn (``factory=True``)."""
    return create_app(load_settings(), demo_user=True)
