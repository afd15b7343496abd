"""The page's walk-through ("The flow", docs/page.md) in a real browser against a real service.

One ``jwtkit serve`` in development on loopback, with the demo client's access tokens living
:data:`TOKEN_TTL` seconds (``JWTKIT_DEMO_ACCESS_TOKEN_TTL``) so that the expiry step is short;
``jwtkit serve`` created the demo user, whose password the page shows. Debian's Chromium,
driven by Playwright, walks the whole flow with the keyboard (Tab to the Next button, then
Enter at each step): sign-in, code exchange, /userinfo, expiry (the page's own countdown is
waited for, never a sleep), refresh with rotation, reuse detection, revocation and logout, and
back to the start. Every request to another host is aborted and recorded; the console must
stay free of errors (CSP violations among them) but for the refusals the flow asks for.

Each step's view is photographed into ``tmp_path`` and, when ``JWTKIT_SCREENSHOTS`` names a
folder, into it as ``flow-*.png`` (``make screenshots`` writes ``docs/images/``).
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from conftest import free_port
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, expect, sync_playwright
from test_docs_browser import CHROMIUM, CHROMIUM_ARGS, RENDER_TIMEOUT
from test_e2e import Server, _environment, _serve
from test_provider_browser import SCREENSHOTS, _require_browser

from jwtkit.server.demo import DEMO_PASSWORD, DEMO_USERNAME

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals")

#: The demo access tokens' lifetime in this test (seconds): the expiry step waits this long.
TOKEN_TTL = 4
#: The browser window of the screenshots.
WINDOW = {"width": 900, "height": 700}
PHONE = {"width": 375, "height": 812}
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
Scheme = Literal["light", "dark"]
#: What Chromium logs for an answer the flow asks for (the expired token's 401 at /userinfo,
#: the replayed refresh tokens' 400 at /token): the browser's note about the network, not a
#: problem of the page.
_EXPECTED_REFUSALS = re.compile(
    r"Failed to load resource: the server responded with a status of (401|400) .* @ "
    r"http://127\.0\.0\.1:\d+/(userinfo|token)$"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    _require_browser()
    workdir = tmp_path_factory.mktemp("flow")
    env = {**_environment(), "JWTKIT_DEMO_ACCESS_TOKEN_TTL": str(TOKEN_TTL)}
    with _serve(workdir, free_port(), env=env) as running:
        yield running
        assert "Traceback" not in running.output()


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
    """A page in a fresh context, with the requests to other hosts (aborted) and the console
    messages (CSP violations are reported there)."""

    page: Page
    left_loopback: list[str]
    console: list[str]

    def problems(self) -> list[str]:
        """The console's errors and warnings, but for the refusals the flow asks for."""
        return [
            line
            for line in self.console
            if not line.startswith(("log:", "info:", "debug:"))
            and not _EXPECTED_REFUSALS.search(line)
        ]


@contextmanager
def _window(browser: Browser, scheme: Scheme = "light", **options: Any) -> Iterator[Window]:
    context = browser.new_context(color_scheme=scheme, **options)
    context.set_default_timeout(RENDER_TIMEOUT)
    page = context.new_page()
    window = Window(page, [], [])

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in _LOOPBACK:
            route.continue_()
        else:
            window.left_loopback.append(route.request.url)
            route.abort("blockedbyclient")

    def record_console(message: ConsoleMessage) -> None:
        if "Autofocus processing was blocked" not in message.text:
            where = message.location.get("url", "")
            window.console.append(f"{message.type}: {message.text} @ {where}")

    page.route("**/*", only_loopback)
    page.on("console", record_console)
    page.on("pageerror", lambda error: window.console.append(f"pageerror: {error}"))
    try:
        yield window
    finally:
        context.close()


