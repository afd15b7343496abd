"""The OpenID Connect provider end to end: a real ``jwtkit serve``, Debian's Chromium driven by
Playwright as the user's browser, and authlib as the application (OAuth 2.0 client and ID token
validation), code none of which was written here.

One service per module, set up as an administrator would, with the CLI: the user ``alice`` and
the public third-party client ``test-app`` (so the consent page is shown). A small HTTP server
on another loopback port plays the application's web server: it answers the redirect URI and
the post-logout redirect URI, recording what the browser brought, and serves a page of another
origin that frames the login page. The browser really follows every redirect; every request of
a page to a host other than the loopback is aborted and recorded.

authlib is configured only from the discovery document. The login page and the consent page
are photographed into ``tmp_path`` and, when ``JWTKIT_SCREENSHOTS`` names a folder, into it as
``login.png`` and ``consent.png`` (``make screenshots`` writes ``docs/images/``).

Without Chromium the tests are skipped, except on CI (``CI=true``) and when screenshots are
asked for, where they fail (``test_docs_browser.py``). The same flow over httpx, with each
refusal the provider owes as its own test: ``test_authorize.py``.
"""

from __future__ import annotations

import dataclasses
import html
import os
import shutil
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.oidc.core import CodeIDToken
from browser_flow import query_of
from conftest import PASSWORD, free_port
from joserfc import jwt
from joserfc.errors import InvalidClaimError
from joserfc.jwk import KeySet
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    Route,
    expect,
    sync_playwright,
)
from test_docs_browser import CHROMIUM, CHROMIUM_ARGS, RENDER_TIMEOUT, _require_chromium
from test_e2e import PYTHON_C, Server, _environment, _serve

