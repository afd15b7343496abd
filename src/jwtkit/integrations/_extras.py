"""The error raised when a framework integration is imported without its extra.

The message is exactly the line that installs it, e.g.
``jwtkit.integrations.flask needs the 'flask' extra: pip install 'jwtkit[flask]'``.
"""

from __future__ import annotations

__all__ = ["MissingExtra"]


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message is the install line."""

    def __init__(self, extra: str) -> None:
        super().__init__(
            f"jwtkit.integrations.{extra} needs the '{extra}' extra: pip install 'jwtkit[{extra}]'"
        )
        self.extra = extra