def _screenshot(page: Page, tmp_path: Path, name: str) -> None:
    """The flow section as it is now, as ``name`` (and into ``JWTKIT_SCREENSHOTS``)."""
    path = tmp_path / name
    page.locator("#flow").screenshot(path=path, animations="disabled")
    folder = os.environ.get(SCREENSHOTS)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(folder) / name)


def _tab_to(page: Page, element_id: str) -> None:
    """Press Tab until ``element_id`` has the focus (the keyboard's way there)."""
    for _ in range(80):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    pytest.fail(f"Tab never reached #{element_id}")


def _next(page: Page, label: str) -> None:
    """Press Enter on the Next button, which must have the focus and say ``label``."""
    button = page.locator("#flow-next")
    expect(button).to_be_focused()
    expect(button).to_have_text(label)
    page.keyboard.press("Enter")


def _view(page: Page, heading: str) -> None:
    expect(page.locator("#flow-view-title")).to_have_text(heading)


def _no_serious_violations(page: Page) -> None:
    results = Axe().run(page, context="#flow")
    serious = [
        violation["id"]
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]
    assert serious == [], results.generate_report()


def test_the_whole_flow_with_the_keyboard(server: Server, browser: Browser, tmp_path: Path) -> None:
    with _window(browser, viewport=WINDOW) as window:
        page = window.page
        page.goto(server.url + "/")
        flow = page.locator("#flow")
        expect(flow).to_be_visible()
        expect(page.locator("#flow-tab")).to_be_visible()
        expect(page.locator("#flow-username")).to_have_text(DEMO_USERNAME)
        expect(page.locator("#flow-password")).to_have_text(DEMO_PASSWORD)
        _view(page, "1. Prepare the request")
        _no_serious_violations(page)
        _screenshot(page, tmp_path, "flow-1-start.png")

        # 1. PKCE, state and nonce, made in the page; then the sign-in page.
        _tab_to(page, "flow-next")
        _next(page, "Next: make PKCE, state and nonce")
        _view(page, "1. Prepare the request and sign in")
        request = flow.locator(".flow-request pre.http").first
        expect(request).to_contain_text("GET /authorize?response_type=code&client_id=jwtkit-demo")
        expect(request).to_contain_text("code_challenge_method=S256")
        _screenshot(page, tmp_path, "flow-2-prepared.png")
        _next(page, "Next: go to the sign-in page")
        page.get_by_label("Username").fill(DEMO_USERNAME)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()

        # 2. Back with the code: state and iss checked, the code exchanged.
        page.wait_for_url(server.url + "/#flow")
        _view(page, "2. Back with a code")
        expect(flow).to_contain_text("state is the one this page sent")
        expect(flow).to_contain_text("iss is this service's issuer")
        assert page.evaluate("location.search") == ""  # the code is not kept in the URL
        _screenshot(page, tmp_path, "flow-3-code.png")
        _next(page, "Next: exchange the code at /token")
        _view(page, "2. Tokens")
        expect(flow.locator(".flow-request pre.http").first).to_contain_text(
            "grant_type=authorization_code"
        )
        expect(flow.locator(".flow-response pre.http").first).to_contain_text("HTTP/1.1 200")
        expect(flow).to_contain_text("The ID token's nonce is the one this page sent")
        expect(flow).to_contain_text("ID token: Signature valid: RS256")
        expect(flow).to_contain_text("aud names this page's client")
        expect(flow.locator(".flow-access .token .part-header")).to_be_visible()
        expect(flow.locator(".flow-id .token .part-payload")).to_be_visible()
        expect(flow.locator(".flow-access table.members").last).to_contain_text("jwtkit-demo")
        _no_serious_violations(page)
        _screenshot(page, tmp_path, "flow-4-tokens.png")

        # 3. The API accepts the access token.
        _next(page, "Next: call the API (/userinfo)")
        _view(page, "3. The API answers")
        expect(flow.locator(".flow-request pre.http").first).to_contain_text(
            "Authorization: Bearer "
        )
        expect(flow.locator(".flow-response pre.http").first).to_contain_text(DEMO_USERNAME)
        _screenshot(page, tmp_path, "flow-5-userinfo.png")

        # 4. The page's own countdown, then the API refuses the expired token.
        _next(page, "Next: wait for the access token to expire")
        expect(page.locator("#flow-countdown")).to_contain_text("expires in")
        expect(page.locator("#flow-next")).to_be_disabled()
        _screenshot(page, tmp_path, "flow-6-countdown.png")
        expect(page.locator("#flow-view-title")).to_have_text(
            "4. The access token has expired", timeout=(TOKEN_TTL + 10) * 1000
        )
        response = flow.locator(".flow-response pre.http").first
        expect(response).to_contain_text("HTTP/1.1 401")
        expect(response).to_contain_text('www-authenticate: Bearer realm="jwtkit"')
        expect(response).to_contain_text('error="invalid_token"')
        _screenshot(page, tmp_path, "flow-7-expired.png")

        # 5. Refresh: new tokens, the refresh token rotated.
        _next(page, "Next: refresh the tokens")
        _view(page, "5. Refreshed")
        expect(flow).to_contain_text("The refresh token rotated")
        expect(flow.locator(".flow-access .token .part-signature")).to_be_visible()
        _screenshot(page, tmp_path, "flow-8-refreshed.png")

        # 6. The old refresh token replayed: invalid_grant, and the new one is refused too.
        _next(page, "Next: replay the old refresh token")
        _view(page, "6. Replay: refused")
        expect(flow.locator(".flow-response pre.http").first).to_contain_text('"invalid_grant"')
        expect(flow).to_contain_text("its token family has been revoked")
        _screenshot(page, tmp_path, "flow-9-replayed.png")
        _next(page, "Next: try the new refresh token")
        _view(page, "6. The whole family is revoked")
        expect(flow.locator(".flow-response pre.http").first).to_contain_text('"invalid_grant"')
        expect(flow).to_contain_text("the refresh token has been revoked")
        _screenshot(page, tmp_path, "flow-10-family-revoked.png")

        # 7. Revocation, then the logout, back to this page and to the start.
        _next(page, "Next: revoke the access token (/revoke)")
        _view(page, "7. Sign out")
        expect(flow.locator(".flow-response pre.http").first).to_contain_text("HTTP/1.1 200")
        _screenshot(page, tmp_path, "flow-11-revoked.png")
        _next(page, "Next: sign out at /logout")
        page.wait_for_url(server.url + "/#flow")
        _view(page, "Signed out")
        expect(flow).to_contain_text("the session at the service has ended")
        assert page.evaluate("sessionStorage.getItem('jwtkit-flow')") is None
        _screenshot(page, tmp_path, "flow-12-signed-out.png")
        _next(page, "Next: back to the start")
        _view(page, "1. Prepare the request")

        # Signed out for real: a new sign-in asks for the password again.
        _next(page, "Next: make PKCE, state and nonce")
        _next(page, "Next: go to the sign-in page")
        expect(page.get_by_label("Password")).to_be_visible()

        assert window.left_loopback == []
        assert window.problems() == []


