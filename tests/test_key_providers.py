"""Key providers: keys that change over time (a JWKS client), sync and async.

The Verifier keeps per-key work for as long as the provider returns the same KeySet object,
picks up new keys when the object changes, and turns a provider's own failures into jwtkit
errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

import jwtkit
from jwtkit import KeyNotFound, KeySet, UsageError


class RotatingProvider:
    """A KeyProvider whose key set can be swapped, counting how often it is asked."""

    def __init__(self, keys: KeySet) -> None:
        self.keys = keys
        self.calls = 0

    def keyset_for(self, header: Mapping[str, Any]) -> KeySet:
        self.calls += 1
        return self.keys


class AsyncProvider:
    """An AsyncKeyProvider only (no synchronous access)."""

    def __init__(self, keys: KeySet) -> None:
        self.keys = keys
        self.calls = 0

    async def keyset_for_async(self, header: Mapping[str, Any]) -> KeySet:
        self.calls += 1
        await asyncio.sleep(0)
        return self.keys


@pytest.fixture(scope="module")
def old_key() -> jwtkit.Key:
    return jwtkit.Key.generate("ES256", kid="old")


@pytest.fixture(scope="module")
def new_key() -> jwtkit.Key:
    return jwtkit.Key.generate("ES256", kid="new")


def test_verifier_uses_provider_keys_and_follows_rotation(
    old_key: jwtkit.Key, new_key: jwtkit.Key
) -> None:
    provider = RotatingProvider(KeySet([old_key.public_key()]))
    verifier = jwtkit.Verifier(provider, algorithms=["ES256"])
    old_token = jwtkit.encode({"sub": "1"}, old_key)
    assert verifier.decode(old_token) == {"sub": "1"}
    assert verifier.decode(old_token) == {"sub": "1"}  # cached checks, same key set
    assert provider.calls == 2  # asked once per token

    new_token = jwtkit.encode({"sub": "2"}, new_key)
    with pytest.raises(KeyNotFound):
        verifier.decode(new_token)
    provider.keys = KeySet([new_key.public_key()])  # the issuer rotated
    assert verifier.decode(new_token) == {"sub": "2"}
    with pytest.raises(KeyNotFound):  # the cached entry of the old key is not reused
        verifier.decode(old_token)


def test_jws_verify_and_one_shot_decode_accept_a_provider(old_key: jwtkit.Key) -> None:
    provider = RotatingProvider(KeySet([old_key.public_key()]))
    token = jwtkit.encode({"sub": "1"}, old_key)
    assert jwtkit.decode(token, provider, algorithms=["ES256"]) == {"sub": "1"}
    assert jwtkit.jws.verify(token, provider, algorithms=["ES256"]).key == old_key.public_key()


def test_provider_needs_an_allow_list(old_key: jwtkit.Key) -> None:
    with pytest.raises(UsageError, match="algorithms is required"):
        jwtkit.Verifier(RotatingProvider(KeySet([old_key.public_key()])))


def test_provider_failures_become_jwtkit_errors(old_key: jwtkit.Key) -> None:
    class Broken:
        def keyset_for(self, header: Mapping[str, Any]) -> KeySet:
            raise ConnectionError("network down")

    class WrongType:
        def keyset_for(self, header: Mapping[str, Any]) -> Any:
            return [old_key]

    token = jwtkit.encode({"sub": "1"}, old_key)
    with pytest.raises(KeyNotFound, match="the key provider failed: ConnectionError"):
        jwtkit.Verifier(Broken(), algorithms=["ES256"]).decode(token)
    with pytest.raises(UsageError, match="must return a KeySet"):
        jwtkit.Verifier(WrongType(), algorithms=["ES256"]).decode(token)


@pytest.mark.anyio
async def test_adecode_awaits_an_async_provider(old_key: jwtkit.Key, new_key: jwtkit.Key) -> None:
    provider = AsyncProvider(KeySet([old_key.public_key()]))
    verifier = jwtkit.Verifier(provider, algorithms=["ES256"])
    token = jwtkit.encode({"sub": "1"}, old_key)
    assert await verifier.adecode(token) == {"sub": "1"}
    assert await verifier.adecode(token) == {"sub": "1"}
    complete = await verifier.adecode_complete(token)
    assert complete.key == old_key.public_key()
    assert provider.calls == 3
    provider.keys = KeySet([new_key.public_key()])
    assert await verifier.adecode(jwtkit.encode({"sub": "2"}, new_key)) == {"sub": "2"}
    with pytest.raises(UsageError, match="adecode"):
        verifier.decode(token)


@pytest.mark.anyio
async def test_adecode_with_fixed_keys_and_failing_async_providers(old_key: jwtkit.Key) -> None:
    token = jwtkit.encode({"sub": "1"}, old_key)
    fixed = jwtkit.Verifier(old_key.public_key(), algorithms=["ES256"])
    assert await fixed.adecode(token) == {"sub": "1"}
    assert (await fixed.adecode_complete(token)).claims == {"sub": "1"}

    class Broken:
        async def keyset_for_async(self, header: Mapping[str, Any]) -> KeySet:
            raise TimeoutError

    class Refusing:
        async def keyset_for_async(self, header: Mapping[str, Any]) -> KeySet:
            raise KeyNotFound("unknown kid")

    class WrongType:
        async def keyset_for_async(self, header: Mapping[str, Any]) -> Any:
            return None

    with pytest.raises(KeyNotFound, match="the key provider failed: TimeoutError"):
        await jwtkit.Verifier(Broken(), algorithms=["ES256"]).adecode(token)
    with pytest.raises(KeyNotFound, match="unknown kid"):
        await jwtkit.Verifier(Refusing(), algorithms=["ES256"]).adecode(token)
    with pytest.raises(UsageError, match="must return a KeySet"):
        await jwtkit.Verifier(WrongType(), algorithms=["ES256"]).adecode(token)
    with pytest.raises(jwtkit.MalformedToken):
        await jwtkit.Verifier(Broken(), algorithms=["ES256"]).adecode("not a token")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
