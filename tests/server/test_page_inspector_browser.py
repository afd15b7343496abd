"""The token inspector at ``/`` of a real ``jwtkit serve``, in Debian's Chromium driven by
Playwright (as ``test_docs_browser.py`` and ``test_provider_browser.py`` do).

One service per module, in development (the password grant gives a real access token); the
tokens of other algorithms are made here with jwtkit. Every request of the page to anything
but the service is aborted and recorded, and must never happen; the console, failed responses
and Content-Security-Policy violations are recorded and must stay empty. The browser's clock
is set (``page.clock``) to the tokens' time, so that "expires in 14 min" is exact.

Besides the decoding and each way of verifying (the service's JWKS, a pasted JWK, JWK Set or
PEM, a shared secret, a wrong key), the page is used with the keyboard alone, on a 375 px wide
phone, in the dark colour scheme, and checked by axe-core (the copy bundled in the
``axe-playwright-python`` wheel) for serious or critical violations. The inspector is
photographed into ``tmp_path`` and, when ``JWTKIT_SCREENSHOTS`` names a folder, into it as
``inspector.png`` and ``inspector-dark.png`` (``make screenshots`` writes ``docs/images/``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from conftest import PASSWORD, free_port
from fastapi import FastAPI
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Response,
    Route,
    ViewportSize,
    expect,
    sync_playwright,
)
from test_docs_browser import CHROMIUM, CHROMIUM_ARGS, RENDER_TIMEOUT, _require_chromium
from test_e2e import Server, _serve
from test_pages_browser import _running

import jwtkit
from jwtkit._codec import b64url_decode, b64url_encode, json_loads_object
from jwtkit.server.http.home import add_home

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals")

#: The environment variable naming a folder for ``inspector.png`` and ``inspector-dark.png``.
SCREENSHOTS = "JWTKIT_SCREENSHOTS"
#: The tokens' "now": 2026-11-03 10:00:00 UTC.
T0 = 1_793_700_000
SECRET = "correct horse battery staple, a long shared secret"
WINDOW: ViewportSize = {"width": 900, "height": 1000}
PHONE: ViewportSize = {"width": 375, "height": 812}
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclasses.dataclass
class Service:
    server: Server
    access_token: str
    audit: bool  # whether this server answers POST /audit


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    try:
        _require_chromium()
    except pytest.skip.Exception:
        if os.environ.get(SCREENSHOTS):
            pytest.fail(f"{CHROMIUM} is missing and screenshots were asked for")
        raise
    with (
        _serve(tmp_path_factory.mktemp("inspector"), free_port()) as server,
        httpx.Client(base_url=server.url, timeout=10, trust_env=False) as http,
    ):
        created = http.post("/users", json={"username": "alice", "password": PASSWORD})
        assert created.status_code == 201, created.text
        answer = http.post(
            "/token", data={"grant_type": "password", "username": "alice", "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        probe = http.post("/audit", json={"token": "x.y.z"})
        yield Service(server, answer.json()["access_token"], probe.status_code != 404)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    _require_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclasses.dataclass
class Watched:
    """A page with what it did wrong: requests off the loopback, failed responses, console
    lines and CSP violations (read from the page by :meth:`violations`)."""

    page: Page
    left_loopback: list[str]
    failed: list[str]
    console: list[str]

    def violations(self) -> list[str]:
        found: list[str] = self.page.evaluate("window.__cspViolations")
        return found

    def assert_clean(self, *, allow_audit_404: bool = False) -> None:
        """Nothing left the loopback, nothing failed or was refused, nothing was logged.
        ``allow_audit_404``: the one failed response of a server without ``/audit`` (the
        browser logs every 404 of a fetch; the page says "audit unavailable")."""
        failed = [line for line in self.failed if not (allow_audit_404 and "/audit" in line)]
        console = [
            line
            for line in self.console
            if not (allow_audit_404 and "status of 404" in line and len(self.failed) == 1)
        ]
        assert self.left_loopback == []
        assert failed == []
        assert console == []
        assert self.violations() == []


@pytest.fixture
def watched(browser: Browser, service: Service) -> Iterator[Watched]:
    context = browser.new_context(viewport=WINDOW, color_scheme="light")
    page = context.new_page()
    result = Watched(page, [], [], [])

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in _LOOPBACK:
            route.continue_()
        else:
            result.left_loopback.append(route.request.url)
            route.abort("blockedbyclient")

    def record_failure(response: Response) -> None:
        if response.status >= 400:
            result.failed.append(f"{response.status} {response.url}")

    def record_console(message: ConsoleMessage) -> None:
        result.console.append(f"{message.type}: {message.text}")

    page.route("**/*", only_loopback)
    page.on("response", record_failure)
    page.on("console", record_console)
    page.on("pageerror", lambda error: result.console.append(f"pageerror: {error}"))
    page.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', (e) =>"
        " window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    try:
        yield result
    finally:
        context.close()


def _open(watched: Watched, service: Service, now: float = T0) -> Page:
    page = watched.page
    page.clock.set_fixed_time(now)
    page.goto(f"{service.server.url}/", wait_until="load", timeout=RENDER_TIMEOUT)
    # Service mode: the JWKS button shows once discovery has answered.
    page.locator("#verify-service").wait_for(state="visible", timeout=RENDER_TIMEOUT)
    return page


def _paste(page: Page, token: str) -> None:
    page.fill("#token", token)
    page.locator("#decoded .token, #decoded .problem").first.wait_for(timeout=RENDER_TIMEOUT)


def _verdict(page: Page, button: str) -> str:
    page.click(button)
    verdict = page.locator("#verdict p").first
    # Playwright's own waits, not a function evaluated in the page: the page's CSP forbids eval.
    expect(verdict).not_to_have_text("Checking...", timeout=RENDER_TIMEOUT)
    return verdict.inner_text()


def _screenshot(page: Page, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=path)  # the window: the token, its parts, header and claims
    folder = os.environ.get(SCREENSHOTS)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(folder) / name)


def _segment(token: str, index: int) -> dict[str, Any]:
    """The JSON object of the token's part ``index`` (0: header, 1: claims)."""
    return json_loads_object(b64url_decode(token.split(".")[index]))


