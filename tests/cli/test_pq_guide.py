"""The examples of the ML-DSA part of ``docs/pq.md`` run as written: the Python blocks in order,
in one namespace, and the ``jwtkit`` commands in a scratch folder."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest

import jwtkit
from jwtkit._keys.mldsa_support import ML_DSA_MIN_CRYPTOGRAPHY, MLDSA_MODULE

from .helpers import run

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "pq.md"
_BLOCK = re.compile(r"^```(python|sh)\n(.*?)^```$", re.MULTILINE | re.DOTALL)

pytestmark = pytest.mark.skipif(
    MLDSA_MODULE is None, reason=f"ML-DSA needs cryptography >= {ML_DSA_MIN_CRYPTOGRAPHY}"
)


def _ml_dsa_part() -> str:
    """The guide up to its hybrid-token part (which its own tests cover)."""
    return GUIDE.read_text(encoding="utf-8").split("\n## Hybrid tokens", 1)[0]


def _blocks(kind: str) -> list[tuple[int, str]]:
    text = _ml_dsa_part()
    return [
        (text.count("\n", 0, match.start()) + 1, match.group(2))
        for match in _BLOCK.finditer(text)
        if match.group(1) == kind
    ]


def test_the_python_examples_run_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    examples = _blocks("python")
    assert len(examples) == 5
    namespace: dict[str, Any] = {"__name__": "pq_guide"}
    for line, code in examples:
        try:
            exec(compile(code, f"docs/pq.md:{line}", "exec"), namespace)  # noqa: S102
        except Exception as exc:  # name the example that broke
            raise AssertionError(f"the example at docs/pq.md:{line} fails: {exc!r}") from exc
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "['alg', 'kid', 'kty', 'pub'] 43",
        "True",
        "user-42 4412",
        "refused: invalid_key",
        "['EC', 'AKP']",
    ]


def test_the_commands_run_in_a_scratch_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (commands,) = _blocks("sh")
    monkeypatch.chdir(tmp_path)
    lines = [line for line in commands[1].splitlines() if line]
    assert len(lines) == 7
    for line in lines:
        words = shlex.split(line)
        target = None
        if ">" in words:
            words, target = words[: words.index(">")], words[words.index(">") + 1]
        assert words[0] == "jwtkit"
        result = run(*words[1:])
        assert result.code == 0, (line, result)
        if target is not None:
            (tmp_path / target).write_text(result.out, encoding="utf-8")
    assert jwtkit.Key.from_jwk((tmp_path / "mldsa.jwk").read_text()).alg == "ML-DSA-65"
    published = jwtkit.KeySet.from_jwks((tmp_path / "jwks.json").read_text())
    assert [key.alg for key in published] == ["ML-DSA-65", "ML-DSA-44"]
    assert not any(key.is_private for key in published)
