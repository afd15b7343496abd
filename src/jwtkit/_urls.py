"""The one URL policy for the URLs jwtkit fetches or publishes, and what a loopback host is.

``jwtkit.remote`` applies it to every JWKS and discovery URL it fetches (security matrix D6,
A4); the integrations to the URLs of their RFC 9728 metadata; the token service's settings ask
:func:`is_loopback_host` too. Standard library only, so the integrations use it without
importing httpx.

A URL passes :func:`check_web_url` when it is ``https`` (``http`` only to a loopback host, for
development and tests: RFC 8252 §8.3 calls loopback the one safe place for it), has a host, no
user information (RFC 3986 §3.2.1 deprecates it; credentials belong in headers), no fragment
(RFC 3986 §3.5: never sent to the server) and at most :data:`MAX_URL_LENGTH` characters.
Callers choose whether a query is allowed and whether ``http`` is refused altogether (a hop
from an ``https`` origin). A refusal is :class:`URLRefused`; each caller raises its own jwtkit
error with the reason.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit

from . import _oauth
from ._messages import short

__all__ = [
    "MAX_URL_LENGTH",
    "URLRefused",
    "check_web_url",
    "is_loopback_host",
    "netloc",
    "redacted_url",
]

#: The longest URL accepted.
MAX_URL_LENGTH = 2048


class URLRefused(ValueError):
    """Why a URL was refused; the caller raises its own error with this reason."""


def is_loopback_host(host: str) -> bool:
    """``localhost``, or a loopback address (127.0.0.0/8, ``::1``; brackets allowed)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def netloc(host: str, port: int | None) -> str:
    """``host[:port]`` for messages, an IPv6 address in brackets."""
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None else f"{shown}:{port}"


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,15}")
# A user name as RFC 3986 §3.2.1 allows it (unreserved, percent-encoded, sub-delims), without
# the ':' that would start a password.
_USER = re.compile(r"[A-Za-z0-9._~%!$&'()*+,;=-]*")
# Query options whose values are secrets (libpq's password and sslpassword, redis-py's password).
_SECRET_OPTION = re.compile(r"pass|secret|token", re.IGNORECASE)


def redacted_url(url: str, *, plain: str = "<hidden>") -> str:
    """``url`` as it may be shown in messages, logs and banners: never a password.

    A password in the user information is left out (``postgresql://jwtkit:pw@db/jwtkit`` ->
    ``postgresql://jwtkit@db/jwtkit``, which still works as a command line's argument with
    the password in ``PGPASSWORD`` or ``~/.pgpass``); a user information that does not start
    with a plain user name is hidden whole (``***@host``). Whatever follows the *last* ``@`` is
    the host (RFC 3986 §3.2), so a password holding an unencoded ``/``, ``?``, ``#`` or ``@``
    is hidden too. Query options named like a password (``password=``, ``sslpassword=``, ...)
    keep their names with ``***`` values; a fragment is dropped. Text without ``scheme://`` is
    shown as ``plain`` (the caller decides whether it is a file path or a mistyped secret); a
    scheme that is not one (RFC 3986 §3.1) hides it all.
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        return plain
    if not _SCHEME.fullmatch(scheme):
        return "<hidden>"
    user_info, at, rest = rest.rpartition("@")
    if at:
        user = user_info.partition(":")[0]
        user_info = f"{user}@" if user and _USER.fullmatch(user) else "***@"
    rest = rest.partition("#")[0]
    location, question, query = rest.partition("?")
    options = parse_qsl(query, keep_blank_values=True)
    if any(_SECRET_OPTION.search(name) for name, _ in options):
        masked = [(k, "***" if _SECRET_OPTION.search(k) else v) for k, v in options]
        query = urlencode(masked, safe="*/")
    return f"{scheme}://{user_info}{location}{question}{query}"


def _bad_text(url: str, quotable: bool) -> bool:
    if not url or len(url) > MAX_URL_LENGTH or " " in url:
        return True
    if quotable:  # it will stand in a quoted-string (RFC 9110 §5.6.4)
        return not _oauth.is_quotable(url)
    return any(c < " " or c == "\x7f" for c in url)


def check_web_url(
    url: object, *, https_only: bool = False, query: bool = True, quotable: bool = False
) -> SplitResult:
    """The parts of ``url`` if the policy (module text) allows it, else :class:`URLRefused`.

    ``https_only`` refuses ``http`` even to a loopback host; ``query=False`` refuses a query;
    ``quotable`` refuses what cannot stand in a quoted-string (``"``, ``\\``, non-ASCII).
    """
    if not isinstance(url, str):
        raise URLRefused(f"expected a URL string, got {type(url).__name__}")
    if _bad_text(url, quotable):
        raise URLRefused("not a valid URL (empty, too long, or with spaces or quotes)")
    try:
        parts = urlsplit(url)
        port = parts.port
        host = (parts.hostname or "").lower()
    except ValueError:
        raise URLRefused("not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in {"https", "http"}:
        raise URLRefused(
            f"the scheme must be https (http only to a loopback host), got {short(scheme or url)}"
        )
    if not host:
        raise URLRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise URLRefused("credentials in the URL are refused; send them in headers")
    if "#" in url:
        raise URLRefused("the URL must not have a fragment")
    if not query and "?" in url:
        raise URLRefused("the URL must not have a query")
    if scheme == "http":
        if https_only:
            raise URLRefused(f"http is refused after https ({netloc(host, port)})")
        if not is_loopback_host(host):
            raise URLRefused(
                "http is allowed only to a loopback host (127.0.0.1, ::1, localhost); "
                f"use https for {netloc(host, port)}"
            )
    return parts