def _phrase(seconds: int) -> str:
    """What jose.js's duration says for ``seconds`` of at most a day (min or h)."""
    return f"{seconds // 3600} h" if seconds >= 3600 else f"{seconds // 60} min"


# -- the service's token -----------------------------------------------------------------------


def test_a_token_of_the_service_decoded_and_verified_with_its_jwks(
    watched: Watched, service: Service, tmp_path: Path
) -> None:
    token = service.access_token
    header = _segment(token, 0)
    claims = _segment(token, 1)
    now = claims["iat"] + 60
    page = _open(watched, service, now)
    _paste(page, token)

    # The three parts, each in its colour.
    parts = page.locator("#decoded .token > span:not(.dot)")
    assert parts.count() == 3
    assert [parts.nth(i).get_attribute("class") for i in range(3)] == [
        "part-header",
        "part-payload",
        "part-signature",
    ]
    assert "".join(parts.nth(i).inner_text() + "." for i in range(3))[:-1] == token
    colours = {
        page.evaluate(f"getComputedStyle(document.querySelector('.{name}')).color")
        for name in ("part-header", "part-payload", "part-signature")
    }
    assert len(colours) == 3
    # Header and claims, each registered name explained; the times as dates, relative.
    text = page.inner_text("#decoded")
    assert f'"kid": "{header["kid"]}"' in text
    assert "The algorithm that signs" in text
    assert "Who issued the token" in text
    exp = page.inner_text("#decoded .when-exp")
    assert exp.endswith(f"(expires in {_phrase(claims['exp'] - now)})"), exp
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", exp), exp
    assert page.inner_text("#decoded .when-iat").endswith("(1 min ago)")

    status = page.text_content("#token-status")
    assert status == f"A signed token (JWS): ES256, {len(claims)} claims.", status
    verdict = _verdict(page, "#verify-service")
    assert verdict.startswith("Signature valid: ES256"), verdict
    assert page.get_attribute("#verdict", "aria-live") == "polite"
    _screenshot(page, tmp_path, "inspector.png")

    # Much later the same signature is still valid, and the token expired.
    page.clock.set_fixed_time(claims["exp"] + 3 * 3600)
    verdict = _verdict(page, "#verify-service")
    assert verdict == "Signature valid, but the token is expired 3 h ago.", verdict

    # The audit sends the token only when asked; without /audit, said so.
    page.click("#audit-button")
    result = page.locator("#audit-result p").first
    expect(result).not_to_have_text(re.compile(r"^Sending"))
    if service.audit:
        assert result.inner_text().startswith("Audit:"), result.inner_text()
    else:
        assert result.inner_text() == "Audit unavailable: this server does not offer an audit."
    watched.assert_clean(allow_audit_404=not service.audit)


