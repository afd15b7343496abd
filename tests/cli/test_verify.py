"""``jwtkit verify``: keys from files, secrets and remote key sets; every check; every failure
is one line with exit status 1 (2 for bad usage)."""

from __future__ import annotations

import functools
import http.server
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest

import jwtkit
from jwtkit.testing import FrozenClock

from .helpers import NOW, SECRET, one_line_error, run, write

SUCCESS_KEYS = {"valid", "verified", "algorithm", "kid", "header", "claims", "times"}
FAILURE_KEYS = {"valid", "verified", "error"}
ERROR_KEYS = {"code", "message", "claim"}


def es256_token(key: jwtkit.Key, **claims: Any) -> str:
    return jwtkit.encode({"sub": "42", "exp": NOW + 900, **claims}, key, now=NOW)


def test_verify_valid_token_with_a_public_pem(
    es256_key: jwtkit.Key, es256_files: tuple[str, str]
) -> None:
    result = run("verify", "--key", es256_files[1], es256_token(es256_key))
    assert result.code == 0, result
    first = result.out.splitlines()[0]
    assert first == 'VALID  ES256 signature verified with EC key "es-1"; claims checked'
    assert "expires in 15 min" in result.out
    assert result.err == ""


def test_verify_json_schema_on_success_and_failure(
    es256_key: jwtkit.Key, es256_files: tuple[str, str]
) -> None:
    good = run("verify", "--json", "--key", es256_files[0], es256_token(es256_key))
    data = good.json()
    assert set(data) == SUCCESS_KEYS
    assert data["valid"] is True
    assert data["verified"] is True
    assert data["algorithm"] == "ES256"
    assert data["kid"] == "es-1"
    assert data["header"] == {"alg": "ES256", "typ": "JWT", "kid": "es-1"}
    assert data["claims"] == {"sub": "42", "exp": NOW + 900}
    assert data["times"]["exp"]["relative"] == "expires in 15 min"

    expired = es256_token(es256_key, exp=NOW - 3 * 86400)
    bad = run("verify", "--json", "--key", es256_files[0], expired)
    assert one_line_error(bad, 1).startswith("token expired 3 days ago")
    failure = bad.json()
    assert set(failure) == FAILURE_KEYS
    assert failure["valid"] is False
    assert failure["verified"] is False
    assert set(failure["error"]) == ERROR_KEYS
    assert failure["error"]["code"] == "expired"
    assert failure["error"]["claim"] == "exp"


def test_verify_token_without_exp_gets_a_note(
    es256_key: jwtkit.Key, es256_files: tuple[str, str]
) -> None:
    token = jwtkit.encode({"sub": "42"}, es256_key)
    result = run("verify", "--key", es256_files[1], token)
    assert result.code == 0
    assert "no 'exp': this token never expires" in result.out


def test_verify_with_jwk_and_jwks_files(tmp_path: Path, es256_key: jwtkit.Key) -> None:
    other = jwtkit.Key.generate("ES256", kid="es-2")
    token = es256_token(es256_key)
    jwks = {"keys": [other.public_key().to_jwk(), es256_key.public_key().to_jwk()]}
    path = write(tmp_path / "jwks.json", json.dumps(jwks))
    assert run("verify", "--key", path, token).code == 0
    public_jwk = write(tmp_path / "pub.jwk", json.dumps(es256_key.public_key().to_jwk()))
    assert run("verify", "--key", public_jwk, token).code == 0
    wrong = write(tmp_path / "other.jwk", json.dumps(other.public_key().to_jwk()))
    assert (
        one_line_error(run("verify", "--key", wrong, token), 1) == "no trusted key has kid 'es-1'"
    )
    # The key file from standard input, the token as an argument.
    stdin = json.dumps(es256_key.public_key().to_jwk())
    assert run("verify", "--key", "-", token, stdin=stdin).code == 0


