"""Octet key pairs: :class:`OKPKey` (``kty: "OKP"``, RFC 8037 §2).

Curves: Ed25519 and Ed448 (signatures, RFC 8037 §3.1, RFC 9864), X25519 and X448 (ECDH-ES,
RFC 8037 §3.2). ``x`` and ``d`` must have exactly the curve's length, and a private ``d`` must
produce exactly ``x``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, x448, x25519

from .._codec import b64url_encode
from .._messages import short
from ..errors import InvalidKey
from .asymmetric import AsymmetricKey
from .members import b64_member, metadata_kwargs, string_member

__all__ = ["OKP_CURVES", "OKPKey", "OKPPrivateKey", "OKPPublicKey"]

OKPPublicKey = (
    ed25519.Ed25519PublicKey | ed448.Ed448PublicKey | x25519.X25519PublicKey | x448.X448PublicKey
)
OKPPrivateKey = (
    ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
    | x25519.X25519PrivateKey
    | x448.X448PrivateKey
)

#: JWK ``crv`` -> (public class, private class, length of ``x``, length of ``d``).
OKP_CURVES: MappingProxyType[str, tuple[Any, Any, int, int]] = MappingProxyType(
    {
        "Ed25519": (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey, 32, 32),
        "Ed448": (ed448.Ed448PublicKey, ed448.Ed448PrivateKey, 57, 57),
        "X25519": (x25519.X25519PublicKey, x25519.X25519PrivateKey, 32, 32),
        "X448": (x448.X448PublicKey, x448.X448PrivateKey, 56, 56),
    }
)
_CRYPTO_ERRORS = (ValueError, TypeError, UnsupportedAlgorithm)


def _split(key: object) -> tuple[str, OKPPublicKey, OKPPrivateKey | None] | None:
    """``(crv, public, private)`` for a ``cryptography`` OKP key object, else ``None``."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "Ed25519", key.public_key(), key
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", key, None
    if isinstance(key, ed448.Ed448PrivateKey):
        return "Ed448", key.public_key(), key
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", key, None
    if isinstance(key, x25519.X25519PrivateKey):
        return "X25519", key.public_key(), key
    if isinstance(key, x25519.X25519PublicKey):
        return "X25519", key, None
    if isinstance(key, x448.X448PrivateKey):
        return "X448", key.public_key(), key
    if isinstance(key, x448.X448PublicKey):
        return "X448", key, None
    return None


class OKPKey(AsymmetricKey):
    """An Ed25519, Ed448, X25519 or X448 public or private key; ``crv`` names the curve."""

    kty = "OKP"
    crv: str
    crypto_public_key: OKPPublicKey
    crypto_private_key: OKPPrivateKey | None

    def __init__(
        self,
        key: OKPPrivateKey | OKPPublicKey,
        *,
        kid: str | None = None,
        use: str | None = None,
        key_ops: Sequence[str] | None = None,
        alg: str | None = None,
        x5c: Sequence[str] | None = None,
        x5t: str | None = None,
        x5t_s256: str | None = None,
    ) -> None:
        found = _split(key)
        if found is None:
            raise InvalidKey(
                f"OKPKey: expected an Ed25519, Ed448, X25519 or X448 key, got {type(key).__name__}"
            )
        crv, public, private = found
        self._set("crv", crv)
        self._set("crypto_public_key", public)
        self._set("crypto_private_key", private)
        self._init_public(public)
        self._init_metadata(
            kid=kid, use=use, key_ops=key_ops, alg=alg, x5c=x5c, x5t=x5t, x5t_s256=x5t_s256
        )

    @classmethod
    def _random(
        cls,
        crv: str,
        *,
        kid: str | None,
        use: str | None,
        key_ops: Sequence[str] | None,
        alg: str | None,
    ) -> OKPKey:
        private_class = OKP_CURVES[crv][1]
        return cls(private_class.generate(), kid=kid, use=use, key_ops=key_ops, alg=alg)

    @classmethod
    def _from_jwk_members(cls, jwk: Mapping[str, Any], allow_weak: bool) -> OKPKey:
        """RFC 8037 §2: ``crv``, ``x``; private: ``d``. ``allow_weak`` is unused."""
        kwargs = metadata_kwargs(jwk)
        crv = string_member(jwk, "crv")
        if crv not in OKP_CURVES:
            raise InvalidKey(f"JWK: unsupported OKP curve {short(crv)}")
        public_class, private_class, x_length, d_length = OKP_CURVES[crv]
        x = b64_member(jwk, "x")
        if len(x) != x_length:
            raise InvalidKey(f"JWK: OKP member 'x' must be {x_length} bytes on {crv}, got {len(x)}")
        try:
            public = public_class.from_public_bytes(x)
        except _CRYPTO_ERRORS:  # pragma: no cover - the length was checked; kept as a guard
            raise InvalidKey(f"JWK: 'x' is not a valid {crv} public key") from None
        if "d" not in jwk:
            return cls(public, **kwargs)
        d = b64_member(jwk, "d")
        if len(d) != d_length:
            raise InvalidKey(f"JWK: OKP member 'd' must be {d_length} bytes on {crv}, got {len(d)}")
        try:
            private = private_class.from_private_bytes(d)
        except _CRYPTO_ERRORS:  # pragma: no cover - the length was checked; kept as a guard
            raise InvalidKey(f"JWK: 'd' is not a valid {crv} private key") from None
        if private.public_key().public_bytes_raw() != x:
            raise InvalidKey("JWK: OKP private value 'd' does not match 'x'")
        return cls(private, **kwargs)

    def _public_object(self) -> OKPPublicKey:
        return self.crypto_public_key

    def _private_object(self) -> OKPPrivateKey | None:
        return self.crypto_private_key

    def _describe(self) -> str:
        return f"crv={self.crv!r}"

    def _kind(self) -> tuple[str | None, int | None]:
        return self.crv, None

    def _jwk_members(self, private: bool) -> dict[str, str]:
        members = {"crv": self.crv, "x": b64url_encode(self.crypto_public_key.public_bytes_raw())}
        if private and self.crypto_private_key is not None:
            members["d"] = b64url_encode(self.crypto_private_key.private_bytes_raw())
        return members

    def _thumbprint_members(self) -> dict[str, str]:
        return {
            "crv": self.crv,
            "kty": self.kty,
            "x": b64url_encode(self.crypto_public_key.public_bytes_raw()),
        }
