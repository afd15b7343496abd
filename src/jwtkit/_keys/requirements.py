"""Which key fits which algorithm: the algorithm -> (kty, crv, length) table and key operations.

One table answers :meth:`Key.supports` for every JWS and JWE ``alg`` name this library knows
(RFC 7518 §3.1 and §4.1, RFC 8037 §3.1, RFC 8812 §3.2, RFC 9864 §2), and the sets of
``key_ops`` values (RFC 7517 §4.3) that :meth:`Key.check_usable` reasons about. The table is an
immutable mapping built once at import; nothing registers into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "ALGORITHM_REQUIREMENTS",
    "ENCRYPTION_OPERATIONS",
    "HMAC_MIN_SECRET_LENGTH",
    "KEY_OPERATIONS",
    "PRIVATE_OPERATIONS",
    "SIGNATURE_OPERATIONS",
    "AlgorithmRequirement",
]

#: Every ``key_ops`` value registered by RFC 7517 §4.3.
KEY_OPERATIONS = frozenset(
    {"sign", "verify", "encrypt", "decrypt", "wrapKey", "unwrapKey", "deriveKey", "deriveBits"}
)
#: Operations that go with ``use: "sig"`` (RFC 7517 §4.3: "sign" and "verify").
SIGNATURE_OPERATIONS = frozenset({"sign", "verify"})
#: Operations that go with ``use: "enc"``.
ENCRYPTION_OPERATIONS = KEY_OPERATIONS - SIGNATURE_OPERATIONS
#: Operations that need the private (or secret) part of a key.
PRIVATE_OPERATIONS = frozenset({"sign", "decrypt", "unwrapKey", "deriveKey", "deriveBits"})

#: RFC 7518 §3.2: an HMAC key must be at least as long as the hash output.
HMAC_MIN_SECRET_LENGTH: MappingProxyType[str, int] = MappingProxyType(
    {"HS256": 32, "HS384": 48, "HS512": 64}
)


@dataclass(frozen=True)
class AlgorithmRequirement:
    """What a key must be to serve one algorithm.

    ``kinds`` holds ``(kty, crv)`` pairs; ``crv`` is ``None`` where the key type has no curve,
    and names the parameter set for an ``AKP`` key (RFC 9964 §3).
    ``secret_length`` is the exact length in bytes an ``oct`` key must have (AES key wrap),
    ``None`` for any length. ``family`` is ``"sig"`` for JWS algorithms and ``"enc"`` for JWE
    key-management algorithms: it decides which operations make sense.
    """

    family: str
    kinds: frozenset[tuple[str, str | None]]
    secret_length: int | None = None

    def fits(self, kty: str, crv: str | None, secret_length: int | None) -> bool:
        """``True`` when a key of this type, curve and (for ``oct``) length fits."""
        if (kty, crv) not in self.kinds:
            return False
        return self.secret_length is None or secret_length == self.secret_length


_OCT = frozenset({("oct", None)})
_RSA = frozenset({("RSA", None)})
_ECDH = frozenset(
    {("EC", "P-256"), ("EC", "P-384"), ("EC", "P-521"), ("OKP", "X25519"), ("OKP", "X448")}
)


def _sig(*kinds: tuple[str, str | None]) -> AlgorithmRequirement:
    return AlgorithmRequirement("sig", frozenset(kinds))


def _enc(
    kinds: frozenset[tuple[str, str | None]], length: int | None = None
) -> AlgorithmRequirement:
    return AlgorithmRequirement("enc", kinds, length)


#: ``alg`` -> what the key must be. ``"none"`` is deliberately absent: no key fits it.
ALGORITHM_REQUIREMENTS: MappingProxyType[str, AlgorithmRequirement] = MappingProxyType(
    {
        # JWS, RFC 7518 §3.1
        "HS256": _sig(("oct", None)),
        "HS384": _sig(("oct", None)),
        "HS512": _sig(("oct", None)),
        "RS256": _sig(("RSA", None)),
        "RS384": _sig(("RSA", None)),
        "RS512": _sig(("RSA", None)),
        "PS256": _sig(("RSA", None)),
        "PS384": _sig(("RSA", None)),
        "PS512": _sig(("RSA", None)),
        "ES256": _sig(("EC", "P-256")),
        "ES384": _sig(("EC", "P-384")),
        "ES512": _sig(("EC", "P-521")),
        # RFC 8812 §3.2
        "ES256K": _sig(("EC", "secp256k1")),
        # RFC 8037 §3.1 (polymorphic EdDSA) and RFC 9864 §2 (fully specified)
        "EdDSA": _sig(("OKP", "Ed25519"), ("OKP", "Ed448")),
        "Ed25519": _sig(("OKP", "Ed25519")),
        "Ed448": _sig(("OKP", "Ed448")),
        # RFC 9964 §5: ML-DSA, the parameter set named by the AKP key's own "alg"
        "ML-DSA-44": _sig(("AKP", "ML-DSA-44")),
        "ML-DSA-65": _sig(("AKP", "ML-DSA-65")),
        "ML-DSA-87": _sig(("AKP", "ML-DSA-87")),
        # JWE key management, RFC 7518 §4.1
        "RSA1_5": _enc(_RSA),
        "RSA-OAEP": _enc(_RSA),
        "RSA-OAEP-256": _enc(_RSA),
        "RSA-OAEP-384": _enc(_RSA),
        "RSA-OAEP-512": _enc(_RSA),
        "A128KW": _enc(_OCT, 16),
        "A192KW": _enc(_OCT, 24),
        "A256KW": _enc(_OCT, 32),
        "A128GCMKW": _enc(_OCT, 16),
        "A192GCMKW": _enc(_OCT, 24),
        "A256GCMKW": _enc(_OCT, 32),
        "dir": _enc(_OCT),
        "PBES2-HS256+A128KW": _enc(_OCT),
        "PBES2-HS384+A192KW": _enc(_OCT),
        "PBES2-HS512+A256KW": _enc(_OCT),
        # ECDH-ES on NIST curves (RFC 7518 §4.6) and X25519/X448 (RFC 8037 §3.2)
        "ECDH-ES": _enc(_ECDH),
        "ECDH-ES+A128KW": _enc(_ECDH),
        "ECDH-ES+A192KW": _enc(_ECDH),
        "ECDH-ES+A256KW": _enc(_ECDH),
    }
)
