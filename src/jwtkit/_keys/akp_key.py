"""Algorithm Key Pairs: :class:`AKPKey` (``kty: "AKP"``, RFC 9964 §3), holding ML-DSA keys.

An AKP key always names its algorithm: ``alg`` is REQUIRED (RFC 9964 §3) and fixes the ML-DSA
parameter set (FIPS 204 Table 1): ML-DSA-44, ML-DSA-65 or ML-DSA-87. ``pub`` is the FIPS 204
public key (exactly 1312, 1952 or 2592 bytes, RFC 9964 §5); ``priv``, present only in private
keys, is the 32-byte seed and nothing else (RFC 9964 §4), and the public key it expands to must
be exactly ``pub`` (RFC 9964 §7.4). The JWK thumbprint hashes ``alg``, ``kty`` and ``pub``
(RFC 9964 §6).

ML-DSA comes from ``cryptography``'s ``mldsa`` module, which only works from cryptography
48.0.0 on; :mod:`jwtkit._keys.mldsa_support` decides whether it does here, and with an older
release every ML-DSA entry point raises :class:`~jwtkit.errors.InvalidKey` saying so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import UnsupportedAlgorithm

from .._codec import b64url_encode
from .._messages import short
from ..errors import InvalidKey
from . import mldsa_support
from .asymmetric import AsymmetricKey
from .members import b64_member, metadata_kwargs, string_member
from .mldsa_support import SEED_LENGTH, require_mldsa

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import mldsa

    AKPPublicKey = mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey
    AKPPrivateKey = mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey

__all__ = ["ML_DSA_PARAMETERS", "AKPKey", "MLDSAParameters", "mldsa_classes"]


class MLDSAParameters:
    """One ML-DSA parameter set: its JOSE name and sizes in bytes (FIPS 204 Table 2)."""

    __slots__ = ("name", "public_length", "signature_length", "suffix")

    def __init__(self, name: str, suffix: str, public_length: int, signature_length: int) -> None:
        self.name = name
        self.suffix = suffix
        self.public_length = public_length
        self.signature_length = signature_length

    def __repr__(self) -> str:
        return f"MLDSAParameters({self.name!r})"


#: JOSE ``alg`` -> parameter set (RFC 9964 §5, FIPS 204 Table 2).
ML_DSA_PARAMETERS: MappingProxyType[str, MLDSAParameters] = MappingProxyType(
    {
        "ML-DSA-44": MLDSAParameters("ML-DSA-44", "44", 1312, 2420),
        "ML-DSA-65": MLDSAParameters("ML-DSA-65", "65", 1952, 3309),
        "ML-DSA-87": MLDSAParameters("ML-DSA-87", "87", 2592, 4627),
    }
)


def mldsa_classes() -> tuple[type, ...]:
    """Every ``cryptography`` ML-DSA key class (empty without ML-DSA support)."""
    module = mldsa_support.MLDSA_MODULE
    if module is None:
        return ()
    return tuple(
        getattr(module, f"MLDSA{params.suffix}{half}Key")
        for params in ML_DSA_PARAMETERS.values()
        for half in ("Public", "Private")
    )


def _split(
    module: ModuleType, key: object
) -> tuple[MLDSAParameters, AKPPublicKey, AKPPrivateKey | None] | None:
    """``(parameters, public, private)`` for a ``cryptography`` ML-DSA key, else ``None``."""
    for params in ML_DSA_PARAMETERS.values():
        if isinstance(key, getattr(module, f"MLDSA{params.suffix}PrivateKey")):
            return params, key.public_key(), key
        if isinstance(key, getattr(module, f"MLDSA{params.suffix}PublicKey")):
            return params, key, None
    return None


class AKPKey(AsymmetricKey):
    """An ML-DSA-44, ML-DSA-65 or ML-DSA-87 public or private key (RFC 9964).

    ``alg`` is always set: it names the parameter set, and a key serves that algorithm only.
    ``crypto_public_key``/``crypto_private_key`` are ``cryptography``'s ML-DSA key objects.
    """

    kty = "AKP"
    alg: str
    crypto_public_key: AKPPublicKey
    crypto_private_key: AKPPrivateKey | None

    def __init__(
        self,
        key: AKPPrivateKey | AKPPublicKey,
        *,
        kid: str | None = None,
        use: str | None = None,
        key_ops: Sequence[str] | None = None,
        alg: str | None = None,
        x5c: Sequence[str] | None = None,
        x5t: str | None = None,
        x5t_s256: str | None = None,
    ) -> None:
        found = _split(require_mldsa("AKPKey"), key)
        if found is None:
            raise InvalidKey(
                f"AKPKey: expected an ML-DSA-44, ML-DSA-65 or ML-DSA-87 key, got "
                f"{type(key).__name__}"
            )
        params, public, private = found
        if alg is not None and alg != params.name:
            raise InvalidKey(
                f"AKPKey: an {params.name} key cannot carry 'alg' {short(alg)}: an AKP key's "
                "'alg' names its parameter set (RFC 9964 §3)"
            )
        self._set("_params", params)
        self._set("crypto_public_key", public)
        self._set("crypto_private_key", private)
        self._init_public(public)
        # RFC 9964 §3: "alg" is REQUIRED for AKP keys; the key object fixes it.
        self._init_metadata(
            kid=kid,
            use=use,
            key_ops=key_ops,
            alg=params.name if alg is None else alg,
            x5c=x5c,
            x5t=x5t,
            x5t_s256=x5t_s256,
        )

    @property
    def parameters(self) -> MLDSAParameters:
        """The ML-DSA parameter set (name, public key and signature lengths)."""
        params: MLDSAParameters = self.__dict__["_params"]
        return params

    @classmethod
    def _random(
        cls,
        alg: str,
        *,
        kid: str | None,
        use: str | None,
        key_ops: Sequence[str] | None,
    ) -> AKPKey:
        module = require_mldsa(f"generate {alg}")
        private_class = getattr(module, f"MLDSA{ML_DSA_PARAMETERS[alg].suffix}PrivateKey")
        return cls(private_class.generate(), kid=kid, use=use, key_ops=key_ops, alg=alg)

    @classmethod
    def _from_jwk_members(cls, jwk: Mapping[str, Any], allow_weak: bool) -> AKPKey:
        """RFC 9964 §3-§5: ``alg`` (required), ``pub``; private: ``priv`` (the seed).

        ``allow_weak`` is unused.
        """
        module = require_mldsa("JWK")
        kwargs = metadata_kwargs(jwk)
        alg = string_member(jwk, "alg")
        params = ML_DSA_PARAMETERS.get(alg)
        if params is None:
            raise InvalidKey(
                f"JWK: unsupported AKP algorithm {short(alg)}; expected ML-DSA-44, ML-DSA-65 "
                "or ML-DSA-87 (RFC 9964 §5)"
            )
        pub = b64_member(jwk, "pub")
        if len(pub) != params.public_length:
            raise InvalidKey(
                f"JWK: AKP member 'pub' must be {params.public_length} bytes for {alg}, "
                f"got {len(pub)}"
            )
        public_class = getattr(module, f"MLDSA{params.suffix}PublicKey")
        try:
            public = public_class.from_public_bytes(pub)
        except (ValueError, TypeError, UnsupportedAlgorithm):  # pragma: no cover - length checked
            raise InvalidKey(f"JWK: 'pub' is not a valid {alg} public key") from None
        if "priv" not in jwk:
            return cls(public, **kwargs)
        seed = b64_member(jwk, "priv")
        if len(seed) != SEED_LENGTH:
            raise InvalidKey(
                f"JWK: AKP member 'priv' must be the {SEED_LENGTH}-byte seed for {alg}, got "
                f"{len(seed)} bytes (RFC 9964 §4)"
            )
        private_class = getattr(module, f"MLDSA{params.suffix}PrivateKey")
        private = private_class.from_seed_bytes(seed)
        if private.public_key().public_bytes_raw() != pub:
            raise InvalidKey("JWK: AKP private seed 'priv' does not match 'pub' (RFC 9964 §7.4)")
        return cls(private, **kwargs)

    def _public_object(self) -> AKPPublicKey:
        return self.crypto_public_key

    def _private_object(self) -> AKPPrivateKey | None:
        return self.crypto_private_key

    def _describe(self) -> str:
        return self.parameters.name

    def _kind(self) -> tuple[str | None, int | None]:
        return self.parameters.name, None

    def _jwk_members(self, private: bool) -> dict[str, str]:
        members = {"pub": b64url_encode(self.crypto_public_key.public_bytes_raw())}
        if private and self.crypto_private_key is not None:
            members["priv"] = b64url_encode(self.crypto_private_key.private_bytes_raw())
        return members

    def _thumbprint_members(self) -> dict[str, str]:
        """RFC 9964 §6: ``alg``, ``kty`` and ``pub``."""
        return {
            "alg": self.parameters.name,
            "kty": self.kty,
            "pub": b64url_encode(self.crypto_public_key.public_bytes_raw()),
        }
