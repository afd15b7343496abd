"""The optional dependencies of :mod:`jwtkit.remote` (httpx, and anyio which httpx requires).

This is the one place that imports them. Without them, importing :mod:`jwtkit.remote` raises
:class:`~jwtkit._extras.MissingExtra` (an :class:`ImportError`) whose message is exactly the
line that installs them: ``jwtkit.remote needs the 'remote' extra: pip install 'jwtkit[remote]'``.
"""

from __future__ import annotations

from .._extras import MissingExtra, install_line

__all__ = ["INSTALL_LINE", "MissingExtra", "anyio", "httpx"]

#: The message of :class:`MissingExtra` for this package.
INSTALL_LINE = install_line("remote")

try:
    import anyio
    import httpx
except ImportError as exc:  # pragma: no cover - tested in a subprocess (tests/remote/test_http.py)
    raise MissingExtra(exc.name or "httpx", "remote") from exc
