"""The service's link to Redis (the ``redis`` setting): the one import of redis-py, the names
of the keys and of the channel, and what an instance does while Redis is unreachable.

Several instances of the service, each on its own host or in its own process, share one Redis:
the login and registration limits are counted there (:mod:`.redis_limits`), and the changes
that every instance must know at once are published there (:mod:`.broadcast`). Redis holds
nothing the service cannot do without: the database stays the one source of truth.

Names: every key and the channel start with ``jwtkit:<namespace>:``, the namespace being the
first 16 hex digits of the SHA-256 of the issuer. The instances of one service (one issuer)
meet there; services with other issuers may share a Redis server and never meet.

Outages: a command that fails (a refused or lost connection, a timeout, an error answer)
marks Redis *down*. One warning is logged per outage, not per request, and for
:data:`RETRY_INTERVAL` seconds no command is sent: :meth:`RedisLink.run` raises
:class:`RedisUnavailable` at once, so that an unreachable server costs a request nothing but
the fallback. The first command that succeeds afterwards ends the outage (logged at info).
Connecting and every answer wait at most :data:`TIMEOUT` seconds; a connection found broken
(Redis restarted) is retried once on a new one.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from .._urls import redacted_url
from ._extras import MissingExtra

try:
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import RedisError
except ImportError as exc:
    raise MissingExtra("redis", "redis") from exc

__all__ = [
    "RETRY_INTERVAL",
    "TIMEOUT",
    "UNAVAILABLE",
    "Redis",
    "RedisLink",
    "RedisUnavailable",
    "namespace",
]

logger = logging.getLogger("jwtkit.server.redis")

_T = TypeVar("_T")

#: Seconds to connect to Redis, and to wait for each answer.
TIMEOUT = 1.0
#: Seconds after a failure during which no command is sent to Redis (the fallback is used).
RETRY_INTERVAL = 2.0
#: What a command raises when Redis cannot be used: redis-py's errors, and the socket's.
UNAVAILABLE: tuple[type[Exception], ...] = (RedisError, OSError)


class RedisUnavailable(Exception):
    """Redis could not be used (it failed, or failed less than :data:`RETRY_INTERVAL` seconds
    ago): the caller does without it."""


def namespace(issuer: str) -> str:
    """The part of every key and channel name that tells services apart: 16 hex digits of the
    SHA-256 of the issuer."""
    return hashlib.sha256(issuer.encode("utf-8")).hexdigest()[:16]


class RedisLink:
    """A Redis client for ``url`` (not connected until its first command), the names of this
    service's keys, and the outage state shared by everything that uses it.

    ``clock`` (monotonic seconds) times :data:`RETRY_INTERVAL`.
    """

    def __init__(
        self, url: str, issuer: str, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.client: Redis = Redis.from_url(
            url,
            socket_connect_timeout=TIMEOUT,
            socket_timeout=TIMEOUT,
            retry=Retry(NoBackoff(), 1),
        )
        #: The URL as it may be shown: without its password.
        self.where = redacted_url(url)
        self.prefix = f"jwtkit:{namespace(issuer)}:"
        self._clock = clock
        self._down = False
        self._retry_at = 0.0

    def key(self, name: str) -> str:
        """The full name of this service's key (or channel) ``name``."""
        return self.prefix + name

    @property
    def down(self) -> bool:
        """Whether the last use of Redis failed."""
        return self._down

    async def run(self, command: Callable[[], Awaitable[_T]]) -> _T:
        """The answer of ``command`` (a call of :attr:`client`); :class:`RedisUnavailable` if
        it fails, or without sending it while an outage is less than :data:`RETRY_INTERVAL`
        seconds old."""
        if self._down and self._clock() < self._retry_at:
            raise RedisUnavailable(f"Redis at {self.where} failed; not retried yet")
        try:
            answer = await command()
        except UNAVAILABLE as exc:
            self.failed(exc)
            raise RedisUnavailable(f"Redis at {self.where} failed") from exc
        self.succeeded()
        return answer

    def failed(self, error: BaseException) -> None:
        """Record a failure: the start of an outage is logged (once), and no command is sent
        for :data:`RETRY_INTERVAL` seconds."""
        self._retry_at = self._clock() + RETRY_INTERVAL
        if self._down:
            return
        self._down = True
        logger.warning(
            "Redis at %s failed (%s: %s): until it answers again, login and registration "
            "limits are counted in the database, and other instances learn of key changes "
            "within 10 s instead of at once",
            self.where,
            type(error).__name__,
            str(error)[:200],
        )

    def succeeded(self) -> None:
        """Record a success: an outage ends (logged once)."""
        if self._down:
            self._down = False
            logger.info("Redis at %s answers again: limits are counted there again", self.where)

    async def aclose(self) -> None:
        """Close the client's connections."""
        await self.client.aclose()
