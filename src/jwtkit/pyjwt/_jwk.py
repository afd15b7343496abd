"""PyJWT's ``PyJWK`` and ``PyJWKSet`` over jwtkit's :class:`~jwtkit.Key` and
:class:`~jwtkit.KeySet`.

A ``PyJWK`` holds the jwtkit key read from the JWK (every member checked, RFC 7517 §4) and
the algorithm it is for: the one given, else the JWK's ``alg``, else the one PyJWT infers from
``kty`` and ``crv`` (``RS256``, ``ES256``/``ES384``/``ES512``/``ES256K``, ``HS256``, ``EdDSA``).
``.key`` is what PyJWT gives there: the ``cryptography`` key object (secret bytes for ``oct``).
Passed as ``key`` to :func:`jwtkit.pyjwt.decode`, it stands for its jwtkit key, and its
algorithm becomes the allow-list when ``algorithms`` is not given (as in PyJWT).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .._messages import short
from ..errors import InvalidKey, JWTError
from ..jwk import Key, KeySet, OctKey
from .algorithms import Algorithm, get_default_algorithms

__all__ = ["PyJWK", "PyJWKSet"]

_EC_ALGORITHMS = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512", "secp256k1": "ES256K"}


def _inferred_algorithm(key: Key) -> str:
    """PyJWT's algorithm for a JWK without ``alg``, from its ``kty`` and ``crv``."""
    crv = getattr(key, "crv", None)
    if key.kty == "RSA":
        return "RS256"
    if key.kty == "oct":
        return "HS256"
    if key.kty == "EC" and crv in _EC_ALGORITHMS:
        return _EC_ALGORITHMS[crv]
    if crv in {"Ed25519", "Ed448"}:
        return "EdDSA"
    raise InvalidKey(f"JWK: no signature algorithm for kty {key.kty!r} with crv {short(crv)}")


class PyJWK:
    """A JSON Web Key (RFC 7517) for one signature algorithm, as PyJWT's ``PyJWK``.

    ``jwk_data`` is the JWK as a dict; ``algorithm`` overrides its ``alg``. Raises
    :class:`~jwtkit.pyjwt.exceptions.PyJWKError` (jwtkit's ``InvalidKey``) when the JWK is not
    a usable key for a known signature algorithm.
    """

    def __init__(self, jwk_data: Mapping[str, Any], algorithm: str | None = None) -> None:
        if not isinstance(jwk_data, Mapping):
            raise InvalidKey(f"JWK: expected a dict, got {type(jwk_data).__name__}")
        self._init(Key.from_jwk(jwk_data), algorithm)

    def _init(self, key: Key, algorithm: str | None) -> None:
        name = algorithm or key.alg or _inferred_algorithm(key)
        algorithms = get_default_algorithms()
        if name not in algorithms:
            raise InvalidKey(f"JWK: {short(name)} is not a supported signature algorithm")
        if not key.supports(name):
            raise InvalidKey(f"JWK: a {key.kty} key cannot be used with {name}")
        self._key = key
        #: The algorithm the key is for.
        self.algorithm_name: str = name
        #: PyJWT's algorithm object of :attr:`algorithm_name`.
        self.Algorithm: Algorithm = algorithms[name]

    @classmethod
    def _of(cls, key: Key) -> PyJWK:
        """A PyJWK around a jwtkit key already read (a member of a key set)."""
        self = cls.__new__(cls)
        self._init(key, None)
        return self

    @staticmethod
    def from_dict(obj: Mapping[str, Any], algorithm: str | None = None) -> PyJWK:
        """A :class:`PyJWK` from a JWK dict."""
        return PyJWK(obj, algorithm)

    @staticmethod
    def from_json(data: str | bytes, algorithm: str | None = None) -> PyJWK:
        """A :class:`PyJWK` from JWK JSON text (read strictly, as jwtkit reads every JWK)."""
        self = PyJWK.__new__(PyJWK)
        self._init(Key.from_jwk(data), algorithm)
        return self

    @property
    def jwtkit_key(self) -> Key:
        """The jwtkit :class:`~jwtkit.Key` this wraps."""
        return self._key

    @property
    def key(self) -> Any:
        """The ``cryptography`` key object (private when present), or the secret bytes."""
        key = self._key
        if isinstance(key, OctKey):
            return key.secret
        return key.crypto_private_key or key.crypto_public_key  # type: ignore[attr-defined]

    @property
    def key_type(self) -> str | None:
        """The JWK's ``kty``."""
        return self._key.kty

    @property
    def key_id(self) -> str | None:
        """The JWK's ``kid``."""
        return self._key.kid

    @property
    def public_key_use(self) -> str | None:
        """The JWK's ``use``."""
        return self._key.use

    def __repr__(self) -> str:
        return f"PyJWK({self._key!r}, algorithm={self.algorithm_name!r})"


class PyJWKSet:
    """A JWK Set (RFC 7517 §5), as PyJWT's ``PyJWKSet``: ``keys`` holds a :class:`PyJWK` per
    usable member; members that are not usable are skipped (``skipped`` says why).

    Raises :class:`~jwtkit.pyjwt.exceptions.PyJWKSetError` (jwtkit's ``InvalidKey``) when
    ``keys`` is empty, not a list, or holds no usable key.
    """

    def __init__(self, keys: list[Any]) -> None:
        if not keys:
            raise InvalidKey("JWK Set: the set holds no keys")
        self._init(KeySet.from_jwks({"keys": keys}, allow_mixed=True))

    def _init(self, keyset: KeySet) -> None:
        reasons = [f"#{entry.index}: {entry.reason}" for entry in keyset.skipped]
        self.keys: list[PyJWK] = []
        for key in keyset:
            try:
                self.keys.append(PyJWK._of(key))
            except JWTError as exc:
                reasons.append(f"kid {short(key.kid)}: {exc.message}")
        if not self.keys:
            raise InvalidKey(f"JWK Set: no usable keys ({'; '.join(reasons)})")
        #: Why members were left out, one line each.
        self.skipped: tuple[str, ...] = tuple(reasons)
        self._keyset = keyset

    @classmethod
    def _of(cls, keyset: KeySet) -> PyJWKSet:
        self = cls.__new__(cls)
        self._init(keyset)
        return self

    @staticmethod
    def from_dict(obj: Mapping[str, Any]) -> PyJWKSet:
        """A :class:`PyJWKSet` from a JWK Set dict (``{"keys": [...]}``)."""
        keys = obj.get("keys", [])
        return PyJWKSet(keys)

    @staticmethod
    def from_json(data: str | bytes) -> PyJWKSet:
        """A :class:`PyJWKSet` from JWK Set JSON text."""
        keyset = KeySet.from_jwks(data, allow_mixed=True)
        if not keyset.keys and not keyset.skipped:
            raise InvalidKey("JWK Set: the set holds no keys")
        return PyJWKSet._of(keyset)

    @property
    def jwtkit_keyset(self) -> KeySet:
        """The jwtkit :class:`~jwtkit.KeySet` this wraps (usable for ``key=`` too)."""
        return self._keyset

    def __getitem__(self, kid: str) -> PyJWK:
        for key in self.keys:
            if key.key_id == kid:
                return key
        raise KeyError(f"keyset has no key for kid: {short(kid)}")

    def __iter__(self) -> Iterator[PyJWK]:
        return iter(self.keys)

    def __len__(self) -> int:
        return len(self.keys)
