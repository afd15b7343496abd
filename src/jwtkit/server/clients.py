"""Client registration rules: registrable grants, redirect URIs and first-party clients.

The one place that says what a client may be registered with (RFC 6749 §2, OAuth 2.1 §2),
shared by ``jwtkit clients add``, Dynamic Client Registration (RFC 7591, :mod:`~.registration`)
and, later, ``/authorize``:

* :func:`check_registration` checks a client's grants and redirect URIs together: the
  ``authorization_code`` grant needs at least one redirect URI (OAuth 2.1 §2.3.1), and redirect
  URIs without that grant are refused (they would never be used); a public client cannot use
  ``client_credentials`` (RFC 6749 §4.4: a confidential client's grant). A problem with the
  redirect URIs themselves is a :class:`RedirectURIError`, which Dynamic Client Registration
  answers ``invalid_redirect_uri`` (RFC 7591 §3.2.2).
* :func:`check_post_logout_redirect_uris` applies the redirect URI rule to the URIs that
  RP-Initiated Logout may return to (OpenID Connect RP-Initiated Logout 1.0 §3.1), which only
  a client of the ``authorization_code`` grant (a browser login) can use.
* :func:`check_client_name` bounds the name shown to users (on the consent page).
* :func:`check_redirect_uri` is the registration rule for one redirect URI (RFC 9700 §2.1,
  §4.1.3; OAuth 2.1 §2.3.1; RFC 8252 for native apps): an absolute URI of at most
  :data:`MAX_REDIRECT_URI_LENGTH` ASCII characters, without fragment (RFC 6749 §3.1.2),
  userinfo or wildcard; ``https`` with a host; ``http`` only on a loopback host
  (``127.0.0.1``, ``[::1]``, ``localhost``: RFC 8252 §7.3); a private-use scheme, a reverse
  domain name such as ``com.example.app`` (RFC 8252 §7.1), only for a public client.
* :func:`redirect_uri_matches` compares a presented redirect URI with a registered one: exact
  string comparison (RFC 9700 §4.1.3), except that a loopback redirect URI may use any port
  (RFC 8252 §7.3: the native app picks a free port at run time).
* :func:`is_first_party` says whether a client skips the consent page: it was registered
  ``--first-party``, or it is the built-in client named by the ``first_party_client_id``
  setting (stored or not), as the password grant has always treated it.

Redirect URIs are stored exactly as given, in the order given: nothing is normalised, so what
is compared later is what the administrator registered.

This is client metadata, not a credential: :mod:`~.credentials` makes, hashes and checks
secrets; this module decides what a client record may contain.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .config import Settings
    from .models import Client

__all__ = [
    "LOOPBACK_HOSTS",
    "MAX_CLIENT_NAME_LENGTH",
    "MAX_REDIRECT_URIS",
    "MAX_REDIRECT_URI_LENGTH",
    "REGISTRABLE_GRANTS",
    "RedirectURIError",
    "check_client_name",
    "check_post_logout_redirect_uris",
    "check_redirect_uri",
    "check_registration",
    "is_first_party",
    "redirect_uri_matches",
]

#: The grants a client may be registered with. ``authorization_code`` (RFC 6749 §4.1, with
#: PKCE) is registrable before the token endpoint accepts it: it answers
#: ``unsupported_grant_type`` until the code flow exists.
REGISTRABLE_GRANTS = ("authorization_code", "client_credentials", "password", "refresh_token")
#: The hosts an ``http`` redirect URI may name (RFC 8252 §7.3; ``localhost`` is allowed, though
#: §8.3 recommends the IP literals, which do not depend on name resolution).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "[::1]", "localhost"})
#: The longest redirect URI accepted (characters), so that a client record stays small.
MAX_REDIRECT_URI_LENGTH = 2000
#: The most redirect URIs one client may register (post-logout ones are counted apart).
MAX_REDIRECT_URIS = 20
#: The longest client name (characters): a name shown to people, not a description.
MAX_CLIENT_NAME_LENGTH = 200

# The characters of an RFC 3986 URI reference (unreserved, reserved, and "%" of an escape).
_URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# RFC 3986 §3.1 scheme; a private-use scheme is a reverse domain name: at least one dot.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
# A loopback redirect URI, split where RFC 8252 §7.3 lets the port vary: scheme and host, an
# optional port, then the rest (path and query) exactly.
_LOOPBACK = re.compile(
    r"(?P<origin>http://(?:127\.0\.0\.1|\[::1\]|localhost))(?::(?P<port>[0-9]{1,5}))?"
    r"(?P<rest>[/?][^#]*)?"
)


class RedirectURIError(ValueError):
    """A redirect URI, or the list of them, cannot be registered (the message says why)."""


def check_redirect_uri(uri: str, *, public: bool) -> None:
    """Raise :class:`RedirectURIError` (a :class:`ValueError`) unless ``uri`` may be registered
    as a redirect URI of a client (``public``: one without a secret). The rules: the module's
    docstring."""
    if not 0 < len(uri) <= MAX_REDIRECT_URI_LENGTH or not _URI_CHARACTERS.fullmatch(uri):
        raise RedirectURIError(
            f"redirect URI {uri[:100]!r}: must be 1 to {MAX_REDIRECT_URI_LENGTH} characters of an"
            " ASCII URI (RFC 3986; percent-encode anything else)"
        )
    if _BAD_ESCAPE.search(uri):
        raise RedirectURIError(f"redirect URI {uri[:100]!r}: '%' must start a %XX escape")
    if "#" in uri:
        raise RedirectURIError(
            f"redirect URI {uri[:100]!r}: must not have a fragment (RFC 6749 §3.1.2)"
        )
    if "*" in uri:
        raise RedirectURIError(
            f"redirect URI {uri[:100]!r}: wildcards are not allowed, register every URI in full"
            " (RFC 9700 §2.1)"
        )
    scheme, colon, _ = uri.partition(":")
    if not colon or not _SCHEME.fullmatch(scheme):
        raise RedirectURIError(f"redirect URI {uri[:100]!r}: must be an absolute URI with a scheme")
    scheme = scheme.lower()
    if scheme in {"http", "https"}:
        _check_web_redirect_uri(uri, scheme)
    elif "." not in scheme:
        raise RedirectURIError(
            f"redirect URI {uri[:100]!r}: the scheme must be https, http on a loopback host, or a"
            " private-use scheme named by a reverse domain name such as com.example.app"
            " (RFC 8252 §7.1)"
        )
    elif not public:
        raise RedirectURIError(
            f"redirect URI {uri[:100]!r}: a private-use scheme is for native apps, which are"
            " public clients, without a secret (RFC 8252 §7.1, §8.4)"
        )


def _check_web_redirect_uri(uri: str, scheme: str) -> None:
    """The rules of an ``http`` or ``https`` redirect URI: a host, no userinfo, a valid port,
    and ``http`` only on a loopback host (RFC 8252 §7.3, RFC 9700 §2.1)."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises on a port that is not 0-65535
    except ValueError:
        raise RedirectURIError(f"redirect URI {uri[:100]!r}: not a valid host and port") from None
    if not uri[len(scheme) + 1 :].startswith("//") or not parts.netloc:
        raise RedirectURIError(
            f"redirect URI {uri[:100]!r}: must name a host ({scheme}://host/...)"
        )
    if "@" in parts.netloc:
        raise RedirectURIError(f"redirect URI {uri[:100]!r}: must not contain userinfo (user@)")
    host = parts.netloc.rsplit(":", 1)[0] if not parts.netloc.endswith("]") else parts.netloc
    if scheme == "http" and host.lower() not in LOOPBACK_HOSTS:
        raise RedirectURIError(
            f"redirect URI {uri[:100]!r}: http is only for a loopback host (127.0.0.1, [::1],"
            " localhost: RFC 8252 §7.3); use https"
        )


