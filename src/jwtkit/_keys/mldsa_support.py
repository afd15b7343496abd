"""Whether ``cryptography`` can do ML-DSA here, and the one error that says it cannot.

ML-DSA (FIPS 204, RFC 9964) comes from ``cryptography``'s ``mldsa`` module. The module exists
from cryptography 47.0.0, but the OpenSSL backend of its published wheels implements ML-DSA
only from 48.0.0 on; a backend without it raises ``UnsupportedAlgorithm`` on first use. This
module decides once, at import, and every ML-DSA entry point (key generation, JWK, PEM and DER
import) asks it, so that an older release gives one clear :class:`~jwtkit.errors.InvalidKey`.
It also knows the ML-DSA object identifiers (RFC 9881 §2), for telling ML-DSA key files apart
where ``cryptography`` cannot read them.
"""

from __future__ import annotations

from types import ModuleType

import cryptography
from cryptography.exceptions import UnsupportedAlgorithm

from ..errors import InvalidKey
from .der_shape import key_algorithm

__all__ = [
    "MLDSA_MODULE",
    "ML_DSA_MIN_CRYPTOGRAPHY",
    "ML_DSA_OIDS",
    "SEED_LENGTH",
    "load_mldsa",
    "mldsa_unavailable",
    "require_mldsa",
    "unreadable_mldsa",
]

#: The first ``cryptography`` release whose published wheels can sign with ML-DSA.
ML_DSA_MIN_CRYPTOGRAPHY = "48.0.0"
#: The length of ``priv``, the FIPS 204 seed (RFC 9964 §4).
SEED_LENGTH = 32
#: The DER contents of the OBJECT IDENTIFIERs id-ml-dsa-44/65/87 (2.16.840.1.101.3.4.3.17-19,
#: RFC 9881 §2), as they appear in SubjectPublicKeyInfo and PKCS#8 algorithm identifiers.
ML_DSA_OIDS = frozenset(bytes.fromhex("6086480165030403") + bytes([n]) for n in (17, 18, 19))


def load_mldsa() -> ModuleType | None:
    """``cryptography``'s ``mldsa`` module when it can sign here, else ``None``."""
    try:
        from cryptography.hazmat.primitives.asymmetric import mldsa  # noqa: PLC0415
    except ImportError:
        return None
    try:
        mldsa.MLDSA44PrivateKey.from_seed_bytes(bytes(SEED_LENGTH))
    except UnsupportedAlgorithm:
        return None
    return mldsa


#: The working ``mldsa`` module, or ``None`` (decided once, at import).
MLDSA_MODULE: ModuleType | None = load_mldsa()


def mldsa_unavailable(what: str) -> InvalidKey:
    """The error for an ML-DSA operation this ``cryptography`` cannot do, naming the release
    needed."""
    return InvalidKey(
        f"{what}: ML-DSA (RFC 9964) is unsupported by cryptography {cryptography.__version__}; "
        f"it needs cryptography >= {ML_DSA_MIN_CRYPTOGRAPHY} with ML-DSA support"
    )


def require_mldsa(what: str) -> ModuleType:
    """The ``mldsa`` module, or :class:`InvalidKey` naming the ``cryptography`` release needed."""
    module = MLDSA_MODULE
    if module is None:
        raise mldsa_unavailable(what)
    return module


def unreadable_mldsa(der: bytes | None) -> bool:
    """``True`` for an ML-DSA SubjectPublicKeyInfo or PKCS#8 key that this ``cryptography``
    cannot read: its loaders fail on it as on garbage, but the caller should learn why."""
    return MLDSA_MODULE is None and der is not None and key_algorithm(der) in ML_DSA_OIDS
