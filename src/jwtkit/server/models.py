"""The token service's records: users, clients, refresh tokens, signing keys, and the browser
login's sessions, consents and authorization codes.

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
    "AuthorizationCode",
    "Client",
    "CodeRedemption",
    "CodeStatus",
    "Consent",
    "KeyStatus",
    "LoginSession",
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
#: What happened to an authorization code presented at the token endpoint (:class:`CodeRedemption`).
CodeStatus = Literal["redeemed", "reused", "expired", "unknown"]
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
    #: Where RP-Initiated Logout may send the browser back to (OpenID Connect RP-Initiated
    #: Logout 1.0 §2, ``post_logout_redirect_uri``): compared exactly, like ``redirect_uris``.
    post_logout_redirect_uris: tuple[str, ...] = ()
    #: The JWS algorithm of this client's ID tokens (OpenID Connect Dynamic Client
    #: Registration §2 ``id_token_signed_response_alg``); ``None``: RS256, which every
    #: OpenID Connect client supports (Core §3.1.3.7).
    id_token_signed_response_alg: str | None = None
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
    #: The resource indicators of the grant (RFC 8707 §2): the ``aud`` of every access token
    #: of the family. Empty: the service's own audience.
    resource: tuple[str, ...] = ()
    #: The JWK SHA-256 thumbprint (RFC 7638) of the DPoP key the family is bound to (RFC 9449
    #: §5.8: a public client's refresh tokens issued with a proof): a refresh needs a proof made
    #: with that key. ``None``: not bound.
    dpop_jkt: str | None = None


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


@dataclass(frozen=True)
class LoginSession:
    """A browser's login at the service: what lets ``/authorize`` skip the login page.

    The browser holds a random cookie value; the store holds its SHA-256 (``cookie_hash``), so
    that a read of the database yields no usable session. ``sid`` is the session's public id,
    the ``sid`` claim of ID tokens (OpenID Connect Front-Channel Logout §3), never the cookie.
    The session ends at ``expires_at`` (absolute), at ``idle_expires_at`` (moved forward by
    use), or when ended (logout, ``ended_at``).
    """

    sid: str
    cookie_hash: bytes
    user_id: str
    #: When the user authenticated (OpenID Connect Core §2 ``auth_time``).
    auth_time: float
    created_at: float
    idle_expires_at: float
    expires_at: float
    ended_at: float | None = None

    def is_active(self, now: float) -> bool:
        """Whether the session is neither ended nor expired at ``now``."""
        return self.ended_at is None and now < min(self.idle_expires_at, self.expires_at)


@dataclass(frozen=True)
class Consent:
    """The scopes a user granted a client on the consent page (remembered, so that the page
    is not shown again for the same scopes)."""

    user_id: str
    client_id: str
    scopes: tuple[str, ...]
    granted_at: float


@dataclass(frozen=True)
class AuthorizationCode:
    """An authorization code (RFC 6749 §4.1.2, OAuth 2.1 §4.1.2) as stored: its SHA-256 and
    everything it was bound to when issued.

    Single-use: ``redeemed_at`` marks the exchange; a second presentation sets ``reused_at``
    and revokes what the first issued (``family_id``, ``access_jti``), RFC 6749 §4.1.2. Kept
    until ``purge_after`` so that a late reuse is still recognised.
    """

    code_hash: bytes
    client_id: str
    user_id: str
    #: The ``redirect_uri`` of the authorization request as presented, or ``None`` if it was
    #: omitted (OAuth 2.1 §4.1.3: then the token request must omit it too).
    redirect_uri: str | None
    scope: str
    #: The PKCE ``code_challenge`` (RFC 7636 §4.2, method S256 only).
    code_challenge: str
    nonce: str | None
    #: The login session the code was issued in (its ``sid``) and when the user authenticated.
    sid: str
    auth_time: float
    issued_at: float
    expires_at: float
    purge_after: float
    #: RFC 8707 resource indicators of the request (the access token's ``aud``).
    resource: tuple[str, ...] = ()
    redeemed_at: float | None = None
    reused_at: float | None = None
    #: What the exchange issued: the refresh family and the access token (``jti`` and
    #: ``exp``), revoked if the code is presented again.
    family_id: str | None = None
    access_jti: str | None = None
    access_expires_at: float | None = None
    #: The ``dpop_jkt`` of the authorization request (RFC 9449 §10): the exchange needs a DPoP
    #: proof made with the key of this JWK SHA-256 thumbprint. ``None``: not bound.
    dpop_jkt: str | None = None


@dataclass(frozen=True)
class CodeRedemption:
    """The answer of :meth:`Store.redeem_code <.storage.Store.redeem_code>`.

    ``"redeemed"``: this call won the code (``code`` is the record). ``"reused"``: the code
    was redeemed before; it is now marked reused, and ``code`` names what the first exchange
    issued, if it recorded it yet. ``"expired"``: never redeemed and past ``expires_at``.
    ``"unknown"``: no such code.
    """

    status: CodeStatus
    code: AuthorizationCode | None = None
