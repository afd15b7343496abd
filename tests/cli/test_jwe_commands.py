"""``jwtkit encrypt``, ``jwtkit decrypt``, and what ``decode`` and ``audit`` say about a JWE."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import jwtkit
from jwtkit import jwe
from jwtkit.cli import jwe as jwe_cli
from jwtkit.errors import UsageError
from jwtkit.jwa import (
    DEFAULT_REGISTRY,
    PBES2_HS256_A128KW,
    InsecureAlgorithmWarning,
)

from . import helpers
from .helpers import NOW as NOW_OF_TESTS
from .helpers import b64, one_line_error, run, write

PASSWORD = "a passphrase nobody else uses, 9c41"
BINARY = bytes(range(256)) + b"\x00 not utf-8 \xc3\x28"
DECRYPT_KEYS = {
    "decrypted",
    "serialization",
    "algorithm",
    "encryption",
    "kid",
    "header",
    "unprotected",
    "recipient_header",
    "recipient_index",
    "plaintext",
    "plaintext_base64url",
    "length",
}


def run_bytes(*args: str, stdin: bytes | None = None) -> tuple[int, bytes, str]:
    """Run ``jwtkit ARGS`` in-process; return (status, stdout bytes, stderr text)."""
    code, out, err = helpers.run_bytes(*args, stdin=stdin)
    return code, out, err.decode()


def jwk_file(tmp_path: Path, name: str, key: jwtkit.Key, private: bool = True) -> str:
    return write(tmp_path / name, json.dumps(key.to_jwk(private=private and key.is_private)))


def protected_header(token: str) -> dict[str, Any]:
    segment = token.split(".", maxsplit=1)[0]
    header: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return header


def warnings_of(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("jwtkit: warning: ")]


@pytest.fixture(scope="module")
def rsa_oaep() -> jwtkit.Key:
    """An RSA key bound to RSA-OAEP-256 (its alg decides both ways)."""
    return jwtkit.Key.generate("RSA-OAEP-256", kid="enc-1")


@pytest.fixture(scope="module")
def rsa_plain() -> jwtkit.Key:
    """An RSA key without alg: it fits every RSA-OAEP variant."""
    return jwtkit.Key.generate("RSA")


@pytest.fixture
def rsa_files(tmp_path: Path, rsa_oaep: jwtkit.Key) -> tuple[str, str]:
    """(private JWK file, public JWK file) of the RSA-OAEP-256 key."""
    private = jwk_file(tmp_path, "rsa.jwk", rsa_oaep)
    public = jwk_file(tmp_path, "rsa.pub.jwk", rsa_oaep.public_key(), private=False)
    return private, public


# -- encrypt and decrypt ---------------------------------------------------------------------


def test_encrypt_then_decrypt_with_the_keys_own_algorithm(rsa_files: tuple[str, str]) -> None:
    private, public = rsa_files
    encrypted = run("encrypt", "--key", public, "attack at dawn")
    assert encrypted.code == 0, encrypted.err
    token = encrypted.out.strip()
    assert encrypted.out.endswith("\n")
    assert protected_header(token) == {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "enc-1"}
    decrypted = run("decrypt", "--key", private, token)
    assert (decrypted.code, decrypted.out, decrypted.err) == (0, "attack at dawn", "")


def test_encrypt_and_decrypt_json_schemas(rsa_files: tuple[str, str]) -> None:
    private, public = rsa_files
    data = run("encrypt", "--key", public, "--enc", "A128CBC-HS256", "hi", "--json").json()
    assert set(data) == {"token", "header"}
    assert data["header"] == protected_header(data["token"])
    assert data["header"]["enc"] == "A128CBC-HS256"
    result = run("decrypt", "--key", private, "--json", data["token"]).json()
    assert set(result) == DECRYPT_KEYS
    assert result["decrypted"] is True
    assert result["serialization"] == "compact"
    assert (result["algorithm"], result["encryption"]) == ("RSA-OAEP-256", "A128CBC-HS256")
    assert result["kid"] == "enc-1"
    assert result["header"] == data["header"]
    assert result["unprotected"] is None
    assert result["recipient_index"] is None
    assert (result["plaintext"], result["plaintext_base64url"], result["length"]) == (
        "hi",
        "aGk",
        2,
    )


def test_binary_plaintext_from_a_file_or_stdin_comes_back_byte_for_byte(
    tmp_path: Path, rsa_files: tuple[str, str]
) -> None:
    private, public = rsa_files
    source = write(tmp_path / "data.bin", BINARY)
    from_file = run("encrypt", "--key", public, "--in", source).out.strip()
    code, out, _ = run_bytes("decrypt", "--key", private, from_file)
    assert (code, out) == (0, BINARY)
    code, piped, _ = run_bytes("encrypt", "--key", public, stdin=BINARY)
    assert code == 0
    code, out, _ = run_bytes("decrypt", "--key", private, piped.decode().strip())
    assert (code, out) == (0, BINARY)
    result = run("decrypt", "--key", private, "--json", from_file).json()
    assert result["plaintext"] is None  # not UTF-8
    assert base64.urlsafe_b64decode(result["plaintext_base64url"] + "==") == BINARY


def test_decrypt_reads_the_token_from_stdin_or_a_file(
    tmp_path: Path, rsa_files: tuple[str, str]
) -> None:
    private, public = rsa_files
    token = run("encrypt", "--key", public, "x").out.strip()
    assert run("decrypt", "--key", private, stdin=token + "\n").out == "x"
    assert run("decrypt", "--key", private, write(tmp_path / "t.jwe", token + "\n")).out == "x"


def test_plaintext_on_a_terminal_has_control_characters_escaped(
    rsa_files: tuple[str, str],
) -> None:
    private, public = rsa_files
    token = jwe.encrypt(
        b"hi\x1b[31m red\n", jwtkit.Key.from_jwk(json.loads(Path(public).read_text())),
        algorithm="RSA-OAEP-256", encryption="A256GCM",
    )  # fmt: skip
    shown = run("decrypt", "--key", private, token, tty_stdout=True)
    assert shown.code == 0
    assert "\x1b" not in shown.out
    assert shown.out == "hi\\u001b[31m red\n"
    token = jwe.encrypt(
        b"no newline", jwtkit.Key.from_jwk(json.loads(Path(public).read_text())),
        algorithm="RSA-OAEP-256", encryption="A256GCM",
    )  # fmt: skip
    assert run("decrypt", "--key", private, token, tty_stdout=True).out == "no newline\n"


def test_plaintext_input_errors_are_usage_errors(
    tmp_path: Path, rsa_files: tuple[str, str]
) -> None:
    _, public = rsa_files
    both = one_line_error(run("encrypt", "--key", public, "x", "--in", public), 2)
    assert both == "give the plaintext either as PLAINTEXT or with --in, not both"
    missing = one_line_error(run("encrypt", "--key", public, tty_stdin=True), 2)
    assert missing.startswith("missing PLAINTEXT")
    unreadable = one_line_error(run("encrypt", "--key", public, "--in", str(tmp_path / "no")), 2)
    assert unreadable.startswith("--in: cannot read")


def test_a_key_is_required_and_only_one_source(rsa_files: tuple[str, str]) -> None:
    _, public = rsa_files
    assert one_line_error(run("encrypt", "x"), 2).startswith("no key: give --key FILE")
    message = one_line_error(run("encrypt", "--key", public, "--secret-env", "MY_SECRET", "x"), 2)
    assert message.startswith("--secret-env: the environment variable MY_SECRET is not set")
    both = run("encrypt", "--key", public, "--secret-env", "HOME", "x")
    assert one_line_error(both, 2) == "give either --key or a secret option, not both"
    # $JWT_SECRET holds an HMAC secret: it is never taken as an encryption key.
    env = {"JWT_SECRET": "k8Jz3QmX9pLw2VbN7rTc5HsY1dGf4eAu"}
    assert run("decrypt", "a.b.c.d.e", env=env).code == 2


def test_encrypt_needs_alg_when_the_key_fits_several(tmp_path: Path, rsa_plain: jwtkit.Key) -> None:
    public = jwk_file(tmp_path, "rsa.pub.jwk", rsa_plain.public_key(), private=False)
    message = one_line_error(run("encrypt", "--key", public, "x"), 2)
    assert message == (
        "--alg is required for this RSA key (it fits RSA-OAEP, RSA-OAEP-256, RSA-OAEP-384, "
        "RSA-OAEP-512)"
    )
    token = run("encrypt", "--key", public, "--alg", "RSA-OAEP-512", "x").out.strip()
    assert protected_header(token)["alg"] == "RSA-OAEP-512"
    x25519 = jwk_file(tmp_path, "x.jwk", jwtkit.Key.generate("OKP", crv="X25519").public_key())
    message = one_line_error(run("encrypt", "--key", x25519, "x"), 2)
    assert message.startswith("--alg is required for this OKP key (it fits ECDH-ES, ")
    signing = jwk_file(tmp_path, "ed.jwk", jwtkit.Key.generate("OKP", crv="Ed25519"))
    message = one_line_error(run("encrypt", "--key", signing, "x"), 2)
    assert message.endswith("(it fits none: it is not an encryption key)")


def test_encrypt_refuses_a_signing_algorithm_and_a_key_that_does_not_fit(tmp_path: Path) -> None:
    es256 = jwk_file(tmp_path, "es.jwk", jwtkit.Key.generate("ES256"))
    message = one_line_error(run("encrypt", "--key", es256, "x"), 2)
    assert message == "the key's alg 'ES256' is not a JWE key-management algorithm"
    oct16 = jwk_file(tmp_path, "k16.jwk", jwtkit.Key.generate("oct", size=128))
    refused = one_line_error(run("encrypt", "--key", oct16, "--alg", "A256KW", "x"), 2)
    assert "A256KW" in refused


def test_ecdh_es_to_an_x25519_key(tmp_path: Path) -> None:
    key = jwtkit.Key.generate("OKP", crv="X25519")
    private = jwk_file(tmp_path, "x.jwk", key)
    public = jwk_file(tmp_path, "x.pub.jwk", key.public_key(), private=False)
    token = run("encrypt", "--key", public, "--alg", "ECDH-ES+A256KW", "--enc", "A128GCM", "m")
    header = protected_header(token.out.strip())
    assert (header["alg"], header["enc"], header["epk"]["crv"]) == (
        "ECDH-ES+A256KW",
        "A128GCM",
        "X25519",
    )
    assert run("decrypt", "--key", private, token.out.strip()).out == "m"


@pytest.mark.parametrize(
    ("size", "enc"),
    [(128, "A128GCM"), (192, "A192GCM"), (256, "A256GCM"), (384, "A192CBC-HS384"),
     (512, "A256CBC-HS512")],
)  # fmt: skip
def test_a_dir_key_picks_the_content_encryption_its_length_fits(
    tmp_path: Path, size: int, enc: str
) -> None:
    key = jwk_file(tmp_path, "dir.jwk", jwtkit.Key.generate("oct", size=size))
    token = run("encrypt", "--key", key, "--alg", "dir", "shared").out.strip()
    assert protected_header(token) == {"alg": "dir", "enc": enc}
    assert token.split(".")[1] == ""
    assert run("decrypt", "--key", key, "--alg", "dir", token).out == "shared"


def test_headers_kid_typ_cty_and_typed_members(tmp_path: Path) -> None:
    keys = [jwtkit.Key.generate("A256KW", kid=kid) for kid in ("a", "b")]
    jwks = write(
        tmp_path / "set.json", json.dumps({"keys": [k.to_jwk(private=True) for k in keys]})
    )
    ambiguous = one_line_error(run("encrypt", "--key", jwks, "x"), 2)
    assert ambiguous == "--key: pick one key of the JWK Set with --kid (it holds 2 keys)"
    unknown = one_line_error(run("encrypt", "--key", jwks, "--kid", "z", "x"), 2)
    assert unknown == "--key: pick one key of the JWK Set with --kid (no key has that kid)"
    token = run(
        "encrypt", "--key", jwks, "--kid", "b", "--typ", "secret+jwe", "--cty", "json",
        "--header", "n=42", "--header", "apu=42", "{}",
    ).out.strip()  # fmt: skip
    assert protected_header(token) == {
        "alg": "A256KW", "enc": "A256GCM", "n": 42, "apu": "42", "kid": "b",
        "typ": "secret+jwe", "cty": "json",
    }  # fmt: skip
    # The set decrypts: the kid picks the key.
    assert run("decrypt", "--key", jwks, token).out == "{}"
    bad = one_line_error(run("encrypt", "--key", jwks, "--kid", "a", "--header", "x", "m"), 2)
    assert bad.startswith("--header: expected NAME=VALUE")


def test_a_header_the_library_refuses_is_a_usage_error(tmp_path: Path) -> None:
    key = jwk_file(tmp_path, "k.jwk", jwtkit.Key.generate("A256KW"))
    result = run("encrypt", "--key", key, "--header", "enc=A128GCM", "m")
    assert one_line_error(result, 2) == "headers['enc'] is 'A128GCM' but encryption is 'A256GCM'"


def test_decrypt_failures_are_one_opaque_error(tmp_path: Path, rsa_files: tuple[str, str]) -> None:
    private, public = rsa_files
    token = run("encrypt", "--key", public, "m").out.strip()
    stranger = jwtkit.Key.generate("RSA-OAEP-256", kid="enc-1")
    wrong = jwk_file(tmp_path, "other.jwk", stranger)
    assert one_line_error(run("decrypt", "--key", wrong, token), 1) == "decryption failed"
    parts = token.split(".")
    parts[3] = b64(b"\x00" * len(base64.urlsafe_b64decode(parts[3] + "==")))
    tampered = ".".join(parts)
    assert one_line_error(run("decrypt", "--key", private, tampered), 1) == "decryption failed"
    failed = run("decrypt", "--key", private, "--json", tampered)
    assert failed.code == 1
    assert failed.json() == {
        "decrypted": False,
        "error": {"code": "decryption_failed", "message": "decryption failed"},
    }
    malformed = run("decrypt", "--key", private, "a.b.c.d.e")
    assert one_line_error(malformed, 1)
    assert one_line_error(run("decrypt", "--key", private, "not-a-token"), 2)


def test_decrypt_allow_lists_default_to_what_the_key_fits(
    tmp_path: Path, rsa_plain: jwtkit.Key
) -> None:
    private = jwk_file(tmp_path, "rsa.jwk", rsa_plain)
    for alg in ("RSA-OAEP", "RSA-OAEP-384"):
        token = jwe.encrypt(b"m", rsa_plain.public_key(), algorithm=alg, encryption="A192GCM")
        assert run("decrypt", "--key", private, token).out == "m"
    token = jwe.encrypt(b"m", rsa_plain.public_key(), algorithm="RSA-OAEP", encryption="A192GCM")
    refused = run("decrypt", "--key", private, "--alg", "RSA-OAEP-256", token)
    assert one_line_error(refused, 1).startswith("algorithm 'RSA-OAEP' is not allowed")
    refused = run("decrypt", "--key", private, "--enc", "A256GCM", token)
    assert "A192GCM" in one_line_error(refused, 1)
    ed = jwk_file(tmp_path, "ed.jwk", jwtkit.Key.generate("OKP", crv="Ed25519"))
    message = one_line_error(run("decrypt", "--key", ed, token), 2)
    assert message == "no JWE key-management algorithm fits the given key"


def test_decrypt_json_serialization_from_a_file(tmp_path: Path) -> None:
    first = jwtkit.Key.generate("ECDH-ES+A128KW", kid="ec")
    second = jwtkit.Key.generate("A128KW", kid="kw")
    data = jwe.encrypt_json(
        b"to both",
        [jwe.Recipient(first.public_key(), "ECDH-ES+A128KW"), jwe.Recipient(second, "A128KW")],
        encryption="A128CBC-HS256",
        unprotected={"cty": "text/plain"},
        aad=b"context",
    )
    path = write(tmp_path / "general.json", json.dumps(data))
    result = run("decrypt", "--key", jwk_file(tmp_path, "kw.jwk", second), "--json", path).json()
    assert result["serialization"] == "json"
    assert result["recipient_index"] == 1
    assert result["recipient_header"]["kid"] == "kw"
    assert result["unprotected"] == {"cty": "text/plain"}
    assert result["plaintext"] == "to both"
    assert run("decrypt", "--key", jwk_file(tmp_path, "ec.jwk", first), path).out == "to both"


def test_zip_warns_and_decompression_is_capped(tmp_path: Path) -> None:
    key = jwk_file(tmp_path, "k.jwk", jwtkit.Key.generate("A256KW"))
    text = "a" * 5000
    result = run("encrypt", "--key", key, "--zip", text)
    assert result.code == 0
    assert warnings_of(result.err) == [f"jwtkit: warning: {jwe_cli.ZIP_WARNING}"]
    token = result.out.strip()
    assert protected_header(token)["zip"] == "DEF"
    assert run("decrypt", "--key", key, token).out == text
    capped = run("decrypt", "--key", key, "--max-decompressed-size", "4999", token)
    assert one_line_error(capped, 1)


def test_pbes2_needs_allow_pbes2_both_ways(tmp_path: Path) -> None:
    secret = write(tmp_path / "pass.txt", PASSWORD + "\n")
    alg = "PBES2-HS256+A128KW"
    refused = run("encrypt", "--secret-file", secret, "--alg", alg, "m")
    assert one_line_error(refused, 2).endswith("add --allow-pbes2 to use it")
    made = run(
        "encrypt", "--secret-file", secret, "--alg", alg, "--allow-pbes2", "--p2c", "1000", "m"
    )
    assert made.code == 0, made.err
    assert warnings_of(made.err) == [f"jwtkit: warning: {jwe_cli.PBES2_WARNING}"]
    token = made.out.strip()
    assert protected_header(token)["p2c"] == 1000
    refused = run("decrypt", "--secret-file", secret, "--alg", alg, token)
    assert one_line_error(refused, 2).endswith("add --allow-pbes2 to use it")
    # Without --alg, a secret fits dir/AES key wrap only; PBES2 joins the defaults with the flag.
    opened = run("decrypt", "--secret-file", secret, "--allow-pbes2", token)
    assert (opened.code, opened.out) == (0, "m")
    assert len(warnings_of(opened.err)) == 1
    stronger = run(
        "encrypt", "--secret-file", secret, "--alg", alg, "--allow-pbes2", "--p2c", "2000", "m"
    ).out.strip()
    capped = run(
        "decrypt", "--secret-file", secret, "--alg", alg, "--allow-pbes2",
        "--max-pbes2-count", "1000", stronger,
    )  # fmt: skip
    assert "p2c" in one_line_error(capped, 1)


def test_p2c_only_for_pbes2_and_a_bare_secret_needs_alg(tmp_path: Path) -> None:
    key = jwk_file(tmp_path, "k.jwk", jwtkit.Key.generate("A256KW"))
    message = one_line_error(run("encrypt", "--key", key, "--p2c", "5000", "m"), 2)
    assert message == "--p2c applies to PBES2 only, not A256KW"
    password = write(tmp_path / "pass.txt", PASSWORD)
    # A bare secret fits dir and the three PBES2: the caller must choose.
    message = one_line_error(run("encrypt", "--secret-file", password, "--allow-pbes2", "m"), 2)
    assert message == (
        "--alg is required for this oct key (it fits dir, PBES2-HS256+A128KW, "
        "PBES2-HS384+A192KW, PBES2-HS512+A256KW)"
    )


def test_a_keys_own_opt_in_algorithm_needs_its_flag(tmp_path: Path) -> None:
    password = jwtkit.OctKey(PASSWORD, alg="PBES2-HS512+A256KW")
    key = jwk_file(tmp_path, "p.jwk", password)
    message = one_line_error(run("encrypt", "--key", key, "m"), 2)
    assert message.startswith("the key's alg PBES2-HS512+A256KW derives the key from a password")
    message = one_line_error(run("decrypt", "--key", key, "a.b.c.d.e"), 2)
    assert message.startswith("the key's alg PBES2-HS512+A256KW derives")


def rsa1_5_token(key: jwtkit.Key, plaintext: bytes) -> str:
    """A compact RSA1_5 + A128GCM JWE made with cryptography alone (jwtkit never makes one)."""
    public = serialization.load_pem_public_key(key.public_key().to_pem())
    assert isinstance(public, rsa.RSAPublicKey)
    cek, iv = os.urandom(16), os.urandom(12)
    header = b64(json.dumps({"alg": "RSA1_5", "enc": "A128GCM"}).encode())
    sealed = AESGCM(cek).encrypt(iv, plaintext, header.encode("ascii"))
    wrapped = public.encrypt(cek, padding.PKCS1v15())
    return ".".join([header, b64(wrapped), b64(iv), b64(sealed[:-16]), b64(sealed[-16:])])


def test_rsa1_5_decrypts_only_with_allow_legacy_and_never_encrypts(
    tmp_path: Path, rsa_plain: jwtkit.Key
) -> None:
    private = jwk_file(tmp_path, "rsa.jwk", rsa_plain)
    public = jwk_file(tmp_path, "rsa.pub.jwk", rsa_plain.public_key(), private=False)
    token = rsa1_5_token(rsa_plain, b"legacy")
    not_allowed = one_line_error(run("decrypt", "--key", private, token), 1)
    assert not_allowed.startswith("algorithm 'RSA1_5' is not allowed")
    named = one_line_error(run("decrypt", "--key", private, "--alg", "RSA1_5", token), 2)
    assert named.endswith("add --allow-legacy to decrypt it anyway")
    opened = run("decrypt", "--key", private, "--allow-legacy", token)
    assert (opened.code, opened.out) == (0, "legacy")
    assert warnings_of(opened.err) == [f"jwtkit: warning: {jwe_cli.LEGACY_WARNING}"]
    explicit = run("decrypt", "--key", private, "--alg", "RSA1_5", "--allow-legacy", token)
    assert explicit.out == "legacy"
    refused = one_line_error(run("encrypt", "--key", public, "--alg", "RSA1_5", "m"), 2)
    assert refused.startswith("--alg is RSA1_5: jwtkit never encrypts with it")
    bound = jwtkit.Key.from_jwk({**rsa_plain.public_key().to_jwk(), "alg": "RSA1_5"})
    refused = one_line_error(run("encrypt", "--key", jwk_file(tmp_path, "b.jwk", bound), "m"), 2)
    assert refused.startswith("the key's alg is RSA1_5: jwtkit never encrypts with it")


def test_a_usage_error_of_the_library_while_decrypting_is_status_2(
    monkeypatch: pytest.MonkeyPatch, rsa_files: tuple[str, str]
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise UsageError("the library says the call is wrong")

    monkeypatch.setattr(jwe_cli, "decrypt", refuse)
    message = one_line_error(run("decrypt", "--key", rsa_files[0], "a.b.c.d.e"), 2)
    assert message == "the library says the call is wrong"


def test_the_registry_helper_warns_once_per_flag_and_matches_the_librarys_opt_in() -> None:
    assert jwe_cli.jwe_registry(False, False) is DEFAULT_REGISTRY
    with pytest.warns(InsecureAlgorithmWarning):
        expected = DEFAULT_REGISTRY.including(PBES2_HS256_A128KW)
    runner = CliRunner()
    with runner.isolation() as (_, err, _):
        registry = jwe_cli.jwe_registry(True, True)
        sys.stderr.flush()
        lines = err.getvalue().decode().splitlines()
    assert lines == [
        f"jwtkit: warning: {jwe_cli.LEGACY_WARNING}",
        f"jwtkit: warning: {jwe_cli.PBES2_WARNING}",
    ]
    assert "RSA1_5" in registry.key_management_names
    assert expected.key_management_names < registry.key_management_names


def test_secrets_never_appear_in_errors(tmp_path: Path) -> None:
    key = jwtkit.Key.generate("A256KW")
    secret = key.to_jwk(private=True)["k"]
    path = jwk_file(tmp_path, "k.jwk", key)
    token = jwe.encrypt(b"m", key, algorithm="A256KW", encryption="A256GCM")
    other = jwk_file(tmp_path, "o.jwk", jwtkit.Key.generate("A256KW"))
    for result in (
        run("decrypt", "--key", other, token),
        run("encrypt", "--key", path, "--alg", "A128KW", "m"),
    ):
        assert result.code != 0
        assert secret not in result.err
        assert token not in result.err


# -- decode and audit of a JWE ---------------------------------------------------------------


def test_decode_shows_the_segment_sizes_and_the_nested_note(rsa_files: tuple[str, str]) -> None:
    _, public = rsa_files
    token = run("encrypt", "--key", public, "--cty", "JWT", "a.b.c").out.strip()
    shown = run("decode", token)
    assert shown.code == 0
    assert "Encrypted" in shown.out
    assert "encrypted key  256 bytes" in shown.out
    assert "iv             12 bytes" in shown.out
    assert "tag            16 bytes" in shown.out
    assert "nested JWT (cty JWT): open it with 'jwtkit decrypt --key KEY'" in shown.out
    plain = run("decode", run("encrypt", "--key", public, "m").out.strip())
    assert "nested JWT" not in plain.out


def audit_ids(header: dict[str, Any]) -> dict[str, str]:
    token = ".".join([b64(json.dumps(header).encode()), "", "AAAA", "BBBB", "CCCC"])
    data = run("audit", "--json", token).json()
    return {f["id"]: f["severity"] for f in data["findings"]}


def test_audit_flags_rsa1_5_high_and_zip_medium() -> None:
    found = audit_ids({"alg": "RSA1_5", "enc": "A128GCM", "zip": "DEF"})
    assert found == {"alg-rsa1_5": "high", "header-zip": "medium"}
    assert audit_ids({"alg": "RSA-OAEP-256", "enc": "A256GCM"}) == {}
    assert audit_ids({"alg": "RSA-OAEP-257", "enc": "A256GCM"}) == {"alg-unknown": "medium"}


@pytest.mark.parametrize(
    ("alg", "p2c", "expected"),
    [
        ("PBES2-HS256+A128KW", 4096, {"pbes2-p2c-low": "medium"}),
        ("PBES2-HS256+A128KW", 599_999, {"pbes2-p2c-low": "medium"}),
        ("PBES2-HS256+A128KW", 600_000, {}),
        ("PBES2-HS384+A192KW", 210_000, {}),
        ("PBES2-HS512+A256KW", 209_999, {"pbes2-p2c-low": "medium"}),
        ("PBES2-HS512+A256KW", 600_001, {"pbes2-p2c-high": "medium"}),
        ("PBES2-HS256+A128KW", 999, {"pbes2-p2c-invalid": "high"}),
        ("PBES2-HS256+A128KW", "600000", {"pbes2-p2c-invalid": "high"}),
        ("PBES2-HS256+A128KW", None, {"pbes2-p2c-invalid": "high"}),
    ],
)
def test_audit_flags_a_pbes2_count_outside_owasps_range(
    alg: str, p2c: object, expected: dict[str, str]
) -> None:
    header: dict[str, Any] = {"alg": alg, "enc": "A128GCM", "p2s": "c2FsdHNhbHQ"}
    if p2c is not None:
        header["p2c"] = p2c
    assert audit_ids(header) == expected


def test_audit_of_a_real_pbes2_token_names_the_fix(tmp_path: Path) -> None:
    with pytest.warns(InsecureAlgorithmWarning):
        registry = DEFAULT_REGISTRY.including(PBES2_HS256_A128KW)
    token = jwe.encrypt(
        b"m", jwtkit.OctKey(PASSWORD), algorithm="PBES2-HS256+A128KW", encryption="A128GCM",
        headers={"p2c": 1000}, registry=registry,
    )  # fmt: skip
    result = run("audit", "--fail-on", "medium", token)
    assert result.code == 1
    assert "pbes2-p2c-low" in result.out
    assert "re-encrypt with p2c of at least 600,000" in result.out


# -- a real process --------------------------------------------------------------------------


def test_encrypt_and_decrypt_in_real_processes(tmp_path: Path) -> None:
    command = shutil.which("jwtkit", path=str(Path(sys.executable).parent))
    assert command is not None
    env = {k: v for k, v in os.environ.items() if k not in {"JWT_SECRET", "NO_COLOR"}}

    def sh(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(  # noqa: S603 - fixed arguments
            [command, *args], cwd=tmp_path, input=stdin, capture_output=True, env=env,
            timeout=60, check=False,
        )  # fmt: skip

    keygen = sh("keygen", "--alg", "ECDH-ES+A256KW", "--out", "ec.jwk", "--public-out", "ec.pub")
    assert keygen.returncode == 0, keygen.stderr
    encrypted = sh("encrypt", "--key", "ec.pub", "-", stdin=BINARY)
    assert encrypted.returncode == 0, encrypted.stderr
    decrypted = sh("decrypt", "--key", "ec.jwk", stdin=encrypted.stdout)
    assert (decrypted.returncode, decrypted.stdout, decrypted.stderr) == (0, BINARY, b"")
    failed = sh("decrypt", "--key", "ec.pub", stdin=encrypted.stdout)
    assert failed.returncode == 1
    assert failed.stderr.decode().count("\n") == 1
    assert failed.stderr.startswith(b"jwtkit: error: ")


def test_a_secret_that_fits_only_dir_is_refused_by_its_length(tmp_path: Path) -> None:
    secret = write(tmp_path / "odd.secret", "x7Gq2Lr9Vb3Nm8Kd1Wf6Tz4Hs5Ye0Pa3Uo9Ic")
    message = one_line_error(run("encrypt", "--secret-file", secret, "m"), 2)
    assert "dir" in message
    assert "x7Gq2" not in message


def test_plaintext_goes_to_a_text_only_stdout_unchanged(
    monkeypatch: pytest.MonkeyPatch, rsa_oaep: jwtkit.Key
) -> None:
    token = jwe.encrypt(b"caf\xc3\xa9", rsa_oaep, algorithm="RSA-OAEP-256", encryption="A256GCM")
    result = jwe.decrypt(token, rsa_oaep, algorithms=["RSA-OAEP-256"], encryptions=["A256GCM"])
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stream)
    jwe_cli.report(result, "compact", as_json=False)
    assert stream.getvalue() == "café"


def test_a_dir_key_whose_alg_names_the_enc_works_both_ways(tmp_path: Path) -> None:
    """RFC 7520 §5.6 (vectors README quirk 7): the ``dir`` key carries ``"alg": "A128GCM"``."""
    key = jwtkit.OctKey(os.urandom(16), alg="A128GCM", kid="cek")
    path = jwk_file(tmp_path, "cek.jwk", key)
    token = run("encrypt", "--key", path, "m").out.strip()
    assert protected_header(token) == {"alg": "dir", "enc": "A128GCM", "kid": "cek"}
    assert run("decrypt", "--key", path, token).out == "m"


# -- encode --encrypt-to: nested JWTs --------------------------------------------------------


def test_encode_encrypt_to_signs_then_encrypts(
    tmp_path: Path, es256_files: tuple[str, str], es256_key: jwtkit.Key
) -> None:
    api = jwtkit.Key.generate("ECDH-ES+A256KW", kid="api-enc")
    api_private = jwk_file(tmp_path, "api.jwk", api)
    api_public = jwk_file(tmp_path, "api.pub.jwk", api.public_key(), private=False)
    signing_key, _ = es256_files
    made = run(
        "encode", "--key", signing_key, "--claim", "sub=42", "--claim", "aud=api",
        "--encrypt-to", api_public, "--json",
    )  # fmt: skip
    assert made.code == 0, made.err
    data = made.json()
    assert set(data) == {"token", "header", "claims"}
    token = data["token"]
    assert data["header"] == protected_header(token)
    assert (data["header"]["alg"], data["header"]["enc"]) == ("ECDH-ES+A256KW", "A256GCM")
    assert data["header"]["cty"] == "JWT"
    claims = jwtkit.decode(
        token, es256_key.public_key(), algorithms=["ES256"], audience="api", now=NOW_OF_TESTS,
        decryption_key=api, decryption_algorithms=["ECDH-ES+A256KW"],
        content_encryptions=["A256GCM"],
    )  # fmt: skip
    assert claims == {"sub": "42", "aud": "api", "iat": NOW_OF_TESTS}
    inner = run("decrypt", "--key", api_private, token).out
    assert inner.count(".") == 2
    assert jwtkit.decode(inner, es256_key.public_key(), algorithms=["ES256"], audience="api",
                         now=NOW_OF_TESTS) == claims  # fmt: skip
    plain = run("encode", "--key", signing_key, "--encrypt-to", api_public, "--enc", "A128GCM")
    assert protected_header(plain.out.strip())["enc"] == "A128GCM"
    assert "nested JWT (cty JWT)" in run("decode", plain.out.strip()).out


def test_encode_encryption_options_need_encrypt_to(
    tmp_path: Path, es256_files: tuple[str, str], rsa_plain: jwtkit.Key
) -> None:
    signing_key, _ = es256_files
    message = one_line_error(run("encode", "--key", signing_key, "--enc", "A256GCM"), 2)
    assert message == "--enc applies only with --encrypt-to KEY"
    both = one_line_error(
        run("encode", "--key", signing_key, "--enc-alg", "A256KW", "--enc", "A256GCM"), 2
    )
    assert both == "--enc-alg and --enc apply only with --encrypt-to KEY"
    rsa = jwk_file(tmp_path, "rsa.pub.jwk", rsa_plain.public_key(), private=False)
    message = one_line_error(run("encode", "--key", signing_key, "--encrypt-to", rsa), 2)
    assert message.startswith("--enc-alg is required for this RSA key (it fits RSA-OAEP, ")
    made = run(
        "encode", "--key", signing_key, "--encrypt-to", rsa, "--enc-alg", "RSA-OAEP-256"
    ).out.strip()
    assert protected_header(made)["alg"] == "RSA-OAEP-256"
