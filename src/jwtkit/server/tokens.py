"""The OAuth 2.0 logic of the token service, framework-free: :class:`TokenService`.

:class:`TokenService` takes parsed request parameters and answers with dicts or raises
:class:`~.oauth_errors.OAuthError`; :mod:`jwtkit.server.http` is the thin HTTP layer around it.
It holds the grants (RFC 6749 §4.3, §6, §4.4), refresh-token rotation with reuse detection and
its grace period (RFC 9700 §4.14), client authentication (§2.3.1; with a signed JWT through
:mod:`~.client_assertions`, RFC 7523 §2.2), revocation (RFC 7009),
introspection (RFC 7662), the JWKS and the metadata (RFC 8414), and DPoP-bound tokens (RFC 9449:
the proofs are checked by :mod:`~.dpop_proofs`; access tokens get ``cnf.jkt``, a public client's
refresh family and a code with ``dpop_jkt`` are bound to the key). Access tokens are issued and
verified by :mod:`~.access_tokens`, secrets and refresh tokens hashed by :mod:`~.credentials`,
users registered by :mod:`~.users`, clients by :mod:`~.registration` (RFC 7591). How it all
works: docs/server.md, "How it works".

.. warning::
   Tokens, passwords and client secrets never appear in errors or audit events.
"""

from __future__ import annotations

import hmac
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .access_tokens import (
    ACCESS_TOKEN_CACHE_SIZE,
    PASSWORD_GENERATION_CLAIM,
    AccessTokens,
    token_digest,
)
from .authorization import (
    MAX_CODE_LENGTH,
    Authorizer,
    code_challenge_of,
    hash_code,
    is_code_verifier,
)
from .client_assertions import SIGNING_ALGORITHMS, AssertionRefused, ClientAssertions
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
from .demo import client_by_id
from .dpop_proofs import DPOP_ALGORITHMS, DPoPProofs, Presented, bound_jkt, dpop_challenge
from .id_tokens import issue_id_token
from .models import AuthorizationCode, Client, LoginSession, RefreshToken, User
from .oauth_errors import (
    OAuthError,
    invalid_client,
    invalid_token,
)
from .registration import ClientRegistrar
from .scopes import narrowed, offered_scopes
from .sessions import Sessions
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
GRANT_TYPES = ("authorization_code", "password", "refresh_token", "client_credentials")
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


def _code_reused() -> OAuthError:
    """The answer to a second use of an authorization code (RFC 6749 §4.1.2), whichever use
    finds out: the second exchange, or the first one when the second came in between."""
    return OAuthError(
        "invalid_grant",
        "the authorization code was already used; the tokens issued with it have been revoked",
    )


def _family_jkt(caller: _Caller, jkt: str | None) -> str | None:
    """The DPoP key a new refresh family is bound to: a public client's proof key (RFC 9449
    §5.8); a confidential client's refresh tokens are bound to its authentication instead."""
    return None if caller.authenticated else jkt


def _narrowed_resource(requested: str | None, granted: tuple[str, ...]) -> tuple[str, ...]:
    """The resources of an access token from a grant for ``granted`` (RFC 8707 §2.2): the one
    ``requested``, which must be among them (``invalid_target``), or all of them."""
    if requested is None:
        return granted
    if requested not in granted:
        raise OAuthError(
            "invalid_target", "resource is not one of the grant's resources (RFC 8707 §2.2)"
        )
    return (requested,)


