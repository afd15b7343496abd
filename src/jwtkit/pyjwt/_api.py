"""PyJWT's functions (``encode``, ``decode``, ``decode_complete``, ``get_unverified_header``)
as a thin layer over :func:`jwtkit.encode`, :func:`jwtkit.decode_complete` and
:func:`jwtkit.decode_unverified`.

This module maps arguments and nothing else; every check is jwtkit's own:

* ``key``: what jwtkit takes, plus what PyJWT takes and jwtkit does not (a :class:`PyJWK`, a
  :class:`PyJWKSet`, a ``cryptography`` key object); ``allow_weak=True`` admits the secrets
  and RSA keys jwtkit refuses by default (short or well-known HMAC secrets, RFC 7518 §3.2;
  RSA below 2048 bits for verification, RFC 8725 §3.5);
* ``headers``: ``alg`` in it names the algorithm, ``typ: None`` leaves ``typ`` out (as in
  PyJWT);
* ``options``: jwtkit's ``verify_exp``/``verify_nbf``/``verify_iat``/``verify_aud``/``require``
  go to jwtkit; ``verify_iss`` and ``verify_sub`` decide whether ``issuer`` and ``subject``
  are passed on; ``strict_aud`` asks for ``aud`` to be the one string ``audience`` is;
  ``verify_jti`` and ``enforce_minimum_key_length`` change nothing (jwtkit never checks
  ``jti``'s type and always enforces key lengths);
* ``options={"verify_signature": False}`` reads the token with
  :func:`jwtkit.decode_unverified` and warns (:class:`~jwtkit.jwa.InsecureAlgorithmWarning`);
  claims are then checked only when an option asks for it, as in PyJWT.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from .._claims import ClaimsPolicy
from .._keysource import coerce_key
from .._memo import SharedMemo
from ..errors import InvalidAudience, UsageError
from ..jwa import InsecureAlgorithmWarning
from ..jwk import Key
from ..jwt import decode_complete as jwtkit_decode_complete
from ..jwt import decode_unverified
from ..jwt import encode as jwtkit_encode
from ._jwk import PyJWK, PyJWKSet

__all__ = ["decode", "decode_complete", "encode", "get_unverified_header"]


class _Unset:
    """The type of ``encode``'s default ``algorithm`` (``None`` means ``none`` in PyJWT)."""

    __slots__ = ()


_UNSET: Final = _Unset()

#: Keys made from cryptography objects and from text with ``allow_weak``, so that calls with
#: the same argument share jwtkit's prepared work (its memo keys a Key by identity).
_CONVERTED: SharedMemo[Key] = SharedMemo(64)

_NONE_MESSAGE = "'none' makes an unsigned token, which proves nothing (RFC 8725 §3.1): {what}"


def _key(key: object, allow_weak: bool) -> Any:
    """The jwtkit ``key`` argument for what a PyJWT caller passes."""
    if isinstance(key, PyJWK):
        return key.jwtkit_key
    if isinstance(key, PyJWKSet):
        return key.jwtkit_keyset
    if isinstance(key, (str, bytes)):
        if not allow_weak:
            return key  # jwtkit reads secrets and PEM itself, and shares the work by value
        signature: Any = ("text", type(key), key)
    elif isinstance(key, (PrivateKeyTypes, PublicKeyTypes, x509.Certificate)):  # type: ignore[arg-type]
        signature = ("object", id(key), allow_weak)
    else:
        return key  # a jwtkit Key, KeySet, list, resolver or provider; or what jwtkit refuses
    converted = _CONVERTED.get(signature)
    if converted is None:
        if isinstance(key, (str, bytes)):
            converted = coerce_key(key, allow_weak=True)
        else:
            converted = Key.from_cryptography(key, allow_weak=allow_weak)
        _CONVERTED.put(signature, converted, key)
    return converted


