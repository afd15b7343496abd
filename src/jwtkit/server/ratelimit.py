"""Brute-force protection: password checks limited per username and per client IP, and
registrations (of users and of clients) per client IP.

Each bucket is a fixed window of ``login_failure_window`` seconds in the Store (so every worker
shares it). Over ``login_max_failures_per_user`` failures for a username, or
``login_max_failures_per_ip`` for an address, further attempts are refused until the window
resets; the caller answers 429 with ``Retry-After`` (RFC 6585 §4, RFC 9110 §10.2.3) without
checking the password (RFC 9700 §4.16 / OWASP: throttle online guessing).

.. rubric:: Reserve, check, settle

A limit must hold for attempts that arrive together, not only one after another: checking the
count, running Argon2 (~100 ms) and recording the failure afterwards let 30 parallel guesses
through a limit of 5. :meth:`LoginLimiter.attempt` therefore *reserves* the attempt before the
password is checked: :meth:`Store.reserve_attempt <.storage.Store.reserve_attempt>` counts it as
in progress in both buckets, in one atomic step, and only if neither bucket is full (failures
plus attempts in progress reach the limit). When the check is done the attempt is *settled*
(:meth:`Store.settle_attempt <.storage.Store.settle_attempt>`): a failure stays counted; a
success counts nothing in either bucket and forgets the username's earlier failures, but never
the attempts still in progress, so a success cannot open the way for guesses already under
way. An attempt that ends any other way (an error, a cancelled request) counts as a failure:
the password may have been checked.

.. rubric:: Where the counts are

The state lives in a :class:`~.storage.base.LimitCounter`, not in this object: the Store (the
default; several workers, or several hosts on a shared database, share one count), or Redis
when the ``redis`` setting names one (:class:`~.redis_limits.RedisLimitCounter`: a Lua script
per operation, which runs atomically, over one hash per bucket). The rules above are this
module's alone; a counter only counts.

With Redis, the Store is the *fallback*: while Redis is unavailable (its counter raises
:class:`CounterUnavailable`), the limits are counted in the database, with the same rules, so
that logins and registrations keep being answered and kept in check; once Redis answers again,
they are counted there again. An attempt is settled where it was reserved; if that was Redis
and Redis has failed since, its failure is counted in the database (its place in progress in
Redis ends with its window).

Registrations (``POST /users``) are counted per address in a fixed window of
:data:`REGISTRATION_WINDOW` seconds; past ``registration_max_per_ip`` they get 429 before the
password is hashed. Client registrations (``POST /register``, RFC 7591) are counted the same
way in buckets of their own, so that one kind does not use up the other. Each registration is
counted by one atomic increment-and-read (:meth:`Store.record_failure
<.storage.Store.record_failure>`), so parallel ones hold too.

Bucket names: ``user:<sha256 of the NFKC-casefolded username>`` (``Alice`` and ``alice`` share
one; the Store never holds what people typed as a username, which is sometimes a password),
``ip:<address>``, ``register:ip:<address>`` (users) and ``register-client:ip:<address>``
(clients); IPv6 addresses count per /64 network, the block one host usually controls.

.. warning:: A per-username limit lets anyone lock a user out for one window by failing on
   purpose; the per-IP limit and a short window keep that cheap to recover from. A successful
   login clears only the username bucket, never the IP bucket (else one valid account would
   reset the counter of an attacker trying others).
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TypeVar

import anyio

from .config import Settings
from .models import AttemptReservation
from .storage.base import LimitCounter

__all__ = [
    "CLIENT_REGISTRATIONS",
    "REGISTRATION_WINDOW",
    "USER_REGISTRATIONS",
    "CounterUnavailable",
    "LimitReached",
    "LoginAttempt",
    "LoginLimiter",
    "ip_bucket",
    "user_bucket",
]

#: The window (seconds) in which ``registration_max_per_ip`` registrations are counted.
REGISTRATION_WINDOW = 3600.0
#: The prefix of the buckets that count user registrations (``POST /users``).
USER_REGISTRATIONS = "register"
#: The prefix of the buckets that count client registrations (``POST /register``).
CLIENT_REGISTRATIONS = "register-client"

_T = TypeVar("_T")


def user_bucket(username: str) -> str:
    """The bucket of a username: case- and normalization-insensitive, hashed."""
    folded = unicodedata.normalize("NFKC", username).casefold()
    return "user:" + hashlib.sha256(folded.encode("utf-8", "surrogatepass")).hexdigest()


def ip_bucket(client_ip: str) -> str:
    """The bucket of a client address: IPv4 as is, IPv6 per /64, anything else verbatim."""
    try:
        address = ipaddress.ip_address(client_ip.strip())
    except ValueError:
        return "ip:" + client_ip[:100]
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped
        if mapped is not None:
            return f"ip:{mapped}"
        return f"ip:{ipaddress.IPv6Network((address, 64), strict=False)}"
    return f"ip:{address}"


class CounterUnavailable(Exception):
    """A :class:`~.storage.base.LimitCounter` cannot count now (Redis is unreachable): the
    :class:`LoginLimiter` counts in its fallback instead."""


class LimitReached(Exception):
    """An attempt refused by a limit; ``retry_after`` is in seconds, at least 1."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(retry_after, 1.0)
        super().__init__(f"limit reached; retry in {self.retry_after:.0f} s")


