"""DPoP proofs made by ``create_proof`` and checked by ``DPoPVerifier`` (RFC 9449 §4.2, §4.3).

Each §4.3 check is shown failing on its own: a proof that is right in every other respect.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

import jwtkit
from jwtkit import jws
from jwtkit._keys import mldsa_support
from jwtkit.dpop import (
    DEFAULT_ALGORITHMS,
    DPOP_TYP,
    MAX_PQ_PROOF_SIZE,
    MAX_PROOF_SIZE,
    DPoPProof,
    DPoPVerifier,
    access_token_hash,
    create_proof,
    normalize_htu,
)
from jwtkit.errors import InvalidDPoPProof, InvalidKey, UsageError
from jwtkit.testing import FrozenClock

NOW = 1_700_000_000
URL = "https://api.example/items"
TOKEN = "an-access-token"


@pytest.fixture(scope="module")
def key() -> jwtkit.Key:
    return jwtkit.Key.generate("ES256")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def verifier(clock: FrozenClock) -> DPoPVerifier:
    return DPoPVerifier(clock=clock)


def _forge(
    key: jwtkit.Key,
    *,
    header: dict[str, Any] | None = None,
    claims: dict[str, Any] | None = None,
    drop_header: tuple[str, ...] = (),
    drop_claims: tuple[str, ...] = (),
    algorithm: str = "ES256",
) -> str:
    """A proof built by hand, so that one member at a time can be wrong."""
    full_header: dict[str, Any] = {"typ": DPOP_TYP, "jwk": key.public_key().to_jwk()}
    full_header.update(header or {})
    full_claims: dict[str, Any] = {"jti": "j-1", "htm": "GET", "htu": URL, "iat": NOW}
    full_claims.update(claims or {})
    for name in drop_header:
        del full_header[name]
    for name in drop_claims:
        del full_claims[name]
    return jws.sign(json.dumps(full_claims).encode(), key, algorithm, full_header)


def _b64(data: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _unsigned(key: jwtkit.Key, **header: Any) -> str:
    """A proof whose header is refused before any signature is looked at (the signature is
    not one): for header members that signing itself would refuse."""
    full = {"typ": DPOP_TYP, "alg": "ES256", "jwk": key.public_key().to_jwk(), **header}
    full = {name: value for name, value in full.items() if value is not None}
    return f"{_b64(full)}.{_b64({'jti': 'j', 'htm': 'GET', 'htu': URL, 'iat': NOW})}.AAAA"


# -- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", DEFAULT_ALGORITHMS)
def test_round_trip_for_each_default_algorithm(algorithm: str, clock: FrozenClock) -> None:
    key = jwtkit.Key.generate(algorithm)
    proof = create_proof(key, method="POST", url=URL, access_token=TOKEN, clock=clock)
    checked = DPoPVerifier(clock=clock).verify(
        proof, method="POST", url=URL, access_token=TOKEN, jkt=key.thumbprint()
    )
    assert isinstance(checked, DPoPProof)
    assert checked.key == key.public_key()
    assert not checked.key.is_private
    assert checked.jkt == key.thumbprint()
    assert checked.header["alg"] == algorithm
    assert checked.header["typ"] == DPOP_TYP
    assert checked.claims["htm"] == "POST"
    assert checked.claims["ath"] == access_token_hash(TOKEN)
    assert checked.iat == NOW
    assert checked.expires_at == NOW + 60 + 5


def test_proof_header_holds_only_the_public_key(key: jwtkit.Key) -> None:
    proof = create_proof(key, method="GET", url=URL)
    header = jwtkit.decode_unverified(proof).header
    assert header["typ"] == "dpop+jwt"
    assert header["alg"] == "ES256"
    assert "d" not in header["jwk"]
    assert jwtkit.Key.from_jwk(header["jwk"]) == key.public_key()


def test_proof_claims(key: jwtkit.Key, clock: FrozenClock) -> None:
    clock.set(NOW + 0.75)
    proof = create_proof(
        key, method="DELETE", url="HTTPS://API.Example:443/a?q=1#f", nonce="n-1", clock=clock
    )
    claims = jwtkit.decode_unverified(proof).claims
    assert claims["htm"] == "DELETE"
    assert claims["htu"] == "https://api.example/a"
    assert claims["iat"] == NOW
    assert claims["nonce"] == "n-1"
    assert "ath" not in claims
    assert len(base64.urlsafe_b64decode(claims["jti"] + "==")) == 16


def test_each_proof_has_its_own_jti(key: jwtkit.Key) -> None:
    jtis = {jwtkit.decode_unverified(create_proof(key, method="GET", url=URL)).claims["jti"]
            for _ in range(20)}  # fmt: skip
    assert len(jtis) == 20


def test_given_jti_is_used(key: jwtkit.Key) -> None:
    proof = create_proof(key, method="GET", url=URL, jti="mine")
    assert jwtkit.decode_unverified(proof).claims["jti"] == "mine"


def test_kid_and_alg_of_the_key_travel_and_verify(clock: FrozenClock) -> None:
    key = jwtkit.Key.generate("ES384", kid="client-key")
    proof = create_proof(key, method="GET", url=URL, clock=clock)
    header = jwtkit.decode_unverified(proof).header
    assert header["kid"] == "client-key"
    assert header["alg"] == "ES384"
    assert DPoPVerifier(clock=clock).verify(proof, method="GET", url=URL).jkt == key.thumbprint()


def test_certificate_members_are_left_out_of_the_jwk(key: jwtkit.Key) -> None:
    proof = create_proof(key, method="GET", url=URL)
    assert not {"x5c", "x5t", "x5t#S256"} & jwtkit.decode_unverified(proof).header["jwk"].keys()


@pytest.mark.parametrize(
    ("alg_or_kty", "expected"),
    [("EC", "ES256"), ("OKP", "EdDSA"), ("RSA", "PS256")],
)
def test_default_algorithm_by_key_type(alg_or_kty: str, expected: str) -> None:
    key = jwtkit.Key.generate(alg_or_kty)
    proof = create_proof(key, method="GET", url=URL)
    assert jwtkit.decode_unverified(proof).header["alg"] == expected


def test_p384_key_without_alg_signs_es384() -> None:
    key = jwtkit.ECKey.generate(crv="P-384")
    assert jwtkit.decode_unverified(create_proof(key, method="GET", url=URL)).header["alg"] == (
        "ES384"
    )


def test_access_token_hash_is_sha256_of_ascii() -> None:
    digest = hashlib.sha256(b"abc.def").digest()
    assert access_token_hash("abc.def") == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.mark.parametrize("token", ["", "tok\u00e9n", 42])
def test_access_token_hash_refuses_what_is_no_token(token: Any) -> None:
    with pytest.raises(UsageError):
        access_token_hash(token)


# -- create_proof refuses ---------------------------------------------------------------------


def test_symmetric_key_cannot_sign_a_proof() -> None:
    with pytest.raises(UsageError, match="symmetric"):
        create_proof(jwtkit.OctKey.generate(256), method="GET", url=URL)


def test_public_key_cannot_sign_a_proof(key: jwtkit.Key) -> None:
    with pytest.raises(InvalidKey, match="private key"):
        create_proof(key.public_key(), method="GET", url=URL)


def test_not_a_key_is_refused() -> None:
    with pytest.raises(UsageError, match="jwtkit Key"):
        create_proof(b"secret", method="GET", url=URL)  # type: ignore[arg-type]


@pytest.mark.parametrize("algorithm", ["HS256", "none", "RSA-OAEP", "nope"])
def test_proof_algorithm_must_be_asymmetric(key: jwtkit.Key, algorithm: str) -> None:
    with pytest.raises(UsageError, match="asymmetric"):
        create_proof(key, method="GET", url=URL, algorithm=algorithm)


def test_key_without_a_known_algorithm_needs_one() -> None:
    key = jwtkit.OKPKey.generate(crv="Ed448")
    assert (
        jwtkit.decode_unverified(create_proof(key, method="GET", url=URL)).header["alg"] == "EdDSA"
    )
    secp = jwtkit.ECKey.generate(crv="secp256k1")
    assert jwtkit.decode_unverified(create_proof(secp, method="GET", url=URL)).header["alg"] == (
        "ES256K"
    )


def test_key_agreement_key_cannot_sign_a_proof() -> None:
    key = jwtkit.OKPKey.generate(crv="X25519")
    with pytest.raises(UsageError, match="algorithm is required"):
        create_proof(key, method="GET", url=URL)


@pytest.mark.parametrize("method", ["", "GET /", "G\u00c9T", None])
def test_method_must_be_an_http_token(key: jwtkit.Key, method: Any) -> None:
    with pytest.raises(UsageError, match="method"):
        create_proof(key, method=method, url=URL)


@pytest.mark.parametrize("jti", ["", "x" * 257, 5])
def test_jti_is_bounded(key: jwtkit.Key, jti: Any) -> None:
    with pytest.raises(UsageError, match="jti"):
        create_proof(key, method="GET", url=URL, jti=jti)


@pytest.mark.parametrize("nonce", ["", 'a"b', "a b", 7])
def test_nonce_must_be_nqchars(key: jwtkit.Key, nonce: Any) -> None:
    with pytest.raises(UsageError, match="nonce"):
        create_proof(key, method="GET", url=URL, nonce=nonce)


# -- normalize_htu (RFC 9449 §4.3, RFC 3986 §6.2.2-6.2.3) ------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.example/items", "https://api.example/items"),
        ("HTTPS://API.EXAMPLE/items", "https://api.example/items"),
        ("https://api.example:443/items", "https://api.example/items"),
        ("http://api.example:80/items", "http://api.example/items"),
        ("https://api.example:8443/items", "https://api.example:8443/items"),
        ("http://api.example:443/items", "http://api.example:443/items"),
        ("https://api.example", "https://api.example/"),
        ("https://api.example?x=1", "https://api.example/"),
        ("https://api.example/items?x=1&y=2", "https://api.example/items"),
        ("https://api.example/items#frag", "https://api.example/items"),
        ("https://api.example/a/./b/../c", "https://api.example/a/c"),
        ("https://api.example/a/b/..", "https://api.example/a/"),
        ("https://api.example/a/.", "https://api.example/a/"),
        ("https://api.example/../a", "https://api.example/a"),
        ("https://api.example/%7euser/%2fx%2F", "https://api.example/~user/%2Fx%2F"),
        ("https://api.example/Items", "https://api.example/Items"),
        ("https://api.example/caf\u00e9/{x}", "https://api.example/caf%C3%A9/%7Bx%7D"),
        ("https://api.example/caf%c3%a9/%7bx%7d", "https://api.example/caf%C3%A9/%7Bx%7D"),
        ("https://api.example/a:b@c;d=e,f!$&'()*+", "https://api.example/a:b@c;d=e,f!$&'()*+"),
        ("https://api.example/100%", "https://api.example/100%"),
        ("https://[::1]:8443/x", "https://[::1]:8443/x"),
        ("https://[::1]:443/x", "https://[::1]/x"),
    ],
)
def test_normalize_htu(url: str, expected: str) -> None:
    assert normalize_htu(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "ftp://api.example/x",
        "api.example/x",
        "https:///x",
        "https://user:pw@api.example/x",
        "https://api.example:99999/x",
        "https://api.example:port/x",
        "https://api.example/a b",
        "",
        "https://api.example/" + "x" * MAX_PROOF_SIZE,
        3,
    ],
)
def test_normalize_htu_refuses(url: Any) -> None:
    with pytest.raises(UsageError):
        normalize_htu(url)


# -- the verifier's settings ------------------------------------------------------------------


@pytest.mark.parametrize("algorithms", [["HS256"], ["none"], ["ES256", "HS512"], [], "ES256"])
def test_verifier_accepts_only_asymmetric_algorithms(algorithms: Any) -> None:
    with pytest.raises(UsageError):
        DPoPVerifier(algorithms=algorithms)


@pytest.mark.parametrize(
    "options",
    [{"max_age": 0}, {"max_age": -1}, {"leeway": -1}, {"max_age": float("inf")},
     {"leeway": "5"}, {"nonces": "secret"}],
)  # fmt: skip
def test_verifier_refuses_bad_settings(options: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        DPoPVerifier(**options)


def test_verifier_accepts_other_asymmetric_algorithms(clock: FrozenClock) -> None:
    key = jwtkit.Key.generate("ES256K")
    verifier = DPoPVerifier(algorithms=["ES256K", "Ed25519"], clock=clock)
    proof = create_proof(key, method="GET", url=URL, clock=clock)
    assert verifier.verify(proof, method="GET", url=URL).jkt == key.thumbprint()
    assert verifier.algorithms == ("ES256K", "Ed25519")


def test_verify_refuses_a_bad_request_url(verifier: DPoPVerifier, key: jwtkit.Key) -> None:
    proof = create_proof(key, method="GET", url=URL)
    with pytest.raises(UsageError):
        verifier.verify(proof, method="GET", url="not a url")
    with pytest.raises(UsageError):
        verifier.verify(proof, method="", url=URL)


# -- RFC 9449 §4.3, one check failing at a time -----------------------------------------------


@pytest.mark.parametrize(
    "proof",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d.e",
        "!!!.b.c",
        b"x".decode() * (MAX_PROOF_SIZE + 1),
        "eyJhbGciOiJFUzI1NiJ9.e30",
    ],
)
def test_not_a_compact_jws(verifier: DPoPVerifier, proof: str) -> None:
    with pytest.raises(InvalidDPoPProof):
        verifier.verify(proof, method="GET", url=URL)


def test_not_a_string(verifier: DPoPVerifier) -> None:
    with pytest.raises(InvalidDPoPProof):
        verifier.verify(None, method="GET", url=URL)  # type: ignore[arg-type]


def test_header_that_is_no_json_object(verifier: DPoPVerifier) -> None:
    segment = base64.urlsafe_b64encode(b"[1]").rstrip(b"=").decode()
    with pytest.raises(InvalidDPoPProof):
        verifier.verify(f"{segment}.e30.AAAA", method="GET", url=URL)


@pytest.mark.parametrize("typ", ["JWT", "at+jwt", None, 1, "dpop"])
def test_typ_must_be_dpop_jwt(verifier: DPoPVerifier, key: jwtkit.Key, typ: Any) -> None:
    proof = _unsigned(key, typ=typ)
    with pytest.raises(InvalidDPoPProof, match="typ") as excinfo:
        verifier.verify(proof, method="GET", url=URL)
    assert excinfo.value.code == "invalid_dpop_proof"


def test_typ_with_application_prefix_is_the_same_type(
    verifier: DPoPVerifier, key: jwtkit.Key
) -> None:
    proof = _forge(key, header={"typ": "application/dpop+jwt"})
    assert verifier.verify(proof, method="GET", url=URL).jti == "j-1"


def test_alg_none_is_refused(verifier: DPoPVerifier, key: jwtkit.Key) -> None:
    proof = _unsigned(key, alg="none").rpartition(".")[0] + "."
    with pytest.raises(InvalidDPoPProof, match="algorithm 'none' is not accepted"):
        verifier.verify(proof, method="GET", url=URL)


def test_alg_hs256_is_refused(verifier: DPoPVerifier) -> None:
    secret = jwtkit.OctKey.generate(256)
    header = {"typ": DPOP_TYP, "jwk": {"kty": "oct"}}
    claims = {"jti": "j", "htm": "GET", "htu": URL, "iat": NOW}
    proof = jws.sign(json.dumps(claims).encode(), secret, "HS256", header)
    with pytest.raises(InvalidDPoPProof, match="algorithm 'HS256' is not accepted"):
        verifier.verify(proof, method="GET", url=URL)


def test_alg_outside_the_verifiers_list(clock: FrozenClock, key: jwtkit.Key) -> None:
    verifier = DPoPVerifier(algorithms=["EdDSA"], clock=clock)
    with pytest.raises(InvalidDPoPProof, match="ES256"):
        verifier.verify(_forge(key), method="GET", url=URL)


@pytest.mark.parametrize("jwk", [None, "a JWK", ["kty"]])
def test_jwk_must_be_an_object(verifier: DPoPVerifier, key: jwtkit.Key, jwk: Any) -> None:
    proof = _unsigned(key, jwk=jwk)
    with pytest.raises(InvalidDPoPProof, match="'jwk'"):
        verifier.verify(proof, method="GET", url=URL)


def test_private_jwk_is_refused(verifier: DPoPVerifier, key: jwtkit.Key) -> None:
    proof = _forge(key, header={"jwk": key.to_jwk(private=True)})
    with pytest.raises(InvalidDPoPProof, match="private") as excinfo:
        verifier.verify(proof, method="GET", url=URL)
    assert key.to_jwk(private=True)["d"] not in str(excinfo.value)


def test_akp_jwk_with_priv_is_refused(verifier: DPoPVerifier, key: jwtkit.Key) -> None:
    """RFC 9964 §3: an AKP key's ``priv`` (the seed) is private: refused before it is read."""
    seed = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    akp = {"kty": "AKP", "alg": "ML-DSA-44", "pub": "AAAA", "priv": seed}
    proof = _forge(key, header={"jwk": akp})
    with pytest.raises(InvalidDPoPProof, match="private key members") as excinfo:
        verifier.verify(proof, method="GET", url=URL)
    assert seed not in str(excinfo.value)