def encode(
    payload: Mapping[str, Any],
    key: Any,
    algorithm: str | _Unset | None = _UNSET,
    headers: Mapping[str, Any] | None = None,
    json_encoder: type[Any] | None = None,
    sort_headers: bool = True,
    *,
    allow_weak: bool = False,
) -> str:
    """PyJWT's ``jwt.encode``: sign ``payload`` as a JWT with ``algorithm`` (``HS256`` unless
    ``key`` is a :class:`PyJWK`, whose algorithm is then used).

    ``headers`` adds header members (its ``alg`` wins over ``algorithm``; ``"typ": None``
    leaves ``typ`` out). ``sort_headers`` is accepted and has no effect (jwtkit writes the
    header in its own fixed order). ``allow_weak=True`` admits a short or well-known secret.
    """
    extra = dict(headers) if headers else {}
    typ = extra.pop("typ", "JWT") or None
    named = extra.pop("alg", None)
    if named:
        algorithm = named
    if isinstance(algorithm, _Unset):
        if isinstance(key, PyJWK):
            algorithm = key.algorithm_name
        else:
            algorithm = None if isinstance(key, Key) else "HS256"
    elif algorithm is None or algorithm == "none":
        raise UsageError(
            _NONE_MESSAGE.format(
                what="jwtkit.pyjwt does not create one. If you must, use jwtkit.encode(payload, "
                "None, algorithm='none', registry=jwtkit.jwa.DEFAULT_REGISTRY.including("
                "jwtkit.jwa.NONE))"
            )
        )
    return jwtkit_encode(
        payload,
        _key(key, allow_weak),
        algorithm,
        extra or None,
        typ=typ,
        json_encoder=json_encoder,
    )


def get_unverified_header(jwt: str | bytes) -> dict[str, Any]:
    """The protected header of ``jwt``, **not verified** (PyJWT's ``get_unverified_header``):
    use it to pick a key by ``kid``, never to trust anything."""
    return dict(decode_unverified(jwt).header)


def _flag(options: dict[str, Any], name: str, default: bool) -> bool:
    value = options.pop(name, default)
    if type(value) is not bool:
        raise UsageError(f"options: {name} must be True or False")
    return value


def decode_complete(
    jwt: str | bytes,
    key: Any = "",
    algorithms: Iterable[str] | None = None,
    options: Mapping[str, Any] | None = None,
    verify: bool | None = None,
    detached_payload: bytes | None = None,
    audience: str | Iterable[str] | None = None,
    issuer: str | Iterable[str] | None = None,
    subject: str | None = None,
    leeway: float | timedelta = 0,
    *,
    allow_weak: bool = False,
) -> dict[str, Any]:
    """PyJWT's ``jwt.decode_complete``: like :func:`decode`, returning a dict with the
    ``header``, the ``payload`` (the claims) and the ``signature`` bytes.

    ``verify`` is ignored (as in PyJWT 2); ``detached_payload`` is not supported.
    """
    return _decode(
        jwt, key, algorithms, options, detached_payload, audience, issuer, subject, leeway,
        allow_weak,
    )  # fmt: skip


