"""RFC vectors for keys: RFC 7517 A/B, RFC 8037 A.1-A.3, RFC 7638 §3.1, RFC 9278, RFC 9964 A.1,
RFC 7520 §3."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from jwtkit._keys.mldsa_support import ML_DSA_MIN_CRYPTOGRAPHY, MLDSA_MODULE
from jwtkit._keys.thumbprint import canonical_json
from jwtkit.errors import InvalidKey
from jwtkit.jwk import Key, KeySet, OctKey, OKPKey
from vectors import VECTORS_DIR, cookbook_paths, load_cookbook, load_rfc_cases

_RFC_FILES = ("rfc7515", "rfc7516", "rfc7517", "rfc7518", "rfc7519", "rfc7638", "rfc7797",
              "rfc8037", "rfc9278", "rfc9964")  # fmt: skip
#: AKP keys (RFC 9964) need a cryptography that signs with ML-DSA; elsewhere they skip.
_NEEDS_MLDSA = pytest.mark.skipif(
    MLDSA_MODULE is None, reason=f"ML-DSA needs cryptography >= {ML_DSA_MIN_CRYPTOGRAPHY}"
)


def _cases(kind: str) -> list[Any]:
    return [
        pytest.param(
            case,
            id=f"{name}-{case['id']}",
            marks=[_NEEDS_MLDSA] if case.get("key", {}).get("kty") == "AKP" else [],
        )
        for name in _RFC_FILES
        for case in load_rfc_cases(name)
        if case["kind"] == kind
    ]


def test_vectors_directory_exists() -> None:
    assert (VECTORS_DIR / "README.md").is_file(), f"missing test vectors at {VECTORS_DIR}"


def test_every_key_kind_is_covered() -> None:
    assert len(_cases("jwk")) == 9
    assert len(_cases("thumbprint")) == 6


@pytest.mark.parametrize("case", _cases("jwk"))
def test_rfc_jwk_case(case: dict[str, Any]) -> None:
    expected = case["expected"]
    assert expected["valid"] is True
    if "jwks" in case:
        keyset = KeySet.from_jwks(case["jwks"])
        assert keyset.skipped == ()
        assert len(keyset) == expected["key_count"]
        assert [key.kid for key in keyset] == expected["kids"]
        assert [key.kty for key in keyset] == expected["kty"]
        assert [key.thumbprint() for key in keyset] == expected["thumbprints"]
        if "private" in expected:
            assert [key.is_private for key in keyset] == expected["private"]
        exported = keyset.to_jwks(private=all(key.is_private for key in keyset))
        assert KeySet.from_jwks(exported) == keyset
        return
    key = Key.from_jwk(case["key"])
    assert key.is_private is expected["private"]
    assert key.thumbprint() == expected["thumbprint"]
    if "public_x" in expected:
        assert isinstance(key, OKPKey)
        assert key.public_key().to_jwk()["x"] == expected["public_x"]
    if "x5c_matches_key" in expected:
        assert key.x5c is not None
        assert key.to_jwk()["x5c"] == case["key"]["x5c"]
        certificate = x509.load_der_x509_certificate(base64.b64decode(key.x5c[0]))
        assert Key.from_cryptography(certificate).thumbprint() == key.thumbprint()
        assert certificate.subject.rfc4514_string() == expected["x5c_subject"]
        not_after = certificate.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert not_after == expected["x5c_not_after"]
    assert key.to_jwk(private=key.is_private) == case["key"]


@pytest.mark.parametrize("case", _cases("thumbprint"))
def test_rfc_thumbprint_case(case: dict[str, Any]) -> None:
    expected = case["expected"]
    key = Key.from_jwk(case["key"])
    assert expected["hash"] == "SHA-256"
    members = key._thumbprint_members()
    assert canonical_json(members).decode("utf-8") == expected["canonical_json"]
    if "digest_hex" in expected:
        digest = hashes.Hash(hashes.SHA256())
        digest.update(canonical_json(members))
        assert digest.finalize().hex() == expected["digest_hex"]
    assert key.thumbprint() == expected["thumbprint"]
    assert key.thumbprint("sha256") == expected["thumbprint"]
    if "thumbprint_uri" in expected:
        assert key.thumbprint_uri() == expected["thumbprint_uri"]
    assert key.thumbprint_uri().endswith(":sha-256:" + expected["thumbprint"])


@pytest.mark.parametrize("relpath", cookbook_paths("jwk"))
def test_rfc7520_jwk_imports_and_round_trips(relpath: str) -> None:
    jwk = load_cookbook(relpath)
    key = Key.from_jwk(jwk)
    assert key.kid == jwk["kid"]
    assert key.to_jwk(private=key.is_private) == jwk
    assert Key.from_jwk(key.to_jwk(private=key.is_private)) == key
    if not isinstance(key, OctKey):
        assert key.public_key().to_jwk() == {
            name: value for name, value in jwk.items() if name in {"kty", "kid", "use", "crv",
                                                                    "x", "y", "n", "e", "alg"}
        }  # fmt: skip


def test_rfc7520_cookbook_has_six_jwks() -> None:
    assert len(cookbook_paths("jwk")) == 6


def test_rfc7520_quirk_8_rsa_and_ec_share_a_kid() -> None:
    keys = [load_cookbook(path) for path in cookbook_paths("jwk")[:4]]
    keyset = KeySet.from_jwks({"keys": keys})
    kid = "bilbo.baggins@hobbiton.example"
    assert len(keyset.get(kid)) == 4
    assert [key.kty for key in keyset.select(kid, "RS256", "verify")] == ["RSA", "RSA"]
    assert [key.kty for key in keyset.select(kid, "ES512", "verify")] == ["EC", "EC"]
    assert [key.is_private for key in keyset.select(kid, "ES512", "sign")] == [True]
    assert keyset.select(kid, "ES256", "verify") == ()


def test_rfc7520_quirk_7_dir_key_with_enc_alg_is_imported_but_not_usable_for_dir() -> None:
    key = Key.from_jwk(load_cookbook("jwk/3_6.symmetric_key_encryption.json"))
    assert key.alg == "A256GCM"
    assert key.supports("dir")
    with pytest.raises(InvalidKey, match="restricted to 'alg'"):
        key.check_usable("dir", "decrypt")
