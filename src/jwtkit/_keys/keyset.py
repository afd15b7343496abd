"""JWK Sets: :class:`KeySet` and :class:`SkippedKey` (RFC 7517 §5).

A set imported from JSON keeps every key it can use and records each one it cannot, with the
reason, instead of failing as a whole (RFC 7517 §5, security matrix F2). Selection is by
``kid`` *and* algorithm: a key of another type is never returned, even when two keys share a
``kid`` (F3; RFC 7520 uses one ``kid`` for an RSA and an EC key). Two keys that share a
``kid`` *and* fit one algorithm are ambiguous: the key source refuses a token that names that
``kid`` (:class:`~jwtkit.errors.AmbiguousKey`, RFC 7517 §4.5).

A set is either secret (``oct`` keys only) or asymmetric: a set that mixes them is refused
unless built with ``allow_mixed=True``. A published set holding a secret leaks it, and a
mixed set is what algorithm-confusion attacks need (RFC 8725 §2.1 and §3.1, security matrix
A2). Every set is built by the :class:`KeySet` constructor, so this is checked in one place:
for sets built by hand, by :meth:`KeySet.from_jwks`, and from a list passed as ``key``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from .._codec import json_loads_object
from .._messages import short
from ..errors import InvalidKey, JWTError
from .base import Key

__all__ = ["KeySet", "SkippedKey", "mixed_secret"]


@dataclass(frozen=True)
class SkippedKey:
    """A member of a JWK Set that was left out: its position, its ``kid`` (if a string) and why."""

    index: int
    kid: str | None
    reason: str


def mixed_secret(keys: Iterable[Key]) -> bool:
    """``True`` when ``keys`` hold a secret (``oct``) key *and* a public asymmetric key."""
    kinds = {"secret" if key.kty == "oct" else "private" if key.is_private else "public"
             for key in keys}  # fmt: skip
    return {"secret", "public"} <= kinds


_MIXED_REASON = (
    "a symmetric ('oct') key beside public keys: a set that mixes them leaks the secret when "
    "published and invites algorithm confusion (RFC 8725 §3.1); keep secrets in a set of "
    "their own, or pass allow_mixed=True"
)


class KeySet:
    """An immutable, ordered collection of keys, usually from a JWK Set document.

    Secret (``oct``) keys beside public keys only with ``allow_mixed=True``
    (:class:`~jwtkit.errors.InvalidKey` otherwise; see the module text).
    """

    __slots__ = ("keys", "skipped")

    keys: tuple[Key, ...]
    skipped: tuple[SkippedKey, ...]

    def __init__(
        self,
        keys: Iterable[Key],
        *,
        skipped: Iterable[SkippedKey] = (),
        allow_mixed: bool = False,
    ) -> None:
        collected = tuple(keys)
        for index, key in enumerate(collected):
            if not isinstance(key, Key):
                raise InvalidKey(f"KeySet: item {index} is a {type(key).__name__}, not a Key")
        if not allow_mixed and mixed_secret(collected):
            raise InvalidKey(f"KeySet: {_MIXED_REASON}")
        object.__setattr__(self, "keys", collected)
        object.__setattr__(self, "skipped", tuple(skipped))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("KeySet objects are immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("KeySet objects are immutable")

    @classmethod
    def from_jwks(
        cls,
        jwks: Mapping[str, Any] | str | bytes,
        *,
        allow_weak: bool = False,
        allow_mixed: bool = False,
    ) -> KeySet:
        """Import a JWK Set (a mapping or its JSON text).

        In a set that mixes secret (``oct``) keys with public keys the secret members are
        skipped, with a reason, unless ``allow_mixed=True`` (RFC 8725 §3.1).

        ``"keys"`` must be an array (else :class:`~jwtkit.errors.InvalidKey`; bad JSON text
        raises :class:`~jwtkit.errors.MalformedToken`). Members that cannot be used (unknown
        ``kty``, bad or weak parameters, a non-string ``kid``, not an object) are skipped and
        listed in :attr:`skipped` with a reason (RFC 7517 §5, security matrix F2, A5).
        """
        if isinstance(jwks, str):
            jwks = jwks.encode("utf-8", "surrogatepass")
        if isinstance(jwks, (bytes, bytearray, memoryview)):
            jwks = json_loads_object(bytes(jwks), "JWK Set")
        if not isinstance(jwks, Mapping):
            raise InvalidKey(f"JWK Set: expected a JSON object, got {type(jwks).__name__}")
        members = jwks.get("keys")
        if not isinstance(members, list):
            raise InvalidKey("JWK Set: the 'keys' member must be an array (RFC 7517 §5.1)")
        keys: list[tuple[int, Key]] = []
        skipped: list[SkippedKey] = []
        for index, member in enumerate(members):
            if not isinstance(member, Mapping):
                skipped.append(SkippedKey(index, None, "not a JSON object"))
                continue
            kid = member.get("kid")
            if "kid" in member and not isinstance(kid, str):
                skipped.append(SkippedKey(index, None, f"'kid' is not a string: {short(kid)}"))
                continue
            try:
                keys.append((index, Key.from_jwk(member, allow_weak=allow_weak)))
            except JWTError as exc:
                skipped.append(SkippedKey(index, kid, exc.message))
        if not allow_mixed and mixed_secret(key for _, key in keys):
            skipped.extend(
                SkippedKey(index, key.kid, _MIXED_REASON) for index, key in keys if key.kty == "oct"
            )
            skipped.sort(key=lambda entry: entry.index)
            keys = [(index, key) for index, key in keys if key.kty != "oct"]
        return cls((key for _, key in keys), skipped=skipped, allow_mixed=allow_mixed)

    def to_jwks(self, private: bool = False) -> dict[str, Any]:
        """The set as a JWK Set dict; see :meth:`Key.to_jwk` for ``private``."""
        return {"keys": [key.to_jwk(private=private) for key in self.keys]}

    def get(self, kid: str) -> tuple[Key, ...]:
        """Every key whose ``kid`` equals ``kid`` exactly, in set order."""
        if not isinstance(cast(object, kid), str):
            return ()
        return tuple(key for key in self.keys if key.kid == kid)

    def select(self, kid: str | None, alg: str, operation: str) -> tuple[Key, ...]:
        """Keys with this ``kid`` (any key when ``kid`` is ``None``) usable for ``alg`` and
        ``operation`` (:meth:`Key.check_usable`), in set order (security matrix F3, A5).

        A ``kid`` that is not a string matches nothing.
        """
        if kid is not None and not isinstance(cast(object, kid), str):
            return ()
        found = []
        for key in self.keys:
            if kid is not None and key.kid != kid:
                continue
            try:
                key.check_usable(alg, operation)
            except InvalidKey:
                continue
            found.append(key)
        return tuple(found)

    def __iter__(self) -> Iterator[Key]:
        return iter(self.keys)

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, index: int) -> Key:
        return self.keys[index]

    def __contains__(self, item: object) -> bool:
        return item in self.keys

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KeySet):
            return NotImplemented
        return self.keys == other.keys

    def __hash__(self) -> int:
        return hash(self.keys)

    def __repr__(self) -> str:
        kinds = ", ".join(repr(key) for key in self.keys)
        skipped = f", {len(self.skipped)} skipped" if self.skipped else ""
        return f"<KeySet {len(self.keys)} keys{skipped}: [{kinds}]>"
