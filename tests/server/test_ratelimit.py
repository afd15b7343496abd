"""Login limits per username and per client IP, reserved before the password is checked, and
registration limits per IP, with Retry-After, on a frozen clock and real counters: an in-memory
store, and Redis (the test server of ``redis_server.py``); then the fallback from one counter
to another."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence

import anyio
import pytest
from redis_server import redis_server_fixture, redis_url_fixture  # noqa: F401 - fixtures

from jwtkit.server.config import Settings
from jwtkit.server.models import AttemptReservation
from jwtkit.server.ratelimit import (
    REGISTRATION_WINDOW,
    CounterUnavailable,
    LimitReached,
    LoginLimiter,
    ip_bucket,
    user_bucket,
)
from jwtkit.server.redis_limits import RedisLimitCounter
from jwtkit.server.redis_link import RedisLink
from jwtkit.server.storage import SQLiteStore
from jwtkit.server.storage.base import LimitCounter
from jwtkit.testing import FrozenClock

SETTINGS = Settings(
    login_max_failures_per_user=3,
    login_max_failures_per_ip=5,
    login_failure_window=600,
    registration_max_per_ip=2,
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["sqlite", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[LimitCounter]:
    """Where the limiter counts: the store, or Redis."""
    if request.param == "redis":
        link = RedisLink(request.getfixturevalue("redis_url"), "https://id.example.com")
        try:
            yield RedisLimitCounter(link)
        finally:
            await link.aclose()
        return
    async with SQLiteStore(":memory:") as opened:
        yield opened


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(1_700_000_000)


@pytest.fixture
def limiter(store: LimitCounter, clock: FrozenClock) -> LoginLimiter:
    return LoginLimiter(store, SETTINGS, clock)


async def fail(limiter: LoginLimiter, username: str, ip: str) -> None:
    """One admitted attempt that fails (a wrong password)."""
    async with limiter.attempt(username, ip):
        pass


async def succeed(limiter: LoginLimiter, username: str, ip: str) -> None:
    """One admitted attempt that succeeds (the right password)."""
    async with limiter.attempt(username, ip) as attempt:
        attempt.succeeded()


async def refused(limiter: LoginLimiter, username: str, ip: str) -> float:
    """The Retry-After of an attempt that must be refused (a refusal counts nothing)."""
    with pytest.raises(LimitReached) as refusal:
        async with limiter.attempt(username, ip):
            pytest.fail("the attempt was admitted")  # pragma: no cover - a failing test
    return refusal.value.retry_after


@pytest.mark.anyio
async def test_the_username_limit_and_retry_after(
    limiter: LoginLimiter, clock: FrozenClock
) -> None:
    for _ in range(3):
        await fail(limiter, "alice", "10.0.0.1")
        clock.advance(10)
    # three failures in the window: the fourth attempt waits until the window resets
    assert await refused(limiter, "alice", "10.0.0.1") == 600 - 30
    # from another address too: the limit is per username
    assert await refused(limiter, "alice", "10.0.0.2") == 600 - 30
    await succeed(limiter, "bob", "10.0.0.2")
    clock.advance(569)
    assert await refused(limiter, "alice", "10.0.0.1") == 1
    clock.advance(1)
    await succeed(limiter, "alice", "10.0.0.1")


@pytest.mark.anyio
async def test_the_ip_limit_counts_every_username(
    limiter: LoginLimiter, clock: FrozenClock
) -> None:
    for index in range(5):
        await fail(limiter, f"user{index}", "192.0.2.7")
    clock.advance(100)
    assert await refused(limiter, "someone-else", "192.0.2.7") == 500
    await succeed(limiter, "someone-else", "192.0.2.8")


@pytest.mark.anyio
async def test_usernames_are_case_insensitive(limiter: LoginLimiter) -> None:
    await fail(limiter, "Alice", "10.0.0.1")
    await fail(limiter, "ALICE", "10.0.0.2")
    await fail(limiter, "alice", "10.0.0.3")
    assert await refused(limiter, "aLiCe", "10.0.0.4") > 0


@pytest.mark.anyio
async def test_success_clears_the_username_bucket_only(
    limiter: LoginLimiter, store: LimitCounter, clock: FrozenClock
) -> None:
    for number in range(2):
        await fail(limiter, "alice", "10.0.0.1")
        await fail(limiter, f"user{number}", "10.0.0.1")
    await succeed(limiter, "Alice", "10.0.0.1")
    assert (await store.failures(user_bucket("alice"), clock()))[0] == 0
    # the success counted nothing: the address has its 4 failures, one attempt left
    assert (await store.failures(ip_bucket("10.0.0.1"), clock()))[0] == 4
    await fail(limiter, "carol", "10.0.0.1")
    # the address stays limited: one valid account must not reset an attacker's counter
    assert await refused(limiter, "alice", "10.0.0.1") > 0
    await succeed(limiter, "alice", "10.0.0.9")


@pytest.mark.anyio
async def test_when_both_limits_are_hit_the_longer_wait_wins(
    store: LimitCounter, clock: FrozenClock
) -> None:
    settings = dataclasses.replace(SETTINGS, login_max_failures_per_ip=3)
    limiter = LoginLimiter(store, settings, clock)
    for _ in range(3):
        await fail(limiter, "alice", "10.0.0.1")
    clock.advance(100)
    for _ in range(3):
        await fail(limiter, "bob", "10.0.0.2")
    clock.advance(100)
    # alice's window ends in 400 s, address 10.0.0.2's in 500 s
    assert await refused(limiter, "alice", "10.0.0.2") == 500


@pytest.mark.anyio
async def test_retry_after_is_at_least_one_second(
    limiter: LoginLimiter, clock: FrozenClock
) -> None:
    for _ in range(3):
        await fail(limiter, "alice", "10.0.0.1")
    clock.advance(599.5)
    assert await refused(limiter, "alice", "10.0.0.1") == 1.0


# -- attempts in progress ---------------------------------------------------------------------


async def _held_attempts(
    limiter: LoginLimiter, usernames: list[str], ip: str, release: anyio.Event
) -> tuple[int, int]:
    """Start one attempt per username at once; the admitted ones wait for ``release`` (a slow
    password check) and then fail. Returns (admitted, refused)."""
    admitted = refused_count = 0
    all_reserved = anyio.Event()
    remaining = len(usernames)

    async def one(username: str) -> None:
        nonlocal admitted, refused_count, remaining
        try:
            async with limiter.attempt(username, ip):
                admitted += 1
                remaining -= 1
                if remaining == 0:
                    all_reserved.set()
                await release.wait()
        except LimitReached:
            refused_count += 1
            remaining -= 1
            if remaining == 0:
                all_reserved.set()

    async with anyio.create_task_group() as group:
        for username in usernames:
            group.start_soon(one, username)
        await all_reserved.wait()
        release.set()
    return admitted, refused_count


@pytest.mark.anyio
async def test_parallel_attempts_are_admitted_up_to_the_limit(
    limiter: LoginLimiter, store: LimitCounter, clock: FrozenClock
) -> None:
    """Every attempt is reserved before its password is checked: of 20 parallel guesses
    against a limit of 3, 3 are checked, whatever the order they finish in."""
    assert await _held_attempts(limiter, ["alice"] * 20, "10.0.0.1", anyio.Event()) == (3, 17)
    assert (await store.failures(user_bucket("alice"), clock()))[0] == 3
    # the refused ones counted nothing at the address (limit 5): 2 attempts are left there
    assert await _held_attempts(
        limiter, [f"u{n}" for n in range(6)], "10.0.0.1", anyio.Event()
    ) == (2, 4)


@pytest.mark.anyio
async def test_a_success_does_not_free_the_places_of_attempts_in_progress(
    limiter: LoginLimiter, store: LimitCounter, clock: FrozenClock
) -> None:
    await fail(limiter, "alice", "10.0.0.1")
    release = anyio.Event()
    outcomes: list[str] = []

    async def slow_guess() -> None:
        async with limiter.attempt("alice", "10.0.0.2"):
            await release.wait()

    async with anyio.create_task_group() as group:
        group.start_soon(slow_guess)
        await anyio.wait_all_tasks_blocked()
        await succeed(limiter, "alice", "10.0.0.3")  # forgets the failure, not the guess
        await succeed(limiter, "alice", "10.0.0.3")
        await fail(limiter, "alice", "10.0.0.4")
        # 1 failure + 1 guess in progress + 1 more would be 3: the limit
        await fail(limiter, "alice", "10.0.0.4")
        outcomes.append(str(await refused(limiter, "alice", "10.0.0.5")))
        release.set()
    assert len(outcomes) == 1
    assert (await store.failures(user_bucket("alice"), clock()))[0] == 3


@pytest.mark.anyio
async def test_an_attempt_that_ends_in_an_error_or_a_cancellation_counts_as_a_failure(
    limiter: LoginLimiter, store: LimitCounter, clock: FrozenClock
) -> None:
    with pytest.raises(RuntimeError):
        async with limiter.attempt("alice", "10.0.0.1"):
            raise RuntimeError("the hasher broke")
    with anyio.move_on_after(0.01):
        async with limiter.attempt("alice", "10.0.0.1"):
            await anyio.sleep_forever()
    assert (await store.failures(user_bucket("alice"), clock()))[0] == 2
    assert (await store.failures(ip_bucket("10.0.0.1"), clock()))[0] == 2
    await fail(limiter, "alice", "10.0.0.1")
    assert await refused(limiter, "alice", "10.0.0.1") > 0


@pytest.mark.anyio
async def test_an_attempt_outliving_its_window_does_not_free_a_place_in_the_next(
    limiter: LoginLimiter, clock: FrozenClock
) -> None:
    first, second = anyio.Event(), anyio.Event()

    async def slow_guess(release: anyio.Event) -> None:
        async with limiter.attempt("alice", "10.0.0.1") as attempt:
            await release.wait()
            attempt.succeeded()

    async with anyio.create_task_group() as group:
        group.start_soon(slow_guess, first)
        await anyio.wait_all_tasks_blocked()
        clock.advance(600)  # the window of the first guess ends; the second is in the next
        group.start_soon(slow_guess, second)
        await anyio.wait_all_tasks_blocked()
        first.set()  # ends: its place was in the old window, the second keeps its own
        await anyio.wait_all_tasks_blocked()
        for _ in range(2):
            await fail(limiter, "alice", "10.0.0.2")
        assert await refused(limiter, "alice", "10.0.0.2") > 0
        second.set()


# -- registrations ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_registrations_are_counted_per_address(
    limiter: LoginLimiter, clock: FrozenClock
) -> None:
    await limiter.registration("10.0.0.1")
    clock.advance(100)
    await limiter.registration("10.0.0.1")
    with pytest.raises(LimitReached) as refusal:
        await limiter.registration("10.0.0.1")
    assert refusal.value.retry_after == REGISTRATION_WINDOW - 100
    await limiter.registration("10.0.0.2")
    # logins from the address are not affected
    await succeed(limiter, "alice", "10.0.0.1")
    clock.advance(REGISTRATION_WINDOW - 100)
    await limiter.registration("10.0.0.1")


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


# -- the fallback: Redis unavailable, the store counts ----------------------------------------


class Switchable:
    """A counter that can be made unavailable (Redis down): then every call raises
    :class:`CounterUnavailable`; otherwise the in-memory store ``inner`` counts."""

    def __init__(self, inner: SQLiteStore) -> None:
        self.inner = inner
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise CounterUnavailable("down")

    async def record_failure(self, bucket: str, now: float, window: float) -> tuple[int, float]:
        self._check()
        return await self.inner.record_failure(bucket, now, window)

    async def failures(self, bucket: str, now: float) -> tuple[int, float]:
        self._check()
        return await self.inner.failures(bucket, now)

    async def clear_failures(self, bucket: str) -> None:
        self._check()
        await self.inner.clear_failures(bucket)

    async def reserve_attempt(
        self, limits: Sequence[tuple[str, int]], now: float, window: float
    ) -> AttemptReservation:
        self._check()
        return await self.inner.reserve_attempt(limits, now, window)

    async def settle_attempt(
        self,
        windows: Sequence[tuple[str, float]],
        now: float,
        window: float,
        *,
        failed: bool,
        forget: Sequence[str] = (),
    ) -> None:
        self._check()
        await self.inner.settle_attempt(windows, now, window, failed=failed, forget=forget)


@pytest.fixture
async def primary() -> AsyncIterator[Switchable]:
    async with SQLiteStore(":memory:") as inner:
        yield Switchable(inner)


@pytest.fixture
def fallback_limiter(primary: Switchable, store: LimitCounter, clock: FrozenClock) -> LoginLimiter:
    """Counts in ``primary`` (Redis), in ``store`` while ``primary`` is down."""
    return LoginLimiter(primary, SETTINGS, clock, fallback=store)


@pytest.mark.anyio
async def test_limits_are_counted_in_the_fallback_while_the_counter_is_down(
    fallback_limiter: LoginLimiter, primary: Switchable, store: LimitCounter, clock: FrozenClock
) -> None:
    primary.down = True
    for _ in range(3):
        await fail(fallback_limiter, "alice", "10.0.0.1")
    assert await refused(fallback_limiter, "alice", "10.0.0.1") == 600
    for _ in range(2):
        await fallback_limiter.registration("10.0.0.1")
    with pytest.raises(LimitReached):
        await fallback_limiter.registration("10.0.0.1")
    assert (await store.failures(user_bucket("alice"), clock()))[0] == 3
    # back: counted in the counter again, which has seen none of it
    primary.down = False
    await fail(fallback_limiter, "alice", "10.0.0.1")
    await fallback_limiter.registration("10.0.0.1")
    assert (await primary.failures(user_bucket("alice"), clock()))[0] == 1
    assert (await store.failures(user_bucket("alice"), clock()))[0] == 3


@pytest.mark.anyio
async def test_an_attempt_reserved_before_an_outage_is_settled_in_the_fallback(
    fallback_limiter: LoginLimiter, primary: Switchable, store: LimitCounter, clock: FrozenClock
) -> None:
    async with fallback_limiter.attempt("alice", "10.0.0.1"):
        primary.down = True  # Redis fails while the password is checked
    assert (await store.failures(user_bucket("alice"), clock()))[0] == 1
    assert (await store.failures(ip_bucket("10.0.0.1"), clock()))[0] == 1
    primary.down = False
    # a success forgets the username's failures in the fallback too
    async with fallback_limiter.attempt("alice", "10.0.0.1") as attempt:
        primary.down = True
        attempt.succeeded()
    assert (await store.failures(user_bucket("alice"), clock()))[0] == 0
    assert (await store.failures(ip_bucket("10.0.0.1"), clock()))[0] == 1
    # the counter still holds both attempts in progress until their window ends: 1 place of 3
    primary.down = False
    await fail(fallback_limiter, "alice", "10.0.0.2")
    assert await refused(fallback_limiter, "alice", "10.0.0.2") == 600
    clock.advance(600)
    await succeed(fallback_limiter, "alice", "10.0.0.2")


@pytest.mark.anyio
async def test_without_a_fallback_an_unavailable_counter_is_an_error(
    primary: Switchable, clock: FrozenClock
) -> None:
    limiter = LoginLimiter(primary, SETTINGS, clock)
    with pytest.raises(CounterUnavailable):
        async with limiter.attempt("alice", "10.0.0.1"):
            primary.down = True
    with pytest.raises(CounterUnavailable):
        await limiter.registration("10.0.0.1")
    with pytest.raises(CounterUnavailable):
        async with limiter.attempt("alice", "10.0.0.1"):
            pytest.fail("admitted")  # pragma: no cover - a failing test


@pytest.mark.anyio
async def test_a_fallback_that_fails_too_is_an_error(
    primary: Switchable, clock: FrozenClock
) -> None:
    async with SQLiteStore(":memory:") as inner:
        second = Switchable(inner)
        limiter = LoginLimiter(primary, SETTINGS, clock, fallback=second)
        primary.down = True
        with pytest.raises(CounterUnavailable):
            async with limiter.attempt("alice", "10.0.0.1"):
                second.down = True
