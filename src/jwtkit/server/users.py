"""Users over HTTP: logins, registration and password changes, the username and profile rules,
and the OpenID Connect userinfo claims.

:meth:`UserAdmin.authenticate` checks a username and password for every login (the password
grant and the login page alike) under the failed-login limits. :class:`UserAdmin` registers
users (``POST /users``) and changes a user's password (``POST /users/me/password``: every
refresh family and browser session of the user ends, and the store moves the user to the next
password generation, which refuses the older access tokens). The admin
commands (``jwtkit users ...``) share :func:`check_username` and :func:`check_profile` (the
e-mail address and name of OpenID Connect Core 1.0 §5.1). :func:`userinfo_claims` picks the
profile claims a token's scope grants (§5.3.2, §5.4). How a password change refuses older
tokens: docs/server.md, "How it works".
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

__all__ = [
    "MAX_EMAIL_LENGTH",
    "MAX_NAME_LENGTH",
    "UserAdmin",
    "check_profile",
    "check_username",
    "userinfo_claims",
]

_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")

#: RFC 5321 §4.5.3.1.3: a path holds at most 256 octets with its angle brackets, so an
#: address has at most 254; a local part at most 64 (§4.5.3.1.1).
MAX_EMAIL_LENGTH = 254
_MAX_LOCAL_PART = 64
#: The longest accepted ``name`` (a display name, not a document), in characters.
MAX_NAME_LENGTH = 200

# RFC 5322 §3.4.1 addr-spec, restricted to its common, unambiguous form: a dot-atom local part
# (atext, §3.2.3, in runs separated by single dots), "@", and a domain of DNS labels (RFC 1035
# §2.3.1 letters, digits and inner hyphens, 1 to 63 each) separated by dots. No quoted local
# parts, comments, domain literals or non-ASCII addresses (RFC 6531).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"(?P<local>{_ATEXT}(?:\.{_ATEXT})*)@{_LABEL}(?:\.{_LABEL})*")


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


def check_profile(email: str | None, name: str | None) -> None:
    """Raise :class:`ValueError` unless ``email`` and ``name`` (each may be ``None``) are
    acceptable profile values (OpenID Connect Core §5.1).

    ``email``: an RFC 5322 addr-spec in its dot-atom form, ``local@domain`` (local part: letters,
    digits and ``!#$%&'*+/=?^_`{|}~-`` in runs separated by single dots, at most 64; domain: DNS
    labels separated by dots), at most 254 characters (RFC 5321). Quoted local parts, domain
    literals and non-ASCII addresses are refused. ``name``: 1 to 200 printable characters
    (any script), without surrounding spaces."""
    if email is not None:
        match = _EMAIL.fullmatch(email)
        if match is None or len(email) > MAX_EMAIL_LENGTH or len(match["local"]) > _MAX_LOCAL_PART:
            raise ValueError(
                "the e-mail address must be local@domain (RFC 5322 dot-atom form, at most 254"
                " characters, ASCII; no quoted local part or address literal)"
            )
    if name is not None and not (
        0 < len(name) <= MAX_NAME_LENGTH and name.isprintable() and name == name.strip()
    ):
        raise ValueError(
            f"the name must be 1 to {MAX_NAME_LENGTH} printable characters,"
            " without leading or trailing spaces"
        )


def userinfo_claims(scope: str, user: User | None) -> dict[str, Any]:
    """The profile claims of ``user`` that ``scope`` (an access token's ``scope``) grants
    (OpenID Connect Core §5.4): ``profile`` gives ``preferred_username`` (the username as
    registered) and ``name`` when set; ``email`` gives ``email`` and ``email_verified`` when an
    address is set. Claims without a value are left out (§5.3.2). ``user`` is ``None`` for a
    client's own token (no end-user): no claims."""
    if user is None:
        return {}
    granted = scope.split()
    claims: dict[str, Any] = {}
    if "profile" in granted:
        claims["preferred_username"] = user.username
        if user.name is not None:
            claims["name"] = user.name
    if "email" in granted and user.email is not None:
        claims["email"] = user.email
        claims["email_verified"] = user.email_verified
    return claims


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

    async def create_user(
        self,
        username: str,
        password: str,
        ip: str,
        *,
        email: str | None = None,
        name: str | None = None,
    ) -> User:
        """Register a user (``POST /users`` from the client address ``ip``), with an optional
        ``email`` (never verified: the user asserts it) and ``name``;
        ``invalid_request`` for a bad username, password, address or name, 429 past
        ``registration_max_per_ip`` registrations from ``ip`` per hour (counted before the
        password is hashed), ``409 username_taken`` for a duplicate (ignoring case: ``ALICE`` is
        taken when ``alice`` exists; the name is kept as given)."""
        try:
            check_username(username)
            check_profile(email, name)
            check_policy(password, username=username)
        except (ValueError, PasswordPolicyError) as exc:
            raise OAuthError("invalid_request", str(exc)) from None
        try:
            await self.limiter.registration(ip)
        except LimitReached as exc:
            self._audit("rate_limited", client_ip=ip, limit="registration")
            raise too_many_attempts(exc.retry_after, "registrations") from None
        user = User(
            id=uuid.uuid4().hex,
            username=username,
            password_hash=await self.hasher.hash(password),
            created_at=self.clock(),
            email=email,
            name=name,
        )
        try:
            await self.store.add_user(user)
        except Conflict:
            raise OAuthError(
                "username_taken", "this username is taken (usernames ignore case)", 409
            ) from None
        self._audit("user_registered", user_id=user.id, username=username)
        return user

    async def authenticate(self, username: str, password: str, ip: str, client_id: str) -> User:
        """The user whose ``username`` and ``password`` these are, for a login from ``ip``
        through ``client_id`` (the password grant, the login page): ``invalid_grant`` with the
        same description for an unknown user, a wrong password and a disabled user (the
        answer tells no one which names exist), 429 past the per-user and per-IP limits
        (attempts are admitted before the password is checked). A hash with outdated
        parameters is replaced after the login."""
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
                        client_id=client_id,
                        reason=reason,
                    )
                    raise OAuthError("invalid_grant", "invalid username or password")
                attempt.succeeded()
        except LimitReached as exc:
            self._audit("rate_limited", client_ip=ip, client_id=client_id, limit="login")
            raise too_many_attempts(exc.retry_after) from None
        if self.hasher.needs_rehash(user.password_hash):
            rehashed = await self.hasher.hash(password)
            await self.store.rehash_password(user.id, user.password_hash, rehashed)
            self._audit("password_rehashed", user_id=user.id)
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
            self._audit("rate_limited", client_ip=ip, user_id=user.id, limit="login")
            raise too_many_attempts(exc.retry_after) from None
        try:
            check_policy(new, username=user.username)
        except PasswordPolicyError as exc:
            raise OAuthError("invalid_request", str(exc)) from None
        new_hash = await self.hasher.hash(new)
        now = self.clock()
        await self.store.set_password(user.id, new_hash, now)
        revoked = await self.store.revoke_user_families(user.id, now)
        await self.store.end_user_sessions(user.id, now)
        self._audit("password_changed", user_id=user.id, client_ip=ip, revoked=revoked)
        return revoked
