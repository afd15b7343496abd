"""The provider's HTML pages (``server/http/pages.py``): each page parsed with the standard
library's HTML parser, its form fields, labels and buttons, escaping of hostile values, the
exact security headers, the ``form-action`` targets and the stylesheet route."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from jwtkit.server.http.pages import (
    STYLESHEET_PATH,
    Pages,
    ScopeDescription,
    add_static,
    content_security_policy,
    describe_scope,
    form_target,
)

STYLESHEET = (
    Path(__file__).resolve().parents[2] / "src/jwtkit/server/http/static/jwtkit.css"
).read_bytes()
HOSTILE = '<script>alert("x")</script>'
BASE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


@dataclasses.dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    text: str = ""


class Document(HTMLParser):
    """Every element of a page with its attributes and its own text, plus the doctype."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.doctype: str | None = None
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self.feed(html)
        self.close()

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs))
        self.elements.append(element)
        if tag not in {"meta", "link", "input", "br"}:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        assert self._open, f"</{tag}> closes nothing"
        assert self._open.pop().tag == tag, f"</{tag}> closes another element"

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data

    def all(self, tag: str, **attrs: str) -> list[Element]:
        return [
            element
            for element in self.elements
            if element.tag == tag
            and all(element.attrs.get(name) == value for name, value in attrs.items())
        ]

    def one(self, tag: str, **attrs: str) -> Element:
        (found,) = self.all(tag, **attrs)
        return found

    def words(self, tag: str, **attrs: str) -> str:
        return " ".join(self.one(tag, **attrs).text.split())

    def hidden_fields(self) -> list[tuple[str | None, str | None]]:
        return [(e.attrs["name"], e.attrs["value"]) for e in self.all("input", type="hidden")]


def _page(response: HTMLResponse) -> Document:
    return Document(bytes(response.body).decode("utf-8"))


PAGES = Pages("Acme Login")
HIDDEN = {"client_id": "app", "state": "xyz", "code_challenge": "E9Melhoa2Owv"}


def _login(pages: Pages = PAGES, **overrides: object) -> HTMLResponse:
    arguments: dict[str, object] = {
        "action": "/authorize",
        "hidden": HIDDEN,
        "csrf_token": "csrf-123",
        "client_name": "Example App",
        **overrides,
    }
    return pages.login(**arguments)  # type: ignore[arg-type]


def _consent(pages: Pages = PAGES, **overrides: object) -> HTMLResponse:
    arguments: dict[str, object] = {
        "action": "/authorize",
        "hidden": HIDDEN,
        "csrf_token": "csrf-123",
        "client_name": "Example App",
        "username": "alice",
        "scopes": ["openid", "profile"],
        **overrides,
    }
    return pages.consent(**arguments)  # type: ignore[arg-type]


def _logout(pages: Pages = PAGES, **overrides: object) -> HTMLResponse:
    arguments: dict[str, object] = {
        "action": "/logout",
        "hidden": {"state": "bye-123"},
        "csrf_token": "csrf-123",
        "client_name": "Example App",
        **overrides,
    }
    return pages.logout_confirm(**arguments)  # type: ignore[arg-type]


EVERY_PAGE: dict[str, Callable[[Pages], HTMLResponse]] = {
    "login": _login,
    "login-error": lambda pages: _login(pages, username="bob", error="Wrong password."),
    "consent": _consent,
    "error": lambda pages: pages.error(title="Unknown client", message="No such client."),
    "logout": _logout,
    "logout-no-client": lambda pages: _logout(pages, client_name=None),
    "logged-out": lambda pages: pages.logged_out(),
}


# -- what every page is ------------------------------------------------------------------------


