"""The package as users get it: ``python -m build`` makes an sdist and, from it, a wheel; the
wheel installs into a new virtual environment outside the repository and works there.

Installation uses uv's cache only (``--offline``), constrained to the versions this test
environment has (``make test`` has just installed them from the lock, so they are cached): the
test needs no network and installs exactly what the suite ran with.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import jwtkit

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX venv layout")


def _run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(  # noqa: S603 - fixed commands of this test
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{command}: {result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m build`` of this checkout: the sdist, then the wheel built from the sdist."""
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, REPO, cwd=out)
    return out


def _one(folder: Path, pattern: str) -> Path:
    (found,) = folder.glob(pattern)
    return found


def test_the_sdist_holds_the_sources_and_the_tests_and_no_local_state(dist: Path) -> None:
    sdist = _one(dist, f"jwtkit-{jwtkit.__version__}.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for needed in (
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "src/jwtkit/py.typed",
        "src/jwtkit/__main__.py",
        "src/jwtkit/cli/weak_secrets.txt",
        "tests/vectors/README.md",
    ):
        assert needed in names, needed
    leaked = [
        name
        for name in names
        if name.startswith((".venv", ".uv/", ".jwtkit/", "dist/")) or "__pycache__" in name
    ]
    assert leaked == []


def test_the_wheel_holds_the_package_and_its_data(dist: Path) -> None:
    wheel = _one(dist, f"jwtkit-{jwtkit.__version__}-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"jwtkit-{jwtkit.__version__}.dist-info/METADATA").decode()
    assert {"jwtkit/py.typed", "jwtkit/__main__.py", "jwtkit/cli/weak_secrets.txt"} <= names
    # The provider's pages: every template and the stylesheet the service renders and serves.
    http = REPO / "src" / "jwtkit" / "server" / "http"
    page_files = [*sorted((http / "templates").glob("*.html")), http / "static" / "jwtkit.css"]
    assert http / "templates" / "login.html" in page_files
    # The token page: every file it serves, and the glossary the CLI reads.
    token_page = REPO / "src" / "jwtkit" / "_page"
    page_files += sorted(p for p in token_page.iterdir() if p.is_file() and p.suffix != ".py")
    assert token_page / "glossary.json" in page_files
    assert token_page / "index.html" in page_files
    for path in page_files:
        assert f"jwtkit/{path.relative_to(REPO / 'src' / 'jwtkit').as_posix()}" in names, path
    assert not any(name.startswith("tests/") for name in names)
    assert "Requires-Dist: cryptography>=" in metadata
    assert "Provides-Extra: server" in metadata
    # Development tools are dependency groups: never a user's install.
    assert "pytest" not in metadata


def _constraints(folder: Path) -> Path:
    """The versions installed here (``uv pip freeze``), jwtkit itself left out."""
    frozen = _run(
        sys.executable, "-m", "uv", "pip", "freeze", "--python", sys.executable, cwd=folder
    )
    lines = [line for line in frozen.splitlines() if line and not line.startswith(("-e", "jwtkit"))]
    path = folder / "constraints.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_wheel_installs_in_a_new_venv_and_works_outside_the_checkout(
    dist: Path, tmp_path: Path
) -> None:
    wheel = _one(dist, "*.whl")
    venv = tmp_path / "clean venv"
    python = venv / "bin" / "python"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env.update({"NO_COLOR": "1", "UV_PYTHON_DOWNLOADS": "never"})
    uv = (sys.executable, "-m", "uv")
    _run(*uv, "venv", "--quiet", "--python", sys.executable, venv, cwd=tmp_path, env=env)
    install = (*uv, "pip", "install", "--quiet", "--offline", "--python", python)
    constraints = ("--constraint", _constraints(tmp_path))
    _run(*install, *constraints, wheel, cwd=tmp_path, env=env)

    smoke = (
        "import pathlib, jwtkit\n"
        "package = pathlib.Path(jwtkit.__file__).parent\n"
        "assert (package / 'py.typed').is_file()\n"
        "from jwtkit._page import PAGE_FILES, glossary, page_file\n"
        "assert all(page_file(name) for name in PAGE_FILES)\n"
        "assert glossary()['claims']['exp']['word'] == 'expires'\n"
        "key = jwtkit.Key.generate('ES256')\n"
        "token = jwtkit.encode({'sub': '42'}, key, expires_in=60)\n"
        "claims = jwtkit.decode(token, key.public_key(), algorithms=['ES256'])\n"
        "assert claims['sub'] == '42', claims\n"
        "print(package)\n"
    )
    where = Path(_run(python, "-c", smoke, cwd=tmp_path, env=env).strip())
    assert where.is_relative_to(venv), where  # the installed copy, not this checkout's src/
    assert not where.is_relative_to(REPO)

    # Without the cli extra, the command says which extra to install.
    no_cli = subprocess.run(  # noqa: S603
        [str(python), "-m", "jwtkit", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert no_cli.returncode == 2
    assert no_cli.stderr.strip() == "jwtkit needs the 'cli' extra: pip install 'jwtkit[cli]'"

    _run(*install, *constraints, f"{wheel}[cli]", cwd=tmp_path, env=env)
    version = _run(venv / "bin" / "jwtkit", "--version", cwd=tmp_path, env=env)
    assert version.strip() == f"jwtkit, version {jwtkit.__version__}"
    usage = _run(python, "-m", "jwtkit", "--help", cwd=tmp_path, env=env)
    assert "Usage: jwtkit" in usage
    assert "decode" in usage
