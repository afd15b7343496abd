"""The Makefile's entry points as a newcomer types them (``make -n`` prints, runs nothing)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def _dry_run(target: str, *variables: str) -> str:
    """What ``make -n TARGET`` would run, continuation lines joined."""
    env = {k: v for k, v in os.environ.items() if k not in {"HOST", "PORT", "MAKEFLAGS"}}
    out = subprocess.run(  # noqa: S603 - fixed arguments
        ["make", "-n", "--no-print-directory", target, *variables],  # noqa: S607
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.replace("\\\n", " ")


def _serve_command(*variables: str) -> list[str]:
    out = _dry_run("serve", *variables)
    (line,) = [line for line in out.splitlines() if "jwtkit serve" in line]
    return line.split("jwtkit serve", 1)[1].split()


def test_make_serve_passes_host_and_port_only_when_given() -> None:
    assert _serve_command() == []  # JWTKIT_HOST / JWTKIT_PORT / --config still apply
    assert _serve_command("PORT=9000") == ["--port", "9000"]
    assert _serve_command("HOST=127.0.0.2", "PORT=0") == ["--host", "127.0.0.2", "--port", "0"]


def test_make_serve_and_make_test_install_from_the_lock() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "SYNC := $(UV) sync --locked" in makefile
    assert (REPO / "uv.lock").is_file()
    assert "uv==" in (REPO / "requirements-uv.txt").read_text(encoding="utf-8")


def test_make_screenshots_writes_the_images_docs_server_md_shows() -> None:
    (line,) = [line for line in _dry_run("screenshots").splitlines() if "pytest" in line]
    assert line.startswith("JWTKIT_SCREENSHOTS=docs/images ")
    nodes = [word for word in line.split() if "::" in word]
    assert len(nodes) == 3, nodes
    for node in nodes:
        path, test = node.split("::")
        assert f"def {test}(" in (REPO / path).read_text(encoding="utf-8")
    for doc, names in (
        ("server.md", ("login.png", "consent.png")),
        ("page.md", ("inspector.png", "inspector-dark.png")),
    ):
        text = (REPO / "docs" / doc).read_text(encoding="utf-8")
        for name in names:
            assert f"](images/{name})" in text
            assert (REPO / "docs" / "images" / name).read_bytes().startswith(b"\x89PNG\r\n")


def test_make_screenshots_writes_the_flow_images_docs_page_md_shows() -> None:
    (line,) = [line for line in _dry_run("screenshots").splitlines() if "pytest" in line]
    assert "tests/server/test_page_flow_browser.py" in line.split()
    page_md = (REPO / "docs" / "page.md").read_text(encoding="utf-8")
    shown = re.findall(r"\]\(images/(flow-[a-z0-9-]+\.png)\)", page_md)
    assert len(shown) >= 7  # a view of each step at least
    test = (REPO / "tests" / "server" / "test_page_flow_browser.py").read_text(encoding="utf-8")
    for name in shown:
        assert f'"{name}"' in test  # taken by the test
        assert (REPO / "docs" / "images" / name).read_bytes().startswith(b"\x89PNG\r\n")
