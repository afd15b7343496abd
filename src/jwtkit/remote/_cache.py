"""The JWKS cache as a pure state machine: no I/O, no clock reads, no locks.

The clients (``_client.py``) hold a :class:`CacheState` behind a lock, ask :func:`decide` what
to do for each lookup (with the time they read from their clock), and report how a fetch
ended with :func:`fetched`, :func:`failed` or :func:`abandoned`. Every transition is a pure
function of its arguments, so the whole behaviour is tested without a network or a real clock.

The rules (security matrix D6, F2):

* keys are **fresh** for ``lifetime`` seconds after a successful fetch: the response's
  ``Cache-Control: max-age`` (RFC 9111 §5.2.2.1) clamped to ``[cooldown, cache_ttl]``, or
  ``cache_ttl`` without one;
* a ``kid`` that the keys do not have triggers a fetch, but at most one fetch starts per
  ``cooldown`` seconds, whatever the reason: a flood of random ``kid`` values costs one request
  per cooldown;
* one fetch is in flight at a time; other callers **wait** for it and share its outcome (or,
  when they already have a usable key, answer at once);
* a successful fetch replaces the keys, even with an empty set: a well-formed JWK Set
  without a usable key means that the issuer trusts none now (attack finding 8);
* a failed fetch (network, HTTP status, size, a document that is not a JWK Set) keeps the
  last good keys (stale-if-error) until ``max_stale`` seconds after they stopped being fresh;
  then the error surfaces;
* the same :class:`~jwtkit.jwk.KeySet` object is kept while fetches return equal keys, so a
  :class:`~jwtkit.Verifier` keeps its prepared per-key work.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, replace

from ..errors import UsageError
from ..jwk import KeySet
from ._errors import JWKSError

__all__ = [
    "CachePolicy",
    "CacheState",
    "Decision",
    "Step",
    "abandoned",
    "decide",
    "failed",
    "fetched",
]


def _seconds(name: str, value: object, *, minimum: float, allow_inf: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{name}: expected a number of seconds, got {type(value).__name__}")
    number = float(value)
    if math.isnan(number) or number < minimum or (math.isinf(number) and not allow_inf):
        raise UsageError(f"{name}: expected a finite number of seconds >= {minimum:g}")
    return number


@dataclass(frozen=True)
class CachePolicy:
    """How long keys stay fresh, how often a fetch may start, how long stale keys serve."""

    cache_ttl: float = 600.0
    cooldown: float = 30.0
    max_stale: float = 86_400.0

    def __post_init__(self) -> None:
        ttl = _seconds("cache_ttl", self.cache_ttl, minimum=0)
        if ttl == 0:
            raise UsageError("cache_ttl: must be more than 0 seconds")
        cooldown = _seconds("cooldown", self.cooldown, minimum=0)
        if cooldown > ttl:
            raise UsageError("cooldown: must not be longer than cache_ttl")
        object.__setattr__(self, "cache_ttl", ttl)
        object.__setattr__(self, "cooldown", cooldown)
        object.__setattr__(
            self, "max_stale", _seconds("max_stale", self.max_stale, minimum=0, allow_inf=True)
        )

    def lifetime(self, max_age: float | None) -> float:
        """Seconds a fetched set stays fresh: the server's ``max-age`` within
        ``[cooldown, cache_ttl]``, else ``cache_ttl``. The lower bound keeps a server that says
        ``no-store`` from turning every request into a fetch; the upper one is the caller's."""
        if max_age is None:
            return self.cache_ttl
        return min(max(max_age, self.cooldown), self.cache_ttl)


