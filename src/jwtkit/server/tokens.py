"""The OAuth 2.0 logic of the token service, framework-free.

:class:`TokenService` takes parsed request parameters and answers with dicts or raises
:class:`~.oauth_errors.OAuthError`; :mod:`~jwtkit.server.app` is the thin HTTP layer around it.

* Grants (RFC 6749): ``password`` (§4.3; first-party logins only, switchable off, as RFC 9700
  §2.4 deprecates it), ``refresh_token`` (§6) and ``client_credentials`` (§4.4). Clients
  authenticate with ``client_secret_basic`` or ``client_secret_post`` (§2.3.1).
* Access tokens are RFC 9068 JWTs: header ``typ: at+jwt`` and ``kid``; claims ``iss``,
  ``sub``, ``aud``, ``exp``, ``iat``, ``jti``, ``client_id`` and ``scope``; a user's token also
  carries :data:`PASSWORD_GENERATION_CLAIM` (see "Password changes" below). ``exp`` and ``iat``
  are whole seconds (RFC 7519 §2 NumericDates as every JWT library issues them: a fractional
  ``iat`` is "in the future" for a verifier with a whole-second clock and no leeway).
* Refresh tokens (RFC 9700 §4.14) are 256-bit opaque strings stored as SHA-256 only, rotated on
  every use; presenting a rotated token again revokes its whole family.
* Revocation (RFC 7009), introspection (RFC 7662; a client sees its own tokens, a resource
  server also the access tokens of its audiences, §4), and
  :meth:`TokenService.verify_access_token` for the service's own protected endpoints.
* Password checks (logins, password changes) are reserved in the login limits before Argon2
  runs, so parallel guesses hold to the limits (:mod:`~jwtkit.server.ratelimit`); registrations
  are limited per client address.
* Client secrets (RFC 6749 §2.3.1) are 256-bit random values made by the server, stored as
  their SHA-256 (:func:`hash_client_secret`): see "Client secrets" below.

.. rubric:: The verified-token cache

Verifying an ES256 signature costs about 60 µs, the rest of a ``/userinfo`` request about
20 µs. :class:`TokenService` therefore remembers the claims of the access tokens it has
verified (an LRU of ``access_token_cache_size`` entries, keyed by the exact token string; a
token that fails is never remembered). A hit gives exactly the answer a fresh verification
would give at that moment:

* the signature, ``typ``, ``iss``, ``aud`` and the claim types depend only on the token string
  and the verification keys, and the whole cache is dropped whenever
  ``keyring.verification_keys()`` returns another key set (a rotation, a retirement, the end of
  a retired key's publication);
* the checks that depend on the time (``exp``, ``nbf``, ``iat`` not in the future) are made
  again against the injected clock on every hit; a token that fails them is dropped and
  verified afresh, which reports the precise error;
* what the service learns after issuing a token is never cached: the ``jti`` denylist
  (RFC 7009 revocations), the user's password generation (password changes), a disabled user
  and a removed client are checked in the store on every request.

.. rubric:: Password changes

A password change must refuse every access token issued before it and none issued after it,
also within the same second, which a whole-second ``iat`` cannot tell apart. Each user has a
``token_generation``, which :meth:`Store.set_password <.storage.Store.set_password>` increments
atomically with the new hash; a user's access token carries the generation it was issued in as
the private claim :data:`PASSWORD_GENERATION_CLAIM` (a collision-resistant name, RFC 7519 §4.3),
and this service refuses a token whose generation is not the user's current one. Tokens of
earlier versions have no such claim and a fractional ``iat``: they are refused after any
password change made since the upgrade, and, as before, when issued before the user's
``tokens_valid_after`` (the time of the last change).

.. rubric:: Client secrets

A client secret is not a password: the server generates it (:func:`new_client_secret`, 256
random bits), so no guessing attack on a stolen digest can succeed, and a slow, salted password
hash (Argon2id, ~100 ms and 64 MiB per check) buys nothing but a denial-of-service lever on the
token endpoint. Secrets are stored as ``sha256$`` + base64url(SHA-256(secret)) and compared in
constant time (:func:`hmac.compare_digest`); an unknown client is compared against a dummy
digest, so it costs the same. Hashes of older versions (``$argon2...``) still verify, through
the password hasher, and are replaced by the digest at their first successful use.

.. rubric:: The refresh grace period

RFC 9700 §4.14.2 allows a short grace period for clients that lose the answer to a refresh
(a dropped connection): the predecessor is accepted once more and answered with the *same*
successor. The store keeps only hashes, so the successor cannot be read back. When a grace
period is configured, the successor is therefore *derived*:
``HMAC-SHA256(successor_key, predecessor)``, with a server secret (derived from the
key-encryption key). Only a holder of the predecessor can ask for it, only the server can compute
it, and the answer is checked against the stored ``successor_hash`` before it is sent. Without a
grace period every refresh token is fresh randomness (:func:`secrets.token_urlsafe`).

.. warning::
   Tokens, passwords and client secrets never appear in errors or audit events.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import math
import re
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import jwtkit
from jwtkit._oauth import is_scope
from jwtkit.errors import (
    ClaimError,
    ExpiredToken,
    InvalidKey,
    InvalidSignature,
    JWTError,
    KeyNotFound,
    MalformedToken,
)

from .models import Client, RefreshToken, User
from .oauth_errors import (
    OAuthError,
    invalid_client,
    invalid_token,
    too_many_attempts,
)
from .passwords import PasswordPolicyError, check_policy
from .ratelimit import LimitReached
from .storage import Conflict

if TYPE_CHECKING:
    from .audit import AuditLog
    from .config import Settings
    from .keyring import KeyRing
    from .passwords import PasswordHasher
    from .ratelimit import LoginLimiter
    from .storage import Store

__all__ = [
    "ACCESS_TOKEN_CACHE_SIZE",
    "GRANT_TYPES",
    "JWKS_MAX_AGE",
    "KEYRING_REFRESH_INTERVAL",
    "PASSWORD_GENERATION_CLAIM",
    "PURGE_INTERVAL",
    "ClientAuth",
    "TokenService",
    "check_username",
    "derive_successor_key",
    "hash_client_secret",
    "hash_refresh_token",
    "new_client_secret",
    "new_refresh_token",
    "parse_basic_authorization",
    "verify_client_secret",
]

logger = logging.getLogger("jwtkit.server")

#: The grants the token endpoint knows (RFC 6749 §4.3, §6, §4.4).
GRANT_TYPES = ("password", "refresh_token", "client_credentials")
#: How often (seconds) the key ring is re-read from the store, so that a key rotated by
#: another process (``jwtkit keys rotate``) is published and used without a restart.
KEYRING_REFRESH_INTERVAL = 10.0
#: How long verifiers may cache the JWKS (``Cache-Control: max-age``); ``jwtkit keys rotate``
#: publishes a new key at least this long before it signs.
JWKS_MAX_AGE = 300
#: How often (seconds) expired refresh tokens, revocations and rate-limit windows are purged.
PURGE_INTERVAL = 3600.0
#: The private claim of a user's access token: the user's password generation when it was
#: issued (module docstring, "Password changes"). A URI under the project's own name, so that
#: it collides with no other issuer's claim (RFC 7519 §4.2, §4.3).
PASSWORD_GENERATION_CLAIM = "https://github.com/jwtkit/jwtkit/claims/password_generation"
#: The grants of the built-in public first-party client.
_FIRST_PARTY_GRANTS = ("password", "refresh_token")
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
_SUCCESSOR_LABEL = b"jwtkit refresh-token successor v1\x00"
_MAX_TOKEN_LENGTH = 8192
#: How many verified access tokens a :class:`TokenService` remembers by default.
ACCESS_TOKEN_CACHE_SIZE = 10_000
#: The scheme prefix of a stored client-secret digest (older hashes start with ``$argon2``).
_CLIENT_SECRET_SCHEME = "sha256$"
_ARGON2_PREFIX = "$argon2"


def new_refresh_token() -> str:
    """A new opaque refresh token: 256 random bits, base64url (RFC 9700 §4.14)."""
    return secrets.token_urlsafe(32)


def derive_successor_key(key_encryption_key: bytes) -> bytes:
    """The 32-byte secret that derives refresh-token successors during a grace period:
    HKDF-SHA256 (RFC 5869) of the key-encryption key, so that every worker agrees on it."""
    return HKDF(
        algorithm=SHA256(), length=32, salt=None, info=b"jwtkit refresh-token successor key"
    ).derive(key_encryption_key)


def new_client_secret() -> str:
    """A new client secret: 256 random bits, base64url (shown once, stored as
    :func:`hash_client_secret`)."""
    return secrets.token_urlsafe(32)


def _secret_digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


def hash_client_secret(secret: str) -> str:
    """The stored form of a client secret: ``sha256$`` + base64url(SHA-256(secret)).

    For server-generated, high-entropy secrets only (:func:`new_client_secret`): a fast hash is
    safe because nobody can guess 256 random bits; passwords people choose need Argon2id.
    """
    encoded = base64.urlsafe_b64encode(_secret_digest(secret)).rstrip(b"=").decode("ascii")
    return _CLIENT_SECRET_SCHEME + encoded


#: Compared with when there is no digest to compare with (unknown or public client, a
#: malformed stored value), so that every failure costs the same as a wrong secret.
_DUMMY_CLIENT_SECRET_HASH = hash_client_secret(secrets.token_urlsafe(32))


def verify_client_secret(stored_hash: str | None, secret: str) -> bool:
    """Whether ``secret`` matches a :func:`hash_client_secret` digest, in constant time.

    ``None`` (an unknown or public client) and anything that is not such a digest (including
    an older ``$argon2`` hash, which :class:`TokenService` verifies with the password hasher)
    cost the same SHA-256 and comparison against a dummy digest, and give ``False``.
    """
    known = (
        stored_hash is not None
        and stored_hash.startswith(_CLIENT_SECRET_SCHEME)
        and stored_hash.isascii()
    )
    target = stored_hash if known and stored_hash is not None else _DUMMY_CLIENT_SECRET_HASH
    matched = hmac.compare_digest(hash_client_secret(secret).encode(), target.encode())
    return matched and known


def hash_refresh_token(token: str) -> bytes:
    """The SHA-256 under which a refresh token is stored (the token itself never is)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def check_username(username: str) -> None:
    """Raise :class:`ValueError` unless ``username`` is 1-64 of ``A-Z a-z 0-9 . _ @ + -``,
    starting with a letter or digit (so that e-mail addresses work).

    Usernames are ASCII, so the store's uniqueness and lookups ignoring ASCII case ignore case
    entirely: ``alice`` and ``ALICE`` are one user (shown as registered)."""
    if not _USERNAME.fullmatch(username):
        raise ValueError(
            "the username must be 1 to 64 characters: letters, digits and . _ @ + -, "
            "starting with a letter or a digit"
        )


