"""Keys and token builders shared by the JWE tests (RSA keys are slow: each is made once)."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import padding

from jwtkit import jwa
from jwtkit._codec import b64url_encode, json_dumps
from jwtkit.jwk import ECKey, Key, OctKey, OKPKey, RSAKey

__all__ = [
    "ALL_ALGORITHMS",
    "ENCRYPTIONS",
    "OPT_IN",
    "PBES2_NAMES",
    "decryption_key",
    "encryption_key",
    "opt_in_registry",
    "rsa1_5_token",
    "rsa_key",
]

ENCRYPTIONS = (
    "A128CBC-HS256",
    "A192CBC-HS384",
    "A256CBC-HS512",
    "A128GCM",
    "A192GCM",
    "A256GCM",
)
PBES2_NAMES = ("PBES2-HS256+A128KW", "PBES2-HS384+A192KW", "PBES2-HS512+A256KW")
#: Every key-management algorithm, with the curve or key kind each test uses for it.
ALL_ALGORITHMS = (
    "RSA-OAEP",
    "RSA-OAEP-256",
    "RSA-OAEP-384",
    "RSA-OAEP-512",
    "RSA1_5",
    "A128KW",
    "A192KW",
    "A256KW",
    "dir",
    "ECDH-ES",
    "ECDH-ES+A128KW",
    "ECDH-ES+A192KW",
    "ECDH-ES+A256KW",
    "A128GCMKW",
    "A192GCMKW",
    "A256GCMKW",
    *PBES2_NAMES,
)
_KW_SIZES = {"A128": 16, "A192": 24, "A256": 32}
_DIR_SIZES = {name: jwa.CONTENT_ENCRYPTION_ALGORITHMS[name].key_size for name in ENCRYPTIONS}


def opt_in_registry() -> jwa.Registry:
    """The default registry plus RSA1_5 and the three PBES2 algorithms (warnings silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwa.InsecureAlgorithmWarning)
        return jwa.DEFAULT_REGISTRY.including(
            jwa.RSA1_5, jwa.PBES2_HS256_A128KW, jwa.PBES2_HS384_A192KW, jwa.PBES2_HS512_A256KW
        )


OPT_IN = opt_in_registry()


@functools.cache
def rsa_key(index: int = 0) -> RSAKey:
    """A 2048-bit RSA private key, made once per ``index``."""
    return RSAKey.generate("RSA")


@functools.cache
def _curve_key(crv: str) -> Key:
    kty = "EC" if crv.startswith("P-") else "OKP"
    return ECKey.generate(crv=crv) if kty == "EC" else OKPKey.generate(crv=crv)


@functools.cache
def _oct(size: int, salt: int = 0) -> OctKey:
    return OctKey.generate(size * 8)


def decryption_key(alg: str, enc: str = "A128GCM", curve: str = "P-256") -> Key:
    """A private (or secret) key that fits ``alg`` (and ``enc`` for ``dir``)."""
    if alg.startswith("RSA"):
        return rsa_key()
    if alg.startswith("ECDH-ES"):
        return _curve_key(curve)
    if alg == "dir":
        return _oct(_DIR_SIZES[enc])
    if alg.startswith("PBES2"):
        return OctKey(b"correct horse battery staple")
    return _oct(_KW_SIZES[alg[:4]])


def encryption_key(alg: str, enc: str = "A128GCM", curve: str = "P-256") -> Key:
    """What a producer holds for ``alg``: the public key, or the same secret."""
    key = decryption_key(alg, enc, curve)
    return key if isinstance(key, OctKey) else key.public_key()


def rsa1_5_token(
    key: RSAKey,
    plaintext: bytes,
    enc_name: str = "A128CBC-HS256",
    *,
    header: Mapping[str, Any] | None = None,
    cek: bytes | None = None,
    encrypted_key: bytes | None = None,
) -> str:
    """A compact RSA1_5 JWE, built by hand: jwtkit itself never produces RSA1_5."""
    enc = jwa.CONTENT_ENCRYPTION_ALGORITHMS[enc_name]
    cek = enc.generate_cek() if cek is None else cek
    protected = b64url_encode(json_dumps({"alg": "RSA1_5", "enc": enc_name, **(header or {})}))
    if encrypted_key is None:
        encrypted_key = key.crypto_public_key.encrypt(cek, padding.PKCS1v15())
    iv = enc.generate_iv()
    ciphertext, tag = enc.encrypt(cek, iv, plaintext, protected.encode("ascii"))
    return ".".join(
        [protected, *(b64url_encode(part) for part in (encrypted_key, iv, ciphertext, tag))]
    )