@pytest.mark.parametrize("render", EVERY_PAGE.values(), ids=EVERY_PAGE.keys())
def test_every_page_is_a_small_accessible_document_without_script(
    render: Callable[[Pages], HTMLResponse],
) -> None:
    response = render(PAGES)
    html = bytes(response.body).decode()
    page = Document(html)
    assert html.startswith("<!doctype html>\n")
    assert page.doctype == "doctype html"
    assert page.one("html").attrs == {"lang": "en"}
    assert page.one("meta", charset="utf-8")
    viewport = page.one("meta", name="viewport")
    assert viewport.attrs["content"] == "width=device-width, initial-scale=1"
    assert page.words("title").endswith(" - Acme Login")
    assert page.words("header") == "Acme Login"
    assert page.one("main")
    assert page.one("h1").text.strip()
    # One stylesheet, same origin, content-hashed; nothing else is loaded.
    (link,) = page.all("link")
    assert link.attrs["rel"] == "stylesheet"
    assert re.fullmatch(r"/static/jwtkit\.css\?v=[0-9a-f]{16}", link.attrs["href"] or "")
    assert not page.all("script")
    assert not page.all("style")
    assert not page.all("img")
    assert not any("style" in element.attrs for element in page.elements)
    assert not any(name.startswith("on") for e in page.elements for name in e.attrs)
    assert "<script" not in html.lower()
    assert "style=" not in html
    assert not re.search(r"https?:", html)
    for element in page.elements:
        for name in ("href", "src", "action", "formaction", "srcset", "poster", "data"):
            assert not re.match(r"[a-z+.-]*:|//", element.attrs.get(name) or "", re.I)


@pytest.mark.parametrize("render", EVERY_PAGE.values(), ids=EVERY_PAGE.keys())
def test_every_page_carries_its_security_headers(render: Callable[[Pages], HTMLResponse]) -> None:
    headers = render(PAGES).headers
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-store"
    assert headers["pragma"] == "no-cache"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["content-security-policy"] == BASE_POLICY


def test_each_method_takes_the_root_path() -> None:
    """Below a proxy's path prefix, a page links the stylesheet there too."""
    for response in (
        _login(root_path="/a"),
        _consent(root_path="/a"),
        _logout(root_path="/a"),
        PAGES.error(title="t", message="m", root_path="/a"),
        PAGES.logged_out(root_path="/a"),
    ):
        assert (_page(response).one("link").attrs["href"] or "").startswith("/a/static/")


def test_the_product_name_is_configurable_and_never_empty() -> None:
    page = _page(Pages("Example Corp SSO").logged_out())
    assert page.words("title") == "Logged out - Example Corp SSO"
    assert page.words("header") == "Example Corp SSO"
    for empty in ("", "   "):
        with pytest.raises(ValueError, match="product name"):
            Pages(empty)


# -- the login page --------------------------------------------------------------------------


def test_the_login_form() -> None:
    response = _login()
    assert response.status_code == 200
    page = _page(response)
    form = page.one("form")
    assert form.attrs == {"method": "post", "action": "/authorize"}
    assert page.hidden_fields() == [
        ("csrf_token", "csrf-123"),
        ("client_id", "app"),
        ("state", "xyz"),
        ("code_challenge", "E9Melhoa2Owv"),
    ]
    username = page.one("input", name="username")
    assert username.attrs["type"] == "text"
    assert username.attrs["autocomplete"] == "username"
    assert username.attrs["value"] == ""
    assert "required" in username.attrs
    assert "autofocus" in username.attrs
    password = page.one("input", name="password")
    assert password.attrs["type"] == "password"
    assert password.attrs["autocomplete"] == "current-password"
    assert "required" in password.attrs
    assert "autofocus" not in password.attrs
    # Each field has a visible label naming it.
    assert page.words("label", **{"for": "username"}) == "Username"
    assert page.words("label", **{"for": "password"}) == "Password"
    assert username.attrs["id"] == "username"
    assert password.attrs["id"] == "password"
    assert page.one("button").attrs == {"type": "submit"}
    assert "Example App" in page.words("p")
    # No error: no alert, nothing described by it.
    assert not page.all("p", role="alert")
    assert "aria-describedby" not in username.attrs
    assert "aria-invalid" not in password.attrs
    # The fields come in the order a keyboard reaches them.
    order = [e.attrs.get("name") or e.tag for e in page.elements if e.tag in {"input", "button"}]
    assert order[-3:] == ["username", "password", "button"]