# -- other keys --------------------------------------------------------------------------------


def _verify_with_key(page: Page, key: str) -> str:
    page.fill("#key", key)
    return _verdict(page, "#verify-key")


def test_pasted_keys_jwk_jwks_pem_and_a_wrong_one(watched: Watched, service: Service) -> None:
    page = _open(watched, service)
    claims = {"iss": "https://issuer.example", "sub": "alice", "iat": T0}
    rsa = jwtkit.Key.generate("RS256", kid="rsa-1")
    other = jwtkit.Key.generate("RS256", kid="rsa-2")
    token = jwtkit.encode(claims, rsa, "RS256", expires_in=840, now=T0)
    _paste(page, token)
    assert page.inner_text("#decoded .when-exp").endswith("(expires in 14 min)")

    public = json.dumps(rsa.public_key().to_jwk())
    assert _verify_with_key(page, public) == 'Signature valid: RS256, checked with the key "rsa-1".'
    both = json.dumps({"keys": [other.public_key().to_jwk(), rsa.public_key().to_jwk()]})
    assert _verify_with_key(page, both).startswith("Signature valid: RS256")
    wrong = _verify_with_key(page, json.dumps(other.public_key().to_jwk()))
    assert wrong.startswith("Invalid signature:"), wrong
    pem = _verify_with_key(page, rsa.public_key().to_pem().decode())
    assert pem == "Signature valid: RS256, checked with the pasted PEM key.", pem
    refused = _verify_with_key(page, rsa.to_pem(private=True).decode())
    assert refused.startswith("This is a private key: paste the public key instead"), refused
    refused = _verify_with_key(page, json.dumps(rsa.to_jwk(private=True)))
    assert refused.startswith("This JWK holds a private key"), refused
    unknown = _verify_with_key(page, json.dumps({"keys": [other.public_key().to_jwk()] * 2}))
    assert unknown == 'No key fits: none of the 2 keys has the token\'s key ID "rsa-1".', unknown
    ec = jwtkit.Key.generate("ES256", kid="ec")
    misfit = _verify_with_key(page, json.dumps(ec.public_key().to_jwk()))
    assert misfit == 'The key does not fit: the key "ec" is an EC key; RS256 needs an RSA key.'

    # PS384, ES384, ES512, EdDSA and Ed25519 (RFC 9864), as PEM: each checked by WebCrypto.
    for alg in ("PS384", "ES384", "ES512", "EdDSA", "Ed25519"):
        key = jwtkit.Key.generate(alg)
        _paste(page, jwtkit.encode(claims, key, alg, now=T0))
        verdict = _verify_with_key(page, key.public_key().to_pem().decode())
        assert verdict.startswith(f"Signature valid: {alg}"), (alg, verdict)
    # An EdDSA token and a set of an EC key and the Ed25519 key: the OKP key checks it.
    mixed = json.dumps({"keys": [ec.public_key().to_jwk(), key.public_key().to_jwk()]})
    assert _verify_with_key(page, mixed).startswith("Signature valid: Ed25519")
    watched.assert_clean()


