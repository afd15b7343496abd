"""The provider's HTML pages in a real browser: the stylesheet applies under the pages'
Content-Security-Policy, nothing is blocked or loaded from another host, and ``form-action``
decides where a form's POST may redirect to, as :func:`form_target` assumes.

Debian's Chromium (``/usr/bin/chromium``) is driven by Playwright, as in
``test_docs_browser.py``: skipped without it, except on CI (``CI=true``), where it fails.
The pages are served by a small app on uvicorn in a thread; ``http://localhost:<port>`` is
another origin than ``http://127.0.0.1:<port>``, so it stands for the client's redirect URI.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
import uvicorn
from conftest import free_port
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from test_docs_browser import CHROMIUM, CHROMIUM_ARGS, RENDER_TIMEOUT, _require_chromium

from jwtkit.server.http.pages import Pages, add_static, form_target

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals")

_LOOPBACK = frozenset({"127.0.0.1", "localhost"})


def _app(port: int) -> FastAPI:
    """The pages at ``/page/<name>``; ``POST /authorize`` redirects to the client's callback."""
    pages = Pages("Acme Login")
    client = f"http://localhost:{port}/cb"
    app = FastAPI()
    add_static(app)

    @app.get("/page/{name}")
    async def page(name: str, target: bool = True) -> HTMLResponse:
        targets = [form_target(client)] if target else []
        if name == "login":
            return pages.login(
                action="/authorize",
                hidden={"state": "xyz"},
                csrf_token="csrf",
                client_name="Example App",
                form_targets=targets,
            )
        if name == "consent":
            return pages.consent(
                action="/authorize",
                hidden={"state": "xyz"},
                csrf_token="csrf",
                client_name="Example App",
                username="alice",
                scopes=["openid", "email", "read:reports"],
                form_targets=targets,
            )
        if name == "logout":
            return pages.logout_confirm(
                action="/authorize",
                hidden={"state": "xyz"},
                csrf_token="csrf",
                client_name=None,
                form_targets=targets,
            )
        if name == "error":
            return pages.error(title="Unknown client", message="The application is unknown.")
        return pages.logged_out()

    @app.post("/authorize")
    async def authorize(request: Request) -> RedirectResponse:
        decision = (await request.form()).get("decision", "login")
        return RedirectResponse(f"{client}?decision={decision}", status_code=303)

    @app.get("/cb")
    async def callback(decision: str) -> PlainTextResponse:
        return PlainTextResponse(f"client got {decision}")

    return app


@contextmanager
def _running(app: FastAPI, port: int) -> Iterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_the_pages_in_chromium() -> None:
    _require_chromium()
    from playwright.sync_api import ConsoleMessage, Response, Route, sync_playwright

    port = free_port()
    left_loopback: list[str] = []
    failed: list[str] = []
    console: list[str] = []

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in _LOOPBACK:
            route.continue_()
        else:
            left_loopback.append(route.request.url)
            route.abort("blockedbyclient")

    def record_failure(response: Response) -> None:
        if response.status >= 400 and not response.url.endswith("/page/error"):  # 400 by design
            failed.append(f"{response.status} {response.url}")

    def record_console(message: ConsoleMessage) -> None:
        console.append(f"{message.type}: {message.text}")

    with _running(_app(port), port) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 360, "height": 740})
            page.route("**/*", only_loopback)
            page.on("response", record_failure)
            page.on("console", record_console)

            # Each page, on a phone-sized screen, styled by the stylesheet and nothing else.
            for name in ("login", "consent", "logout", "error", "logged-out"):
                page.goto(f"{url}/page/{name}", wait_until="load", timeout=RENDER_TIMEOUT)
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= 360, (name, width)  # no sideways scrolling
                font = page.evaluate("getComputedStyle(document.body).fontFamily")
                assert font.startswith("system-ui"), (name, font)
            page.goto(f"{url}/page/login", wait_until="load", timeout=RENDER_TIMEOUT)
            button = page.locator("button[type=submit]")
            assert button.bounding_box() is not None
            assert (button.bounding_box() or {"height": 0})["height"] >= 44
            assert page.evaluate("document.activeElement.id") == "username"

            # The login form posts; the redirect to the client's origin is allowed.
            page.fill("#username", "alice")
            page.fill("#password", "secret")
            page.keyboard.press("Enter")
            page.wait_for_url(f"http://localhost:{port}/cb?decision=login")
            assert page.inner_text("body") == "client got login"

            # The consent form's "deny" button, reached by the keyboard.
            page.goto(f"{url}/page/consent", wait_until="load", timeout=RENDER_TIMEOUT)
            page.locator("button[value=deny]").focus()
            page.keyboard.press("Enter")
            page.wait_for_url(f"http://localhost:{port}/cb?decision=deny")

            # Without the client's origin in form-action, Chromium stops the redirect.
            before = len(console)
            page.goto(f"{url}/page/consent?target=false", wait_until="load")
            page.click("button[value=allow]")
            page.wait_for_timeout(1000)
            assert not page.url.startswith(f"http://localhost:{port}/cb"), page.url
            blocked = console[before:]
            console[before:] = []
        finally:
            browser.close()
    assert left_loopback == []
    assert failed == []
    assert any("form-action" in line for line in blocked), blocked
    # Nothing else was refused or failed: the 400 is the error page's own status.
    assert [line for line in console if "status of 400" not in line] == []