def test_a_username_is_prefilled_and_the_password_has_the_focus() -> None:
    page = _page(_login(username="alice@example.com"))
    username = page.one("input", name="username")
    assert username.attrs["value"] == "alice@example.com"
    assert "autofocus" not in username.attrs
    assert "autofocus" in page.one("input", name="password").attrs


def test_a_failed_login_is_shown_as_an_alert_the_fields_name() -> None:
    response = _login(username="alice", error="Wrong username or password.")
    assert response.status_code == 200
    page = _page(response)
    alert = page.one("p", role="alert")
    assert alert.attrs["id"] == "login-error"
    assert alert.text == "Wrong username or password."
    for name in ("username", "password"):
        field = page.one("input", name=name)
        assert field.attrs["aria-describedby"] == "login-error"
        assert field.attrs["aria-invalid"] == "true"
    assert page.one("input", name="username").attrs["value"] == "alice"
    assert page.one("input", name="password").attrs.get("value") is None


def test_an_empty_error_is_still_an_alert() -> None:
    assert _page(_login(error="")).one("p", role="alert").text == ""


# -- the consent page ------------------------------------------------------------------------


def test_the_consent_form() -> None:
    page = _page(_consent(scopes=["openid", "profile", "email", "offline_access"]))
    assert page.one("form").attrs == {"method": "post", "action": "/authorize"}
    assert page.hidden_fields()[0] == ("csrf_token", "csrf-123")
    assert dict(page.hidden_fields()[1:]) == HIDDEN
    buttons = [button.attrs for button in page.all("button")]
    assert buttons == [
        {"type": "submit", "name": "decision", "value": "allow"},
        {"type": "submit", "name": "decision", "value": "deny", "class": "secondary"},
    ]
    assert page.words("h1") == "Allow Example App access?"
    assert "alice" in page.words("p", **{"class": "muted"})
    items = [" ".join(item.text.split()) for item in page.all("li")]
    assert items == [
        "Confirm who you are Sign you in with your Acme Login account.",
        "See your profile Your name and username.",
        "See your e-mail address Your e-mail address and whether it is verified.",
        "Stay signed in Keep access when you are not using the app.",
    ]
    assert not page.all("input", type="text")
    assert not page.all("input", type="password")


def test_unknown_scopes_are_shown_as_they_are_and_once() -> None:
    page = _page(_consent(scopes=["openid", "read:reports", "openid", HOSTILE]))
    items = [" ".join(item.text.split()) for item in page.all("li")]
    assert items[1:] == ["Use the permission read:reports", f"Use the permission {HOSTILE}"]
    assert [code.text for code in page.all("code")] == ["read:reports", HOSTILE]


def test_consent_without_scopes() -> None:
    page = _page(_consent(scopes=[]))
    assert not page.all("ul")
    assert "no access" in " ".join(e.text for e in page.all("p"))
    assert len(page.all("button")) == 2


def test_scope_descriptions() -> None:
    assert describe_scope("email", "X") == ScopeDescription(
        "email", "See your e-mail address", "Your e-mail address and whether it is verified."
    )
    assert describe_scope("openid", "Acme").detail == "Sign you in with your Acme account."
    assert describe_scope("Email", "X") == ScopeDescription("Email")  # scopes are case-sensitive


# -- the error and logout pages --------------------------------------------------------------


def test_the_error_page_has_no_form_and_the_given_status() -> None:
    response = PAGES.error(title="Unknown client", message="The application is not registered.")
    assert response.status_code == 400
    page = _page(response)
    assert page.words("h1") == "Unknown client"
    assert page.words("title") == "Unknown client - Acme Login"
    assert page.words("main") == "Unknown client The application is not registered."
    assert not page.all("form")
    assert not page.all("input")
    assert PAGES.error(title="t", message="m", status=503).status_code == 503


