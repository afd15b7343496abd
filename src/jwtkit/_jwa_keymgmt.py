"""JWE key management (RFC 7518 §4, RFC 8037 §3.2): how the Content Encryption Key travels.

Each ``alg`` value is a small immutable object:

* ``read_parameters(header, max_pbes2_count)`` checks and decodes the header parameters the
  algorithm needs (``epk``, ``apu``, ``apv``, ``iv``, ``tag``, ``p2s``, ``p2c``) *before* any
  key is touched, raising :class:`~jwtkit.errors.MalformedToken` (security matrix C1, C5);
* ``check_key(key, enc, parameters)`` says whether a trusted key can serve this token
  (:class:`~jwtkit.errors.InvalidKey` when not: wrong type, curve or length);
* ``unwrapper(key, enc)`` checks once that the key fits (type, curve, length; as
  ``check_key`` does without the header) and returns ``unwrap(parameters, encrypted_key)``,
  which returns the CEK with the per-key work (private key objects, padding, key-encryption
  keys, the key agreement) already done, or raises the one opaque
  :class:`~jwtkit.errors.DecryptionError`. A JWE decryption prepares each trusted key once
  and unwraps every token with it, as JWS verification uses ``verifier(key)``;
  ``unwrap(key, enc, parameters, encrypted_key)`` is the one-off form;
* ``wrap(key, enc, header)`` makes (or agrees) a CEK for a recipient and returns it with the
  JWE Encrypted Key and the header parameters to publish.

Rules this module enforces:

* ``RSA1_5`` decrypts only, and on *any* failure continues with a random CEK of the right
  length, so that a padding failure looks exactly like a wrong tag (RFC 7516 §11.5, RFC 3218,
  security matrix C2). It is not in the default registry.
* PBES2 refuses a ``p2c`` that is not an integer, below 1000 or above the caller's maximum, and
  a ``p2s`` shorter than 8 bytes, before deriving anything (RFC 7518 §4.8.1, C5). It is not in
  the default registry.
* ECDH-ES takes ``epk`` as a public key on the recipient key's own curve; EC points are
  validated on import and X25519/X448 exchanges that give the all-zero secret are refused
  (RFC 7518 §4.6, RFC 8037 §3.2, RFC 7748 §6, C1).

Every primitive comes from ``cryptography``: RSA-OAEP and PKCS#1 v1.5, AES key wrap
(RFC 3394), AES-GCM, PBKDF2, ECDH/X25519/X448 and the Concat KDF (NIST SP 800-56A §5.8.1).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, keywrap
from cryptography.hazmat.primitives.asymmetric import ec, padding, x448, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from ._codec import b64url_decode, b64url_encode
from ._jwa_content import ContentEncryptionAlgorithm
from ._messages import short
from ._types import Header
from .errors import DecryptionError, InvalidKey, MalformedToken, UsageError
from .jwk import ECKey, Key, OctKey, OKPKey, RSAKey

__all__ = [
    "AESGCMKW",
    "AESKW",
    "DEFAULT_PBES2_COUNT",
    "ECDHES",
    "MIN_PBES2_COUNT",
    "MIN_PBES2_SALT",
    "PBES2",
    "RSA15",
    "RSAOAEP",
    "Direct",
    "KeyManagementAlgorithm",
    "KeyParameters",
    "UnwrapFunction",
    "WrapResult",
    "concat_kdf",
    "concat_kdf_other_info",
    "ecdh_shared_secret",
]

#: RFC 7518 §4.8.1.2: "A minimum iteration count of 1000 is RECOMMENDED".
MIN_PBES2_COUNT = 1000
#: RFC 7518 §4.8.1.1: "A Salt Input value containing 8 or more octets MUST be used".
MIN_PBES2_SALT = 8
#: The iteration count ``jwe.encrypt`` uses unless the header gives ``p2c`` (OWASP's
#: recommendation for PBKDF2-HMAC-SHA256); it is also the default decryption maximum.
DEFAULT_PBES2_COUNT = 600_000

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA1": hashes.SHA1,
    "SHA256": hashes.SHA256,
    "SHA384": hashes.SHA384,
    "SHA512": hashes.SHA512,
}
_ECDH_EC_CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
}
_ECDH_OKP_CURVES = frozenset({"X25519", "X448"})
_ECDH = ec.ECDH()

#: A public key for ECDH, X25519 or X448 key agreement, as ``cryptography`` holds it.
ECDHPublicKey = ec.EllipticCurvePublicKey | x25519.X25519PublicKey | x448.X448PublicKey
#: ``exchange(public key) -> Z``: a private key's ECDH, X25519 or X448 key agreement.
_Exchange = Callable[[Any], bytes]


@dataclass(frozen=True)
class KeyParameters:
    """The key-management header parameters of one recipient, checked and decoded."""

    #: ECDH-ES: the producer's ephemeral public key (RFC 7518 §4.6.1.1).
    epk: ECKey | OKPKey | None = None
    #: ECDH-ES: PartyUInfo and PartyVInfo, decoded from ``apu``/``apv`` (§4.6.1.2-3).
    apu: bytes = b""
    apv: bytes = b""
    #: AES-GCM key wrap: the IV and tag of the key encryption (§4.7.1).
    iv: bytes = b""
    tag: bytes = b""
    #: PBES2: the salt input and the iteration count (§4.8.1).
    p2s: bytes = b""
    p2c: int = 0
    #: ECDH-ES: ``epk`` as a ``cryptography`` public key, when the caller parsed it without
    #: building a :class:`~jwtkit.jwk.Key` (``None``: use ``epk``). Not part of equality.
    epk_public: ECDHPublicKey | None = field(default=None, compare=False, repr=False)


#: ``unwrap(parameters, encrypted_key) -> CEK`` for one trusted key and one ``enc``, with the
#: per-key work done (``KeyManagementAlgorithm.unwrapper``); every failure is
#: :class:`~jwtkit.errors.DecryptionError`.
UnwrapFunction = Callable[[KeyParameters, bytes], bytes]


@dataclass(frozen=True)
class WrapResult:
    """What the producer sends one recipient: the CEK, its encrypted form, header parameters."""

    cek: bytes
    encrypted_key: bytes
    header: Header


def _random_cek(size: int) -> bytes:
    """A random CEK; a module function so that tests can watch the RSA1_5 fallback (C2)."""
    return secrets.token_bytes(size)


def _caller_parameter(header: Mapping[str, Any], name: str) -> bytes:
    """A base64url header parameter the *caller* gave to ``wrap``: errors are usage errors."""
    try:
        return _b64_parameter(header, name, required=False)
    except MalformedToken as exc:
        raise UsageError(exc.message) from None


def _b64_parameter(header: Mapping[str, Any], name: str, *, required: bool) -> bytes:
    if name not in header:
        if required:
            raise MalformedToken(f"header: {name!r} is missing")
        return b""
    value = header[name]
    if type(value) is not str:
        raise MalformedToken(f"header: {name!r} must be a base64url string")
    return b64url_decode(value, f"header {name!r}")


@dataclass(frozen=True)
class KeyManagementAlgorithm:
    """A JWE ``alg`` value (RFC 7516 §4.1.1): how the CEK is determined and transported."""

    name: str
    #: Off by default: only in a registry that adds it explicitly (with a warning).
    opt_in: ClassVar[bool] = False
    #: ``False`` for decryption-only algorithms (``RSA1_5``).
    can_encrypt: ClassVar[bool] = True
    #: The RFC 7517 §4.3 ``key_ops`` values checked for each side.
    wrap_operation: ClassVar[str] = "wrapKey"
    unwrap_operation: ClassVar[str] = "unwrapKey"

    @property
    def direct(self) -> bool:
        """``True`` for direct encryption or direct key agreement: no JWE Encrypted Key."""
        return False

    def read_parameters(self, header: Mapping[str, Any], max_pbes2_count: int) -> KeyParameters:
        """Check and decode this algorithm's header parameters (before any key is used)."""
        return KeyParameters()

    def check_key(
        self, key: Key, enc: ContentEncryptionAlgorithm, parameters: KeyParameters
    ) -> None:
        """Raise :class:`~jwtkit.errors.InvalidKey` unless ``key`` can decrypt this token."""

    def unwrapper(self, key: Key, enc: ContentEncryptionAlgorithm) -> UnwrapFunction:
        """Return ``unwrap(parameters, encrypted_key) -> CEK`` bound to ``key`` and ``enc``.

        Checks once what ``check_key`` checks without the header (key type, curve, length;
        :class:`~jwtkit.errors.InvalidKey` when it does not fit) and does the per-key work
        once. ``alg``/``use``/``key_ops`` are checked where the keys are selected
        (``KeySource.candidates``); ``parameters`` must have passed ``check_key``.
        """
        raise NotImplementedError

    def unwrap(
        self,
        key: Key,
        enc: ContentEncryptionAlgorithm,
        parameters: KeyParameters,
        encrypted_key: bytes,
    ) -> bytes:
        """The CEK, or :class:`~jwtkit.errors.DecryptionError`: ``unwrapper`` for one token."""
        return self.unwrapper(key, enc)(parameters, encrypted_key)

    def wrap(
        self,
        key: Key,
        enc: ContentEncryptionAlgorithm,
        header: Mapping[str, Any],
        cek: bytes | None = None,
        *,
        ephemeral: Key | None = None,
        iv: bytes | None = None,
    ) -> WrapResult:
        """Make (or agree) the CEK for one recipient and encrypt it (RFC 7516 §5.1 steps 1-6).

        ``cek`` is the CEK shared by several recipients (``None``: a fresh one). ``ephemeral``
        and ``iv`` fix the random values of ECDH-ES and AES-GCM key wrap, for test vectors only.
        """
        raise NotImplementedError

    def _checked_cek(self, cek: bytes | None, enc: ContentEncryptionAlgorithm) -> bytes:
        if cek is None:
            return enc.generate_cek()
        if len(cek) != enc.key_size:
            raise UsageError(f"{enc.name} needs a {enc.key_size}-byte CEK, got {len(cek)} bytes")
        return cek


