"""The token page served by a real ``jwtkit inspect`` process, in Debian's Chromium: local
mode (no service), a token decoded and verified with a pasted key, and audited through the
local server's ``POST /audit``; nothing leaves the loopback, nothing breaks the page's
Content-Security-Policy, and the only failed response is the discovery probe (a 404: how the
page knows it is not on the service)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Route, expect, sync_playwright
from test_docs_browser import CHROMIUM, CHROMIUM_ARGS, RENDER_TIMEOUT, _require_chromium
from test_page_inspector_browser import WINDOW, _paste, _verdict

import jwtkit

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals")


@pytest.fixture
def inspect_url() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "jwtkit", "inspect", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    try:
        yield line.split(" is at ")[1].split(" ")[0].rstrip("/")
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
        assert (process.returncode, out, err) == (0, "jwtkit inspect: stopped\n", "")


def test_the_page_of_jwtkit_inspect_decodes_verifies_and_audits(inspect_url: str) -> None:
    _require_chromium()
    key = jwtkit.Key.generate("ES256")
    token = jwtkit.encode({"sub": "alice", "password": "hunter2"}, key, "ES256")
    left: list[str] = []
    failed: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_context(viewport=WINDOW).new_page()

            def only_loopback(route: Route) -> None:
                if urlsplit(route.request.url).hostname == "127.0.0.1":
                    route.continue_()
                else:
                    left.append(route.request.url)
                    route.abort("blockedbyclient")

            page.route("**/*", only_loopback)
            page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
            page.add_init_script(
                "window.__cspViolations = [];"
                "document.addEventListener('securitypolicyviolation', (e) =>"
                " window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
            )
            page.goto(f"{inspect_url}/", wait_until="load", timeout=RENDER_TIMEOUT)
            assert page.locator("#verify-service-form").is_hidden()
            _paste(page, token)
            page.fill("#key", json.dumps(key.public_key().to_jwk()))
            assert _verdict(page, "#verify-key").startswith("Signature valid: ES256")
            page.click("#audit-button")
            expect(page.locator("#audit-result p").first).not_to_have_text(
                re.compile(r"^Sending"), timeout=RENDER_TIMEOUT
            )
            assert page.locator("#audit-result p").first.inner_text().startswith("Audit: ")
            shown = page.locator("#audit-result li").all_inner_texts()
            assert any("Where: claims.password" in item for item in shown), shown
            assert any(item.lower().startswith("high") for item in shown), shown
            assert page.evaluate("window.__cspViolations") == []
        finally:
            browser.close()
    assert left == []
    assert failed == [f"{inspect_url}/.well-known/openid-configuration"]