def test_verify_jwks_with_skipped_keys_warns(tmp_path: Path, es256_key: jwtkit.Key) -> None:
    jwks = {"keys": [{"kty": "EC", "kid": "broken"}, es256_key.public_key().to_jwk()]}
    path = write(tmp_path / "jwks.json", json.dumps(jwks))
    result = run("verify", "--key", path, es256_token(es256_key))
    assert result.code == 0
    assert result.err.startswith("jwtkit: warning: --key ")
    assert "key 0 (kid 'broken') skipped" in result.err
    empty = write(tmp_path / "empty.json", json.dumps({"keys": [{"kty": "nope"}]}))
    assert "no usable key" in one_line_error(run("verify", "--key", empty, "a.b.c"), 2)


def test_verify_hmac_secret_sources(secret_file: str, monkeypatch: pytest.MonkeyPatch) -> None:
    token = jwtkit.encode({"sub": "42", "exp": NOW + 60}, SECRET)
    from_file = run("verify", "--secret-file", secret_file, token)
    assert from_file.code == 0, from_file
    assert from_file.err == ""
    on_command_line = run("verify", "--secret", SECRET, token)
    assert on_command_line.code == 0
    assert on_command_line.err.startswith("jwtkit: warning: a secret on the command line")
    assert "--secret-file" in on_command_line.err
    assert "JWT_SECRET" in on_command_line.err
    assert SECRET not in on_command_line.err
    assert run("verify", token, env={"JWT_SECRET": SECRET}).code == 0
    assert run("verify", "--secret-env", "MY_SECRET", token, env={"MY_SECRET": SECRET}).code == 0
    unset = run("verify", "--secret-env", "MY_SECRET", token)
    assert "MY_SECRET is not set" in one_line_error(unset, 2)
    crlf = write(Path(secret_file).with_suffix(".crlf"), SECRET + "\r\n")
    assert run("verify", "--secret-file", crlf, token).code == 0
    assert run("verify", "--secret-file", "-", token, stdin=SECRET).code == 0


def test_verify_checks(es256_key: jwtkit.Key, es256_files: tuple[str, str]) -> None:
    key = es256_files[1]
    token = es256_token(
        es256_key, iss="https://id.example", aud=["api", "web"], iat=NOW - 7200, jti="j1"
    )
    ok = run(
        "verify", "--key", key, "--alg", "ES256", "--alg", "ES384", "--iss", "https://id.example",
        "--aud", "nope", "--aud", "web", "--sub", "42", "--typ", "JWT", "--require", "jti,iat",
        "--require", "sub", "--max-age", "3h", token,
    )  # fmt: skip
    assert ok.code == 0, ok
    failures = {
        ("--iss", "https://other.example"): "issuer 'https://id.example' is not accepted",
        ("--aud", "nope"): "does not include 'nope'",
        ("--sub", "43"): "subject '42' is not the expected '43'",
        ("--typ", "at+jwt"): "token type 'JWT' is not the expected 'at+jwt'",
        ("--require", "nonce"): "required claim 'nonce' is missing",
        ("--max-age", "1h"): "more than max_age 3600s",
        ("--alg", "RS256"): "algorithm 'ES256' is not allowed; expected one of ['RS256']",
    }
    for options, expected in failures.items():
        aud = () if options[0] == "--aud" else ("--aud", "api")
        message = one_line_error(run("verify", "--key", key, *aud, *options, token), 1)
        assert expected in message, (options, message)


def test_verify_leeway_and_expiry(
    es256_key: jwtkit.Key, es256_files: tuple[str, str], clock: FrozenClock
) -> None:
    token = es256_token(es256_key)
    clock.advance(930)
    message = one_line_error(run("verify", "--key", es256_files[1], token), 1)
    assert message == "token expired 30 s ago at 2023-11-14T22:28:20Z, leeway 0s"
    assert run("verify", "--key", es256_files[1], "--leeway", "1m", token).code == 0


