"""Elliptic-curve keys: :class:`ECKey` (``kty: "EC"``, RFC 7518 §6.2, RFC 8812 §3.1).

Curves: P-256, P-384, P-521 and secp256k1. Security matrix F1: ``x``, ``y`` and ``d`` must
have exactly the curve's coordinate length (RFC 7518 §6.2.1.2, §6.2.2.1), the point must be on
the curve (checked by ``cryptography``), and a private ``d`` must produce exactly ``x``, ``y``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec

from .._messages import short
from ..errors import InvalidKey
from .asymmetric import AsymmetricKey
from .members import b64_member, encode_uint, metadata_kwargs, string_member

__all__ = ["EC_CURVES", "ECKey"]

#: JWK ``crv`` -> (``cryptography`` curve class, coordinate length in bytes).
EC_CURVES: MappingProxyType[str, tuple[type[ec.EllipticCurve], int]] = MappingProxyType(
    {
        "P-256": (ec.SECP256R1, 32),
        "P-384": (ec.SECP384R1, 48),
        "P-521": (ec.SECP521R1, 66),
        "secp256k1": (ec.SECP256K1, 32),
    }
)
_CRV_BY_CURVE_NAME = MappingProxyType(
    {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521", "secp256k1": "secp256k1"}
)


class ECKey(AsymmetricKey):
    """An elliptic-curve public or private key; ``crv`` is the JWK curve name."""

    kty = "EC"
    crv: str
    crypto_public_key: ec.EllipticCurvePublicKey
    crypto_private_key: ec.EllipticCurvePrivateKey | None

    def __init__(
        self,
        key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey,
        *,
        kid: str | None = None,
        use: str | None = None,
        key_ops: Sequence[str] | None = None,
        alg: str | None = None,
        x5c: Sequence[str] | None = None,
        x5t: str | None = None,
        x5t_s256: str | None = None,
    ) -> None:
        if isinstance(key, ec.EllipticCurvePrivateKey):
            private: ec.EllipticCurvePrivateKey | None = key
            public = key.public_key()
        elif isinstance(key, ec.EllipticCurvePublicKey):
            private, public = None, key
        else:
            raise InvalidKey(f"ECKey: expected an EC key object, got {type(key).__name__}")
        crv = _CRV_BY_CURVE_NAME.get(public.curve.name)
        if crv is None:
            raise InvalidKey(
                f"EC key on unsupported curve {short(public.curve.name)}; JOSE uses P-256, "
                "P-384, P-521 and secp256k1"
            )
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
    ) -> ECKey:
        curve, _ = EC_CURVES[crv]
        return cls(ec.generate_private_key(curve()), kid=kid, use=use, key_ops=key_ops, alg=alg)

    @classmethod
    def _from_jwk_members(cls, jwk: Mapping[str, Any], allow_weak: bool) -> ECKey:
        """RFC 7518 §6.2: ``crv``, ``x``, ``y``; private: ``d``. ``allow_weak`` is unused."""
        kwargs = metadata_kwargs(jwk)
        crv = string_member(jwk, "crv")
        if crv not in EC_CURVES:
            raise InvalidKey(f"JWK: unsupported EC curve {short(crv)}")
        curve_class, length = EC_CURVES[crv]
        coordinates = []
        for name in ("x", "y"):
            raw = b64_member(jwk, name)
            if len(raw) != length:
                raise InvalidKey(
                    f"JWK: EC member {name!r} must be {length} bytes on {crv}, got {len(raw)} "
                    "(RFC 7518 §6.2.1.2)"
                )
            coordinates.append(int.from_bytes(raw, "big"))
        x, y = coordinates
        try:
            public = ec.EllipticCurvePublicNumbers(x, y, curve_class()).public_key()
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise InvalidKey(f"JWK: the EC point (x, y) is not on {crv}") from None
        if "d" not in jwk:
            return cls(public, **kwargs)
        raw_d = b64_member(jwk, "d")
        if len(raw_d) != length:
            raise InvalidKey(
                f"JWK: EC member 'd' must be {length} bytes on {crv}, got {len(raw_d)} "
                "(RFC 7518 §6.2.2.1)"
            )
        try:
            private = ec.derive_private_key(int.from_bytes(raw_d, "big"), curve_class())
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise InvalidKey(f"JWK: EC private value 'd' is out of range for {crv}") from None
        derived = private.public_key().public_numbers()
        if (derived.x, derived.y) != (x, y):
            raise InvalidKey("JWK: EC private value 'd' does not match the public point (x, y)")
        return cls(private, **kwargs)

    def _public_object(self) -> ec.EllipticCurvePublicKey:
        return self.crypto_public_key

    def _private_object(self) -> ec.EllipticCurvePrivateKey | None:
        return self.crypto_private_key

    def _describe(self) -> str:
        return f"crv={self.crv!r}"

    def _kind(self) -> tuple[str | None, int | None]:
        return self.crv, None

    def _coordinate_length(self) -> int:
        return EC_CURVES[self.crv][1]

    def _jwk_members(self, private: bool) -> dict[str, str]:
        members = self._thumbprint_members()
        del members["kty"]
        if private and self.crypto_private_key is not None:
            d = self.crypto_private_key.private_numbers().private_value
            members["d"] = encode_uint(d, self._coordinate_length())
        return members

    def _thumbprint_members(self) -> dict[str, str]:
        public = self.crypto_public_key.public_numbers()
        length = self._coordinate_length()
        return {
            "crv": self.crv,
            "kty": self.kty,
            "x": encode_uint(public.x, length),
            "y": encode_uint(public.y, length),
        }