# -- RSA ------------------------------------------------------------------------------------


def _rsa(alg: str, key: Key) -> RSAKey:
    if not isinstance(key, RSAKey):
        raise InvalidKey(f"{alg} needs an RSA key, got {key.kty}")
    return key


@dataclass(frozen=True)
class RSAOAEP(KeyManagementAlgorithm):
    """RSA-OAEP (SHA-1, RFC 7518 §4.3), RSA-OAEP-256 (SHA-256, §4.3) and RSA-OAEP-384/512
    (SHA-384/512, registered in the IANA JOSE algorithms registry from the W3C Web
    Cryptography API): RSAES-OAEP with MGF1 using the same hash and an empty label."""

    hash_name: str = "SHA1"

    def _padding(self) -> padding.OAEP:
        algorithm = _HASHES[self.hash_name]()
        return padding.OAEP(mgf=padding.MGF1(algorithm), algorithm=algorithm, label=None)

    def check_key(
        self, key: Key, enc: ContentEncryptionAlgorithm, parameters: KeyParameters
    ) -> None:
        _rsa(self.name, key)

    def unwrapper(self, key: Key, enc: ContentEncryptionAlgorithm) -> UnwrapFunction:
        private = _rsa(self.name, key).crypto_private_key
        if private is None:  # pragma: no cover - candidates are checked for "unwrapKey"
            raise InvalidKey(f"{self.name} decryption needs the private key")
        decrypt = private.decrypt
        oaep = self._padding()
        size = enc.key_size

        def unwrap(parameters: KeyParameters, encrypted_key: bytes) -> bytes:
            try:
                cek = decrypt(encrypted_key, oaep)
            except ValueError:
                raise DecryptionError() from None
            if len(cek) != size:
                raise DecryptionError()
            return cek

        return unwrap

    def wrap(
        self,
        key: Key,
        enc: ContentEncryptionAlgorithm,
        header: Mapping[str, Any],
        cek: bytes | None = None,
        *,
        ephemeral: Key | None = None,
        iv: bytes | None = None,
    ) -> WrapResult:
        rsa_key = _rsa(self.name, key)
        rsa_key.check_usable(self.name, self.wrap_operation)
        cek = self._checked_cek(cek, enc)
        encrypted = rsa_key.crypto_public_key.encrypt(cek, self._padding())
        return WrapResult(cek, encrypted, {})


