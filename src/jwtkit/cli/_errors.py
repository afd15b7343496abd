"""The two ways a ``jwtkit`` token command fails, as click exceptions.

:class:`CommandFailed` (exit status 1) is for a token that is invalid, malformed or fails an
audit threshold, and for work that could not be done (a JWKS that cannot be fetched, a file that
already exists). :class:`UsageProblem` (exit status 2) is for everything wrong with what the user
passed besides the token: an unreadable file, a bad key, bad JSON, a bad duration. Both print one
line on stderr, ``jwtkit: error: ...``; the composition root (:mod:`jwtkit._console`) turns them
into the exit status and never shows a traceback.
"""

from __future__ import annotations

from typing import Any

import click

__all__ = ["CommandFailed", "UsageProblem", "warn"]


class CommandFailed(click.ClickException):
    """The token is not valid, or the command could not do its work (exit status 1)."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"jwtkit: error: {self.format_message()}", err=True)


class UsageProblem(CommandFailed):
    """Something the user passed (other than the token) is wrong (exit status 2)."""

    exit_code = 2


def warn(message: str) -> None:
    """One warning line on stderr: ``jwtkit: warning: ...``."""
    click.echo(f"jwtkit: warning: {message}", err=True)
