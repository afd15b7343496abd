"""Symmetric keys: :class:`OctKey` (``kty: "oct"``, RFC 7518 §6.4).

An oct key is a secret byte string used for HMAC, AES key wrap, ``dir`` or PBES2. Building one
refuses, with no opt-out, anything that is really an asymmetric key, certificate, JWK or SSH
key (security matrix A2), and refuses well-known secrets unless ``allow_weak=True`` (B6). The
"at least as long as the hash" rule (RFC 7518 §3.2) depends on the algorithm and is applied by
:meth:`check_usable`.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from .._codec import b64url_encode
from ..errors import InvalidKey
from .base import Key
from .certificates import check_x509_members
from .members import b64_member, metadata_kwargs
from .requirements import HMAC_MIN_SECRET_LENGTH
from .secret_checks import WELL_KNOWN_SECRETS, asymmetric_form

__all__ = ["OctKey"]

_MIN_GENERATED_BITS = 128


def _secret_bytes(secret: object) -> bytes:
    """The secret as bytes: ``str`` is UTF-8 encoded, other types are refused."""
    if isinstance(secret, str):
        try:
            return secret.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidKey("oct key: the secret text is not valid Unicode") from None
    if isinstance(secret, (bytes, bytearray, memoryview)):
        return bytes(secret)
    raise InvalidKey(f"oct key: expected bytes or str, got {type(secret).__name__}")


class OctKey(Key):
    """A symmetric secret (``kty: "oct"``).

    ``secret`` may be ``bytes`` or ``str`` (UTF-8 encoded). ``allow_weak=True`` admits
    well-known secrets and secrets shorter than the HMAC hash (RFC 7518 §3.2).

    .. warning:: Nothing admits a PEM, certificate, JWK or SSH key as a secret: those are
       public keys in disguise (security matrix A2).
    """

    kty = "oct"
    secret: bytes
    allow_weak: bool

    def __init__(
        self,
        secret: bytes | str,
        *,
        kid: str | None = None,
        use: str | None = None,
        key_ops: Sequence[str] | None = None,
        alg: str | None = None,
        allow_weak: bool = False,
    ) -> None:
        secret = _secret_bytes(secret)
        if not secret:
            raise InvalidKey("oct key: the secret is empty")
        form = asymmetric_form(secret)
        if form is not None:
            raise InvalidKey(
                f"oct key: the secret is {form}; a public or asymmetric key must never be used "
                "as a symmetric secret (algorithm confusion, security matrix A2)"
            )
        if not allow_weak and secret in WELL_KNOWN_SECRETS:
            raise InvalidKey(
                "oct key: the secret is a well-known example value; generate a random one "
                "(OctKey.generate) or pass allow_weak=True"
            )
        self._set("secret", secret)
        self._set("allow_weak", bool(allow_weak))
        self._init_metadata(kid=kid, use=use, key_ops=key_ops, alg=alg)

    @property
    def is_private(self) -> bool:
        """Always ``True``: the whole key is secret."""
        return True

    @classmethod
    def generate(
        cls,
        alg_or_kty: int | str | None = None,
        *,
        size: int | None = None,
        crv: str | None = None,
        kid: str | None = None,
        use: str | None = None,
        key_ops: Sequence[str] | None = None,
    ) -> OctKey:
        """A random secret: ``OctKey.generate()`` (256 bits), ``OctKey.generate(384)`` (bits)
        or ``OctKey.generate("HS512")`` (sized for the algorithm, ``alg`` set)."""
        if alg_or_kty is None:
            alg_or_kty = "oct"
        elif isinstance(alg_or_kty, int) and not isinstance(alg_or_kty, bool):
            if size is not None and size != alg_or_kty:
                raise InvalidKey("OctKey.generate: give the size once")
            size, alg_or_kty = alg_or_kty, "oct"
        if not isinstance(alg_or_kty, str):
            raise InvalidKey("OctKey.generate: expected a size in bits or an algorithm name")
        key = Key.generate(alg_or_kty, size=size, crv=crv, kid=kid, use=use, key_ops=key_ops)
        return cls._expect(key, "generate")

    @classmethod
    def _random(
        cls,
        bits: int,
        *,
        kid: str | None,
        use: str | None,
        key_ops: Sequence[str] | None,
        alg: str | None,
    ) -> OctKey:
        if (
            isinstance(bits, bool)
            or not isinstance(bits, int)
            or bits % 8
            or bits < _MIN_GENERATED_BITS
        ):
            raise InvalidKey(
                f"oct key size must be a multiple of 8 bits, at least {_MIN_GENERATED_BITS}"
            )
        return cls(secrets.token_bytes(bits // 8), kid=kid, use=use, key_ops=key_ops, alg=alg)

    @classmethod
    def _from_jwk_members(cls, jwk: Mapping[str, Any], allow_weak: bool) -> OctKey:
        """RFC 7518 §6.4: the secret is ``k``."""
        kwargs = metadata_kwargs(jwk)
        x5c, x5t, x5t_s256 = (kwargs.pop(name, None) for name in ("x5c", "x5t", "x5t_s256"))
        check_x509_members(x5c, x5t, x5t_s256, None)  # refuses any of them on a symmetric key
        return cls(b64_member(jwk, "k"), allow_weak=allow_weak, **kwargs)

    def _describe(self) -> str:
        return f"size={len(self.secret) * 8}"

    def _kind(self) -> tuple[str | None, int | None]:
        return None, len(self.secret)

    def _spki_der(self) -> bytes | None:
        return None

    def _jwk_members(self, private: bool) -> dict[str, str]:
        if not private:
            raise InvalidKey(
                f"{self._label()} is symmetric and has no public form; call "
                "to_jwk(private=True) to export the secret"
            )
        return {"k": b64url_encode(self.secret)}

    def _thumbprint_members(self) -> dict[str, str]:
        return {"k": b64url_encode(self.secret), "kty": self.kty}

    def _same_material(self, other: Key) -> bool:
        return isinstance(other, OctKey) and hmac.compare_digest(self.secret, other.secret)

    def _material_hash(self) -> int:
        return hash(self.secret)

    def _check_strength(self, alg: str, operation: str) -> None:
        minimum = HMAC_MIN_SECRET_LENGTH.get(alg)
        if minimum is not None and len(self.secret) < minimum and not self.allow_weak:
            raise InvalidKey(
                f"{self._label()} is shorter than the {minimum * 8}-bit hash of {alg} "
                "(RFC 7518 §3.2); use a longer secret or pass allow_weak=True"
            )

    def public_key(self) -> NoReturn:
        """Always raises: a symmetric key has no public half."""
        raise InvalidKey(f"{self._label()} is symmetric; it has no public key")

    def to_pem(self, private: bool = False, password: bytes | str | None = None) -> bytes:
        """Always raises: there is no PEM form of a symmetric key."""
        raise InvalidKey(f"{self._label()} is symmetric; there is no PEM form of a secret")
