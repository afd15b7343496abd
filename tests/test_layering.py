"""The core (L0-L4) imports only the standard library and ``cryptography``; imports point down.

Reads every module's imports from its source (no execution), so an optional dependency cannot
sneak into the core through a lazy import inside a function either.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "jwtkit"

# Layer of each core module: a module may import only modules of its own layer or below.
LAYERS: dict[str, int] = {
    "errors": 0,
    "_codec": 0,
    "_messages": 0,
    "_extras": 0,
    "_oauth": 0,
    "_keys": 1,
    "jwk": 1,
    "_jwa_signing": 2,
    "_jwa_content": 2,
    "_jwa_keymgmt": 2,
    "jwa": 2,
    "_header": 3,
    "_keysource": 3,
    "_memo": 3,
    "_jws_compact": 3,
    "_jws_json": 3,
    "jws": 3,
    "_jwe_common": 3,
    "_jwe_recipient": 3,
    "_jwe_json": 3,
    "_jwe_decrypt": 3,
    "_jwe_encrypt": 3,
    "jwe": 3,
    "_claims": 4,
    "_jwt": 4,
    "jwt": 4,
    "testing": 5,
    "__init__": 5,
}
ALLOWED_THIRD_PARTY = {"cryptography"}


def _core_modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if _top_name(p) in LAYERS)


def _top_name(path: Path) -> str:
    relative = path.relative_to(SRC)
    return relative.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[tuple[str, int]]:
    """(absolute top-level name or 'jwtkit.<module>', level) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ["jwtkit", *path.relative_to(SRC).parent.parts]
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
                if node.module is None:
                    found.extend((f"{target}.{alias.name}", 1) for alias in node.names)
                else:
                    found.append((target, 1))
            else:
                found.append((node.module or "", 0))
    return found


def test_core_modules_exist() -> None:
    names = {_top_name(p) for p in _core_modules()}
    assert {"errors", "_codec", "jwk", "jwa", "jws", "jwt"} <= names


@pytest.mark.parametrize("path", _core_modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_core_imports_only_stdlib_and_cryptography(path: Path) -> None:
    for name, _ in _imports(path):
        top = name.split(".")[0]
        if top in {"jwtkit", "__future__"}:
            continue
        assert top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY, (
            f"{path.relative_to(SRC)} imports {name!r}: the core may import only the standard "
            "library and cryptography"
        )


@pytest.mark.parametrize("path", _core_modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_core_imports_point_down(path: Path) -> None:
    own = LAYERS[_top_name(path)]
    for name, _ in _imports(path):
        parts = name.split(".")
        if parts[0] != "jwtkit" or len(parts) < 2:
            continue
        target = parts[1]
        assert target in LAYERS, f"{path.name} imports {name}, outside the core"
        assert LAYERS[target] <= own, (
            f"{path.relative_to(SRC)} (layer {own}) imports {name} (layer {LAYERS[target]})"
        )


def test_importing_jwtkit_loads_no_optional_dependency() -> None:
    import subprocess

    code = (
        "import sys, jwtkit; "
        "bad = [m for m in ('httpx', 'fastapi', 'starlette', 'flask', 'click', 'argon2') "
        "if m in sys.modules]; print(','.join(bad))"
    )
    out = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_only_the_console_entry_point_imports_the_server() -> None:
    """ARCHITECTURE: nothing imports ``server`` except the composition root, ``_console``."""
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC)
        if relative.parts[0] == "server" or relative.name == "_console.py":
            continue
        for name, _ in _imports(path):
            assert not name.startswith("jwtkit.server"), f"{relative} imports {name}"


def test_only_python_dash_m_imports_the_composition_root() -> None:
    """``_console`` assembles every command; only ``__main__`` (``python -m jwtkit``) runs it."""
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC)
        if relative.name in {"__main__.py", "_console.py"}:
            continue
        for name, _ in _imports(path):
            assert name != "jwtkit._console", f"{relative} imports {name}"


def test_server_storage_does_not_import_the_web_framework() -> None:
    """Storage backends are usable without FastAPI (admin commands, other frameworks)."""
    for path in sorted((SRC / "server" / "storage").rglob("*.py")):
        for name, _ in _imports(path):
            top = name.split(".")[0]
            assert top not in {"fastapi", "starlette", "uvicorn"}, f"{path.name} imports {name}"


# Shared modules outside the core, below every optional layer: what each may import besides the
# standard library and the core (docs/architecture.md, "Shared below the optional layers").
SHARED_LOW_MODULES: dict[str, set[str]] = {"_command_errors": {"click"}}


@pytest.mark.parametrize("module", sorted(SHARED_LOW_MODULES))
def test_shared_low_modules_import_only_the_core(module: str) -> None:
    path = SRC / f"{module}.py"
    for name, _ in _imports(path):
        parts = name.split(".")
        if parts[0] == "jwtkit":
            assert ".".join(parts[1:2]) in LAYERS, f"{module} imports {name}"
        elif parts[0] != "__future__":
            assert parts[0] in sys.stdlib_module_names | SHARED_LOW_MODULES[module], (
                f"{module} imports {name}"
            )


def test_one_missing_extra_and_one_command_failure() -> None:
    """One ``MissingExtra`` (``jwtkit._extras``) and one ``CommandFailed``/``UsageProblem``
    (``jwtkit._command_errors``): the layers re-export them, never define their own."""
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
        if str(relative) != "_extras.py":
            assert "MissingExtra" not in defined, relative
        if str(relative) != "_command_errors.py":
            assert not defined & {"CommandFailed", "UsageProblem"}, relative


# Optional layers: what each may import from jwtkit (ARCHITECTURE: imports only point down).
OPTIONAL_LAYERS: dict[str, set[str]] = {
    "remote": {"server", "cli", "integrations"},
    "integrations": {"server", "cli"},
    "cli": {"server"},
}


@pytest.mark.parametrize("layer", sorted(OPTIONAL_LAYERS))
def test_optional_layers_do_not_import_layers_above_them(layer: str) -> None:
    forbidden = OPTIONAL_LAYERS[layer]
    package = SRC / layer
    if not package.exists():
        pytest.fail(f"the {layer} package is missing")
    for path in sorted(package.rglob("*.py")):
        for name, _ in _imports(path):
            parts = name.split(".")
            if parts[0] == "jwtkit" and len(parts) > 1:
                assert parts[1] not in forbidden, f"{path.relative_to(SRC)} imports {name}"
