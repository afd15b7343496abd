"""The installed ``jwtkit`` console script in real subprocesses, and what the package does
without click."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import run

BIN = Path(sys.executable).parent


def jwtkit_command() -> str:
    found = shutil.which("jwtkit", path=str(BIN))
    assert found is not None, f"no jwtkit console script in {BIN}"
    return found


def sh(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"JWT_SECRET", "NO_COLOR"}}
    return subprocess.run(  # noqa: S603 - fixed arguments
        [jwtkit_command(), *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_the_readme_session(tmp_path: Path) -> None:
    """The three lines the README shows, pasted as they are."""
    keygen = sh(
        "keygen", "--alg", "ES256", "--out", "es256.jwk", "--public-out", "es256.pub.jwk",
        cwd=tmp_path,
    )  # fmt: skip
    assert keygen.returncode == 0, keygen.stderr
    encode = sh(
        "encode", "--key", "es256.jwk", "--claim", "sub=42", "--claim", "aud=api", "--exp", "15m",
        cwd=tmp_path,
    )  # fmt: skip
    assert encode.returncode == 0, encode.stderr
    (tmp_path / "token.jwt").write_text(encode.stdout)
    verify = sh("verify", "--key", "es256.pub.jwk", "--aud", "api", "token.jwt", cwd=tmp_path)
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.startswith("VALID  ES256 signature verified")
    assert verify.stderr == ""


def test_failures_are_one_line_on_stderr(tmp_path: Path) -> None:
    sh("keygen", "--alg", "EdDSA", "--out", "k.jwk", cwd=tmp_path)
    token = sh("encode", "--key", "k.jwk", "--exp", "@1", cwd=tmp_path).stdout.strip()
    expired = sh("verify", "--key", "k.jwk", "-", cwd=tmp_path, stdin=token)
    assert expired.returncode == 1
    assert expired.stderr.startswith("jwtkit: error: token expired ")
    assert expired.stderr.count("\n") == 1
    assert expired.stdout == ""
    usage = sh("verify", "--key", "missing.pem", token, cwd=tmp_path)
    assert usage.returncode == 2
    assert usage.stderr.count("\n") == 1
    assert "Traceback" not in usage.stderr
    piped = sh("decode", "--json", cwd=tmp_path, stdin=token)
    assert piped.returncode == 0
    assert '"verified": false' in piped.stdout


@pytest.mark.parametrize(
    "command", ["decode", "verify", "encode", "keygen", "thumbprint", "jwks", "audit"]
)
def test_every_command_has_help_with_examples(command: str) -> None:
    result = run(command, "--help")
    assert result.code == 0
    assert "Examples:" in result.out
    assert f"jwtkit {command}" in result.out
    assert "--json" in result.out


def test_importing_jwtkit_cli_without_click_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [m for m in sys.modules if m == "jwtkit.cli" or m.startswith("jwtkit.cli.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "click", None)
    import importlib

    with pytest.raises(ImportError) as caught:
        importlib.import_module("jwtkit.cli")
    assert str(caught.value) == "jwtkit.cli needs the 'cli' extra: pip install 'jwtkit[cli]'"


def test_the_composition_root_skips_a_command_layer_that_does_not_exist(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from jwtkit import _console

    monkeypatch.setattr(_console, "_COMMAND_MODULES", ("jwtkit.not_there", "jwtkit.cli"))
    assert sorted(_console.build().commands) == [
        "audit", "decode", "decrypt", "encode", "encrypt", "inspect", "jwks", "keygen", "sd",
        "thumbprint", "verify",
    ]  # fmt: skip


def test_every_missing_extra_is_one_class_with_one_message_format() -> None:
    """One ``MissingExtra`` and one ``CommandFailed``, importable where they were."""
    import jwtkit.cli._errors
    import jwtkit.remote
    import jwtkit.server._extras
    import jwtkit.server.cli
    from jwtkit import _command_errors, _console, _extras

    assert jwtkit.remote.MissingExtra is jwtkit.server._extras.MissingExtra is _extras.MissingExtra
    for name in ("CommandFailed", "UsageProblem"):
        shared = getattr(_command_errors, name)
        assert getattr(jwtkit.cli._errors, name) is getattr(jwtkit.server.cli, name) is shared
    for extra, what in [
        ("server", "jwtkit serve"),
        ("cli", "jwtkit"),
        ("remote", "jwtkit.remote"),
        ("flask", "jwtkit.integrations.flask"),
    ]:
        error = _extras.MissingExtra("some_module", extra)
        assert isinstance(error, ImportError)
        assert error.name == error.module == "some_module"
        assert str(error) == f"{what} needs the '{extra}' extra: pip install 'jwtkit[{extra}]'"
    assert _extras.install_line("cli") == _console.CLI_EXTRA_MESSAGE
