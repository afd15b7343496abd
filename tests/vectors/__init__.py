"""The JOSE test vectors this folder holds (see ``README.md`` beside this file), and their loaders.

Tests import this package as ``vectors`` (``tests/`` is on ``sys.path`` under pytest). The data
lives in the repository, so a clone alone runs the suite; a missing file fails the test that asks
for it, with a clear message; it never skips.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

__all__ = ["VECTORS_DIR", "cookbook_paths", "load_cookbook", "load_rfc_cases", "load_sd_jwt"]

#: ``tests/vectors``: this package's own folder holds the data.
VECTORS_DIR = Path(__file__).resolve().parent


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(
            f"test vector not found at {path} (see tests/vectors/README.md)",
            pytrace=False,
        )
    return path


def _load_json(path: Path) -> Any:
    with _require(path).open(encoding="utf-8") as handle:
        return json.load(handle)


def load_rfc_cases(filename: str) -> list[dict[str, Any]]:
    """The ``cases`` of ``rfc/<filename>`` (``"rfc7517.json"`` or ``"rfc7517"``)."""
    name = filename if filename.endswith(".json") else f"{filename}.json"
    document = _load_json(VECTORS_DIR / "rfc" / name)
    cases: list[dict[str, Any]] = document["cases"]
    return cases


def load_cookbook(relpath: str) -> dict[str, Any]:
    """One RFC 7520 cookbook file, e.g. ``load_cookbook("jwk/3_1.ec_public_key.json")``."""
    document: dict[str, Any] = _load_json(VECTORS_DIR / "rfc7520" / relpath)
    return document


def cookbook_paths(subdir: str) -> list[str]:
    """The ``relpath`` of every ``.json`` file in ``rfc7520/<subdir>``, sorted."""
    folder = _require(VECTORS_DIR / "rfc7520" / subdir)
    return sorted(f"{subdir}/{path.name}" for path in folder.glob("*.json"))


def load_sd_jwt() -> dict[str, Any]:
    """``sd-jwt/rfc9901.json``: RFC 9901's Disclosures, SD-JWTs and presentations."""
    document: dict[str, Any] = _load_json(VECTORS_DIR / "sd-jwt" / "rfc9901.json")
    return document