class TokenService:
    """Grants, revocation, introspection and access-token checks over one :class:`Store`.

    ``clock`` returns Unix time (``time.time`` by default); tests pass a
    :class:`jwtkit.testing.FrozenClock`. ``successor_key`` (32 bytes) enables the refresh grace
    period (docs/server.md, "The refresh grace period"); without it no grace is given, whatever
    the settings. ``access_token_cache_size`` bounds the verified-token cache (docs/server.md,
    "The verified-token cache"; 0 turns it off). ``on_access_token_revoked`` is called with the
    :func:`~.access_tokens.token_digest` of each access token revoked here (RFC 7009), after
    the revocation is stored: it tells the other instances of the service
    (:meth:`.broadcast.Broadcast.access_token_revoked`). ``dpop_nonce_key`` (32 bytes) keys
    the DPoP nonces of the ``dpop_nonce`` setting (RFC 9449 §8), which needs it.
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
        on_access_token_revoked: Callable[[str], Awaitable[object]] | None = None,
        dpop_nonce_key: bytes | None = None,
    ) -> None:
        if settings.dpop_nonce and dpop_nonce_key is None:
            raise ValueError("the dpop_nonce setting needs dpop_nonce_key (32 bytes)")
        self.store = store
        self.settings = settings
        self.keyring = keyring
        self.hasher = hasher
        self.limiter = limiter
        self.audit = audit
        self.clock: Callable[[], float] = time.time if clock is None else clock
        self._successor_key = successor_key if settings.refresh_grace_period > 0 else None
        self._on_access_token_revoked = on_access_token_revoked
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
        self.sessions = Sessions(store, settings, self.clock)
        self.authorizer = Authorizer(store, settings, self.clock)
        self.client_assertions = ClientAssertions(store, settings.issuer, self.clock)
        self.registrar = ClientRegistrar(store, settings, limiter, self.clock, self._audit)
        self.dpop = DPoPProofs(
            store,
            settings.issuer,
            self.clock,
            nonce_key=dpop_nonce_key if settings.dpop_nonce else None,
        )

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

    async def token(
        self, params: Mapping[str, str], auth: ClientAuth, ip: str, dpop: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Answer a token request (RFC 6749 §5.1) or raise :class:`OAuthError` (§5.2).

        ``dpop`` holds the request's ``DPoP`` header values: a proof (RFC 9449 §5) is checked
        before the grant is looked at (a code or refresh token is not spent on a request whose
        proof fails or lacks the nonce), and binds what is issued to its key."""
        await self.refresh_keys()
        grant_type = params.get("grant_type")
        if grant_type is None:
            raise OAuthError("invalid_request", "grant_type is required")
        proof = await self.dpop.at_token_endpoint(dpop)
        jkt = None if proof is None else proof.jkt  # the key what is issued is bound to
        if grant_type == "password":
            if not self.settings.password_grant_enabled:
                raise OAuthError(
                    "unsupported_grant_type", "the password grant is disabled on this server"
                )
            return await self._password_grant(params, auth, ip, jkt)
        if grant_type == "authorization_code":
            return await self._authorization_code_grant(params, auth, ip, jkt)
        if grant_type == "refresh_token":
            return await self._refresh_grant(params, auth, ip, jkt)
        if grant_type == "client_credentials":
            return await self._client_credentials_grant(params, auth, ip, jkt)
        raise OAuthError(
            "unsupported_grant_type",
            f"grant_type must be one of {', '.join(GRANT_TYPES)}",
        )

    async def _password_grant(
        self, params: Mapping[str, str], auth: ClientAuth, ip: str, jkt: str | None
    ) -> dict[str, Any]:
        """RFC 6749 §4.3, with per-username and per-IP failure limits."""
        caller = await self._caller(auth, required=False, ip=ip)
        self._check_grant(caller, "password")
        username = params.get("username")
        password = params.get("password")
        if username is None or password is None:
            raise OAuthError("invalid_request", "username and password are required")
        user = await self.users.authenticate(username, password, ip, caller.client_id)
        scope = narrowed(
            params.get("scope"), self._allowed_scopes(caller), self._allowed_scopes(caller)
        )
        now = self.clock()
        # The family is stored before its first access token is issued, which names it.
        refresh: str | None = None
        family: tuple[str, float] | None = None
        if "refresh_token" in caller.grant_types(self._is_first_party(caller)):
            refresh, family = await self._start_family(
                user.id, caller.client_id, scope, now, dpop_jkt=_family_jkt(caller, jkt)
            )
        response = self.access_tokens.issue(
            user.id, caller.client_id, scope, now, user.token_generation, family, jkt=jkt
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
            grant="password",
            dpop_jkt=jkt,
        )
        return response

    async def _authorization_code_grant(
        self, params: Mapping[str, str], auth: ClientAuth, ip: str, jkt: str | None
    ) -> dict[str, Any]:
        """RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6) and single use (§4.1.2): the code's
        client, redirect URI and challenge must match; a second use is refused and revokes what
        the first issued. A code bound with ``dpop_jkt`` needs a proof of that key (RFC 9449
        §10). Refresh tokens only with ``offline_access`` (OpenID Connect Core §11); an ID
        token with ``openid`` (§3.1.3.3)."""
        caller = await self._caller(auth, required=False, ip=ip)
        self._check_grant(caller, "authorization_code")
        presented = params.get("code")
        verifier = params.get("code_verifier")
        if presented is None:
            raise OAuthError("invalid_request", "code is required")
        if verifier is None:
            raise OAuthError("invalid_request", "code_verifier is required (PKCE, RFC 7636 §4.5)")
        if len(presented) > MAX_CODE_LENGTH:
            raise OAuthError("invalid_grant", "the authorization code is invalid")
        now = self.clock()
        redemption = await self.store.redeem_code(hash_code(presented), now)
        code = redemption.code
        if redemption.status == "reused" and code is not None:
            revoked = await self._revoke_code_grant(code, now)
            self._audit(
                "code_reused",
                client_id=code.client_id,
                user_id=code.user_id,
                client_ip=ip,
                family_id=code.family_id,
                revoked=revoked,
            )
            raise _code_reused()
        if redemption.status != "redeemed" or code is None:
            described = "has expired" if redemption.status == "expired" else "is invalid"
            raise OAuthError("invalid_grant", f"the authorization code {described}")
        if code.client_id != caller.client_id:
            raise OAuthError("invalid_grant", "the authorization code was issued to another client")
        if params.get("redirect_uri") != code.redirect_uri:
            raise OAuthError(
                "invalid_grant",
                "redirect_uri must be the one of the authorization request (RFC 6749 §4.1.3)",
            )
        if not is_code_verifier(verifier) or not hmac.compare_digest(
            code_challenge_of(verifier), code.code_challenge
        ):
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
        if code.dpop_jkt is not None and jkt != code.dpop_jkt:
            raise OAuthError(
                "invalid_grant",
                "the authorization code is bound to a DPoP key (dpop_jkt): the token request"
                " needs a DPoP proof made with that key (RFC 9449 §10)",
            )
        if not await self.sessions.is_active(code.sid):
            raise OAuthError("invalid_grant", "the login session of the code has ended")
        user = await self.store.user_by_id(code.user_id)
        if user is None or user.disabled:
            raise OAuthError("invalid_grant", "the user of the code is disabled")
        resource = _narrowed_resource(params.get("resource"), code.resource)
        scopes = code.scope.split()
        refresh: str | None = None
        family: tuple[str, float] | None = None
        if "offline_access" in scopes and "refresh_token" in caller.grant_types(False):
            refresh, family = await self._start_family(
                user.id,
                caller.client_id,
                code.scope,
                now,
                code.resource,
                dpop_jkt=_family_jkt(caller, jkt),
            )
        response = self.access_tokens.issue(
            user.id,
            caller.client_id,
            code.scope,
            now,
            user.token_generation,
            family,
            resource,
            jkt=jkt,
        )
        if "openid" in scopes:
            response["id_token"] = issue_id_token(
                self.keyring,
                self.settings,
                client_id=caller.client_id,
                algorithm=caller.client.id_token_signed_response_alg if caller.client else None,
                user_id=user.id,
                now=now,
                auth_time=code.auth_time,
                nonce=code.nonce,
                sid=code.sid,
                access_token=response["access_token"],
            )
        if refresh is not None:
            response["refresh_token"] = refresh
        access_claims = self.access_tokens.claims_of_issued(response["access_token"])
        family_id = family[0] if family is not None else None
        if not await self.store.record_code_grant(
            code.code_hash, family_id, access_claims[0], access_claims[1]
        ):
            # Presented again between the redemption and now: that reuse could not revoke
            # these tokens, so revoke them here.
            await self._revoke_code_grant(
                replace(
                    code,
                    family_id=family_id,
                    access_jti=access_claims[0],
                    access_expires_at=access_claims[1],
                ),
                now,
            )
            raise _code_reused()
        self._audit(
            "login_ok",
            user_id=user.id,
            username=user.username,
            client_id=caller.client_id,
            client_ip=ip,
            family_id=family_id,
            grant="authorization_code",
            dpop_jkt=jkt,
        )
        return response

    # -- the browser login --------------------------------------------------------------

    async def browser_login(
        self,
        username: str,
        password: str,
        ip: str,
        client_id: str,
        previous_cookie: str | None,
    ) -> tuple[str, LoginSession, User]:
        """A login on the login page (for ``client_id``'s authorization request): the password
        checked under the failed-login limits (:meth:`.UserAdmin.authenticate`), then a new
        session, the browser's previous one ended. Returns (the cookie, the session, the
        user)."""
        user = await self.users.authenticate(username, password, ip, client_id)
        cookie, session = await self.sessions.start(user, previous_cookie)
        self._audit(
            "session_started",
            user_id=user.id,
            username=user.username,
            client_id=client_id,
            client_ip=ip,
            sid=session.sid,
        )
        return cookie, session, user

    async def browser_logout(self, session: LoginSession, user: User, ip: str) -> None:
        """End a login session (RP-Initiated Logout)."""
        if await self.sessions.end(session.sid):
            self._audit("session_ended", user_id=user.id, client_ip=ip, sid=session.sid)

    async def _revoke_code_grant(self, code: AuthorizationCode, now: float) -> int:
        """Revoke what the exchange of ``code`` issued (RFC 6749 §4.1.2): its refresh family
        and its access token; return how many refresh tokens were active."""
        revoked = 0
        if code.family_id is not None:
            revoked = await self.store.revoke_family(code.family_id, now)
        if code.access_jti is not None and code.access_expires_at is not None:
            await self.store.revoke_jti(code.access_jti, code.access_expires_at)
        return revoked

    async def _refresh_grant(
        self, params: Mapping[str, str], auth: ClientAuth, ip: str, jkt: str | None
    ) -> dict[str, Any]:
        """RFC 6749 §6 with rotation and reuse detection (RFC 9700 §4.14.2). A family bound to
        a DPoP key (a public client's, RFC 9449 §5.8) is refreshed only with a proof of that
        key, checked before the rotation; the new access token is bound to the proof's key,
        whatever the client."""
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
        if stored.dpop_jkt is not None and jkt != stored.dpop_jkt:
            raise OAuthError(
                "invalid_grant",
                "the refresh token is bound to a DPoP key: the request needs a DPoP proof made"
                " with that key (RFC 9449 §5.8)",
            )
        original = tuple(stored.scope.split()) if stored.scope else ()
        scope = narrowed(params.get("scope"), original, original)
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
            resource=stored.resource,
            dpop_jkt=stored.dpop_jkt,  # the family keeps its key, or stays unbound
        )
        resource = _narrowed_resource(params.get("resource"), stored.resource)
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
                "refresh_grace",
                family_id=stored.family_id,
                user_id=stored.user_id,
                client_ip=ip,
                dpop_jkt=jkt,
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
                dpop_jkt=jkt,
            )
        # The access token names the family: revoking it later revokes this token too, even if
        # the revocation lands between the rotation above and this answer (RFC 7009 §2.1).
        family = (stored.family_id, stored.family_expires_at)
        if user is None:
            response = self.access_tokens.issue(
                stored.client_id,
                stored.client_id,
                scope,
                now,
                family=family,
                resource=resource,
                jkt=jkt,
            )
        else:
            response = self.access_tokens.issue(
                user.id,
                stored.client_id,
                scope,
                now,
                user.token_generation,
                family,
                resource,
                jkt=jkt,
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
        self, params: Mapping[str, str], auth: ClientAuth, ip: str, jkt: str | None
    ) -> dict[str, Any]:
        """RFC 6749 §4.4: confidential clients only; no refresh token (§4.4.3)."""
        caller = await self._caller(auth, required=True, ip=ip)
        self._check_grant(caller, "client_credentials")
        scope = narrowed(
            params.get("scope"), self._allowed_scopes(caller), self._allowed_scopes(caller)
        )
        self._audit("client_token", client_id=caller.client_id, client_ip=ip, dpop_jkt=jkt)
        return self.access_tokens.issue(
            caller.client_id, caller.client_id, scope, self.clock(), jkt=jkt
        )

    # -- clients ------------------------------------------------------------------------

    async def _caller(self, auth: ClientAuth, *, required: bool, ip: str) -> _Caller:
        """Authenticate the client of a request (RFC 6749 §2.3), or identify a public one."""
        first_party = self.settings.first_party_client_id
        if auth.client_assertion is not None:
            return await self._asserted_caller(auth.client_assertion, auth, ip)
        if auth.client_secret is not None:
            client_id = auth.client_id or ""
            client = await client_by_id(self.store, self.settings, client_id) if client_id else None
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
                "client authentication is required (client_secret_basic, client_secret_post"
                " or private_key_jwt)"
            )
        client_id = auth.client_id or first_party
        client = await client_by_id(self.store, self.settings, client_id)
        if client is None and client_id != first_party:
            raise invalid_client("unknown client")
        if client is not None and not client.public:
            raise invalid_client("this client must authenticate")
        return _Caller(client_id, client, authenticated=False)

    async def _asserted_caller(self, assertion: str, auth: ClientAuth, ip: str) -> _Caller:
        """The client a client assertion authenticates (private_key_jwt, RFC 7523 §2.2)."""
        try:
            client = await self.client_assertions.authenticate(assertion, auth.client_id)
        except AssertionRefused as exc:
            self._audit(
                "client_auth_failed",
                client_id=exc.client_id,
                client_ip=ip,
                method=auth.method,
                reason=exc.description,
            )
            raise
        return _Caller(client.id, client, authenticated=True)

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
        self,
        user_id: str,
        client_id: str,
        scope: str,
        now: float,
        resource: tuple[str, ...] = (),
        *,
        dpop_jkt: str | None = None,
    ) -> tuple[str, tuple[str, float]]:
        """The first refresh token of a new family (a login), bound to the DPoP key of
        thumbprint ``dpop_jkt`` if given; returns (token, (family id, family's absolute
        expiry))."""
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
                resource=resource,
                dpop_jkt=dpop_jkt,
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
        claims, user = await self.access_tokens.verified(token)
        audience = claims["aud"]
        if self.settings.audience not in (audience if isinstance(audience, list) else [audience]):
            # A token for another resource (RFC 8707) is not for this service's own endpoints.
            raise invalid_token("the access token is not for this service (aud)")
        return claims, user

    async def verify_presented(
        self, presented: Presented, method: str, path: str
    ) -> tuple[dict[str, Any], User | None]:
        """:meth:`verify_access_token_of_user` for a ``method`` request to the service's own
        ``path`` that presents ``presented``, and the token's DPoP binding
        (:meth:`.DPoPProofs.at_resource`, RFC 9449 §7): a bound token only with the DPoP
        scheme and a proof of its key, an unbound one only as Bearer. A request with the DPoP
        scheme is answered with a DPoP challenge whatever failed (RFC 9449 §7.1)."""
        try:
            claims, user = await self.verify_access_token_of_user(presented.token)
        except OAuthError as exc:
            if presented.scheme == "DPoP":
                raise OAuthError(
                    exc.error,
                    exc.description,
                    exc.status,
                    {"WWW-Authenticate": dpop_challenge(exc.error, exc.description)},
                ) from None
            raise
        await self.dpop.at_resource(presented, claims, method, path)
        return claims, user

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
        # Tidiness, not safety: every request checks the denylist, cached claims or not.
        digest = token_digest(token)
        self.access_tokens.cache.discard(digest)
        if self._on_access_token_revoked is not None:
            await self._on_access_token_revoked(digest)
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
        # RFC 9449 §6.2: a bound token's cnf is among its claims; its type is DPoP.
        token_type = "Bearer" if bound_jkt(claims) is None else "DPoP"
        answer: dict[str, Any] = {"active": True, "token_type": token_type, **claims}
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
        """Authorization server metadata (RFC 8414 §2), which is also the OpenID Provider
        metadata (OpenID Connect Discovery 1.0 §3): one document at both well-known URLs."""
        issuer = self.settings.issuer
        grants = [g for g in GRANT_TYPES if g != "password" or self.settings.password_grant_enabled]
        # Introspection is for confidential clients only; private_key_jwt signs with these.
        confidential = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
        auth_methods = [*confidential, "none"]
        signing_algorithms = list(SIGNING_ALGORITHMS)
        metadata: dict[str, Any] = {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "userinfo_endpoint": f"{issuer}/userinfo",
            "end_session_endpoint": f"{issuer}/logout",
            "revocation_endpoint": f"{issuer}/revoke",
            "introspection_endpoint": f"{issuer}/introspect",
            "scopes_supported": list(offered_scopes(self.settings)),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": grants,
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": auth_methods,
            "token_endpoint_auth_signing_alg_values_supported": signing_algorithms,
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_signing_alg_values_supported": signing_algorithms,
            "introspection_endpoint_auth_methods_supported": confidential,
            "introspection_endpoint_auth_signing_alg_values_supported": signing_algorithms,
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": list(self.settings.id_token_algorithms),
            # Not registered by RFC 8414, which names no access-token algorithm (§2 allows
            # more members): what resource servers should allow, the current one first.
            "access_token_signing_alg_values_supported": list(
                self.settings.access_token_algorithms
            ),
            "claims_supported": [
                "iss",
                "sub",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "at_hash",
                "azp",
                "sid",
                "preferred_username",
                "name",
                "email",
                "email_verified",
            ],
            "prompt_values_supported": ["none", "login", "consent"],
            "claims_parameter_supported": False,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
            "authorization_response_iss_parameter_supported": True,
            "dpop_signing_alg_values_supported": list(DPOP_ALGORITHMS),  # RFC 9449 §5.1
        }
        if self.settings.client_registration_mode != "off":
            metadata["registration_endpoint"] = f"{issuer}/register"  # RFC 7591 §3
        if self.settings.docs_enabled:
            metadata["service_documentation"] = f"{issuer}/docs"
        return metadata