def test_verify_bad_signature_and_malformed_token(
    es256_key: jwtkit.Key, es256_files: tuple[str, str]
) -> None:
    token = es256_token(es256_key)
    head, payload, signature = token.split(".")
    tampered = f"{head}.{payload}.{signature[::-1]}"
    message = one_line_error(run("verify", "--key", es256_files[1], tampered), 1)
    assert message == "signature verification failed"
    assert one_line_error(run("verify", "--key", es256_files[1], "a.b"), 1).startswith("token:")


def test_verify_usage_errors(
    tmp_path: Path, es256_key: jwtkit.Key, es256_files: tuple[str, str], secret_file: str
) -> None:
    token = es256_token(es256_key)
    assert "no key" in one_line_error(run("verify", token), 2)
    both = run("verify", "--key", es256_files[1], "--secret-file", secret_file, token)
    assert one_line_error(both, 2) == "give either --key or a secret option, not both"
    two_secrets = run("verify", "--secret", "x", "--secret-file", secret_file, token)
    assert "give only one of --secret and --secret-file" in one_line_error(two_secrets, 2)
    remote_both = run("verify", "--jwks", "https://a.example", "--issuer-url", "https://a", token)
    assert one_line_error(remote_both, 2) == "give either --jwks or --issuer-url, not both"
    mixed = run("verify", "--jwks", "https://a.example/jwks", "--key", es256_files[1], token)
    assert "a local key option" in one_line_error(mixed, 2)
    assert "'none' is not one of" in one_line_error(run("verify", "--alg", "none", token), 2)
    bad_leeway = run("verify", "--key", es256_files[1], "--leeway", "soon", token)
    assert "is not a duration" in one_line_error(bad_leeway, 2)
    negative = run("verify", "--key", es256_files[1], "--leeway=-5s", token)
    assert "negative duration" in one_line_error(negative, 2)
    weak = run("verify", "--secret", "secret", token)
    assert "well-known example value" in one_line_error(weak, 2)
    x25519 = write(tmp_path / "x.pem", jwtkit.Key.generate("OKP", crv="X25519").to_pem(True))
    no_alg = run("verify", "--key", x25519, token)
    assert one_line_error(no_alg, 2) == "no signature algorithm fits the given key"
    wrong_key = run("verify", "--key", es256_files[1], "--alg", "HS256", token)
    assert "not allowed" in one_line_error(wrong_key, 1)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"hello", "not a PEM, OpenSSH, DER, JWK or JWK Set file"),
        (b'{"kty": ', "invalid JSON"),
        (b'{"x": 1}', "a JSON key must be a JWK"),
        (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "PEM"),
        (b'{"kty": "EC", "crv": "P-256"}', "'x'"),
        (b"\x30\x03\x02\x01\x01", "DER"),
        (b"ssh-ed25519 AAAAnope", "OpenSSH"),
    ],
)
def test_verify_bad_key_files(tmp_path: Path, content: bytes, expected: str) -> None:
    path = write(tmp_path / "bad.key", content)
    message = one_line_error(run("verify", "--key", path, "a.b.c"), 2)
    assert message.startswith(f"--key {path}: ")
    assert expected in message


def test_verify_unreadable_key_file(tmp_path: Path) -> None:
    message = one_line_error(run("verify", "--key", str(tmp_path), "a.b.c"), 2)
    assert message.startswith(f"--key: cannot read {str(tmp_path)!r}: ")


def test_verify_stdin_is_read_once(es256_files: tuple[str, str]) -> None:
    result = run("verify", "--key", "-", "-", stdin="x")
    assert one_line_error(result, 2) == "--key: standard input is already used for TOKEN"


# -- PyJWT interoperability ------------------------------------------------------------------


