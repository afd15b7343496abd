"""Access tokens of the token service: issuing and verifying them, and the verified-token cache.

:class:`AccessTokens` signs RFC 9068 access tokens with the key ring's active key of
``signing_algorithm`` and verifies them for the service's own endpoints (with that algorithm
alone): the signature, header and claims (remembered in a :class:`VerifiedTokenCache`), then,
on every request, what only the store knows (the ``jti`` denylist, a revoked refresh family,
the user's password generation, a disabled user, a removed client). An access token issued
with a refresh token names its family (:data:`REFRESH_FAMILY_CLAIM`), so that revoking the
family (RFC 7009 §2.1, reuse detection in RFC 9700 §4.14.2) revokes the access tokens of the
grant too. Why the cache gives exactly the answer of a fresh verification, and how password
changes refuse older tokens: docs/server.md, "How it works".
"""

from __future__ import annotations

import base64
import hashlib
import math
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import jwtkit
from jwtkit.errors import (
    ClaimError,
    ExpiredToken,
    InvalidKey,
    InvalidSignature,
    JWTError,
    KeyNotFound,
    MalformedToken,
)

from .credentials import MAX_TOKEN_LENGTH
from .oauth_errors import invalid_token

if TYPE_CHECKING:
    from .config import Settings
    from .keyring import KeyRing
    from .models import User
    from .storage import Store

__all__ = [
    "ACCESS_TOKEN_CACHE_SIZE",
    "PASSWORD_GENERATION_CLAIM",
    "REFRESH_FAMILY_CLAIM",
    "AccessTokens",
    "VerifiedTokenCache",
    "audience_of",
    "describe_token_error",
    "token_digest",
]

#: The private claim of a user's access token: the user's password generation when it was
#: issued (docs/server.md, "Password changes"). A URI under the project's own name, so that
#: it collides with no other issuer's claim (RFC 7519 §4.2, §4.3).
PASSWORD_GENERATION_CLAIM = "https://github.com/jwtkit/jwtkit/claims/password_generation"
#: The private claim of an access token issued with a refresh token: the id of its refresh
#: family, the grant it belongs to (docs/server.md, "Revoking a grant"). Verification refuses the
#: token once the family is revoked (RFC 7009 §2.1; reuse detection, RFC 9700 §4.14.2).
REFRESH_FAMILY_CLAIM = "https://github.com/jwtkit/jwtkit/claims/refresh_family"
#: How many verified access tokens a :class:`~.tokens.TokenService` remembers by default.
ACCESS_TOKEN_CACHE_SIZE = 10_000


def audience_of(resource: tuple[str, ...], default: str) -> str | list[str]:
    """The ``aud`` of an access token for these RFC 8707 resources (RFC 9068 §3: one string,
    or an array of several), ``default`` for none."""
    if not resource:
        return default
    return resource[0] if len(resource) == 1 else list(resource)


def token_digest(token: str) -> str:
    """The base64url SHA-256 of a token: how a token is named where it may not appear (the
    messages between instances, :mod:`~.broadcast`)."""
    digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def describe_token_error(exc: JWTError) -> str:
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