@dataclass(frozen=True)
class RSA15(KeyManagementAlgorithm):
    """RSA1_5: RSAES-PKCS1-v1_5 (RFC 7518 §4.2). Decryption only, and only when opted in.

    .. warning::
       PKCS#1 v1.5 encryption is open to Bleichenbacher's padding-oracle attack. Decryption
       therefore never reports a padding failure: a random CEK of the right length is drawn
       first and used whenever the encrypted key does not decrypt or has the wrong length, so
       every failure ends as the same tag mismatch (RFC 7516 §11.5, RFC 3218 §2.3.2, C2).
    """

    opt_in: ClassVar[bool] = True
    can_encrypt: ClassVar[bool] = False

    def check_key(
        self, key: Key, enc: ContentEncryptionAlgorithm, parameters: KeyParameters
    ) -> None:
        _rsa(self.name, key)

    def unwrapper(self, key: Key, enc: ContentEncryptionAlgorithm) -> UnwrapFunction:
        private = _rsa(self.name, key).crypto_private_key
        if private is None:  # pragma: no cover - candidates are checked for "unwrapKey"
            raise InvalidKey(f"{self.name} decryption needs the private key")
        decrypt = private.decrypt
        pkcs1 = padding.PKCS1v15()
        size = enc.key_size

        def unwrap(parameters: KeyParameters, encrypted_key: bytes) -> bytes:
            # Drawn before the decryption, on every path, so that both paths do the same work.
            fallback = _random_cek(size)
            try:
                cek = decrypt(encrypted_key, pkcs1)
            except ValueError:
                return fallback
            return cek if len(cek) == size else fallback

        return unwrap

    def wrap(
        self,
        key: Key,
        enc: ContentEncryptionAlgorithm,
        header: Mapping[str, Any],
        cek: bytes | None = None,
        *,
        ephemeral: Key | None = None,
        iv: bytes | None = None,
    ) -> WrapResult:
        raise UsageError(
            "RSA1_5 is supported for decryption only (RFC 8725 §3.2: do not produce it); "
            "encrypt with RSA-OAEP-256"
        )


