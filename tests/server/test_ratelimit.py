"""Failed-login limits per username and per client IP, with Retry-After, on a frozen clock."""

from __future__ import annotations

import dataclasses
from typing import cast

import pytest

from jwtkit.server.config import Settings
from jwtkit.server.ratelimit import LoginLimiter, ip_bucket, user_bucket
from jwtkit.server.storage.base import Store
from jwtkit.testing import FrozenClock

SETTINGS = Settings(
    login_max_failures_per_user=3, login_max_failures_per_ip=5, login_failure_window=600
)


class FakeStore:
    """Just the rate-limit part of the Store: fixed windows, as the contract describes."""

    def __init__(self) -> None:
        self.windows: dict[str, tuple[int, float]] = {}  # bucket -> (failures, window end)

    async def record_failure(self, bucket: str, now: float, window: float) -> tuple[int, float]:
        count, end = self.windows.get(bucket, (0, 0.0))
        if end <= now:
            count, end = 0, now + window
        self.windows[bucket] = (count + 1, end)
        return count + 1, end - now

    async def failures(self, bucket: str, now: float) -> tuple[int, float]:
        count, end = self.windows.get(bucket, (0, 0.0))
        return (count, end - now) if end > now else (0, 0.0)

    async def clear_failures(self, bucket: str) -> None:
        self.windows.pop(bucket, None)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(1_700_000_000)


@pytest.fixture
def limiter(store: FakeStore, clock: FrozenClock) -> LoginLimiter:
    return LoginLimiter(cast(Store, store), SETTINGS, clock)


@pytest.mark.anyio
async def test_the_username_limit_and_retry_after(
    limiter: LoginLimiter, clock: FrozenClock
) -> None:
    for _ in range(3):
        assert await limiter.check("alice", "10.0.0.1") is None
        await limiter.failed("alice", "10.0.0.1")
        clock.advance(10)
    # three failures in the window: the fourth attempt waits until the window resets
    assert await limiter.check("alice", "10.0.0.1") == 600 - 30
    # from another address too: the limit is per username
    assert await limiter.check("alice", "10.0.0.2") == 600 - 30
    assert await limiter.check("bob", "10.0.0.2") is None
    clock.advance(569)
    assert await limiter.check("alice", "10.0.0.1") == 1
    clock.advance(1)
    assert await limiter.check("alice", "10.0.0.1") is None


@pytest.mark.anyio
async def test_the_ip_limit_counts_every_username(
    limiter: LoginLimiter, clock: FrozenClock
) -> None:
    for index in range(5):
        assert await limiter.check(f"user{index}", "192.0.2.7") is None
        await limiter.failed(f"user{index}", "192.0.2.7")
    clock.advance(100)
    assert await limiter.check("someone-else", "192.0.2.7") == 500
    assert await limiter.check("someone-else", "192.0.2.8") is None


@pytest.mark.anyio
async def test_usernames_are_case_insensitive(limiter: LoginLimiter) -> None:
    await limiter.failed("Alice", "10.0.0.1")
    await limiter.failed("ALICE", "10.0.0.2")
    await limiter.failed("alice", "10.0.0.3")
    assert await limiter.check("aLiCe", "10.0.0.4") is not None


@pytest.mark.anyio
async def test_success_clears_the_username_bucket_only(
    limiter: LoginLimiter, store: FakeStore
) -> None:
    for _ in range(5):
        await limiter.failed("alice", "10.0.0.1")
    await limiter.succeeded("Alice", "10.0.0.1")
    assert await limiter.check("alice", "10.0.0.9") is None
    # the address stays limited: one valid account must not reset an attacker's counter
    assert await limiter.check("carol", "10.0.0.1") is not None
    assert store.windows[ip_bucket("10.0.0.1")][0] == 5


@pytest.mark.anyio
async def test_when_both_limits_are_hit_the_longer_wait_wins(
    store: FakeStore, clock: FrozenClock
) -> None:
    settings = dataclasses.replace(SETTINGS, login_max_failures_per_ip=3)
    limiter = LoginLimiter(cast(Store, store), settings, clock)
    for _ in range(3):
        await limiter.failed("alice", "10.0.0.1")
    clock.advance(100)
    for _ in range(3):
        await limiter.failed("bob", "10.0.0.2")
    clock.advance(100)
    # alice's window ends in 400 s, address 10.0.0.2's in 500 s
    assert await limiter.check("alice", "10.0.0.2") == 500


@pytest.mark.anyio
async def test_retry_after_is_at_least_one_second(
    store: FakeStore, limiter: LoginLimiter, clock: FrozenClock
) -> None:
    for _ in range(3):
        await limiter.failed("alice", "10.0.0.1")
    clock.advance(599.5)
    assert await limiter.check("alice", "10.0.0.1") == 1.0


def test_buckets_cannot_collide() -> None:
    # a username that looks like an address, or like a bucket name, stays a username
    assert user_bucket("10.0.0.1") != ip_bucket("10.0.0.1")
    assert user_bucket("ip:10.0.0.1") != ip_bucket("10.0.0.1")
    assert user_bucket("alice").startswith("user:")
    assert ip_bucket("10.0.0.1") == "ip:10.0.0.1"


def test_user_buckets_hide_what_was_typed() -> None:
    bucket = user_bucket("my secret password typed as a username")
    assert "secret" not in bucket
    assert user_bucket("Stra\u00dfe") == user_bucket("STRASSE")  # casefold
    assert user_bucket("\uff41lice") == user_bucket("alice")  # NFKC: fullwidth a


@pytest.mark.parametrize(
    ("address", "bucket"),
    [
        ("203.0.113.9", "ip:203.0.113.9"),
        (" 203.0.113.9 ", "ip:203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "ip:2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "ip:2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "ip:203.0.113.9"),
        ("testclient", "ip:testclient"),
        ("", "ip:"),
    ],
)
def test_ip_buckets(address: str, bucket: str) -> None:
    assert ip_bucket(address) == bucket


def test_unparsable_addresses_are_bounded() -> None:
    assert len(ip_bucket("x" * 10_000)) == len("ip:") + 100
