"""The ``jwtkit`` console script: the one place that assembles every command.

This composition root is the only module that imports both :mod:`jwtkit.cli` (the token
commands) and :mod:`jwtkit.server.cli` (``serve`` and the admin commands), so neither layer
imports the other (docs/architecture.md). Each contributes through a ``register(group)``
function.

Exit status: 0 on success, 1 when a command fails, 2 for bad usage or a missing extra. Errors
are one message on stderr, never a traceback.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

from ._extras import install_line

__all__ = ["CLI_EXTRA_MESSAGE", "build", "main"]

#: What ``jwtkit`` prints when click is not installed.
CLI_EXTRA_MESSAGE = install_line("cli")

#: Modules that contribute commands with a ``register(group)`` function, in order.
_COMMAND_MODULES = ("jwtkit.cli", "jwtkit.server.cli")


def build() -> Any:
    """The ``jwtkit`` click group with every available command (needs click)."""
    import click  # noqa: PLC0415 - optional (extra 'cli')

    from . import __version__  # noqa: PLC0415

    @click.group(name="jwtkit", context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, prog_name="jwtkit")
    def jwtkit() -> None:
        """jwtkit: JSON Web Tokens, and a token service (`jwtkit serve`)."""

    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that layer does not exist (yet): no commands from it
                continue
            raise
        module.register(jwtkit)
    return jwtkit


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``jwtkit`` command with ``argv`` (default ``sys.argv[1:]``); return the exit
    status."""
    try:
        import click  # noqa: PLC0415 - optional (extra 'cli')
    except ImportError:
        print(CLI_EXTRA_MESSAGE, file=sys.stderr)
        return 2
    try:
        group = build()
        result = group.main(
            args=list(sys.argv[1:] if argv is None else argv),
            prog_name="jwtkit",
            standalone_mode=False,
        )
    except click.UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # a bare group
            print(exc.format_message(), file=sys.stderr)
            return 2
        # One line instead of click's usage block.
        where = exc.ctx.command_path if exc.ctx is not None else "jwtkit"
        print(f"jwtkit: error: {exc.format_message()} (see '{where} --help')", file=sys.stderr)
        return 2
    except click.ClickException as exc:
        exc.show()
        return int(exc.exit_code)
    except click.Abort:
        print("jwtkit: aborted", file=sys.stderr)
        return 1
    except ImportError as exc:  # a missing extra (MissingExtra's message is the install line)
        print(f"jwtkit: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result if isinstance(result, int) else 0


if (
    __name__ == "__main__"
):  # pragma: no cover - python -m jwtkit._console (python -m jwtkit: __main__)
    raise SystemExit(main())
