"""ID tokens (OpenID Connect Core 1.0 §2, §3.1.3.6): issuing them, and reading a hint.

An ID token tells the client who logged in: ``iss``, ``sub`` (the user's id), ``aud`` (the
client id), ``exp``, ``iat``, ``auth_time`` (when the user authenticated), ``nonce`` (the
authorization request's, when it sent one), ``at_hash`` (the left half of the hash of the
access token issued with it, §3.1.3.6, so that the client can tell that the two belong
together; written by :func:`jwtkit.oidc.token_hash`, which clients check it with too), ``azp``
(the client, §2) and ``sid`` (the login session, OpenID Connect Front-Channel Logout 1.0 §3).
It is signed with the key ring's key of the client's ``id_token_signed_response_alg`` (RS256
when it registered none, as Core §3.1.3.7 expects).

:func:`read_id_token_hint` reads the ``id_token_hint`` of RP-Initiated Logout (§2 of that
specification): an ID token this service issued, whose signature verifies; expired ones are
accepted, as the specification asks.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import jwtkit
from jwtkit.errors import JWTError
from jwtkit.oidc import token_hash

if TYPE_CHECKING:
    from .config import Settings
    from .keyring import KeyRing

__all__ = ["DEFAULT_ID_TOKEN_ALGORITHM", "issue_id_token", "read_id_token_hint"]

#: The algorithm of the ID tokens of a client that registered none (Core §3.1.3.7).
DEFAULT_ID_TOKEN_ALGORITHM = "RS256"


def issue_id_token(
    keyring: KeyRing,
    settings: Settings,
    *,
    client_id: str,
    algorithm: str | None,
    user_id: str,
    now: float,
    auth_time: float,
    nonce: str | None,
    sid: str | None,
    access_token: str,
) -> str:
    """A signed ID token for ``user_id``, issued to ``client_id`` with ``access_token``;
    ``algorithm`` is the client's ``id_token_signed_response_alg`` (``None``: RS256). It
    lives as long as an access token."""
    alg = algorithm or DEFAULT_ID_TOKEN_ALGORITHM
    key = keyring.signing_key(alg)
    issued_at = math.floor(now)
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "sub": user_id,
        "aud": client_id,
        "exp": issued_at + settings.access_token_ttl,
        "iat": issued_at,
        "auth_time": math.floor(auth_time),
        "azp": client_id,
        "at_hash": token_hash(access_token, alg, key),
    }
    if nonce is not None:
        claims["nonce"] = nonce
    if sid is not None:
        claims["sid"] = sid
    return jwtkit.encode(claims, key, algorithm=alg, typ="JWT")


def read_id_token_hint(keyring: KeyRing, settings: Settings, token: str) -> dict[str, Any] | None:
    """The claims of an ID token this service issued (signature and ``iss`` checked; ``exp``
    not: RP-Initiated Logout 1.0 §2 accepts an expired hint), or ``None`` if it is not one."""
    if len(token) > 16384:
        return None
    try:
        claims = jwtkit.decode(
            token,
            keyring.verification_keys(),
            algorithms=list(keyring.algorithms),
            issuer=settings.issuer,
            options={"verify_exp": False, "verify_aud": False},
        )
    except JWTError:
        return None
    if not isinstance(claims.get("aud"), str) or not isinstance(claims.get("sub"), str):
        return None
    return claims