def test_symmetric_jwk_is_refused(verifier: DPoPVerifier, key: jwtkit.Key) -> None:
    proof = _forge(key, header={"jwk": {"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}})
    with pytest.raises(InvalidDPoPProof, match="private"):
        verifier.verify(proof, method="GET", url=URL)


def test_unusable_jwk_is_refused(verifier: DPoPVerifier, key: jwtkit.Key) -> None:
    proof = _forge(key, header={"jwk": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}})
    with pytest.raises(InvalidDPoPProof, match="usable public key"):
        verifier.verify(proof, method="GET", url=URL)


def test_signature_by_another_key_is_refused(verifier: DPoPVerifier, key: jwtkit.Key) -> None:
    other = jwtkit.Key.generate("ES256")
    proof = _forge(other, header={"jwk": key.public_key().to_jwk()})
    with pytest.raises(InvalidDPoPProof, match="signature"):
        verifier.verify(proof, method="GET", url=URL)


def test_jwk_restricted_to_another_alg_is_refused(verifier: DPoPVerifier, key: jwtkit.Key) -> None:
    jwk = dict(key.public_key().to_jwk(), use="enc")
    with pytest.raises(InvalidDPoPProof):
        verifier.verify(_forge(key, header={"jwk": jwk}), method="GET", url=URL)


def test_kid_in_the_jwk_is_only_a_hint(verifier: DPoPVerifier, key: jwtkit.Key) -> None:
    jwk = dict(key.public_key().to_jwk(), kid="one")
    proof = _forge(key, header={"jwk": jwk, "kid": "another"})
    assert verifier.verify(proof, method="GET", url=URL).jkt == key.thumbprint()


def test_unknown_critical_header_is_refused(verifier: DPoPVerifier, key: jwtkit.Key) -> None:
    with pytest.raises(InvalidDPoPProof, match="crit"):
        verifier.verify(
            _forge(key, header={"crit": ["exp-ext"], "exp-ext": 1}), method="GET", url=URL
        )


def test_unencoded_payload_is_refused(verifier: DPoPVerifier, key: jwtkit.Key) -> None:
    header = {"typ": DPOP_TYP, "jwk": key.public_key().to_jwk(), "b64": False}
    claims = {"jti": "j", "htm": "GET", "htu": "http://localhost/x", "iat": NOW}
    proof = jws.sign(json.dumps(claims).encode(), key, "ES256", header)
    with pytest.raises(InvalidDPoPProof, match="b64"):
        verifier.verify(proof, method="GET", url="http://localhost/x")


def test_payload_that_is_no_json_object(verifier: DPoPVerifier, key: jwtkit.Key) -> None:
    header = {"typ": DPOP_TYP, "jwk": key.public_key().to_jwk()}
    proof = jws.sign(b"[1, 2]", key, "ES256", header)
    with pytest.raises(InvalidDPoPProof, match="claims"):
        verifier.verify(proof, method="GET", url=URL)


@pytest.mark.parametrize("claim", ["jti", "htm", "htu", "iat"])
def test_each_claim_is_required(verifier: DPoPVerifier, key: jwtkit.Key, claim: str) -> None:
    with pytest.raises(InvalidDPoPProof, match=f"'{claim}' is missing"):
        verifier.verify(_forge(key, drop_claims=(claim,)), method="GET", url=URL)


@pytest.mark.parametrize("jti", ["", 7, None, "x" * 257])
def test_jti_must_be_a_bounded_string(verifier: DPoPVerifier, key: jwtkit.Key, jti: Any) -> None:
    with pytest.raises(InvalidDPoPProof, match="'jti'"):
        verifier.verify(_forge(key, claims={"jti": jti}), method="GET", url=URL)


@pytest.mark.parametrize("htm", ["POST", "get", None, 1])
def test_htm_must_be_the_method(verifier: DPoPVerifier, key: jwtkit.Key, htm: Any) -> None:
    with pytest.raises(InvalidDPoPProof, match="'htm'"):
        verifier.verify(_forge(key, claims={"htm": htm}), method="GET", url=URL)


@pytest.mark.parametrize(
    "htu",
    [
        "https://other.example/items",
        "https://api.example:8443/items",
        "http://api.example/items",
        "https://api.example/items/",
        "https://api.example/other",
        "https://api.example/Items",
        "https://api.example.evil/items",
        None,
        ["https://api.example/items"],
    ],
)
def test_htu_must_be_the_url(verifier: DPoPVerifier, key: jwtkit.Key, htu: Any) -> None:
    with pytest.raises(InvalidDPoPProof, match="'htu'"):
        verifier.verify(_forge(key, claims={"htu": htu}), method="GET", url=URL)


@pytest.mark.parametrize("htu", ["ftp://api.example/items", "not a url", ""])
def test_htu_that_is_no_http_url(verifier: DPoPVerifier, key: jwtkit.Key, htu: str) -> None:
    with pytest.raises(InvalidDPoPProof, match="'htu' is not an http"):
        verifier.verify(_forge(key, claims={"htu": htu}), method="GET", url=URL)


@pytest.mark.parametrize(
    ("htu", "url"),
    [
        ("https://api.example/items", "https://api.example/items?page=2"),
        ("https://api.example/items?page=2", "https://api.example/items"),
        ("https://api.example/items#top", "https://api.example/items"),
        ("HTTPS://API.EXAMPLE:443/items", "https://api.example/items"),
        ("https://api.example/items", "https://API.example:443/./items"),
        ("https://api.example/%7Eme", "https://api.example/~me"),
    ],
)
def test_htu_matches_after_normalization(
    verifier: DPoPVerifier, key: jwtkit.Key, htu: str, url: str
) -> None:
    assert verifier.verify(_forge(key, claims={"htu": htu}), method="GET", url=url).jti == "j-1"


@pytest.mark.parametrize("age", [66, 1000, -6, -100])
def test_iat_outside_the_window(verifier: DPoPVerifier, key: jwtkit.Key, age: int) -> None:
    with pytest.raises(InvalidDPoPProof, match=r"'iat'|issued"):
        verifier.verify(_forge(key, claims={"iat": NOW - age}), method="GET", url=URL)


@pytest.mark.parametrize("age", [65, 0, -5])
def test_iat_inside_the_window(verifier: DPoPVerifier, key: jwtkit.Key, age: int) -> None:
    proof = _forge(key, claims={"iat": NOW - age})
    assert verifier.verify(proof, method="GET", url=URL).iat == NOW - age


def test_iat_window_follows_the_clock(
    verifier: DPoPVerifier, key: jwtkit.Key, clock: FrozenClock
) -> None:
    proof = create_proof(key, method="GET", url=URL, clock=clock)
    clock.advance(66)
    with pytest.raises(InvalidDPoPProof, match="max_age"):
        verifier.verify(proof, method="GET", url=URL)


@pytest.mark.parametrize("iat", ["1700000000", True, None, 1e300])
def test_iat_must_be_a_numeric_date(verifier: DPoPVerifier, key: jwtkit.Key, iat: Any) -> None:
    with pytest.raises(InvalidDPoPProof, match="iat"):
        verifier.verify(_forge(key, claims={"iat": iat}), method="GET", url=URL)


def test_fractional_iat(verifier: DPoPVerifier, key: jwtkit.Key) -> None:
    checked = verifier.verify(_forge(key, claims={"iat": NOW - 0.5}), method="GET", url=URL)
    assert checked.iat == NOW - 1
    assert checked.expires_at == NOW - 0.5 + 65


def test_exp_in_a_proof_is_checked_too(verifier: DPoPVerifier, key: jwtkit.Key) -> None:
    with pytest.raises(InvalidDPoPProof, match="expired"):
        verifier.verify(_forge(key, claims={"exp": NOW - 10}), method="GET", url=URL)


def test_aud_in_a_proof_is_no_obstacle(verifier: DPoPVerifier, key: jwtkit.Key) -> None:
    proof = _forge(key, claims={"aud": "https://api.example"})
    assert verifier.verify(proof, method="GET", url=URL).claims["aud"] == "https://api.example"


@pytest.mark.parametrize("ath", ["wrong", None, 5, access_token_hash("another-token")])
def test_ath_must_hash_the_access_token(verifier: DPoPVerifier, key: jwtkit.Key, ath: Any) -> None:
    proof = _forge(key, claims={"ath": ath}) if ath is not None else _forge(key)
    with pytest.raises(InvalidDPoPProof, match="'ath'"):
        verifier.verify(proof, method="GET", url=URL, access_token=TOKEN)


def test_ath_is_not_needed_without_an_access_token(
    verifier: DPoPVerifier, key: jwtkit.Key, clock: FrozenClock
) -> None:
    proof = create_proof(key, method="GET", url=URL, access_token=TOKEN, clock=clock)
    assert verifier.verify(proof, method="GET", url=URL).claims["ath"] == access_token_hash(TOKEN)


@pytest.mark.parametrize("jkt", ["not-it", "", 42])
def test_jkt_must_be_the_keys_thumbprint(verifier: DPoPVerifier, key: jwtkit.Key, jkt: Any) -> None:
    with pytest.raises(InvalidDPoPProof, match=r"cnf\.jkt"):
        verifier.verify(_forge(key), method="GET", url=URL, jkt=jkt)


def test_jkt_of_another_key_is_refused(verifier: DPoPVerifier, key: jwtkit.Key) -> None:
    other = jwtkit.Key.generate("ES256")
    with pytest.raises(InvalidDPoPProof, match=r"cnf\.jkt"):
        verifier.verify(_forge(key), method="GET", url=URL, jkt=other.thumbprint())


def test_errors_never_carry_the_whole_proof(verifier: DPoPVerifier, key: jwtkit.Key) -> None:
    proof = _forge(key, claims={"htm": "POST"})
    with pytest.raises(InvalidDPoPProof) as excinfo:
        verifier.verify(proof, method="GET", url=URL)
    assert proof not in str(excinfo.value)
    assert proof.split(".")[2] not in repr(excinfo.value)


@pytest.mark.skipif(
    mldsa_support.MLDSA_MODULE is None,
    reason=f"ML-DSA needs cryptography >= {mldsa_support.ML_DSA_MIN_CRYPTOGRAPHY}",
)
@pytest.mark.parametrize("algorithm", ["ML-DSA-44", "ML-DSA-65", "ML-DSA-87"])
def test_post_quantum_proofs_fit_when_ml_dsa_is_allowed(algorithm: str, clock: FrozenClock) -> None:
    """An ML-DSA proof outgrows the classical size bound (ML-DSA-65: about 8.4 KB with a long
    ``htu`` and ``ath``); a verifier that allows it accepts the larger bound, the others keep
    the small one."""
    key = jwtkit.Key.generate(algorithm)
    url = "https://api.example/" + "x" * 200
    proof = create_proof(key, method="GET", url=url, access_token="t" * 1000, clock=clock)
    allowing = DPoPVerifier(algorithms=[algorithm, "ES256"], clock=clock)
    assert allowing.verify(proof, method="GET", url=url, access_token="t" * 1000).jkt
    assert len(proof) <= MAX_PQ_PROOF_SIZE
    if len(proof) > MAX_PROOF_SIZE:
        with pytest.raises(InvalidDPoPProof, match=f"more than the maximum {MAX_PROOF_SIZE}"):
            DPoPVerifier(clock=clock).verify(proof, method="GET", url=url)