def test_a_foreign_answer_is_refused_in_words(server: Server, browser: Browser) -> None:
    """A code the page did not ask for (no saved state in this tab) is not used."""
    with _window(browser, viewport=WINDOW) as window:
        page = window.page
        page.goto(server.url + "/?code=abc&state=xyz&iss=" + server.url)
        expect(page.locator("#flow-error")).to_contain_text("This tab did not start a sign-in")
        assert page.evaluate("location.search") == ""
        expect(page.locator("#flow-next")).to_have_text("Next: start again")
        assert window.problems() == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_flow_fits_a_phone(
    server: Server, browser: Browser, tmp_path: Path, scheme: Scheme
) -> None:
    with _window(browser, scheme, viewport=PHONE) as window:
        page = window.page
        page.goto(server.url + "/")
        expect(page.locator("#flow")).to_be_visible()
        page.locator("#flow-next").click()
        _view(page, "1. Prepare the request and sign in")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        _no_serious_violations(page)
        if scheme == "light":
            _screenshot(page, tmp_path, "flow-phone.png")
        assert window.problems() == []


def test_a_wrong_state_or_a_bad_code_is_said_in_words(server: Server, browser: Browser) -> None:
    with _window(browser, viewport=WINDOW) as window:
        page = window.page
        page.goto(server.url + "/")
        page.locator("#flow-next").click()
        _view(page, "1. Prepare the request and sign in")
        page.goto(f"{server.url}/?code=abc&state=forged&iss={server.url}")
        expect(page.locator("#flow")).to_contain_text("state is not the one this page sent")
        expect(page.locator("#flow-error")).to_contain_text("does not match this page's request")

        page.goto(server.url + "/")
        page.locator("#flow-next").click()
        _view(page, "1. Prepare the request and sign in")
        state = page.evaluate("JSON.parse(sessionStorage.getItem('jwtkit-flow')).state")
        page.goto(f"{server.url}/?code=made-up&state={state}&iss={server.url}")
        _view(page, "2. Back with a code")
        page.locator("#flow-next").click()
        error = page.locator("#flow-error")
        expect(error).to_contain_text(
            "The token endpoint refused the code: invalid_grant: the authorization code is invalid."
        )
        expect(error.locator(".flow-response pre.http")).to_contain_text("HTTP/1.1 400")
        expect(page.locator("#flow-next")).to_have_text("Next: start again")
        assert window.problems() == []


