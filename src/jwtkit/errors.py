"""Every error jwtkit raises, under one root, each with a stable machine-readable ``code``.

The hierarchy::

    JWTError                    code                    meaning
    ├── UsageError              "usage_error"           the call itself is wrong
    ├── MalformedToken          "malformed"             bad format, base64url, JSON or header
    │   ├── TokenTooLarge       "token_too_large"
    │   └── UnsupportedCritical "unsupported_critical"  ``crit`` names an unknown extension
    ├── AlgorithmNotAllowed     "algorithm_not_allowed" not allowed, or unknown
    ├── InvalidKey              "invalid_key"           unusable key, or key/algorithm mismatch
    │   ├── KeyNotFound         "key_not_found"         no trusted key fits the kid and alg
    │   │   └── AmbiguousKey    "ambiguous_key"         the kid names several keys that fit
    │   └── UntrustedCertificate "untrusted_certificate" an ``x5c`` chain fails (``.reason``)
    ├── InvalidSignature        "invalid_signature"     does not verify (always opaque)
    │   └── MissingSignature    "missing_signature"     a signature the policy requires is absent
    ├── DecryptionError         "decryption_failed"     a JWE does not decrypt (always opaque)
    ├── InvalidDPoPProof        "invalid_dpop_proof"    a DPoP proof fails (RFC 9449 §4.3)
    │   └── DPoPNonceRequired   "use_dpop_nonce"        the proof lacks the server's nonce
    ├── InvalidSDJWT            "invalid_sd_jwt"        an SD-JWT's Disclosures or digests fail
    │   │                                               (RFC 9901 §7.1)
    │   └── InvalidKeyBinding   "invalid_key_binding"   the Key Binding JWT is missing or fails
    │                                                   (RFC 9901 §7.3)
    └── ClaimError              "invalid_claim"         a claim failed (``.claim``, ``.reason``)
        ├── ExpiredToken        "expired"
        ├── NotYetValid         "not_yet_valid"         ``nbf`` or ``iat`` in the future
        ├── InvalidIssuer       "invalid_issuer"
        ├── InvalidAudience     "invalid_audience"
        ├── InvalidSubject      "invalid_subject"
        ├── MissingClaim        "missing_claim"
        ├── InvalidType         "invalid_type"          header ``typ`` is not the expected one
        ├── InvalidNonce        "invalid_nonce"         an ID token's ``nonce`` is not the sent one
        └── InvalidTokenHash    "invalid_token_hash"    ``at_hash``/``c_hash`` does not match

Rules every error follows (see ``docs/errors.md``):

* ``code`` is part of the public contract and never changes for a given class.
* Messages say what was wrong and what was expected; they never contain key material, whole JWKs
  or whole tokens.
* Aliases named after PyJWT's exceptions (``InvalidTokenError``, ``ExpiredSignatureError``, ...)
  exist so that ``except jwt.ExpiredSignatureError`` keeps working after ``import jwtkit as jwt``.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AlgorithmNotAllowed",
    "AmbiguousKey",
    "ClaimError",
    "DPoPNonceRequired",
    "DecodeError",
    "DecryptionError",
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
    "KeyNotFound",
    "MalformedToken",
    "MissingClaim",
    "MissingRequiredClaimError",
    "MissingSignature",
    "NotYetValid",
    "PyJWTError",
    "TokenTooLarge",
    "UnsupportedCritical",
    "UntrustedCertificate",
    "UsageError",
]


class JWTError(Exception):
    """Root of every error jwtkit raises. ``code`` is a stable machine-readable string."""

    code: ClassVar[str] = "jwt_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class UsageError(JWTError):
    """The call itself is wrong: a missing allow-list, an option that cannot be honoured."""

    code = "usage_error"


class MalformedToken(JWTError):
    """The input is not a well-formed token: format, base64url, JSON or header members."""

    code = "malformed"


class TokenTooLarge(MalformedToken):
    """The token is longer than the configured maximum (security matrix D1)."""

    code = "token_too_large"


class UnsupportedCritical(MalformedToken):
    """``crit`` lists an extension this library does not process (RFC 7515 §4.1.11)."""

    code = "unsupported_critical"


class AlgorithmNotAllowed(JWTError):
    """The token's ``alg`` is unknown, disabled, or not in the caller's allow-list."""

    code = "algorithm_not_allowed"


class InvalidKey(JWTError):
    """A key is unusable, unsafe, or does not fit the algorithm or operation (RFC 8725 §3.1)."""

    code = "invalid_key"


class KeyNotFound(InvalidKey):
    """None of the trusted keys matches the token's ``kid`` and ``alg``."""

    code = "key_not_found"


class AmbiguousKey(KeyNotFound):
    """The token's ``kid`` names more than one trusted key that fits its ``alg``.

    Verifying with whichever key comes first would make the outcome depend on the order of a
    key set; RFC 7517 §4.5 asks keys of one set to use distinct ``kid`` values (keys of
    different types may share one, and are not ambiguous here).
    """

    code = "ambiguous_key"


class UntrustedCertificate(InvalidKey):
    """An ``x5c`` certificate chain does not validate against the caller's trust anchors.

    ``reason`` says why in one stable word: ``"expired"``, ``"not_yet_valid"``,
    ``"unknown_issuer"`` (no path to an anchor: another CA, a missing intermediate),
    ``"name_mismatch"``, ``"not_for_signing"`` (the leaf's keyUsage), ``"not_a_leaf"`` (a CA
    certificate first: the chain must list the leaf first, RFC 7515 §4.1.6),
    ``"chain_too_long"``, ``"too_large"``, ``"leaf_refused"`` (the caller's own check),
    ``"missing"`` (no chain at all) or ``"invalid_chain"`` (any other RFC 5280 failure).
    """

    code = "untrusted_certificate"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class InvalidSignature(JWTError):
    """The signature does not verify. Deliberately says nothing more."""

    code = "invalid_signature"

    def __init__(self, message: str = "signature verification failed") -> None:
        super().__init__(message)


