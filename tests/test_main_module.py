"""``python -m jwtkit`` runs the ``jwtkit`` command (the wheel test runs it in a new venv)."""

from __future__ import annotations

import runpy
import sys

import pytest

import jwtkit


def test_python_dash_m_jwtkit_runs_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["python -m jwtkit", "--version"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("jwtkit", run_name="__main__")
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"jwtkit, version {jwtkit.__version__}\n"


def test_importing_the_main_module_runs_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_module("jwtkit", run_name="not_main")
    assert capsys.readouterr() == ("", "")
