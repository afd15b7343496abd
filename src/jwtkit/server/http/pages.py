"""The server-rendered HTML pages of the provider: login, consent, error and logout.

:class:`Pages` renders the Jinja2 templates in ``templates/`` (autoescaping on for every
template, :class:`~jinja2.StrictUndefined`) into :class:`~fastapi.responses.HTMLResponse`
objects that carry their own security headers; the routes that show them decide when.

* ``login``: the username and password form (``autocomplete`` tokens of the HTML standard, so
  password managers fill it), the application that asks, and an error in a ``role="alert"``
  element the fields name with ``aria-describedby``. A failed login is answered 200, as the
  form it shows again: 401 would need a ``WWW-Authenticate`` challenge (RFC 9110 §15.5.2),
  which a form login has no scheme for.
* ``consent``: the requested scopes (RFC 6749 §3.3) described in words (:func:`describe_scope`;
  an unknown scope token is shown as it is), and the ``decision`` buttons ``allow`` / ``deny``.
* ``error``: a title and a message, no form; for the errors that must not redirect to the
  client (an unknown client, a redirect URI that does not match: RFC 6749 §4.1.2.1).
* ``logout_confirm`` and ``logged_out``: the ``decision=logout`` form and its result (OpenID
  Connect RP-Initiated Logout 1.0 §2, §3).

No page has JavaScript, inline styles or a third-party URL: the one stylesheet is
``/static/jwtkit.css``, served by :func:`add_static`. Every page response carries
``Cache-Control: no-store`` and ``Pragma: no-cache`` (a page holds a CSRF token and the
request's parameters), ``X-Frame-Options: DENY`` and ``frame-ancestors 'none'`` against
clickjacking (RFC 9700 §4.16), ``Referrer-Policy: no-referrer`` and the
:func:`content_security_policy`. Its ``form-action`` names, besides ``'self'``, where the
form's POST may end up: Chromium applies ``form-action`` to the redirects that follow a form
submission, so the route passes the client's redirect target, :func:`form_target`.

The stylesheet's URL carries a hash of its content (``/static/jwtkit.css?v=<hash>``): the
answer to that URL may be cached for a year and is ``immutable``; any other ``v`` (a page
rendered by an older version) is answered with ``no-cache`` and an ``ETag``, revalidated
with ``If-None-Match``. :func:`asset_response` answers so for any :class:`Asset` (the token
page's files are served the same way).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

__all__ = [
    "STYLESHEET_PATH",
    "Asset",
    "Pages",
    "ScopeDescription",
    "add_static",
    "asset_response",
    "content_security_policy",
    "describe_scope",
    "form_target",
]

#: This package: the templates and the stylesheet are its data files.
_PACKAGE = __name__.rpartition(".")[0]
#: Where :func:`add_static` serves the stylesheet (below the app's root path).
STYLESHEET_PATH = "/static/jwtkit.css"
#: How long a browser may keep the stylesheet under its content-hashed URL: one year.
_STYLESHEET_MAX_AGE = 31_536_000

#: The form fields the pages name themselves: a ``hidden`` item may not take one of them.
_OWN_FIELDS = frozenset({"csrf_token", "username", "password", "decision"})

# A CSP host-source limited to one origin (CSP3 §2.3.1): http or https, a DNS name or an IPv4
# address (host-char = ALPHA / DIGIT / "-"), an optional port. No wildcard, path or IPv6
# literal (the grammar has none: browsers drop such a source).
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_ORIGIN = re.compile(rf"https?://{_LABEL}(?:\.{_LABEL})*(?::(?P<port>[0-9]{{1,5}}))?", re.I | re.A)
# A CSP scheme-source for a private-use URI scheme: a reverse domain name, so at least one dot
# (RFC 8252 §7.1). http:, https:, data:, blob: or javascript: would allow too much.
_PRIVATE_SCHEME = re.compile(r"[a-z][a-z0-9+\-]*(?:\.[a-z0-9+\-]+)+:", re.I | re.A)
# The characters a URI may hold (RFC 3986 §2): printable ASCII, no space. urlsplit would
# silently drop a tab or a line break, so they are refused before it runs.
_URI_CHARACTERS = re.compile(r"[\x21-\x7e]+")


def _check_target(target: str) -> str:
    """``target``, lower-cased, if it is an origin or a private-use ``scheme:``; else raise
    :class:`ValueError`. A match leaves no room for spaces, ``;``, ``,`` or quotes."""
    origin = _ORIGIN.fullmatch(target)
    if origin is not None:
        port = origin["port"]
        if port is None or 0 < int(port) <= 65535:
            return target.lower()
    elif _PRIVATE_SCHEME.fullmatch(target):
        return target.lower()
    raise ValueError(
        f"form target {target[:100]!r}: must be an origin (https://host or http://host, an"
        " optional port 1-65535, nothing else) or a private-use scheme such as com.example.app:"
    )


def content_security_policy(form_targets: Sequence[str] = ()) -> str:
    """The ``Content-Security-Policy`` of every page: nothing but the same-origin stylesheet
    (no script at all, no inline style), forms posted to the service itself or to
    ``form_targets``, never framed, no ``<base>``.

    ``form_targets`` are origins (``https://app.example.com``, ``http://127.0.0.1:8080``) or
    private-use schemes (``com.example.app:``), as :func:`form_target` makes them; each is
    checked strictly (:class:`ValueError` for anything else), lower-cased, and named once."""
    targets = dict.fromkeys(_check_target(target) for target in form_targets)
    form_action = " ".join(["'self'", *targets])
    return (
        "default-src 'none'; style-src 'self'; img-src 'self'; "
        f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    )


def form_target(redirect_uri: str) -> str:
    """The ``form-action`` source that lets a form's POST redirect to ``redirect_uri``: its
    origin for ``http``/``https`` (``https://app.example.com``, the port kept when given), its
    ``scheme:`` for a private-use scheme (``com.example.app:``, RFC 8252 §7.1).

    :class:`ValueError` for anything a CSP source cannot name: no host, userinfo, an IPv6
    literal (``http://[::1]/``: CSP has no syntax for it), a scheme that is neither web nor
    private-use."""
    if not _URI_CHARACTERS.fullmatch(redirect_uri):
        raise ValueError(f"redirect URI {redirect_uri[:100]!r}: not a URI (RFC 3986)")
    try:
        parts = urlsplit(redirect_uri)
        port = parts.port
    except ValueError:
        raise ValueError(
            f"redirect URI {redirect_uri[:100]!r}: not a valid host and port"
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        return _check_target(f"{scheme}:")
    if "@" in parts.netloc or "[" in parts.netloc:
        raise ValueError(
            f"redirect URI {redirect_uri[:100]!r}: a form-action source can name only a DNS name"
            " or an IPv4 address, without userinfo (CSP has no syntax for IPv6 literals)"
        )
    host = parts.hostname or ""
    return _check_target(f"{scheme}://{host}" + ("" if port is None else f":{port}"))


@dataclasses.dataclass(frozen=True)
class ScopeDescription:
    """How the consent page shows one scope: a ``summary`` and a ``detail`` in words, or, for a
    scope the service does not describe, neither (the page shows the token itself)."""

    scope: str
    summary: str | None = None
    detail: str | None = None


#: The scopes the service describes (OpenID Connect Core §3.1.2.1, §5.4, §11).
_SCOPES: dict[str, tuple[str, str]] = {
    "openid": ("Confirm who you are", "Sign you in with your {product} account."),
    "profile": ("See your profile", "Your name and username."),
    "email": ("See your e-mail address", "Your e-mail address and whether it is verified."),
    "offline_access": ("Stay signed in", "Keep access when you are not using the app."),
}


def describe_scope(scope: str, product_name: str) -> ScopeDescription:
    """The words for ``scope`` on the consent page of ``product_name``'s service."""
    known = _SCOPES.get(scope)
    if known is None:
        return ScopeDescription(scope)
    summary, detail = known
    return ScopeDescription(scope, summary, detail.format(product=product_name))


@dataclasses.dataclass(frozen=True)
class Asset:
    """A static file the service serves: its ``content``, ``media_type`` and ``digest`` (the
    first 16 hex digits of its SHA-256: the ``v`` of a content-hashed URL and the ``ETag``)."""

    content: bytes
    media_type: str
    digest: str = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "digest", hashlib.sha256(self.content).hexdigest()[:16])


def asset_response(request: Request, asset: Asset) -> Response:
    """``asset`` as the answer to ``request``, cached as the stylesheet is.

    Asked for under its content-hashed URL (``?v=`` its digest): ``Cache-Control: public,
    max-age=31536000, immutable``. Without ``v``, or with another one: ``public, no-cache``
    (revalidated on every use). Both carry the ``ETag``; an ``If-None-Match`` that matches it
    (RFC 9110 §13.1.2) is answered 304 Not Modified without a body."""
    etag = f'"{asset.digest}"'
    current = request.query_params.get("v") == asset.digest
    cache = f"public, max-age={_STYLESHEET_MAX_AGE}, immutable" if current else "public, no-cache"
    headers = {"ETag": etag, "Cache-Control": cache}
    if etag in _etags(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    return Response(asset.content, media_type=asset.media_type, headers=headers)


@functools.cache
def _stylesheet() -> Asset:
    """The stylesheet of the pages."""
    content = resources.files(_PACKAGE).joinpath("static").joinpath("jwtkit.css").read_bytes()
    return Asset(content, "text/css; charset=utf-8")


def _stylesheet_url(root_path: str) -> str:
    return f"{root_path.rstrip('/')}{STYLESHEET_PATH}?v={_stylesheet().digest}"


def add_static(app: FastAPI) -> None:
    """``GET /static/jwtkit.css``: the pages' stylesheet, ``text/css``, cached as
    :func:`asset_response` says; and ``GET /favicon.ico``, which browsers ask for on their
    own: 204 No Content, cached for a day (the service has no icon, and a 404 would be logged
    as an error by every page)."""

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})

    @app.get(STYLESHEET_PATH, include_in_schema=False)
    async def stylesheet(request: Request) -> Response:
        return asset_response(request, _stylesheet())


def _etags(if_none_match: str, current: str) -> set[str]:
    """The entity tags of an ``If-None-Match`` field (RFC 9110 §13.1.2), weak ones compared by
    their opaque tag (the weak comparison the field uses); ``*`` matches any, so ``current``."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    if "*" in tags:
        tags.add(current)
    return tags


def _check_action(action: str) -> None:
    """The form's target: a path of this service (``/authorize``), never another origin."""
    if not action.startswith("/") or action.startswith("//") or "\\" in action:
        raise ValueError(f"form action {action[:100]!r}: must be a path of the service (/...)")


def _check_hidden(hidden: Mapping[str, str]) -> list[tuple[str, str]]:
    """The hidden fields in order; a name of the page's own fields is refused."""
    for name in hidden:
        if not name or name in _OWN_FIELDS:
            raise ValueError(f"hidden field {name!r}: empty, or a field the page names itself")
    return list(hidden.items())


class Pages:
    """The provider's HTML pages for ``product_name`` (the name in each page's title and
    header). Each method answers a complete :class:`HTMLResponse` with the security headers
    (the module's docstring). ``root_path`` (``request.scope["root_path"]``, empty unless the
    service runs below a path prefix) is put in front of the stylesheet's URL; ``action`` is a
    path of the service and already carries it."""

    def __init__(self, product_name: str) -> None:
        if not product_name.strip():
            raise ValueError("the product name must not be empty")
        self.product_name = product_name
        self._environment = jinja2.Environment(
            loader=jinja2.PackageLoader(_PACKAGE, "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )

    def _render(
        self,
        template: str,
        *,
        status: int = 200,
        form_targets: Sequence[str] = (),
        root_path: str = "",
        **context: Any,
    ) -> HTMLResponse:
        policy = content_security_policy(form_targets)
        html = self._environment.get_template(template).render(
            product_name=self.product_name, stylesheet=_stylesheet_url(root_path), **context
        )
        return HTMLResponse(
            html,
            status_code=status,
            headers={
                "Cache-Control": "no-store",
                "Pragma": "no-cache",
                "X-Frame-Options": "DENY",
                "Referrer-Policy": "no-referrer",
                "Content-Security-Policy": policy,
            },
        )

    def _form(
        self,
        template: str,
        *,
        action: str,
        hidden: Mapping[str, str],
        csrf_token: str,
        form_targets: Sequence[str],
        root_path: str,
        **context: Any,
    ) -> HTMLResponse:
        _check_action(action)
        if not csrf_token:
            raise ValueError("a form needs its CSRF token")
        return self._render(
            template,
            form_targets=form_targets,
            root_path=root_path,
            action=action,
            hidden=_check_hidden(hidden),
            csrf_token=csrf_token,
            **context,
        )

    def login(
        self,
        *,
        action: str,
        hidden: Mapping[str, str],
        csrf_token: str,
        client_name: str,
        username: str = "",
        error: str | None = None,
        form_targets: Sequence[str] = (),
        root_path: str = "",
    ) -> HTMLResponse:
        """The login form: POST ``username``, ``password``, ``csrf_token`` and ``hidden`` to
        ``action``. ``username`` prefills its field (a ``login_hint``, or the name just tried);
        ``error`` is shown above the fields. Always 200 (the module's docstring)."""
        return self._form(
            "login.html",
            action=action,
            hidden=hidden,
            csrf_token=csrf_token,
            form_targets=form_targets,
            root_path=root_path,
            client_name=client_name,
            username=username,
            error=error,
        )

    def consent(
        self,
        *,
        action: str,
        hidden: Mapping[str, str],
        csrf_token: str,
        client_name: str,
        username: str,
        scopes: Sequence[str],
        form_targets: Sequence[str] = (),
        root_path: str = "",
    ) -> HTMLResponse:
        """The consent form: ``client_name`` asks ``username`` for ``scopes``; POST
        ``decision=allow`` or ``decision=deny``, ``csrf_token`` and ``hidden`` to ``action``."""
        described = [describe_scope(scope, self.product_name) for scope in dict.fromkeys(scopes)]
        return self._form(
            "consent.html",
            action=action,
            hidden=hidden,
            csrf_token=csrf_token,
            form_targets=form_targets,
            root_path=root_path,
            client_name=client_name,
            username=username,
            scopes=described,
        )

    def error(
        self, *, title: str, message: str, status: int = 400, root_path: str = ""
    ) -> HTMLResponse:
        """An error the user reads here, as it must not go back to the client: ``status`` is
        4xx or 5xx."""
        if not 400 <= status <= 599:
            raise ValueError(f"an error page's status is 4xx or 5xx, not {status}")
        return self._render(
            "error.html", status=status, root_path=root_path, title=title, message=message
        )

    def logout_confirm(
        self,
        *,
        action: str,
        hidden: Mapping[str, str],
        csrf_token: str,
        client_name: str | None,
        form_targets: Sequence[str] = (),
        root_path: str = "",
    ) -> HTMLResponse:
        """ "Log out of <product>?": POST ``decision=logout``, ``csrf_token`` and ``hidden`` to
        ``action``; ``client_name`` is the application that asks, if one does."""
        return self._form(
            "logout.html",
            action=action,
            hidden=hidden,
            csrf_token=csrf_token,
            form_targets=form_targets,
            root_path=root_path,
            client_name=client_name,
        )

    def logged_out(self, *, root_path: str = "") -> HTMLResponse:
        """ "You are logged out": the end of a logout no client asked to return from."""
        return self._render("logged_out.html", root_path=root_path)
