"""Turning the ``key`` argument of sign/verify/encode/decode into trusted keys.

The argument may be a :class:`~jwtkit.jwk.Key`, a :class:`~jwtkit.jwk.KeySet`, a sequence of
keys, secret ``bytes``/``str`` (HMAC only), PEM or OpenSSH text (asymmetric only), or a callable
``(header) -> Key | KeySet`` that picks keys the caller trusts.

Rules (security matrix A2, A3, A4, F3):

* text that looks like PEM or an OpenSSH key is loaded as an asymmetric key; anything else
  becomes an :class:`~jwtkit.jwk.OctKey`, which refuses every form of public key, certificate,
  JWK or SSH key as a secret; so a public key can never act as an HMAC secret;
* keys are found by ``kid`` (an opaque string, A5) *and* by fitness for the header's algorithm;
  the key's type decides, never the header;
* header-supplied keys (``jwk``, ``jku``, ``x5u``, ``x5c``) are never consulted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from ._messages import short
from .errors import InvalidKey, KeyNotFound, UsageError
from .jwk import Key, KeySet, OctKey

__all__ = ["KeyArgument", "KeySource", "coerce_key"]

KeyResolver = Callable[[Mapping[str, Any]], Key | KeySet]
#: What callers may pass as ``key``.
KeyArgument = Key | KeySet | Sequence[Key] | bytes | str | KeyResolver

_ASYMMETRIC_TEXT_PREFIXES = (
    b"-----BEGIN",
    b"ssh-rsa ",
    b"ssh-ed25519 ",
    b"ssh-ed448 ",
    b"ecdsa-sha2-",
    b"sk-ssh-",
    b"sk-ecdsa-",
)


def coerce_key(value: bytes | str | Key) -> Key:
    """A :class:`Key` from a key, PEM/OpenSSH text (asymmetric) or secret bytes/str (HMAC)."""
    if isinstance(value, Key):
        return value
    if isinstance(value, (bytes, str)):
        raw = value.encode("utf-8") if isinstance(value, str) else value
        if raw.strip().startswith(_ASYMMETRIC_TEXT_PREFIXES):
            return Key.from_pem(raw)
        return OctKey(raw)
    raise UsageError(
        f"key: expected a Key, KeySet, secret bytes/str or PEM, got {type(value).__name__}"
    )


class KeySource:
    """The caller's trusted keys, normalized once and queried per token."""

    __slots__ = ("_keys", "_resolver")

    def __init__(self, key: KeyArgument | None) -> None:
        self._keys: KeySet | None = None
        self._resolver: KeyResolver | None = None
        if key is None:
            self._keys = KeySet(())
        elif isinstance(key, KeySet):
            self._keys = key
        elif isinstance(key, (Key, bytes, str)):
            self._keys = KeySet((coerce_key(key),))
        elif isinstance(key, Sequence):
            self._keys = KeySet(coerce_key(k) for k in cast("Sequence[Key]", key))
        elif callable(key):
            self._resolver = key
        else:
            raise UsageError(
                "key: expected a Key, KeySet, sequence of keys, secret bytes/str, PEM text or "
                f"a callable(header) -> Key, got {type(key).__name__}"
            )

    @property
    def is_empty(self) -> bool:
        """``True`` when no key was given (only ``none`` can then verify)."""
        return self._keys is not None and len(self._keys) == 0

    @property
    def static_keys(self) -> KeySet | None:
        """The fixed keys, or ``None`` when a callable picks keys per token."""
        return self._keys

    def default_algorithms(self) -> frozenset[str] | None:
        """The keys' own ``alg`` values when every key has one, else ``None`` (no default)."""
        if self._keys is None or len(self._keys) == 0:
            return None
        algs = {key.alg for key in self._keys}
        if None in algs:
            return None
        return frozenset(a for a in algs if a is not None)

    def candidates(self, header: Mapping[str, Any], alg: str, operation: str) -> tuple[Key, ...]:
        """Trusted keys for this header's ``kid`` that fit ``alg`` and ``operation``."""
        keys = self._keys
        if keys is None:
            assert self._resolver is not None  # noqa: S101 - one of the two is always set
            try:
                found = self._resolver(header)
            except Exception as exc:  # a resolver's own error becomes a jwtkit error
                if isinstance(exc, InvalidKey):
                    raise
                raise KeyNotFound(f"the key resolver failed: {type(exc).__name__}") from exc
            if isinstance(found, Key):
                keys = KeySet((found,))
            elif isinstance(found, KeySet):
                keys = found
            else:
                raise UsageError(
                    f"the key resolver must return a Key or KeySet, got {type(found).__name__}"
                )
        kid = header.get("kid")
        selected = keys.select(kid, alg, operation)
        if selected:
            return selected
        if kid is not None and not keys.get(kid):
            raise KeyNotFound(f"no trusted key has kid {short(kid)}")
        # Say why the matching keys do not fit, from the first of them (no key material).
        for key in keys if kid is None else keys.get(kid):
            key.check_usable(alg, operation)
        raise KeyNotFound(f"no trusted key fits algorithm {short(alg)}")
