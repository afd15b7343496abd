"""``jwtkit.oidc.token_hash``: the at_hash / c_hash of OpenID Connect Core §3.1.3.6, §3.3.2.11,
against published values, and refused where no hash is defined."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import jwtkit
from jwtkit.oidc import token_hash

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "oidc" / "token-hashes.json"
CASES: list[dict[str, Any]] = json.loads(VECTORS.read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['alg']}-{c.get('crv', '')}")
def test_token_hash_matches_the_published_values(case: dict[str, Any]) -> None:
    key = jwtkit.OKPKey.generate(case["crv"]) if "crv" in case else None
    assert token_hash(case["value"], case["alg"], key) == case["hash"]


def test_fully_specified_edwards_algorithms_need_no_key() -> None:
    """RFC 9864 §2: the names Ed25519 and Ed448 say the curve, hence the hash."""
    by_curve = {c["crv"]: c for c in CASES if "crv" in c}
    for curve in ("Ed25519", "Ed448"):
        assert token_hash(by_curve[curve]["value"], curve) == by_curve[curve]["hash"]


def test_the_hash_length_follows_the_algorithm() -> None:
    # Half of 32, 48 and 64 octets, base64url without padding; ES256K uses SHA-256 (RFC 8812).
    lengths = {"HS256": 22, "RS384": 32, "PS512": 43, "ES256K": 22, "ES384": 32}
    for alg, length in lengths.items():
        assert len(token_hash("code", alg)) == length


@pytest.mark.parametrize(
    ("value", "alg", "key", "message"),
    [
        ("code", "EdDSA", None, "depends on the key's curve"),
        ("code", "EdDSA", "rsa", "depends on the key's curve"),
        ("code", "none", None, "no hash is defined for algorithm 'none'"),
        ("code", "RS1", None, "no hash is defined"),
        ("code", 256, None, "no hash is defined for algorithm a value of type int"),
        ("cödé", "RS256", None, "must be an ASCII string"),
        (b"code", "RS256", None, "must be an ASCII string"),
    ],
)
def test_token_hash_refuses_what_has_no_hash(
    value: Any, alg: Any, key: str | None, message: str
) -> None:
    signing_key = jwtkit.RSAKey.generate("RS256") if key == "rsa" else None
    with pytest.raises(jwtkit.UsageError, match=message):
        token_hash(value, alg, signing_key)