@dataclass(frozen=True)
class ClientAuth:
    """The client credentials presented with a request (RFC 6749 §2.3.1).

    ``method`` is ``"client_secret_basic"``, ``"client_secret_post"`` or ``"none"`` (a public
    client that only names itself with ``client_id``, or no client at all).
    """

    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    method: str = "none"


def parse_basic_authorization(header: str) -> tuple[str, str]:
    """(client_id, client_secret) from ``Authorization: Basic ...`` (RFC 6749 §2.3.1).

    Both parts are form-urlencoded before base64 (RFC 6749 Appendix B). Raises
    ``invalid_client`` (401) for anything malformed.
    """
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise invalid_client("the Authorization header must use the Basic scheme")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise invalid_client("malformed Basic credentials") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon or not client_id:
        raise invalid_client("malformed Basic credentials")
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


@dataclass(frozen=True)
class _Caller:
    """The client behind a request: its id, its record (if stored) and whether it proved it."""

    client_id: str
    client: Client | None
    authenticated: bool

    def grant_types(self, first_party: bool) -> tuple[str, ...]:
        if self.client is not None:
            return self.client.grant_types
        return _FIRST_PARTY_GRANTS if first_party else ()


def _scope_tokens(scope: str | None) -> list[str] | None:
    """The scope tokens of a ``scope`` parameter (RFC 6749 §3.3); ``None`` if absent."""
    if scope is None:
        return None
    tokens = scope.split(" ")
    if not is_scope(scope):
        raise OAuthError("invalid_scope", "scope must be scope tokens separated by single spaces")
    return list(dict.fromkeys(tokens))


