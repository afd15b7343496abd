"""``jwtkit sd issue``, ``present`` and ``verify``: in-process, and once as a real subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import jwtkit

from .helpers import NOW, one_line_error, run, write
from .test_console import sh

AUD = "https://verifier.example"
CLAIMS = {
    "iss": "https://issuer.example",
    "sub": "user_42",
    "email": "a@example.com",
    "address": {"street": "1 Main St", "country": "US"},
    "nationalities": ["US", "DE"],
}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    issuer = jwtkit.Key.generate("ES256")
    holder = jwtkit.Key.generate("ES256")
    return {
        "issuer": write(tmp_path / "issuer.jwk", json.dumps(issuer.to_jwk(private=True))),
        "issuer_pub": write(tmp_path / "issuer.pub.pem", issuer.public_key().to_pem()),
        "holder": write(tmp_path / "holder.jwk", json.dumps(holder.to_jwk(private=True))),
        "holder_pub": write(tmp_path / "holder.pub.jwk", json.dumps(holder.public_key().to_jwk())),
        "claims": write(tmp_path / "claims.json", json.dumps(CLAIMS)),
        "dir": str(tmp_path),
    }


def _issue(files: dict[str, str], *extra: str) -> str:
    result = run(
        "sd", "issue", "--key", files["issuer"], "--claims", files["claims"],
        "--disclose", "/email", "--disclose", "/address", "--disclose", "/address/street",
        "--disclose", "/nationalities/1", "--holder-key", files["holder_pub"], *extra,
    )  # fmt: skip
    assert result.code == 0, result.err
    return result.out.strip()


def test_issue_present_verify_with_key_binding(files: dict[str, str]) -> None:
    issued = _issue(files, "--decoys", "2", "--exp", "1h")
    sd_file = write(Path(files["dir"]) / "sd.txt", issued)
    shown = run(
        "sd", "present", sd_file, "--disclose", "/address/street", "--holder-key",
        files["holder"], "--aud", AUD, "--nonce", "n1",
    )  # fmt: skip
    assert shown.code == 0, shown.err
    verified = run(
        "sd", "verify", shown.out.strip(), "--key", files["issuer_pub"], "--require-key-binding",
        "--aud", AUD, "--nonce", "n1", "--iss", "https://issuer.example", "--json",
    )  # fmt: skip
    assert verified.code == 0, verified.err
    document = verified.json()
    assert document["claims"]["address"] == {"street": "1 Main St", "country": "US"}
    assert "email" not in document["claims"]
    assert document["claims"]["exp"] == NOW + 3600
    assert document["key_binding"]["aud"] == AUD
    human = run("sd", "verify", shown.out.strip(), "--key", files["issuer_pub"], "--aud", AUD,
                "--nonce", "n1")  # fmt: skip
    assert human.code == 0
    assert "key binding for" in human.out
    assert "1 Main St" in human.out


def test_issue_json_and_present_list(files: dict[str, str]) -> None:
    result = run("sd", "issue", "--key", files["issuer"], "--claims", files["claims"],
                 "--disclose", "/email", "--json")  # fmt: skip
    document = result.json()
    assert [d["path"] for d in document["disclosures"]] == ["/email"]
    listed = run("sd", "present", "-", "--list", stdin=document["sd_jwt"])
    assert listed.out == '/email  "a@example.com"\n'
    listed_json = run("sd", "present", document["sd_jwt"], "--list", "--json").json()
    assert listed_json["disclosures"][0]["value"] == "a@example.com"
    bare = run("sd", "present", document["sd_jwt"], "--disclose", "/email", "--json").json()
    plain = run("sd", "verify", bare["presentation"], "--key", files["issuer_pub"])
    assert plain.code == 0
    assert plain.out.startswith("valid SD-JWT: 1 Disclosures\n")


def test_verify_refuses_a_bare_sd_jwt_when_key_binding_is_required(files: dict[str, str]) -> None:
    result = run("sd", "verify", _issue(files), "--key", files["issuer_pub"],
                 "--require-key-binding", "--aud", AUD, "--nonce", "n1")  # fmt: skip
    assert "requires Key Binding" in one_line_error(result, 1)


def test_verify_refuses_a_wrong_nonce_and_a_wrong_key(files: dict[str, str]) -> None:
    shown = run("sd", "present", _issue(files), "--holder-key", files["holder"], "--aud", AUD,
                "--nonce", "n1").out.strip()  # fmt: skip
    wrong_nonce = run("sd", "verify", shown, "--key", files["issuer_pub"], "--aud", AUD,
                      "--nonce", "n2")  # fmt: skip
    assert "nonce" in one_line_error(wrong_nonce, 1)
    wrong_key = run("sd", "verify", shown, "--key", files["holder_pub"], "--aud", AUD,
                    "--nonce", "n1")  # fmt: skip
    assert "signature" in one_line_error(wrong_key, 1)


def test_usage_errors_exit_2(files: dict[str, str], tmp_path: Path) -> None:
    bad_path = run("sd", "issue", "--key", files["issuer"], "--claims", files["claims"],
                   "--disclose", "/iss")  # fmt: skip
    assert "§9.7" in one_line_error(bad_path, 2)
    missing = run("sd", "present", _issue(files), "--disclose", "/phone")
    assert "no claim at /phone" in one_line_error(missing, 2)
    no_nonce = run("sd", "verify", _issue(files), "--key", files["issuer_pub"],
                   "--require-key-binding", "--aud", AUD)  # fmt: skip
    assert "nonce" in one_line_error(no_nonce, 2)
    two_keys = write(tmp_path / "set.jwks", json.dumps({"keys": [
        jwtkit.Key.generate("ES256").to_jwk(private=True) for _ in range(2)]}))  # fmt: skip
    many = run("sd", "issue", "--key", two_keys, "--claims", files["claims"])
    assert "expected one key" in one_line_error(many, 2)
    one = write(tmp_path / "one.jwks", json.dumps({"keys": [json.loads(
        Path(files["issuer"]).read_text())]}))  # fmt: skip
    assert run("sd", "issue", "--key", one, "--claims", files["claims"]).code == 0


def test_a_malformed_sd_jwt_is_one_line_exit_1(files: dict[str, str]) -> None:
    result = run("sd", "verify", "a.b.c", "--key", files["issuer_pub"])
    assert one_line_error(result, 1)
    garbage = run("sd", "present", "a.b~")
    assert "Issuer-signed JWT" in one_line_error(garbage, 1)


def test_the_installed_command_runs_sd_in_a_subprocess(files: dict[str, str]) -> None:
    cwd = Path(files["dir"])
    issued = sh("sd", "issue", "--key", files["issuer"], "--claims", files["claims"],
                "--disclose", "/email", cwd=cwd)  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    verified = sh("sd", "verify", "-", "--key", files["issuer_pub"], "--json", cwd=cwd,
                  stdin=issued.stdout)  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["claims"]["email"] == "a@example.com"
    bad = sh("sd", "verify", "a.b~", "--key", files["issuer_pub"], cwd=cwd)
    assert bad.returncode == 1
    assert bad.stderr.startswith("jwtkit: error: ")
    assert "Traceback" not in bad.stderr
