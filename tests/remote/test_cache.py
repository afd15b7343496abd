"""The JWKS cache state machine, without I/O: every transition, driven by a FrozenClock."""

from __future__ import annotations

import math

import pytest

import jwtkit
from jwtkit import KeySet, UsageError
from jwtkit.remote import JWKSFetchError
from jwtkit.remote._cache import (
    CachePolicy,
    CacheState,
    Step,
    abandoned,
    decide,
    failed,
    fetched,
)
from jwtkit.testing import FrozenClock

POLICY = CachePolicy(cache_ttl=600, cooldown=30, max_stale=3600)


@pytest.fixture(scope="module")
def keys() -> KeySet:
    return KeySet([jwtkit.Key.generate("ES256", kid="a").public_key()])


@pytest.fixture(scope="module")
def rotated(keys: KeySet) -> KeySet:
    return KeySet([*keys, jwtkit.Key.generate("ES256", kid="b").public_key()])


def _error() -> JWKSFetchError:
    return JWKSFetchError("JWKS from id.example: HTTP 503", host="id.example", status=503)


def _filled(keys: KeySet, clock: FrozenClock, max_age: float | None = None) -> CacheState:
    """The state after one successful fetch at ``clock()``."""
    decision = decide(CacheState(), POLICY, clock(), "a")
    assert decision.step is Step.FETCH
    return fetched(decision.state, POLICY, clock(), keys, max_age)


