"""PyJWT's exception names (``jwt.exceptions``), mapped onto jwtkit's one error tree.

Every name is a jwtkit error class, so ``except jwt.ExpiredSignatureError`` catches what
jwtkit raises after ``import jwtkit.pyjwt as jwt``. The names jwtkit's core already knows are
its own aliases (:mod:`jwtkit.errors`); the others map as follows::

    PyJWT name                   jwtkit class             why
    InvalidIssuedAtError         ClaimError               jwtkit reports a bad iat as a claim
                                                          error naming 'iat' (.claim == "iat")
    InvalidJTIError              ClaimError               (jwtkit does not check jti's type)
    InvalidSubjectError          InvalidSubject
    PyJWKError, PyJWKSetError    InvalidKey               a JWK or JWK Set that gives no key
    MissingCryptographyError     InvalidKey               never raised: cryptography is always
                                                          installed with jwtkit
    PyJWKClientError             PyJWKClientError         raised by PyJWKClient (below)
    PyJWKClientConnectionError   PyJWKClientConnectionError

``PyJWKClientError`` and ``PyJWKClientConnectionError`` are the two classes of this module:
what :class:`~jwtkit.pyjwt.PyJWKClient` raises when the JWK Set cannot be fetched or used, or
holds no signing key for a ``kid`` (the underlying :mod:`jwtkit.remote` error is the
``__cause__``). They are defined here rather than aliased because they cover both the remote
key set's errors and "no key for this kid", and because :mod:`jwtkit.remote` needs an extra.

As in jwtkit, ``DecodeError`` is the root (PyJWT raises it for bad signatures too): put the
specific ``except`` clauses before it.
"""

from __future__ import annotations

from ..errors import (
    ClaimError,
    DecodeError,
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAlgorithmError,
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidKey,
    InvalidKeyError,
    InvalidSignatureError,
    InvalidSubject,
    InvalidTokenError,
    JWTError,
    MissingRequiredClaimError,
    PyJWTError,
)

__all__ = [
    "DecodeError",
    "ExpiredSignatureError",
    "ImmatureSignatureError",
    "InvalidAlgorithmError",
    "InvalidAudienceError",
    "InvalidIssuedAtError",
    "InvalidIssuerError",
    "InvalidJTIError",
    "InvalidKeyError",
    "InvalidSignatureError",
    "InvalidSubjectError",
    "InvalidTokenError",
    "MissingCryptographyError",
    "MissingRequiredClaimError",
    "PyJWKClientConnectionError",
    "PyJWKClientError",
    "PyJWKError",
    "PyJWKSetError",
    "PyJWTError",
]

InvalidIssuedAtError = ClaimError
InvalidJTIError = ClaimError
InvalidSubjectError = InvalidSubject
PyJWKError = InvalidKey
PyJWKSetError = InvalidKey
MissingCryptographyError = InvalidKey


class PyJWKClientError(JWTError):
    """:class:`~jwtkit.pyjwt.PyJWKClient` could not give a signing key: the JWK Set is not
    usable, holds no signing key, or none for the token's ``kid``."""

    code = "pyjwk_client_error"


class PyJWKClientConnectionError(PyJWKClientError):
    """:class:`~jwtkit.pyjwt.PyJWKClient` could not fetch the JWK Set (network, timeout, HTTP
    status, size cap, refused redirect)."""

    code = "pyjwk_client_connection_error"
