"""Optional dependencies: the one error for a missing extra, and importing on demand.

jwtkit's core needs only ``cryptography``; the token service (``server``), its PostgreSQL
store (``postgresql``) and its Redis (``redis``), the command line (``cli``), the JWKS clients
(``remote``) and each framework integration (``starlette``, ``fastapi``, ``flask``) need an
extra (PEP 508 extras, PEP 621 ``optional-dependencies``). Without it, importing them raises
:class:`MissingExtra`, an :class:`ImportError` whose message is exactly the line that installs
it, in one format everywhere::

    <what> needs the '<extra>' extra: pip install 'jwtkit[<extra>]'

Standard library only, below every layer that has an extra (``docs/architecture.md``).
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["MissingExtra", "install_line", "require"]

#: What needs each extra: the start of the message.
_WHAT = {
    "server": "jwtkit serve",
    "redis": "the redis setting of jwtkit serve",
    "cli": "jwtkit",
    "remote": "jwtkit.remote",
    "starlette": "jwtkit.integrations.starlette",
    "fastapi": "jwtkit.integrations.fastapi",
    "flask": "jwtkit.integrations.flask",
    "postgresql": "a postgresql:// database",
}


def install_line(extra: str, what: str | None = None) -> str:
    """``<what> needs the '<extra>' extra: pip install 'jwtkit[<extra>]'``; ``what`` defaults
    to what the extra is for."""
    if what is None:
        what = _WHAT.get(extra, "this feature of jwtkit")
    return f"{what} needs the '{extra}' extra: pip install 'jwtkit[{extra}]'"


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message is the install line.

    ``module`` is the module that could not be imported (also ``ImportError.name``), ``extra``
    the extra that installs it, ``what`` the part of jwtkit that needs it (by default, what
    the extra is for).
    """

    def __init__(self, module: str, extra: str, what: str | None = None) -> None:
        if what is None and extra not in _WHAT:
            what = f"this feature of jwtkit ({module})"
        super().__init__(install_line(extra, what), name=module)
        self.module = module
        self.extra = extra


def require(module: str, extra: str, what: str | None = None) -> ModuleType:
    """Import ``module`` (a dependency of the ``extra``) or raise :class:`MissingExtra`."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(module, extra, what) from exc
