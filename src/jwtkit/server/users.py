"""User administration over HTTP: registration and password changes, and the username rule.

:class:`UserAdmin` registers users (``POST /users``) and changes a user's password
(``POST /users/me/password``: every refresh family of the user is revoked and the store moves
the user to the next password generation, which refuses the older access tokens). The admin
commands (``jwtkit users ...``) share :func:`check_username`. How a password change refuses
older tokens: docs/server.md, "How it works".
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .models import User
from .oauth_errors import OAuthError, invalid_token, too_many_attempts
from .passwords import PasswordPolicyError, check_policy
from .ratelimit import LimitReached
from .storage import Conflict

if TYPE_CHECKING:
    from .passwords import PasswordHasher
    from .ratelimit import LoginLimiter
    from .storage import Store

__all__ = ["UserAdmin", "check_username"]

_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")


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


class UserAdmin:
    """Registration and password changes; ``audit`` emits an audit event (never failing)."""

    def __init__(
        self,
        store: Store,
        hasher: PasswordHasher,
        limiter: LoginLimiter,
        clock: Callable[[], float],
        audit: Callable[..., None],
    ) -> None:
        self.store = store
        self.hasher = hasher
        self.limiter = limiter
        self.clock = clock
        self._audit = audit

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