# -- symmetric key wrapping -----------------------------------------------------------------


def _oct(alg: str, key: Key) -> OctKey:
    if not isinstance(key, OctKey):
        raise InvalidKey(f"{alg} needs a symmetric (oct) key, got {key.kty}")
    return key


def _kw_unwrap(kek: bytes, encrypted_key: bytes, enc: ContentEncryptionAlgorithm) -> bytes:
    """AES key unwrap (RFC 3394) of a CEK for ``enc``; every failure is :class:`DecryptionError`."""
    if len(encrypted_key) != enc.key_size + 8:
        raise DecryptionError()
    try:
        return keywrap.aes_key_unwrap(kek, encrypted_key)
    except (keywrap.InvalidUnwrap, ValueError):
        raise DecryptionError() from None


@dataclass(frozen=True)
class AESKW(KeyManagementAlgorithm):
    """A128KW, A192KW, A256KW: AES Key Wrap (RFC 3394) with a 128/192/256-bit key
    (RFC 7518 §4.4)."""

    key_size: int = 16

    def _kek(self, key: Key) -> bytes:
        secret = _oct(self.name, key).secret
        if len(secret) != self.key_size:
            raise InvalidKey(f"{self.name} needs a key of exactly {self.key_size} bytes")
        return secret

    def check_key(
        self, key: Key, enc: ContentEncryptionAlgorithm, parameters: KeyParameters
    ) -> None:
        self._kek(key)

    def unwrapper(self, key: Key, enc: ContentEncryptionAlgorithm) -> UnwrapFunction:
        kek = self._kek(key)

        def unwrap(parameters: KeyParameters, encrypted_key: bytes) -> bytes:
            return _kw_unwrap(kek, encrypted_key, enc)

        return unwrap

    def wrap(
        self,
        key: Key,
        enc: ContentEncryptionAlgorithm,
        header: Mapping[str, Any],
        cek: bytes | None = None,
        *,
        ephemeral: Key | None = None,
        iv: bytes | None = None,
    ) -> WrapResult:
        key.check_usable(self.name, self.wrap_operation)
        kek = self._kek(key)
        cek = self._checked_cek(cek, enc)
        return WrapResult(cek, keywrap.aes_key_wrap(kek, cek), {})


