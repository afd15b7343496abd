"""``jwtkit encode``: claims from JSON, files, stdin and ``--claim``; times; headers; keys;
round trips with PyJWT."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest

import jwtkit
from jwtkit.testing import FrozenClock

from .helpers import NOW, SECRET, one_line_error, run, write


def claims_of(token: str) -> dict[str, Any]:
    return jwtkit.decode_unverified(token).claims


def header_of(token: str) -> dict[str, Any]:
    return jwtkit.decode_unverified(token).header


def test_encode_with_claim_options_and_type_inference(es256_files: tuple[str, str]) -> None:
    result = run(
        "encode", "--key", es256_files[0],
        "--claim", "sub=42", "--claim", "n=7", "--claim", "zip=007", "--claim", "f=1.5",
        "--claim", "e=2e3", "--claim", "t=true", "--claim", "no=false", "--claim", "z=null",
        "--claim", "s=hello=world", "--claim", "empty=", "--claim", "inf=1e999",
        "--claim-json", 'roles=["admin"]', "--claim-json", 'n="7"', "--exp", "15m",
    )  # fmt: skip
    assert result.code == 0, result
    token = result.out.strip()
    assert claims_of(token) == {
        "sub": "42", "n": "7", "zip": "007", "f": 1.5, "e": 2000.0, "t": True, "no": False,
        "z": None, "s": "hello=world", "empty": "", "inf": "1e999", "roles": ["admin"],
        "iat": NOW, "exp": NOW + 900,
    }  # fmt: skip
    assert header_of(token) == {"alg": "ES256", "typ": "JWT", "kid": "es-1"}


def test_encode_claims_from_json_argument_file_and_stdin(tmp_path: Path, secret_file: str) -> None:
    base = ("--secret-file", secret_file, "--no-iat")
    from_arg = run("encode", '{"sub": "a", "n": 1}', *base).out.strip()
    assert claims_of(from_arg) == {"sub": "a", "n": 1}
    path = write(tmp_path / "claims.json", '{"sub": "b"}\n')
    assert claims_of(run("encode", "--claims-file", path, *base).out.strip()) == {"sub": "b"}
    piped = run("encode", "-", *base, "--claim", "x=1", stdin='{"sub": "c", "x": 0}')
    assert claims_of(piped.out.strip()) == {"sub": "c", "x": 1}
    assert claims_of(run("encode", *base).out.strip()) == {}


def test_encode_times(secret_file: str, clock: FrozenClock) -> None:
    base = ("--secret-file", secret_file)
    token = run("encode", *base, "--exp", "1h30m", "--nbf", "now", "--iat", "@1600000000")
    assert claims_of(token.out.strip()) == {"exp": NOW + 5400, "nbf": NOW, "iat": 1600000000}
    iso = run("encode", *base, "--expires-in", "2030-01-01T00:00:00Z", "--nbf", "2029-12-31")
    claims = claims_of(iso.out.strip())
    assert claims["exp"] == 1893456000
    assert claims["nbf"] == 1893369600
    keeps = run("encode", '{"iat": 5}', *base)
    assert claims_of(keeps.out.strip()) == {"iat": 5}
    no_iat = run("encode", *base, "--no-iat", "--exp", "900")
    assert claims_of(no_iat.out.strip()) == {"exp": NOW + 900}
    past = run("encode", *base, "--exp", "@1")
    assert past.code == 0
    assert "jwtkit: warning: --exp is not in the future" in past.err


def test_encode_headers_kid_typ_and_alg(tmp_path: Path, secret_file: str) -> None:
    result = run(
        "encode", "--secret-file", secret_file, "--alg", "HS256", "--kid", "k9", "--typ",
        "at+jwt", "--header", "x=1", "--header", "cty=42", "--no-iat",
    )  # fmt: skip
    assert header_of(result.out.strip()) == {
        "alg": "HS256", "typ": "at+jwt", "x": 1, "cty": "42", "kid": "k9"
    }  # fmt: skip
    no_typ = run("encode", "--secret-file", secret_file, "--typ", "", "--no-iat")
    assert header_of(no_typ.out.strip()) == {"alg": "HS256"}


def test_encode_json_schema(secret_file: str) -> None:
    data = run("encode", "--secret-file", secret_file, "--claim", "sub=1", "--json").json()
    assert set(data) == {"token", "header", "claims"}
    assert data["header"] == {"alg": "HS256", "typ": "JWT"}
    assert data["claims"] == {"sub": "1", "iat": NOW}
    assert jwtkit.decode(data["token"], SECRET, algorithms=["HS256"], now=NOW) == data["claims"]


def test_encode_picks_the_algorithm_of_an_asymmetric_key(tmp_path: Path) -> None:
    ec = jwtkit.Key.generate("EC")  # no alg: P-256 fits ES256 only
    pem = write(tmp_path / "ec.pem", ec.to_pem(private=True))
    assert header_of(run("encode", "--key", pem).out.strip())["alg"] == "ES256"
    rsa = write(tmp_path / "rsa.pem", jwtkit.Key.generate("RSA").to_pem(private=True))
    message = one_line_error(run("encode", "--key", rsa), 2)
    assert message.startswith("--alg is required for this RSA key (it fits PS256, PS384")
    assert header_of(run("encode", "--key", rsa, "--alg", "PS256").out.strip())["alg"] == "PS256"
    x25519 = write(tmp_path / "x.pem", jwtkit.Key.generate("OKP", crv="X25519").to_pem(True))
    assert "it is not a signing key" in one_line_error(run("encode", "--key", x25519), 2)


def test_encode_with_a_jwks_file_picks_by_kid(tmp_path: Path) -> None:
    one, two = jwtkit.Key.generate("ES256", kid="a"), jwtkit.Key.generate("EdDSA", kid="b")
    jwks = {"keys": [one.to_jwk(private=True), two.to_jwk(private=True)]}
    path = write(tmp_path / "keys.json", json.dumps(jwks))
    token = run("encode", "--key", path, "--kid", "b").out.strip()
    assert header_of(token) == {"alg": "EdDSA", "typ": "JWT", "kid": "b"}
    assert "it holds 2 keys" in one_line_error(run("encode", "--key", path), 2)
    assert "no key has that kid" in one_line_error(run("encode", "--key", path, "--kid", "c"), 2)
    single = write(tmp_path / "one.json", json.dumps({"keys": [one.to_jwk(private=True)]}))
    assert header_of(run("encode", "--key", single).out.strip())["kid"] == "a"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--secret", "secret"), "--secret: oct key: the secret is a well-known example value"),
        (("--claim", "x"), "--claim: expected NAME=VALUE, got 'x'"),
        (("--claim", "=1"), "--claim: expected NAME=VALUE, got '=1'"),
        (("--header", "novalue"), "--header: expected NAME=VALUE"),
        (("--claim-json", "x=[1,"), "--claim-json x: invalid JSON"),
        (("--claim-json", "x=NaN"), "--claim-json x: invalid JSON (NaN is not allowed)"),
        (("{not json",), "CLAIMS: invalid JSON"),
        (("[1]",), "CLAIMS: expected a JSON object, got an array"),
        (('{"a": 1, "a": 2}',), "duplicate member name 'a'"),
        (("--exp", "5x"), "'5x' is not a time"),
        (("--exp", "@nan"), "expected a Unix time after '@'"),
        (("--exp", "@x"), "expected a Unix time after '@'"),
        (("--iat", "now", "--no-iat"), "give either --iat or --no-iat, not both"),
        (("--alg", "none"), "'none' is not one of"),
        (("--alg", "ES256"), "ES256 needs an EC key on P-256, got oct"),
        (("--header", "b64=false"), "'b64': false is not allowed"),
    ],
)
def test_encode_usage_errors(secret_file: str, args: tuple[str, ...], expected: str) -> None:
    key = () if "--secret" in args else ("--secret-file", secret_file)
    message = one_line_error(run("encode", *args, *key), 2)
    assert expected in message, message
    assert "secret" not in args or SECRET not in message


def test_encode_needs_a_key_and_one_claims_source(tmp_path: Path, secret_file: str) -> None:
    assert "no key" in one_line_error(run("encode"), 2)
    path = write(tmp_path / "c.json", "{}")
    both = run("encode", "{}", "--claims-file", path, "--secret-file", secret_file)
    assert "either as CLAIMS or with --claims-file" in one_line_error(both, 2)
    public = write(tmp_path / "pub.pem", jwtkit.Key.generate("ES256").public_key().to_pem())
    assert "needs the private key" in one_line_error(run("encode", "--key", public), 2)
    missing = run("encode", "--claims-file", str(tmp_path / "none.json"), "--secret-file", "x")
    assert "cannot read" in one_line_error(missing, 2)


def test_encode_uses_the_environment_secret() -> None:
    token = run("encode", "--claim", "sub=1", env={"JWT_SECRET": SECRET}).out.strip()
    assert jwtkit.decode(token, SECRET, algorithms=["HS256"], now=NOW)["sub"] == "1"
    weak = run("encode", env={"JWT_SECRET": "password"})
    assert one_line_error(weak, 2).startswith("$JWT_SECRET: oct key: the secret is a well-known")


# -- PyJWT interoperability ------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["HS256", "ES256", "RS256", "PS384", "EdDSA"])
def test_cli_tokens_verify_in_pyjwt(
    tmp_path: Path, clock: FrozenClock, alg: str, secret_file: str
) -> None:
    import time

    clock.set(int(time.time()))  # PyJWT checks exp against the real clock
    if alg == "HS256":
        key_args: tuple[str, ...] = ("--secret-file", secret_file)
        verify_key: Any = SECRET
    else:
        key = jwtkit.Key.generate(alg)
        key_args = ("--key", write(tmp_path / "k.jwk", json.dumps(key.to_jwk(private=True))))
        verify_key = key.public_key().to_pem()
    result = run("encode", *key_args, "--claim", "sub=42", "--claim", "aud=api", "--exp", "5m")
    assert result.code == 0, result
    token = result.out.strip()
    claims = pyjwt.decode(token, verify_key, algorithms=[alg], audience="api")
    assert claims["sub"] == "42"
    assert pyjwt.get_unverified_header(token)["alg"] == alg
    # and back: the CLI verifies what it signed
    public = write(tmp_path / "pub", verify_key if alg == "HS256" else verify_key.decode())
    option = "--secret-file" if alg == "HS256" else "--key"
    assert run("verify", option, public, "--aud", "api", token).code == 0
