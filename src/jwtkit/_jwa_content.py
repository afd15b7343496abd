"""JWE content encryption (RFC 7518 §5): AES_CBC_HMAC_SHA2 (§5.2) and AES-GCM (§5.3).

Each ``enc`` value is a small immutable object with ``encrypt(cek, iv, plaintext, aad)`` and
``decrypt(cek, iv, ciphertext, tag, aad)``; ``decrypter(cek)`` prepares the decryption with a
fixed CEK once (``dir``). Every failure of ``decrypt`` (a CEK, IV or tag of
the wrong length, a bad tag, bad padding) raises the one opaque
:class:`~jwtkit.errors.DecryptionError`, so that no failure can be told from another
(RFC 7516 §11.5, security matrix C3, C4).

.. warning::
   AES-CBC-HMAC checks the *full* authentication tag, in constant time, *before* anything is
   decrypted (RFC 7518 §5.2.2.2): no padding error can ever be observed (a padding oracle).

Every primitive comes from ``cryptography`` (AES-CBC, AES-GCM, PKCS#7) or the standard
library (``hmac``); nothing is hand-rolled.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import DecryptionError

__all__ = [
    "AESCBCHMAC",
    "AESGCMContent",
    "ContentDecryptFunction",
    "ContentEncryptionAlgorithm",
    "additional_length",
]

_BLOCK = 16

#: ``decrypt(iv, ciphertext, tag, aad) -> plaintext`` with one CEK (``decrypter``).
ContentDecryptFunction = Callable[[bytes, bytes, bytes, bytes], bytes]


@dataclass(frozen=True)
class ContentEncryptionAlgorithm:
    """A JWE ``enc`` value (RFC 7516 §4.1.2): authenticated encryption of the plaintext.

    ``key_size`` is the length in bytes of the Content Encryption Key (CEK), ``iv_size`` of the
    Initialization Vector and ``tag_size`` of the Authentication Tag.
    """

    name: str
    key_size: int
    iv_size: int
    tag_size: int

    def generate_cek(self) -> bytes:
        """A fresh random CEK of ``key_size`` bytes (RFC 7516 §5.1 step 2)."""
        return secrets.token_bytes(self.key_size)

    def generate_iv(self) -> bytes:
        """A fresh random IV of ``iv_size`` bytes (RFC 7516 §5.1 step 9)."""
        return secrets.token_bytes(self.iv_size)

    def encrypt(self, cek: bytes, iv: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
        """``(ciphertext, tag)`` for ``plaintext`` with ``aad`` authenticated (RFC 7516 §5.1)."""
        raise NotImplementedError

    def decrypt(self, cek: bytes, iv: bytes, ciphertext: bytes, tag: bytes, aad: bytes) -> bytes:
        """The plaintext, or :class:`~jwtkit.errors.DecryptionError` (RFC 7516 §5.2)."""
        raise NotImplementedError

    def decrypter(self, cek: bytes) -> ContentDecryptFunction:
        """Return ``decrypt(iv, ciphertext, tag, aad) -> plaintext`` bound to one CEK, with the
        per-key work done once (for ``dir``, whose CEK is the key); errors as :meth:`decrypt`."""
        return partial(self.decrypt, cek)


def additional_length(aad: bytes) -> bytes:
    """AL: the number of *bits* in ``aad`` as a 64-bit big-endian integer (RFC 7518 §5.2.2.1)."""
    return (len(aad) * 8).to_bytes(8, "big")


@dataclass(frozen=True)
class AESCBCHMAC(ContentEncryptionAlgorithm):
    """A128CBC-HS256, A192CBC-HS384, A256CBC-HS512 (RFC 7518 §5.2).

    The CEK is ``MAC_KEY || ENC_KEY``, two halves of equal length (§5.2.2.1). The tag is the
    first half of ``HMAC(MAC_KEY, A || IV || E || AL)``. Decryption compares the whole tag in
    constant time and decrypts only when it matches (§5.2.2.2, security matrix C3).
    """

    hash_name: str = "sha256"

    def split_key(self, cek: bytes) -> tuple[bytes, bytes]:
        """``(MAC_KEY, ENC_KEY)``: the first and the second half of the CEK (§5.2.2.1)."""
        half = self.key_size // 2
        return cek[:half], cek[half:]

    def full_mac(self, mac_key: bytes, aad: bytes, iv: bytes, ciphertext: bytes) -> bytes:
        """M: the HMAC over ``A || IV || E || AL``, not yet truncated (§5.2.2.1 step 5)."""
        mac = hmac.new(mac_key, aad, self.hash_name)
        mac.update(iv)
        mac.update(ciphertext)
        mac.update(additional_length(aad))
        return mac.digest()

    def encrypt(self, cek: bytes, iv: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
        if len(cek) != self.key_size or len(iv) != self.iv_size:
            raise ValueError(f"{self.name} needs a {self.key_size}-byte CEK and a 16-byte IV")
        mac_key, enc_key = self.split_key(cek)
        padder = padding.PKCS7(algorithms.AES.block_size).padder()
        padded = padder.update(plaintext) + padder.finalize()
        encryptor = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).encryptor()
        ciphertext = encryptor.update(padded) + encryptor.finalize()
        tag = self.full_mac(mac_key, aad, iv, ciphertext)[: self.tag_size]
        return ciphertext, tag

    def decrypt(self, cek: bytes, iv: bytes, ciphertext: bytes, tag: bytes, aad: bytes) -> bytes:
        if (
            len(cek) != self.key_size
            or len(iv) != self.iv_size
            or len(tag) != self.tag_size
            or not ciphertext
            or len(ciphertext) % _BLOCK
        ):
            raise DecryptionError()
        mac_key, enc_key = self.split_key(cek)
        expected = self.full_mac(mac_key, aad, iv, ciphertext)[: self.tag_size]
        # The whole tag, in constant time, before any decryption (RFC 7518 §5.2.2.2).
        if not hmac.compare_digest(expected, tag):
            raise DecryptionError()
        decryptor = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        unpadder = padding.PKCS7(algorithms.AES.block_size).unpadder()
        try:
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            # Only reachable with a valid tag, i.e. by the holder of the key itself.
            raise DecryptionError() from None


@dataclass(frozen=True)
class AESGCMContent(ContentEncryptionAlgorithm):
    """A128GCM, A192GCM, A256GCM (RFC 7518 §5.3): a 96-bit IV and a 128-bit tag, exactly.

    A shorter tag or another IV length is refused before any decryption (security matrix C4).
    """

    def encrypt(self, cek: bytes, iv: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
        if len(cek) != self.key_size or len(iv) != self.iv_size:
            raise ValueError(f"{self.name} needs a {self.key_size}-byte CEK and a 12-byte IV")
        sealed = AESGCM(cek).encrypt(iv, plaintext, aad)
        return sealed[: -self.tag_size], sealed[-self.tag_size :]

    def decrypt(self, cek: bytes, iv: bytes, ciphertext: bytes, tag: bytes, aad: bytes) -> bytes:
        if len(cek) != self.key_size or len(iv) != self.iv_size or len(tag) != self.tag_size:
            raise DecryptionError()
        try:
            return AESGCM(cek).decrypt(iv, ciphertext + tag, aad)
        except InvalidTag:
            raise DecryptionError() from None

    def decrypter(self, cek: bytes) -> ContentDecryptFunction:
        if len(cek) != self.key_size:  # pragma: no cover - a dir key has the CEK's length
            return super().decrypter(cek)
        aead = AESGCM(cek)
        iv_size, tag_size = self.iv_size, self.tag_size

        def decrypt(iv: bytes, ciphertext: bytes, tag: bytes, aad: bytes) -> bytes:
            if len(iv) != iv_size or len(tag) != tag_size:
                raise DecryptionError()
            try:
                return aead.decrypt(iv, ciphertext + tag, aad)
            except InvalidTag:
                raise DecryptionError() from None

        return decrypt
