"""docs/errors.md lists every error class of ``jwtkit.errors`` with its code, so it cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

from jwtkit import errors

DOC = Path(__file__).resolve().parents[1] / "docs" / "errors.md"


def _error_classes() -> dict[str, str]:
    found: dict[str, str] = {}
    for name in errors.__all__:
        value = getattr(errors, name)
        if (
            isinstance(value, type)
            and issubclass(value, errors.JWTError)
            and value.__name__ == name
        ):
            found[name] = value.code
    return found


def test_every_error_class_is_in_the_tree_with_its_code() -> None:
    tree = DOC.read_text(encoding="utf-8").split("```", 2)[1]
    listed = dict(re.findall(r"(\w+)\s+\"([a-z_]+)\"", tree))
    classes = _error_classes()
    assert "InvalidDPoPProof" in classes
    assert "JWTError" in classes
    missing = sorted(set(classes) - set(listed))
    assert not missing, f"docs/errors.md does not list {missing}"
    wrong = {name: (listed[name], code) for name, code in classes.items() if listed[name] != code}
    assert not wrong, f"docs/errors.md shows other codes: {wrong}"