# -- the policy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"cache_ttl": 0}, "cache_ttl: must be more than 0"),
        ({"cache_ttl": -1}, "cache_ttl: expected a finite number"),
        ({"cache_ttl": math.inf}, "cache_ttl: expected a finite number"),
        ({"cache_ttl": math.nan}, "cache_ttl: expected a finite number"),
        ({"cache_ttl": True}, "cache_ttl: expected a number of seconds, got bool"),
        ({"cache_ttl": "600"}, "cache_ttl: expected a number of seconds, got str"),
        ({"cooldown": -1}, "cooldown: expected a finite number"),
        ({"cooldown": 700}, "cooldown: must not be longer than cache_ttl"),
        ({"max_stale": -1}, "max_stale: expected a finite number"),
    ],
)
def test_policy_rejects_bad_options(options: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        CachePolicy(**options)  # type: ignore[arg-type]


def test_policy_accepts_unbounded_staleness_and_zero_cooldown() -> None:
    policy = CachePolicy(cache_ttl=60, cooldown=0, max_stale=math.inf)
    assert policy.max_stale == math.inf
    assert policy.cooldown == 0.0


@pytest.mark.parametrize(
    ("max_age", "lifetime"), [(None, 600), (0, 30), (10, 30), (300, 300), (86_400, 600)]
)
def test_lifetime_is_max_age_within_cooldown_and_cache_ttl(
    max_age: float | None, lifetime: float
) -> None:
    assert POLICY.lifetime(max_age) == lifetime


# -- fresh keys ------------------------------------------------------------------------------


def test_empty_cache_fetches_and_marks_the_fetch_in_flight() -> None:
    clock = FrozenClock()
    decision = decide(CacheState(), POLICY, clock(), None)
    assert decision.step is Step.FETCH
    assert decision.state.fetching
    assert decision.state.last_attempt == clock()
    assert decision.state.generation == 0


def test_a_fetch_fills_the_cache(keys: KeySet) -> None:
    clock = FrozenClock()
    state = _filled(keys, clock)
    assert state.keys is keys
    assert state.kids == {"a"}
    assert state.fresh_until == clock() + 600
    assert not state.fetching
    assert state.error is None
    assert state.generation == 1


def test_fresh_keys_answer_known_kids_and_kid_less_tokens(keys: KeySet) -> None:
    clock = FrozenClock()
    state = _filled(keys, clock)
    clock.advance(599)
    for kid in ("a", None):
        decision = decide(state, POLICY, clock(), kid)
        assert decision.step is Step.USE
        assert decision.state is state


def test_server_max_age_sets_the_lifetime(keys: KeySet) -> None:
    clock = FrozenClock()
    state = _filled(keys, clock, max_age=120)
    clock.advance(119)
    assert decide(state, POLICY, clock(), "a").step is Step.USE
    clock.advance(1)
    assert decide(state, POLICY, clock(), "a").step is Step.FETCH


def test_expired_keys_are_fetched_again(keys: KeySet) -> None:
    clock = FrozenClock()
    state = _filled(keys, clock)
    clock.advance(600)
    decision = decide(state, POLICY, clock(), "a")
    assert decision.step is Step.FETCH
    assert decision.state.keys is keys  # kept until the fetch ends


def test_equal_keys_keep_the_same_object_and_new_keys_replace_it(
    keys: KeySet, rotated: KeySet
) -> None:
    clock = FrozenClock()
    state = _filled(keys, clock)
    clock.advance(600)
    again = fetched(decide(state, POLICY, clock(), None).state, POLICY, clock(), KeySet(keys), 60)
    assert again.keys is keys  # equal content: the Verifier keeps its prepared work
    assert again.fresh_until == clock() + 60
    assert again.generation == 2
    clock.advance(60)
    changed = fetched(decide(again, POLICY, clock(), None).state, POLICY, clock(), rotated, None)
    assert changed.keys is rotated
    assert changed.kids == {"a", "b"}


def test_keys_without_kid_leave_the_kid_index_empty() -> None:
    clock = FrozenClock()
    anonymous = KeySet([jwtkit.Key.generate("ES256").public_key()])
    state = _filled(anonymous, clock)
    assert state.kids == frozenset()
    assert decide(state, POLICY, clock(), None).step is Step.USE
    assert decide(state, POLICY, clock(), "x").step is Step.USE  # within the cooldown


# -- unknown kid and the cooldown ------------------------------------------------------------


def test_unknown_kid_within_the_cooldown_answers_the_cached_keys(keys: KeySet) -> None:
    clock = FrozenClock()
    state = _filled(keys, clock)
    clock.advance(29)
    decision = decide(state, POLICY, clock(), "unknown")
    assert decision.step is Step.USE  # the Verifier then raises KeyNotFound
    assert decision.state is state


def test_unknown_kid_after_the_cooldown_fetches(keys: KeySet) -> None:
    clock = FrozenClock()
    state = _filled(keys, clock)
    clock.advance(30)
    decision = decide(state, POLICY, clock(), "unknown")
    assert decision.step is Step.FETCH
    assert decision.state.last_attempt == clock()


def test_a_flood_of_random_kids_costs_one_fetch_per_cooldown(keys: KeySet) -> None:
    clock = FrozenClock()
    state = _filled(keys, clock)
    fetches = 0
    for second in range(300):  # 300 s, 100 random kids a second
        for attempt in range(100):
            decision = decide(state, POLICY, clock(), f"random-{second}-{attempt}")
            if decision.step is Step.FETCH:
                fetches += 1
                state = fetched(decision.state, POLICY, clock(), keys, None)
            else:
                assert decision.step is Step.USE
        clock.advance(1)
    assert fetches == 9  # at 30, 60, ..., 270 s: one per cooldown (the fill at 0 s aside)


def test_zero_cooldown_refetches_every_unknown_kid(keys: KeySet) -> None:
    policy = CachePolicy(cache_ttl=600, cooldown=0)
    clock = FrozenClock()
    state = fetched(decide(CacheState(), policy, clock(), None).state, policy, clock(), keys, 0)
    assert state.fresh_until == clock()  # max-age 0 and no cooldown: expires at once
    assert decide(state, policy, clock(), "new").step is Step.FETCH


# -- single flight ---------------------------------------------------------------------------


def test_callers_wait_for_the_fetch_in_flight_when_they_need_it(keys: KeySet) -> None:
    clock = FrozenClock()
    in_flight = decide(CacheState(), POLICY, clock(), None).state
    assert decide(in_flight, POLICY, clock(), None).step is Step.WAIT
    assert decide(in_flight, POLICY, clock(), "a").step is Step.WAIT
    state = _filled(keys, clock)
    clock.advance(30)
    refreshing = decide(state, POLICY, clock(), "new").state
    assert refreshing.fetching
    assert decide(refreshing, POLICY, clock(), "new").step is Step.WAIT
    assert decide(refreshing, POLICY, clock(), "a", force=True).step is Step.WAIT


def test_a_known_kid_does_not_wait_for_a_refresh(keys: KeySet) -> None:
    clock = FrozenClock()
    state = _filled(keys, clock)
    clock.advance(700)  # expired, within max_stale
    refreshing = decide(state, POLICY, clock(), "a").state
    decision = decide(refreshing, POLICY, clock(), "a")
    assert decision.step is Step.USE
    assert decision.state.keys is keys


def test_a_waiter_answers_from_the_cache_after_the_fetch(keys: KeySet) -> None:
    clock = FrozenClock()
    state = _filled(keys, clock)
    clock.advance(30)
    refreshing = decide(state, POLICY, clock(), "new").state
    done = fetched(refreshing, POLICY, clock(), keys, None)
    # still unknown after the fetch, cooldown 30 s: no second fetch, the caller gets the keys
    # (and KeyNotFound); even with a zero cooldown a waiter never fetches again:
    decision = decide(done, CachePolicy(cooldown=0), clock(), "new", may_fetch=False)
    assert decision.step is Step.USE


def test_an_abandoned_fetch_lets_the_next_caller_fetch(keys: KeySet) -> None:
    clock = FrozenClock()
    state = _filled(keys, clock)
    before = state.last_attempt
    clock.advance(30)
    refreshing = decide(state, POLICY, clock(), "new").state
    dropped = abandoned(refreshing, before)
    assert not dropped.fetching
    assert dropped.last_attempt == before
    assert dropped.generation == refreshing.generation  # waiters see that nothing completed
    assert decide(dropped, POLICY, clock(), "new").step is Step.FETCH


def test_force_fetches_fresh_keys(keys: KeySet) -> None:
    clock = FrozenClock()
    state = _filled(keys, clock)
    assert decide(state, POLICY, clock(), None, force=True).step is Step.FETCH


# -- failures --------------------------------------------------------------------------------


def test_failure_keeps_the_last_good_keys_within_max_stale(keys: KeySet) -> None:
    clock = FrozenClock()
    state = _filled(keys, clock)
    clock.advance(600)
    error = _error()
    state = failed(decide(state, POLICY, clock(), "a").state, error)
    assert state.keys is keys
    assert state.error is error
    assert not state.fetching
    assert state.generation == 2
    decision = decide(state, POLICY, clock(), "a")
    assert decision.step is Step.USE  # stale-if-error, and no new fetch within the cooldown
    clock.advance(30)
    assert decide(state, POLICY, clock(), "a").step is Step.FETCH  # try again after it


def test_an_answer_without_usable_keys_replaces_the_keys(keys: KeySet) -> None:
    """Attack finding 8: a well-formed JWK Set with no usable key is the issuer's word
    that no key is trusted any more; it replaces the cache like any other answer, and a later
    failure does not bring the removed keys back (stale-if-error serves the last answer)."""
    clock = FrozenClock()
    state = _filled(keys, clock)
    clock.advance(600)
    empty = KeySet([])
    state = fetched(decide(state, POLICY, clock(), "a").state, POLICY, clock(), empty, None)
    assert state.keys is empty
    assert state.kids == frozenset()
    assert state.error is None
    decision = decide(state, POLICY, clock(), "a")
    assert decision.step is Step.USE  # within the cooldown: the empty set (KeyNotFound)
    assert decision.state.keys is empty
    assert decide(state, POLICY, clock(), None).step is Step.USE
    clock.advance(30)
    state = failed(decide(state, POLICY, clock(), "a").state, _error())
    assert state.keys is empty  # the removed keys stay removed
    clock.advance(600 + 3600)
    assert decide(state, POLICY, clock(), "a").step is Step.FETCH
    clock.advance(30)
    state = fetched(decide(state, POLICY, clock(), "a").state, POLICY, clock(), keys, None)
    assert decide(state, POLICY, clock(), "a").step is Step.USE  # republished: trusted again
    assert state.keys is keys


def test_failure_past_max_stale_surfaces_the_error(keys: KeySet) -> None:
    clock = FrozenClock()
    state = _filled(keys, clock)
    clock.advance(600 + 3600 - 10)
    state = failed(decide(state, POLICY, clock(), "a").state, _error())
    assert decide(state, POLICY, clock(), "a").step is Step.USE
    clock.advance(10)  # 3600 s past freshness
    decision = decide(state, POLICY, clock(), "a")
    assert decision.step is Step.FAIL
    assert decision.state.error is state.error


def test_unknown_kid_after_a_failed_fetch_reports_the_failure(keys: KeySet) -> None:
    clock = FrozenClock()
    state = _filled(keys, clock)
    clock.advance(30)
    state = failed(decide(state, POLICY, clock(), "new").state, _error())
    assert decide(state, POLICY, clock(), "new").step is Step.FAIL
    assert decide(state, POLICY, clock(), "a").step is Step.USE  # fresh keys still serve


def test_first_fetch_failure_fails_until_the_cooldown_ends() -> None:
    clock = FrozenClock()
    state = failed(decide(CacheState(), POLICY, clock(), "a").state, _error())
    assert decide(state, POLICY, clock(), "a").step is Step.FAIL
    clock.advance(29)
    assert decide(state, POLICY, clock(), None).step is Step.FAIL
    clock.advance(1)
    assert decide(state, POLICY, clock(), None).step is Step.FETCH


def test_success_after_failure_clears_the_error(keys: KeySet) -> None:
    clock = FrozenClock()
    state = failed(decide(CacheState(), POLICY, clock(), "a").state, _error())
    clock.advance(30)
    state = fetched(decide(state, POLICY, clock(), "a").state, POLICY, clock(), keys, None)
    assert state.error is None
    assert decide(state, POLICY, clock(), "a").step is Step.USE


def test_cache_only_answers_never_fetch_or_wait(keys: KeySet) -> None:
    clock = FrozenClock()
    empty = CacheState()
    assert decide(empty, POLICY, clock(), None, may_fetch=False).step is Step.FAIL
    in_flight = decide(empty, POLICY, clock(), None).state
    assert decide(in_flight, POLICY, clock(), None, may_fetch=False).step is Step.FAIL
    state = _filled(keys, clock)
    clock.advance(4000)
    assert decide(state, POLICY, clock(), "new", may_fetch=False).step is Step.USE
    clock.advance(1000)  # past max_stale
    assert decide(state, POLICY, clock(), "a", may_fetch=False).step is Step.FAIL
