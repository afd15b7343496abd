"""The token service's records: users, clients, refresh tokens, signing keys.

Plain frozen dataclasses shared by the service logic and every storage backend. Times are Unix
seconds (float). Secrets are never stored: passwords as Argon2id hashes, client secrets (random,
server-generated) as SHA-256 digests, refresh tokens as the SHA-256 of the token, signing keys
with their private part encrypted.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Client", "RefreshToken", "RotationOutcome", "SigningKeyRecord", "User"]


@dataclass(frozen=True)
class User:
    """A person who logs in with a username and password."""

    id: str
    username: str
    password_hash: str
    created_at: float
    disabled: bool = False
    #: The time of the last password change. Access tokens without the password-generation
    #: claim (issued by earlier versions, with a fractional ``iat``) are refused by this service
    #: when issued before it, and after any password change made since the upgrade.
    tokens_valid_after: float = 0.0
    #: How many times the password was changed: access tokens carry the generation they were
    #: issued in, and this service refuses them once it has moved on (exact within a second,
    #: unlike ``iat``, a whole second).
    token_generation: int = 0


@dataclass(frozen=True)
class Client:
    """An OAuth client (RFC 6749 §2). Confidential clients have a secret hash."""

    id: str
    secret_hash: str | None
    grant_types: tuple[str, ...]
    scopes: tuple[str, ...]
    created_at: float
    name: str = ""


@dataclass(frozen=True)
class RefreshToken:
    """One refresh token of a family (RFC 9700 §4.14). ``token_hash`` is SHA-256 of the token.

    A family starts at a login and gains one token per rotation; ``rotated_at`` marks a token
    that has been exchanged (presenting it again is reuse), ``successor_hash`` the token that
    replaced it.
    """

    token_hash: bytes
    family_id: str
    user_id: str | None
    client_id: str
    scope: str
    issued_at: float
    expires_at: float
    family_expires_at: float
    rotated_at: float | None = None
    successor_hash: bytes | None = None
    revoked_at: float | None = None


@dataclass(frozen=True)
class RotationOutcome:
    """What happened when a refresh token was presented for rotation.

    ``status`` is ``"rotated"`` (this call won and ``new`` is stored), ``"reused"`` (the token
    had already been rotated: the caller must revoke the family), ``"grace"`` (already rotated
    within the configured grace period; ``successor_hash`` is the same successor),
    ``"revoked"``, ``"expired"`` or ``"unknown"``.
    """

    status: str
    token: RefreshToken | None = None
    successor_hash: bytes | None = None


@dataclass(frozen=True)
class SigningKeyRecord:
    """A signing key as stored: public JWK in clear, private part encrypted at rest.

    ``status`` is ``"pending"`` (published in the JWKS, not yet signing), ``"active"`` (signs
    new tokens) or ``"retired"`` (published until ``publish_until``, never signs again).
    """

    kid: str
    algorithm: str
    public_jwk: str
    encrypted_private: bytes
    status: str
    created_at: float
    activated_at: float | None = None
    retired_at: float | None = None
    #: The key stays in the JWKS until this time (the last token it signed has expired).
    publish_until: float | None = None
