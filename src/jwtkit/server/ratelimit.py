"""Brute-force protection for logins: failed attempts counted per username and per client IP.

Each bucket is a fixed window of ``login_failure_window`` seconds in the Store (so every worker
shares it). Over ``login_max_failures_per_user`` failures for a username, or
``login_max_failures_per_ip`` for an address, further attempts are refused until the window
resets; the caller answers 429 with ``Retry-After`` (RFC 6585 §4, RFC 9110 §10.2.3) without
checking the password (RFC 9700 §4.16 / OWASP: throttle online guessing).

Bucket names: ``user:<sha256 of the NFKC-casefolded username>`` (``Alice`` and ``alice`` share
one; the Store never holds what people typed as a username, which is sometimes a password) and
``ip:<address>``; IPv6 addresses count per /64 network, the block one host usually controls.

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
from collections.abc import Callable

from .config import Settings
from .storage.base import Store

__all__ = ["LoginLimiter", "ip_bucket", "user_bucket"]


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


class LoginLimiter:
    """Counts failed logins per username and per client IP in the Store."""

    def __init__(
        self, store: Store, settings: Settings, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._clock = clock
        self._window = float(settings.login_failure_window)
        self._max_user = settings.login_max_failures_per_user
        self._max_ip = settings.login_max_failures_per_ip

    async def check(self, username: str, client_ip: str) -> float | None:
        """Seconds until a login may be tried again (for ``Retry-After``), or ``None``.

        Refused once either bucket holds its maximum number of failures in the window.
        """
        now = self._clock()
        waits = []
        for bucket, limit in (
            (user_bucket(username), self._max_user),
            (ip_bucket(client_ip), self._max_ip),
        ):
            count, resets_in = await self._store.failures(bucket, now)
            if count >= limit:
                waits.append(max(resets_in, 1.0))
        return max(waits) if waits else None

    async def failed(self, username: str, client_ip: str) -> None:
        """Count one failed login in both buckets."""
        now = self._clock()
        await self._store.record_failure(user_bucket(username), now, self._window)
        await self._store.record_failure(ip_bucket(client_ip), now, self._window)

    async def succeeded(self, username: str, client_ip: str) -> None:
        """A correct password: forget the username's failures (the IP's stay counted)."""
        await self._store.clear_failures(user_bucket(username))
