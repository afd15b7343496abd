"""The token page at ``/``: :func:`add_home` serves ``jwtkit._page``'s files.

* ``GET /``: ``index.html``, the page that decodes and verifies tokens in the browser (and, on
  the service, walks through a sign-in). Its ``Content-Security-Policy``
  (:data:`HOME_POLICY`) allows scripts, styles and images of this origin only (no inline
  script or style, no ``eval``), ``fetch`` to this origin only (discovery, the JWKS,
  ``/audit``), forms posted here, never framed, no ``<base>``. ``Cache-Control: no-store``
  (the page is reached with ``?code=...&state=...`` after a sign-in) and
  ``Referrer-Policy: no-referrer`` (that query is not sent on); ``X-Frame-Options: DENY``.
* ``GET /page/{name}``: the stylesheet, the scripts and ``glossary.json``, each with its media
  type, cached as the provider's stylesheet is (:func:`.pages.asset_response`: ``?v=`` the
  content hash is ``immutable`` for a year, anything else ``no-cache`` with an ``ETag``). Any
  other name is 404: the names are :data:`jwtkit._page.PAGE_FILES`, never a path.

Both answers carry ``X-Content-Type-Options: nosniff`` themselves, so that an app without the
service's middleware (``jwtkit inspect``'s local server) sends it too.
"""

from __future__ import annotations

import functools

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..._page import PAGE_FILES, page_file
from .pages import Asset, asset_response

__all__ = ["HOME_POLICY", "PAGE_PATH", "add_home"]

#: Where the page's files are served (``/page/page.css``, ...).
PAGE_PATH = "/page"
#: The ``Content-Security-Policy`` of ``GET /`` (CSP3 §6).
HOME_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
#: The page itself: served at ``/``, not below :data:`PAGE_PATH`.
_INDEX = "index.html"
_NOSNIFF = {"X-Content-Type-Options": "nosniff"}


@functools.cache
def _asset(name: str) -> Asset | None:
    """The page's file ``name``, or ``None`` when there is none of that name."""
    try:
        return Asset(page_file(name), PAGE_FILES[name])
    except KeyError:
        return None


def add_home(app: FastAPI) -> None:
    """``GET /`` and ``GET /page/{name}`` on ``app`` (the module's docstring)."""

    @app.get("/", include_in_schema=False)
    async def home() -> Response:
        index = _asset(_INDEX)
        assert index is not None  # noqa: S101 - a file of the package
        return Response(
            index.content,
            media_type=index.media_type,
            headers={
                "Cache-Control": "no-store",
                "Pragma": "no-cache",
                "X-Frame-Options": "DENY",
                "Referrer-Policy": "no-referrer",
                "Content-Security-Policy": HOME_POLICY,
                **_NOSNIFF,
            },
        )

    @app.get(PAGE_PATH + "/{name}", include_in_schema=False)
    async def page_asset(name: str, request: Request) -> Response:
        asset = None if name == _INDEX else _asset(name)
        if asset is None:
            raise StarletteHTTPException(404, "Not Found")
        response = asset_response(request, asset)
        response.headers.update(_NOSNIFF)
        return response
