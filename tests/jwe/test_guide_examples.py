"""The examples of ``docs/jwe.md`` run as written, and its JSON schema matches the command."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jwtkit
from jwtkit import _console

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "jwe.md"
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[tuple[int, str]]:
    """(line number, code) of every fenced block in ``language``, in order."""
    text = GUIDE.read_text(encoding="utf-8")
    found = []
    for match in _BLOCK.finditer(text):
        if match.group(1) == language:
            found.append((text.count("\n", 0, match.start()) + 1, match.group(2)))
    return found


def test_every_python_example_runs_in_order() -> None:
    examples = blocks("python")
    assert len(examples) >= 6
    namespace: dict[str, Any] = {"__name__": "jwe_guide"}
    for line, code in examples:
        try:
            exec(compile(code, f"docs/jwe.md:{line}", "exec"), namespace)  # noqa: S102
        except Exception as exc:  # name the example that broke
            raise AssertionError(f"the example at docs/jwe.md:{line} fails: {exc!r}") from exc


def test_the_decrypt_json_schema_in_the_guide_is_what_the_command_prints(
    tmp_path: Path, capsys: Any
) -> None:
    (documented,) = [json.loads(code) for _, code in blocks("json") if '"decrypted"' in code]
    key = jwtkit.Key.generate("RSA-OAEP-256", kid="enc-1")
    token = jwtkit.jwe.encrypt(
        b"the secret", key.public_key(), algorithm="RSA-OAEP-256", encryption="A256GCM"
    )
    path = tmp_path / "rsa.jwk"
    path.write_text(json.dumps(key.to_jwk(private=True)), encoding="utf-8")
    assert _console.main(["decrypt", "--key", str(path), "--json", token]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert list(printed) == list(documented)
    assert printed == {**documented, "header": printed["header"]}
    assert printed["header"] == {**documented["header"], "kid": "enc-1"}