@dataclass(frozen=True)
class AESGCMKW(AESKW):
    """A128GCMKW, A192GCMKW, A256GCMKW: the CEK encrypted with AES-GCM; the 96-bit IV and
    the 128-bit tag travel in the ``iv`` and ``tag`` header parameters (RFC 7518 §4.7)."""

    def read_parameters(self, header: Mapping[str, Any], max_pbes2_count: int) -> KeyParameters:
        iv = _b64_parameter(header, "iv", required=True)
        tag = _b64_parameter(header, "tag", required=True)
        if len(iv) != 12:
            raise MalformedToken(f"header: 'iv' of {self.name} must be 96 bits (RFC 7518 §4.7.1.1)")
        if len(tag) != 16:
            raise MalformedToken(
                f"header: 'tag' of {self.name} must be 128 bits (RFC 7518 §4.7.1.2)"
            )
        return KeyParameters(iv=iv, tag=tag)

    def unwrapper(self, key: Key, enc: ContentEncryptionAlgorithm) -> UnwrapFunction:
        aead = AESGCM(self._kek(key))
        size = enc.key_size

        def unwrap(parameters: KeyParameters, encrypted_key: bytes) -> bytes:
            try:
                cek = aead.decrypt(parameters.iv, encrypted_key + parameters.tag, b"")
            except InvalidTag:
                raise DecryptionError() from None
            if len(cek) != size:
                raise DecryptionError()
            return cek

        return unwrap

    def wrap(
        self,
        key: Key,
        enc: ContentEncryptionAlgorithm,
        header: Mapping[str, Any],
        cek: bytes | None = None,
        *,
        ephemeral: Key | None = None,
        iv: bytes | None = None,
    ) -> WrapResult:
        key.check_usable(self.name, self.wrap_operation)
        kek = self._kek(key)
        cek = self._checked_cek(cek, enc)
        nonce = secrets.token_bytes(12) if iv is None else iv
        sealed = AESGCM(kek).encrypt(nonce, cek, b"")
        return WrapResult(
            cek, sealed[:-16], {"iv": b64url_encode(nonce), "tag": b64url_encode(sealed[-16:])}
        )


@dataclass(frozen=True)
class Direct(KeyManagementAlgorithm):
    """``dir`` (RFC 7518 §4.5): the shared symmetric key *is* the CEK; no encrypted key.

    The key must be exactly as long as the ``enc`` algorithm's CEK.
    """

    wrap_operation: ClassVar[str] = "encrypt"
    unwrap_operation: ClassVar[str] = "decrypt"

    @property
    def direct(self) -> bool:
        """Always ``True``: the key is the CEK."""
        return True

    def _cek(self, key: Key, enc: ContentEncryptionAlgorithm) -> bytes:
        secret = _oct(self.name, key).secret
        if len(secret) != enc.key_size:
            raise InvalidKey(
                f"'dir' with {enc.name} needs a key of exactly {enc.key_size} bytes, "
                f"got {len(secret)}"
            )
        return secret

    def check_key(
        self, key: Key, enc: ContentEncryptionAlgorithm, parameters: KeyParameters
    ) -> None:
        self._cek(key, enc)

    def unwrapper(self, key: Key, enc: ContentEncryptionAlgorithm) -> UnwrapFunction:
        cek = self._cek(key, enc)

        def unwrap(parameters: KeyParameters, encrypted_key: bytes) -> bytes:
            return cek

        return unwrap

    def wrap(
        self,
        key: Key,
        enc: ContentEncryptionAlgorithm,
        header: Mapping[str, Any],
        cek: bytes | None = None,
        *,
        ephemeral: Key | None = None,
        iv: bytes | None = None,
    ) -> WrapResult:
        key.check_usable(self.name, self.wrap_operation)
        return WrapResult(self._cek(key, enc), b"", {})


# -- ECDH-ES --------------------------------------------------------------------------------


def concat_kdf_other_info(algorithm_id: str, apu: bytes, apv: bytes, key_bits: int) -> bytes:
    """OtherInfo of the Concat KDF as RFC 7518 §4.6.2 builds it.

    ``AlgorithmID || PartyUInfo || PartyVInfo || SuppPubInfo``, each of the first three as a
    32-bit big-endian length followed by the data, SuppPubInfo as the key length in bits
    (32-bit big-endian); SuppPrivInfo is empty.
    """
    parts = [algorithm_id.encode("ascii"), apu, apv]
    out = b"".join(len(part).to_bytes(4, "big") + part for part in parts)
    return out + key_bits.to_bytes(4, "big")


def concat_kdf(z: bytes, algorithm_id: str, apu: bytes, apv: bytes, key_size: int) -> bytes:
    """The Concat KDF of NIST SP 800-56A §5.8.1 with SHA-256, as RFC 7518 §4.6.2 uses it."""
    other_info = concat_kdf_other_info(algorithm_id, apu, apv, key_size * 8)
    return ConcatKDFHash(hashes.SHA256(), key_size, other_info).derive(z)


