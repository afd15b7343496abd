"""The storage contract of the token service: one :class:`Store` protocol, every backend.

All methods are ``async``; a backend built on a blocking driver runs it off the event loop.
Every backend passes the same contract suite (``tests/server/test_store_contract.py``).

Atomicity the service relies on:

* :meth:`Store.rotate_refresh_token` is a compare-and-set: of any number of concurrent calls
  with the same token, exactly one sees ``"rotated"``;
* :meth:`Store.record_failure` increments and reads a counter in one step;
* :meth:`Store.reserve_attempt` checks and counts an attempt in every bucket in one step (all
  buckets or none): of any number of concurrent attempts, at most the limit are admitted;
* :meth:`Store.add_user` refuses a username that differs from a stored one only in case;
* :meth:`Store.set_password` increments the user's ``token_generation`` in the same step as it
  stores the hash: two concurrent changes give two generations;
* :meth:`Store.redeem_code` is a compare-and-set: of any number of concurrent calls with the
  same authorization code, exactly one sees ``"redeemed"``; :meth:`Store.record_code_grant`
  and a reuse are ordered, so that tokens issued from a code reused meanwhile are revoked;
* :meth:`Store.use_once` checks and records a key in one step: of any number of concurrent
  calls with the same key, exactly one answers ``True``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from ..models import (
    AttemptReservation,
    AuthorizationCode,
    Client,
    CodeRedemption,
    Consent,
    LoginSession,
    RefreshToken,
    RotationOutcome,
    SigningKeyRecord,
    User,
)

__all__ = [
    "Access",
    "Conflict",
    "DatabaseMissing",
    "LimitCounter",
    "SchemaStatus",
    "Store",
    "StoreError",
    "VersionedStore",
    "schema_status",
]

#: How a store may touch its database when it opens: ``"create"`` creates and migrates it
#: if needed (``jwtkit serve``); ``"write"`` needs an existing database (the admin commands
#: that change something); ``"read"`` needs an existing, migrated database and never writes.
Access = Literal["create", "write", "read"]


class StoreError(Exception):
    """A storage backend failed (I/O, corruption, unavailable database)."""


class Conflict(StoreError):
    """A record with the same unique name or id already exists."""


class DatabaseMissing(StoreError):
    """The database does not exist, and the store may not create it (``access`` other than
    ``"create"``). ``location`` is the absolute path (or what names the database)."""

    def __init__(self, location: str) -> None:
        self.location = location
        super().__init__(f"there is no database at {location}")


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database's schema stands (``jwtkit db status``): ``current`` is the last
    migration applied (0: no schema yet), ``latest`` the last one this jwtkit knows, and
    ``pending`` the ones still to apply, each as (version, what it does)."""

    current: int
    latest: int
    pending: tuple[tuple[int, str], ...] = ()


def schema_status(
    current: int, migrations: Sequence[object], summaries: Sequence[str]
) -> SchemaStatus:
    """The :class:`SchemaStatus` of a database at version ``current`` of a backend whose
    migrations are ``migrations``, described by ``summaries`` (one line each)."""
    latest = len(migrations)
    pending = tuple(
        (version, summaries[version - 1] if version <= len(summaries) else "")
        for version in range(current + 1, latest + 1)
    )
    return SchemaStatus(current, latest, pending)


class LimitCounter(Protocol):
    """The counts behind the login and registration limits (:mod:`~jwtkit.server.ratelimit`):
    fixed windows per bucket, failures and attempts in progress.

    Every :class:`Store` is one (its rate-limit methods); Redis is another
    (:class:`~jwtkit.server.redis_limits.RedisLimitCounter`), shared by several instances of
    the service. Both pass the same contract suite (``tests/server/test_limit_counters.py``).
    ``now`` and ``window`` are seconds (Unix time, as the caller's clock tells it): a counter
    never reads a clock of its own.
    """

    async def record_failure(self, bucket: str, now: float, window: float) -> tuple[int, float]:
        """Count one failure in ``bucket``'s fixed window; return (failures in the window,
        seconds until the window resets)."""

    async def failures(self, bucket: str, now: float) -> tuple[int, float]:
        """(failures in the current window, seconds until it resets); (0, 0) if none."""

    async def clear_failures(self, bucket: str) -> None: ...

    async def reserve_attempt(
        self, limits: Sequence[tuple[str, int]], now: float, window: float
    ) -> AttemptReservation:
        """Admit one attempt (a password check) under the limit of every bucket, atomically.

        ``limits`` is (bucket, limit) pairs. A bucket is full when its failures plus its
        attempts in progress in the current window reach its limit. If none is full, one
        attempt in progress is counted in each (a bucket without a current window opens one of
        ``window`` seconds) and the answer is admitted; otherwise nothing changes and the
        answer is refused, with the seconds until the last full bucket's window ends. All
        buckets are checked and counted in one step: of concurrent calls, at most ``limit``
        are admitted into a bucket (minus its failures and attempts already in progress)."""

    async def settle_attempt(
        self,
        windows: Sequence[tuple[str, float]],
        now: float,
        window: float,
        *,
        failed: bool,
        forget: Sequence[str] = (),
    ) -> None:
        """End an attempt that :meth:`reserve_attempt` admitted (``windows`` is its
        ``windows``): each bucket holds one attempt in progress fewer, unless its window has
        ended since; ``failed`` counts one failure in each, as :meth:`record_failure` does;
        the buckets in ``forget`` lose their failures (not the attempts still in progress)."""


