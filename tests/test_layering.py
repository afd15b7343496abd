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
    "_types": 0,
    "_urls": 0,
    "_extras": 0,
    "_oauth": 0,
    "_page": 0,
    "_keys": 1,
    "jwk": 1,
    "x509": 1,
    "_jwa_signing": 2,
    "_jwa_content": 2,
    "_jwa_keymgmt": 2,
    "jwa": 2,
    "_token_hash": 2,
    "_key_pair_signatures": 2,
    "_header": 3,
    "_keysource": 3,
    "_memo": 3,
    "_jws_compact": 3,
    "_jws_json": 3,
    "_jws_policy": 3,
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
    "dpop": 4,
    "_sd": 4,
    "sd_jwt": 4,
    "_id_token": 4,
    "oidc": 4,
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
    "remote": {"server", "cli", "integrations", "pyjwt"},
    "pyjwt": {"server", "cli", "integrations"},
    "integrations": {"server", "cli", "pyjwt"},
    "cli": {"server", "pyjwt"},
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


# -- outer packages use the public core ------------------------------------------------------

OUTER_PACKAGES = ("cli", "server", "integrations", "remote", "pyjwt")
#: The core's public modules: what users import, so what the outer packages import too.
PUBLIC_CORE = {
    "jwtkit",
    "jwtkit.jwk",
    "jwtkit.jwa",
    "jwtkit.jws",
    "jwtkit.jwe",
    "jwtkit.jwt",
    "jwtkit.dpop",
    "jwtkit.sd_jwt",
    "jwtkit.errors",
    "jwtkit.oidc",
    "jwtkit.testing",
}
#: Shared low modules written for the outer packages, and why each is not public API.
SHARED_FOR_OUTER_PACKAGES: dict[str, str] = {
    "jwtkit._oauth": "the OAuth 2.0 / Bearer grammar, once for integrations/ and server/",
    "jwtkit._extras": "MissingExtra: the one install message of every optional layer",
    "jwtkit._command_errors": "CommandFailed/UsageProblem: how cli/ and server/cli.py fail",
    "jwtkit._messages": "short(): untrusted values in messages, bounded and material-free",
    "jwtkit._urls": "the one URL policy (remote/, integrations/) and what a loopback host is",
    "jwtkit._page": "the token page's files and the one glossary, for server/ and cli/",
}
#: Private core modules an outer package still uses: which packages, and why.
PRIVATE_CORE_EXCEPTIONS: dict[str, tuple[frozenset[str], str]] = {
    "jwtkit._codec": (
        frozenset({"cli", "remote"}),
        "strict base64url and JSON of untrusted input: the core's own parsing rules, so that "
        "the commands and the JWKS client accept exactly what the core accepts",
    ),
    "jwtkit._claims": (
        frozenset({"pyjwt"}),
        "the claims rules applied to a token read without its signature (PyJWT's "
        "verify_signature=False with verify_exp and the like), never written twice",
    ),
    "jwtkit._keysource": (
        frozenset({"pyjwt"}),
        "coerce_key: the one rule that tells PEM from a secret, with PyJWT's leniency "
        "(allow_weak) for short secrets",
    ),
    "jwtkit._memo": (
        frozenset({"pyjwt"}),
        "the bounded memo, so that keys converted from cryptography objects are the same Key "
        "objects call after call and the core's memo shares its prepared work",
    ),
}


def _is_module(name: str) -> bool:
    return (SRC / f"{name}.py").exists() or (SRC / name).is_dir()


def _outer_core_imports() -> list[tuple[str, str, str]]:
    """(package, file, module) for every import of a jwtkit module outside the outer packages."""
    found = []
    for package in OUTER_PACKAGES:
        for path in sorted((SRC / package).rglob("*.py")):
            for name, _ in _imports(path):
                parts = name.split(".")
                if parts[0] != "jwtkit" or (len(parts) > 1 and parts[1] in OUTER_PACKAGES):
                    continue
                module = ".".join(parts[:2])
                if len(parts) > 1 and not _is_module(parts[1]):
                    module = "jwtkit"  # from jwtkit import __version__: a name of the package
                found.append((package, str(path.relative_to(SRC)), module))
    return found


