"""Turning the ``key`` argument of sign/verify/encode/decode into trusted keys.

The argument may be a :class:`~jwtkit.jwk.Key`, a :class:`~jwtkit.jwk.KeySet`, a sequence of
keys, secret ``bytes``/``str`` (HMAC only), PEM or OpenSSH text (asymmetric only), or a callable
``(header) -> Key | KeySet`` that picks keys the caller trusts.

Rules (security matrix A2, A3, A4, F3):

* text that looks like PEM or an OpenSSH key is loaded as an asymmetric key; anything else
  becomes an :class:`~jwtkit.jwk.OctKey`, which refuses every form of public key, certificate,
  JWK or SSH key as a secret; so a public key can never act as an HMAC secret;
* keys are found by ``kid`` (an opaque string, A5) *and* by fitness for the header's algorithm;
  the key's type decides, never the header; a ``kid`` that names two different keys fitting
  the algorithm is ambiguous and refused (RFC 7517 §4.5), never settled by key order;
* a list of keys becomes a :class:`~jwtkit.jwk.KeySet`, so a list that mixes secrets and
  asymmetric keys is refused as such a set is (pass ``KeySet(keys, allow_mixed=True)``);
* header-supplied keys (``jwk``, ``jku``, ``x5u``, ``x5c``) are never consulted here; an
  ``x5c`` chain becomes a key only through a provider the caller builds from its own trust
  anchors (:class:`jwtkit.x509.X5CKeyProvider`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, cast, runtime_checkable

from ._messages import short
from .errors import AmbiguousKey, JWTError, KeyNotFound, UsageError
from .jwk import Key, KeySet, OctKey

__all__ = ["AsyncKeyProvider", "KeyArgument", "KeyProvider", "KeySource", "coerce_key"]


@runtime_checkable
class KeyProvider(Protocol):
    """Trusted keys that change over time, such as a remote JWK Set (``jwtkit.remote``).

    ``keyset_for(header)`` returns the current keys, and may fetch new ones when the header
    names a ``kid`` it does not know (the provider bounds how often). It must return the
    *same* :class:`KeySet` object for as long as the keys are unchanged: a
    :class:`~jwtkit.Verifier` keeps its per-key work for as long as that identity holds.
    Its errors should be :class:`~jwtkit.errors.JWTError` subclasses.
    """

    def keyset_for(self, header: Mapping[str, Any]) -> KeySet: ...


@runtime_checkable
class AsyncKeyProvider(Protocol):
    """The ``async`` form of :class:`KeyProvider`, used by ``Verifier.adecode``."""

    async def keyset_for_async(self, header: Mapping[str, Any]) -> KeySet: ...


KeyResolver = Callable[[Mapping[str, Any]], Key | KeySet]
#: What callers may pass as ``key``.
KeyArgument = (
    Key | KeySet | Sequence[Key] | bytes | str | KeyResolver | KeyProvider | AsyncKeyProvider
)

_ASYMMETRIC_TEXT_PREFIXES = (
    b"-----BEGIN",
    b"ssh-rsa ",
    b"ssh-ed25519 ",
    b"ssh-ed448 ",
    b"ecdsa-sha2-",
    b"sk-ssh-",
    b"sk-ecdsa-",
)


def coerce_key(value: bytes | str | Key, *, allow_weak: bool = False) -> Key:
    """A :class:`Key` from a key, PEM/OpenSSH text (asymmetric) or secret bytes/str (HMAC).

    ``allow_weak`` is passed on to the key read from text (short and well-known secrets, RSA
    below 2048 bits for verification); a key object is returned as it is.
    """
    if isinstance(value, Key):
        return value
    if isinstance(value, (bytes, str)):
        raw = value.encode("utf-8") if isinstance(value, str) else value
        if raw.strip().startswith(_ASYMMETRIC_TEXT_PREFIXES):
            return Key.from_pem(raw, allow_weak=allow_weak)
        return OctKey(raw, allow_weak=allow_weak)
    raise UsageError(
        f"key: expected a Key, KeySet, secret bytes/str or PEM, got {type(value).__name__}"
    )


class KeySource:
    """The caller's trusted keys, normalized once and queried per token."""

    __slots__ = ("_async_provider", "_keys", "_provider", "_resolver")

    def __init__(self, key: KeyArgument | None) -> None:
        self._keys: KeySet | None = None
        self._resolver: KeyResolver | None = None
        self._provider: KeyProvider | None = None
        self._async_provider: AsyncKeyProvider | None = None
        if key is None:
            self._keys = KeySet(())
        elif isinstance(key, KeySet):
            self._keys = key
        elif isinstance(key, (Key, bytes, str)):
            self._keys = KeySet((coerce_key(key),))
        elif isinstance(key, (KeyProvider, AsyncKeyProvider)):
            if isinstance(key, KeyProvider):
                self._provider = key
            if isinstance(key, AsyncKeyProvider):
                self._async_provider = key
        elif isinstance(key, Sequence):
            self._keys = KeySet(coerce_key(k) for k in cast("Sequence[Key]", key))
        elif callable(key):
            self._resolver = key
        else:
            raise UsageError(
                "key: expected a Key, KeySet, sequence of keys, secret bytes/str, PEM text, "
                f"a JWKS client or a callable(header) -> Key, got {type(key).__name__}"
            )

    @property
    def async_provider(self) -> AsyncKeyProvider | None:
        """The async key provider, when ``key`` was one (``Verifier.adecode`` awaits it)."""
        return self._async_provider

    @property
    def cacheable(self) -> bool:
        """``True`` when the keys are fixed or come from a provider (not a callable)."""
        return self._resolver is None

    def provider_keys(self, header: Mapping[str, Any]) -> KeySet | None:
        """The provider's current keys for ``header``; ``None`` for fixed keys or a callable."""
        provider = self._provider
        if provider is None:
            if self._async_provider is not None:
                raise UsageError(
                    "an async JWKS client needs 'await verifier.adecode(token)' (or a "
                    "synchronous JWKSClient for verifier.decode)"
                )
            return None
        return _checked_keyset(_call_provider(provider.keyset_for, header))

    async def async_provider_keys(self, header: Mapping[str, Any]) -> KeySet:
        """The async provider's keys for ``header`` (errors as :meth:`provider_keys`)."""
        provider = self._async_provider
        assert provider is not None  # noqa: S101 - callers check async_provider first
        try:
            keys = await provider.keyset_for_async(header)
        except JWTError:
            raise
        except Exception as exc:
            raise _provider_failed(exc, "key provider") from exc
        return _checked_keyset(keys)

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

    def candidates(
        self,
        header: Mapping[str, Any],
        alg: str,
        operation: str,
        keys: KeySet | None = None,
    ) -> tuple[Key, ...]:
        """Trusted keys for this header's ``kid`` that fit ``alg`` and ``operation``.

        ``keys`` overrides the source (the keys an async provider has just supplied).
        """
        if keys is None:
            keys = self._keys
        if keys is None:
            keys = self.provider_keys(header)
        if keys is None:
            assert self._resolver is not None  # noqa: S101 - one of them is always set
            found = _call_provider(self._resolver, header, "key resolver")
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
            if kid is not None and len(selected) > 1 and len(set(selected)) > 1:
                raise AmbiguousKey(
                    f"kid {short(kid)} names {len(set(selected))} trusted keys that fit "
                    f"{alg}; a kid must name one key (RFC 7517 §4.5): give each key "
                    "its own kid"
                )
            return selected
        if kid is not None:
            # A key given without a kid (a PEM file, a bare secret) is not bound to any kid: it
            # remains a candidate for tokens that name one, as the kid is only a hint
            # (RFC 7515 §4.1.4). Keys that do carry a kid must match it exactly.
            unnamed = tuple(k for k in keys.select(None, alg, operation) if k.kid is None)
            if unnamed:
                return unnamed
            if not keys.get(kid):
                raise KeyNotFound(f"no trusted key has kid {short(kid)}")
        # Say why the matching keys do not fit, from the first of them (no key material).
        for key in keys if kid is None else keys.get(kid):
            key.check_usable(alg, operation)
        raise KeyNotFound(f"no trusted key fits algorithm {short(alg)}")


def _call_provider(
    provider: Callable[[Mapping[str, Any]], Any],
    header: Mapping[str, Any],
    what: str = "key provider",
) -> Any:
    """Call a key resolver or provider; its own failures become jwtkit errors."""
    try:
        return provider(header)
    except JWTError:
        raise
    except Exception as exc:
        raise _provider_failed(exc, what) from exc


def _provider_failed(exc: Exception, what: str) -> KeyNotFound:
    """A provider's own failure (not a jwtkit error) as a jwtkit error naming only its type."""
    return KeyNotFound(f"the {what} failed: {type(exc).__name__}")


def _checked_keyset(keys: object) -> KeySet:
    if not isinstance(keys, KeySet):
        raise UsageError(f"the key provider must return a KeySet, got {type(keys).__name__}")
    return keys
