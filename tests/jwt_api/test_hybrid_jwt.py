"""Tests of JWTs in the JWS JSON serialization with several signatures (hybrid tokens):
``jwt.encode_json``, ``jwt.decode_json`` and ``Verifier.decode_json``: the signature policy
first, then the header rules of a JWT, then the claims (the core's ClaimsPolicy), and
interoperability of the multi-signature JSON serialization with jwcrypto.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import pytest
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws

import jwtkit
from jwtkit import jws, jwt
from jwtkit._codec import b64url_decode
from jwtkit._keys import mldsa_support
from jwtkit.errors import (
    ExpiredToken,
    InvalidAudience,
    InvalidIssuer,
    InvalidSignature,
    InvalidType,
    MalformedToken,
    MissingClaim,
    MissingSignature,
    UsageError,
)
from jwtkit.jwk import Key, KeySet
from jwtkit.jws import SignaturePolicy, Signer
from jwtkit.testing import FrozenClock

NOW = 1_800_000_000
CLASSICAL = "ES256"
# The post-quantum half of the hybrid pair (EdDSA stands in where cryptography lacks ML-DSA).
SECOND = "EdDSA" if mldsa_support.MLDSA_MODULE is None else "ML-DSA-65"
C_KEY = Key.generate(CLASSICAL, kid="c-1")
S_KEY = Key.generate(SECOND, kid="s-1")
TRUSTED = KeySet([C_KEY.public_key(), S_KEY.public_key()], allow_mixed=True)
ALGS = [CLASSICAL, SECOND]
CLAIMS = {"iss": "https://id.example", "aud": "api", "sub": "42"}
REQUIRE = SignaturePolicy.require(SECOND)


def hybrid(claims: Mapping[str, Any] = CLAIMS, **kwargs: Any) -> dict[str, Any]:
    return jwt.encode_json(
        claims, [Signer(C_KEY, CLASSICAL), Signer(S_KEY, SECOND)], now=NOW, **kwargs
    )


def verifier(**kwargs: Any) -> jwtkit.Verifier:
    options: dict[str, Any] = {
        "algorithms": ALGS,
        "issuer": "https://id.example",
        "audience": "api",
        "clock": FrozenClock(NOW),
    }
    options.update(kwargs)
    return jwtkit.Verifier(TRUSTED, **options)


def test_round_trip_under_each_policy() -> None:
    document = hybrid(expires_in=300)
    assert len(document["signatures"]) == 2
    for entry in document["signatures"]:
        header = json.loads(b64url_decode(entry["protected"], "h"))
        assert header["typ"] == "JWT"
    for policy in (SignaturePolicy.any(), SignaturePolicy.all(), REQUIRE):
        decoded = verifier().decode_json(json.dumps(document), policy=policy)
        assert decoded.claims == {**CLAIMS, "iat": NOW, "exp": NOW + 300}
        assert decoded.algorithms == (CLASSICAL, SECOND)
        assert [s.key.kid for s in decoded.signatures if s.key] == ["c-1", "s-1"]


def test_one_shot_decode_json_takes_decodes_arguments() -> None:
    document = hybrid(expires_in=300)
    decoded = jwt.decode_json(
        document,
        TRUSTED,
        policy=REQUIRE,
        algorithms=ALGS,
        audience="api",
        issuer="https://id.example",
        now=NOW + 10,
    )
    assert decoded.claims["sub"] == "42"
    with pytest.raises(ExpiredToken):
        jwt.decode_json(
            document, TRUSTED, policy=REQUIRE, algorithms=ALGS, audience="api", now=NOW + 301
        )


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"exp": NOW - 1}, ExpiredToken),
        ({"aud": "other"}, InvalidAudience),
        ({"iss": "https://evil.example"}, InvalidIssuer),
    ],
)
def test_claims_are_validated_after_the_policy(
    change: dict[str, Any], error: type[Exception]
) -> None:
    document = hybrid({**CLAIMS, **change})
    with pytest.raises(error):
        verifier().decode_json(document, policy=REQUIRE)


def test_a_required_claim_is_required() -> None:
    with pytest.raises(MissingClaim):
        verifier(require=["jti"]).decode_json(hybrid(), policy=REQUIRE)


def test_the_signature_error_wins_over_the_claims_error() -> None:
    """Security matrix E4: an expired token stripped of its second signature reports the
    missing signature, not the expiry."""
    document = hybrid({**CLAIMS, "exp": NOW - 1})
    del document["signatures"][1]
    with pytest.raises(MissingSignature):
        verifier().decode_json(document, policy=REQUIRE)


def test_a_stripped_token_passes_any_and_fails_require_and_all() -> None:
    document = hybrid()
    del document["signatures"][1]
    assert verifier().decode_json(document, policy=SignaturePolicy.any()).algorithms == (CLASSICAL,)
    for policy in (REQUIRE, SignaturePolicy.all()):
        with pytest.raises(MissingSignature):
            verifier().decode_json(document, policy=policy)


def test_a_bad_second_signature_refuses_even_under_any() -> None:
    document = hybrid()
    entry = document["signatures"][1]
    entry["signature"] = entry["signature"][::-1]
    with pytest.raises((InvalidSignature, MalformedToken)):
        verifier().decode_json(document, policy=SignaturePolicy.any())


def test_typ_is_checked_on_every_verified_signature_and_must_be_protected() -> None:
    document = jwt.encode_json(
        CLAIMS,
        [
            Signer(C_KEY, CLASSICAL, protected={"typ": "at+jwt"}),
            Signer(S_KEY, SECOND, unprotected={"typ": "at+jwt"}),
        ],
        now=NOW,
    )
    assert "typ" not in json.loads(b64url_decode(document["signatures"][1]["protected"], "h"))
    # The first signature's protected typ is right: a verifier of that signature alone agrees.
    classical_only = verifier(typ="at+jwt", algorithms=[CLASSICAL])
    assert classical_only.decode_json(document, policy=SignaturePolicy.any())
    # The second has typ only unprotected, where anyone could have put it.
    for policy in (SignaturePolicy.any(), SignaturePolicy.require(CLASSICAL), REQUIRE):
        with pytest.raises(InvalidType):
            verifier(typ="at+jwt").decode_json(document, policy=policy)
    with pytest.raises(InvalidType):
        verifier(typ="JWT").decode_json(document, policy=SignaturePolicy.any())


def test_typ_none_leaves_the_header_without_typ() -> None:
    document = hybrid(typ=None)
    header = json.loads(b64url_decode(document["signatures"][0]["protected"], "h"))
    assert "typ" not in header
    assert verifier().decode_json(document, policy=REQUIRE).claims["sub"] == "42"


def test_encode_json_takes_encodes_time_arguments_and_never_mutates() -> None:
    claims = {"sub": "42", "nbf": datetime(2027, 1, 1, tzinfo=timezone.utc)}
    document = jwt.encode_json(claims, [Signer(C_KEY)], not_before=60, now=NOW)
    assert isinstance(claims["nbf"], datetime)
    payload = json.loads(b64url_decode(document["payload"], "payload"))
    assert payload == {"sub": "42", "nbf": NOW + 60}


@pytest.mark.parametrize(
    ("signers", "kwargs"),
    [
        (Signer(C_KEY), {}),
        ("ES256", {}),
        ([C_KEY], {}),
        ([Signer(C_KEY, protected={"b64": False})], {}),
        ([Signer(C_KEY)], {"typ": 5}),
    ],
)
def test_encode_json_wrong_calls(signers: Any, kwargs: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        jwt.encode_json(CLAIMS, signers, **kwargs)


def _with_header(document: dict[str, Any], index: int, **members: Any) -> dict[str, Any]:
    """Re-sign entry ``index`` with extra protected members (the payload kept)."""
    payload = b64url_decode(document["payload"], "payload")
    signers = [Signer(C_KEY, CLASSICAL), Signer(S_KEY, SECOND)]
    signer = signers[index]
    signers[index] = Signer(signer.key, signer.algorithm, protected=members)
    return jws.sign_json(payload, signers)


def test_a_nested_cty_is_refused() -> None:
    document = _with_header(hybrid(), 1, cty="JWT")
    with pytest.raises(MalformedToken, match="nested"):
        verifier().decode_json(document, policy=REQUIRE)


def test_an_unencoded_payload_is_refused() -> None:
    text = json.dumps(CLAIMS).encode()
    document = jws.sign_json(
        text,
        [
            Signer(C_KEY, CLASSICAL, protected={"b64": False}),
            Signer(S_KEY, SECOND, protected={"b64": False}),
        ],
    )
    with pytest.raises(MalformedToken, match="b64"):
        verifier().decode_json(document, policy=REQUIRE)


def test_a_json_jwt_is_not_a_compact_jwt_and_the_reverse() -> None:
    """Security matrix A7: each entry point reads one serialization only."""
    document = hybrid()
    with pytest.raises(MalformedToken):
        jwtkit.decode(json.dumps(document), TRUSTED, algorithms=ALGS)
    compact = jwtkit.encode(CLAIMS, C_KEY)
    with pytest.raises(MalformedToken):
        verifier().decode_json(compact, policy=SignaturePolicy.any())


def test_decode_json_refuses_a_decrypting_verifier() -> None:
    decrypting = jwtkit.Verifier(
        TRUSTED,
        algorithms=ALGS,
        decryption_key=Key.generate("RSA-OAEP-256"),
        decryption_algorithms=["RSA-OAEP-256"],
        content_encryptions=["A256GCM"],
    )
    with pytest.raises(UsageError, match="decrypt"):
        decrypting.decode_json(hybrid(), policy=REQUIRE)


class _AsyncKeys:
    async def keyset_for_async(self, header: Mapping[str, Any]) -> KeySet:
        return TRUSTED  # pragma: no cover - never awaited: decode_json refuses first


def test_decode_json_refuses_async_keys() -> None:
    with pytest.raises(UsageError, match="keys at hand"):
        jwtkit.Verifier(_AsyncKeys(), algorithms=ALGS).decode_json(hybrid(), policy=REQUIRE)


def test_decode_json_refuses_a_policy_that_is_not_one() -> None:
    with pytest.raises(UsageError):
        verifier().decode_json(hybrid(), policy="require")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# interoperability of the multi-signature JSON serialization with jwcrypto


#: The second signer of the interop tests: the ML-DSA key where jwcrypto has AKP keys (1.6.0
#: on), else an EdDSA key, so that the multi-signature serialization is exchanged either way.
if "AKP" in jwcrypto_jwk.JWKTypesRegistry:
    INTEROP_KEY, INTEROP_ALG = S_KEY, SECOND
else:  # jwcrypto before 1.6.0
    INTEROP_KEY, INTEROP_ALG = Key.generate("EdDSA", kid="ed-1"), "EdDSA"
INTEROP_TRUSTED = KeySet([C_KEY.public_key(), INTEROP_KEY.public_key()], allow_mixed=True)
INTEROP_REQUIRE = SignaturePolicy.require(INTEROP_ALG)


def _jwcrypto_key(key: Key) -> Any:
    return jwcrypto_jwk.JWK.from_json(json.dumps(key.to_jwk(private=True)))


def test_jwcrypto_verifies_each_signature_of_a_jwtkit_hybrid_token() -> None:
    signers = [Signer(C_KEY, CLASSICAL), Signer(INTEROP_KEY, INTEROP_ALG)]
    document = jwt.encode_json(CLAIMS, signers)
    for key, alg in ((C_KEY, CLASSICAL), (INTEROP_KEY, INTEROP_ALG)):
        parsed: Any = jwcrypto_jws.JWS()
        parsed.allowed_algs = [alg]
        parsed.deserialize(json.dumps(document))
        parsed.verify(_jwcrypto_key(key).public())  # raises unless a signature verifies
        assert json.loads(parsed.payload) == CLAIMS


def test_jwtkit_verifies_a_jwcrypto_multi_signature_document_under_each_policy() -> None:
    payload = json.dumps(CLAIMS).encode()
    signed: Any = jwcrypto_jws.JWS(payload)
    signed.allowed_algs = [CLASSICAL, INTEROP_ALG]
    for key, alg in ((C_KEY, CLASSICAL), (INTEROP_KEY, INTEROP_ALG)):
        protected = json.dumps({"alg": alg, "kid": key.kid, "typ": "JWT"})
        signed.add_signature(_jwcrypto_key(key), None, protected)
    text = signed.serialize()
    assert len(json.loads(text)["signatures"]) == 2
    interop = jwtkit.Verifier(
        INTEROP_TRUSTED,
        algorithms=[CLASSICAL, INTEROP_ALG],
        issuer="https://id.example",
        audience="api",
    )
    for policy in (SignaturePolicy.any(), SignaturePolicy.all(), INTEROP_REQUIRE):
        assert interop.decode_json(text, policy=policy).claims == CLAIMS
    stripped = json.loads(text)
    del stripped["signatures"][1]
    with pytest.raises(MissingSignature):
        interop.decode_json(stripped, policy=INTEROP_REQUIRE)
