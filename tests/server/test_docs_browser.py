"""``/docs`` in a real browser: Swagger UI renders from a real ``jwtkit serve`` with no
request leaving the loopback interface.

Debian's Chromium (``/usr/bin/chromium``) is driven by Playwright; no browser is downloaded.
Every request of the page to another host is aborted and recorded, so a CDN reference would
both leave the page blank and fail the test. Without Chromium the test is skipped, except on
CI (``CI=true``), which installs it, where it fails.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import free_port
from test_e2e import _serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
#: Milliseconds for the page to load and Swagger UI to render (a second or two here).
RENDER_TIMEOUT = 30_000

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals")


def _require_chromium() -> None:
    if os.path.exists(CHROMIUM):
        return
    message = f"{CHROMIUM} is missing: apt-get install chromium (Debian's package)"
    if os.environ.get("CI") == "true":
        pytest.fail(message + "; CI must install it")
    pytest.skip(message)


def test_swagger_ui_renders_offline_in_chromium(tmp_path: Path) -> None:
    _require_chromium()
    from playwright.sync_api import Response, Route, sync_playwright

    left_loopback: list[str] = []
    failed: list[str] = []

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in _LOOPBACK:
            route.continue_()
        else:
            left_loopback.append(route.request.url)
            route.abort("blockedbyclient")

    def record_failure(response: Response) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    with _serve(tmp_path, free_port()) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page()
            page.route("**/*", only_loopback)
            page.on("response", record_failure)
            page.goto(f"{server.url}/docs", wait_until="load", timeout=RENDER_TIMEOUT)
            assert left_loopback == [], "/docs sent requests to other hosts"
            token = page.locator('.opblock-summary-path[data-path="/token"]')
            token.wait_for(state="visible", timeout=RENDER_TIMEOUT)
            operations = page.locator(".opblock").count()
            title = page.title()
        finally:
            browser.close()
    assert left_loopback == []
    assert failed == []
    assert operations >= 10
    assert title == "jwtkit token service - Swagger UI"
