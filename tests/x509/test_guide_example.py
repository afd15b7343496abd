"""The examples of the "Certificate chains (x5c)" section of ``docs/keys.md`` run as written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "keys.md"
_SECTION = re.compile(r"^## Certificate chains \(x5c\)\n(.*?)^## ", re.MULTILINE | re.DOTALL)
_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def test_the_certificate_chain_examples_run_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    text = GUIDE.read_text(encoding="utf-8")
    section = _SECTION.search(text)
    assert section is not None
    examples = _BLOCK.findall(section.group(1))
    assert len(examples) == 2
    namespace: dict[str, Any] = {"__name__": "keys_guide"}
    for code in examples:
        exec(compile(code, "docs/keys.md", "exec"), namespace)  # noqa: S102 - our own guide
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "untrusted_certificate name_mismatch",
        "'x5c'[0] is not issued for DNS name 'other.example'",
    ]