def check_registration(
    grant_types: Sequence[str], redirect_uris: Sequence[str], *, public: bool
) -> None:
    """Raise :class:`ValueError` unless a client may be registered with these grants and
    redirect URIs: every grant registrable (:data:`REGISTRABLE_GRANTS`); no
    ``client_credentials`` for a ``public`` client (RFC 6749 §4.4); ``authorization_code`` with
    1 to :data:`MAX_REDIRECT_URIS` distinct redirect URIs, each acceptable
    (:func:`check_redirect_uri`); no redirect URI without ``authorization_code``.

    A problem with the redirect URIs (missing, too many, repeated, one refused) is a
    :class:`RedirectURIError`; a problem with the grants a plain :class:`ValueError`."""
    unknown = [grant for grant in grant_types if grant not in REGISTRABLE_GRANTS]
    if unknown:
        raise ValueError(f"unknown grant {unknown[0]!r}: one of {', '.join(REGISTRABLE_GRANTS)}")
    if public and "client_credentials" in grant_types:
        raise ValueError(
            "a public client (without a secret) cannot use client_credentials (RFC 6749 §4.4)"
        )
    if "authorization_code" not in grant_types:
        if redirect_uris:
            raise ValueError("redirect URIs are only for the authorization_code grant")
        return
    if not redirect_uris:
        raise RedirectURIError(
            "the authorization_code grant needs at least one redirect URI (OAuth 2.1 §2.3.1)"
        )
    _check_redirect_uri_list(redirect_uris, public=public, what="redirect URI")


