"""JSON Web Encryption (RFC 7516): encrypt bytes to a key, decrypt compact or JSON JWEs.

::

    token = jwtkit.jwe.encrypt(b"secret", key.public_key(), algorithm="RSA-OAEP-256",
                               encryption="A256GCM")
    result = jwtkit.jwe.decrypt(token, key, algorithms=["RSA-OAEP-256"], encryptions=["A256GCM"])
    result.plaintext, result.header, result.key

    # Many tokens, the same keys: check the arguments and prepare the keys once.
    decrypter = jwtkit.jwe.Decrypter(key, algorithms=["RSA-OAEP-256"], encryptions=["A256GCM"])
    decrypter.decrypt(token).plaintext

Key management (RFC 7518 §4, RFC 8037 §3.2): ``RSA-OAEP``, ``RSA-OAEP-256/384/512``,
``A128KW``/``A192KW``/``A256KW``, ``dir``, ``ECDH-ES`` and ``ECDH-ES+A128KW/A192KW/A256KW``
(P-256/384/521, X25519, X448), ``A128GCMKW``/``A192GCMKW``/``A256GCMKW``; opt-in only:
``RSA1_5`` (decryption only) and PBES2. Content encryption (RFC 7518 §5): ``A128CBC-HS256``,
``A192CBC-HS384``, ``A256CBC-HS512``, ``A128GCM``, ``A192GCM``, ``A256GCM``. ``zip: DEF``
(RFC 7516 §4.1.3) with a capped output.

Decryption needs allow-lists for both ``alg`` and ``enc``, uses only the keys you pass, and
fails with one opaque :class:`~jwtkit.errors.DecryptionError` whatever went wrong inside.
"""

from __future__ import annotations

from ._jwe_common import (
    DEFAULT_MAX_DECOMPRESSED_SIZE,
    DEFAULT_MAX_PBES2_COUNT,
    DEFAULT_MAX_RECIPIENTS,
    DecryptedJWE,
)
from ._jwe_decrypt import Decrypter, decrypt, decrypt_json
from ._jwe_encrypt import Recipient, encrypt, encrypt_json

__all__ = [
    "DEFAULT_MAX_DECOMPRESSED_SIZE",
    "DEFAULT_MAX_PBES2_COUNT",
    "DEFAULT_MAX_RECIPIENTS",
    "DecryptedJWE",
    "Decrypter",
    "Recipient",
    "decrypt",
    "decrypt_json",
    "encrypt",
    "encrypt_json",
]