def test_outer_packages_use_the_public_core() -> None:
    """cli/, server/, integrations/ and remote/ import the core through its public modules
    (and the shared low modules made for them), never its private implementation."""
    for package, relative, module in _outer_core_imports():
        if module in PUBLIC_CORE or module in SHARED_FOR_OUTER_PACKAGES:
            continue
        allowed, _ = PRIVATE_CORE_EXCEPTIONS.get(module, (frozenset(), ""))
        assert package in allowed, (
            f"{relative} imports {module}: use a public module ({', '.join(sorted(PUBLIC_CORE))})"
        )


def test_the_private_core_exceptions_are_still_needed() -> None:
    """An exception nobody uses any more is removed, so the list never grows stale."""
    used = {(package, module) for package, _, module in _outer_core_imports()}
    for module, (packages, _) in PRIVATE_CORE_EXCEPTIONS.items():
        for package in packages:
            assert (package, module) in used, f"{package}/ no longer imports {module}"


#: The web framework and what only it needs (jinja2: the provider's HTML pages).
WEB_FRAMEWORK = {"fastapi", "starlette", "pydantic", "swagger_ui_bundle", "jinja2"}


def test_only_server_http_imports_the_web_framework() -> None:
    """The service's logic, storage and commands work without FastAPI: only ``server/http/``
    imports it (``server/app.py`` re-exports the factory from there)."""
    server = SRC / "server"
    for path in sorted(server.rglob("*.py")):
        relative = path.relative_to(server)
        if relative.parts[0] == "http":
            continue
        for name, _ in _imports(path):
            top = name.split(".")[0]
            assert top not in WEB_FRAMEWORK, f"server/{relative} imports {name}"


def test_only_server_http_imports_the_template_engine() -> None:
    """The HTML pages are the HTTP layer's: jinja2 is imported nowhere else in the package."""
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC)
        if relative.parts[:2] == ("server", "http"):
            continue
        for name, _ in _imports(path):
            assert name.split(".")[0] != "jinja2", f"{relative} imports {name}"


def test_only_the_redis_link_imports_redis() -> None:
    """redis-py is imported in one place, ``server/redis_link.py`` (the ``redis`` extra); the
    Redis limit counter and the broadcast use it through that module."""
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC)
        if relative == Path("server", "redis_link.py"):
            continue
        for name, _ in _imports(path):
            assert name.split(".")[0] != "redis", f"{relative} imports {name}"


def test_the_pyjwt_layer_imports_remote_only_inside_functions() -> None:
    """``jwtkit.pyjwt`` (L5, beside ``testing``) works without the ``remote`` extra: only
    ``PyJWKClient`` needs it, and imports it when built."""
    for path in sorted((SRC / "pyjwt").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top_level = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        for node in top_level:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            module = node.module if isinstance(node, ast.ImportFrom) else None
            assert "httpx" not in names, path.name
            assert not (module or "").startswith(("remote", "httpx", "anyio")), path.name


def test_nothing_outside_pyjwt_imports_it() -> None:
    """The drop-in sits on top: no other part of jwtkit depends on it."""
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC)
        if relative.parts[0] == "pyjwt":
            continue
        for name, _ in _imports(path):
            assert not name.startswith("jwtkit.pyjwt"), f"{relative} imports {name}"


def test_importing_the_pyjwt_layer_loads_no_optional_dependency() -> None:
    import subprocess

    code = (
        "import sys, jwtkit.pyjwt; "
        "bad = [m for m in ('httpx', 'anyio', 'jwtkit.remote', 'fastapi', 'click') "
        "if m in sys.modules]; print(','.join(bad))"
    )
    out = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""