class MissingSignature(InvalidSignature):
    """A JWS JSON document lacks a valid signature its verifier's
    :class:`~jwtkit.jws.SignaturePolicy` requires: a required algorithm has not signed (a
    stripped signature; RFC 7515 §5.2 leaves the choice of required signatures to the
    application). The message names the missing algorithms, never a key or the document."""

    code = "missing_signature"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class DecryptionError(JWTError):
    """A JWE does not decrypt. Deliberately says nothing more (security matrix C2, C3).

    Every failure after the key is chosen (wrong key, a CEK that does not unwrap, a CEK of the
    wrong length, a bad authentication tag, bad padding, an RSA1_5 failure) raises this one
    error with this one message, so that no failure can be told apart from another
    (RFC 7516 §11.5, RFC 7518 §4.2 and §5.2.2.2).
    """

    code = "decryption_failed"

    def __init__(self, message: str = "decryption failed") -> None:
        super().__init__(message)


class InvalidDPoPProof(JWTError):
    """A DPoP proof (RFC 9449 §4) fails one of the checks of RFC 9449 §4.3, or does not fit
    the access token it comes with (``ath``, ``cnf.jkt``). The ``code`` is also the OAuth
    error code of the answer (RFC 9449 §5, §7.1)."""

    code = "invalid_dpop_proof"


class DPoPNonceRequired(InvalidDPoPProof):
    """The proof lacks the server's nonce, or carries one that is no longer accepted
    (RFC 9449 §8, §9). ``nonce`` is a fresh value for the ``DPoP-Nonce`` response header."""

    code = "use_dpop_nonce"

    def __init__(self, message: str, nonce: str) -> None:
        super().__init__(message)
        self.nonce = nonce


class InvalidSDJWT(JWTError):
    """An SD-JWT (RFC 9901) fails a check of its structure: a Disclosure that is malformed,
    sent twice or not referenced by any digest, a digest that appears twice, a claim name that
    collides, ``_sd`` or ``...`` misused, an unaccepted ``_sd_alg``, or too many Disclosures
    (RFC 9901 §4, §7.1). The issuer's signature and the claims fail with the usual errors."""

    code = "invalid_sd_jwt"


class InvalidKeyBinding(InvalidSDJWT):
    """The Key Binding JWT of an SD-JWT+KB is missing where the Verifier requires one, or fails
    a check of RFC 9901 §7.3: its signature with the ``cnf`` key, ``typ``, ``iat`` window,
    ``aud``, ``nonce`` or ``sd_hash``."""

    code = "invalid_key_binding"


class ClaimError(JWTError):
    """A claim failed validation. ``claim`` names it, ``reason`` says why in a few words."""

    code = "invalid_claim"

    def __init__(self, claim: str, reason: str, message: str | None = None) -> None:
        super().__init__(message if message is not None else f"claim {claim!r}: {reason}")
        self.claim = claim
        self.reason = reason


class ExpiredToken(ClaimError):
    """``exp`` is in the past, beyond the leeway (RFC 7519 §4.1.4)."""

    code = "expired"


class NotYetValid(ClaimError):
    """``nbf`` (or ``iat``) is in the future, beyond the leeway (RFC 7519 §4.1.5, §4.1.6)."""

    code = "not_yet_valid"


class InvalidIssuer(ClaimError):
    """``iss`` is not one of the expected issuers (exact match, RFC 7519 §4.1.1)."""

    code = "invalid_issuer"


class InvalidAudience(ClaimError):
    """``aud`` holds none of the accepted audiences, or is malformed (RFC 7519 §4.1.3)."""

    code = "invalid_audience"


class InvalidSubject(ClaimError):
    """``sub`` is not the expected subject (RFC 7519 §4.1.2)."""

    code = "invalid_subject"


class MissingClaim(ClaimError):
    """A required claim is absent."""

    code = "missing_claim"

    def __init__(self, claim: str) -> None:
        super().__init__(claim, "missing", f"required claim {claim!r} is missing")


class InvalidType(ClaimError):
    """The header ``typ`` is not the expected type (RFC 8725 §3.11)."""

    code = "invalid_type"


class InvalidNonce(ClaimError):
    """An ID token's ``nonce`` is missing or is not the one the authentication request sent
    (OpenID Connect Core 1.0 §3.1.3.7 step 11): the token may be replayed from another login."""

    code = "invalid_nonce"


class InvalidTokenHash(ClaimError):
    """An ID token's ``at_hash`` or ``c_hash`` does not match the access token or code it came
    with, or is missing where it is required (OpenID Connect Core 1.0 §3.2.2.9, §3.3.2.10)."""

    code = "invalid_token_hash"


# PyJWT-compatible names, so that code written against PyJWT keeps catching the right errors.
PyJWTError = JWTError
InvalidTokenError = JWTError
# PyJWT's DecodeError also covers bad signatures, so it maps to the root: catching it keeps
# catching every verification failure it used to.
DecodeError = JWTError
InvalidSignatureError = InvalidSignature
InvalidAlgorithmError = AlgorithmNotAllowed
InvalidKeyError = InvalidKey
ExpiredSignatureError = ExpiredToken
ImmatureSignatureError = NotYetValid
InvalidAudienceError = InvalidAudience
InvalidIssuerError = InvalidIssuer
MissingRequiredClaimError = MissingClaim
