"""The examples of ``docs/dpop.md`` run as written, in order, and print what the guide says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "dpop.md"
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def python_blocks() -> list[tuple[int, str]]:
    """(line number, code) of every fenced ``python`` block, in order."""
    text = GUIDE.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, match.start()) + 1, match.group(2))
        for match in _BLOCK.finditer(text)
        if match.group(1) == "python"
    ]


def expected_output(code: str) -> list[str]:
    """The ``# ...`` lines that follow a ``print(...)`` line: what the example prints."""
    expected: list[str] = []
    following_print = False
    for line in code.splitlines():
        stripped = line.strip()
        if following_print and line.startswith("# "):
            expected.append(line[2:])
            continue
        following_print = "print(" in stripped
    return expected


def test_the_output_reader_reads_comments_after_prints() -> None:
    code = "x = 1\n# not output\nprint(x)\n# 1\n# 2\ny = 2\n# not output either\n"
    assert expected_output(code) == ["1", "2"]


def test_every_python_example_runs_in_order_and_prints_what_it_says() -> None:
    examples = python_blocks()
    assert len(examples) >= 6
    namespace: dict[str, Any] = {"__name__": "dpop_guide"}
    for line, code in examples:
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                exec(compile(code, f"docs/dpop.md:{line}", "exec"), namespace)  # noqa: S102
        except Exception as exc:  # name the example that broke
            raise AssertionError(f"the example at docs/dpop.md:{line} fails: {exc!r}") from exc
        assert printed.getvalue().splitlines() == expected_output(code), f"docs/dpop.md:{line}"
