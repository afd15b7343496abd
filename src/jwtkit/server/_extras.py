"""Optional dependencies of the token service, imported on demand.

:func:`require` imports a module of an extra (``fastapi``, ``argon2``, ``tomli``...) or raises
:class:`MissingExtra`, whose message is exactly the line that installs it, e.g.
``jwtkit serve needs the 'server' extra: pip install 'jwtkit[server]'``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["MissingExtra", "require"]

#: What each extra is for, as the start of the message.
_PURPOSE = {
    "server": "jwtkit serve",
    "cli": "the jwtkit command",
    "remote": "jwtkit.remote",
}


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message is the install line."""

    def __init__(self, module: str, extra: str) -> None:
        purpose = _PURPOSE.get(extra, f"this feature of jwtkit ({module})")
        super().__init__(f"{purpose} needs the '{extra}' extra: pip install 'jwtkit[{extra}]'")
        self.module = module
        self.extra = extra


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` (a dependency of the ``extra``) or raise :class:`MissingExtra`."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(module, extra) from exc