@dataclass(frozen=True)
class CacheState:
    """Everything the cache knows. Immutable: transitions return a new state."""

    #: The last good key set (``None`` before the first successful fetch).
    keys: KeySet | None = None
    #: The ``kid`` values of :attr:`keys`, for a fast membership test.
    kids: frozenset[str] = frozenset()
    #: Until when :attr:`keys` are fresh (clock seconds).
    fresh_until: float = -math.inf
    #: When the last fetch started, successful or not: the cooldown counts from here.
    last_attempt: float = -math.inf
    #: Why the last completed fetch failed; ``None`` when it succeeded.
    error: JWKSError | None = None
    #: Whether a fetch is in flight.
    fetching: bool = False
    #: How many fetches have completed (a waiter sees it change when its fetch ended).
    generation: int = 0

    def knows(self, kid: str | None) -> bool:
        """``True`` when the keys are there and ``kid`` is ``None`` or one of theirs."""
        return self.keys is not None and (kid is None or kid in self.kids)

    def usable(self, policy: CachePolicy, now: float) -> bool:
        """``True`` while the keys are fresh or stale by at most ``max_stale`` seconds."""
        return self.keys is not None and now < self.fresh_until + policy.max_stale


class Step(enum.Enum):
    """What a caller does next."""

    #: Answer with ``decision.state.keys``.
    USE = "use"
    #: Fetch now (the returned state records the fetch as in flight), then report the outcome.
    FETCH = "fetch"
    #: Another caller is fetching: wait until it ends, then decide again.
    WAIT = "wait"
    #: Raise ``decision.state.error`` (or say that no keys could be fetched).
    FAIL = "fail"


@dataclass(frozen=True)
class Decision:
    """The step to take and the state to store (changed only by :attr:`Step.FETCH`)."""

    step: Step
    state: CacheState


def decide(
    state: CacheState,
    policy: CachePolicy,
    now: float,
    kid: str | None,
    *,
    may_fetch: bool = True,
    force: bool = False,
) -> Decision:
    """The next step of a lookup of ``kid`` (``None``: any key will do) at time ``now``.

    ``may_fetch=False`` answers from the cache only (a caller that has just waited for a fetch,
    so that it never starts a second one for the same need). ``force`` fetches even when the
    keys are fresh (an explicit refresh); it still joins a fetch in flight.
    """
    fresh = now < state.fresh_until
    known = state.knows(kid)
    if may_fetch:
        if state.fetching:
            if known and not force and state.usable(policy, now):
                return Decision(Step.USE, state)
            return Decision(Step.WAIT, state)
        cooled = now - state.last_attempt >= policy.cooldown
        if force or ((not fresh or not known) and cooled):
            return Decision(Step.FETCH, replace(state, fetching=True, last_attempt=now))
    # Answer from the cache. An unknown kid after a failed fetch reports the failure; after a
    # successful one the caller finds no key (KeyNotFound), which is the truth.
    if state.usable(policy, now) and (known or state.error is None):
        return Decision(Step.USE, state)
    return Decision(Step.FAIL, state)


def fetched(
    state: CacheState, policy: CachePolicy, now: float, keys: KeySet, max_age: float | None
) -> CacheState:
    """The in-flight fetch returned ``keys`` at ``now``; the previous object is kept when the
    keys are equal (compared by content), so that its identity marks "unchanged"."""
    kept = state.keys if state.keys is not None and state.keys == keys else keys
    return CacheState(
        keys=kept,
        kids=frozenset(key.kid for key in kept if key.kid is not None),
        fresh_until=now + policy.lifetime(max_age),
        last_attempt=state.last_attempt,
        error=None,
        fetching=False,
        generation=state.generation + 1,
    )


def failed(state: CacheState, error: JWKSError) -> CacheState:
    """The in-flight fetch failed: keep the last good keys, remember why."""
    return replace(state, error=error, fetching=False, generation=state.generation + 1)


def abandoned(state: CacheState, last_attempt: float) -> CacheState:
    """The in-flight fetch was cancelled or broke in an unexpected way: it did not happen.

    ``last_attempt`` is restored to its value before the fetch, so that a waiting caller may
    start the fetch again, and the generation is unchanged so that waiters know.
    """
    return replace(state, fetching=False, last_attempt=last_attempt)
