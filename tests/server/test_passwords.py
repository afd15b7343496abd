"""Argon2id password hashing off the event loop, the dummy hash, rehashing and the policy."""

from __future__ import annotations

import dataclasses

import anyio
import argon2
import pytest

from jwtkit.server.config import Settings
from jwtkit.server.passwords import (
    COMMON_PASSWORDS,
    MAX_PASSWORD_LENGTH,
    PasswordHasher,
    PasswordPolicyError,
    check_policy,
)

FAST = Settings(argon2_time_cost=1, argon2_memory_cost=8, argon2_parallelism=1)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher.from_settings(FAST)


# -- hashing ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_hash_is_argon2id_with_the_configured_parameters(hasher: PasswordHasher) -> None:
    stored = await hasher.hash("correct horse battery staple")
    assert stored.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert hasher.parameters == (1, 8, 1)
    assert "correct horse" not in stored


@pytest.mark.anyio
async def test_hashes_are_salted(hasher: PasswordHasher) -> None:
    assert await hasher.hash("same password") != await hasher.hash("same password")


@pytest.mark.anyio
async def test_verify_accepts_the_right_password_only(hasher: PasswordHasher) -> None:
    stored = await hasher.hash("correct horse battery staple")
    assert await hasher.verify(stored, "correct horse battery staple") is True
    assert await hasher.verify(stored, "correct horse battery stapl") is False
    assert await hasher.verify(stored, "") is False


@pytest.mark.anyio
async def test_verify_runs_off_the_event_loop(
    hasher: PasswordHasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []
    original = anyio.to_thread.run_sync

    async def spy(func: object, *args: object, **kwargs: object) -> object:
        calls.append(kwargs.get("limiter"))
        return await original(func, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(anyio.to_thread, "run_sync", spy)
    stored = await hasher.hash("off the loop please")
    assert await hasher.verify(stored, "off the loop please")
    assert len(calls) == 2
    assert all(isinstance(limiter, anyio.CapacityLimiter) for limiter in calls)


@pytest.mark.anyio
async def test_unknown_user_is_checked_against_a_dummy_hash(
    hasher: PasswordHasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    original = argon2.PasswordHasher.verify

    def spy(self: argon2.PasswordHasher, stored: str | bytes, password: str | bytes) -> bool:
        seen.append(str(stored))
        return original(self, stored, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", spy)
    assert await hasher.verify(None, "whatever password") is False
    assert len(seen) == 1
    # the dummy has the same parameters as a real hash, so it costs the same time
    assert seen[0].startswith("$argon2id$v=19$m=8,t=1,p=1$")


@pytest.mark.anyio
async def test_unknown_user_fails_even_with_the_dummy_password(hasher: PasswordHasher) -> None:
    # the dummy hash is of a random password; no guess can make an unknown user log in
    assert await hasher.verify(None, "") is False


@pytest.mark.anyio
@pytest.mark.parametrize(
    "stored",
    ["", "not a hash", "$argon2id$v=19$m=8,t=1,p=1$bad", "$2b$12$" + "a" * 53],
)
async def test_malformed_stored_hash_gives_false_never_raises(
    hasher: PasswordHasher, stored: str
) -> None:
    assert await hasher.verify(stored, "some password") is False


@pytest.mark.anyio
async def test_overlong_password_never_verifies(hasher: PasswordHasher) -> None:
    stored = await hasher.hash("x" * (MAX_PASSWORD_LENGTH + 1))
    assert await hasher.verify(stored, "x" * (MAX_PASSWORD_LENGTH + 1)) is False


@pytest.mark.anyio
async def test_unencodable_password_gives_false(hasher: PasswordHasher) -> None:
    stored = await hasher.hash("a real password")
    assert await hasher.verify(stored, "\ud800 lone surrogate") is False


@pytest.mark.anyio
async def test_non_string_password_gives_false(hasher: PasswordHasher) -> None:
    stored = await hasher.hash("a real password")
    assert await hasher.verify(stored, None) is False  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_passwords_are_nfkc_normalized(hasher: PasswordHasher) -> None:
    composed = "caf\u00e9 au lait"
    decomposed = "cafe\u0301 au lait"
    stored = await hasher.hash(composed)
    assert await hasher.verify(stored, decomposed) is True


# -- rehashing -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_needs_rehash_when_parameters_change(hasher: PasswordHasher) -> None:
    stored = await hasher.hash("a long enough password")
    assert hasher.needs_rehash(stored) is False
    stronger = PasswordHasher.from_settings(dataclasses.replace(FAST, argon2_time_cost=2))
    assert stronger.needs_rehash(stored) is True
    # and the old hash still verifies with the new hasher
    assert await stronger.verify(stored, "a long enough password") is True
    more_memory = PasswordHasher.from_settings(dataclasses.replace(FAST, argon2_memory_cost=16))
    assert more_memory.needs_rehash(stored) is True


def test_needs_rehash_for_other_argon2_variants_and_garbage(hasher: PasswordHasher) -> None:
    argon2i = argon2.PasswordHasher(
        time_cost=1, memory_cost=8, parallelism=1, type=argon2.Type.I
    ).hash("x")
    assert hasher.needs_rehash(argon2i) is True
    assert hasher.needs_rehash("garbage") is True


def test_default_parameters() -> None:
    assert PasswordHasher(max_concurrency=1).parameters == (3, 65536, 4)


# -- policy ----------------------------------------------------------------------------------


def test_policy_accepts_a_reasonable_password() -> None:
    check_policy("correct horse battery staple")
    check_policy("x" * MAX_PASSWORD_LENGTH)
    check_policy("8 chars!")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "the password is too short: use at least 8 characters"),
        ("x" * (MAX_PASSWORD_LENGTH + 1), "the password is too long: use at most 1024 characters"),
        ("password", "the password is one of the most common ones: choose another"),
        ("PassWord1", "the password is one of the most common ones"),
        ("12345678", "the password is one of the most common ones"),
        ("\ud800\ud800\ud800\ud800\ud800\ud800\ud800\ud800", "invalid characters"),
    ],
)
def test_policy_refuses(password: str, message: str) -> None:
    with pytest.raises(PasswordPolicyError) as caught:
        check_policy(password)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert repr(password) not in str(caught.value)


def test_policy_counts_characters_after_normalization() -> None:
    # seven characters plus a combining accent: seven characters once composed
    with pytest.raises(PasswordPolicyError, match="too short"):
        check_policy("cafe\u0301xy")


def test_policy_refuses_the_username() -> None:
    with pytest.raises(PasswordPolicyError, match="must not be the username"):
        check_policy("AliceSmith", username="alicesmith")
    check_policy("AliceSmith", username="bob")


def test_policy_refuses_non_strings() -> None:
    with pytest.raises(PasswordPolicyError, match="must be a string"):
        check_policy(b"bytes password")  # type: ignore[arg-type]


def test_common_password_list() -> None:
    assert 100 <= len(COMMON_PASSWORDS) <= 200
    assert all(word == word.casefold() for word in COMMON_PASSWORDS)
