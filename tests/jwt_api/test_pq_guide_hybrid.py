"""The examples of the ``## Hybrid tokens`` section of ``docs/pq.md`` run as written, in order."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from jwtkit._codec import b64url_decode
from jwtkit._keys import mldsa_support

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "pq.md"
SECTION = "## Hybrid tokens"
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def section_blocks(language: str) -> list[tuple[int, str]]:
    """(line number, code) of every fenced block in ``language`` of the hybrid-tokens section."""
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index(f"\n{SECTION}\n")
    following = text.find("\n## ", start + len(SECTION) + 2)
    end = len(text) if following == -1 else following
    return [
        (text.count("\n", 0, match.start()) + 1, match.group(2))
        for match in _BLOCK.finditer(text, start, end)
        if match.group(1) == language
    ]


@pytest.mark.skipif(
    mldsa_support.MLDSA_MODULE is None, reason="this cryptography release cannot sign with ML-DSA"
)
def test_every_python_example_of_the_hybrid_section_runs_in_order() -> None:
    examples = section_blocks("python")
    assert len(examples) >= 3
    namespace: dict[str, Any] = {"__name__": "pq_guide"}
    for line, code in examples:
        try:
            exec(compile(code, f"docs/pq.md:{line}", "exec"), namespace)  # noqa: S102
        except Exception as exc:  # name the example that broke
            raise AssertionError(f"the example at docs/pq.md:{line} fails: {exc!r}") from exc
    assert namespace["classical"].algorithms == ("ES256",)


def test_the_guide_links_resolve() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    configuration = (GUIDE.parent / "server-configuration.md").read_text(encoding="utf-8")
    assert "(server-configuration.md#moving-access-tokens-to-ml-dsa)" in text
    assert "\n### Moving access tokens to ML-DSA\n" in configuration
    jws_json = (GUIDE.parent / "jws-json.md").read_text(encoding="utf-8")
    assert "(pq.md#hybrid-tokens)" in jws_json


def test_the_json_example_has_the_shape_encode_json_makes() -> None:
    (example,) = [json.loads(code) for _, code in section_blocks("json")]
    assert list(example) == ["payload", "signatures"]
    claims = json.loads(b64url_decode(example["payload"], "payload"))
    assert claims == {"iss": "https://id.example", "sub": "42"}
    assert [list(entry) for entry in example["signatures"]] == [["protected", "signature"]] * 2