with warnings.catch_warnings():
    # authlib 1.9 warns, when its httpx integration is imported, that the integration moves to
    # the httpx2 package (not used here); the client is the same. authlib.deprecate puts its
    # own "always" filter in front when first imported, so it is imported before this filter.
    import authlib.deprecate  # noqa: F401

    warnings.filterwarnings("ignore", "The httpx module is deprecated", DeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals")

#: The environment variable naming a folder for ``login.png`` and ``consent.png``.
SCREENSHOTS = "JWTKIT_SCREENSHOTS"
CLIENT_ID = "test-app"
CLIENT_NAME = "Test App"
SCOPE = "openid profile email offline_access"
#: How the consent page words the four scopes, in the order asked for.
SCOPE_SUMMARIES = [
    "Confirm who you are",
    "See your profile",
    "See your e-mail address",
    "Stay signed in",
]
#: The browser window of the screenshots: the page's card (28rem) with a margin around it.
WINDOW = {"width": 560, "height": 320}
PHONE = {"width": 390, "height": 844}
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


# -- the application's web server ------------------------------------------------------------


class Application:
    """The application's web server on a loopback port: ``/callback`` (the redirect URI) and
    ``/`` (the post-logout redirect URI) record the path and query the browser brought;
    ``/frame?src=URL`` is a page that shows ``URL`` in the iframe ``#framed`` and, in the
    iframe ``#control``, its own ``/page``, which any page may frame."""

    def __init__(self) -> None:
        self.visits: list[str] = []
        visits = self.visits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == "/frame":
                    (src,) = parse_qs(parts.query)["src"]
                    body = (
                        "<!doctype html><title>Framing</title>"
                        f'<iframe id="framed" src="{html.escape(src)}"></iframe>'
                        '<iframe id="control" src="/page"></iframe>'
                    )
                elif parts.path == "/favicon.ico":  # asked by the browser itself: no icon
                    self.send_response(204)
                    self.end_headers()
                    return
                elif parts.path in {"/callback", "/", "/page"}:
                    if parts.path != "/page":
                        visits.append(self.path)
                    body = "<!doctype html><title>Test App</title><p>Back at Test App.</p>"
                else:
                    self.send_error(404)
                    return
                content = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the test reads self.visits

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.redirect_uri = f"{self.url}/callback"
        self.post_logout_uri = f"{self.url}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)


# -- the service -----------------------------------------------------------------------------


@dataclasses.dataclass
class Provider:
    """The running service, the application's web server and the discovery document."""

    server: Server
    app: Application
    metadata: dict[str, Any]

    def add_user(self, username: str) -> None:
        """Another user, through ``POST /users`` (development): each test that consents has
        its own, since consent is remembered per user and client."""
        created = httpx.post(
            f"{self.server.url}/users",
            json={"username": username, "password": PASSWORD, "name": username.title()},
            trust_env=False,
            timeout=10,
        )
        assert created.status_code == 201, created.text

    def oauth_client(self) -> OAuth2Client:
        """authlib's client as the application configures it: public, PKCE S256."""
        return OAuth2Client(
            CLIENT_ID,
            redirect_uri=self.app.redirect_uri,
            scope=SCOPE,
            code_challenge_method="S256",
            trust_env=False,
            timeout=10,
        )

    def authorization_url(self) -> str:
        """A fresh authorization request of ``test-app`` (its verifier is not needed)."""
        with self.oauth_client() as client:
            url, _ = client.create_authorization_url(
                self.metadata["authorization_endpoint"],
                code_verifier=generate_token(48),
                nonce=generate_token(16),
            )
        return str(url)


def _cli(workdir: Path, *arguments: str, stdin: str = "") -> str:
    done = subprocess.run(  # noqa: S603 - fixed arguments
        [*PYTHON_C, *arguments, "--database", str(workdir / "jwtkit.db")],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=workdir,
        env=_environment(),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _require_browser() -> None:
    """Chromium or a skip (:func:`_require_chromium`); a failure when screenshots were asked
    for, so that ``make screenshots`` never passes without taking them."""
    try:
        _require_chromium()
    except pytest.skip.Exception as skipped:
        if os.environ.get(SCREENSHOTS):
            pytest.fail(f"{SCREENSHOTS} is set: {skipped}")
        raise


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    _require_browser()
    workdir = tmp_path_factory.mktemp("provider")
    app = Application()
    try:
        with _serve(workdir, free_port()) as server:
            _cli(
                workdir,
                *("users", "add", "alice", "--password-stdin", "--email-verified"),
                *("--email", "alice@example.com", "--name", "Alice Liddell"),
                stdin=PASSWORD,
            )
            _cli(
                workdir,
                *("clients", "add", CLIENT_ID, "--public", "--name", CLIENT_NAME),
                *("--grant", "authorization_code", "--grant", "refresh_token"),
                *("--redirect-uri", app.redirect_uri),
                *("--post-logout-redirect-uri", app.post_logout_uri),
                *(part for scope in SCOPE.split() for part in ("--scope", scope)),
            )
            metadata = httpx.get(
                f"{server.url}/.well-known/openid-configuration", trust_env=False, timeout=10
            ).json()
            yield Provider(server, app, metadata)
            assert "Traceback" not in server.output()
    finally:
        app.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    _require_browser()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclasses.dataclass
class Window:
    """A page in a fresh browser context (no cookies), with what it did that it should not:
    requests to other hosts (aborted) and console messages (CSP reports among them)."""

    page: Page
    left_loopback: list[str]
    console: list[str]
    requests: list[str]


@contextmanager
def _window(browser: Browser, **options: Any) -> Iterator[Window]:
    context = browser.new_context(color_scheme="light", **options)
    context.set_default_timeout(RENDER_TIMEOUT)
    page = context.new_page()
    window = Window(page, [], [], [])

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in _LOOPBACK:
            route.continue_()
        else:
            window.left_loopback.append(route.request.url)
            route.abort("blockedbyclient")

    def record_console(message: ConsoleMessage) -> None:
        # Chromium says so when a page it is leaving has its autofocus dropped (a fast test
        # navigates on before the page settles): about the browser's timing, not the page.
        if "Autofocus processing was blocked" not in message.text:
            window.console.append(f"{message.type}: {message.text}")

    def record_request(request: Request) -> None:
        window.requests.append(request.url)

    page.route("**/*", only_loopback)
    page.on("console", record_console)
    page.on("request", record_request)
    try:
        yield window
    finally:
        context.close()


def _arrived(prefix: str) -> Callable[[str], bool]:
    """A ``wait_for_url`` predicate: the browser is at a URL that starts with ``prefix``."""
    return lambda url: url.startswith(prefix)


def _screenshot(page: Page, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    page.screenshot(path=path, full_page=True, animations="disabled")
    folder = os.environ.get(SCREENSHOTS)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(folder) / name)


def _id_token_claims(
    metadata: dict[str, Any], token: dict[str, Any], nonce: str | None, access_token: str
) -> CodeIDToken:
    """The ID token checked as authlib's OpenID Connect client does it (``parse_id_token``):
    the signature with joserfc against the JWKS, then authlib's ``CodeIDToken`` claims (iss,
    aud, exp, iat, nonce, azp and ``at_hash`` of ``access_token``)."""
    keys = KeySet.import_key_set(httpx.get(metadata["jwks_uri"], trust_env=False).json())
    decoded = jwt.decode(
        token["id_token"], keys, algorithms=metadata["id_token_signing_alg_values_supported"]
    )
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {
            "iss": {"essential": True, "value": metadata["issuer"]},
            "aud": {"essential": True, "value": CLIENT_ID},
        },
        {"nonce": nonce, "client_id": CLIENT_ID, "access_token": access_token},
    )
    claims.validate()
    return claims


# -- the whole flow --------------------------------------------------------------------------


def test_sign_in_consent_tokens_userinfo_refresh_and_logout(
    provider: Provider, browser: Browser, tmp_path: Path
) -> None:
    metadata, app = provider.metadata, provider.app
    issuer = metadata["issuer"]
    verifier, nonce = generate_token(48), generate_token(16)
    with provider.oauth_client() as client, _window(browser, viewport=WINDOW) as window:
        page = window.page
        url, state = client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        page.goto(url)
        assert page.title() == "Sign in - jwtkit"
        assert f"{CLIENT_NAME} asks you to sign in" in page.inner_text("main")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Password").blur()
        _screenshot(page, tmp_path, "login.png")
        page.get_by_role("button", name="Sign in").click()

        page.get_by_role("heading", name=f"Allow {CLIENT_NAME} access?").wait_for()
        assert page.locator(".scope-summary").all_inner_texts() == SCOPE_SUMMARIES
        assert "Signed in as alice." in page.inner_text("main")
        _screenshot(page, tmp_path, "consent.png")
        (session,) = [c for c in page.context.cookies() if c["name"] == "jwtkit_session"]
        assert (session["httpOnly"], session["sameSite"]) == (True, "Lax")
        page.get_by_role("button", name="Allow").click()

        page.wait_for_url(_arrived(app.redirect_uri + "?"))
        callback = page.url
        assert app.visits[-1] == "/callback?" + urlsplit(callback).query  # the app's server
        answer = query_of(callback)
        assert (answer["state"], answer["iss"]) == (state, issuer)
        token = client.fetch_token(
            metadata["token_endpoint"],
            authorization_response=callback,
            code_verifier=verifier,
            state=state,
        )
        assert token["token_type"] == "Bearer"
        assert token["scope"] == SCOPE
        assert {"access_token", "id_token", "refresh_token"} <= set(token)

        claims = _id_token_claims(metadata, token, nonce, token["access_token"])
        assert claims.header["alg"] == "RS256"
        assert claims["azp"] == CLIENT_ID
        assert {"at_hash", "auth_time", "sid"} <= set(claims)
        with pytest.raises(InvalidClaimError):  # the checks bite: another nonce...
            _id_token_claims(metadata, token, "another nonce", token["access_token"])
        with pytest.raises(InvalidClaimError):  # ...or another access token
            _id_token_claims(metadata, token, nonce, generate_token(43))

        info = client.get(metadata["userinfo_endpoint"]).json()
        assert info["sub"] == claims["sub"]
        assert (info["preferred_username"], info["name"]) == ("alice", "Alice Liddell")
        assert (info["email"], info["email_verified"]) == ("alice@example.com", True)

        renewed = client.refresh_token(
            metadata["token_endpoint"], refresh_token=token["refresh_token"]
        )
        assert renewed["access_token"] != token["access_token"]
        assert renewed["refresh_token"] != token["refresh_token"]
        assert client.token["access_token"] == renewed["access_token"]
        assert client.get(metadata["userinfo_endpoint"]).json()["sub"] == claims["sub"]

        logout_state = generate_token(16)
        page.goto(
            metadata["end_session_endpoint"]
            + "?"
            + urlencode(
                {
                    "id_token_hint": token["id_token"],
                    "post_logout_redirect_uri": app.post_logout_uri,
                    "state": logout_state,
                }
            )
        )
        page.wait_for_url(_arrived(app.post_logout_uri + "?"))
        assert query_of(page.url) == {"state": logout_state}
        assert app.visits[-1] == f"/?state={logout_state}"
        assert [c for c in page.context.cookies() if c["name"] == "jwtkit_session"] == []

        page.goto(provider.authorization_url())  # the session is over: the login page again
        page.get_by_label("Password").wait_for()
        assert page.title() == "Sign in - jwtkit"
    assert window.left_loopback == []
    assert window.console == []
    assert {urlsplit(u).netloc for u in window.requests} == {
        urlsplit(issuer).netloc,
        urlsplit(app.url).netloc,
    }


# -- what only a browser shows ---------------------------------------------------------------


def test_another_origin_cannot_frame_the_login_page(provider: Provider, browser: Browser) -> None:
    login = provider.authorization_url()
    with _window(browser) as window:
        page = window.page
        page.goto(login)  # at the top level it is the login page
        page.get_by_label("Password").wait_for()
        with page.expect_console_message(lambda m: "frame-ancestors" in m.text):
            page.goto(f"{provider.app.url}/frame?src={quote(login, safe='')}")
        # The page of another origin that frames it stays empty; a frameable page beside it
        # renders (the frame and its check work).
        page.frame_locator("#control").get_by_text("Back at Test App.").wait_for()
        framed = page.frame_locator("#framed")
        assert framed.locator("form").count() == 0
        assert framed.locator("input").count() == 0
        assert framed.get_by_text("Sign in").count() == 0
    assert window.left_loopback == []
    (refused,) = [line for line in window.console if "frame-ancestors" in line]
    assert "'none'" in refused


def test_the_pages_ask_no_other_host_and_break_no_policy(
    provider: Provider, browser: Browser
) -> None:
    """Login (a wrong password first), consent (denied), the logout confirmation and the
    logged out page: the stylesheet applies, nothing is refused by the Content-Security-Policy or
    fails, and no request leaves the service and the application."""
    provider.add_user("bob")
    with _window(browser) as window:
        page = window.page
        page.goto(provider.authorization_url())
        font = page.evaluate("getComputedStyle(document.body).fontFamily")
        assert font.startswith("system-ui")  # the stylesheet applied
        page.get_by_label("Username").fill("bob")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        assert page.get_by_role("alert").inner_text() == "Invalid username or password."
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("button", name="Deny").click()
        page.wait_for_url(_arrived(provider.app.redirect_uri + "?"))
        assert query_of(page.url)["error"] == "access_denied"

        # Without an ID token hint the user confirms; the form's POST then redirects to the
        # application, which the page's form-action allows.
        end_session = provider.metadata["end_session_endpoint"]
        back = {"client_id": CLIENT_ID, "post_logout_redirect_uri": provider.app.post_logout_uri}
        page.goto(f"{end_session}?{urlencode({**back, 'state': 'bye'})}")
        assert f"{CLIENT_NAME} asks to log you out" in page.inner_text("main")
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(_arrived(provider.app.post_logout_uri + "?"))
        assert query_of(page.url) == {"state": "bye"}
        page.goto(end_session)  # no session left: nothing to confirm
        page.get_by_role("heading", name="You are logged out").wait_for()
    assert window.left_loopback == []
    assert window.console == []
    hosts = {urlsplit(url).netloc for url in window.requests}
    assert hosts == {urlsplit(provider.server.url).netloc, urlsplit(provider.app.url).netloc}


def test_the_login_form_works_with_the_keyboard_only(provider: Provider, browser: Browser) -> None:
    provider.add_user("carol")
    with _window(browser) as window:
        page = window.page
        keyboard = page.keyboard
        page.goto(provider.authorization_url())

        def focused() -> str:
            active: str = page.evaluate("document.activeElement.id || document.activeElement.value")
            return active

        expect(page.locator("#username")).to_be_focused()  # autofocus, once the page has loaded
        assert focused() == "username"
        keyboard.type("carol")
        keyboard.press("Tab")
        assert focused() == "password"
        keyboard.type(PASSWORD)
        keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Sign in"
        keyboard.press("Shift+Tab")
        keyboard.press("Enter")  # submits the form from the password field

        page.get_by_role("button", name="Allow").wait_for()
        keyboard.press("Tab")
        assert focused() == "allow"
        keyboard.press("Tab")
        assert focused() == "deny"
        keyboard.press("Shift+Tab")
        keyboard.press("Enter")
        page.wait_for_url(_arrived(provider.app.redirect_uri + "?"))
        assert "code" in query_of(page.url)
    assert window.left_loopback == []
    assert window.console == []


def test_the_pages_fit_a_phone_screen(provider: Provider, browser: Browser) -> None:
    provider.add_user("dave")
    phone = {"viewport": PHONE, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}
    with _window(browser, **phone) as window:
        page = window.page
        page.goto(provider.authorization_url())

        def fits() -> None:
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"]  # no sideways scrolling
            for element in page.locator("main input:visible, main button").all():
                box = element.bounding_box()
                assert box is not None
                assert box["x"] >= 0
                assert box["x"] + box["width"] <= PHONE["width"]
                assert box["height"] >= 44  # a tap target

        fits()
        page.get_by_label("Username").fill("dave")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").tap()
        page.get_by_role("button", name="Allow").wait_for()
        fits()
        page.get_by_role("button", name="Allow").tap()
        page.wait_for_url(_arrived(provider.app.redirect_uri + "?"))
    assert window.left_loopback == []
    assert window.console == []
