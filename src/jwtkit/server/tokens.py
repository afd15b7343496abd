"""The OAuth 2.0 logic of the token service, framework-free: :class:`TokenService`.

:class:`TokenService` takes parsed request parameters and answers with dicts or raises
:class:`~.oauth_errors.OAuthError`; :mod:`jwtkit.server.http` is the thin HTTP layer around it.
It holds the grants (RFC 6749 §4.3, §6, §4.4), refresh-token rotation with reuse detection and
its grace period (RFC 9700 §4.14), client authentication (§2.3.1), revocation (RFC 7009),
introspection (RFC 7662), the JWKS and the metadata (RFC 8414). Access tokens are issued and
verified by :mod:`~.access_tokens`, secrets and refresh tokens hashed by :mod:`~.credentials`,
users registered by :mod:`~.users`, clients by :mod:`~.registration` (RFC 7591). How it all
works: docs/server.md, "How it works".

.. warning::
   Tokens, passwords and client secrets never appear in errors or audit events.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jwtkit._oauth import is_scope

from .access_tokens import (
    ACCESS_TOKEN_CACHE_SIZE,
    PASSWORD_GENERATION_CLAIM,
    AccessTokens,
)
from .credentials import (
    ARGON2_PREFIX,
    MAX_TOKEN_LENGTH,
    ClientAuth,
    derive_successor,
    derive_successor_key,
    hash_client_secret,
    hash_refresh_token,
    new_client_secret,
    new_refresh_token,
    parse_basic_authorization,
    verify_client_secret,
)
from .models import Client, RefreshToken, User
from .oauth_errors import (
    OAuthError,
    invalid_client,
    too_many_attempts,
)
from .ratelimit import LimitReached
from .registration import ClientRegistrar
from .users import UserAdmin, check_username

if TYPE_CHECKING:
    from .audit import AuditLog
    from .config import Settings
    from .keyring import KeyRing
    from .passwords import PasswordHasher
    from .ratelimit import LoginLimiter
    from .storage import Store

# The names of credentials, access_tokens and users are re-exported: they were defined here.
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
#: The grants of the built-in public first-party client.
_FIRST_PARTY_GRANTS = ("password", "refresh_token")


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


class TokenService:
    """Grants, revocation, introspection and access-token checks over one :class:`Store`.

    ``clock`` returns Unix time (``time.time`` by default); tests pass a
    :class:`jwtkit.testing.FrozenClock`. ``successor_key`` (32 bytes) enables the refresh grace
    period (docs/server.md, "The refresh grace period"); without it no grace is given, whatever
    the settings. ``access_token_cache_size`` bounds the verified-token cache (docs/server.md,
    "The verified-token cache"; 0 turns it off).
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
        self.access_tokens = AccessTokens(
            store,
            settings,
            keyring,
            self.clock,
            self._reload_keys,
            cache_size=access_token_cache_size,
        )
        self.users = UserAdmin(store, hasher, limiter, self.clock, self._audit)
        self.registrar = ClientRegistrar(store, settings, limiter, self.clock, self._audit)

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

    async def _reload_keys(self) -> None:
        await self.refresh_keys(force=True)

    async def jwks(self) -> dict[str, Any]:
        """The published JWK Set: every key that signs or signed unexpired tokens."""
        await self.refresh_keys()
        return self.keyring.jwks()

    # -- the token endpoint -------------------------------------------------------------

    async def token(self, params: Mapping[str, str], auth: ClientAuth, ip: str) -> dict[str, Any]:
        """Answer a token request (RFC 6749 §5.1) or raise :class:`OAuthError` (§5.2)."""
        await self.refresh_keys()
        grant_type = params.get("grant_type")
        if grant_type is None:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant_type == "password":
            if not self.settings.password_grant_enabled:
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
        # The family is stored before its first access token is issued, which names it.
        refresh: str | None = None
        family: tuple[str, float] | None = None
        if "refresh_token" in caller.grant_types(self._is_first_party(caller)):
            refresh, family = await self._start_family(user.id, caller.client_id, scope, now)
        response = self.access_tokens.issue(
            user.id, caller.client_id, scope, now, user.token_generation, family
        )
        if refresh is not None:
            response["refresh_token"] = refresh
        family_id = family[0] if family is not None else None
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
        presented_hash = hash_refresh_token(presented[:MAX_TOKEN_LENGTH])
        stored = await self.store.refresh_token(presented_hash)
        if stored is None or len(presented) > MAX_TOKEN_LENGTH:
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
        # The access token names the family: revoking it later revokes this token too, even if
        # the revocation lands between the rotation above and this answer (RFC 7009 §2.1).
        family = (stored.family_id, stored.family_expires_at)
        if user is None:
            response = self.access_tokens.issue(
                stored.client_id, stored.client_id, scope, now, family=family
            )
        else:
            response = self.access_tokens.issue(
                user.id, stored.client_id, scope, now, user.token_generation, family
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
        return derive_successor(self._successor_key, presented)

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
        return self.access_tokens.issue(caller.client_id, caller.client_id, scope, self.clock())

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
        if client is None or stored_hash is None or not stored_hash.startswith(ARGON2_PREFIX):
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

    # -- refresh families ---------------------------------------------------------------

    async def _start_family(
        self, user_id: str, client_id: str, scope: str, now: float
    ) -> tuple[str, tuple[str, float]]:
        """The first refresh token of a new family (a login); returns (token, (family id,
        family's absolute expiry))."""
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
        return token, (family_id, family_expires)

    # -- access tokens ------------------------------------------------------------------

    async def verify_access_token(self, token: str) -> dict[str, Any]:
        """The claims of a valid access token for this service's own endpoints.

        Checks the signature against the published keys, ``typ: at+jwt``, ``iss``, ``aud``,
        ``exp`` (RFC 9068 §4), then what only this service knows: the ``jti`` denylist
        (RFC 7009 revocations), the refresh family of the token's grant (revoked with a refresh
        token, or on reuse) and the user's password generation (password changes).
        Raises ``invalid_token`` (401 with a Bearer challenge, RFC 6750 §3.1).

        The signature check is skipped for a token verified before with the same keys (the
        verified-token cache, :mod:`~.access_tokens`); every other check runs on every call. The
        keys are re-read from the store every :data:`KEYRING_REFRESH_INTERVAL` seconds, so that
        a key retired by another process (``jwtkit keys retire``) is honoured here too.
        """
        claims, _ = await self.verify_access_token_of_user(token)
        return claims

    async def verify_access_token_of_user(self, token: str) -> tuple[dict[str, Any], User | None]:
        """:meth:`verify_access_token`, and the user it was checked against (``None`` for a
        client's own token), so that ``/userinfo`` reads the user once."""
        await self.refresh_keys()
        return await self.access_tokens.verified(token)

    # -- revocation and introspection ---------------------------------------------------

    async def revoke(self, params: Mapping[str, str], auth: ClientAuth, ip: str) -> None:
        """RFC 7009 §2: revoke a refresh token (its whole family, and with it the access tokens
        issued with the family, §2.1) or an access token (its ``jti``, until ``exp``). Unknown,
        expired or malformed tokens are not an error (§2.2)."""
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
        if len(token) > MAX_TOKEN_LENGTH:
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
            claims = await self.access_tokens.decode(token)
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
            claims, user = await self.access_tokens.verified(token)
        except OAuthError:
            return None
        if not self._may_introspect(caller, str(claims["client_id"]), claims.get("aud")):
            return None
        answer: dict[str, Any] = {"active": True, "token_type": "Bearer", **claims}
        if user is not None:
            answer["username"] = user.username
        return answer

    async def _introspect_refresh(self, token: str, caller: _Caller) -> dict[str, Any] | None:
        if len(token) > MAX_TOKEN_LENGTH:
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

    # -- metadata -----------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """Authorization server metadata (RFC 8414 §2)."""
        issuer = self.settings.issuer
        grants = [g for g in GRANT_TYPES if g != "password" or self.settings.password_grant_enabled]
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
        if self.settings.client_registration_mode != "off":
            metadata["registration_endpoint"] = f"{issuer}/register"  # RFC 7591 §3
        if self.settings.docs_enabled:
            metadata["service_documentation"] = f"{issuer}/docs"
        return metadata
