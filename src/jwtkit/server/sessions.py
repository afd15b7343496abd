"""Browser login sessions and the CSRF tokens of the login pages.

A browser that logged in at ``/authorize`` holds an opaque session cookie: 256 random bits,
stored only as their SHA-256 (:class:`~.models.LoginSession`), so that a copy of the database
yields no usable session. :class:`Sessions` starts, finds and ends them:

* a new session gets a new cookie at every login, and the session the browser presented before
  (if any) is ended: a cookie planted before the login is never the one after it (session
  fixation, OWASP Session Management Cheat Sheet; RFC 9700 §4.5 on binding a login to its
  browser);
* a session ends ``session_idle_ttl`` seconds after its last use, ``session_absolute_ttl`` after
  the login, at logout (OpenID Connect RP-Initiated Logout 1.0), or when its user is disabled
  or removed;
* its ``sid`` is public (the ``sid`` claim of ID tokens) and never the cookie.

:func:`cookie_names` says how the cookies are named: with the ``__Host-`` prefix when the
issuer is https (RFC 6265bis §4.1.3.2: Secure, path ``/``, no Domain, so no sibling host can
set or overwrite it), plain names on an http development issuer, where browsers refuse Secure
cookies. Every cookie is HttpOnly and SameSite=Lax (the HTTP layer sets them).

The forms of the login, consent and logout pages carry a CSRF token (OWASP CSRF Prevention
Cheat Sheet, double-submit cookie): a random value in a cookie of its own and in a hidden form
field; a POST whose two values differ (or lack either) is refused. A cross-site form cannot read
the cookie to copy it, and SameSite=Lax keeps the cookie off cross-site POSTs altogether.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .models import LoginSession

if TYPE_CHECKING:
    from .config import Settings
    from .models import User
    from .storage import Store

__all__ = [
    "COOKIE_VALUE_LENGTH",
    "CookieNames",
    "Sessions",
    "cookie_names",
    "csrf_matches",
    "new_csrf_token",
]

#: The length of a session cookie's and a CSRF token's text (base64url of 32 random bytes).
COOKIE_VALUE_LENGTH = 43
#: A session's idle expiry is written back at most this often (seconds): a page view within
#: a minute of the last write costs no write.
_TOUCH_INTERVAL = 60.0


@dataclass(frozen=True)
class CookieNames:
    """The names of the service's browser cookies and whether they are Secure."""

    session: str
    csrf: str
    secure: bool


def cookie_names(settings: Settings) -> CookieNames:
    """``__Host-`` prefixed, Secure cookies for an https issuer; plain ones otherwise."""
    if settings.issuer.startswith("https://"):
        return CookieNames("__Host-jwtkit_session", "__Host-jwtkit_csrf", secure=True)
    return CookieNames("jwtkit_session", "jwtkit_csrf", secure=False)


def _hash(cookie: str) -> bytes:
    return hashlib.sha256(cookie.encode("ascii")).digest()


def _well_formed(value: str | None) -> str | None:
    """``value`` if it looks like a cookie this service made, else ``None`` (anything else is
    not looked up: no store work for garbage)."""
    if (
        value is not None
        and len(value) == COOKIE_VALUE_LENGTH
        and value.isascii()
        and all(ch.isalnum() or ch in "-_" for ch in value)
    ):
        return value
    return None


def new_csrf_token() -> str:
    """A fresh CSRF token (the cookie's value and the form field's)."""
    return secrets.token_urlsafe(32)


def csrf_matches(cookie: str | None, submitted: str | None) -> bool:
    """Whether a form's CSRF field equals the browser's CSRF cookie (constant time)."""
    expected, given = _well_formed(cookie), _well_formed(submitted)
    if expected is None or given is None:
        return False
    return hmac.compare_digest(expected, given)


class Sessions:
    """Starts, finds and ends browser login sessions in the :class:`~.storage.Store`."""

    def __init__(self, store: Store, settings: Settings, clock: Callable[[], float]) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock

    async def current(self, cookie: str | None) -> tuple[LoginSession, User] | None:
        """The active session of this cookie and its user, or ``None``: no or unknown cookie,
        ended or expired session, user gone or disabled. Moves the idle expiry forward."""
        value = _well_formed(cookie)
        if value is None:
            return None
        session = await self.store.session_by_cookie(_hash(value))
        now = self.clock()
        if session is None or not session.is_active(now):
            return None
        user = await self.store.user_by_id(session.user_id)
        if user is None or user.disabled:
            await self.store.end_session(session.sid, now)
            return None
        idle = now + self.settings.session_idle_ttl
        if idle - session.idle_expires_at >= _TOUCH_INTERVAL:
            await self.store.touch_session(session.sid, idle)
        return session, user

    async def start(self, user: User, previous_cookie: str | None) -> tuple[str, LoginSession]:
        """A new session for ``user``, who just authenticated: (the cookie to set, the
        session). The session of ``previous_cookie``, if any, is ended (never reused)."""
        now = self.clock()
        planted = _well_formed(previous_cookie)
        if planted is not None:
            previous = await self.store.session_by_cookie(_hash(planted))
            if previous is not None:
                await self.store.end_session(previous.sid, now)
        cookie = secrets.token_urlsafe(32)
        expires = now + self.settings.session_absolute_ttl
        session = LoginSession(
            sid=secrets.token_urlsafe(16),
            cookie_hash=_hash(cookie),
            user_id=user.id,
            auth_time=now,
            created_at=now,
            idle_expires_at=min(now + self.settings.session_idle_ttl, expires),
            expires_at=expires,
        )
        await self.store.add_session(session)
        return cookie, session

    async def end(self, sid: str) -> bool:
        """End the session ``sid`` (logout); ``False`` if it had ended already."""
        return await self.store.end_session(sid, self.clock())

    async def is_active(self, sid: str) -> bool:
        """Whether the session ``sid`` is still active (an authorization code's exchange is
        refused once the session it was issued in has ended)."""
        session = await self.store.session_by_sid(sid)
        return session is not None and session.is_active(self.clock())
