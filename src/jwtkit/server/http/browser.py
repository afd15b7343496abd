"""The browser's endpoints: ``/authorize`` with its login and consent forms, and ``/logout``.

The rules live in :mod:`~..authorization` (requests, decisions, codes), :mod:`~..sessions`
(the login session and CSRF tokens) and :mod:`~..logout` (RP-Initiated Logout); the pages in
:mod:`.pages`. This module connects them to HTTP: it reads parameters, cookies and forms, and
answers a page or a redirect.

* ``GET /authorize`` (and ``POST`` with a form, OpenID Connect Core §3.1.2.1) answers the login
  page, the consent page, or a redirect to the client with a code or an error.
* ``POST /authorize/login`` checks the CSRF token and the password (the same limits and the
  same answer for unknown users as the token endpoint), starts a new session (a new cookie, the
  browser's previous session ended), then continues as ``/authorize`` would.
* ``POST /authorize/consent`` records the user's decision (``allow`` or ``deny``).
* ``GET``/``POST /logout`` is the ``end_session_endpoint``.

The forms carry the authorization request as one hidden field (its query string), read again
and checked in full at every step: nothing about a request is kept on the server until a code
is issued. Answers are never cached (``Cache-Control: no-store``): they carry codes or forms.
Redirects after a form are ``303 See Other`` (the browser then uses GET).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from ..authorization import AuthorizationError, AuthorizationRequest, PageError
from ..logout import LogoutRequest, read_logout_request
from ..models import LoginSession, User
from ..oauth_errors import OAuthError
from ..sessions import CookieNames, cookie_names, csrf_matches, new_csrf_token
from ..tokens import TokenService
from .pages import Pages, form_target
from .requests import client_ip, parse_form, service_of

__all__ = ["AUTHORIZE_PATH", "LOGOUT_PATH", "add_browser_routes"]

AUTHORIZE_PATH = "/authorize"
LOGOUT_PATH = "/logout"
_LOGIN_PATH = "/authorize/login"
_CONSENT_PATH = "/authorize/consent"
#: The hidden field that carries the authorization request (its query string).
_REQUEST_FIELD = "authorization_request"
#: The hidden field that carries a logout request.
_LOGOUT_FIELD = "logout_request"
#: The longest authorization request accepted (characters of its query string).
MAX_REQUEST_LENGTH = 8192
_MAX_PARAMETERS = 32
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _pages(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


def _names(request: Request) -> CookieNames:
    return cookie_names(service_of(request).settings)


def _pairs(query: str) -> list[tuple[str, str]]:
    """The parameters of a query string, in order; :class:`PageError` when malformed."""
    if len(query) > MAX_REQUEST_LENGTH:
        raise PageError("Invalid request", "The request is too long.", 414)
    try:
        return parse_qsl(
            query,
            keep_blank_values=True,
            strict_parsing=bool(query),
            errors="strict",
            max_num_fields=_MAX_PARAMETERS,
        )
    except ValueError:
        raise PageError("Invalid request", "The request's parameters are malformed.") from None


def _root(request: Request) -> str:
    """The path prefix the service is mounted under (behind a proxy), for links and forms."""
    root: str = request.scope.get("root_path", "")
    return root


def _targets(uri: str | None) -> tuple[str, ...]:
    """The CSP ``form-action`` source of the redirect that may follow a form: Chromium applies
    ``form-action`` to it. None for a URI CSP cannot name (an IPv6 loopback literal)."""
    if uri is None:
        return ()
    try:
        return (form_target(uri),)
    except ValueError:
        return ()


def _redirect(location: str, status: int = 303) -> Response:
    return RedirectResponse(location, status_code=status, headers=_NO_STORE)


def _csrf(request: Request) -> str:
    """The browser's CSRF token: its cookie's value if well formed, else a new one (set on
    the answer by :func:`_with_csrf_cookie`)."""
    present = request.cookies.get(_names(request).csrf)
    if present is not None and csrf_matches(present, present):
        return present
    return new_csrf_token()


def _with_csrf_cookie(request: Request, response: Response, token: str) -> Response:
    names = _names(request)
    if request.cookies.get(names.csrf) != token:
        response.set_cookie(
            names.csrf, token, httponly=True, samesite="lax", secure=names.secure, path="/"
        )
    return response


def _check_csrf(request: Request, form: Mapping[str, str]) -> None:
    if not csrf_matches(request.cookies.get(_names(request).csrf), form.get("csrf_token")):
        raise PageError(
            "This form has expired",
            "The form could not be verified (its security token is missing or does not match). "
            "Go back to the application and start again.",
            403,
        )


async def _form(request: Request) -> dict[str, str]:
    try:
        return await parse_form(request)
    except OAuthError as exc:
        raise PageError("Invalid request", exc.description) from None


class _Flow:
    """One browser request through ``/authorize``: the service, the pages, the cookies."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.service: TokenService = service_of(request)
        self.pages = _pages(request)
        self.names = cookie_names(self.service.settings)

    async def parse(self, query: str) -> AuthorizationRequest:
        return await self.service.authorizer.parse(_pairs(query), query)

    async def session(self) -> tuple[LoginSession, User] | None:
        return await self.service.sessions.current(self.request.cookies.get(self.names.session))

    async def next_step(
        self,
        auth: AuthorizationRequest,
        current: tuple[LoginSession, User] | None,
        status: int,
        *,
        logged_in_now: bool = False,
    ) -> Response:
        """Login, consent or the code, as the request and the session require; a login that
        just happened satisfies ``prompt=login`` and ``max_age``."""
        authorizer = self.service.authorizer
        if current is None or (not logged_in_now and authorizer.needs_login(auth, current[0])):
            if "none" in auth.prompt:
                raise auth.fail("login_required", "the user is not logged in")
            return self.login_page(auth)
        session, user = current
        if await authorizer.needs_consent(auth, user):
            if "none" in auth.prompt:
                raise auth.fail("consent_required", "the user has not granted these scopes")
            return self.consent_page(auth, user)
        return _redirect(await authorizer.issue_code(auth, session, user), status)

    def _client_name(self, auth: AuthorizationRequest) -> str:
        return auth.client.name or auth.client.id

    def login_page(
        self,
        auth: AuthorizationRequest,
        *,
        username: str | None = None,
        error: str | None = None,
        status: int | None = None,
    ) -> Response:
        token = _csrf(self.request)
        root = _root(self.request)
        response = self.pages.login(
            action=root + _LOGIN_PATH,
            hidden={_REQUEST_FIELD: auth.query},
            csrf_token=token,
            client_name=self._client_name(auth),
            username=username if username is not None else (auth.login_hint or ""),
            error=error,
            form_targets=_targets(auth.target.redirect_uri),
            root_path=root,
        )
        if status is not None:
            response.status_code = status
        return _with_csrf_cookie(self.request, response, token)

    def consent_page(self, auth: AuthorizationRequest, user: User) -> Response:
        token = _csrf(self.request)
        root = _root(self.request)
        response = self.pages.consent(
            action=root + _CONSENT_PATH,
            hidden={_REQUEST_FIELD: auth.query},
            csrf_token=token,
            client_name=self._client_name(auth),
            username=user.username,
            scopes=auth.scopes,
            form_targets=_targets(auth.target.redirect_uri),
            root_path=root,
        )
        return _with_csrf_cookie(self.request, response, token)


