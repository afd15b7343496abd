"""The login and registration limits counted in Redis: a
:class:`~.storage.base.LimitCounter` that several instances of the service share.

Each bucket is one hash, ``jwtkit:<namespace>:limit:<bucket>``, with the fields ``failures``,
``pending`` (attempts in progress) and ``window_end`` (Unix seconds, as the caller's clock
wrote it), exactly the columns of the SQLite store's ``rate_limits`` table; the key expires a
minute after its window ends. Each operation that changes a count is one Lua script, which
Redis runs atomically: :meth:`RedisLimitCounter.reserve_attempt` checks every bucket and counts
the attempt in all of them or in none, and no other command runs in between, whichever
instance sent it. The rules (when a window ends, what is full, what a settle undoes) are the
store's, line for line, and both pass one contract suite
(``tests/server/test_limit_counters.py``).

Times travel as Python's ``repr`` of a float and come back as the stored text, so a window's
end compares equal to itself however often it crosses the wire (Lua would round a number it
returns to an integer).

Every failure of Redis raises :class:`~.ratelimit.CounterUnavailable`: the
:class:`~.ratelimit.LoginLimiter` then counts in the database (:mod:`.redis_link` says when
Redis is tried again).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from .models import AttemptReservation
from .ratelimit import CounterUnavailable
from .redis_link import RedisLink, RedisUnavailable

__all__ = ["RedisLimitCounter"]

_T = TypeVar("_T")

#: Milliseconds a bucket's key outlives its window (clocks of instances differ a little).
_EXPIRY_MARGIN_MS = 60_000

# ARGV[1]: now; ARGV[2]: the end of a window opened now (now + window); ARGV[3]: the key's
# lifetime in milliseconds. A bucket's window is current while window_end > now.
_COMMON = """
local now = tonumber(ARGV[1])
local function current(key)
  local window_end = redis.call('HGET', key, 'window_end')
  if window_end and tonumber(window_end) > now then
    return window_end
  end
  return nil
end
local function open(key, failures, pending)
  redis.call('HSET', key, 'failures', failures, 'pending', pending, 'window_end', ARGV[2])
  redis.call('PEXPIRE', key, ARGV[3])
  return ARGV[2]
end
local function record(key)
  local window_end = current(key)
  if window_end then
    return {redis.call('HINCRBY', key, 'failures', 1), window_end}
  end
  return {1, open(key, 1, 0)}
end
"""

# KEYS[1]: the bucket. Returns {failures, window_end}.
_RECORD_FAILURE = _COMMON + "return record(KEYS[1])\n"

# KEYS: the buckets; ARGV[3 + i]: the limit of KEYS[i]. Returns {1, {window_end of each}} when
# admitted, {0, {window_end of each full bucket}} when refused (and then nothing changed).
_RESERVE = (
    _COMMON
    + """
local full = {}
for i, key in ipairs(KEYS) do
  local state = redis.call('HMGET', key, 'failures', 'pending', 'window_end')
  if state[3] and tonumber(state[3]) > now
      and tonumber(state[1] or 0) + tonumber(state[2] or 0) >= tonumber(ARGV[3 + i]) then
    full[#full + 1] = state[3]
  end
end
if #full > 0 then
  return {0, full}
end
local ends = {}
for i, key in ipairs(KEYS) do
  local window_end = current(key)
  if window_end then
    redis.call('HINCRBY', key, 'pending', 1)
  else
    window_end = open(key, 0, 1)
  end
  ends[i] = window_end
end
return {1, ends}
"""
)

# KEYS: the reserved buckets, then the buckets to forget; ARGV[4]: '1' for a failure;
# ARGV[5]: how many buckets were reserved; ARGV[5 + i]: the window_end KEYS[i] was reserved in.
_SETTLE = (
    _COMMON
    + """
local reserved = tonumber(ARGV[5])
for i = 1, reserved do
  local key = KEYS[i]
  local state = redis.call('HMGET', key, 'pending', 'window_end')
  if state[2] and tonumber(state[2]) == tonumber(ARGV[5 + i])
      and tonumber(state[1] or 0) > 0 then
    redis.call('HINCRBY', key, 'pending', -1)
  end
  if ARGV[4] == '1' then
    record(key)
  end
end
for i = reserved + 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('HSET', KEYS[i], 'failures', 0)
  end
end
return 0
"""
)


def _times(now: float, window: float) -> list[str]:
    """ARGV[1..3]: now, the end of a window opened now, the key's lifetime (ms)."""
    lifetime = math.ceil(window * 1000) + _EXPIRY_MARGIN_MS
    return [repr(float(now)), repr(float(now + window)), str(lifetime)]


class RedisLimitCounter:
    """A :class:`~.storage.base.LimitCounter` in Redis (see the module's docstring)."""

    def __init__(self, link: RedisLink) -> None:
        self._link = link
        client = link.client
        self._record = client.register_script(_RECORD_FAILURE)
        self._reserve = client.register_script(_RESERVE)
        self._settle = client.register_script(_SETTLE)

    def _key(self, bucket: str) -> str:
        return self._link.key("limit:" + bucket)

    async def _run(self, command: Callable[[], Awaitable[_T]]) -> _T:
        try:
            return await self._link.run(command)
        except RedisUnavailable as exc:
            raise CounterUnavailable(str(exc)) from exc

    async def record_failure(self, bucket: str, now: float, window: float) -> tuple[int, float]:
        """Count one failure in ``bucket``'s fixed window; (failures, seconds to reset)."""
        keys, args = [self._key(bucket)], _times(now, window)
        answer: Any = await self._run(lambda: self._record(keys=keys, args=args))
        failures, window_end = answer
        return int(failures), float(window_end) - now

    async def failures(self, bucket: str, now: float) -> tuple[int, float]:
        """(failures in the current window, seconds until it resets); (0, 0.0) if none."""
        key, client = self._key(bucket), self._link.client
        answer: Any = await self._run(lambda: client.hmget(key, "failures", "window_end"))
        failures, window_end = answer
        if window_end is None or float(window_end) <= now:
            return 0, 0.0
        return int(failures), float(window_end) - now

    async def clear_failures(self, bucket: str) -> None:
        key = self._key(bucket)
        await self._run(lambda: self._link.client.delete(key))

    async def reserve_attempt(
        self, limits: Sequence[tuple[str, int]], now: float, window: float
    ) -> AttemptReservation:
        """Check every bucket, then count the attempt in each, in one script."""
        buckets = tuple(limits)
        keys = [self._key(bucket) for bucket, _ in buckets]
        args = [*_times(now, window), *(str(limit) for _, limit in buckets)]
        answer: Any = await self._run(lambda: self._reserve(keys=keys, args=args))
        admitted, ends = answer
        if not admitted:
            return AttemptReservation(False, retry_after=max(float(end) - now for end in ends))
        windows = tuple(
            (bucket, float(end)) for (bucket, _), end in zip(buckets, ends, strict=True)
        )
        return AttemptReservation(True, windows)

    async def settle_attempt(
        self,
        windows: Sequence[tuple[str, float]],
        now: float,
        window: float,
        *,
        failed: bool,
        forget: Sequence[str] = (),
    ) -> None:
        """End an admitted attempt in one script (see :class:`~.storage.base.LimitCounter`)."""
        reserved = tuple(windows)
        keys = [self._key(bucket) for bucket, _ in reserved]
        keys += [self._key(bucket) for bucket in forget]
        args = [
            *_times(now, window),
            "1" if failed else "0",
            str(len(reserved)),
            *(repr(float(window_end)) for _, window_end in reserved),
        ]
        await self._run(lambda: self._settle(keys=keys, args=args))
