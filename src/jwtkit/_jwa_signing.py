"""JWS signature algorithms (RFC 7518 §3, RFC 8037 §3.1, RFC 8812 §3.2, RFC 9864 §2, RFC 9964 §5).

Each algorithm is a small immutable object that turns a :class:`~jwtkit.jwk.Key` into a signing
function or a verifying function *once* (``signer(key)``, ``verifier(key)``), so that the per-key
work (key checks, hash objects, padding objects) is not repeated for every token.

A verifying function takes the JWS Signing Input and the *base64url-encoded* signature segment
and returns ``True`` or ``False``; it never raises on a bad signature. Taking the encoded segment
lets HMAC compare encodings directly (one canonical encoding per value, security matrix B7) and
lets every algorithm check the exact signature length before any cryptography runs.

Every primitive comes from ``cryptography`` (or ``hmac``/``hashlib`` of the standard library).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from ._codec import b64url_decode_fast, b64url_encode
from .errors import InvalidKey
from .jwk import AKPKey, ECKey, Key, OctKey, OKPKey, RSAKey

__all__ = [
    "ECDSA",
    "HMAC",
    "MLDSA",
    "RSAPKCS1",
    "RSAPSS",
    "EdDSA",
    "SignatureAlgorithm",
    "Signer",
    "Unsecured",
    "VerifyFunction",
]


class _MAC(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def digest(self) -> bytes: ...


#: ``sign(signing_input) -> signature bytes``
Signer = Callable[[bytes], bytes]
#: ``verify(signing_input, base64url_signature) -> bool``
VerifyFunction = Callable[[bytes, str], bool]

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA256": hashes.SHA256,
    "SHA384": hashes.SHA384,
    "SHA512": hashes.SHA512,
}

# Group orders n of the ECDSA curves (SEC 2 §2.4.2, FIPS 186-5 / SP 800-186 §3.2.1).
_CURVE_ORDERS: dict[str, int] = {
    "P-256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "P-384": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
    "P-521": int(
        "01FF" + "FFFFFFFF" * 7 + "FFFFFFFA"
        "51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
        16,
    ),
    "secp256k1": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
}


@dataclass(frozen=True)
class SignatureAlgorithm:
    """A JWS ``alg`` value and how to sign and verify with it.

    ``signer`` and ``verifier`` check that the key fits (``Key.check_usable``, RFC 8725 §3.1)
    and return functions with all per-key work already done.
    """

    name: str
    #: ``True`` only for ``none``: there is no key and no signature.
    unsecured: ClassVar[bool] = False
    #: ``True`` for the HMAC family (symmetric keys).
    symmetric: ClassVar[bool] = False

    def signer(self, key: Key) -> Signer:
        """Return ``sign(signing_input) -> signature`` bound to ``key``."""
        raise NotImplementedError

    def verifier(self, key: Key) -> VerifyFunction:
        """Return ``verify(signing_input, signature_b64url) -> bool`` bound to ``key``."""
        raise NotImplementedError


def _decode_signature(signature: str, length: int) -> bytes | None:
    """Decode a base64url signature of exactly ``length`` bytes, or ``None`` (B2, B3, B7)."""
    # base64url of `length` bytes has exactly this many characters; checking first is cheap.
    if len(signature) != (length * 4 + 2) // 3:
        return None
    try:
        raw = b64url_decode_fast(signature)
    except ValueError:
        return None
    return raw if len(raw) == length else None


@dataclass(frozen=True)
class HMAC(SignatureAlgorithm):
    """HS256, HS384, HS512: HMAC with SHA-2 (RFC 7518 §3.2).

    The secret must be at least as long as the hash output unless the key was built with
    ``allow_weak=True`` (checked by ``OctKey.check_usable``, security matrix B6). Tags are
    compared in full and in constant time (B5).
    """

    hash_name: str = "sha256"
    symmetric: ClassVar[bool] = True

    def _secret(self, key: Key, operation: str) -> bytes:
        if not isinstance(key, OctKey):
            raise InvalidKey(f"{self.name} needs a symmetric (oct) key, got {key.kty}")
        key.check_usable(self.name, operation)
        return key.secret

    def _keyed_copy(self, key: Key, operation: str) -> Callable[[], _MAC]:
        """``copy`` of an HMAC object keyed once: each token pays copy + update + digest."""
        keyed = hmac.new(self._secret(key, operation), digestmod=self.hash_name)
        # CPython's hmac.HMAC wraps a C object whose copy() skips a Python-level layer; it is
        # the same keyed HMAC state, so use it when present (a pure speed-up, same result).
        inner = getattr(keyed, "_hmac", None)
        if inner is not None and callable(getattr(inner, "copy", None)):
            return inner.copy  # type: ignore[no-any-return]
        return keyed.copy

    def signer(self, key: Key) -> Signer:
        copy = self._keyed_copy(key, "sign")

        def sign(signing_input: bytes) -> bytes:
            mac = copy()
            mac.update(signing_input)
            return mac.digest()

        return sign

    def verifier(self, key: Key) -> VerifyFunction:
        copy = self._keyed_copy(key, "verify")
        compare = hmac.compare_digest

        def verify(signing_input: bytes, signature: str) -> bool:
            mac = copy()
            mac.update(signing_input)
            # Comparing encodings accepts exactly one (canonical, unpadded) encoding of the tag.
            try:
                return compare(b64url_encode(mac.digest()), signature)
            except TypeError:  # a non-ASCII signature segment
                return False

        return verify


@dataclass(frozen=True)
class RSAPKCS1(SignatureAlgorithm):
    """RS256, RS384, RS512: RSASSA-PKCS1-v1_5 with SHA-2 (RFC 7518 §3.3)."""

    hash_name: str = "SHA256"

    def _padding(self) -> padding.AsymmetricPadding:
        return padding.PKCS1v15()

    def _rsa(self, key: Key, operation: str) -> RSAKey:
        if not isinstance(key, RSAKey):
            raise InvalidKey(f"{self.name} needs an RSA key, got {key.kty}")
        key.check_usable(self.name, operation)
        return key

    def signer(self, key: Key) -> Signer:
        rsa_key = self._rsa(key, "sign")
        private = rsa_key.crypto_private_key
        if private is None:  # pragma: no cover - check_usable refuses public keys for "sign"
            raise InvalidKey(f"{self.name} signing needs a private key")
        pad = self._padding()
        algorithm = _HASHES[self.hash_name]()

        def sign(signing_input: bytes) -> bytes:
            return private.sign(signing_input, pad, algorithm)

        return sign

    def verifier(self, key: Key) -> VerifyFunction:
        rsa_key = self._rsa(key, "verify")
        public: rsa.RSAPublicKey = rsa_key.crypto_public_key
        length = (public.key_size + 7) // 8
        pad = self._padding()
        algorithm = _HASHES[self.hash_name]()

        def verify(signing_input: bytes, signature: str) -> bool:
            raw = _decode_signature(signature, length)  # B3: exactly the modulus length
            if raw is None:
                return False
            try:
                public.verify(raw, signing_input, pad, algorithm)
            except _CryptoInvalidSignature:
                return False
            return True

        return verify


@dataclass(frozen=True)
class RSAPSS(RSAPKCS1):
    """PS256, PS384, PS512: RSASSA-PSS, MGF1 with the same hash, salt as long as the hash
    (RFC 7518 §3.5). Signatures with another salt length or MGF hash do not verify (B3)."""

    def _padding(self) -> padding.AsymmetricPadding:
        algorithm = _HASHES[self.hash_name]()
        return padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size)


@dataclass(frozen=True)
class ECDSA(SignatureAlgorithm):
    """ES256 (P-256), ES384 (P-384), ES512 (P-521), ES256K (secp256k1): ECDSA with SHA-2
    (RFC 7518 §3.4, RFC 8812 §3.2).

    .. warning::
       JOSE signatures are the fixed-length big-endian R ‖ S, never DER. A DER signature, one of
       the wrong length, and r or s outside ``[1, n-1]`` are rejected before any curve arithmetic
       (security matrix B1, B2; CVE-2022-21449).
    """

    hash_name: str = "SHA256"
    curve: str = "P-256"

    @property
    def coordinate_size(self) -> int:
        return {"P-256": 32, "P-384": 48, "P-521": 66, "secp256k1": 32}[self.curve]

    def _ec(self, key: Key, operation: str) -> ECKey:
        if not isinstance(key, ECKey):
            raise InvalidKey(f"{self.name} needs an EC key on {self.curve}, got {key.kty}")
        if key.crv != self.curve:
            raise InvalidKey(f"{self.name} needs an EC key on {self.curve}, got {key.crv}")
        key.check_usable(self.name, operation)
        return key

    def signer(self, key: Key) -> Signer:
        private = self._ec(key, "sign").crypto_private_key
        if private is None:  # pragma: no cover - check_usable refuses public keys for "sign"
            raise InvalidKey(f"{self.name} signing needs a private key")
        scheme = ec.ECDSA(_HASHES[self.hash_name]())
        size = self.coordinate_size

        def sign(signing_input: bytes) -> bytes:
            r, s = decode_dss_signature(private.sign(signing_input, scheme))
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")

        return sign

    def verifier(self, key: Key) -> VerifyFunction:
        public = self._ec(key, "verify").crypto_public_key
        scheme = ec.ECDSA(_HASHES[self.hash_name]())
        size = self.coordinate_size
        order = _CURVE_ORDERS[self.curve]
        from_bytes = int.from_bytes

        def verify(signing_input: bytes, signature: str) -> bool:
            raw = _decode_signature(signature, 2 * size)
            if raw is None:
                return False
            r = from_bytes(raw[:size], "big")
            s = from_bytes(raw[size:], "big")
            if not (0 < r < order and 0 < s < order):
                return False
            try:
                public.verify(encode_dss_signature(r, s), signing_input, scheme)
            except _CryptoInvalidSignature:
                return False
            return True

        return verify


_EDDSA_SIGNATURE_SIZES = {"Ed25519": 64, "Ed448": 114}


@dataclass(frozen=True)
class EdDSA(SignatureAlgorithm):
    """EdDSA (RFC 8037 §3.1; Ed25519 or Ed448 by the key's curve) and the fully specified
    Ed25519 and Ed448 (RFC 9864 §2). Non-canonical encodings are rejected by the backend (B4)."""

    curve: str | None = None

    def _okp(self, key: Key, operation: str) -> OKPKey:
        if not isinstance(key, OKPKey) or key.crv not in _EDDSA_SIGNATURE_SIZES:
            raise InvalidKey(f"{self.name} needs an OKP key on Ed25519 or Ed448")
        if self.curve is not None and key.crv != self.curve:
            raise InvalidKey(f"{self.name} needs an OKP key on {self.curve}, got {key.crv}")
        key.check_usable(self.name, operation)
        return key

    def signer(self, key: Key) -> Signer:
        private = self._okp(key, "sign").crypto_private_key
        if not isinstance(private, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
            raise InvalidKey(f"{self.name} signing needs a private key")  # pragma: no cover
        return private.sign

    def verifier(self, key: Key) -> VerifyFunction:
        okp = self._okp(key, "verify")
        public = okp.crypto_public_key
        if not isinstance(public, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            raise InvalidKey(f"{self.name} needs an Ed25519 or Ed448 key")  # pragma: no cover
        length = _EDDSA_SIGNATURE_SIZES[okp.crv]

        def verify(signing_input: bytes, signature: str) -> bool:
            raw = _decode_signature(signature, length)
            if raw is None:
                return False
            try:
                public.verify(raw, signing_input)
            except _CryptoInvalidSignature:
                return False
            return True

        return verify


@dataclass(frozen=True)
class MLDSA(SignatureAlgorithm):
    """ML-DSA-44, ML-DSA-65, ML-DSA-87: FIPS 204 ML-DSA (RFC 9964 §5).

    The algorithm fixes the parameter set: only an AKP key of that parameter set fits, so an
    ML-DSA-44 key never verifies an ML-DSA-65 token. Signing is FIPS 204 Algorithm 2
    (``ML-DSA.Sign``, hedged: fresh randomness per signature, as ``cryptography`` does) with
    the empty context string that RFC 9964 §5 requires; verifying uses the empty context too.
    A signature must have exactly the parameter set's length (2420, 3309 or 4627 bytes, FIPS 204
    Table 2) before any lattice arithmetic runs (security matrix B8).
    """

    def _akp(self, key: Key, operation: str) -> AKPKey:
        if not isinstance(key, AKPKey):
            raise InvalidKey(f"{self.name} needs an AKP key for {self.name}, got {key.kty}")
        key.check_usable(self.name, operation)
        return key

    def signer(self, key: Key) -> Signer:
        private = self._akp(key, "sign").crypto_private_key
        if private is None:  # pragma: no cover - check_usable refuses public keys for "sign"
            raise InvalidKey(f"{self.name} signing needs a private key")
        # RFC 9964 §5: "The ctx parameter MUST be the empty string"; None is cryptography's
        # empty context.
        return private.sign

    def verifier(self, key: Key) -> VerifyFunction:
        akp = self._akp(key, "verify")
        public = akp.crypto_public_key
        length = akp.parameters.signature_length

        def verify(signing_input: bytes, signature: str) -> bool:
            raw = _decode_signature(signature, length)
            if raw is None:
                return False
            try:
                public.verify(raw, signing_input)
            except _CryptoInvalidSignature:
                return False
            return True

        return verify


@dataclass(frozen=True)
class Unsecured(SignatureAlgorithm):
    """``none`` (RFC 7518 §3.6): no key, empty signature. Only in a registry the caller built
    with it explicitly, and only when no key is given (security matrix A1)."""

    unsecured: ClassVar[bool] = True

    def signer(self, key: Key) -> Signer:  # pragma: no cover - the JWS layer never passes a key
        raise InvalidKey("'none' takes no key")

    def verifier(self, key: Key) -> VerifyFunction:  # pragma: no cover - as above
        raise InvalidKey("'none' takes no key")
