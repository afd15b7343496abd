"""The limit-counter contract: every :class:`~jwtkit.server.storage.base.LimitCounter` passes
this suite, the rate-limit methods of each store backend (``BACKENDS`` of
``test_store_contract.py``) and Redis (:class:`~jwtkit.server.redis_limits.RedisLimitCounter`,
on the test server of ``redis_server.py``), so that the login and registration limits mean the
same wherever they are counted.

A backend gives a factory of counters on one fresh state: each call opens a new counter (a new
connection, as a second instance would have), closed on leaving.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio
import anyio.to_thread
import pytest
from redis_server import redis_server_fixture, redis_url_fixture  # noqa: F401 - fixtures
from test_store_contract import BACKENDS

from jwtkit.server.models import AttemptReservation
from jwtkit.server.redis_limits import RedisLimitCounter
from jwtkit.server.redis_link import RedisLink
from jwtkit.server.storage.base import LimitCounter

pytestmark = pytest.mark.anyio

CounterFactory = Callable[[], AbstractAsyncContextManager[LimitCounter]]

T0 = 1_700_000_000.0
REDIS = "redis"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=[*sorted(BACKENDS), REDIS])
def new_counter(request: pytest.FixtureRequest) -> Iterator[CounterFactory]:
    if request.param == REDIS:
        url: str = request.getfixturevalue("redis_url")

        @asynccontextmanager
        async def redis_counter() -> AsyncIterator[LimitCounter]:
            link = RedisLink(url, "https://id.example.com")
            try:
                yield RedisLimitCounter(link)
            finally:
                await link.aclose()

        yield redis_counter
        return
    with BACKENDS[request.param](request) as new_store:

        @asynccontextmanager
        async def store_counter() -> AsyncIterator[LimitCounter]:
            store = new_store()
            await store.open()
            try:
                yield store
            finally:
                await store.close()

        yield store_counter


@pytest.fixture
async def counter(new_counter: CounterFactory) -> AsyncIterator[LimitCounter]:
    async with new_counter() as opened:
        yield opened


async def test_failures_are_counted_in_a_fixed_window(counter: LimitCounter) -> None:
    assert await counter.failures("user:alice", T0) == (0, 0.0)
    assert await counter.record_failure("user:alice", T0, 60) == (1, 60.0)
    assert await counter.record_failure("user:alice", T0 + 10, 60) == (2, 50.0)
    assert await counter.record_failure("user:alice", T0 + 59, 60) == (3, 1.0)
    assert await counter.failures("user:alice", T0 + 30) == (3, 30.0)
    assert await counter.failures("ip:127.0.0.1", T0 + 30) == (0, 0.0)


async def test_a_new_window_starts_after_the_last_one_ended(counter: LimitCounter) -> None:
    await counter.record_failure("b", T0, 60)
    await counter.record_failure("b", T0 + 1, 60)
    assert await counter.failures("b", T0 + 60) == (0, 0.0)
    assert await counter.record_failure("b", T0 + 60, 60) == (1, 60.0)
    assert await counter.record_failure("b", T0 + 70, 60) == (2, 50.0)


async def test_clear_failures_resets_one_bucket(counter: LimitCounter) -> None:
    await counter.record_failure("a", T0, 60)
    await counter.record_failure("b", T0, 60)
    await counter.clear_failures("a")
    await counter.clear_failures("never-seen")
    assert await counter.failures("a", T0) == (0, 0.0)
    assert await counter.failures("b", T0) == (1, 60.0)
    assert await counter.record_failure("a", T0 + 1, 60) == (1, 60.0)


async def test_concurrent_failures_are_all_counted(counter: LimitCounter) -> None:
    results = await asyncio.gather(*(counter.record_failure("b", T0, 60) for _ in range(20)))
    assert sorted(count for count, _ in results) == list(range(1, 21))


async def test_attempts_are_reserved_up_to_the_limit(counter: LimitCounter) -> None:
    """Failures plus attempts in progress fill a bucket; a refusal counts nothing anywhere."""
    limits = (("user:a", 3), ("ip:1", 5))
    first = await counter.reserve_attempt(limits, T0, 60)
    assert first == AttemptReservation(True, (("user:a", T0 + 60), ("ip:1", T0 + 60)))
    await counter.settle_attempt(first.windows, T0 + 1, 60, failed=True)
    assert await counter.failures("user:a", T0 + 1) == (1, 59.0)
    assert await counter.failures("ip:1", T0 + 1) == (1, 59.0)
    held = [await counter.reserve_attempt(limits, T0 + 10, 60) for _ in range(2)]
    assert all(reservation.admitted for reservation in held)
    refused = await counter.reserve_attempt(limits, T0 + 20, 60)
    assert refused == AttemptReservation(False, retry_after=40.0)
    # the refusal counted nothing at the address: 2 attempts are left there
    others = [await counter.reserve_attempt((("ip:1", 5),), T0 + 20, 60) for _ in range(3)]
    assert [reservation.admitted for reservation in others] == [True, True, False]


async def test_a_refusal_by_one_bucket_counts_in_none(counter: LimitCounter) -> None:
    full = await counter.reserve_attempt((("ip:1", 1),), T0, 60)
    assert full.admitted
    refused = await counter.reserve_attempt((("user:a", 1), ("ip:1", 1)), T0 + 15, 60)
    assert refused == AttemptReservation(False, retry_after=45.0)
    alone = await counter.reserve_attempt((("user:a", 1),), T0 + 15, 60)
    assert alone.admitted
    assert alone.windows == (("user:a", T0 + 75),)


async def test_the_longest_wait_of_the_full_buckets_is_the_retry_after(
    counter: LimitCounter,
) -> None:
    await counter.record_failure("user:a", T0, 60)
    await counter.record_failure("ip:1", T0 + 30, 60)
    refused = await counter.reserve_attempt((("user:a", 1), ("ip:1", 1)), T0 + 40, 60)
    assert refused == AttemptReservation(False, retry_after=50.0)


async def test_settling_a_success_counts_nothing_and_forgets_only_failures(
    counter: LimitCounter,
) -> None:
    limits = (("user:a", 3),)
    await counter.record_failure("user:a", T0, 60)
    in_progress = await counter.reserve_attempt(limits, T0, 60)
    winner = await counter.reserve_attempt(limits, T0, 60)
    await counter.settle_attempt(winner.windows, T0 + 1, 60, failed=False, forget=("user:a",))
    assert await counter.failures("user:a", T0 + 1) == (0, 59.0)
    # one attempt is still in progress: 2 places are left of 3
    assert [(await counter.reserve_attempt(limits, T0 + 2, 60)).admitted for _ in range(3)] == [
        True,
        True,
        False,
    ]
    await counter.settle_attempt(in_progress.windows, T0 + 3, 60, failed=True)
    assert await counter.failures("user:a", T0 + 3) == (1, 57.0)


async def test_an_attempt_settled_after_its_window_keeps_the_next_windows_count(
    counter: LimitCounter,
) -> None:
    limits = (("user:a", 2),)
    old = await counter.reserve_attempt(limits, T0, 60)
    new = await counter.reserve_attempt(limits, T0 + 60, 60)  # the old window has ended
    assert new.windows == (("user:a", T0 + 120),)
    await counter.settle_attempt(old.windows, T0 + 61, 60, failed=False)
    assert (await counter.reserve_attempt(limits, T0 + 62, 60)).admitted
    assert not (await counter.reserve_attempt(limits, T0 + 62, 60)).admitted
    # a failure that ends late is counted in the window it ends in
    await counter.settle_attempt(old.windows, T0 + 63, 60, failed=True)
    assert await counter.failures("user:a", T0 + 63) == (1, 57.0)
    # after a window without a settle, its attempts in progress are not carried over
    assert (await counter.reserve_attempt(limits, T0 + 200, 60)).admitted
    assert await counter.failures("user:a", T0 + 200) == (0, 60.0)


async def test_concurrent_reservations_admit_exactly_the_limit(counter: LimitCounter) -> None:
    results = await asyncio.gather(
        *(counter.reserve_attempt((("user:a", 5), ("ip:1", 100)), T0, 60) for _ in range(30))
    )
    assert sum(result.admitted for result in results) == 5


async def test_reservations_from_separate_stores_in_threads_admit_exactly_the_limit(
    counter: LimitCounter, new_counter: CounterFactory
) -> None:
    threads = 20
    barrier = threading.Barrier(threads)
    admitted: list[bool] = []
    errors: list[BaseException] = []

    async def contender() -> None:
        async with new_counter() as own:
            barrier.wait(timeout=30)
            reservation = await own.reserve_attempt((("user:a", 5),), T0, 60)
            admitted.append(reservation.admitted)

    def run() -> None:
        try:
            anyio.run(contender)
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    def run_all() -> None:
        workers = [threading.Thread(target=run) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    await anyio.to_thread.run_sync(run_all)
    assert errors == []
    assert sorted(admitted) == [False] * (threads - 5) + [True] * 5
