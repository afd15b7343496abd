"""jwtkit: JSON Web Tokens for Python, complete, fast and safe by default.

::

    import jwtkit

    key = jwtkit.Key.generate("ES256")
    token = jwtkit.encode({"sub": "42"}, key, expires_in=900)
    claims = jwtkit.decode(token, key.public_key(), algorithms=["ES256"])

    verifier = jwtkit.Verifier(key.public_key(), algorithms=["ES256"], issuer="https://id.example")
    claims = verifier.decode(token)

Modules: :mod:`jwtkit.jwk` (keys), :mod:`jwtkit.jwa` (algorithms), :mod:`jwtkit.jws`
(signatures), :mod:`jwtkit.jwe` (encryption), :mod:`jwtkit.jwt` (tokens), :mod:`jwtkit.errors`
(every error, one root), :mod:`jwtkit.oidc` (OpenID Connect ID tokens, checked by a relying
party), :mod:`jwtkit.testing` (a frozen clock for tests), :mod:`jwtkit.x509` (``x5c`` certificate
chains validated against the caller's trust anchors).
"""

from __future__ import annotations

from . import dpop, errors, jwa, jwe, jwk, jws, jwt, oidc, sd_jwt, testing, x509
from ._jwt import (
    DecodedJWT,
    Verifier,
    decode,
    decode_complete,
    decode_unverified,
    encode,
)
from ._keysource import AsyncKeyProvider, KeyProvider
from .errors import (
    AlgorithmNotAllowed,
    AmbiguousKey,
    ClaimError,
    DecodeError,
    DecryptionError,
    DPoPNonceRequired,
    ExpiredSignatureError,
    ExpiredToken,
    ImmatureSignatureError,
    InvalidAlgorithmError,
    InvalidAudience,
    InvalidAudienceError,
    InvalidDPoPProof,
    InvalidIssuer,
    InvalidIssuerError,
    InvalidKey,
    InvalidKeyBinding,
    InvalidKeyError,
    InvalidNonce,
    InvalidSDJWT,
    InvalidSignature,
    InvalidSignatureError,
    InvalidSubject,
    InvalidTokenError,
    InvalidTokenHash,
    InvalidType,
    JWTError,
    KeyNotFound,
    MalformedToken,
    MissingClaim,
    MissingRequiredClaimError,
    MissingSignature,
    NotYetValid,
    PyJWTError,
    TokenTooLarge,
    UnsupportedCritical,
    UntrustedCertificate,
    UsageError,
)
from .jwk import AKPKey, ECKey, Key, KeySet, OctKey, OKPKey, RSAKey

__version__ = "0.1.0.dev0"

__all__ = [
    "AKPKey",
    "AlgorithmNotAllowed",
    "AmbiguousKey",
    "AsyncKeyProvider",
    "ClaimError",
    "DPoPNonceRequired",
    "DecodeError",
    "DecodedJWT",
    "DecryptionError",
    "ECKey",
    "ExpiredSignatureError",
    "ExpiredToken",
    "ImmatureSignatureError",
    "InvalidAlgorithmError",
    "InvalidAudience",
    "InvalidAudienceError",
    "InvalidDPoPProof",
    "InvalidIssuer",
    "InvalidIssuerError",
    "InvalidKey",
    "InvalidKeyBinding",
    "InvalidKeyError",
    "InvalidNonce",
    "InvalidSDJWT",
    "InvalidSignature",
    "InvalidSignatureError",
    "InvalidSubject",
    "InvalidTokenError",
    "InvalidTokenHash",
    "InvalidType",
    "JWTError",
    "Key",
    "KeyNotFound",
    "KeyProvider",
    "KeySet",
    "MalformedToken",
    "MissingClaim",
    "MissingRequiredClaimError",
    "MissingSignature",
    "NotYetValid",
    "OKPKey",
    "OctKey",
    "PyJWTError",
    "RSAKey",
    "TokenTooLarge",
    "UnsupportedCritical",
    "UntrustedCertificate",
    "UsageError",
    "Verifier",
    "__version__",
    "decode",
    "decode_complete",
    "decode_unverified",
    "dpop",
    "encode",
    "errors",
    "jwa",
    "jwe",
    "jwk",
    "jws",
    "jwt",
    "oidc",
    "sd_jwt",
    "testing",
    "x509",
]
