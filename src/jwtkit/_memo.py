"""The memo of the one-shot calls, and its one keying rule.

``jwtkit.encode``, ``jwtkit.decode``/``decode_complete`` and ``jwtkit.jwe.decrypt``/
``decrypt_json`` check their arguments and prepare per-key work (an HMAC key, padding objects,
the keys that fit a ``kid``) once, and share it with later calls that pass the same arguments.
Two calls share only when nothing that changes the outcome differs (attack finding 6):

* a :class:`~jwtkit.jwk.Key`, a :class:`~jwtkit.jwk.KeySet` or a key provider stands for
  itself (by identity), never for an equal one: key equality (RFC 7517 material and metadata)
  leaves out what a key admits (``allow_weak``), and a result names the caller's own key
  object. The memo holds the objects its entries were keyed by, so that their ``id`` cannot
  pass to another object while the entry lives;
* secret or PEM text (exact ``bytes`` or ``str``) by value;
* a list or tuple of keys and secrets item by item, read at the call (a list may change after
  it);
* other arguments (allow-lists, audiences, options, limits) by value *and* type: ``1``,
  ``1.0`` and ``True`` are equal in Python but not interchangeable, nor is ``"dir"`` and a
  ``str`` subclass that merely equals it;
* anything else is not shared: a key resolver may answer differently each time, a
  ``bytearray`` may change, an iterator can be read only once.

The memo is small and bounded; the oldest entry is dropped first. Nothing is stored before
the prepared work was built without error, and it holds no more than the arguments already do.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import Any, Final, Generic, TypeVar, cast

from .jwk import AKPKey, ECKey, Key, KeySet, OctKey, OKPKey, RSAKey

__all__ = ["UNSHARED", "SharedMemo", "held", "key_part", "value_part"]

V = TypeVar("V")


class _Unshared:
    """The memo key part of an argument whose calls must not share prepared work."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSHARED"


#: What :func:`key_part` answers for an argument that must not be shared.
UNSHARED: Final = _Unshared()

# Types whose objects stand for themselves, tested before the slower isinstance.
_IDENTITY_TYPES = frozenset({OctKey, RSAKey, ECKey, OKPKey, AKPKey, KeySet})
_SEQUENCES = (list, tuple)


def key_part(key: object) -> Hashable:
    """The memo key part of a ``key`` argument, or :data:`UNSHARED` (see the module text)."""
    kind = type(key)
    if kind is bytes or kind is str or key is None:
        return key
    if kind in _IDENTITY_TYPES:
        return id(key)
    if kind is list or kind is tuple:
        parts = []
        for item in cast("Iterable[object]", key):
            part = key_part(item)
            if part is UNSHARED or isinstance(item, _SEQUENCES):
                return UNSHARED
            parts.append(part)
        return ("keys", *parts)
    if isinstance(key, (Key, KeySet)):
        return id(key)
    if callable(key) or isinstance(key, (bytes, str, bytearray, memoryview)):
        return UNSHARED  # a key resolver; mutable or subclassed text
    return id(key)  # a key provider (or a value the call itself refuses)


def held(key: object) -> object:
    """What the memo must hold for :func:`key_part`'s identities to stay valid."""
    return tuple(cast("Iterable[object]", key)) if isinstance(key, _SEQUENCES) else key


def value_part(value: object) -> Hashable:
    """A hashable stand-in for any other argument that compares like the value *and* its type
    do; raises ``TypeError`` for a value that must not be shared (an iterator, unhashable)."""
    kind = type(value)
    if value is None or kind is str or kind is bytes:
        return value
    if kind is int or kind is float or kind is bool:
        return (kind, value)
    if kind is list or kind is tuple:
        items = tuple(cast("Iterable[object]", value))
        for item in items:
            if type(item) is not str:  # names are the usual items: kept as they are
                return (kind, tuple(value_part(v) for v in items))
        return (kind, items)
    if kind is set or kind is frozenset:
        return (kind, frozenset(value_part(v) for v in cast("Iterable[object]", value)))
    if isinstance(value, Mapping):
        pairs: list[Any] = sorted((value_part(k), value_part(v)) for k, v in value.items())
        return ("mapping", tuple(pairs))
    if isinstance(value, Iterator):
        raise TypeError("an iterator can be read once")
    hash(value)  # TypeError for unhashable values
    return (kind, value)


class SharedMemo(Generic[V]):
    """A bounded map from argument signatures to prepared work, safe to share between threads.

    ``get(signature)`` is one dictionary lookup (the dictionary's own ``get``); ``put`` stores
    the value with the objects it must hold and drops the oldest entry beyond ``maximum``.
    """

    __slots__ = ("_held", "_lock", "_values", "get", "maximum")

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self._values: dict[Hashable, V] = {}
        self._held: dict[Hashable, tuple[object, ...]] = {}
        self._lock = threading.Lock()
        #: The value stored for a signature, or ``None``.
        self.get: Callable[[Hashable], V | None] = self._values.get

    def put(self, signature: Hashable, value: V, *holding: object) -> None:
        """Store ``value`` for ``signature``, holding ``holding`` for as long as it is kept."""
        with self._lock:
            self._values[signature] = value
            self._held[signature] = holding
            while len(self._values) > self.maximum:
                oldest = next(iter(self._values))
                del self._values[oldest], self._held[oldest]

    def values(self) -> list[V]:
        """The stored values, oldest first (a snapshot)."""
        with self._lock:
            return list(self._values.values())

    def __len__(self) -> int:
        return len(self._values)
