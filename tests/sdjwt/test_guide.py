"""The examples of ``docs/sd-jwt.md`` run as written: its Python blocks in order (and what they
print matches the text blocks after them), its shell session in a temporary folder."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "sd-jwt.md"
_BLOCK = re.compile(r"^```(python|text|shell)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _blocks() -> list[tuple[int, str, str]]:
    text = GUIDE.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, match.start()) + 1, match.group(1), match.group(2))
        for match in _BLOCK.finditer(text)
    ]


def test_every_python_example_of_the_guide_runs_in_order() -> None:
    namespace: dict[str, Any] = {"__name__": "sd_jwt_guide"}
    printed = ""
    checked = 0
    for line, kind, code in _blocks():
        if kind == "text":
            expected = re.escape(code).replace(r"\[\.\.\.\]", r"\[.*?\]")
            assert re.fullmatch(expected, printed), f"docs/sd-jwt.md:{line}: {printed!r}"
            checked += 1
        elif kind == "python":
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(code, f"docs/sd-jwt.md:{line}", "exec"), namespace)  # noqa: S102
            printed = out.getvalue()
    assert checked == 2
    assert namespace["verified"].claims["email"] == "erika@example.com"


def test_the_shell_session_of_the_guide_runs(tmp_path: Path) -> None:
    sessions = [code for _, kind, code in _blocks() if kind == "shell"]
    assert len(sessions) == 1
    commands = [line[2:] for line in sessions[0].splitlines() if line.startswith("$ ")]
    assert len(commands) == 7
    env = {k: v for k, v in os.environ.items() if k not in {"JWT_SECRET", "NO_COLOR"}}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(  # noqa: S603 - the guide's own commands
        ["bash", "-e", "-c", "\n".join(commands)],  # noqa: S607
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (
        'valid SD-JWT: 1 Disclosures, key binding for "https://verifier.example"' in result.stdout
    )
    assert '"email": "erika@example.com"' in result.stdout
    assert '/birthdate  "1963-08-12"' in result.stdout
