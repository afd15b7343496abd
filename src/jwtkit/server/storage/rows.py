"""Records to and from database rows: one mapping for every SQL backend.

The SQLite and PostgreSQL stores select and insert the columns of each table in the same order
(their statements spell them out), so one function per record reads a row into its model and
one writes a model into statement parameters. Values are normalised on the way in (``bool``
for flags, ``bytes`` for hashes, JSON text for lists), whichever driver produced them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..models import AuthorizationCode, Client, LoginSession, RefreshToken, SigningKeyRecord, User

__all__ = [
    "client",
    "code",
    "code_values",
    "is_active",
    "key_values",
    "refresh_token",
    "session",
    "token_values",
    "user",
]


def user(row: Sequence[Any]) -> User:
    return User(
        id=row[0],
        username=row[1],
        password_hash=row[2],
        created_at=row[3],
        disabled=bool(row[4]),
        tokens_valid_after=row[5],
        token_generation=row[6],
        email=row[7],
        email_verified=bool(row[8]),
        name=row[9],
    )


def client(row: Sequence[Any]) -> Client:
    return Client(
        id=row[0],
        secret_hash=row[1],
        grant_types=tuple(json.loads(row[2])),
        scopes=tuple(json.loads(row[3])),
        created_at=row[4],
        name=row[5],
        audiences=tuple(json.loads(row[6])),
        redirect_uris=tuple(json.loads(row[7])),
        first_party=bool(row[8]),
        post_logout_redirect_uris=tuple(json.loads(row[9])),
        id_token_signed_response_alg=row[10],
        jwks=row[11],
    )


def refresh_token(row: Sequence[Any]) -> RefreshToken:
    return RefreshToken(
        token_hash=row[0],
        family_id=row[1],
        user_id=row[2],
        client_id=row[3],
        scope=row[4],
        issued_at=row[5],
        expires_at=row[6],
        family_expires_at=row[7],
        rotated_at=row[8],
        successor_hash=row[9],
        revoked_at=row[10],
        resource=tuple(json.loads(row[11])),
        dpop_jkt=row[12],
    )


def session(row: Sequence[Any]) -> LoginSession:
    return LoginSession(
        sid=row[0],
        cookie_hash=bytes(row[1]),
        user_id=row[2],
        auth_time=row[3],
        created_at=row[4],
        idle_expires_at=row[5],
        expires_at=row[6],
        ended_at=row[7],
    )


def code(row: Sequence[Any]) -> AuthorizationCode:
    return AuthorizationCode(
        code_hash=bytes(row[0]),
        client_id=row[1],
        user_id=row[2],
        redirect_uri=row[3],
        scope=row[4],
        code_challenge=row[5],
        nonce=row[6],
        sid=row[7],
        auth_time=row[8],
        issued_at=row[9],
        expires_at=row[10],
        purge_after=row[11],
        resource=tuple(json.loads(row[12])),
        redeemed_at=row[13],
        reused_at=row[14],
        family_id=row[15],
        access_jti=row[16],
        access_expires_at=row[17],
        dpop_jkt=row[18],
    )


def code_values(code: AuthorizationCode) -> tuple[object, ...]:
    return (
        bytes(code.code_hash),
        code.client_id,
        code.user_id,
        code.redirect_uri,
        code.scope,
        code.code_challenge,
        code.nonce,
        code.sid,
        code.auth_time,
        code.issued_at,
        code.expires_at,
        code.purge_after,
        json.dumps(list(code.resource)),
        code.redeemed_at,
        code.reused_at,
        code.family_id,
        code.access_jti,
        code.access_expires_at,
        code.dpop_jkt,
    )


def token_values(token: RefreshToken) -> tuple[object, ...]:
    return (
        bytes(token.token_hash),
        token.family_id,
        token.user_id,
        token.client_id,
        token.scope,
        token.issued_at,
        token.expires_at,
        token.family_expires_at,
        token.rotated_at,
        None if token.successor_hash is None else bytes(token.successor_hash),
        token.revoked_at,
        json.dumps(list(token.resource)),
        token.dpop_jkt,
    )


def key_values(record: SigningKeyRecord) -> tuple[object, ...]:
    return (
        record.kid,
        record.algorithm,
        record.public_jwk,
        bytes(record.encrypted_private),
        record.status,
        record.created_at,
        record.activated_at,
        record.retired_at,
        record.publish_until,
    )


def is_active(token: RefreshToken, now: float) -> bool:
    return (
        token.rotated_at is None
        and token.revoked_at is None
        and token.expires_at > now
        and token.family_expires_at > now
    )