@pytest.mark.parametrize("status", [200, 302, 399, 600])
def test_an_error_page_is_an_error(status: int) -> None:
    with pytest.raises(ValueError, match="4xx or 5xx"):
        PAGES.error(title="t", message="m", status=status)


def test_the_logout_confirmation() -> None:
    page = _page(_logout(hidden={"post_logout_redirect_uri": "https://app.example.com/bye"}))
    assert page.words("h1") == "Log out of Acme Login?"
    assert page.one("form").attrs == {"method": "post", "action": "/logout"}
    assert page.hidden_fields() == [
        ("csrf_token", "csrf-123"),
        ("post_logout_redirect_uri", "https://app.example.com/bye"),
    ]
    button = page.one("button")
    assert button.attrs == {
        "type": "submit",
        "name": "decision",
        "value": "logout",
        "autofocus": None,
    }
    assert button.text == "Log out"
    assert "Example App asks" in " ".join(page.one("main").text.split())
    anonymous = _page(_logout(client_name=None))
    assert "asks" not in anonymous.one("main").text
    assert len(anonymous.all("button")) == 1


def test_the_logged_out_page() -> None:
    page = _page(PAGES.logged_out())
    assert page.words("h1") == "You are logged out"
    assert not page.all("form")


# -- escaping --------------------------------------------------------------------------------


def test_hostile_values_are_escaped_everywhere() -> None:
    hostile = Pages(HOSTILE)
    responses = [
        _login(
            hostile,
            client_name=HOSTILE,
            username=f'"{HOSTILE}',
            error=HOSTILE,
            hidden={"x": f'"><{HOSTILE}', "y'": "'"},
            csrf_token=f'"{HOSTILE}',
        ),
        _consent(hostile, client_name=HOSTILE, username=HOSTILE, scopes=[HOSTILE, "openid"]),
        hostile.error(title=HOSTILE, message=HOSTILE),
        _logout(hostile, client_name=HOSTILE, hidden={"state": HOSTILE}),
        hostile.logged_out(),
    ]
    for response in responses:
        html = bytes(response.body).decode()
        assert "<script" not in html.lower()
        assert "&lt;script&gt;" in html
        page = Document(html)  # the structure survives: every tag closes what it opened
        assert not page.all("script")
        assert page.words("header") == HOSTILE
    login = _page(responses[0])
    assert login.one("input", name="username").attrs["value"] == f'"{HOSTILE}'
    assert login.hidden_fields() == [
        ("csrf_token", f'"{HOSTILE}'),
        ("x", f'"><{HOSTILE}'),
        ("y'", "'"),
    ]
    assert login.one("p", role="alert").text == HOSTILE


def test_markup_in_values_is_text_not_markup() -> None:
    page = _page(PAGES.error(title="<b>bold</b>", message="&amp; <i>x</i>"))
    assert not page.all("b")
    assert not page.all("i")
    assert page.words("p") == "&amp; <i>x</i>"


# -- what the forms refuse -------------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    ["", "authorize", "//evil.example/x", "https://evil.example/", "/\\evil", "javascript:x"],
)
def test_a_form_posts_to_a_path_of_the_service(action: str) -> None:
    for render in (_login, _consent, _logout):
        with pytest.raises(ValueError, match="form action"):
            render(action=action)


@pytest.mark.parametrize("name", ["", "csrf_token", "username", "password", "decision"])
def test_hidden_fields_may_not_take_the_pages_own_names(name: str) -> None:
    for render in (_login, _consent, _logout):
        with pytest.raises(ValueError, match="hidden field"):
            render(hidden={name: "x"})


def test_a_form_needs_its_csrf_token() -> None:
    for render in (_login, _consent, _logout):
        with pytest.raises(ValueError, match="CSRF"):
            render(csrf_token="")