def check_post_logout_redirect_uris(
    grant_types: Sequence[str], uris: Sequence[str], *, public: bool
) -> None:
    """Raise :class:`ValueError` unless a client with these grants may register these
    ``post_logout_redirect_uris`` (OpenID Connect RP-Initiated Logout 1.0 §3.1): each one by
    the redirect URI rule (:func:`check_redirect_uri`; they are compared exactly too), at most
    :data:`MAX_REDIRECT_URIS`, none twice, and only for a client of the ``authorization_code``
    grant: logout ends a browser login, which only that grant starts."""
    if not uris:
        return
    if "authorization_code" not in grant_types:
        raise ValueError("post-logout redirect URIs are only for the authorization_code grant")
    _check_redirect_uri_list(uris, public=public, what="post-logout redirect URI")


def _check_redirect_uri_list(uris: Sequence[str], *, public: bool, what: str) -> None:
    if len(uris) > MAX_REDIRECT_URIS:
        raise RedirectURIError(f"at most {MAX_REDIRECT_URIS} {what}s per client")
    if len(set(uris)) != len(uris):
        raise RedirectURIError(f"a {what} is registered twice")
    for uri in uris:
        check_redirect_uri(uri, public=public)


def check_client_name(name: str) -> None:
    """Raise :class:`ValueError` unless ``name`` may be a client's name: 1 to
    :data:`MAX_CLIENT_NAME_LENGTH` printable characters (any script), without leading or
    trailing spaces. It is shown to people (the consent page), so no control or invisible
    formatting character may change how it reads."""
    if not (
        0 < len(name) <= MAX_CLIENT_NAME_LENGTH and name.isprintable() and name == name.strip()
    ):
        raise ValueError(
            f"the client name must be 1 to {MAX_CLIENT_NAME_LENGTH} printable characters,"
            " without leading or trailing spaces"
        )


def redirect_uri_matches(registered: str, presented: str, *, native: bool = True) -> bool:
    """Whether ``presented`` (a request's ``redirect_uri``) is the ``registered`` one.

    Exact string comparison (RFC 9700 §4.1.3, OAuth 2.1 §2.3.1): no normalisation, so an extra
    path segment, query or fragment, another scheme, host, userinfo or case does not match.
    The one exception (RFC 8252 §7.3): when ``registered`` is an ``http`` URI on a loopback
    host, ``presented`` may differ in its port only (added, removed or changed; 1-65535).
    That exception is for native apps; ``native=False`` (a client known to be a web page, such
    as the service's own demo client) compares exactly, port included."""
    if presented == registered:
        return True
    if "#" in presented or not native:
        return False
    wanted = _LOOPBACK.fullmatch(registered)
    given = _LOOPBACK.fullmatch(presented)
    if wanted is None or given is None:
        return False
    port = given["port"]
    return (given["origin"], given["rest"]) == (wanted["origin"], wanted["rest"]) and (
        port is None or 0 < int(port) <= 65535
    )


def is_first_party(client_id: str, client: Client | None, settings: Settings) -> bool:
    """Whether the client ``client_id`` (its stored record, if any) is first-party: it skips the
    consent page. A registered client marked ``first_party``, or the built-in client named by
    ``settings.first_party_client_id`` whether it is stored or not (it is this service's own
    login, as the password grant has always treated it)."""
    if client_id == settings.first_party_client_id:
        return True
    return client is not None and client.first_party
