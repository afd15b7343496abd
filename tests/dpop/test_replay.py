"""Replayed proofs (RFC 9449 §11.1) and the bounded in-memory replay cache."""

from __future__ import annotations

import threading

import pytest

import jwtkit
from jwtkit.dpop import DPoPVerifier, MemoryReplayCache, ReplayCache, create_proof
from jwtkit.errors import InvalidDPoPProof, UsageError
from jwtkit.testing import FrozenClock

NOW = 1_700_000_000
URL = "https://api.example/items"


@pytest.fixture(scope="module")
def key() -> jwtkit.Key:
    return jwtkit.Key.generate("EdDSA")


def test_replayed_proof_is_refused(key: jwtkit.Key) -> None:
    clock = FrozenClock(NOW)
    verifier = DPoPVerifier(clock=clock)
    proof = create_proof(key, method="GET", url=URL, clock=clock)
    verifier.verify(proof, method="GET", url=URL)
    with pytest.raises(InvalidDPoPProof, match="already used"):
        verifier.verify(proof, method="GET", url=URL)


def test_new_proof_with_a_used_jti_is_refused(key: jwtkit.Key) -> None:
    clock = FrozenClock(NOW)
    verifier = DPoPVerifier(clock=clock)
    verifier.verify(create_proof(key, method="GET", url=URL, clock=clock, jti="j"), method="GET",
                    url=URL)  # fmt: skip
    clock.advance(10)
    second = create_proof(key, method="GET", url=URL, clock=clock, jti="j")
    with pytest.raises(InvalidDPoPProof, match="already used"):
        verifier.verify(second, method="GET", url=URL)


def test_a_failed_proof_does_not_use_up_its_jti(key: jwtkit.Key) -> None:
    clock = FrozenClock(NOW)
    verifier = DPoPVerifier(clock=clock)
    proof = create_proof(key, method="GET", url=URL, clock=clock)
    with pytest.raises(InvalidDPoPProof, match="htm"):
        verifier.verify(proof, method="POST", url=URL)
    assert verifier.verify(proof, method="GET", url=URL).key == key.public_key()


def test_without_a_replay_cache_the_caller_checks_jti(key: jwtkit.Key) -> None:
    clock = FrozenClock(NOW)
    verifier = DPoPVerifier(replay_cache=None, clock=clock)
    assert verifier.replay_cache is None
    proof = create_proof(key, method="GET", url=URL, clock=clock)
    first = verifier.verify(proof, method="GET", url=URL)
    second = verifier.verify(proof, method="GET", url=URL)
    assert first.jti == second.jti
    assert first.expires_at == NOW + 65


def test_verifiers_share_a_given_cache(key: jwtkit.Key) -> None:
    clock = FrozenClock(NOW)
    cache = MemoryReplayCache(clock=clock)
    first, second = (DPoPVerifier(replay_cache=cache, clock=clock) for _ in range(2))
    proof = create_proof(key, method="GET", url=URL, clock=clock)
    first.verify(proof, method="GET", url=URL)
    with pytest.raises(InvalidDPoPProof, match="already used"):
        second.verify(proof, method="GET", url=URL)


def test_memory_cache_is_a_replay_cache() -> None:
    assert isinstance(MemoryReplayCache(), ReplayCache)


class _FullCache:
    def remember(self, jti: str, expires_at: float) -> bool:
        return False


def test_a_cache_that_cannot_record_refuses_every_proof(key: jwtkit.Key) -> None:
    clock = FrozenClock(NOW)
    verifier = DPoPVerifier(replay_cache=_FullCache(), clock=clock)
    with pytest.raises(InvalidDPoPProof):
        verifier.verify(create_proof(key, method="GET", url=URL, clock=clock), method="GET",
                        url=URL)  # fmt: skip


def test_cache_remembers_until_expiry() -> None:
    clock = FrozenClock(NOW)
    cache = MemoryReplayCache(clock=clock)
    assert cache.remember("a", NOW + 10)
    assert not cache.remember("a", NOW + 10)
    clock.advance(9)
    assert not cache.remember("a", NOW + 20)
    clock.advance(1)
    assert cache.remember("a", NOW + 20)
    assert len(cache) == 1


def test_full_cache_refuses_new_entries_until_some_expire() -> None:
    clock = FrozenClock(NOW)
    cache = MemoryReplayCache(3, clock=clock)
    assert all(cache.remember(j, NOW + 60 + i) for i, j in enumerate("abc"))
    assert not cache.remember("d", NOW + 60)
    assert len(cache) == 3
    clock.advance(60)
    assert cache.remember("d", NOW + 120)
    assert len(cache) == 3
    clock.advance(10)
    assert len(cache) == 3
    assert cache.remember("e", NOW + 200)
    assert len(cache) == 2


def test_expired_entries_are_forgotten_whatever_their_order() -> None:
    clock = FrozenClock(NOW)
    cache = MemoryReplayCache(clock=clock)
    cache.remember("late", NOW + 100)
    cache.remember("early", NOW + 10)
    clock.advance(50)
    cache.remember("new", NOW + 150)
    assert len(cache) == 2
    assert cache.remember("early", NOW + 150)


@pytest.mark.parametrize("size", [0, -1, 1.5, True])
def test_cache_size_must_be_positive(size: object) -> None:
    with pytest.raises(UsageError):
        MemoryReplayCache(size)  # type: ignore[arg-type]


def test_cache_is_thread_safe() -> None:
    cache = MemoryReplayCache()
    results: list[bool] = []
    lock = threading.Lock()

    def claim() -> None:
        outcome = cache.remember("same", 4e9)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=claim) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1


def test_replay_cache_must_have_remember() -> None:
    with pytest.raises(UsageError, match="replay_cache"):
        DPoPVerifier(replay_cache=object())  # type: ignore[arg-type]


def test_duplicate_algorithms_are_listed_once() -> None:
    assert DPoPVerifier(algorithms=["ES256", "EdDSA", "ES256"]).algorithms == ("ES256", "EdDSA")