# -- Content-Security-Policy and form targets ------------------------------------------------


def test_the_content_security_policy() -> None:
    assert content_security_policy() == BASE_POLICY
    assert content_security_policy(
        [
            "https://App.Example.com",
            "http://127.0.0.1:8080",
            "com.example.app:",
            "https://app.example.com",
        ]
    ) == (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' "
        "https://app.example.com http://127.0.0.1:8080 com.example.app:; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    policy = content_security_policy(["https://app.example.com"])
    assert "unsafe" not in policy
    assert "script-src" not in policy


@pytest.mark.parametrize(
    "target",
    [
        "https://localhost",
        "http://localhost:1",
        "https://a-b.example.co.uk:65535",
        "http://127.0.0.1:59999",
        "HTTPS://APP.EXAMPLE.COM",
        "com.example.app:",
        "com.example.my-app+x:",
    ],
)
def test_form_targets_that_are_accepted(target: str) -> None:
    assert content_security_policy([target]).count(target.lower()) == 1


@pytest.mark.parametrize(
    "target",
    [
        "",
        "*",
        "'self'",
        "'unsafe-inline'",
        "https:",
        "http:",
        "data:",
        "javascript:",
        "blob:",
        "https://*.example.com",
        "https://app.example.com/",
        "https://app.example.com/callback",
        "https://app.example.com:0",
        "https://app.example.com:65536",
        "https://app.example.com:",
        "https://app.example.com?x",
        "https://user@app.example.com",
        "https://[::1]",
        "http://[::1]:8080",
        "ftp://app.example.com",
        "https://-app.example.com",
        "https://app.example.com.",
        "https://app..example.com",
        "https://app.example.com; script-src *",
        "https://app.example.com 'unsafe-inline'",
        "https://app.example.com,https://evil.example",
        'https://app.example.com"',
        "https://app.example.com'",
        "https://app.example.com\n",
        "https://app.example.com\t",
        "https://app.exämple.com",
        "https://\u212aevil.example",  # KELVIN SIGN: a letter k only to Unicode case folding
        "com.example.\u017fapp:",  # LATIN SMALL LETTER LONG S, likewise an s
        "com.example.app",
        "com.example.app:/callback",
        "com.example app:",
        "com.example.app;:",
        ".example.app:",
        "1com.example.app:",
    ],
)
def test_form_targets_that_are_refused(target: str) -> None:
    with pytest.raises(ValueError, match="form target"):
        content_security_policy([target])
    # One bad target spoils the list.
    with pytest.raises(ValueError, match="form target"):
        content_security_policy(["https://app.example.com", target])


def test_pages_take_form_targets() -> None:
    targets = ["https://app.example.com", "com.example.app:"]
    expected = content_security_policy(targets)
    for response in (
        _login(form_targets=targets),
        _consent(form_targets=targets),
        _logout(form_targets=targets),
    ):
        assert response.headers["content-security-policy"] == expected
    with pytest.raises(ValueError, match="form target"):
        _consent(form_targets=["https:"])


@pytest.mark.parametrize(
    ("redirect_uri", "target"),
    [
        ("https://app.example.com/callback?x=1", "https://app.example.com"),
        ("https://App.Example.COM:8443/cb", "https://app.example.com:8443"),
        ("HTTPS://app.example.com", "https://app.example.com"),
        ("http://127.0.0.1:53124/cb", "http://127.0.0.1:53124"),
        ("http://localhost/cb", "http://localhost"),
        ("http://localhost:/cb", "http://localhost"),
        ("com.example.app:/oauth2redirect", "com.example.app:"),
        ("Com.Example.App:/cb", "com.example.app:"),
    ],
)
def test_form_target_of_a_redirect_uri(redirect_uri: str, target: str) -> None:
    assert form_target(redirect_uri) == target
    assert content_security_policy([form_target(redirect_uri)]).count(target) == 1


@pytest.mark.parametrize(
    ("redirect_uri", "message"),
    [
        ("http://[::1]:8080/cb", "IPv6"),
        ("https://user@app.example.com/cb", "userinfo"),
        ("https://app.example.com:99999/cb", "host and port"),
        ("https://app.example.com:x/cb", "host and port"),
        ("http://[::1/cb", "host and port"),
        ("https:///cb", "form target"),
        ("/callback", "form target"),
        ("myapp:/cb", "form target"),
        ("javascript:alert(1)", "form target"),
        ("data:text/html,x", "form target"),
        ("https://app.example.com;x/cb", "form target"),
        ("https://app%2eexample.com/cb", "form target"),
        ("https://app.exa\nmple.com/cb", "not a URI"),
        ("https://app.example.com\t/cb", "not a URI"),
        ("https://app.example.com/a b", "not a URI"),
        ("", "not a URI"),
        ("https://app.exämple.com/cb", "not a URI"),
    ],
)
def test_form_target_refuses_what_a_source_cannot_name(redirect_uri: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        form_target(redirect_uri)


# -- the stylesheet --------------------------------------------------------------------------


def _stylesheet_app() -> httpx.AsyncClient:
    app = FastAPI()
    add_static(app)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def _linked_url() -> str:
    return _page(PAGES.logged_out()).one("link").attrs["href"] or ""


@pytest.mark.anyio
async def test_the_stylesheet_under_its_content_hashed_url() -> None:
    url = _linked_url()
    async with _stylesheet_app() as http:
        response = await http.get(url)
    assert response.status_code == 200
    assert response.content == STYLESHEET
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    digest = url.rpartition("=")[2]
    assert response.headers["etag"] == f'"{digest}"'


@pytest.mark.anyio
@pytest.mark.parametrize("query", ["", "?v=0123456789abcdef", "?v="])
async def test_the_stylesheet_under_another_url_is_revalidated(query: str) -> None:
    async with _stylesheet_app() as http:
        response = await http.get(STYLESHEET_PATH + query)
    assert response.status_code == 200
    assert response.content == STYLESHEET
    assert response.headers["cache-control"] == "public, no-cache"
    assert response.headers["etag"] == '"' + _linked_url().rpartition("=")[2] + '"'


@pytest.mark.anyio
async def test_the_stylesheet_answers_304_to_its_etag() -> None:
    url = _linked_url()
    digest = url.rpartition("=")[2]
    async with _stylesheet_app() as http:
        for if_none_match in (f'"{digest}"', f'W/"{digest}"', f'"other", "{digest}"', "*"):
            response = await http.get(url, headers={"If-None-Match": if_none_match})
            assert response.status_code == 304, if_none_match
            assert response.content == b""
            assert response.headers["etag"] == f'"{digest}"'
            assert response.headers["cache-control"].endswith("immutable")
        for other in ('"other"', digest, ""):
            response = await http.get(url, headers={"If-None-Match": other})
            assert response.status_code == 200, other


@pytest.mark.anyio
async def test_the_stylesheet_route_is_not_in_the_api_description() -> None:
    async with _stylesheet_app() as http:
        schema = (await http.get("/openapi.json")).json()
    assert STYLESHEET_PATH not in schema["paths"]


def test_the_stylesheet_is_plain_css_for_phones() -> None:
    css = STYLESHEET.decode()
    assert "@import" not in css
    assert "url(" not in css
    assert not re.search(r"https?:", css.replace("src/jwtkit", ""))
    assert ":focus-visible" in css
    assert "max-width" in css
    assert "prefers-color-scheme" in css
    assert "min-height: 2.75rem" in css  # 44 px tap targets


@pytest.mark.anyio
async def test_the_favicon_is_no_content_so_browsers_log_no_error() -> None:
    app = FastAPI()
    add_static(app)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        answer = await http.get("/favicon.ico")
    assert answer.status_code == 204
    assert answer.content == b""
    assert answer.headers["cache-control"] == "public, max-age=86400"