def test_without_the_demo_the_page_has_no_flow(
    tmp_path: Path, browser: Browser, server: Server
) -> None:
    env = {**_environment(), "JWTKIT_DEMO": "false"}
    with _serve(tmp_path, free_port(), env=env) as plain, _window(browser) as window:
        page = window.page
        page.goto(plain.url + "/")
        expect(page.locator("#inspect")).to_be_visible()
        page.locator('#flow[data-demo="off"]').wait_for(state="attached")
        expect(page.locator("#flow")).to_be_hidden()
        expect(page.locator("#flow-tab")).to_be_hidden()
        assert window.problems() == []


def test_start_over_during_the_countdown_drops_the_late_answer(
    server: Server, browser: Browser
) -> None:
    """A step under way when "Start over" is pressed does not come back over the start."""
    with _window(browser, viewport=WINDOW) as window:
        page = window.page
        # The page's clock runs as usual until the test moves it on (below), past the expiry,
        # instead of waiting for it.
        page.clock.install()
        userinfo: list[str] = []
        page.on(
            "request",
            lambda request: (
                userinfo.append(request.method)
                if urlsplit(request.url).path == "/userinfo"
                else None
            ),
        )
        page.goto(server.url + "/")
        page.locator("#flow-next").click()
        page.locator("#flow-next").click()
        page.get_by_label("Username").fill(DEMO_USERNAME)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        _view(page, "2. Back with a code")
        page.locator("#flow-next").click()
        _view(page, "2. Tokens")
        page.locator("#flow-next").click()
        _view(page, "3. The API answers")
        page.locator("#flow-next").click()
        expect(page.locator("#flow-countdown")).to_contain_text("expires in")
        page.locator("#flow-restart").click()
        _view(page, "1. Prepare the request")
        expect(page.locator("#flow-next")).to_be_focused()
        # Past the expiry the countdown would have called /userinfo: it was stopped.
        calls = len(userinfo)
        page.clock.fast_forward((TOKEN_TTL + 2) * 1000)
        page.evaluate("() => new Promise((done) => setTimeout(done, 50))")  # the timers' work
        _view(page, "1. Prepare the request")
        assert len(userinfo) == calls
        expect(page.locator("#flow-error")).to_be_hidden()
        assert page.evaluate("sessionStorage.getItem('jwtkit-flow')") is None
        assert window.problems() == []