def test_a_shared_secret_and_a_wrong_one(watched: Watched, service: Service) -> None:
    page = _open(watched, service)
    token = jwtkit.encode({"sub": "alice"}, SECRET, "HS256", expires_in=60, now=T0 - 7200)
    _paste(page, token)
    assert page.inner_text("#decoded .when-exp").endswith("(expired 1 h ago)")
    page.fill("#secret", SECRET)
    verdict = _verdict(page, "#verify-secret")
    assert verdict == "Signature valid, but the token is expired 1 h ago.", verdict
    assert page.locator("#verdict p").first.get_attribute("class") == "verdict-warn"
    page.fill("#secret", SECRET + "!")
    verdict = _verdict(page, "#verify-secret")
    assert verdict.startswith("Invalid signature: the shared secret does not confirm"), verdict
    assert page.locator("#verdict p").first.get_attribute("class") == "verdict-bad"
    # The secret as a JWK ("kty": "oct").
    oct_key = {"kty": "oct", "k": b64url_encode(SECRET.encode())}
    assert _verify_with_key(page, json.dumps(oct_key)).startswith("Signature valid, but")
    # An unencoded payload (RFC 7797): signed as it is.
    header = _encoded({"alg": "HS256", "b64": False, "crit": ["b64"]})
    mac = hmac.new(SECRET.encode(), f"{header}.hello!".encode(), hashlib.sha256).digest()
    _paste(page, f"{header}.hello!.{b64url_encode(mac)}")
    assert page.inner_text("#decoded pre.json >> nth=1") == "hello!"
    page.fill("#secret", SECRET)
    assert _verdict(page, "#verify-secret").startswith("Signature valid: HS256")
    # A secret cannot check a public-key algorithm, nor a public key an HMAC.
    _paste(page, service.access_token)
    verdict = _verdict(page, "#verify-secret")
    assert verdict.startswith("The key does not fit: a shared secret cannot check ES256")
    watched.assert_clean()


def test_algorithms_this_browser_cannot_check_are_never_called_valid(
    watched: Watched, service: Service
) -> None:
    page = _open(watched, service)
    key = jwtkit.Key.generate("ES256K")
    _paste(page, jwtkit.encode({"sub": "alice"}, key, "ES256K", now=T0))
    verdict = _verdict(page, "#verify-key")  # the key field is empty
    assert verdict == "No key: paste a JWK, a JWK Set or a PEM public key."
    page.fill("#key", json.dumps(key.public_key().to_jwk()))
    verdict = _verdict(page, "#verify-key")
    assert verdict.startswith("ES256K (secp256k1) cannot be checked in this browser"), verdict
    assert page.locator("#verdict p").first.get_attribute("class") == "verdict-warn"
    ed448 = jwtkit.Key.generate("OKP", crv="Ed448")
    _paste(page, jwtkit.encode({"sub": "alice"}, ed448, "EdDSA", now=T0))
    verdict = _verify_with_key(page, json.dumps(ed448.public_key().to_jwk()))
    assert verdict.startswith("EdDSA with Ed448 cannot be checked in this browser"), verdict
    ed448 = jwtkit.Key.generate("Ed448")
    _paste(page, jwtkit.encode({"sub": "alice"}, ed448, "Ed448", now=T0))
    verdict = _verify_with_key(page, json.dumps(ed448.public_key().to_jwk()))
    assert verdict.startswith("Ed448 cannot be checked in this browser"), verdict
    forged = ".".join(
        [_encoded({"alg": "ML-DSA-65", "typ": "JWT"}), _encoded({"sub": "x"}), "AAAA"]
    )
    _paste(page, forged)
    verdict = _verdict(page, "#verify-key")
    assert verdict.startswith("ML-DSA-65 (post-quantum ML-DSA) cannot be checked"), verdict
    unsigned = ".".join([_encoded({"alg": "none"}), _encoded({"sub": "x"}), ""])
    _paste(page, unsigned)
    verdict = _verdict(page, "#verify-key")
    assert verdict.startswith('The token is not signed ("alg": "none")'), verdict
    watched.assert_clean()


