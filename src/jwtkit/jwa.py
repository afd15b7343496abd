"""Algorithms (RFC 7518, RFC 8037, RFC 8812, RFC 9864, RFC 9964) as one immutable registry value.

A :class:`Registry` holds three kinds of algorithm, each looked up by its exact name:

* JWS signature algorithms (``alg`` of a JWS, RFC 7518 §3, RFC 8037 §3.1, ...);
* JWE key-management algorithms (``alg`` of a JWE, RFC 7518 §4, RFC 8037 §3.2);
* JWE content-encryption algorithms (``enc``, RFC 7518 §5).

:data:`DEFAULT_REGISTRY` holds every algorithm jwtkit supports and nothing unsafe.
A registry is a value: build another with :meth:`Registry.including` or
:meth:`Registry.excluding` and pass it to the call that should use it. Nothing registers itself
globally, so no import can change what another part of a program accepts.

Opting in is explicit and warns, for ``none`` (:data:`NONE`), ``RSA1_5`` (:data:`RSA1_5`,
decryption only: a padding-oracle risk, RFC 8725 §3.2) and PBES2 (:data:`PBES2_HS256_A128KW`,
:data:`PBES2_HS384_A192KW`, :data:`PBES2_HS512_A256KW`: attacker-chosen work)::

    registry = jwtkit.jwa.DEFAULT_REGISTRY.including(jwtkit.jwa.NONE)   # InsecureAlgorithmWarning
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType

from ._jwa_content import AESCBCHMAC, AESGCMContent, ContentEncryptionAlgorithm
from ._jwa_keymgmt import (
    AESGCMKW,
    AESKW,
    ECDHES,
    PBES2,
    RSA15,
    RSAOAEP,
    Direct,
    KeyManagementAlgorithm,
)
from ._jwa_signing import (
    ECDSA,
    HMAC,
    MLDSA,
    RSAPKCS1,
    RSAPSS,
    EdDSA,
    SignatureAlgorithm,
    Unsecured,
)
from .errors import UsageError

__all__ = [
    "CONTENT_ENCRYPTION_ALGORITHMS",
    "DEFAULT_REGISTRY",
    "KEY_MANAGEMENT_ALGORITHMS",
    "NONE",
    "PBES2_HS256_A128KW",
    "PBES2_HS384_A192KW",
    "PBES2_HS512_A256KW",
    "RSA1_5",
    "SIGNATURE_ALGORITHMS",
    "Algorithm",
    "ContentEncryptionAlgorithm",
    "InsecureAlgorithmWarning",
    "KeyManagementAlgorithm",
    "Registry",
    "SignatureAlgorithm",
]


class InsecureAlgorithmWarning(UserWarning):
    """Emitted when a caller opts in to an algorithm that is unsafe by default (e.g. ``none``)."""


#: Any algorithm a :class:`Registry` can hold.
Algorithm = SignatureAlgorithm | KeyManagementAlgorithm | ContentEncryptionAlgorithm

#: ``none``: unsecured JWS (RFC 7518 §3.6). Never in a registry unless added explicitly.
NONE = Unsecured("none")
#: ``RSA1_5``: RSAES-PKCS1-v1_5 key encryption (RFC 7518 §4.2), decryption only, opt-in
#: (security matrix C2).
RSA1_5 = RSA15("RSA1_5")
#: ``PBES2-HS256+A128KW`` (RFC 7518 §4.8), opt-in (security matrix C5).
PBES2_HS256_A128KW = PBES2("PBES2-HS256+A128KW", "SHA256", 16)
#: ``PBES2-HS384+A192KW`` (RFC 7518 §4.8), opt-in (security matrix C5).
PBES2_HS384_A192KW = PBES2("PBES2-HS384+A192KW", "SHA384", 24)
#: ``PBES2-HS512+A256KW`` (RFC 7518 §4.8), opt-in (security matrix C5).
PBES2_HS512_A256KW = PBES2("PBES2-HS512+A256KW", "SHA512", 32)

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
            MLDSA("ML-DSA-44"),
            MLDSA("ML-DSA-65"),
            MLDSA("ML-DSA-87"),
        )
    }
)


#: Every JWE key-management algorithm of the default registry, by name (RFC 7518 §4.1,
#: RFC 8037 §3.2). The opt-in ones are :data:`RSA1_5` and the three PBES2 constants.
KEY_MANAGEMENT_ALGORITHMS: Mapping[str, KeyManagementAlgorithm] = MappingProxyType(
    {
        alg.name: alg
        for alg in (
            RSAOAEP("RSA-OAEP", "SHA1"),
            RSAOAEP("RSA-OAEP-256", "SHA256"),
            RSAOAEP("RSA-OAEP-384", "SHA384"),
            RSAOAEP("RSA-OAEP-512", "SHA512"),
            AESKW("A128KW", 16),
            AESKW("A192KW", 24),
            AESKW("A256KW", 32),
            Direct("dir"),
            ECDHES("ECDH-ES", None),
            ECDHES("ECDH-ES+A128KW", 16),
            ECDHES("ECDH-ES+A192KW", 24),
            ECDHES("ECDH-ES+A256KW", 32),
            AESGCMKW("A128GCMKW", 16),
            AESGCMKW("A192GCMKW", 24),
            AESGCMKW("A256GCMKW", 32),
        )
    }
)

#: Every JWE content-encryption algorithm, by name (RFC 7518 §5.1).
CONTENT_ENCRYPTION_ALGORITHMS: Mapping[str, ContentEncryptionAlgorithm] = MappingProxyType(
    {
        alg.name: alg
        for alg in (
            AESCBCHMAC("A128CBC-HS256", 32, 16, 16, "sha256"),
            AESCBCHMAC("A192CBC-HS384", 48, 16, 24, "sha384"),
            AESCBCHMAC("A256CBC-HS512", 64, 16, 32, "sha512"),
            AESGCMContent("A128GCM", 16, 12, 16),
            AESGCMContent("A192GCM", 24, 12, 16),
            AESGCMContent("A256GCM", 32, 12, 16),
        )
    }
)


def _is_insecure(alg: Algorithm) -> bool:
    if isinstance(alg, SignatureAlgorithm):
        return alg.unsecured
    return isinstance(alg, KeyManagementAlgorithm) and alg.opt_in


def _warning(alg: Algorithm) -> str:
    if isinstance(alg, SignatureAlgorithm):
        return f"the registry now accepts {alg.name!r}: unsecured tokens carry no signature"
    if isinstance(alg, RSA15):
        return (
            f"the registry now accepts {alg.name!r}: PKCS#1 v1.5 key encryption invites padding "
            "oracles (RFC 8725 §3.2); jwtkit only decrypts it, with uniform failures"
        )
    return (
        f"the registry now accepts {alg.name!r}: the token chooses the PBKDF2 work; keep "
        "max_pbes2_count low (RFC 7518 §4.8)"
    )


class Registry:
    """An immutable set of algorithms, looked up by their exact, case-sensitive name.

    ``signature`` holds JWS algorithms, ``key_management`` JWE ``alg`` values and
    ``content_encryption`` JWE ``enc`` values. ``in`` and iteration cover the signature
    algorithms (as they always have); :attr:`key_management_names` and
    :attr:`content_encryption_names` list the others.
    """

    __slots__ = ("_content_encryption", "_key_management", "_signature")

    def __init__(
        self,
        signature: Iterable[SignatureAlgorithm],
        key_management: Iterable[KeyManagementAlgorithm] = (),
        content_encryption: Iterable[ContentEncryptionAlgorithm] = (),
    ) -> None:
        self._signature: Mapping[str, SignatureAlgorithm] = MappingProxyType(
            {alg.name: alg for alg in signature}
        )
        self._key_management: Mapping[str, KeyManagementAlgorithm] = MappingProxyType(
            {alg.name: alg for alg in key_management}
        )
        self._content_encryption: Mapping[str, ContentEncryptionAlgorithm] = MappingProxyType(
            {alg.name: alg for alg in content_encryption}
        )

    def signature(self, name: object) -> SignatureAlgorithm | None:
        """The signature algorithm called exactly ``name``, or ``None`` (RFC 8725 §3.1)."""
        if type(name) is not str:
            return None
        return self._signature.get(name)

    def key_management(self, name: object) -> KeyManagementAlgorithm | None:
        """The JWE key-management algorithm (``alg``) called exactly ``name``, or ``None``."""
        if type(name) is not str:
            return None
        return self._key_management.get(name)

    def content_encryption(self, name: object) -> ContentEncryptionAlgorithm | None:
        """The JWE content-encryption algorithm (``enc``) called exactly ``name``, or ``None``."""
        if type(name) is not str:
            return None
        return self._content_encryption.get(name)

    @property
    def signature_names(self) -> frozenset[str]:
        """Names of the signature algorithms in this registry."""
        return frozenset(self._signature)

    @property
    def key_management_names(self) -> frozenset[str]:
        """Names of the JWE key-management algorithms (``alg``) in this registry."""
        return frozenset(self._key_management)

    @property
    def content_encryption_names(self) -> frozenset[str]:
        """Names of the JWE content-encryption algorithms (``enc``) in this registry."""
        return frozenset(self._content_encryption)

    def including(self, *algorithms: Algorithm) -> Registry:
        """A new registry with ``algorithms`` (of any kind) added.

        Adding ``none``, ``RSA1_5`` or a PBES2 algorithm warns (:class:`InsecureAlgorithmWarning`).
        """
        signature = dict(self._signature)
        key_management = dict(self._key_management)
        content_encryption = dict(self._content_encryption)
        for alg in algorithms:
            if isinstance(alg, SignatureAlgorithm):
                signature[alg.name] = alg
            elif isinstance(alg, KeyManagementAlgorithm):
                key_management[alg.name] = alg
            elif isinstance(alg, ContentEncryptionAlgorithm):
                content_encryption[alg.name] = alg
            else:
                raise UsageError(f"not an algorithm: {type(alg).__name__}")
            if _is_insecure(alg):
                warnings.warn(_warning(alg), InsecureAlgorithmWarning, stacklevel=2)
        return Registry(signature.values(), key_management.values(), content_encryption.values())

    def excluding(self, *names: str) -> Registry:
        """A new registry without the algorithms (of any kind) called ``names``."""
        drop = set(names)
        return Registry(
            (alg for alg in self._signature.values() if alg.name not in drop),
            (alg for alg in self._key_management.values() if alg.name not in drop),
            (alg for alg in self._content_encryption.values() if alg.name not in drop),
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self._signature)

    def __contains__(self, name: object) -> bool:
        return self.signature(name) is not None

    def __repr__(self) -> str:
        names = [*self._signature, *self._key_management, *self._content_encryption]
        return f"Registry({sorted(names)})"


#: The registry every call uses unless given another: every signature, key-management and
#: content-encryption algorithm, without ``none``, ``RSA1_5`` and PBES2.
DEFAULT_REGISTRY = Registry(
    SIGNATURE_ALGORITHMS.values(),
    KEY_MANAGEMENT_ALGORITHMS.values(),
    CONTENT_ENCRYPTION_ALGORITHMS.values(),
)
