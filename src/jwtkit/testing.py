"""Helpers for testing code that uses jwtkit: a controllable clock.

::

    clock = jwtkit.testing.FrozenClock(1_700_000_000)
    verifier = jwtkit.Verifier(key, algorithms=["ES256"], clock=clock)
    clock.advance(901)          # the 15-minute token has now expired, without sleeping
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from ._claims import seconds, to_timestamp

__all__ = ["FrozenClock"]


class FrozenClock:
    """A clock that stands still until told to move. Call it to read the Unix time."""

    __slots__ = ("_lock", "_now")

    def __init__(self, now: float | datetime = 1_700_000_000) -> None:
        self._now = to_timestamp(now, "now")
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self._now

    def advance(self, delta: float | timedelta) -> float:
        """Move the clock forward (or back, with a negative ``delta``); return the new time."""
        with self._lock:
            self._now += seconds(delta, "delta")
            return self._now

    def set(self, now: float | datetime) -> None:
        """Jump to ``now``."""
        with self._lock:
            self._now = to_timestamp(now, "now")

    def __repr__(self) -> str:
        return f"FrozenClock({self._now!r})"