def test_pyjwt_tokens_verify_in_the_cli(
    tmp_path: Path, es256_key: jwtkit.Key, rsa_key: jwtkit.Key, secret_file: str
) -> None:
    claims = {"sub": "42", "aud": "api", "exp": NOW + 600}
    hs = pyjwt.encode(claims, SECRET, algorithm="HS256")
    assert run("verify", "--secret-file", secret_file, "--aud", "api", hs).code == 0
    es = pyjwt.encode(claims, es256_key.to_pem(private=True), algorithm="ES256")
    es_pub = write(tmp_path / "es.pem", es256_key.public_key().to_pem())
    assert run("verify", "--key", es_pub, "--aud", "api", es).code == 0
    rs = pyjwt.encode(claims, rsa_key.to_pem(private=True), algorithm="PS256")
    rs_pub = write(tmp_path / "rs.pem", rsa_key.public_key().to_pem())
    result = run("verify", "--key", rs_pub, "--aud", "api", "--json", rs)
    assert result.json()["algorithm"] == "PS256"


# -- remote key sets (a real loopback HTTP server) -------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loopback HTTP server for ``tmp_path/site``: (base URL, directory)."""
    site = tmp_path / "site"
    site.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", site
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_verify_with_a_remote_jwks(served: tuple[str, Path], es256_key: jwtkit.Key) -> None:
    base, site = served
    broken = {"kty": "EC", "kid": "broken", "crv": "P-256"}
    jwks = {"keys": [broken, es256_key.public_key().to_jwk()]}
    write(site / "jwks.json", json.dumps(jwks))
    token = es256_token(es256_key)
    result = run("verify", "--jwks", f"{base}/jwks.json", token)
    assert result.code == 0, result
    assert "skipped" in result.err
    assert result.err.startswith("jwtkit: warning: ")
    with_alg = run("verify", "--jwks", f"{base}/jwks.json", "--alg", "ES256", "--json", token)
    assert with_alg.json()["kid"] == "es-1"
    missing = run("verify", "--jwks", f"{base}/missing.json", token)
    assert "HTTP 404" in one_line_error(missing, 1)


def test_verify_with_issuer_discovery(served: tuple[str, Path], es256_key: jwtkit.Key) -> None:
    base, site = served
    write(site / "jwks.json", json.dumps({"keys": [es256_key.public_key().to_jwk()]}))
    (site / ".well-known").mkdir()
    metadata = {"issuer": base, "jwks_uri": f"{base}/jwks.json"}
    write(site / ".well-known" / "openid-configuration", json.dumps(metadata))
    token = es256_token(es256_key, iss=base)
    assert run("verify", "--issuer-url", base, token).code == 0
    # The issuer URL is also the expected iss, unless --iss says otherwise.
    other = es256_token(es256_key, iss="https://elsewhere.example")
    assert "is not accepted" in one_line_error(run("verify", "--issuer-url", base, other), 1)
    assert (
        run("verify", "--issuer-url", base, "--iss", "https://elsewhere.example", other).code == 0
    )
    nothing = run("verify", "--issuer-url", f"{base}/nothing", token)
    assert "discovery" in one_line_error(nothing, 1)


def test_verify_remote_usage_errors() -> None:
    plain_http = run("verify", "--jwks", "http://example.com/jwks.json", "a.b.c")
    assert "loopback" in one_line_error(plain_http, 2)
    bad_timeout = run(
        "verify", "--jwks", "https://example.com/jwks.json", "--timeout", "0", "t.t.t"
    )
    assert "--timeout" in one_line_error(bad_timeout, 2)


def test_verify_remote_needs_the_remote_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "jwtkit.remote" or m.startswith("jwtkit.remote.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "httpx", None)
    monkeypatch.delattr(jwtkit, "remote", raising=False)
    result = run("verify", "--jwks", "https://example.com/jwks.json", "a.b.c")
    message = one_line_error(result, 2)
    assert message == "jwtkit.remote needs the 'remote' extra: pip install 'jwtkit[remote]'"
