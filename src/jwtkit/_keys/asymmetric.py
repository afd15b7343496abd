"""What RSA, EC, OKP and AKP keys share: a ``cryptography`` key pair behind a :class:`Key`.

:class:`AsymmetricKey` keeps the public key's SubjectPublicKeyInfo DER (for equality, hashing
and the ``x5c`` check) and implements PEM export and :meth:`public_key` once for all four.
"""

from __future__ import annotations

import abc
import hmac
from collections.abc import Sequence
from typing import Any, TypeVar, cast

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from ..errors import InvalidKey
from .base import Key
from .requirements import PRIVATE_OPERATIONS

__all__ = ["AsymmetricKey", "encode_password", "public_key_ops"]

_AsymmetricT = TypeVar("_AsymmetricT", bound="AsymmetricKey")


def public_key_ops(key_ops: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """``key_ops`` without the operations only a private key can perform."""
    if key_ops is None:
        return None
    return tuple(op for op in key_ops if op not in PRIVATE_OPERATIONS)


def encode_password(password: bytes | str | None) -> bytes | None:
    """A PEM password as bytes (``str`` is UTF-8 encoded); empty passwords are refused."""
    if password is None:
        return None
    if isinstance(password, str):
        password = password.encode("utf-8")
    if not isinstance(password, bytes):
        raise InvalidKey(f"password: expected bytes or str, got {type(password).__name__}")
    if not password:
        raise InvalidKey("password: an empty password would not protect the key")
    return password


class AsymmetricKey(Key):
    """Base of :class:`RSAKey`, :class:`ECKey`, :class:`OKPKey` and :class:`AKPKey`."""

    _spki: bytes

    @abc.abstractmethod
    def _public_object(self) -> PublicKeyTypes:
        """The ``cryptography`` public key."""

    @abc.abstractmethod
    def _private_object(self) -> PrivateKeyTypes | None:
        """The ``cryptography`` private key, or ``None``."""

    def _rebuild_public(self, key_ops: Sequence[str] | None) -> AsymmetricKey:
        """A public-only copy of the same class, with the same metadata and ``key_ops``."""
        # Every subclass takes (key, *, kid, use, key_ops, alg, x5c, x5t, x5t_s256, ...).
        build: Any = type(self)
        return cast(
            "AsymmetricKey",
            build(
                self._public_object(),
                kid=self.kid,
                use=self.use,
                key_ops=key_ops,
                alg=self.alg,
                x5c=self.x5c,
                x5t=self.x5t,
                x5t_s256=self.x5t_s256,
                **self._rebuild_options(),
            ),
        )

    def _rebuild_options(self) -> dict[str, Any]:
        """Constructor options of a subclass that a public copy keeps (RSA: ``allow_weak``)."""
        return {}

    def _init_public(self, public: PublicKeyTypes) -> None:
        self._set(
            "_spki",
            public.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        )

    @property
    def is_private(self) -> bool:
        """``True`` when the private key is present."""
        return self._private_object() is not None

    def _spki_der(self) -> bytes | None:
        return self._spki

    def _pkcs8_der(self) -> bytes:
        private = self._private_object()
        assert private is not None  # noqa: S101 - callers check is_private first
        return private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def _same_material(self, other: Key) -> bool:
        assert isinstance(other, AsymmetricKey)  # noqa: S101 - __eq__ compares same classes
        if self._spki != other._spki or self.is_private != other.is_private:
            return False
        return not self.is_private or hmac.compare_digest(self._pkcs8_der(), other._pkcs8_der())

    def _material_hash(self) -> int:
        return hash(self._spki)

    def public_key(self: _AsymmetricT) -> _AsymmetricT:
        """The public half, keeping ``kid``/``use``/``alg``/``x5c`` and the public ``key_ops``."""
        if not self.is_private:
            return self
        # _rebuild_public builds the same class.
        return cast("_AsymmetricT", self._rebuild_public(public_key_ops(self.key_ops)))

    def to_pem(self, private: bool = False, password: bytes | str | None = None) -> bytes:
        """PEM PKCS#8 (``private=True``; encrypted with ``password``) or SPKI (public)."""
        if not private:
            if password is not None:
                raise InvalidKey("to_pem: a password only applies to a private key export")
            return self._public_object().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        secret = encode_password(password)
        private_key = self._private_object()
        if private_key is None:
            raise InvalidKey(f"{self._label()} is public; it has no private key to export")
        encryption: serialization.KeySerializationEncryption = (
            serialization.NoEncryption()
            if secret is None
            else serialization.BestAvailableEncryption(secret)
        )
        return private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
