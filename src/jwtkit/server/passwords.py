"""Password hashing (Argon2id via argon2-cffi) and the password policy of the token service.

* :class:`PasswordHasher` hashes and verifies off the event loop, in a bounded number of
  threads (Argon2 is memory-hard on purpose: an unbounded pool would let a login flood exhaust
  memory). For an unknown user it verifies against a dummy hash made with the same
  parameters, so the answer takes as long as for a real user (no user enumeration).
* :func:`check_policy` refuses passwords that are too short, absurdly long or among the most
  common ones (NIST SP 800-63B §5.1.1.2).

Passwords are normalized to Unicode NFKC before hashing and checking (NIST SP 800-63B
§5.1.1.2), so the same password typed on two keyboards verifies.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import unicodedata
from typing import TYPE_CHECKING, cast

from ._extras import MissingExtra

try:
    import anyio
    import anyio.to_thread
    import argon2
    from argon2.exceptions import InvalidHashError, VerificationError
except ImportError as exc:  # pragma: no cover - the server extra is installed in tests
    raise MissingExtra(exc.name or "argon2", "server") from exc

if TYPE_CHECKING:
    from .config import Settings

__all__ = [
    "COMMON_PASSWORDS",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "PasswordHasher",
    "PasswordPolicyError",
    "check_policy",
]

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024

#: The most common passwords of the public breach corpora (compared case-insensitively). Only
#: a first line of defence: the length rule already removes most of the top lists.
COMMON_PASSWORDS: frozenset[str] = frozenset(
    """
    password password1 password12 password123 password1234 password! passw0rd p@ssw0rd p@ssword
    pa$$word 12345678 123456789 1234567890 12345678910 0123456789 87654321 987654321 9876543210
    11111111 111111111 1111111111 00000000 000000000 22222222 55555555 66666666 88888888
    99999999 12341234 12344321 11223344 12121212 123123123 123321123 147258369 123456789a
    1q2w3e4r 1q2w3e4r5t 1qaz2wsx 1qazxsw2 qazwsxedc zaq12wsx zaq1zaq1 q1w2e3r4 q1w2e3r4t5
    qwertyui qwertyuiop qwerty12 qwerty123 qwerty1234 asdfghjk asdfghjkl asdf1234 zxcvbnm1
    zxcvbnm123 abcd1234 abc12345 abcdefgh a1b2c3d4 aa123456 iloveyou iloveyou1 princess
    princess1 sunshine football football1 baseball basketball superman batman123 starwars
    whatever trustno1 welcome1 welcome123 letmein1 letmein123 changeme changeme123 computer
    internet michelle jennifer jordan23 liverpool chocolate butterfly pokemon123 master123
    admin123 administrator qwerty 123456 1234567 abc123 letmein welcome monkey dragon shadow
    master secret secret123 default test1234 testtest access14 mustang1 charlie1 freedom1
    samsung1
    """.split()  # noqa: SIM905 - a compact word list
)


class PasswordPolicyError(ValueError):
    """A new password breaks the policy; the message says which rule (never the password)."""


def _normalize(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def check_policy(password: str, *, username: str | None = None) -> None:
    """Raise :class:`PasswordPolicyError` unless ``password`` may be set as a new password.

    Rules (NIST SP 800-63B §5.1.1.2): at least 8 and at most 1024 characters (after NFKC
    normalization), encodable as UTF-8, not one of :data:`COMMON_PASSWORDS` and, when
    ``username`` is given, not the username itself.
    """
    if not isinstance(password, str):
        raise PasswordPolicyError("the password must be a string")
    normalized = _normalize(password)
    if len(normalized) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(
            f"the password is too short: use at least {MIN_PASSWORD_LENGTH} characters"
        )
    if len(normalized) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(
            f"the password is too long: use at most {MAX_PASSWORD_LENGTH} characters"
        )
    try:
        normalized.encode("utf-8")
    except UnicodeEncodeError:
        raise PasswordPolicyError("the password contains invalid characters") from None
    folded = normalized.casefold()
    if folded in COMMON_PASSWORDS:
        raise PasswordPolicyError("the password is one of the most common ones: choose another")
    if username is not None and folded == _normalize(username).casefold():
        raise PasswordPolicyError("the password must not be the username")


class PasswordHasher:
    """Argon2id (RFC 9106) password hashes, computed off the event loop.

    .. warning:: Build one per process and reuse it: construction computes the dummy hash
       used for unknown users (one full Argon2 run).
    """

    def __init__(
        self,
        *,
        time_cost: int = 3,
        memory_cost: int = 65536,
        parallelism: int = 4,
        max_concurrency: int | None = None,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )
        # A hash of a random password nobody knows, with the same parameters as real ones.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(32))
        self._limiter = anyio.CapacityLimiter(max_concurrency or max(os.cpu_count() or 1, 2))

    @classmethod
    def from_settings(cls, settings: Settings) -> PasswordHasher:
        """A hasher with the ``argon2_*`` parameters of ``settings``."""
        return cls(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost,
            parallelism=settings.argon2_parallelism,
        )

    @property
    def parameters(self) -> tuple[int, int, int]:
        """(time_cost, memory_cost in KiB, parallelism)."""
        return (self._hasher.time_cost, self._hasher.memory_cost, self._hasher.parallelism)

    async def hash(self, password: str) -> str:
        """The Argon2id hash (PHC string) of ``password``, with a fresh random salt."""
        return await anyio.to_thread.run_sync(
            self._hasher.hash, _normalize(password), limiter=self._limiter
        )

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """``True`` if ``password`` matches ``stored_hash``; ``False`` otherwise, never raises.

        ``stored_hash=None`` (unknown user), a malformed hash and a password longer than the
        policy allows all cost one Argon2 run against the dummy hash and give ``False``.
        """
        if not isinstance(cast(object, password), str):
            password = ""
        known = stored_hash is not None and len(password) <= MAX_PASSWORD_LENGTH
        target = stored_hash if stored_hash is not None and known else self._dummy_hash
        matched = await anyio.to_thread.run_sync(
            self._verify_sync, target, _normalize(password), limiter=self._limiter
        )
        return matched and known

    def _verify_sync(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except InvalidHashError:
            # Not an Argon2 hash: spend the same time anyway, then refuse.
            self._verify_dummy(password)
            return False
        except (VerificationError, ValueError):
            return False

    def _verify_dummy(self, password: str) -> None:
        with contextlib.suppress(VerificationError, ValueError):
            self._hasher.verify(self._dummy_hash, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        """``True`` when ``stored_hash`` was made with other parameters (or is not Argon2id):
        rehash the password at the next successful login."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except (InvalidHashError, ValueError):
            return True