class Store(LimitCounter, Protocol):
    """What the token service needs from a database: its own records, and the counts of the
    rate limits (:class:`LimitCounter`)."""

    async def open(self) -> None:
        """Connect and bring the schema to the current version (versioned migrations).

        A store made with an ``access`` other than ``"create"`` (:data:`Access`) raises
        :class:`DatabaseMissing` rather than create the database; ``"read"`` never writes."""

    async def close(self) -> None:
        """Release connections. The store may not be used afterwards."""

    async def ping(self) -> None:
        """Return when the database answers a read; :class:`StoreError` when it does not (the
        store is closed, the database unreachable or unreadable). As cheap as a lookup: the
        service's readiness check (``GET /readyz``) calls it."""

    # users ------------------------------------------------------------------------------
    async def add_user(self, user: User) -> None:
        """Insert ``user``; :class:`Conflict` if the id exists or the username does, ignoring
        ASCII case (``ALICE`` is taken when ``alice`` exists)."""

    async def user_by_id(self, user_id: str) -> User | None: ...

    async def user_by_name(self, username: str) -> User | None:
        """The user whose username equals ``username`` ignoring ASCII case (its ``username``
        as registered), or ``None``."""

    async def list_users(self) -> list[User]: ...

    async def set_password(
        self, user_id: str, password_hash: str, tokens_valid_after: float
    ) -> bool:
        """Store a new hash and the time of the change, and add one to the user's
        ``token_generation``, in one atomic step (a password change revokes the access tokens of
        the previous generation). ``False`` if there is no such user."""

    async def rehash_password(self, user_id: str, old_hash: str, new_hash: str) -> bool:
        """Replace ``old_hash`` by ``new_hash`` only if it is still current (parameters changed)."""

    async def set_disabled(self, user_id: str, disabled: bool) -> bool: ...

    async def set_profile(
        self, user_id: str, *, email: str | None, email_verified: bool, name: str | None
    ) -> bool:
        """Replace the user's ``email``, ``email_verified`` and ``name`` (all three; ``None``
        removes an address or a name). ``False`` if there is no such user."""

    # clients ----------------------------------------------------------------------------
    async def add_client(self, client: Client) -> None:
        """Insert ``client``; :class:`Conflict` if the id exists. Every field is read back as
        given: ``redirect_uris`` and ``post_logout_redirect_uris`` in their order and exactly as
        spelled (they are compared as strings), ``first_party``,
        ``id_token_signed_response_alg``, ``jwks`` character for character."""

    async def client_by_id(self, client_id: str) -> Client | None: ...

    async def list_clients(self) -> list[Client]: ...

    async def rehash_client_secret(self, client_id: str, old_hash: str, new_hash: str) -> bool:
        """Replace a client's ``old_hash`` by ``new_hash`` only if it is still the stored one
        (a compare-and-set; older Argon2 hashes become SHA-256 digests at first use)."""

    async def remove_client(self, client_id: str) -> bool:
        """Delete a client and revoke its refresh families; ``False`` if it did not exist."""

    # refresh tokens ---------------------------------------------------------------------
    async def add_refresh_token(self, token: RefreshToken) -> None:
        """Store the first token of a new family (``resource`` read back in its order)."""

    async def refresh_token(self, token_hash: bytes) -> RefreshToken | None: ...

    async def rotate_refresh_token(
        self, token_hash: bytes, new: RefreshToken, now: float, grace_period: float
    ) -> RotationOutcome:
        """Atomically exchange an active token for ``new`` (same family).

        ``"rotated"``: the token was active, not expired and unrevoked; it is now marked
        rotated with ``new`` as successor, and ``new`` is stored. ``"grace"``: it was rotated
        less than ``grace_period`` seconds ago and its successor is still active; nothing is
        stored and ``successor_hash`` names the successor. ``"reused"``: it was rotated before
        (outside the grace period); nothing is stored. ``"revoked"``, ``"expired"`` (past its
        idle or the family's absolute lifetime), ``"unknown"``: nothing is stored.
        """

    async def revoke_family(self, family_id: str, now: float) -> int:
        """Revoke every token of a family; return how many were active."""

    async def revoke_user_families(self, user_id: str, now: float) -> int:
        """Revoke every refresh family of a user; return how many tokens were active."""

    async def is_family_revoked(self, family_id: str) -> bool:
        """Whether the refresh family ``family_id`` was revoked (:meth:`revoke_family`,
        :meth:`revoke_user_families`, :meth:`remove_client`) or is not stored: never stored,
        or purged after its absolute expiry. Called on every request that presents an access
        token of a family, so a single indexed lookup."""

    # revoked access tokens --------------------------------------------------------------
    async def revoke_jti(self, jti: str, expires_at: float) -> None:
        """Remember a revoked access token until its ``exp``."""

    async def is_jti_revoked(self, jti: str, now: float) -> bool: ...

    # signing keys -----------------------------------------------------------------------
    async def add_signing_key(self, record: SigningKeyRecord) -> None: ...

    async def signing_keys(self) -> list[SigningKeyRecord]:
        """Every stored signing key, oldest first."""

    async def update_signing_key(self, record: SigningKeyRecord) -> None:
        """Replace the stored record with the same ``kid``."""

    # rate limits: the methods of LimitCounter -----------------------------------------

    # login sessions ---------------------------------------------------------------------
    async def add_session(self, session: LoginSession) -> None:
        """Store a new login session; :class:`Conflict` if its ``sid`` or ``cookie_hash``
        exists."""

    async def session_by_cookie(self, cookie_hash: bytes) -> LoginSession | None:
        """The session whose cookie has this SHA-256 (active or not), or ``None``. Called on
        every browser request to ``/authorize``, so a single indexed lookup."""

    async def session_by_sid(self, sid: str) -> LoginSession | None:
        """The session with this public id (active or not), or ``None``."""

    async def touch_session(self, sid: str, idle_expires_at: float) -> None:
        """Move a session's idle expiry forward to ``idle_expires_at`` (never past its
        absolute ``expires_at``, never backwards); an ended session is left alone."""

    async def end_session(self, sid: str, now: float) -> bool:
        """End a session (logout); ``False`` if there is no such session or it had ended."""

    async def end_user_sessions(self, user_id: str, now: float) -> int:
        """End every session of a user (a password change, a disabled user); return how many
        were not ended yet."""

    # consents ---------------------------------------------------------------------------
    async def consent(self, user_id: str, client_id: str) -> Consent | None:
        """What the user granted the client, or ``None``."""

    async def grant_consent(self, consent: Consent) -> None:
        """Store ``consent``, replacing what the user had granted the client before."""

    # authorization codes ----------------------------------------------------------------
    async def add_code(self, code: AuthorizationCode) -> None:
        """Store a new authorization code; :class:`Conflict` if its hash exists."""

    async def redeem_code(self, code_hash: bytes, now: float) -> CodeRedemption:
        """Atomically mark a code redeemed at ``now`` (see :class:`CodeRedemption`).

        ``"redeemed"``: it was neither redeemed nor expired; this call won. ``"reused"``: it
        had been redeemed (expired or not); ``reused_at`` is set to ``now`` and the record
        names what the first exchange issued, as far as recorded. ``"expired"``: not
        redeemed, past ``expires_at``; nothing changes. ``"unknown"``: nothing stored."""

    async def record_code_grant(
        self,
        code_hash: bytes,
        family_id: str | None,
        access_jti: str,
        access_expires_at: float,
    ) -> bool:
        """Record what the exchange of a redeemed code issued. ``False`` if the code was
        presented again meanwhile (``reused_at`` is set): the caller must revoke what it just
        issued, since the reuse could not."""

    # values used once -------------------------------------------------------------------
    async def use_once(self, key: str, expires_at: float, now: float) -> bool:
        """Record ``key`` until ``expires_at``, atomically: ``True`` if it was not recorded (or
        its record had expired at ``now``, which it replaces), ``False`` if it is recorded and
        not expired, and then nothing changes. Of any number of concurrent calls with the same
        key, in one process or many, exactly one answers ``True``. Replay protection: a client
        assertion's ``jti`` is used once (RFC 7523 §3)."""

    # housekeeping -----------------------------------------------------------------------
    async def purge(self, now: float) -> int:
        """Delete expired revocations, refresh tokens, rate-limit windows and records of
        :meth:`use_once`, ended or expired login sessions, and authorization codes past their
        ``purge_after``; return a count."""


class VersionedStore(Store, Protocol):
    """A :class:`Store` whose schema is versioned (every backend of :func:`~.open_store`):
    ``jwtkit db status`` and ``jwtkit db upgrade`` work on it."""

    #: What names the database in messages: a file's absolute path, a URL without password.
    location: str

    async def schema_status(self) -> SchemaStatus:
        """Where the schema stands, whether the store is open or not; never writes.
        :class:`DatabaseMissing` when there is no database to read."""
