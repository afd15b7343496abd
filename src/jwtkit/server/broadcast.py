"""What one instance of the service tells the others at once, over Redis pub/sub.

Each instance subscribes to the channel ``jwtkit:<namespace>:changes`` (:mod:`.redis_link`)
for as long as it runs (:meth:`Broadcast.listen`, started by the app's lifespan), and publishes
there when something changes that the others hold in memory:

``{"event": "keys", "kid": "<kid>", "from": "<instance>"}``
    A signing key was created, activated or retired (:class:`~.keyring.KeyRing`; ``jwtkit
    keys rotate|retire`` publishes too). Every other instance reloads its key ring from the
    database at once, instead of at its next periodic reload (every 10 s): a new key is
    published in its JWKS and verifies tokens, a retired one stops verifying.
``{"event": "revoked", "token_sha256": "<digest>", "from": "<instance>"}``
    An access token was revoked (RFC 7009): every other instance drops it from its
    verified-token cache (:meth:`~.access_tokens.VerifiedTokenCache.discard`). Tidiness, not
    safety: each request checks the database for revoked tokens, revoked refresh families and
    password changes whether its token's claims come from the cache or not.

A message carries no token and no secret: a key id, the base64url SHA-256 of a token, and a
random id of the sending instance (an instance ignores its own messages). Messages are hints
to re-read what the database holds, so a forged one can do no more than cause a reload; an
unknown event or a malformed message is ignored.

Pub/sub delivers only to subscribers connected at the time. After an outage (or at the
start), each new subscription is followed by a reload of the key ring, which catches up with
whatever was published meanwhile; the periodic reload remains as well.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.abc

from .._messages import short
from .redis_link import UNAVAILABLE, RedisLink, RedisUnavailable

__all__ = ["HEARTBEAT", "RECONNECT_DELAYS", "Broadcast"]

logger = logging.getLogger("jwtkit.server.redis")

#: Seconds of silence on the subscription after which Redis is sent a PING; no answer within
#: as long again counts as a lost connection (a server that stopped answering).
HEARTBEAT = 15.0
#: Seconds to wait before subscribing again after a failure: the first, and at most.
RECONNECT_DELAYS = (0.1, 5.0)
#: A token's digest as messages carry it: base64url of 32 bytes.
_DIGEST = re.compile(r"[A-Za-z0-9_-]{43}")


class Broadcast:
    """Publishes this instance's changes and delivers the other instances' (see the module's
    docstring)."""

    def __init__(self, link: RedisLink) -> None:
        self._link = link
        self.channel = link.key("changes")
        #: This instance's random id, the ``from`` of its messages.
        self.origin = secrets.token_hex(8)

    # -- publishing --------------------------------------------------------------------------

    async def keys_changed(self, kid: str) -> bool:
        """Tell the other instances that the key ``kid`` changed; ``False`` if Redis is
        unavailable (they reload their keys within 10 s then)."""
        return await self._publish({"event": "keys", "kid": kid})

    async def access_token_revoked(self, digest: str) -> bool:
        """Tell the other instances that the access token of this digest
        (:func:`~.access_tokens.token_digest`) was revoked; ``False`` if Redis is
        unavailable."""
        return await self._publish({"event": "revoked", "token_sha256": digest})

    async def _publish(self, message: dict[str, str]) -> bool:
        data = json.dumps({**message, "from": self.origin}, separators=(",", ":"))
        try:
            await self._link.run(lambda: self._link.client.publish(self.channel, data))
        except RedisUnavailable:
            return False
        return True

    # -- listening ---------------------------------------------------------------------------

    async def listen(
        self,
        reload_keys: Callable[[], Awaitable[object]],
        forget_token: Callable[[str], object],
        *,
        task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Deliver the other instances' messages until cancelled: ``reload_keys()`` for a key
        change (and after each new subscription), ``forget_token(digest)`` for a revoked
        access token. Reconnects after a failure, waiting longer each time
        (:data:`RECONNECT_DELAYS`).

        With ``task_status`` (``TaskGroup.start``), the start is reported once subscribed (and
        the keys reloaded), or once the first attempt has failed: an instance starts without
        Redis too."""
        first, longest = RECONNECT_DELAYS
        delay = first
        started = False

        def subscribed() -> None:
            nonlocal started, delay
            delay = first
            if not started:
                started = True
                task_status.started()

        handlers = _Handlers(reload_keys, forget_token, subscribed)
        while True:
            try:
                await self._subscription(handlers)
            except UNAVAILABLE as exc:
                self._link.failed(exc)
            if not started:
                started = True
                task_status.started()
            await anyio.sleep(delay)
            delay = min(delay * 2, longest)

    async def _subscription(self, handlers: _Handlers) -> None:
        """One subscription, until its connection fails (raises)."""
        pubsub = self._link.client.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            pinged = False
            while True:
                # What follows the wait is a call: a frame resumed after a timeout inside the
                # wait may miss line events (CPython 3.11), and coverage with them.
                message: Any = await pubsub.get_message(timeout=HEARTBEAT)
                pinged = await self._heard(pubsub, message, pinged, handlers)
        finally:
            with anyio.CancelScope(shield=True):
                await pubsub.aclose()

    async def _heard(
        self, pubsub: Any, message: dict[str, Any] | None, pinged: bool, handlers: _Handlers
    ) -> bool:
        """Handle what the wait for a message gave (``None``: silence for :data:`HEARTBEAT`
        seconds); whether a PING now awaits its answer. A second silence after a PING is a
        lost connection (:class:`TimeoutError`)."""
        if message is None:
            if pinged:
                raise TimeoutError(f"no answer to PING in {HEARTBEAT} s")
            await pubsub.ping()
            return True
        if message["type"] == "subscribe":
            # Subscribed, or subscribed again by redis-py after a lost connection: whatever
            # was published meanwhile was missed.
            self._link.succeeded()
            await self._reload(handlers.reload_keys)
            handlers.subscribed()
        elif message["type"] == "message":
            await self._deliver(message["data"], handlers)
        return False  # any message (a PING's answer too) shows the connection alive

    async def _deliver(self, data: bytes, handlers: _Handlers) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            logger.debug("ignored a message on %s that is not JSON", self.channel)
            return
        if not isinstance(message, dict) or message.get("from") == self.origin:
            return
        event = message.get("event")
        if event == "keys":
            logger.info(
                "another instance changed the signing key %s: reloading the keys",
                short(message.get("kid")),
            )
            await self._reload(handlers.reload_keys)
        elif event == "revoked":
            digest = message.get("token_sha256")
            if isinstance(digest, str) and _DIGEST.fullmatch(digest):
                handlers.forget_token(digest)
        else:
            logger.debug("ignored a message on %s: event %s", self.channel, short(event))

    @staticmethod
    async def _reload(reload_keys: Callable[[], Awaitable[object]]) -> None:
        """Reload the keys; a failure (the database) is logged, and the subscription goes on."""
        try:
            await reload_keys()
        except Exception:
            logger.exception("reloading the signing keys failed; the periodic reload retries")


@dataclass(frozen=True)
class _Handlers:
    """What :meth:`Broadcast.listen` calls."""

    reload_keys: Callable[[], Awaitable[object]]
    forget_token: Callable[[str], object]
    subscribed: Callable[[], None]
