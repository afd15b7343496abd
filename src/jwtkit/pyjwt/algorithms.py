"""PyJWT's ``jwt.algorithms``: the algorithm classes and their JWK conversions, on jwtkit keys.

What PyJWT's documentation and the usual tutorials use is here:

* ``RSAAlgorithm.from_jwk(jwk)``, ``ECAlgorithm.from_jwk``, ``OKPAlgorithm.from_jwk``,
  ``RSAPSSAlgorithm.from_jwk``: a JWK (JSON text or a dict) to a ``cryptography`` key object
  (private when the JWK holds private members); ``HMACAlgorithm.from_jwk`` gives the secret
  bytes. The JWK is read by :meth:`jwtkit.Key.from_jwk`, so every member is checked (RFC 7517
  §4) and weak keys are refused (RSA below 2048 bits, well-known secrets).
* ``...Algorithm.to_jwk(key, as_dict=False)``: a ``cryptography`` key object (or secret
  bytes/str for HMAC) to a JWK, as JSON text or a dict, by :meth:`jwtkit.Key.to_jwk`.
* :func:`get_default_algorithms` and :func:`get_algorithm_by_name`: an algorithm object per
  name, whose ``compute_hash_digest`` is the hash of the algorithm (as OpenID Connect's
  ``at_hash`` needs, OpenID Connect Core 1.0 §3.1.3.6).

Not provided: ``prepare_key``, ``sign`` and ``verify`` on algorithm objects, the ``none``
algorithm, and ``register_algorithm``; sign and verify with :func:`jwtkit.pyjwt.encode` and
:func:`jwtkit.pyjwt.decode` (or :mod:`jwtkit.jws`). Unlike PyJWT, ``to_jwk`` does not add
``key_ops``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from cryptography.hazmat.primitives import hashes

from ..errors import InvalidKey
from ..jwa import DEFAULT_REGISTRY
from ..jwk import ECKey, Key, OctKey, OKPKey, RSAKey

__all__ = [
    "Algorithm",
    "ECAlgorithm",
    "HMACAlgorithm",
    "OKPAlgorithm",
    "RSAAlgorithm",
    "RSAPSSAlgorithm",
    "get_algorithm_by_name",
    "get_default_algorithms",
    "has_crypto",
]

#: PyJWT's flag for an installed ``cryptography``; jwtkit always has it.
has_crypto = True


def _read_jwk(jwk: str | bytes | Mapping[str, Any], kind: type[Key]) -> Key:
    key = Key.from_jwk(jwk)
    if not isinstance(key, kind):
        raise InvalidKey(f"JWK: expected kty {kind.kty!r}, got {key.kty!r}")
    return key


def _jwk_out(key: Key, as_dict: bool) -> dict[str, Any] | str:
    jwk = key.to_jwk(private=key.is_private)
    return jwk if as_dict else json.dumps(jwk)


class Algorithm:
    """An algorithm of one hash; ``compute_hash_digest`` hashes with it."""

    #: The hash, one of ``SHA256``, ``SHA384``, ``SHA512`` (``None``: no separate hash).
    hash_alg: type[hashes.HashAlgorithm] | None = None
    SHA256: ClassVar[type[hashes.HashAlgorithm]] = hashes.SHA256
    SHA384: ClassVar[type[hashes.HashAlgorithm]] = hashes.SHA384
    SHA512: ClassVar[type[hashes.HashAlgorithm]] = hashes.SHA512
    _kind: ClassVar[type[Key]]

    def __init__(self, hash_alg: type[hashes.HashAlgorithm] | None = None) -> None:
        self.hash_alg = hash_alg

    def compute_hash_digest(self, bytestr: bytes | str) -> bytes:
        """The digest of ``bytestr`` (text is UTF-8 encoded) with this algorithm's hash."""
        if self.hash_alg is None:
            raise NotImplementedError(f"{type(self).__name__} has no separate hash")
        if isinstance(bytestr, str):
            bytestr = bytestr.encode("utf-8")
        digest = hashes.Hash(self.hash_alg())
        digest.update(bytestr)
        return digest.finalize()

    @classmethod
    def from_jwk(cls, jwk: str | bytes | Mapping[str, Any]) -> Any:
        """The ``cryptography`` key object of a JWK (private when it holds private members)."""
        key = _read_jwk(jwk, cls._kind)
        return key.crypto_private_key or key.crypto_public_key  # type: ignore[attr-defined]

    @classmethod
    def to_jwk(cls, key_obj: Any, as_dict: bool = False) -> Any:
        """A JWK (JSON text, or a dict with ``as_dict=True``) of a ``cryptography`` key."""
        key = Key.from_cryptography(key_obj)
        if not isinstance(key, cls._kind):
            raise InvalidKey(f"{cls.__name__}.to_jwk: expected a {cls._kind.kty} key")
        return _jwk_out(key, as_dict)


