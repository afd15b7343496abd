"""The token service's records: users, clients, refresh tokens, signing keys.

Plain frozen dataclasses shared by the service logic and every storage backend. Times are Unix
seconds (float). Secrets are never stored: passwords as Argon2id hashes, client secrets (random,
server-generated) as SHA-256 digests, refresh tokens as the SHA-256 of the token, signing keys
with their private part encrypted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "AttemptReservation",
    "AuditSeverity",
    "Client",
    "KeyStatus",
    "RefreshToken",
    "RotationOutcome",
    "RotationStatus",
    "SigningKeyRecord",
    "User",
]

#: What happened to a refresh token presented for rotation (:class:`RotationOutcome`).
RotationStatus = Literal["rotated", "reused", "grace", "revoked", "expired", "unknown"]
#: Where a signing key is in its life (:class:`SigningKeyRecord`).
KeyStatus = Literal["pending", "active", "retired"]
#: How an audit event is logged (:mod:`~jwtkit.server.audit`): security warnings or routine.
AuditSeverity = Literal["info", "warning"]


@dataclass(frozen=True)
class User:
    """A person who logs in with a username and password.

    ``username`` is kept as registered; it is unique, and looked up, ignoring case
    (``alice`` and ``ALICE`` are one user): see ``docs/storage.md``.
    """

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
    #: The user's e-mail address (OpenID Connect Core §5.1 ``email``; an RFC 5322 addr-spec,
    #: see :func:`~.users.check_profile`), or ``None``. Not unique.
    email: str | None = None
    #: Whether the service vouches for ``email`` (§5.1 ``email_verified``): only an
    #: administrator sets it (``jwtkit users add|set-profile --email-verified``); a
    #: self-registered or changed address is unverified. Meaningless without ``email``.
    email_verified: bool = False
    #: The user's full name for display (§5.1 ``name``), or ``None``.
    name: str | None = None


@dataclass(frozen=True)
class Client:
    """An OAuth client (RFC 6749 §2). Confidential clients authenticate with a secret (its
    ``secret_hash``) or with a key (``jwks``: ``private_key_jwt``, RFC 7523 §2.2); public ones
    (:attr:`public`) have neither.

    A client with ``audiences`` is also a resource server (RFC 7662 §4): it may introspect the
    access tokens whose ``aud`` names one of them. Every client may introspect the tokens
    issued to itself.
    """

    id: str
    secret_hash: str | None
    grant_types: tuple[str, ...]
    scopes: tuple[str, ...]
    created_at: float
    name: str = ""
    #: The ``aud`` values this client serves as a resource server (empty: it is none).
    audiences: tuple[str, ...] = ()
    #: The redirect URIs of the authorization code flow, in registration order, exactly as
    #: registered (OAuth 2.1 §2.3.1; rules and matching: :mod:`~.clients`). Empty: the client
    #: does not use the flow.
    redirect_uris: tuple[str, ...] = ()
    #: Whether the client is this service's own application, which skips the consent page
    #: (see :func:`~.clients.is_first_party`, which also counts the built-in client).
    first_party: bool = False
    #: The client's public keys, a JWK Set (RFC 7517 §5) as JSON text exactly as registered:
    #: the client authenticates with a JWT signed by one of its private keys
    #: (``private_key_jwt``, :mod:`~.client_assertions`). ``None``: it has no key.
    jwks: str | None = None

    @property
    def public(self) -> bool:
        """Whether the client is public (RFC 6749 §2.1): it has no secret and no key, so it
        cannot authenticate."""
        return self.secret_hash is None and self.jwks is None

    @property
    def resource_server(self) -> bool:
        """Whether the client is a resource server (it serves at least one audience)."""
        return bool(self.audiences)


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

    status: RotationStatus
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
    status: KeyStatus
    created_at: float
    activated_at: float | None = None
    retired_at: float | None = None
    #: The key stays in the JWKS until this time (the last token it signed has expired).
    publish_until: float | None = None


@dataclass(frozen=True)
class AttemptReservation:
    """The answer of :meth:`Store.reserve_attempt <.storage.Store.reserve_attempt>`.

    ``admitted``: the attempt is counted as in progress in every bucket; ``windows`` names each
    bucket with the end of the window it is counted in (what :meth:`settle_attempt
    <.storage.Store.settle_attempt>` needs). Refused: nothing was counted, and ``retry_after``
    is the number of seconds until the last full bucket's window ends.
    """

    admitted: bool
    windows: tuple[tuple[str, float], ...] = ()
    retry_after: float = 0.0
