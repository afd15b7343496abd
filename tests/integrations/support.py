"""What the integration tests share: an issuer's keys, tokens, key providers, leak checks.

``Issuer`` signs tokens with a current key and publishes its public keys through providers
whose :class:`~jwtkit.KeySet` changes only on rotation (the same object until then, as the
``KeyProvider`` protocol asks). Time is a :class:`~jwtkit.testing.FrozenClock`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jwtkit
from jwtkit import JWTError, KeySet
from jwtkit.testing import FrozenClock

T0 = 1_700_000_000.0
ISSUER = "https://id.example"
AUDIENCE = "https://api.example"

_OLD = jwtkit.Key.generate("ES256", kid="key-1")
_NEW = jwtkit.Key.generate("ES256", kid="key-2")
#: A key nobody trusts.
STRANGER = jwtkit.Key.generate("ES256", kid="key-1")


class Issuer:
    """Signs tokens and rotates keys; its providers follow the published set."""

    def __init__(self) -> None:
        self.clock = FrozenClock(T0)
        self.current = _OLD
        self.published = KeySet([_OLD.public_key()])

    def token(
        self, key: jwtkit.Key | None = None, *, expires_in: float = 900, **claims: Any
    ) -> str:
        payload: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", **claims}
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwtkit.encode(
            payload,
            key if key is not None else self.current,
            algorithm="ES256",
            expires_in=expires_in,
            now=self.clock(),
        )

    def rotate(self) -> None:
        """Start signing with the new key; publish both (the old one keeps working)."""
        self.current = _NEW
        self.published = KeySet([_OLD.public_key(), _NEW.public_key()])

    def retire_old_key(self) -> None:
        """Remove the old key from the published set."""
        self.published = KeySet([_NEW.public_key()])

    def verifier(self, key: Any = None) -> jwtkit.Verifier:
        """A Verifier for this issuer on ``key`` (default: a sync provider of the set)."""
        return jwtkit.Verifier(
            key if key is not None else SyncProvider(self),
            algorithms=["ES256"],
            issuer=ISSUER,
            audience=AUDIENCE,
            clock=self.clock,
        )


class SyncProvider:
    """A KeyProvider over an issuer's published set (a JWKS client in miniature)."""

    def __init__(self, issuer: Issuer) -> None:
        self.issuer = issuer
        self.calls = 0

    def keyset_for(self, header: Mapping[str, Any]) -> KeySet:
        self.calls += 1
        return self.issuer.published


class AsyncProvider:
    """An AsyncKeyProvider only: works with ``adecode``, not with ``decode``."""

    def __init__(self, issuer: Issuer) -> None:
        self.issuer = issuer
        self.calls = 0

    async def keyset_for_async(self, header: Mapping[str, Any]) -> KeySet:
        self.calls += 1
        return self.issuer.published


class UnreachableProvider:
    """A provider whose issuer cannot be reached: the failure names a secret URL part."""

    def keyset_for(self, header: Mapping[str, Any]) -> KeySet:
        raise OSError("connect to https://secret-host.internal/jwks failed")


class AsyncUnreachableProvider:
    """The async form of :class:`UnreachableProvider`."""

    async def keyset_for_async(self, header: Mapping[str, Any]) -> KeySet:
        raise OSError("connect to https://secret-host.internal/jwks failed")


class FetchError(JWTError):
    """Like a JWKS client's own error (not about the token)."""

    code = "jwks_fetch_failed"


class FailingJWKSProvider:
    """A provider raising its own jwtkit error, as ``jwtkit.remote`` does when it has no keys."""

    def keyset_for(self, header: Mapping[str, Any]) -> KeySet:
        raise FetchError("GET https://secret-host.internal/jwks: 502")


class DualProvider(SyncProvider):
    """Sync and async, like ``jwtkit.remote.AsyncJWKSClient`` (whose sync side only reads
    its cache): still refused by synchronous frameworks."""

    async def keyset_for_async(self, header: Mapping[str, Any]) -> KeySet:
        self.calls += 1
        return self.issuer.published


def assert_no_leak(text: str, token: str | None = None) -> None:
    """Nothing internal in a response: no token, no exception text or class, no host."""
    lowered = text.lower()
    for marker in ("secret-host", "traceback", "oserror", "keynotfound", "fetcherror", "key-1"):
        assert marker not in lowered, (marker, text)
    if token is not None:
        for part in token.split("."):
            assert part not in text, text
