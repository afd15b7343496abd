"""The token page's routes (``server/http/home.py``) and its data package (``jwtkit._page``):
``GET /`` with its exact security headers, ``GET /page/{name}`` serving only the page's files
with their media types and the stylesheet's caching, the page's markup (labels, buttons, the
flow's markers, nothing inline or from elsewhere), and the one glossary the CLI reads too."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import httpx
import pytest
from conftest import Harness
from fastapi import FastAPI
from test_pages import Document

import jwtkit._page as page_package
from jwtkit._page import PAGE_FILES, PAGE_POLICY, glossary, page_file
from jwtkit.cli import _glossary
from jwtkit.server.http.home import PAGE_PATH, add_home

PAGE_DIR = Path(__file__).resolve().parents[2] / "src" / "jwtkit" / "_page"
#: The policy of ``/``, spelled out: scripts, styles, images and fetches of this origin only.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
ASSETS = sorted(name for name in PAGE_FILES if name != "index.html")


def _client() -> httpx.AsyncClient:
    app = FastAPI()
    add_home(app)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def _index() -> Document:
    return Document((PAGE_DIR / "index.html").read_text(encoding="utf-8"))


# -- GET / -------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_page_is_served_at_the_root_with_a_strict_policy() -> None:
    async with _client() as http:
        response = await http.get("/", params={"code": "abc", "state": "xyz"})
    assert response.status_code == 200
    assert response.content == (PAGE_DIR / "index.html").read_bytes()
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert PAGE_POLICY == POLICY
    assert response.headers["content-security-policy"] == POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


@pytest.mark.anyio
async def test_the_service_serves_the_page(harness: Harness) -> None:
    page = await harness.http.get("/")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == POLICY
    script = await harness.http.get("/page/jose.js")
    assert script.status_code == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    schema = (await harness.http.get("/openapi.json")).json()
    assert "/" not in schema["paths"]
    assert not any(path.startswith(PAGE_PATH) for path in schema["paths"])


# -- GET /page/{name} --------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("name", ASSETS)
async def test_each_file_of_the_page_with_its_media_type(name: str) -> None:
    content = (PAGE_DIR / name).read_bytes()
    digest = hashlib.sha256(content).hexdigest()[:16]
    async with _client() as http:
        plain = await http.get(f"/page/{name}")
        hashed = await http.get(f"/page/{name}", params={"v": digest})
        again = await http.get(f"/page/{name}", headers={"If-None-Match": f'W/"{digest}"'})
    assert plain.status_code == 200
    assert plain.content == content
    assert plain.headers["content-type"] == PAGE_FILES[name]
    assert plain.headers["x-content-type-options"] == "nosniff"
    assert plain.headers["etag"] == f'"{digest}"'
    assert plain.headers["cache-control"] == "public, no-cache"
    assert hashed.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["x-content-type-options"] == "nosniff"


def test_the_media_types() -> None:
    assert PAGE_FILES["page.css"] == "text/css; charset=utf-8"
    assert PAGE_FILES["glossary.json"] == "application/json"
    for name in ("jose.js", "inspector.js", "flow.js"):
        assert PAGE_FILES[name] == "text/javascript; charset=utf-8"
    # Every file of the package's folder is named, and nothing else is there.
    on_disk = {path.name for path in PAGE_DIR.iterdir() if path.suffix != ".py"}
    on_disk.discard("__pycache__")
    assert on_disk == set(PAGE_FILES)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "path",
    [
        "/page/index.html",  # the page itself only at /, with its policy
        "/page/__init__.py",
        "/page/unknown.js",
        "/page/..%2F__init__.py",
        "/page/%2e%2e%2fhome.py",
        "/page/",
        "/page/PAGE.CSS",
    ],
)
async def test_nothing_else_is_served(path: str) -> None:
    async with _client() as http:
        response = await http.get(path)
    assert response.status_code == 404, path


@pytest.mark.anyio
async def test_a_listed_file_this_installation_lacks_is_404(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(page_package, "PAGE_FILES", {**PAGE_FILES, "missing.js": "text/plain"})
    with pytest.raises(KeyError):
        page_file("missing.js")
    async with _client() as http:
        assert (await http.get("/page/missing.js")).status_code == 404


def test_page_file_refuses_other_names() -> None:
    for name in ("__init__.py", "../pages.py", "", "index.html/"):
        with pytest.raises(KeyError):
            page_file(name)
    assert page_file("index.html") == (PAGE_DIR / "index.html").read_bytes()


# -- the markup --------------------------------------------------------------------------------


def test_the_page_loads_only_its_own_files_and_nothing_inline() -> None:
    document = _index()
    assert (document.doctype or "").lower() == "doctype html"
    assert document.one("html").attrs["lang"] == "en"
    scripts = document.all("script")
    assert [s.attrs for s in scripts] == [
        {"type": "module", "src": "/page/inspector.js"},
        {"type": "module", "src": "/page/flow.js"},
    ]
    assert all(not s.text.strip() for s in scripts)
    (link,) = document.all("link")
    assert link.attrs == {"rel": "stylesheet", "href": "/page/page.css"}
    assert document.all("style") == []
    for element in document.elements:
        assert "style" not in element.attrs, element
        assert not any(name.startswith("on") for name in element.attrs), element
    html = (PAGE_DIR / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"https?://", html)


def test_the_page_has_the_flow_markers_around_the_flow_section() -> None:
    html = (PAGE_DIR / "index.html").read_text(encoding="utf-8")
    between = html.split("<!-- flow:begin -->\n", 1)[1].split("<!-- flow:end -->", 1)[0]
    assert between.startswith('<section id="flow" aria-labelledby="flow-title" hidden>\n')
    assert between.endswith("</section>\n")
    assert between.count("<section") == between.count("</section>") == 1
    assert '<h1 id="flow-title">' in between
    assert html.count("<!-- flow:begin -->") == html.count("<!-- flow:end -->") == 1


def test_every_control_is_labelled_and_every_button_is_a_button() -> None:
    document = _index()
    labels = {element.attrs.get("for") for element in document.all("label")}
    for tag in ("textarea", "input"):
        for control in document.all(tag):
            assert control.attrs["id"] in labels, control
    for button in document.all("button"):
        assert button.attrs["type"] in {"submit", "button"}, button
        assert button.text.strip(), button
    assert document.one("p", id="token-status").attrs["aria-live"] == "polite"
    for live in ("verdict", "audit-result"):
        assert document.one("div", id=live).attrs["aria-live"] == "polite"
    assert "header" in [element.tag for element in document.elements]
    words = " ".join(document.one("footer").text.split())
    assert "stay in this browser" in words
    assert document.words("a", id="inspect-tab") == "Inspect a token"
    assert document.words("a", id="flow-tab") == "The flow"


def test_the_stylesheet_has_both_schemes_and_every_part_colour() -> None:
    css = (PAGE_DIR / "page.css").read_text(encoding="utf-8")
    assert "prefers-color-scheme: dark" in css
    assert ":focus-visible" in css
    assert "url(" not in css
    assert "@import" not in css
    for part in (
        "header",
        "payload",
        "signature",
        "encrypted-key",
        "iv",
        "ciphertext",
        "tag",
    ):
        assert f".part-{part} {{" in css, part
        assert css.count(f"--part-{part}:") == 2, part  # light and dark


def test_the_scripts_use_no_eval_and_no_other_origin() -> None:
    for name in ("jose.js", "inspector.js"):
        script = (PAGE_DIR / name).read_text(encoding="utf-8")
        assert "eval(" not in script
        assert "new Function" not in script
        assert "innerHTML" not in script
        assert not re.search(r"https?://", script), name
    jose = (PAGE_DIR / "jose.js").read_text(encoding="utf-8")
    for export in ("splitToken", "decodeSegment", "renderToken"):
        assert re.search(rf"export (async )?function {export}\(", jose), export


# -- the glossary ------------------------------------------------------------------------------


def test_the_glossary_is_one_json_file_for_the_page_and_the_cli() -> None:
    data = json.loads((PAGE_DIR / "glossary.json").read_text(encoding="utf-8"))
    assert dict(glossary()) == data
    assert set(data) == {"header", "claims", "time_claims"}
    for section in ("header", "claims"):
        for name, entry in data[section].items():
            assert set(entry) == {"word", "about"}, name
            assert entry["word"].strip(), name
            assert entry["about"].endswith("."), name
    assert set(data["time_claims"]) <= set(data["claims"])
    assert dict(_glossary.HEADER) == {k: v["word"] for k, v in data["header"].items()}
    assert dict(_glossary.CLAIMS) == {k: v["word"] for k, v in data["claims"].items()}
    assert tuple(data["time_claims"]) == _glossary.TIME_CLAIMS


def test_the_cli_words_are_those_it_always_had() -> None:
    """The CLI's output is unchanged by the move: a sample of the words it printed."""
    assert _glossary.HEADER["alg"] == "algorithm"
    assert _glossary.HEADER["x5t#S256"] == "certificate SHA-256 thumbprint"
    assert _glossary.CLAIMS["exp"] == "expires"
    assert _glossary.CLAIMS["updated_at"] == "profile updated"
    assert _glossary.TIME_CLAIMS == ("exp", "nbf", "iat", "auth_time", "updated_at")
    assert len(_glossary.HEADER) == 21
    assert len(_glossary.CLAIMS) == 33
    assert list(_glossary.HEADER)[:4] == ["alg", "typ", "cty", "kid"]