class HMACAlgorithm(Algorithm):
    """HS256, HS384, HS512 (RFC 7518 §3.2): the key is the secret's bytes."""

    _kind = OctKey

    @classmethod
    def from_jwk(cls, jwk: str | bytes | Mapping[str, Any]) -> bytes:
        """The secret of an ``oct`` JWK."""
        key = _read_jwk(jwk, OctKey)
        assert isinstance(key, OctKey)  # noqa: S101 - _read_jwk checked the kind
        return key.secret

    @classmethod
    def to_jwk(cls, key_obj: Any, as_dict: bool = False) -> Any:
        """An ``oct`` JWK of secret bytes or text (refused: PEM, JWKs, well-known secrets)."""
        return _jwk_out(OctKey(key_obj), as_dict)


class RSAAlgorithm(Algorithm):
    """RS256, RS384, RS512 (RFC 7518 §3.3)."""

    _kind = RSAKey


class RSAPSSAlgorithm(RSAAlgorithm):
    """PS256, PS384, PS512 (RFC 7518 §3.5)."""


class ECAlgorithm(Algorithm):
    """ES256, ES256K, ES384, ES512 (RFC 7518 §3.4, RFC 8812 §3.2)."""

    _kind = ECKey


class OKPAlgorithm(Algorithm):
    """EdDSA with Ed25519 or Ed448 (RFC 8037 §3.1); no separate hash."""

    _kind = OKPKey


_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
_FAMILIES: dict[str, type[Algorithm]] = {
    "HS": HMACAlgorithm,
    "RS": RSAAlgorithm,
    "PS": RSAPSSAlgorithm,
    "ES": ECAlgorithm,
}


#: Names without a PyJWT algorithm class: ML-DSA (RFC 9964) is signed and verified by
#: :func:`jwtkit.pyjwt.encode`/``decode`` with AKP keys, but PyJWT has no class to mirror.
_WITHOUT_CLASS = frozenset({"ML-DSA-44", "ML-DSA-65", "ML-DSA-87"})


def _algorithm(name: str) -> Algorithm:
    family = _FAMILIES.get(name[:2])
    if family is None:
        return OKPAlgorithm()
    return family(_HASHES[name[2:5]])


def get_default_algorithms() -> dict[str, Algorithm]:
    """An algorithm object for each signature algorithm jwtkit offers by default."""
    names = DEFAULT_REGISTRY.signature_names - _WITHOUT_CLASS
    return {name: _algorithm(name) for name in sorted(names)}


def get_algorithm_by_name(alg_name: str) -> Algorithm:
    """The algorithm object of ``alg_name`` (``NotImplementedError`` for an unknown name, as
    in PyJWT)."""
    if DEFAULT_REGISTRY.signature(alg_name) is None or alg_name in _WITHOUT_CLASS:
        raise NotImplementedError(f"Algorithm {alg_name!r} is not supported")
    return _algorithm(alg_name)
