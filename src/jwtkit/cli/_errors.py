"""The two ways a ``jwtkit`` token command fails: :class:`CommandFailed` (exit status 1) and
:class:`UsageProblem` (exit status 2), and :func:`warn`.

Defined once in :mod:`jwtkit._command_errors`, which the token service's commands use too.
"""

from __future__ import annotations

from .._command_errors import CommandFailed, UsageProblem, warn

__all__ = ["CommandFailed", "UsageProblem", "warn"]