class LoginAttempt:
    """A password check admitted by :meth:`LoginLimiter.attempt`: call :meth:`succeeded` once
    the password matched; otherwise the attempt counts as a failure."""

    def __init__(self) -> None:
        self.ok = False

    def succeeded(self) -> None:
        self.ok = True


class LoginLimiter:
    """Limits password checks per username and per client IP, and registrations per IP, with
    counts kept in ``counter`` (the Store, or Redis with the Store as ``fallback``: used while
    ``counter`` raises :class:`CounterUnavailable`)."""

    def __init__(
        self,
        counter: LimitCounter,
        settings: Settings,
        clock: Callable[[], float] = time.time,
        *,
        fallback: LimitCounter | None = None,
    ) -> None:
        self._counter = counter
        self._fallback = fallback
        self._clock = clock
        self._window = float(settings.login_failure_window)
        self._max_user = settings.login_max_failures_per_user
        self._max_ip = settings.login_max_failures_per_ip
        self._max_registrations = settings.registration_max_per_ip

    @asynccontextmanager
    async def attempt(self, username: str, client_ip: str) -> AsyncIterator[LoginAttempt]:
        """Reserve one password check for ``username`` from ``client_ip``, or raise
        :class:`LimitReached` (nothing is counted then) when either bucket is full.

        The body checks the password and calls :meth:`LoginAttempt.succeeded` when it matched;
        on leaving, the attempt is settled: a success counts nothing and clears the username's
        failures, anything else (including an exception) counts one failure in both buckets.
        """
        user = user_bucket(username)
        limits = ((user, self._max_user), (ip_bucket(client_ip), self._max_ip))
        reservation, counter = await self._counted(
            lambda counter: counter.reserve_attempt(limits, self._clock(), self._window)
        )
        if not reservation.admitted:
            raise LimitReached(reservation.retry_after)
        attempt = LoginAttempt()
        try:
            yield attempt
        finally:
            # Settled even when the request is cancelled: an unsettled attempt would hold its
            # place in the buckets until the window ends.
            with anyio.CancelScope(shield=True):
                await self._settle(
                    counter,
                    reservation,
                    failed=not attempt.ok,
                    forget=(user,) if attempt.ok else (),
                )

    async def registration(self, client_ip: str, kind: str = USER_REGISTRATIONS) -> None:
        """Count one registration of ``kind`` (:data:`USER_REGISTRATIONS` or
        :data:`CLIENT_REGISTRATIONS`, counted apart) from ``client_ip``; :class:`LimitReached`
        past ``registration_max_per_ip`` in the :data:`REGISTRATION_WINDOW`."""
        bucket = f"{kind}:{ip_bucket(client_ip)}"
        (count, resets_in), _ = await self._counted(
            lambda counter: counter.record_failure(bucket, self._clock(), REGISTRATION_WINDOW)
        )
        if count > self._max_registrations:
            raise LimitReached(resets_in)

    async def _counted(
        self, operation: Callable[[LimitCounter], Awaitable[_T]]
    ) -> tuple[_T, LimitCounter]:
        """``operation`` on the counter, or on the fallback while the counter is unavailable;
        and the counter that answered."""
        try:
            return await operation(self._counter), self._counter
        except CounterUnavailable:
            if self._fallback is None:
                raise
            return await operation(self._fallback), self._fallback

    async def _settle(
        self,
        counter: LimitCounter,
        reservation: AttemptReservation,
        *,
        failed: bool,
        forget: Sequence[str],
    ) -> None:
        """Settle an attempt on the counter that reserved it. If that counter has become
        unavailable meanwhile, the outcome is counted in the fallback: a failure in each
        bucket, a success forgetting the username's failures there."""
        now = self._clock()
        try:
            await counter.settle_attempt(
                reservation.windows, now, self._window, failed=failed, forget=forget
            )
        except CounterUnavailable:
            if self._fallback is None or counter is self._fallback:
                raise
            # The reservation is not the fallback's: it has no place in progress to end.
            if failed:
                for bucket, _ in reservation.windows:
                    await self._fallback.record_failure(bucket, now, self._window)
            if forget:
                await self._fallback.settle_attempt(
                    (), now, self._window, failed=False, forget=forget
                )
