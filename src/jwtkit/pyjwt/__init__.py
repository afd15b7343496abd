"""PyJWT's API on jwtkit: ``import jwtkit.pyjwt as jwt`` runs code written for PyJWT.

::

    import jwtkit.pyjwt as jwt

    token = jwt.encode({"sub": "42"}, secret, algorithm="HS256")
    claims = jwt.decode(token, secret, algorithms=["HS256"], audience="api")
    header = jwt.get_unverified_header(token)

    jwks_client = jwt.PyJWKClient("https://id.example/.well-known/jwks.json")
    signing_key = jwks_client.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, signing_key, algorithms=["RS256"], audience="api")

    try:
        jwt.decode(token, secret, algorithms=["HS256"])
    except jwt.ExpiredSignatureError:
        ...

Every call maps onto jwtkit's own :func:`~jwtkit.encode`, :func:`~jwtkit.decode_complete`,
:class:`~jwtkit.Key`, :class:`~jwtkit.KeySet` and :class:`jwtkit.remote.JWKSClient`, so jwtkit's
rules hold: ``algorithms`` is a list and is required, ``none`` is never accepted, short and
well-known HMAC secrets are refused unless ``allow_weak=True`` is passed, and
``PyJWKClient`` fetches ``https`` URLs only (``http`` only to a loopback host). Each refusal
says why and how to opt out; ``docs/migrating-from-pyjwt.md`` lists them.

The submodules :mod:`jwtkit.pyjwt.exceptions` and :mod:`jwtkit.pyjwt.algorithms` stand for
``jwt.exceptions`` and ``jwt.algorithms``. ``PyJWKClient`` needs the ``remote`` extra
(``pip install 'jwtkit[remote]'``); nothing else here does.
"""

from __future__ import annotations

from . import algorithms, exceptions
from ._api import decode, decode_complete, encode, get_unverified_header
from ._client import PyJWKClient
from ._jwk import PyJWK, PyJWKSet
from .algorithms import get_algorithm_by_name
from .exceptions import (
    DecodeError,
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAlgorithmError,
    InvalidAudienceError,
    InvalidIssuedAtError,
    InvalidIssuerError,
    InvalidJTIError,
    InvalidKeyError,
    InvalidSignatureError,
    InvalidSubjectError,
    InvalidTokenError,
    MissingCryptographyError,
    MissingRequiredClaimError,
    PyJWKClientConnectionError,
    PyJWKClientError,
    PyJWKError,
    PyJWKSetError,
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
    "PyJWK",
    "PyJWKClient",
    "PyJWKClientConnectionError",
    "PyJWKClientError",
    "PyJWKError",
    "PyJWKSet",
    "PyJWKSetError",
    "PyJWTError",
    "algorithms",
    "decode",
    "decode_complete",
    "encode",
    "exceptions",
    "get_algorithm_by_name",
    "get_unverified_header",
]
