"""Algorithms (RFC 7518, RFC 8037, RFC 8812, RFC 9864) as one immutable registry value.

:data:`DEFAULT_REGISTRY` holds every JWS signature algorithm jwtkit supports and nothing unsafe.
A registry is a value: build another with :meth:`Registry.including` or
:meth:`Registry.excluding` and pass it to the call that should use it. Nothing registers itself
globally, so no import can change what another part of a program accepts.

``none`` (:data:`NONE`) is not in the default registry. Opting in is explicit and warns::

    registry = jwtkit.jwa.DEFAULT_REGISTRY.including(jwtkit.jwa.NONE)   # InsecureAlgorithmWarning
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType

from ._jwa_signing import ECDSA, HMAC, RSAPKCS1, RSAPSS, EdDSA, SignatureAlgorithm, Unsecured

__all__ = [
    "DEFAULT_REGISTRY",
    "NONE",
    "SIGNATURE_ALGORITHMS",
    "InsecureAlgorithmWarning",
    "Registry",
    "SignatureAlgorithm",
]


class InsecureAlgorithmWarning(UserWarning):
    """Emitted when a caller opts in to an algorithm that is unsafe by default (e.g. ``none``)."""


#: ``none``: unsecured JWS (RFC 7518 §3.6). Never in a registry unless added explicitly.
NONE = Unsecured("none")

#: Every signature algorithm jwtkit implements, by name.
SIGNATURE_ALGORITHMS: Mapping[str, SignatureAlgorithm] = MappingProxyType(
    {
        alg.name: alg
        for alg in (
            HMAC("HS256", "sha256"),
            HMAC("HS384", "sha384"),
            HMAC("HS512", "sha512"),
            RSAPKCS1("RS256", "SHA256"),
            RSAPKCS1("RS384", "SHA384"),
            RSAPKCS1("RS512", "SHA512"),
            RSAPSS("PS256", "SHA256"),
            RSAPSS("PS384", "SHA384"),
            RSAPSS("PS512", "SHA512"),
            ECDSA("ES256", "SHA256", "P-256"),
            ECDSA("ES384", "SHA384", "P-384"),
            ECDSA("ES512", "SHA512", "P-521"),
            ECDSA("ES256K", "SHA256", "secp256k1"),
            EdDSA("EdDSA"),
            EdDSA("Ed25519", "Ed25519"),
            EdDSA("Ed448", "Ed448"),
        )
    }
)


class Registry:
    """An immutable set of algorithms, looked up by their exact, case-sensitive name."""

    __slots__ = ("_signature",)

    def __init__(self, signature: Iterable[SignatureAlgorithm]) -> None:
        self._signature: Mapping[str, SignatureAlgorithm] = MappingProxyType(
            {alg.name: alg for alg in signature}
        )

    def signature(self, name: object) -> SignatureAlgorithm | None:
        """The signature algorithm called exactly ``name``, or ``None`` (RFC 8725 §3.1)."""
        if type(name) is not str:
            return None
        return self._signature.get(name)

    @property
    def signature_names(self) -> frozenset[str]:
        """Names of the signature algorithms in this registry."""
        return frozenset(self._signature)

    def including(self, *algorithms: SignatureAlgorithm) -> Registry:
        """A new registry with ``algorithms`` added. Adding ``none`` warns."""
        for alg in algorithms:
            if alg.unsecured:
                warnings.warn(
                    f"the registry now accepts {alg.name!r}: unsecured tokens carry no signature",
                    InsecureAlgorithmWarning,
                    stacklevel=2,
                )
        return Registry([*self._signature.values(), *algorithms])

    def excluding(self, *names: str) -> Registry:
        """A new registry without the algorithms called ``names``."""
        drop = set(names)
        return Registry(alg for alg in self._signature.values() if alg.name not in drop)

    def __iter__(self) -> Iterator[str]:
        return iter(self._signature)

    def __contains__(self, name: object) -> bool:
        return self.signature(name) is not None

    def __repr__(self) -> str:
        return f"Registry({sorted(self._signature)})"


#: The registry every call uses unless given another: all signature algorithms, no ``none``.
DEFAULT_REGISTRY = Registry(SIGNATURE_ALGORITHMS.values())
