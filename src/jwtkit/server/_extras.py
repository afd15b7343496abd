"""Optional dependencies of the token service: :class:`jwtkit._extras.MissingExtra` and
:func:`~jwtkit._extras.require`, re-exported for the service's modules.

``require("argon2", "server")`` imports a module of an extra or raises
:class:`MissingExtra`, whose message is exactly the line that installs it:
``jwtkit serve needs the 'server' extra: pip install 'jwtkit[server]'``.
"""

from __future__ import annotations

from .._extras import MissingExtra, require

__all__ = ["MissingExtra", "require"]
