"""Building the right :class:`Key` subclass: from a JWK, a ``cryptography`` object, or at random.

This is the one module that knows every key type; :class:`Key`'s class-level factories call
into it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519

from .._codec import json_loads_object
from .._messages import short
from ..errors import InvalidKey
from .akp_key import AKPKey, mldsa_classes
from .base import Key
from .ec_key import EC_CURVES, ECKey
from .formats import CRYPTO_ERRORS, deprecated_types_refused
from .oct_key import OctKey
from .okp_key import OKP_CURVES, OKPKey
from .requirements import ALGORITHM_REQUIREMENTS, HMAC_MIN_SECRET_LENGTH
from .rsa_key import MIN_RSA_BITS, RSAKey

__all__ = ["generate_key", "key_from_crypto", "key_from_jwk"]

_KEY_TYPES: Mapping[
    str, type[OctKey] | type[RSAKey] | type[ECKey] | type[OKPKey] | type[AKPKey]
] = {
    "oct": OctKey,
    "RSA": RSAKey,
    "EC": ECKey,
    "OKP": OKPKey,
    "AKP": AKPKey,
}
_OKP_CLASSES = (
    ed25519.Ed25519PrivateKey,
    ed25519.Ed25519PublicKey,
    ed448.Ed448PrivateKey,
    ed448.Ed448PublicKey,
    x25519.X25519PrivateKey,
    x25519.X25519PublicKey,
    x448.X448PrivateKey,
    x448.X448PublicKey,
)
_DEFAULT_OCT_BITS = 256
# The curve chosen when an algorithm (or kty) allows several and the caller names none.
_DEFAULT_CURVES = {"EC": "P-256", "OKP": "Ed25519", "EdDSA": "Ed25519", "ECDH": "P-256"}
# The ML-DSA parameter set of Key.generate("AKP"): NIST category 3 (FIPS 204 §4).
_DEFAULT_AKP_ALG = "ML-DSA-65"


def key_from_jwk(jwk: Mapping[str, Any] | str | bytes, *, allow_weak: bool = False) -> Key:
    """Parse a JWK object or its JSON text (RFC 7517 §4) into the matching key type.

    JSON syntax errors raise :class:`~jwtkit.errors.MalformedToken`; everything else about
    the key raises :class:`~jwtkit.errors.InvalidKey`.
    """
    if isinstance(jwk, str):
        jwk = jwk.encode("utf-8", "surrogatepass")
    if isinstance(jwk, (bytes, bytearray, memoryview)):
        jwk = json_loads_object(bytes(jwk), "JWK")
    if not isinstance(jwk, Mapping):
        raise InvalidKey(f"JWK: expected a JSON object, got {type(jwk).__name__}")
    if "kty" not in jwk:
        raise InvalidKey("JWK: missing required member 'kty' (RFC 7517 §4.1)")
    kty = jwk["kty"]
    key_type = _KEY_TYPES.get(kty) if isinstance(kty, str) else None
    if key_type is None:
        raise InvalidKey(f"JWK: unsupported key type 'kty' {short(kty)}")
    return key_type._from_jwk_members(jwk, allow_weak)


def key_from_crypto(
    obj: object,
    *,
    kid: str | None = None,
    alg: str | None = None,
    use: str | None = None,
    key_ops: Sequence[str] | None = None,
    allow_weak: bool = False,
) -> Key:
    """Wrap a ``cryptography`` key object (or a certificate's public key) in a :class:`Key`."""
    if isinstance(obj, x509.Certificate):
        try:
            with deprecated_types_refused("certificate"):
                obj = obj.public_key()
        except CRYPTO_ERRORS:
            raise InvalidKey("certificate: its public key type is not supported") from None
    if isinstance(obj, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return RSAKey(obj, kid=kid, alg=alg, use=use, key_ops=key_ops, allow_weak=allow_weak)
    if isinstance(obj, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return ECKey(obj, kid=kid, alg=alg, use=use, key_ops=key_ops)
    if isinstance(obj, _OKP_CLASSES):
        return OKPKey(obj, kid=kid, alg=alg, use=use, key_ops=key_ops)
    if isinstance(obj, mldsa_classes()):
        return AKPKey(obj, kid=kid, alg=alg, use=use, key_ops=key_ops)  # type: ignore[arg-type]
    raise InvalidKey(
        f"unsupported key object {type(obj).__name__}: JOSE uses RSA, EC (P-256, P-384, "
        "P-521, secp256k1), Ed25519, Ed448, X25519, X448 and ML-DSA keys"
    )


def _pick_curve(kty_default: str, allowed: Sequence[str], crv: str | None, name: str) -> str:
    if crv is None:
        return _DEFAULT_CURVES[kty_default] if len(allowed) > 1 else allowed[0]
    if crv not in allowed:
        raise InvalidKey(
            f"generate: curve {short(crv)} does not fit {short(name)}; use one of "
            + ", ".join(allowed)
        )
    return crv


def generate_key(
    alg_or_kty: str,
    *,
    size: int | None = None,
    crv: str | None = None,
    kid: str | None = None,
    use: str | None = None,
    key_ops: Sequence[str] | None = None,
) -> Key:
    """A fresh random key for an algorithm name or a ``kty`` (see :meth:`Key.generate`)."""
    if not isinstance(alg_or_kty, str):
        raise InvalidKey(f"generate: expected an algorithm or kty name, got {short(alg_or_kty)}")
    common: dict[str, Any] = {"kid": kid, "use": use, "key_ops": key_ops}
    requirement = ALGORITHM_REQUIREMENTS.get(alg_or_kty)
    if requirement is not None:
        alg: str | None = alg_or_kty
        ktys = sorted({kty for kty, _ in requirement.kinds})
        curves = sorted(c for _, c in requirement.kinds if c is not None)
        if len(ktys) == 1:
            kty = ktys[0]
        else:  # ECDH-ES: EC or OKP, decided by the curve
            kty = "OKP" if crv in OKP_CURVES else "EC"
            curves = [c for c in curves if c in (OKP_CURVES if kty == "OKP" else EC_CURVES)]
            curves = [_pick_curve("ECDH", curves, crv, alg_or_kty)]
    elif alg_or_kty in _KEY_TYPES:
        alg, kty = None, alg_or_kty
        curves = list(EC_CURVES if kty == "EC" else OKP_CURVES) if kty in ("EC", "OKP") else []
    else:
        raise InvalidKey(
            f"generate: unknown algorithm or key type {short(alg_or_kty)} (use e.g. 'ES256', "
            "'RS256', 'HS256', 'EdDSA', 'ML-DSA-65', 'RSA-OAEP-256', 'ECDH-ES', or "
            "'oct'/'RSA'/'EC'/'OKP'/'AKP')"
        )
    if kty == "AKP":
        if size is not None or crv is not None:
            raise InvalidKey(
                "generate: 'size' and 'crv' do not apply to AKP keys; the algorithm "
                "(ML-DSA-44, ML-DSA-65 or ML-DSA-87) fixes the key"
            )
        return AKPKey._random(_DEFAULT_AKP_ALG if alg is None else alg, **common)
    if kty in ("EC", "OKP"):
        if size is not None:
            raise InvalidKey(f"generate: 'size' does not apply to {kty} keys; choose 'crv'")
        default = "EdDSA" if alg == "EdDSA" else kty
        chosen = _pick_curve(default, curves, crv, alg_or_kty)
        if kty == "EC":
            return ECKey._random(chosen, alg=alg, **common)
        return OKPKey._random(chosen, alg=alg, **common)
    if crv is not None:
        raise InvalidKey(f"generate: 'crv' does not apply to {kty} keys")
    if kty == "RSA":
        return RSAKey._random(MIN_RSA_BITS if size is None else size, alg=alg, **common)
    return OctKey._random(_oct_bits(alg, size), alg=alg, **common)


def _oct_bits(alg: str | None, size: int | None) -> int:
    """The secret length in bits for an oct key generated for ``alg`` (or none)."""
    if alg is not None:
        exact = ALGORITHM_REQUIREMENTS[alg].secret_length
        if exact is not None:
            required = exact * 8
            if size is not None and size != required:
                raise InvalidKey(f"generate: {alg} needs a key of exactly {required} bits")
            return required
        minimum = HMAC_MIN_SECRET_LENGTH.get(alg)
        if minimum is not None:
            if size is not None and size < minimum * 8:
                raise InvalidKey(
                    f"generate: {alg} needs at least {minimum * 8} bits (RFC 7518 §3.2)"
                )
            return size if size is not None else minimum * 8
    return size if size is not None else _DEFAULT_OCT_BITS
