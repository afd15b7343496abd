"""The key commands and the audits with AKP keys (ML-DSA, RFC 9964)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import jwtkit
from jwtkit._codec import b64url_encode
from jwtkit._keys.mldsa_support import ML_DSA_MIN_CRYPTOGRAPHY, MLDSA_MODULE
from jwtkit.cli.audit_issuer import audit_jwks

from .helpers import NOW, run

needs_mldsa = pytest.mark.skipif(
    MLDSA_MODULE is None, reason=f"ML-DSA needs cryptography >= {ML_DSA_MIN_CRYPTOGRAPHY}"
)


@needs_mldsa
@pytest.mark.parametrize("alg", ["ML-DSA-44", "ML-DSA-65", "ML-DSA-87"])
def test_keygen_thumbprint_and_jwks(tmp_path: Path, alg: str) -> None:
    private, public, pem = tmp_path / "k.jwk", tmp_path / "k.pub.jwk", tmp_path / "k.pem"
    result = run("keygen", "--alg", alg, "--out", str(private), "--public-out", str(public))
    assert result.code == 0, result
    key = jwtkit.Key.from_jwk(private.read_text())
    assert isinstance(key, jwtkit.AKPKey)
    assert (key.alg, key.kid) == (alg, key.thumbprint())
    assert f"{alg} key {key.kid} written" in result.err
    assert run("keygen", "--alg", alg, "--format", "pem", "--out", str(pem)).code == 0
    assert jwtkit.Key.from_pem(pem.read_text()).alg == alg

    printed = run("thumbprint", str(public))
    assert printed.out == key.thumbprint() + "\n"
    assert run("thumbprint", "--uri", str(private)).out.strip() == key.thumbprint_uri()

    published = run("jwks", str(private), str(pem)).json()
    assert [jwk["kty"] for jwk in published["keys"]] == ["AKP", "AKP"]
    assert all("priv" not in jwk and jwk["alg"] == alg for jwk in published["keys"])
    assert published["keys"][0] == key.public_key().to_jwk()


@needs_mldsa
def test_keygen_refuses_a_curve_or_size_for_ml_dsa() -> None:
    result = run("keygen", "--alg", "ML-DSA-65", "--crv", "P-256")
    assert result.code == 2
    assert "do not apply to AKP keys" in result.err
    assert "Traceback" not in result.err


@needs_mldsa
def test_jwks_alg_option_never_overrides_an_akp_keys_own_alg(tmp_path: Path) -> None:
    """``--alg`` only fills in keys without one, and an AKP key always has its alg."""
    key = tmp_path / "k.jwk"
    key.write_text(json.dumps(jwtkit.Key.generate("ML-DSA-65").public_key().to_jwk()))
    result = run("jwks", "--alg", "ES256", str(key))
    assert result.code == 0, result
    assert result.json()["keys"][0]["alg"] == "ML-DSA-65"


@needs_mldsa
def test_audit_of_an_ml_dsa_token_finds_no_algorithm_problem(tmp_path: Path) -> None:
    key = jwtkit.Key.generate("ML-DSA-87", kid="pq")
    token = jwtkit.encode({"iss": "x", "sub": "s", "iat": NOW, "exp": NOW + 60, "jti": "1"}, key)
    result = run("audit", "--json", token)
    assert result.code == 0, result
    report = result.json()
    assert not [f for f in report["findings"] if f["id"].startswith("alg-")]


@needs_mldsa
def test_an_issuer_publishing_ml_dsa_keys() -> None:
    keys = [jwtkit.Key.generate(alg, kid=alg).public_key().to_jwk() for alg in ("ML-DSA-65",) * 2]
    keys[1]["kid"] = "next"
    findings, per_alg = audit_jwks(
        {"keys": keys}, {"id_token_signing_alg_values_supported": ["ML-DSA-65", "ML-DSA-44"]}
    )
    assert per_alg == {"ML-DSA-65": 2}
    assert [(f.id, f.severity) for f in findings] == [("alg-without-key", "medium")]
    assert "ML-DSA-44" in findings[0].message


def test_a_published_akp_priv_is_critical() -> None:
    """RFC 9964 §3: ``priv`` holds the private key (the seed). Whether or not this cryptography
    can read the key, publishing it is critical."""
    jwk = {
        "kty": "AKP",
        "alg": "ML-DSA-44",
        "kid": "leak",
        "pub": b64url_encode(bytes(1312)),
        "priv": b64url_encode(bytes(32)),
    }
    findings, _ = audit_jwks({"keys": [jwk]})
    critical = [f for f in findings if f.severity == "critical"]
    assert [f.id for f in critical] == ["jwk-private-key-published"]
    assert "(priv)" in critical[0].message