def ecdh_shared_secret(private: Key, public: Key) -> bytes:
    """Z: the ECDH (P-256/384/521) or X25519/X448 shared secret of two keys on one curve.

    Raises :class:`ValueError` when the exchange fails (an X25519/X448 low-order point gives
    the all-zero secret, which ``cryptography`` refuses, RFC 7748 §6).
    """
    if isinstance(private, ECKey) and isinstance(public, ECKey):
        ec_private = private.crypto_private_key
        if ec_private is None:
            raise ValueError("ECDH needs a private key")
        return ec_private.exchange(ec.ECDH(), public.crypto_public_key)
    if isinstance(private, OKPKey) and isinstance(public, OKPKey):
        okp_private = private.crypto_private_key
        okp_public = public.crypto_public_key
        if isinstance(okp_private, x25519.X25519PrivateKey) and isinstance(
            okp_public, x25519.X25519PublicKey
        ):
            return okp_private.exchange(okp_public)
        if isinstance(okp_private, x448.X448PrivateKey) and isinstance(
            okp_public, x448.X448PublicKey
        ):
            return okp_private.exchange(okp_public)
    raise ValueError("ECDH needs a private and a public key on the same curve")


def _curve(key: Key) -> str | None:
    """The ECDH curve of a key, or ``None`` when the key is not an ECDH key."""
    if isinstance(key, ECKey) and key.crv in _ECDH_EC_CURVES:
        return key.crv
    if isinstance(key, OKPKey) and key.crv in _ECDH_OKP_CURVES:
        return key.crv
    return None


def _parse_epk(header: Mapping[str, Any]) -> ECKey | OKPKey:
    """The ``epk`` header parameter as a validated public key (RFC 7518 §4.6.1.1, C1)."""
    if "epk" not in header:
        raise MalformedToken("header: 'epk' is missing (RFC 7518 §4.6.1.1)")
    epk = header["epk"]
    if type(epk) is not dict:
        raise MalformedToken("header: 'epk' must be a JWK object")
    if "d" in epk:
        raise MalformedToken("header: 'epk' must be a public key")
    try:
        key = Key.from_jwk(epk)
    except InvalidKey as exc:
        raise MalformedToken(f"header: 'epk' is not a valid public key: {exc.message}") from None
    if not isinstance(key, (ECKey, OKPKey)) or _curve(key) is None:
        raise MalformedToken(
            "header: 'epk' must be an EC key on P-256, P-384 or P-521, or an OKP key on "
            "X25519 or X448 (RFC 7518 §4.6, RFC 8037 §3.2)"
        )
    return key


def _exchange(key: Key) -> _Exchange | None:
    """The ECDH (or X25519/X448) key agreement of a private key with a public key on its
    curve; ``None`` for a public key, which cannot agree a key."""
    private = key.crypto_private_key if isinstance(key, (ECKey, OKPKey)) else None
    if isinstance(private, ec.EllipticCurvePrivateKey):
        return partial(private.exchange, _ECDH)
    if isinstance(private, (x25519.X25519PrivateKey, x448.X448PrivateKey)):
        return private.exchange
    return None


def _generate_ephemeral(curve: str) -> Key:
    if curve in _ECDH_EC_CURVES:
        return ECKey(ec.generate_private_key(_ECDH_EC_CURVES[curve]))
    if curve == "X25519":
        return OKPKey(x25519.X25519PrivateKey.generate())
    return OKPKey(x448.X448PrivateKey.generate())


