"""The optional dependencies of :mod:`jwtkit.remote` (httpx, and anyio which httpx requires).

This is the one place that imports them. Without them, importing :mod:`jwtkit.remote` raises
:class:`MissingExtra` (an :class:`ImportError`) whose message is exactly the line that
installs them: ``jwtkit.remote needs the 'remote' extra: pip install 'jwtkit[remote]'``.
"""

from __future__ import annotations

__all__ = ["INSTALL_LINE", "MissingExtra", "anyio", "httpx"]

#: The message of :class:`MissingExtra`.
INSTALL_LINE = "jwtkit.remote needs the 'remote' extra: pip install 'jwtkit[remote]'"


class MissingExtra(ImportError):
    """httpx is not installed; the message is the install line."""

    def __init__(self, module: str) -> None:
        super().__init__(INSTALL_LINE, name=module)


try:
    import anyio
    import httpx
except ImportError as exc:  # pragma: no cover - tested in a subprocess (tests/remote/test_http.py)
    raise MissingExtra(exc.name or "httpx") from exc
