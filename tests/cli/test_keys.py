"""``jwtkit keygen``, ``jwtkit thumbprint`` and ``jwtkit jwks``."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

import jwtkit

from .helpers import one_line_error, run, write

KEYGEN_KEYS = {
    "alg",
    "kty",
    "kid",
    "thumbprint",
    "format",
    "out",
    "public_out",
    "key",
    "public_jwk",
}


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_keygen_jwk_to_stdout_with_the_thumbprint_as_kid() -> None:
    result = run("keygen", "--alg", "ES256")
    assert result.code == 0, result
    jwk = json.loads(result.out)
    key = jwtkit.Key.from_jwk(jwk)
    assert key.is_private
    assert key.alg == "ES256"
    assert jwk["kid"] == key.thumbprint()
    assert result.err == ""


@pytest.mark.parametrize(
    ("fmt", "private", "marker"),
    [
        ("jwk", True, '"d"'),
        ("jwk-public", False, '"x"'),
        ("jwks", True, '"keys"'),
        ("jwks-public", False, '"keys"'),
        ("pem", True, "-----BEGIN PRIVATE KEY-----"),
        ("pem-public", False, "-----BEGIN PUBLIC KEY-----"),
    ],
)
def test_keygen_formats(fmt: str, private: bool, marker: str) -> None:
    result = run("keygen", "--alg", "EdDSA", "--kid", "ed", "--format", fmt)
    assert result.code == 0, result
    assert marker in result.out
    if fmt.startswith("pem"):
        key = jwtkit.Key.from_pem(result.out)
    elif fmt.startswith("jwks"):
        (key,) = jwtkit.KeySet.from_jwks(result.out)
    else:
        key = jwtkit.Key.from_jwk(result.out)
    assert key.is_private is private
    if not private:
        assert '"d"' not in result.out


def test_keygen_writes_files_with_mode_0600_and_never_overwrites(tmp_path: Path) -> None:
    out, public = tmp_path / "k.jwk", tmp_path / "k.pub.jwk"
    result = run("keygen", "--alg", "ES384", "--out", str(out), "--public-out", str(public))
    assert result.code == 0, result
    assert result.out == ""
    assert "written to" in result.err
    assert "(mode 0600)" in result.err
    assert mode(out) == 0o600
    assert mode(public) == 0o600
    private_key = jwtkit.Key.from_jwk(out.read_text())
    assert jwtkit.Key.from_jwk(public.read_text()) == private_key.public_key()
    before = out.read_text()
    again = run("keygen", "--alg", "ES384", "--out", str(out))
    assert one_line_error(again, 1) == f"{out} exists; pass --force to overwrite it"
    assert out.read_text() == before
    os.chmod(out, 0o644)
    forced = run("keygen", "--alg", "ES384", "--out", str(out), "--force")
    assert forced.code == 0
    assert out.read_text() != before
    assert mode(out) == 0o600
    unwritable = run("keygen", "--alg", "ES256", "--out", str(tmp_path / "no" / "k.jwk"))
    assert "cannot write" in one_line_error(unwritable, 1)


def test_keygen_json_schema(tmp_path: Path) -> None:
    data = run("keygen", "--alg", "RS256", "--kid", "r1", "--use", "sig", "--json").json()
    assert set(data) == KEYGEN_KEYS
    assert (data["alg"], data["kty"], data["kid"], data["format"]) == ("RS256", "RSA", "r1", "jwk")
    assert data["out"] is None
    assert data["public_out"] is None
    assert data["key"]["d"]
    assert data["key"]["use"] == "sig"
    assert "d" not in data["public_jwk"]
    out = tmp_path / "hs.jwk"
    written = run("keygen", "--alg", "HS256", "--out", str(out), "--json").json()
    assert written["key"] is None
    assert written["out"] == str(out)
    assert written["public_jwk"] is None
    assert written["kty"] == "oct"
    pem = run("keygen", "--alg", "ES256", "--format", "pem", "--json").json()
    assert pem["key"].startswith("-----BEGIN PRIVATE KEY-----")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--alg", "XX1"), "unknown algorithm or key type 'XX1'"),
        (("--alg", "HS256", "--format", "pem"), "there is no PEM form of a secret"),
        (("--alg", "HS256", "--format", "jwk-public"), "it has no public key"),
        (("--alg", "ES256", "--crv", "P-384"), "does not fit 'ES256'"),
        (("--alg", "ES256", "--format", "pem-public", "--public-out", "x"), "private --format"),
        (("--format", "jwk"), "Missing option '--alg'"),
    ],
)
def test_keygen_usage_errors(args: tuple[str, ...], expected: str) -> None:
    assert expected in one_line_error(run("keygen", *args), 2)


def test_thumbprint_of_keys_in_every_form(tmp_path: Path) -> None:
    key = jwtkit.Key.generate("ES256", kid="k1")
    expected = key.thumbprint()
    pem = write(tmp_path / "k.pem", key.to_pem(private=True))
    assert run("thumbprint", pem).out == expected + "\n"
    jwk = json.dumps(key.public_key().to_jwk())
    assert run("thumbprint", jwk).out == expected + "\n"  # inline JSON
    assert run("thumbprint", "-", stdin=jwk).out == expected + "\n"
    uri = run("thumbprint", "--uri", "--hash", "sha512", pem).out.strip()
    assert uri == key.thumbprint_uri("sha512")
    assert uri.startswith("urn:ietf:params:oauth:jwk-thumbprint:sha-512:")


def test_thumbprint_of_a_jwk_set_and_json_schema(tmp_path: Path) -> None:
    one, two = jwtkit.Key.generate("ES256", kid="a"), jwtkit.Key.generate("EdDSA")
    jwks = {"keys": [one.public_key().to_jwk(), two.public_key().to_jwk()]}
    path = write(tmp_path / "jwks.json", json.dumps(jwks))
    lines = run("thumbprint", path).out.splitlines()
    assert lines == [f"{one.thumbprint()}  a", f"{two.thumbprint()}  -"]
    data = run("thumbprint", "--json", path).json()
    assert set(data) == {"keys"}
    assert [set(entry) for entry in data["keys"]] == [
        {"kid", "kty", "hash", "thumbprint", "uri"}
    ] * 2
    assert data["keys"][0] == {
        "kid": "a",
        "kty": "EC",
        "hash": "sha256",
        "thumbprint": one.thumbprint(),
        "uri": one.thumbprint_uri(),
    }


def test_thumbprint_errors(tmp_path: Path) -> None:
    assert "cannot read" in one_line_error(run("thumbprint", str(tmp_path / "none")), 2)
    message = one_line_error(run("thumbprint", '{"kty": "oct"}'), 2)
    assert message.startswith("KEY (inline JSON): ")
    assert "'sha1' is not one of" in one_line_error(run("thumbprint", "--hash", "sha1", "x"), 2)


def test_jwks_builds_a_public_set_without_private_parts(tmp_path: Path) -> None:
    es = jwtkit.Key.generate("ES256", kid="es")
    rsa = jwtkit.Key.generate("RSA")  # no alg, no kid: PEM
    first = write(tmp_path / "es.jwk", json.dumps(es.to_jwk(private=True)))
    second = write(tmp_path / "rsa.pem", rsa.to_pem(private=True))
    result = run("jwks", first, second)
    assert result.code == 0, result
    data = result.json()
    assert set(data) == {"keys"}
    assert all("d" not in jwk and "p" not in jwk for jwk in data["keys"])
    keys = jwtkit.KeySet.from_jwks(data)
    assert [k.kid for k in keys] == ["es", rsa.thumbprint()]
    assert not any(k.is_private for k in keys)
    assert run("jwks", "--json", first, second).json() == data


def test_jwks_options(tmp_path: Path) -> None:
    rsa = jwtkit.Key.generate("RSA")
    pem = write(tmp_path / "rsa.pem", rsa.public_key().to_pem())
    data = run("jwks", "--alg", "PS256", "--use", "sig", "--no-kid", pem).json()
    (jwk,) = data["keys"]
    assert jwk["alg"] == "PS256"
    assert jwk["use"] == "sig"
    assert "kid" not in jwk
    wrong = run("jwks", "--alg", "ES256", pem)
    assert "cannot carry 'alg' 'ES256'" in one_line_error(wrong, 2)
    twice = run("jwks", pem, pem)
    assert twice.code == 0
    assert "appears more than once" in twice.err


def test_jwks_refuses_secrets(tmp_path: Path) -> None:
    oct_key = jwtkit.Key.generate("HS256")
    path = write(tmp_path / "hs.jwk", json.dumps(oct_key.to_jwk(private=True)))
    message = one_line_error(run("jwks", path), 2)
    assert message == f"{path}: a secret (oct) key never goes into a public JWK Set"
    assert "Missing argument" in one_line_error(run("jwks"), 2)
