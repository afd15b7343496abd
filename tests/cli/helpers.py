"""Running the ``jwtkit`` command in-process, and building tokens for the tests."""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from jwtkit import _console

#: The frozen "now" of the tests (2023-11-14T22:13:20Z).
NOW = 1_700_000_000
#: A random-looking HMAC secret that the core accepts for HS256 (32 bytes).
SECRET = "k8Jz3QmX9pLw2VbN7rTc5HsY1dGf4eAu"


@dataclass(frozen=True)
class Result:
    """What one run of ``jwtkit`` did."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_bytes(
    *args: str,
    stdin: str | bytes | None = None,
    env: Mapping[str, str | None] | None = None,
    tty_stdin: bool = False,
    tty_stdout: bool = False,
) -> tuple[int, bytes, bytes]:
    """Run ``jwtkit ARGS`` through the console script's ``main`` with isolated streams; return
    the exit status and what it wrote to stdout and stderr, as bytes."""
    runner = CliRunner()
    with runner.isolation(input=stdin, env=env, color=tty_stdout) as (out, err, _):
        if tty_stdin:
            sys.stdin.isatty = lambda: True  # type: ignore[method-assign]
        if tty_stdout:
            sys.stdout.isatty = lambda: True  # type: ignore[method-assign]
        code = _console.main(list(args))
        sys.stdout.flush()
        sys.stderr.flush()
        # Read inside the block: click < 8.4 closes the streams when it ends.
        return code, out.getvalue(), err.getvalue()


def run(
    *args: str,
    stdin: str | bytes | None = None,
    env: Mapping[str, str | None] | None = None,
    tty_stdin: bool = False,
    tty_stdout: bool = False,
) -> Result:
    """Run ``jwtkit ARGS`` in-process (:func:`run_bytes`), with its output as text."""
    code, out, err = run_bytes(
        *args, stdin=stdin, env=env, tty_stdin=tty_stdin, tty_stdout=tty_stdout
    )
    return Result(code, out.decode(), err.decode())


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def raw_token(
    header: Mapping[str, Any], claims: Mapping[str, Any], signature: bytes = b"sig"
) -> str:
    """A compact token with any header and claims and a fake signature (not verifiable)."""
    parts = (json.dumps(header).encode(), json.dumps(claims).encode(), signature)
    return ".".join(b64(part) for part in parts)


def write(path: Path, content: str | bytes) -> str:
    """Write ``content`` to ``path``; return the path as a string."""
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return str(path)


def one_line_error(result: Result, code: int) -> str:
    """Assert a failure with exactly one ``jwtkit: error:`` line and no traceback; return it."""
    assert result.code == code, result
    errors = [line for line in result.err.splitlines() if not line.startswith("jwtkit: warning:")]
    assert len(errors) == 1, result.err
    assert errors[0].startswith("jwtkit: error: "), result.err
    assert "Traceback" not in result.err
    return errors[0].removeprefix("jwtkit: error: ")