async def _answer(request: Request, step: Awaitable[Response]) -> Response:
    """Run one step of the flow, turning its errors into a page or a redirect."""
    try:
        return await step
    except PageError as exc:
        return _pages(request).error(
            title=exc.title, message=exc.message, status=exc.status, root_path=_root(request)
        )
    except AuthorizationError as exc:
        return _redirect(exc.location, 303 if request.method == "POST" else 302)


async def _authorize(request: Request, query: str) -> Response:
    flow = _Flow(request)
    auth = await flow.parse(query)
    status = 303 if request.method == "POST" else 302
    return await flow.next_step(auth, await flow.session(), status)


async def _login(request: Request) -> Response:
    flow = _Flow(request)
    form = await _form(request)
    _check_csrf(request, form)
    auth = await flow.parse(form.get(_REQUEST_FIELD, ""))
    username, password = form.get("username"), form.get("password")
    if username is None or password is None:
        return flow.login_page(
            auth, username=username or "", error="Enter your username and password.", status=400
        )
    try:
        cookie, session, user = await flow.service.browser_login(
            username,
            password,
            client_ip(request),
            auth.client.id,
            request.cookies.get(flow.names.session),
        )
    except OAuthError as exc:
        if exc.status == 429:
            response = flow.login_page(
                auth,
                username=username,
                error="Too many failed attempts. Wait a while, then try again.",
                status=429,
            )
            response.headers.update(exc.headers)
            return response
        # 200, not 401: a form login has no HTTP authentication challenge to send.
        return flow.login_page(auth, username=username, error="Invalid username or password.")
    response = await flow.next_step(auth, (session, user), 303, logged_in_now=True)
    response.set_cookie(
        flow.names.session,
        cookie,
        httponly=True,
        samesite="lax",
        secure=flow.names.secure,
        path="/",
    )
    return response


