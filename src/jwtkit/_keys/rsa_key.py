"""RSA keys: :class:`RSAKey` (``kty: "RSA"``, RFC 7518 §6.3).

Security matrix F1: a modulus below 2048 bits is refused unless ``allow_weak=True``, and such
a key may then only *verify* (legacy verification); below 1024 bits nothing admits it. The
public exponent must be odd and at least 3 (``e = 1`` makes "signatures" trivial). Private
JWKs that carry only ``n``, ``e``, ``d`` are completed with the CRT parameters; multi-prime
keys (``oth``) are refused; ``cryptography`` checks that all parameters agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import InvalidKey
from .asymmetric import AsymmetricKey
from .members import encode_uint, metadata_kwargs, uint_member

__all__ = ["MAX_RSA_BITS", "MIN_RSA_BITS", "MIN_WEAK_RSA_BITS", "RSAKey", "check_rsa_public"]

#: RFC 7518 §3.3 and §4.2: "A key of size 2048 bits or larger MUST be used".
MIN_RSA_BITS = 2048
#: The floor even with ``allow_weak=True``: smaller moduli are factored in hours.
MIN_WEAK_RSA_BITS = 1024
#: Larger moduli only make verification slow (a denial-of-service lever).
MAX_RSA_BITS = 16384
_PUBLIC_EXPONENT = 65537
_CRT_MEMBERS = ("p", "q", "dp", "dq", "qi")
_T = TypeVar("_T")


def check_rsa_public(n: int, e: int, allow_weak: bool) -> None:
    """Security matrix F1 for the public numbers: size, and ``e`` odd and at least 3."""
    bits = n.bit_length()
    if bits > MAX_RSA_BITS:
        raise InvalidKey(f"RSA key of {bits} bits is larger than the {MAX_RSA_BITS}-bit maximum")
    if bits < MIN_WEAK_RSA_BITS:
        raise InvalidKey(f"RSA key of {bits} bits is far too small (never accepted)")
    if bits < MIN_RSA_BITS and not allow_weak:
        raise InvalidKey(
            f"RSA key of {bits} bits is below the {MIN_RSA_BITS}-bit minimum (RFC 7518 §3.3); "
            "pass allow_weak=True to use it for legacy verification only"
        )
    if e < 3 or e % 2 == 0:
        raise InvalidKey("RSA public exponent 'e' must be odd and at least 3 (e = 1 is unsafe)")
    if n % 2 == 0:
        raise InvalidKey("RSA modulus 'n' must be odd")


def _build(make: Callable[[], _T]) -> _T:
    try:
        return make()
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InvalidKey("RSA key: the parameters are inconsistent or invalid") from None


class RSAKey(AsymmetricKey):
    """An RSA public or private key.

    ``weak`` is ``True`` for a key below 2048 bits admitted with ``allow_weak=True``; such a
    key passes :meth:`check_usable` for ``"verify"`` only.
    """

    kty = "RSA"
    crypto_public_key: rsa.RSAPublicKey
    crypto_private_key: rsa.RSAPrivateKey | None
    size: int
    weak: bool

    def __init__(
        self,
        key: rsa.RSAPrivateKey | rsa.RSAPublicKey,
        *,
        kid: str | None = None,
        use: str | None = None,
        key_ops: Sequence[str] | None = None,
        alg: str | None = None,
        allow_weak: bool = False,
        x5c: Sequence[str] | None = None,
        x5t: str | None = None,
        x5t_s256: str | None = None,
    ) -> None:
        if isinstance(key, rsa.RSAPrivateKey):
            private: rsa.RSAPrivateKey | None = key
            public = key.public_key()
        elif isinstance(key, rsa.RSAPublicKey):
            private, public = None, key
        else:
            raise InvalidKey(f"RSAKey: expected an RSA key object, got {type(key).__name__}")
        numbers = public.public_numbers()
        check_rsa_public(numbers.n, numbers.e, allow_weak)
        self._set("crypto_public_key", public)
        self._set("crypto_private_key", private)
        self._set("size", public.key_size)
        self._set("weak", public.key_size < MIN_RSA_BITS)
        self._init_public(public)
        self._init_metadata(
            kid=kid, use=use, key_ops=key_ops, alg=alg, x5c=x5c, x5t=x5t, x5t_s256=x5t_s256
        )

    @classmethod
    def _random(
        cls,
        bits: int,
        *,
        kid: str | None,
        use: str | None,
        key_ops: Sequence[str] | None,
        alg: str | None,
    ) -> RSAKey:
        if (
            isinstance(bits, bool)
            or not isinstance(bits, int)
            or not (MIN_RSA_BITS <= bits <= MAX_RSA_BITS)
        ):
            raise InvalidKey(f"RSA key size must be between {MIN_RSA_BITS} and {MAX_RSA_BITS} bits")
        private = rsa.generate_private_key(_PUBLIC_EXPONENT, bits)
        return cls(private, kid=kid, use=use, key_ops=key_ops, alg=alg)

    @classmethod
    def _from_jwk_members(cls, jwk: Mapping[str, Any], allow_weak: bool) -> RSAKey:
        """RFC 7518 §6.3: ``n``, ``e``; private: ``d`` and optionally all CRT members."""
        kwargs = metadata_kwargs(jwk)
        n = uint_member(jwk, "n")
        e = uint_member(jwk, "e")
        check_rsa_public(n, e, allow_weak)
        if "oth" in jwk:
            raise InvalidKey(
                "JWK: multi-prime RSA keys ('oth', RFC 7518 §6.3.2.7) are not supported"
            )
        public_numbers = rsa.RSAPublicNumbers(e, n)
        crt_present = [name for name in _CRT_MEMBERS if name in jwk]
        if "d" not in jwk:
            if crt_present:
                raise InvalidKey("JWK: RSA private members are present but 'd' is missing")
            public = _build(public_numbers.public_key)
            return cls(public, allow_weak=allow_weak, **kwargs)
        d = uint_member(jwk, "d")
        if not 1 < d < n or pow(pow(2, e, n), d, n) != 2:
            raise InvalidKey("JWK: RSA private exponent 'd' does not match 'n' and 'e'")
        if crt_present and len(crt_present) != len(_CRT_MEMBERS):
            raise InvalidKey(
                "JWK: an RSA private key needs all of p, q, dp, dq, qi or none (RFC 7518 §6.3.2)"
            )
        if crt_present:
            p, q, dp, dq, qi = (uint_member(jwk, name) for name in _CRT_MEMBERS)
        else:
            p, q = _build(lambda: rsa.rsa_recover_prime_factors(n, e, d))
            dp, dq, qi = rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q)
        numbers = rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, public_numbers)
        private = _build(numbers.private_key)
        return cls(private, allow_weak=allow_weak, **kwargs)

    def _public_object(self) -> rsa.RSAPublicKey:
        return self.crypto_public_key

    def _private_object(self) -> rsa.RSAPrivateKey | None:
        return self.crypto_private_key

    def _rebuild_options(self) -> dict[str, Any]:
        return {"allow_weak": self.weak}

    def _describe(self) -> str:
        return f"size={self.size}"

    def _kind(self) -> tuple[str | None, int | None]:
        return None, None

    def _jwk_members(self, private: bool) -> dict[str, str]:
        public = self.crypto_public_key.public_numbers()
        members = {"n": encode_uint(public.n), "e": encode_uint(public.e)}
        if private and self.crypto_private_key is not None:
            numbers = self.crypto_private_key.private_numbers()
            members.update(
                d=encode_uint(numbers.d),
                p=encode_uint(numbers.p),
                q=encode_uint(numbers.q),
                dp=encode_uint(numbers.dmp1),
                dq=encode_uint(numbers.dmq1),
                qi=encode_uint(numbers.iqmp),
            )
        return members

    def _thumbprint_members(self) -> dict[str, str]:
        public = self.crypto_public_key.public_numbers()
        return {"e": encode_uint(public.e), "kty": self.kty, "n": encode_uint(public.n)}

    def _check_strength(self, alg: str, operation: str) -> None:
        if self.weak and operation != "verify":
            raise InvalidKey(
                f"{self._label()} is below {MIN_RSA_BITS} bits; admitted with allow_weak=True "
                f"it may only verify, not {operation}"
            )