def _decode(
    jwt: str | bytes,
    key: Any,
    algorithms: Iterable[str] | None,
    options: Mapping[str, Any] | None,
    detached_payload: bytes | None,
    audience: str | Iterable[str] | None,
    issuer: str | Iterable[str] | None,
    subject: str | None,
    leeway: float | timedelta,
    allow_weak: bool,
) -> dict[str, Any]:
    if detached_payload is not None:
        raise UsageError(
            "detached_payload is not supported by jwtkit.pyjwt; verify a detached payload with "
            "jwtkit.jws.verify(token, key, algorithms=[...], detached_payload=...)"
        )
    opts = dict(options or {})
    verify_signature = _flag(opts, "verify_signature", True)
    # PyJWT: without the signature check, claims are checked only when an option asks.
    flags = {name: _flag(opts, name, verify_signature) for name in _CLAIM_FLAGS}
    verify_iss = _flag(opts, "verify_iss", verify_signature)
    verify_sub = _flag(opts, "verify_sub", verify_signature)
    _flag(opts, "verify_jti", verify_signature)
    _flag(opts, "enforce_minimum_key_length", False)
    strict_aud = _flag(opts, "strict_aud", False)
    opts.update(flags)
    expected_audience = audience if flags["verify_aud"] else None
    expected_issuer = issuer if verify_iss else None
    expected_subject = subject if verify_sub else None
    if not verify_signature:
        warnings.warn(
            "options={'verify_signature': False}: the token is read without checking its "
            "signature, so nothing in it can be trusted (jwtkit.decode_unverified says so "
            "without this warning)",
            InsecureAlgorithmWarning,
            stacklevel=4,
        )
        unverified = decode_unverified(jwt)
        policy = ClaimsPolicy.build(
            audience=expected_audience,
            issuer=expected_issuer,
            subject=expected_subject,
            leeway=leeway,
            options=opts,
        )
        policy.check(unverified.claims, time.time())
        header, claims, signature = unverified.header, unverified.claims, unverified.signature
    else:
        if algorithms is None and isinstance(key, PyJWK):
            algorithms = [key.algorithm_name]
        elif not isinstance(algorithms, (str, bytes, type(None))):
            algorithms = list(algorithms)
            if any(isinstance(name, str) and name.lower() == "none" for name in algorithms):
                raise UsageError(
                    _NONE_MESSAGE.format(
                        what="decode never accepts it. To read a token without checking it, "
                        "pass options={'verify_signature': False} (it warns) or use "
                        "jwtkit.decode_unverified(token)"
                    )
                )
        decoded = jwtkit_decode_complete(
            jwt,
            _key(key, allow_weak),
            algorithms=algorithms,
            audience=expected_audience,
            issuer=expected_issuer,
            subject=expected_subject,
            leeway=leeway,
            options=opts,
        )
        header, claims, signature = decoded.header, decoded.claims, decoded.signature
    if strict_aud and expected_audience is not None:
        _check_strict_audience(claims, expected_audience)
    return {"header": header, "payload": claims, "signature": signature}


_CLAIM_FLAGS = ("verify_exp", "verify_nbf", "verify_iat", "verify_aud")


def _check_strict_audience(claims: Mapping[str, Any], audience: str | Iterable[str]) -> None:
    """PyJWT's ``strict_aud``: one expected audience, and ``aud`` is that very string (jwtkit
    has already checked that ``aud`` holds an expected audience, RFC 7519 §4.1.3)."""
    if not isinstance(audience, str):
        raise InvalidAudience("aud", "strict_aud expects one audience (a string)")
    if not isinstance(claims.get("aud"), str):
        raise InvalidAudience("aud", "strict_aud expects 'aud' to be a single string")


def decode(
    jwt: str | bytes,
    key: Any = "",
    algorithms: Iterable[str] | None = None,
    options: Mapping[str, Any] | None = None,
    verify: bool | None = None,
    detached_payload: bytes | None = None,
    audience: str | Iterable[str] | None = None,
    subject: str | None = None,
    issuer: str | Iterable[str] | None = None,
    leeway: float | timedelta = 0,
    *,
    allow_weak: bool = False,
) -> dict[str, Any]:
    """PyJWT's ``jwt.decode``: verify ``jwt`` with ``key`` and ``algorithms`` (the allow-list;
    a :class:`PyJWK`'s own algorithm when not given), validate its claims, return them.

    ``audience``, ``issuer`` and ``subject`` are the expected values, ``leeway`` the allowed
    clock skew, ``options`` PyJWT's options (see the module text). ``allow_weak=True`` admits a
    short or well-known secret. Every failure is a jwtkit error, caught by its PyJWT name.
    """
    result = _decode(
        jwt, key, algorithms, options, detached_payload, audience, issuer, subject, leeway,
        allow_weak,
    )  # fmt: skip
    payload: dict[str, Any] = result["payload"]
    return payload
