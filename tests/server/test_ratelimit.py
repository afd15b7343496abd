"""Login limits per username and per client IP, reserved before the password is checked, and
registration limits per IP, with Retry-After, on a frozen clock and a real (in-memory) store."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import anyio
import pytest

from jwtkit.server.config import Settings
from jwtkit.server.ratelimit import (
    REGISTRATION_WINDOW,
    LimitReached,
    LoginLimiter,
    ip_bucket,
    user_bucket,
)
from jwtkit.server.storage import SQLiteStore
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


@pytest.fixture
async def store() -> AsyncIterator[SQLiteStore]:
    async with SQLiteStore(":memory:") as opened:
        yield opened


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(1_700_000_000)


@pytest.fixture
def limiter(store: SQLiteStore, clock: FrozenClock) -> LoginLimiter:
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
    limiter: LoginLimiter, store: SQLiteStore, clock: FrozenClock
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
    store: SQLiteStore, clock: FrozenClock
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
    limiter: LoginLimiter, store: SQLiteStore, clock: FrozenClock
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
    limiter: LoginLimiter, store: SQLiteStore, clock: FrozenClock
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
    limiter: LoginLimiter, store: SQLiteStore, clock: FrozenClock
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