def _encoded(value: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(value).encode())


# -- JWE and malformed input -------------------------------------------------------------------


def test_an_encrypted_token_and_malformed_input(watched: Watched, service: Service) -> None:
    page = _open(watched, service)
    recipient = jwtkit.Key.generate("RSA-OAEP-256")
    signer = jwtkit.Key.generate("ES256")
    token = jwtkit.encode(
        {"sub": "alice"},
        signer,
        encrypt_with=recipient.public_key(),
        encryption_algorithm="RSA-OAEP-256",
        now=T0,
    )
    _paste(page, token)
    classes = [
        page.locator("#decoded .token > span:not(.dot)").nth(i).get_attribute("class")
        for i in range(5)
    ]
    assert classes == [
        "part-header",
        "part-encrypted-key",
        "part-iv",
        "part-ciphertext",
        "part-tag",
    ]
    assert page.inner_text("#encrypted").startswith("Encrypted: the payload is ciphertext")
    assert '"enc": "A256GCM"' in page.inner_text("#decoded")
    assert "The algorithm that encrypts the content" in page.inner_text("#decoded")
    verdict = _verdict(page, "#verify-service")
    assert verdict == "This is an encrypted token (JWE): it has no signature to check here."

    header = _encoded({"alg": "HS256"})
    for pasted, said in [
        ("abc.def", "The token has 2 parts (1 dot): a JWS has 3, a JWE 5"),
        ("a.b.c.d", "The token has 4 parts (3 dots)"),
        (f"{header}.e30.sig=", "The signature is not base64url: it holds padding '='"),
        ("eyJhbGciOiJIUzI1NiJ9x.e30.c2ln", "The header is not base64url: its length (21)"),
        (b64url_encode(b'{"alg"') + ".e30.c2ln", "The header is not JSON ("),
        (b64url_encode(b"\xff{}") + ".e30.c2ln", "The header is not UTF-8 text"),
        (b64url_encode(b"[1]") + ".e30.c2ln", "The header is JSON but not an object"),
        (f"{_encoded({'typ': 'JWT'})}.e30.c2ln", 'The header has no "alg"'),
        (
            b64url_encode(b'{"alg":"HS256","alg":"none"}') + ".e30.c2ln",
            'The header names the member "alg" twice',
        ),
        (f"{header}.{b64url_encode(b'{bad')}.c2ln", "The payload is not JSON"),
        (f"{header}.{b64url_encode(bytes([0xFF]))}.c2ln", "A binary payload"),
        ('{"payload": "x"}', "This is JSON, not a compact token"),
    ]:
        page.fill("#token", pasted)
        shown = page.locator("#problem, #decoded pre.json").last
        shown.wait_for(timeout=RENDER_TIMEOUT)
        text = page.inner_text("#decoded")
        assert said in text, (pasted, text)
    page.fill("#token", "")
    assert page.inner_text("#decoded") == ""
    watched.assert_clean()


# -- keyboard, phone, dark, accessibility ------------------------------------------------------


def test_keyboard_only(watched: Watched, service: Service) -> None:
    """Tab reaches every control in reading order, each with a visible focus ring; a token is
    pasted and checked against the service's keys without the mouse."""
    page = _open(watched, service)
    order: list[str] = []
    outlines: list[str] = []
    while not order or order[-1] != "audit-button":
        assert len(order) < 20, order
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.className"))
        outlines.append(page.evaluate("getComputedStyle(document.activeElement).outlineStyle"))
        if order[-1] == "token":
            page.keyboard.insert_text(service.access_token)  # as a paste does
            page.locator("#decoded .token").wait_for()
        elif order[-1] == "verify-service":
            page.keyboard.press("Enter")
            expect(page.locator("#verdict p").first).to_have_text(re.compile(r"^Signature"))
    assert order == [
        "skip",
        "inspect-tab",
        "flow-tab",
        "token",
        "json",  # the header's JSON, scrollable
        "json",  # the claims' JSON
        "key",
        "verify-key",
        "secret",
        "verify-secret",
        "verify-service",
        "audit-button",
    ], order
    assert all(style == "solid" for style in outlines), list(zip(order, outlines, strict=True))
    assert page.inner_text("#verdict").startswith("Signature valid: ES256")
    # Enter in the secret field submits its form.
    page.locator("#secret").focus()
    page.keyboard.type("not the secret")
    page.keyboard.press("Enter")
    expect(page.locator("#verdict p").first).to_have_text(re.compile(r"^The key does"))
    watched.assert_clean()


