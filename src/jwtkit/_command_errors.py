"""How a ``jwtkit`` command fails, shared by the token commands and the service's commands.

:class:`CommandFailed` (exit status 1) is for work that could not be done: an invalid token, a
JWKS that cannot be fetched, a file or user that already exists, a store error.
:class:`UsageProblem` (exit status 2) is for what the user passed that is wrong: bad options or
settings, an unreadable file, a bad key, a missing extra. Both print one line on stderr,
``jwtkit: error: ...``; the composition root (:mod:`jwtkit._console`) turns them into the exit
status and never shows a traceback (POSIX utility conventions: 1 failure, 2 usage).

It lives below both :mod:`jwtkit.cli` and :mod:`jwtkit.server.cli` so that neither imports
the other (``docs/architecture.md``); it needs click (the ``cli`` extra).
"""

from __future__ import annotations

from typing import Any

import click

__all__ = ["CommandFailed", "UsageProblem", "warn"]


class CommandFailed(click.ClickException):
    """The command could not do its work, or the token is not valid (exit status 1)."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"jwtkit: error: {self.format_message()}", err=True)


class UsageProblem(CommandFailed):
    """Something the user passed (options, settings, files; not the token) is wrong
    (exit status 2)."""

    exit_code = 2


def warn(message: str) -> None:
    """One warning line on stderr: ``jwtkit: warning: ...``."""
    click.echo(f"jwtkit: warning: {message}", err=True)
