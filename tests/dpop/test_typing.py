"""The types of ``jwtkit.dpop``'s public API, checked by mypy --strict (this file must
type-check) and run, as ``tests/test_typing.py`` does for the rest of the API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from typing_extensions import assert_type

import jwtkit
from jwtkit.dpop import (
    DEFAULT_ALGORITHMS,
    DPoPNonces,
    DPoPProof,
    DPoPVerifier,
    MemoryReplayCache,
    ReplayCache,
    access_token_hash,
    create_proof,
    normalize_htu,
)
from jwtkit.testing import FrozenClock


def test_dpop_signatures_keep_their_types() -> None:
    clock = FrozenClock(1_700_000_000)
    key = jwtkit.Key.generate("ES256")
    url = "https://api.example/items"
    proof = assert_type(create_proof(key, method="GET", url=url, clock=clock), str)
    cache: ReplayCache = MemoryReplayCache(10, clock=clock)
    nonces = DPoPNonces(b"k" * 32, clock=clock)
    verifier = DPoPVerifier(replay_cache=cache, clock=clock, algorithms=DEFAULT_ALGORITHMS)
    checked = assert_type(verifier.verify(proof, method="GET", url=url), DPoPProof)
    assert_type(checked.key, jwtkit.Key)
    assert_type(checked.jkt, str)
    assert_type(checked.iat, int)
    assert_type(checked.claims, Mapping[str, Any])
    assert_type(nonces.check(nonces.issue()), bool)
    assert_type(normalize_htu(url), str)
    assert_type(access_token_hash("t"), str)
    assert_type(cache.remember("j", 1.0), bool)
    assert DPoPVerifier(nonces=nonces).nonces is nonces