def test_a_phone_without_layout_shift(watched: Watched, service: Service) -> None:
    page = watched.page
    page.set_viewport_size(PHONE)
    page = _open(watched, service)
    # Layout shifts from here on that no input of the user explains (the CLS rule).
    page.evaluate(
        "window.__shift = 0; new PerformanceObserver((list) => { for (const e of"
        " list.getEntries()) if (!e.hadRecentInput) window.__shift += e.value; })"
        ".observe({type: 'layout-shift'})"
    )
    before = page.locator("#token").bounding_box()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.evaluate("(token) => navigator.clipboard.writeText(token)", service.access_token)
    page.locator("#token").focus()
    page.keyboard.press("Control+V")
    page.locator("#decoded .token").wait_for()
    page.wait_for_timeout(600)  # past the 500 ms that input excuses: nothing moves late
    assert page.locator("#token").bounding_box() == before
    assert page.evaluate("window.__shift") == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for button in ("#verify-service", "#verify-key", "#audit-button"):
        assert (page.locator(button).bounding_box() or {"height": 0})["height"] >= 44
    watched.assert_clean()


def _serious(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']}"
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]


def test_light_and_dark_pass_axe(
    browser: Browser, watched: Watched, service: Service, tmp_path: Path
) -> None:
    page = _open(watched, service, _segment(service.access_token, 1)["iat"] + 60)
    _paste(page, service.access_token)
    _verdict(page, "#verify-service")
    assert _serious(page) == []
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.emulate_media(color_scheme="dark")
    dark = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert dark != background
    assert dark == "rgb(21, 23, 26)"
    assert _serious(page) == []
    _screenshot(page, tmp_path, "inspector-dark.png")
    watched.assert_clean()


def test_the_service_under_another_name_of_its_host(watched: Watched, service: Service) -> None:
    """Opened as http://localhost:<port>/ while the issuer says 127.0.0.1, the page still
    finds the service's keys: on its own origin, as its policy allows (connect-src 'self')."""
    page = watched.page
    page.goto(service.server.url.replace("127.0.0.1", "localhost") + "/", wait_until="load")
    page.locator("#verify-service").wait_for(state="visible", timeout=RENDER_TIMEOUT)
    _paste(page, service.access_token)
    assert _verdict(page, "#verify-service").startswith("Signature valid: ES256")
    watched.assert_clean()


def test_local_mode_without_the_service(browser: Browser) -> None:
    """The page served by an app that is not the token service (as ``jwtkit inspect``
    serves it): no discovery, so no JWKS button and no flow tab; decoding and verifying with a
    pasted key work the same."""
    app = FastAPI()
    add_home(app)
    port = free_port()
    context = browser.new_context(viewport=WINDOW)
    page = context.new_page()
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    try:
        with _running(app, port) as url:
            page.goto(f"{url}/", wait_until="networkidle", timeout=RENDER_TIMEOUT)
            assert page.locator("#verify-service-form").is_hidden()
            assert page.locator("#flow-tab").is_hidden()
            key = jwtkit.Key.generate("ES256")
            page.fill("#token", jwtkit.encode({"sub": "alice"}, key, "ES256"))
            page.fill("#key", json.dumps(key.public_key().to_jwk()))
            assert _verdict(page, "#verify-key").startswith("Signature valid: ES256")
    finally:
        context.close()
    # Discovery answered 404: that is how the page knows it is not on the service.
    assert failed == [f"{url}/.well-known/openid-configuration"]
