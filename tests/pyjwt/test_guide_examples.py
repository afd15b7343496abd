"""The examples of ``docs/migrating-from-pyjwt.md`` run as written, in order."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "migrating-from-pyjwt.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def test_every_python_example_runs_in_order() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    examples = [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in _BLOCK.finditer(text)]
    assert len(examples) >= 7
    namespace: dict[str, Any] = {"__name__": "migration_guide"}
    for line, code in examples:
        try:
            exec(compile(code, f"docs/migrating-from-pyjwt.md:{line}", "exec"), namespace)  # noqa: S102
        except Exception as exc:  # name the example that broke
            raise AssertionError(f"the example at line {line} fails: {exc!r}") from exc
    assert callable(namespace["verify"])


def test_the_drop_in_line_is_the_one_shown() -> None:
    assert "+import jwtkit.pyjwt as jwt" in GUIDE.read_text(encoding="utf-8")
