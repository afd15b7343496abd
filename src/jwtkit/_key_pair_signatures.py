"""Signatures that only a key pair makes: the algorithms of proofs of possession (DPoP proofs,
RFC 9449 §4.2; SD-JWT Key Binding JWTs, RFC 9901 §4.3), never ``none`` nor a MAC, and the
usual one for a given key."""

from __future__ import annotations

from ._keys.requirements import ALGORITHM_REQUIREMENTS
from .errors import UsageError
from .jwa import DEFAULT_REGISTRY
from .jwk import Key

__all__ = ["KEY_PAIR_ALGORITHMS", "default_algorithm", "is_key_pair_signature"]

#: The asymmetric signature algorithms, in the order they are preferred.
KEY_PAIR_ALGORITHMS: tuple[str, ...] = (
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
    "PS256",
    "PS384",
    "PS512",
    "RS256",
    "RS384",
    "RS512",
)


def is_key_pair_signature(name: object) -> bool:
    """Whether ``name`` is a signature algorithm of the default registry that needs a key pair."""
    if not isinstance(name, str) or DEFAULT_REGISTRY.signature(name) is None:
        return False
    requirement = ALGORITHM_REQUIREMENTS.get(name)
    return requirement is not None and all(kty != "oct" for kty, _ in requirement.kinds)


def default_algorithm(key: Key, what: str) -> str:
    """The key's own ``alg``, else the usual algorithm of its type and curve."""
    if key.alg is not None:
        return key.alg
    for name in ("ES256", "ES384", "ES512", "EdDSA", "PS256", "ES256K"):
        if key.supports(name):
            return name
    raise UsageError(f"algorithm is required for {what} with {key!r}")