def _narrowed(requested: str | None, allowed: tuple[str, ...], default: tuple[str, ...]) -> str:
    """The granted scope: ``requested`` if within ``allowed``, else ``default`` if absent."""
    tokens = _scope_tokens(requested)
    if tokens is None:
        return " ".join(token for token in default if token in allowed)
    extra = [token for token in tokens if token not in allowed]
    if extra:
        raise OAuthError("invalid_scope", f"scope not allowed: {' '.join(extra)[:100]}")
    return " ".join(tokens)


def _describe_token_error(exc: JWTError) -> str:
    """A description of why an access token failed, safe to show (no token, no key)."""
    if isinstance(exc, ExpiredToken):
        return "the access token has expired"
    if isinstance(exc, ClaimError):
        return f"the access token's {exc.claim!r} claim is not valid here ({exc.reason})"
    if isinstance(exc, (InvalidSignature, InvalidKey)):
        return "the access token's signature does not verify"
    if isinstance(exc, MalformedToken):
        return "the access token is malformed"
    return "the access token is not valid"


class TokenService:
    """Grants, revocation, introspection and access-token checks over one :class:`Store`.

    ``clock`` returns Unix time (``time.time`` by default); tests pass a
    :class:`jwtkit.testing.FrozenClock`. ``successor_key`` (32 bytes) enables the refresh grace
    period (see the module docstring); without it no grace is given, whatever the settings.
    ``access_token_cache_size`` bounds the verified-token cache (see the module docstring; 0
    turns it off).
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        keyring: KeyRing,
        hasher: PasswordHasher,
        limiter: LoginLimiter,
        audit: AuditLog,
        clock: Callable[[], float] | None = None,
        *,
        successor_key: bytes | None = None,
        access_token_cache_size: int = ACCESS_TOKEN_CACHE_SIZE,
    ) -> None:
        if access_token_cache_size < 0:
            raise ValueError("access_token_cache_size must be >= 0 (0 turns the cache off)")
        self.store = store
        self.settings = settings
        self.keyring = keyring
        self.hasher = hasher
        self.limiter = limiter
        self.audit = audit
        self.clock: Callable[[], float] = time.time if clock is None else clock
        self._successor_key = successor_key if settings.refresh_grace_period > 0 else None
        self._default_scope = (
            tuple(settings.default_scope.split()) if settings.default_scope else ()
        )
        self._keyring_checked = self._purged = self.clock()
        self._verifier_keys: jwtkit.KeySet | None = None
        self._forced_refresh = -math.inf
        self._verifier: jwtkit.Verifier | None = None
        # token string -> its verified claims, least recently used first (module docstring).
        self._claims_cache: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._claims_cache_size = access_token_cache_size

    def _audit(self, name: str, **fields: str | int | float | None) -> None:
        """Emit an audit event; a field refused by the audit log never fails the request."""
        try:
            self.audit.event(name, **fields)
        except (ValueError, TypeError):
            logger.warning("audit event %s dropped: a field was refused", name)

    # -- keys ---------------------------------------------------------------------------

    async def refresh_keys(self, *, force: bool = False) -> None:
        """Re-read the signing keys from the store at most every
        :data:`KEYRING_REFRESH_INTERVAL` seconds (always with ``force``)."""
        now = self.clock()
        if force or now - self._keyring_checked >= KEYRING_REFRESH_INTERVAL:
            self._keyring_checked = now
            await self.keyring.refresh()
        if now - self._purged >= PURGE_INTERVAL:
            self._purged = now
            purged = await self.store.purge(now)
            logger.debug("purged %d expired records", purged)

    async def jwks(self) -> dict[str, Any]:
        """The published JWK Set: every key that signs or signed unexpired tokens."""
        await self.refresh_keys()
        return self.keyring.jwks()

    def _access_verifier(self) -> jwtkit.Verifier:
        keys = self.keyring.verification_keys()
        if self._verifier is None or keys is not self._verifier_keys:
            algorithms = sorted(
                {key.alg for key in keys if key.alg} or {self.settings.signing_algorithm}
            )
            self._verifier = jwtkit.Verifier(
                keys,
                algorithms=algorithms,
                issuer=self.settings.issuer,
                audience=self.settings.audience,
                typ="at+jwt",
                require=("exp", "iat", "jti", "sub", "client_id"),
                clock=self.clock,
            )
            self._verifier_keys = keys
            # Claims verified with other keys may not verify now (a retired key).
            self._claims_cache.clear()
        return self._verifier

    # -- the token endpoint -------------------------------------------------------------

    async def token(self, params: Mapping[str, str], auth: ClientAuth, ip: str) -> dict[str, Any]:
        """Answer a token request (RFC 6749 §5.1) or raise :class:`OAuthError` (§5.2)."""
        await self.refresh_keys()
        grant_type = params.get("grant_type")
        if grant_type is None:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant_type == "password":
            if not self.settings.password_grant:
                raise OAuthError(
                    "unsupported_grant_type", "the password grant is disabled on this server"
                )
            return await self._password_grant(params, auth, ip)
        if grant_type == "refresh_token":
            return await self._refresh_grant(params, auth, ip)
        if grant_type == "client_credentials":
            return await self._client_credentials_grant(params, auth, ip)
        raise OAuthError(
            "unsupported_grant_type",
            f"grant_type must be one of {', '.join(GRANT_TYPES)}",
        )

    async def _password_grant(
        self, params: Mapping[str, str], auth: ClientAuth, ip: str
    ) -> dict[str, Any]:
        """RFC 6749 §4.3, with per-username and per-IP failure limits."""
        caller = await self._caller(auth, required=False, ip=ip)
        self._check_grant(caller, "password")
        username = params.get("username")
        password = params.get("password")
        if username is None or password is None:
            raise OAuthError("invalid_request", "username and password are required")
        try:
            async with self.limiter.attempt(username, ip) as attempt:
                user = await self.store.user_by_name(username)
                matched = await self.hasher.verify(user.password_hash if user else None, password)
                if user is None or not matched or user.disabled:
                    # What was typed as a username is sometimes a password: only known names
                    # are logged.
                    reason = (
                        "unknown_user"
                        if user is None
                        else "disabled"
                        if matched
                        else "bad_password"
                    )
                    self._audit(
                        "login_failed",
                        user_id=user.id if user else None,
                        username=user.username if user else None,
                        client_ip=ip,
                        client_id=caller.client_id,
                        reason=reason,
                    )
                    raise OAuthError("invalid_grant", "invalid username or password")
                attempt.succeeded()
        except LimitReached as exc:
            self._audit("rate_limited", client_ip=ip, client_id=caller.client_id)
            raise too_many_attempts(exc.retry_after) from None
        if self.hasher.needs_rehash(user.password_hash):
            rehashed = await self.hasher.hash(password)
            await self.store.rehash_password(user.id, user.password_hash, rehashed)
            self._audit("password_rehashed", user_id=user.id)
        scope = _narrowed(
            params.get("scope"), self._allowed_scopes(caller), self._allowed_scopes(caller)
        )
        now = self.clock()
        response = self._access_response(
            user.id, caller.client_id, scope, now, user.token_generation
        )
        if "refresh_token" in caller.grant_types(self._is_first_party(caller)):
            refresh, family_id = await self._start_family(user.id, caller.client_id, scope, now)
            response["refresh_token"] = refresh
        else:
            family_id = None
        self._audit(
            "login_ok",
            user_id=user.id,
            username=user.username,
            client_id=caller.client_id,
            client_ip=ip,
            family_id=family_id,
        )
        return response

    async def _refresh_grant(
        self, params: Mapping[str, str], auth: ClientAuth, ip: str
    ) -> dict[str, Any]:
        """RFC 6749 §6 with rotation and reuse detection (RFC 9700 §4.14.2)."""
        presented = params.get("refresh_token")
        if presented is None:
            raise OAuthError("invalid_request", "refresh_token is required")
        caller = await self._caller(auth, required=False, ip=ip)
        presented_hash = hash_refresh_token(presented[:_MAX_TOKEN_LENGTH])
        stored = await self.store.refresh_token(presented_hash)
        if stored is None or len(presented) > _MAX_TOKEN_LENGTH:
            raise OAuthError("invalid_grant", "the refresh token is invalid")
        if stored.client_id != caller.client_id:
            # RFC 6749 §6: the token is bound to the client it was issued to.
            raise OAuthError("invalid_grant", "the refresh token was issued to another client")
        # A confidential client cannot get here unauthenticated: _caller refuses it.
        self._check_grant(caller, "refresh_token")
        original = tuple(stored.scope.split()) if stored.scope else ()
        scope = _narrowed(params.get("scope"), original, original)
        now = self.clock()
        user = await self._user_of(stored)
        successor = self._successor(presented)
        new = RefreshToken(
            token_hash=hash_refresh_token(successor),
            family_id=stored.family_id,
            user_id=stored.user_id,
            client_id=stored.client_id,
            scope=stored.scope,  # RFC 6749 §6: the new refresh token keeps the original scope
            issued_at=now,
            expires_at=min(now + self.settings.refresh_idle_ttl, stored.family_expires_at),
            family_expires_at=stored.family_expires_at,
        )
        outcome = await self.store.rotate_refresh_token(
            presented_hash, new, now, float(self.settings.refresh_grace_period)
        )
        if outcome.status == "reused":
            revoked = await self.store.revoke_family(stored.family_id, now)
            self._audit(
                "reuse_detected",
                family_id=stored.family_id,
                user_id=stored.user_id,
                client_id=stored.client_id,
                client_ip=ip,
                revoked=revoked,
            )
            raise OAuthError(
                "invalid_grant",
                "the refresh token was already used; its token family has been revoked",
            )
        if outcome.status == "grace":
            if self._successor_key is None or outcome.successor_hash != new.token_hash:
                raise OAuthError("invalid_grant", "the refresh token was already rotated")
            self._audit(
                "refresh_grace", family_id=stored.family_id, user_id=stored.user_id, client_ip=ip
            )
        elif outcome.status != "rotated":
            described = {"revoked": "has been revoked", "expired": "has expired"}
            raise OAuthError(
                "invalid_grant",
                f"the refresh token {described.get(outcome.status, 'is invalid')}",
            )
        else:
            self._audit(
                "refresh",
                family_id=stored.family_id,
                user_id=stored.user_id,
                client_id=stored.client_id,
                client_ip=ip,
            )
        if user is None:
            response = self._access_response(stored.client_id, stored.client_id, scope, now)
        else:
            response = self._access_response(
                user.id, stored.client_id, scope, now, user.token_generation
            )
        response["refresh_token"] = successor
        return response

    async def _user_of(self, stored: RefreshToken) -> User | None:
        """The live user of a refresh family; revoke the family if the user is gone/disabled."""
        if stored.user_id is None:
            return None
        user = await self.store.user_by_id(stored.user_id)
        if user is None or user.disabled:
            await self.store.revoke_family(stored.family_id, self.clock())
            raise OAuthError("invalid_grant", "the refresh token's user is disabled")
        return user

    def _successor(self, presented: str) -> str:
        """The next refresh token: derived when a grace period is on, random otherwise."""
        if self._successor_key is None:
            return new_refresh_token()
        digest = hmac.new(
            self._successor_key,
            _SUCCESSOR_LABEL + presented.encode("utf-8", "surrogatepass"),
            hashlib.sha256,
        ).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    async def _client_credentials_grant(
        self, params: Mapping[str, str], auth: ClientAuth, ip: str
    ) -> dict[str, Any]:
        """RFC 6749 §4.4: confidential clients only; no refresh token (§4.4.3)."""
        caller = await self._caller(auth, required=True, ip=ip)
        self._check_grant(caller, "client_credentials")
        scope = _narrowed(
            params.get("scope"), self._allowed_scopes(caller), self._allowed_scopes(caller)
        )
        self._audit("client_token", client_id=caller.client_id, client_ip=ip)
        return self._access_response(caller.client_id, caller.client_id, scope, self.clock())

    # -- clients ------------------------------------------------------------------------

    async def _caller(self, auth: ClientAuth, *, required: bool, ip: str) -> _Caller:
        """Authenticate the client of a request (RFC 6749 §2.3), or identify a public one."""
        first_party = self.settings.first_party_client_id
        if auth.client_secret is not None:
            client_id = auth.client_id or ""
            client = await self.store.client_by_id(client_id) if client_id else None
            stored_hash = client.secret_hash if client is not None else None
            matched = await self._client_secret_matches(client, auth.client_secret)
            if client is None or stored_hash is None or not matched:
                self._audit(
                    "client_auth_failed",
                    client_id=client.id if client else None,
                    client_ip=ip,
                    method=auth.method,
                )
                raise invalid_client("client authentication failed")
            return _Caller(client.id, client, authenticated=True)
        if required:
            raise invalid_client(
                "client authentication is required (client_secret_basic or client_secret_post)"
            )
        client_id = auth.client_id or first_party
        client = await self.store.client_by_id(client_id)
        if client is None and client_id != first_party:
            raise invalid_client("unknown client")
        if client is not None and client.secret_hash is not None:
            raise invalid_client("this client must authenticate")
        return _Caller(client_id, client, authenticated=False)

    async def _client_secret_matches(self, client: Client | None, secret: str) -> bool:
        """Check a client secret (RFC 6749 §2.3.1): a SHA-256 digest in constant time; an older
        Argon2 hash with the password hasher, replaced by the digest once it matched."""
        stored_hash = client.secret_hash if client is not None else None
        if client is None or stored_hash is None or not stored_hash.startswith(_ARGON2_PREFIX):
            return verify_client_secret(stored_hash, secret)
        if not await self.hasher.verify(stored_hash, secret):
            return False
        # A compare-and-set, so that a secret changed meanwhile is kept.
        if await self.store.rehash_client_secret(
            client.id, stored_hash, hash_client_secret(secret)
        ):
            self._audit("client_secret_rehashed", client_id=client.id)
        return True

    def _is_first_party(self, caller: _Caller) -> bool:
        return caller.client_id == self.settings.first_party_client_id

    def _check_grant(self, caller: _Caller, grant_type: str) -> None:
        if grant_type not in caller.grant_types(self._is_first_party(caller)):
            raise OAuthError(
                "unauthorized_client", f"this client may not use the {grant_type} grant"
            )

    def _allowed_scopes(self, caller: _Caller) -> tuple[str, ...]:
        if caller.client is not None:
            return caller.client.scopes
        return self._default_scope

    # -- issuing ------------------------------------------------------------------------

    def _access_response(
        self,
        subject: str,
        client_id: str,
        scope: str,
        now: float,
        password_generation: int | None = None,
    ) -> dict[str, Any]:
        """A §5.1 response with a fresh RFC 9068 access token; ``password_generation`` is the
        user's ``token_generation`` (``None`` for a client's own token)."""
        ttl = self.settings.access_token_ttl
        # Whole seconds, rounded down: iat is never after the moment of issue, so that no
        # verifier with a whole-second clock and no leeway sees it in the future.
        issued_at = math.floor(now)
        claims: dict[str, Any] = {
            "iss": self.settings.issuer,
            "sub": subject,
            "aud": self.settings.audience,
            "exp": issued_at + ttl,
            "iat": issued_at,
            "jti": secrets.token_urlsafe(16),
            "client_id": client_id,
        }
        if scope:
            claims["scope"] = scope
        if password_generation is not None:
            claims[PASSWORD_GENERATION_CLAIM] = password_generation
        key = self.keyring.signing_key()
        token = jwtkit.encode(
            claims, key, algorithm=key.alg or self.settings.signing_algorithm, typ="at+jwt"
        )
        response: dict[str, Any] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": ttl,
        }
        if scope:
            response["scope"] = scope
        return response

    async def _start_family(
        self, user_id: str, client_id: str, scope: str, now: float
    ) -> tuple[str, str]:
        """The first refresh token of a new family (a login); returns (token, family id)."""
        token = new_refresh_token()
        family_id = uuid.uuid4().hex
        family_expires = now + self.settings.refresh_absolute_ttl
        await self.store.add_refresh_token(
            RefreshToken(
                token_hash=hash_refresh_token(token),
                family_id=family_id,
                user_id=user_id,
                client_id=client_id,
                scope=scope,
                issued_at=now,
                expires_at=min(now + self.settings.refresh_idle_ttl, family_expires),
                family_expires_at=family_expires,
            )
        )
        return token, family_id

    # -- access tokens ------------------------------------------------------------------

    async def verify_access_token(self, token: str) -> dict[str, Any]:
        """The claims of a valid access token for this service's own endpoints.

        Checks the signature against the published keys, ``typ: at+jwt``, ``iss``, ``aud``,
        ``exp`` (RFC 9068 §4), then what only this service knows: the ``jti`` denylist
        (RFC 7009 revocations) and the user's password generation (password changes).
        Raises ``invalid_token`` (401 with a Bearer challenge, RFC 6750 §3.1).

        The signature check is skipped for a token verified before with the same keys (the
        module docstring's verified-token cache); every other check runs on every call. The
        keys are re-read from the store every :data:`KEYRING_REFRESH_INTERVAL` seconds, so that
        a key retired by another process (``jwtkit keys retire``) is honoured here too.
        """
        await self.refresh_keys()
        claims, _ = await self._verified(token)
        return claims

    async def _verified(self, token: str) -> tuple[dict[str, Any], User | None]:
        """The claims of a valid access token and its user (``None`` for a client's token)."""
        claims = await self._decode_access_token(token)
        now = self.clock()
        if await self.store.is_jti_revoked(str(claims["jti"]), now):
            raise invalid_token("the access token has been revoked")
        return claims, await self._check_subject(claims)

    async def _decode_access_token(self, token: str) -> dict[str, Any]:
        """The verified claims of an access token (signature, header and claims; RFC 9068 §4),
        from the verified-token cache when it holds the token; ``invalid_token`` otherwise."""
        if len(token) > _MAX_TOKEN_LENGTH:
            raise invalid_token("the access token is malformed")
        verifier = self._access_verifier()  # drops the cache if the keys have changed
        cached = self._cached_claims(token)
        if cached is not None:
            return cached
        try:
            return self._remember(token, verifier.decode(token))
        except KeyNotFound:
            # A key rotated by another process: look again once, then give up.
            pass
        except JWTError as exc:
            raise invalid_token(_describe_token_error(exc)) from None
        # At most one forced reload per second: unknown kids must not become a database flood.
        if time.monotonic() - self._forced_refresh >= 1.0:
            self._forced_refresh = time.monotonic()
            await self.refresh_keys(force=True)
        try:
            return self._remember(token, self._access_verifier().decode(token))
        except JWTError as exc:
            raise invalid_token(_describe_token_error(exc)) from None

    def _cached_claims(self, token: str) -> dict[str, Any] | None:
        """A copy of the cached claims of ``token`` if they are still valid at this moment.

        Only the time-dependent checks of the verifier can change their answer for the same
        token and keys: ``exp`` (``now >= exp`` is expired), ``nbf`` and ``iat`` (not in the
        future); the verifier has no leeway. An entry failing them is dropped, and the caller
        verifies the token afresh, which reports the precise error.
        """
        claims = self._claims_cache.get(token)
        if claims is None:
            return None
        now = self.clock()
        nbf = claims.get("nbf")
        if now >= claims["exp"] or claims["iat"] > now or (nbf is not None and nbf > now):
            del self._claims_cache[token]
            return None
        self._claims_cache.move_to_end(token)
        return dict(claims)

    def _remember(self, token: str, claims: dict[str, Any]) -> dict[str, Any]:
        """Cache the claims of a token that just verified; return them."""
        if self._claims_cache_size:
            self._claims_cache[token] = dict(claims)
            if len(self._claims_cache) > self._claims_cache_size:
                self._claims_cache.popitem(last=False)
        return claims

    async def _check_subject(self, claims: Mapping[str, Any]) -> User | None:
        subject, client_id = str(claims["sub"]), str(claims["client_id"])
        if subject == client_id:
            if await self.store.client_by_id(client_id) is None:
                raise invalid_token("the access token's client no longer exists")
            return None
        user = await self.store.user_by_id(subject)
        if user is None or user.disabled:
            raise invalid_token("the access token's user is disabled")
        generation = claims.get(PASSWORD_GENERATION_CLAIM)
        if generation is None:
            # A token of an earlier version (fractional iat): refused after any change since.
            stale = user.token_generation != 0 or claims["iat"] < user.tokens_valid_after
        else:
            stale = type(generation) is not int or generation != user.token_generation
        if stale:
            raise invalid_token("the access token was issued before a password change")
        return user

    # -- revocation and introspection ---------------------------------------------------

    async def revoke(self, params: Mapping[str, str], auth: ClientAuth, ip: str) -> None:
        """RFC 7009 §2: revoke a refresh token (its whole family) or an access token (its
        ``jti``, until ``exp``). Unknown, expired or malformed tokens are not an error (§2.2)."""
        token = params.get("token")
        if token is None:
            raise OAuthError("invalid_request", "token is required")
        caller = await self._caller(auth, required=False, ip=ip)
        hint = params.get("token_type_hint")
        order = (
            ("access_token", "refresh_token")
            if hint == "access_token"
            else (
                "refresh_token",
                "access_token",
            )
        )
        for kind in order:
            if kind == "refresh_token":
                if await self._revoke_refresh(token, caller, ip):
                    return
            elif await self._revoke_access(token, caller, ip):
                return

    async def _revoke_refresh(self, token: str, caller: _Caller, ip: str) -> bool:
        if len(token) > _MAX_TOKEN_LENGTH:
            return False
        stored = await self.store.refresh_token(hash_refresh_token(token))
        if stored is None:
            return False
        self._check_owner(stored.client_id, caller)
        revoked = await self.store.revoke_family(stored.family_id, self.clock())
        self._audit(
            "revoke",
            kind="refresh",
            family_id=stored.family_id,
            user_id=stored.user_id,
            client_id=caller.client_id,
            client_ip=ip,
            revoked=revoked,
        )
        return True

    async def _revoke_access(self, token: str, caller: _Caller, ip: str) -> bool:
        try:
            claims = await self._decode_access_token(token)
        except OAuthError:
            return False  # not ours, malformed or expired: nothing to revoke
        self._check_owner(str(claims["client_id"]), caller)
        await self.store.revoke_jti(str(claims["jti"]), float(claims["exp"]))
        self._audit(
            "revoke", kind="access", jti=claims["jti"], client_id=caller.client_id, client_ip=ip
        )
        return True

    @staticmethod
    def _check_owner(owner: str, caller: _Caller) -> None:
        """RFC 7009 §2.1: a client may revoke only the tokens issued to it."""
        if owner != caller.client_id:
            raise OAuthError("unauthorized_client", "the token was not issued to this client")

    async def introspect(
        self, params: Mapping[str, str], auth: ClientAuth, ip: str
    ) -> dict[str, Any]:
        """RFC 7662 §2: the state of a token, for authenticated confidential clients only.

        What a client may see (RFC 7662 §4, see :meth:`_may_introspect`): the tokens issued to
        itself, and, for a resource server, the access tokens whose ``aud`` it serves. Any other
        token is answered ``{"active": false}``, as an unknown one is (§2.2), so that the
        answer tells nothing about other clients' tokens.
        """
        caller = await self._caller(auth, required=True, ip=ip)
        token = params.get("token")
        if token is None:
            raise OAuthError("invalid_request", "token is required")
        hint = params.get("token_type_hint")
        if hint == "refresh_token":
            answer = await self._introspect_refresh(token, caller) or await self._introspect_access(
                token, caller
            )
        else:
            answer = await self._introspect_access(token, caller) or await self._introspect_refresh(
                token, caller
            )
        return answer or {"active": False}

    @staticmethod
    def _may_introspect(caller: _Caller, client_id: str, audience: object = None) -> bool:
        """RFC 7662 §4: whether ``caller`` may learn about a token issued to ``client_id``
        (with ``aud`` ``audience``; ``None`` for a refresh token, which only its client ever
        holds). A client may always see its own tokens: it holds them, and what it would learn
        it was given with them. A resource server (a client with ``audiences``) may see the
        access tokens meant for it: those whose ``aud`` names one of its audiences."""
        if client_id == caller.client_id:
            return True
        if caller.client is None or audience is None:
            return False
        audiences = audience if isinstance(audience, list) else [audience]
        return any(value in caller.client.audiences for value in audiences)

    async def _introspect_access(self, token: str, caller: _Caller) -> dict[str, Any] | None:
        try:
            claims, user = await self._verified(token)
        except OAuthError:
            return None
        if not self._may_introspect(caller, str(claims["client_id"]), claims.get("aud")):
            return None
        answer: dict[str, Any] = {"active": True, "token_type": "Bearer", **claims}
        if user is not None:
            answer["username"] = user.username
        return answer

    async def _introspect_refresh(self, token: str, caller: _Caller) -> dict[str, Any] | None:
        if len(token) > _MAX_TOKEN_LENGTH:
            return None
        stored = await self.store.refresh_token(hash_refresh_token(token))
        now = self.clock()
        if (
            stored is None
            or not self._may_introspect(caller, stored.client_id)
            or stored.rotated_at is not None
            or stored.revoked_at is not None
            or min(stored.expires_at, stored.family_expires_at) <= now
        ):
            return None
        answer: dict[str, Any] = {
            "active": True,
            "token_type": "refresh_token",
            "client_id": stored.client_id,
            "exp": int(min(stored.expires_at, stored.family_expires_at)),
            "iat": int(stored.issued_at),
            "iss": self.settings.issuer,
        }
        if stored.scope:
            answer["scope"] = stored.scope
        if stored.user_id is not None:
            answer["sub"] = stored.user_id
            user = await self.store.user_by_id(stored.user_id)
            if user is None or user.disabled:
                return None
            answer["username"] = user.username
        return answer

    # -- users --------------------------------------------------------------------------

    async def create_user(self, username: str, password: str, ip: str) -> User:
        """Register a user (``POST /users`` from the client address ``ip``);
        ``invalid_request`` for a bad username or password, 429 past
        ``registration_max_per_ip`` registrations from ``ip`` per hour (counted before the
        password is hashed), ``409 username_taken`` for a duplicate (ignoring case: ``ALICE`` is
        taken when ``alice`` exists; the name is kept as given)."""
        try:
            check_username(username)
            check_policy(password, username=username)
        except (ValueError, PasswordPolicyError) as exc:
            raise OAuthError("invalid_request", str(exc)) from None
        try:
            await self.limiter.registration(ip)
        except LimitReached as exc:
            self._audit("rate_limited", client_ip=ip)
            raise too_many_attempts(exc.retry_after, "registrations") from None
        user = User(
            id=uuid.uuid4().hex,
            username=username,
            password_hash=await self.hasher.hash(password),
            created_at=self.clock(),
        )
        try:
            await self.store.add_user(user)
        except Conflict:
            raise OAuthError(
                "username_taken", "this username is taken (usernames ignore case)", 409
            ) from None
        self._audit("user_registered", user_id=user.id, username=username)
        return user

    async def change_password(
        self, claims: Mapping[str, Any], current: str, new: str, ip: str
    ) -> int:
        """Change the caller's password; revoke every refresh family of the user and refuse
        the access tokens issued before now (the store moves the user to the next password
        generation). Returns the number of refresh tokens revoked."""
        if claims["sub"] == claims["client_id"]:
            raise OAuthError(
                "invalid_request", "only a user's access token can change a password", 403
            )
        user = await self.store.user_by_id(str(claims["sub"]))
        if user is None:  # pragma: no cover - verify_access_token checked the user
            raise invalid_token("the access token's user no longer exists")
        try:
            async with self.limiter.attempt(user.username, ip) as attempt:
                if not await self.hasher.verify(user.password_hash, current):
                    self._audit("password_change_failed", user_id=user.id, client_ip=ip)
                    raise OAuthError("invalid_grant", "the current password is wrong")
                attempt.succeeded()
        except LimitReached as exc:
            raise too_many_attempts(exc.retry_after) from None
        try:
            check_policy(new, username=user.username)
        except PasswordPolicyError as exc:
            raise OAuthError("invalid_request", str(exc)) from None
        new_hash = await self.hasher.hash(new)
        now = self.clock()
        await self.store.set_password(user.id, new_hash, now)
        revoked = await self.store.revoke_user_families(user.id, now)
        self._audit("password_changed", user_id=user.id, client_ip=ip, revoked=revoked)
        return revoked

    # -- metadata -----------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """Authorization server metadata (RFC 8414 §2)."""
        issuer = self.settings.issuer
        grants = [g for g in GRANT_TYPES if g != "password" or self.settings.password_grant]
        auth_methods = ["client_secret_basic", "client_secret_post", "none"]
        metadata: dict[str, Any] = {
            "issuer": issuer,
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "revocation_endpoint": f"{issuer}/revoke",
            "introspection_endpoint": f"{issuer}/introspect",
            "userinfo_endpoint": f"{issuer}/userinfo",
            "grant_types_supported": grants,
            "response_types_supported": [],
            "scopes_supported": list(self._default_scope),
            "token_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "introspection_endpoint_auth_methods_supported": auth_methods[:2],
        }
        if self.settings.docs_enabled:
            metadata["service_documentation"] = f"{issuer}/docs"
        return metadata
