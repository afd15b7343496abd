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
from urllib.parse import SplitResult, urlsplit

from . import _oauth
from ._messages import short

__all__ = ["MAX_URL_LENGTH", "URLRefused", "check_web_url", "is_loopback_host", "netloc"]

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