class VerifiedTokenCache:
    """The claims of verified access tokens, keyed by the exact token string: an LRU of
    ``size`` entries (0 turns it off). Only tokens that verified are stored. An entry can also
    be dropped by the token's digest (:func:`token_digest`): what another instance publishes
    when it revokes a token."""

    def __init__(self, size: int) -> None:
        self.size = size
        # token string -> its verified claims, least recently used first.
        self._entries: OrderedDict[str, dict[str, Any]] = OrderedDict()
        # token_digest(token) -> token, for every entry.
        self._digests: dict[str, str] = {}

    def __contains__(self, token: object) -> bool:
        return token in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget every entry (the verification keys changed)."""
        self._entries.clear()
        self._digests.clear()

    def discard(self, digest: str) -> None:
        """Forget the token whose :func:`token_digest` is ``digest``, if cached (revoked)."""
        token = self._digests.pop(digest, None)
        if token is not None:
            del self._entries[token]

    def _drop(self, token: str) -> None:
        del self._entries[token]
        del self._digests[token_digest(token)]

    def get(self, token: str, now: float) -> dict[str, Any] | None:
        """A copy of the cached claims of ``token`` if they are still valid at ``now``.

        Only the time-dependent checks of the verifier can change their answer for the same
        token and keys: ``exp`` (``now >= exp`` is expired), ``nbf`` and ``iat`` (not in the
        future); the verifier has no leeway. An entry failing them is dropped, and the caller
        verifies the token afresh, which reports the precise error.
        """
        claims = self._entries.get(token)
        if claims is None:
            return None
        nbf = claims.get("nbf")
        if now >= claims["exp"] or claims["iat"] > now or (nbf is not None and nbf > now):
            self._drop(token)
            return None
        self._entries.move_to_end(token)
        return dict(claims)

    def remember(self, token: str, claims: dict[str, Any]) -> dict[str, Any]:
        """Cache the claims of a token that just verified; return them."""
        if self.size:
            self._entries[token] = dict(claims)
            self._digests[token_digest(token)] = token
            if len(self._entries) > self.size:
                self._drop(next(iter(self._entries)))
        return claims


class AccessTokens:
    """Issues and verifies the service's access tokens (RFC 9068).

    ``reload_keys`` re-reads the key ring from the store; it is called (at most once a second)
    when a token names a key this process does not know yet (rotated by another process).
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        keyring: KeyRing,
        clock: Callable[[], float],
        reload_keys: Callable[[], Awaitable[None]],
        *,
        cache_size: int = ACCESS_TOKEN_CACHE_SIZE,
    ) -> None:
        if cache_size < 0:
            raise ValueError("access_token_cache_size must be >= 0 (0 turns the cache off)")
        self.store = store
        self.settings = settings
        self.keyring = keyring
        self.clock = clock
        self.cache = VerifiedTokenCache(cache_size)
        self._reload_keys = reload_keys
        self._verifier_keys: jwtkit.KeySet | None = None
        self._verifier: jwtkit.Verifier | None = None
        self._forced_refresh = -math.inf

    # -- issuing ------------------------------------------------------------------------

    def issue(
        self,
        subject: str,
        client_id: str,
        scope: str,
        now: float,
        password_generation: int | None = None,
        family: tuple[str, float] | None = None,
        resource: tuple[str, ...] = (),
        jkt: str | None = None,
    ) -> dict[str, Any]:
        """A §5.1 response with a fresh RFC 9068 access token; ``password_generation`` is the
        user's ``token_generation`` (``None`` for a client's own token); ``family`` is the
        (id, absolute expiry) of the refresh family the token is issued with, if any;
        ``resource`` the RFC 8707 resource indicators it is for (its ``aud``; none: the
        service's ``audience``); ``jkt`` the JWK SHA-256 thumbprint of the DPoP key the token
        is bound to: its ``cnf`` claim (RFC 9449 §6.1) and ``token_type: DPoP`` (§5.1).

        A token of a family names it (:data:`REFRESH_FAMILY_CLAIM`) and expires no later than
        the family: the family's records, which tell whether it was revoked, are purged only
        after that (:meth:`.Store.purge`)."""
        # Whole seconds, rounded down: iat is never after the moment of issue, so that no
        # verifier with a whole-second clock and no leeway sees it in the future.
        issued_at = math.floor(now)
        expires_at = issued_at + self.settings.access_token_ttl_for(client_id)
        if family is not None:
            expires_at = min(expires_at, math.floor(family[1]))
        claims: dict[str, Any] = {
            "iss": self.settings.issuer,
            "sub": subject,
            "aud": audience_of(resource, self.settings.audience),
            "exp": expires_at,
            "iat": issued_at,
            "jti": secrets.token_urlsafe(16),
            "client_id": client_id,
        }
        if scope:
            claims["scope"] = scope
        if password_generation is not None:
            claims[PASSWORD_GENERATION_CLAIM] = password_generation
        if family is not None:
            claims[REFRESH_FAMILY_CLAIM] = family[0]
        if jkt is not None:
            claims["cnf"] = {"jkt": jkt}
        key = self.keyring.signing_key(self.settings.signing_algorithm)
        token = jwtkit.encode(claims, key, algorithm=self.settings.signing_algorithm, typ="at+jwt")
        response: dict[str, Any] = {
            "access_token": token,
            "token_type": "Bearer" if jkt is None else "DPoP",
            "expires_in": expires_at - issued_at,
        }
        if scope:
            response["scope"] = scope
        return response

    @staticmethod
    def claims_of_issued(token: str) -> tuple[str, float]:
        """The ``jti`` and ``exp`` of an access token this object just issued (read without
        verification: it never left the process)."""
        claims = jwtkit.decode_unverified(token).claims
        return str(claims["jti"]), float(claims["exp"])

    # -- verifying ----------------------------------------------------------------------

    def verifier(self) -> jwtkit.Verifier:
        """The verifier of the current verification keys (a new one drops the cache).

        It allows ``signing_algorithm`` and ``published_algorithms`` (the access-token
        algorithms of a change, so that tokens of the previous one verify until they expire):
        the key ring also publishes the keys of the ID tokens' algorithms, and none of them may
        ever verify an access token."""
        keys = self.keyring.verification_keys()
        if self._verifier is None or keys is not self._verifier_keys:
            self._verifier = jwtkit.Verifier(
                keys,
                algorithms=self.settings.access_token_algorithms,
                issuer=self.settings.issuer,
                # The service's own audience or a resource it issues tokens for (RFC 8707):
                # revocation and introspection handle both; its own endpoints check their
                # audience on top (TokenService.verify_access_token).
                audience=[self.settings.audience, *self.settings.resource_indicators],
                typ="at+jwt",
                require=("exp", "iat", "jti", "sub", "client_id"),
                clock=self.clock,
            )
            self._verifier_keys = keys
            # Claims verified with other keys may not verify now (a retired key).
            self.cache.clear()
        return self._verifier

    async def verified(self, token: str) -> tuple[dict[str, Any], User | None]:
        """The claims of a valid access token and its user (``None`` for a client's token)."""
        claims = await self.decode(token)
        now = self.clock()
        if await self.store.is_jti_revoked(str(claims["jti"]), now):
            raise invalid_token("the access token has been revoked")
        # The subject first: a password change or a disabled user revokes the families too,
        # and is the more telling reason.
        user = await self._check_subject(claims)
        family = claims.get(REFRESH_FAMILY_CLAIM)
        if family is not None and await self.store.is_family_revoked(str(family)):
            raise invalid_token("the access token's grant has been revoked")
        return claims, user

    async def decode(self, token: str) -> dict[str, Any]:
        """The verified claims of an access token (signature, header and claims; RFC 9068 §4),
        from the verified-token cache when it holds the token; ``invalid_token`` otherwise."""
        if len(token) > MAX_TOKEN_LENGTH:
            raise invalid_token("the access token is malformed")
        verifier = self.verifier()  # drops the cache if the keys have changed
        cached = self.cache.get(token, self.clock())
        if cached is not None:
            return cached
        try:
            return self.cache.remember(token, verifier.decode(token))
        except KeyNotFound:
            # A key rotated by another process: look again once, then give up.
            pass
        except JWTError as exc:
            raise invalid_token(describe_token_error(exc)) from None
        # At most one forced reload per second: unknown kids must not become a database flood.
        if time.monotonic() - self._forced_refresh >= 1.0:
            self._forced_refresh = time.monotonic()
            await self._reload_keys()
        try:
            return self.cache.remember(token, self.verifier().decode(token))
        except JWTError as exc:
            raise invalid_token(describe_token_error(exc)) from None

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