@dataclass(frozen=True)
class ECDHES(KeyManagementAlgorithm):
    """ECDH-ES and ECDH-ES+A128KW/A192KW/A256KW on P-256/384/521 (RFC 7518 §4.6) and
    X25519/X448 (RFC 8037 §3.2).

    The agreed key is ``ConcatKDF(Z, AlgorithmID, apu, apv)`` where AlgorithmID is the ``enc``
    value in direct mode and the ``alg`` value with key wrapping (RFC 7518 §4.6.2). In direct
    mode it is the CEK; otherwise it wraps the CEK with AES key wrap.

    .. warning::
       ``epk`` must be a public key on the recipient key's own curve; anything else is refused
       before any key agreement (invalid-curve attacks, security matrix C1).
    """

    #: The AES key wrap key size in bytes, or ``None`` for direct key agreement.
    wrap_size: int | None = None
    wrap_operation: ClassVar[str] = "wrapKey"
    unwrap_operation: ClassVar[str] = "deriveKey"

    @property
    def direct(self) -> bool:
        """``True`` for ``ECDH-ES`` (direct key agreement), ``False`` with key wrapping."""
        return self.wrap_size is None

    def _derive(self, z: bytes, enc: ContentEncryptionAlgorithm, apu: bytes, apv: bytes) -> bytes:
        if self.wrap_size is None:
            return concat_kdf(z, enc.name, apu, apv, enc.key_size)
        return concat_kdf(z, self.name, apu, apv, self.wrap_size)

    def read_parameters(self, header: Mapping[str, Any], max_pbes2_count: int) -> KeyParameters:
        return KeyParameters(
            epk=_parse_epk(header),
            apu=_b64_parameter(header, "apu", required=False),
            apv=_b64_parameter(header, "apv", required=False),
        )

    def check_key(
        self, key: Key, enc: ContentEncryptionAlgorithm, parameters: KeyParameters
    ) -> None:
        curve = _curve(key)
        if curve is None:
            raise InvalidKey(f"{self.name} needs an EC (P-256/384/521) or X25519/X448 key")
        assert parameters.epk is not None  # noqa: S101 - read_parameters always sets it
        if parameters.epk.kty != key.kty or _curve(parameters.epk) != curve:
            raise InvalidKey(
                f"header 'epk' is on {parameters.epk.crv} but the key is on {curve}: "
                "both must be on the same curve (RFC 7518 §4.6)"
            )

    def unwrapper(self, key: Key, enc: ContentEncryptionAlgorithm) -> UnwrapFunction:
        """``unwrap(parameters, encrypted_key)`` with the key agreement of ``key`` prepared.

        ``parameters.epk`` (or ``epk_public``) must be on the key's own curve: ``check_key``
        with the parameters says so before a token is unwrapped (C1).
        """
        if _curve(key) is None:
            raise InvalidKey(f"{self.name} needs an EC (P-256/384/521) or X25519/X448 key")
        exchange = _exchange(key)
        derive = self._derive
        wrapped = self.wrap_size is not None

        def unwrap(parameters: KeyParameters, encrypted_key: bytes) -> bytes:
            public: Any = parameters.epk_public
            if public is None:
                assert parameters.epk is not None  # noqa: S101 - read_parameters always sets it
                public = parameters.epk.crypto_public_key
            if exchange is None:  # a public key (candidates are checked for "deriveKey")
                raise DecryptionError()
            try:
                # X25519/X448: the all-zero secret of a low-order point raises (RFC 7748 §6).
                z = exchange(public)
            except ValueError:
                raise DecryptionError() from None
            derived = derive(z, enc, parameters.apu, parameters.apv)
            return _kw_unwrap(derived, encrypted_key, enc) if wrapped else derived

        return unwrap

    def unwrap(
        self,
        key: Key,
        enc: ContentEncryptionAlgorithm,
        parameters: KeyParameters,
        encrypted_key: bytes,
    ) -> bytes:
        self.check_key(key, enc, parameters)
        return self.unwrapper(key, enc)(parameters, encrypted_key)

    def wrap(
        self,
        key: Key,
        enc: ContentEncryptionAlgorithm,
        header: Mapping[str, Any],
        cek: bytes | None = None,
        *,
        ephemeral: Key | None = None,
        iv: bytes | None = None,
    ) -> WrapResult:
        curve = _curve(key)
        if curve is None:
            raise InvalidKey(f"{self.name} needs an EC (P-256/384/521) or X25519/X448 key")
        key.check_usable(self.name, self.wrap_operation)
        if self.wrap_size is None and cek is not None:
            raise UsageError("ECDH-ES agrees the CEK itself; it cannot share another one")
        apu = _caller_parameter(header, "apu")
        apv = _caller_parameter(header, "apv")
        if ephemeral is None:
            ephemeral = _generate_ephemeral(curve)
        public = key.public_key() if key.is_private else key
        try:
            z = ecdh_shared_secret(ephemeral, public)
        except ValueError:
            raise InvalidKey(
                f"{self.name}: no shared secret with this {curve} key (a low-order point?)"
            ) from None
        epk = ephemeral.public_key().to_jwk()
        derived = self._derive(z, enc, apu, apv)
        if self.wrap_size is None:
            return WrapResult(derived, b"", {"epk": epk})
        cek = self._checked_cek(cek, enc)
        return WrapResult(cek, keywrap.aes_key_wrap(derived, cek), {"epk": epk})


