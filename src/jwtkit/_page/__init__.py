"""The token page's files: the HTML, stylesheet, scripts and glossary served at ``/`` of
``jwtkit serve`` (and by ``jwtkit inspect`` on loopback), read from this package's data.

:data:`PAGE_FILES` names every file a browser may ask for, with its media type;
:func:`page_file` reads one (:class:`KeyError` for any other name, so a request can never
reach another file of the package); :func:`glossary` is the parsed ``glossary.json``, the one
list of registered header parameters and claims the page and the CLI explain.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from types import MappingProxyType
from typing import Any

__all__ = ["PAGE_FILES", "glossary", "page_file"]

#: The files of the page and their media types (``charset`` for every text type).
PAGE_FILES = MappingProxyType(
    {
        "index.html": "text/html; charset=utf-8",
        "page.css": "text/css; charset=utf-8",
        "jose.js": "text/javascript; charset=utf-8",
        "inspector.js": "text/javascript; charset=utf-8",
        "flow.js": "text/javascript; charset=utf-8",
        "glossary.json": "application/json",
    }
)


def page_file(name: str) -> bytes:
    """The bytes of the page's file ``name``; :class:`KeyError` for a name not in
    :data:`PAGE_FILES` (or one this installation does not have)."""
    if name not in PAGE_FILES:
        raise KeyError(name)
    try:
        return resources.files(__name__).joinpath(name).read_bytes()
    except FileNotFoundError:
        raise KeyError(name) from None


@functools.cache
def glossary() -> MappingProxyType[str, Any]:
    """``glossary.json``: ``header`` and ``claims`` (each name to ``{"word", "about"}``) and
    ``time_claims`` (the claims whose value is a NumericDate)."""
    loaded: dict[str, Any] = json.loads(page_file("glossary.json"))
    return MappingProxyType(loaded)