async def _consent(request: Request) -> Response:
    flow = _Flow(request)
    form = await _form(request)
    _check_csrf(request, form)
    auth = await flow.parse(form.get(_REQUEST_FIELD, ""))
    current = await flow.session()
    if current is None:
        return flow.login_page(auth)
    session, user = current
    decision = form.get("decision")
    if decision == "deny":
        raise auth.fail("access_denied", "the user denied the request")
    if decision != "allow":
        raise PageError("Invalid request", "The consent form must be answered allow or deny.")
    await flow.service.authorizer.grant_consent(auth, user)
    return _redirect(await flow.service.authorizer.issue_code(auth, session, user))


async def _logout(request: Request) -> Response:
    flow = _Flow(request)
    service = flow.service
    confirmed = False
    if request.method == "POST":
        form = await _form(request)
        if "decision" in form:
            _check_csrf(request, form)
            if form["decision"] != "logout":
                raise PageError("Invalid request", "The logout form must be answered logout.")
            confirmed = True
            query = form.get(_LOGOUT_FIELD, "")
            params = {name: value for name, value in _pairs(query) if value}
        else:
            params, query = form, urlencode(form)
    else:
        query = request.url.query
        pairs = _pairs(query)
        if len({name for name, _ in pairs}) != len(pairs):
            raise PageError("Invalid logout request", "A parameter is given twice.")
        params = {name: value for name, value in pairs if value}  # empty: omitted
    await service.refresh_keys()
    logout = await read_logout_request(service.store, service.keyring, service.settings, params)
    current = await flow.session()
    if current is not None and not confirmed and not logout.names_session(current[0].sid):
        return _confirm_logout(request, flow, logout, query)
    if current is not None:
        await service.browser_logout(current[0], current[1], client_ip(request))
    return _logged_out(flow, logout)


def _confirm_logout(request: Request, flow: _Flow, logout: LogoutRequest, query: str) -> Response:
    token = _csrf(request)
    root = _root(request)
    response = flow.pages.logout_confirm(
        action=root + LOGOUT_PATH,
        hidden={_LOGOUT_FIELD: query},
        csrf_token=token,
        client_name=(logout.client.name or logout.client.id) if logout.client else None,
        form_targets=_targets(logout.post_logout_redirect_uri),
        root_path=root,
    )
    return _with_csrf_cookie(request, response, token)


def _logged_out(flow: _Flow, logout: LogoutRequest) -> Response:
    url = logout.redirect_url()
    if url is not None:
        response = _redirect(url)
    else:
        response = flow.pages.logged_out(root_path=_root(flow.request))
    response.delete_cookie(
        flow.names.session, path="/", secure=flow.names.secure, httponly=True, samesite="lax"
    )
    return response


def add_browser_routes(app: FastAPI) -> None:
    """Add ``/authorize``, its forms and ``/logout`` to ``app`` (not in the OpenAPI document:
    they answer browsers with pages, not JSON)."""

    @app.get(AUTHORIZE_PATH, include_in_schema=False)
    async def authorize(request: Request) -> Response:
        return await _answer(request, _authorize(request, request.url.query))

    @app.post(AUTHORIZE_PATH, include_in_schema=False)
    async def authorize_by_post(request: Request) -> Response:
        async def step() -> Response:
            form = await _form(request)
            return await _authorize(request, urlencode(form))

        return await _answer(request, step())

    @app.post(_LOGIN_PATH, include_in_schema=False)
    async def login(request: Request) -> Response:
        return await _answer(request, _login(request))

    @app.post(_CONSENT_PATH, include_in_schema=False)
    async def consent(request: Request) -> Response:
        return await _answer(request, _consent(request))

    @app.api_route(LOGOUT_PATH, methods=["GET", "POST"], include_in_schema=False)
    async def logout(request: Request) -> Response:
        return await _answer(request, _logout(request))