# -- PBES2 ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PBES2(KeyManagementAlgorithm):
    """PBES2-HS256+A128KW, PBES2-HS384+A192KW, PBES2-HS512+A256KW (RFC 7518 §4.8): a key
    derived from a password with PBKDF2 (RFC 8018 §5.2) wraps the CEK with AES key wrap.

    The salt is ``UTF8(alg) || 0x00 || p2s`` (§4.8.1.1); the key is the ``oct`` key's secret
    (the password's UTF-8 bytes). Only when opted in.

    .. warning::
       ``p2c`` is attacker-controlled work: decryption refuses a count that is not an integer,
       is below 1000 or is above ``max_pbes2_count`` (default 600,000), and a ``p2s`` shorter
       than 8 bytes, before deriving anything (CVE-2022-36083, CVE-2023-52428; C5).
    """

    hash_name: str = "SHA256"
    key_size: int = 16
    opt_in: ClassVar[bool] = True

    def _password(self, key: Key) -> bytes:
        return _oct(self.name, key).secret

    def _kek(self, password: bytes, p2s: bytes, p2c: int) -> bytes:
        salt = self.name.encode("utf-8") + b"\x00" + p2s
        kdf = PBKDF2HMAC(_HASHES[self.hash_name](), self.key_size, salt, p2c)
        return kdf.derive(password)

    def read_parameters(self, header: Mapping[str, Any], max_pbes2_count: int) -> KeyParameters:
        p2s = _b64_parameter(header, "p2s", required=True)
        if len(p2s) < MIN_PBES2_SALT:
            raise MalformedToken(
                f"header: 'p2s' must hold at least {MIN_PBES2_SALT} bytes (RFC 7518 §4.8.1.1)"
            )
        if "p2c" not in header:
            raise MalformedToken("header: 'p2c' is missing (RFC 7518 §4.8.1.2)")
        p2c = header["p2c"]
        if type(p2c) is not int:
            raise MalformedToken("header: 'p2c' must be an integer (RFC 7518 §4.8.1.2)")
        if p2c < MIN_PBES2_COUNT:
            raise MalformedToken(
                f"header: 'p2c' {p2c} is below the minimum {MIN_PBES2_COUNT} (RFC 7518 §4.8.1.2)"
            )
        if p2c > max_pbes2_count:
            raise MalformedToken(
                f"header: 'p2c' {short(str(p2c))} is above the maximum {max_pbes2_count} "
                "(max_pbes2_count)"
            )
        return KeyParameters(p2s=p2s, p2c=p2c)

    def check_key(
        self, key: Key, enc: ContentEncryptionAlgorithm, parameters: KeyParameters
    ) -> None:
        self._password(key)

    def unwrapper(self, key: Key, enc: ContentEncryptionAlgorithm) -> UnwrapFunction:
        password = self._password(key)

        def unwrap(parameters: KeyParameters, encrypted_key: bytes) -> bytes:
            kek = self._kek(password, parameters.p2s, parameters.p2c)
            return _kw_unwrap(kek, encrypted_key, enc)

        return unwrap

    def wrap(
        self,
        key: Key,
        enc: ContentEncryptionAlgorithm,
        header: Mapping[str, Any],
        cek: bytes | None = None,
        *,
        ephemeral: Key | None = None,
        iv: bytes | None = None,
    ) -> WrapResult:
        key.check_usable(self.name, self.wrap_operation)
        password = self._password(key)
        published: Header = {}
        if "p2s" in header:
            p2s = _caller_parameter(header, "p2s")
            if len(p2s) < MIN_PBES2_SALT:
                raise UsageError(f"'p2s' must hold at least {MIN_PBES2_SALT} bytes")
        else:
            p2s = secrets.token_bytes(16)
            published["p2s"] = b64url_encode(p2s)
        if "p2c" in header:
            p2c = header["p2c"]
            if type(p2c) is not int or p2c < MIN_PBES2_COUNT:
                raise UsageError(f"'p2c' must be an integer of at least {MIN_PBES2_COUNT}")
        else:
            p2c = DEFAULT_PBES2_COUNT
            published["p2c"] = p2c
        cek = self._checked_cek(cek, enc)
        kek = self._kek(password, p2s, p2c)
        return WrapResult(cek, keywrap.aes_key_wrap(kek, cek), published)
