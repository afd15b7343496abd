"""Tests of signature policies over the JWS JSON Serialization (``jws.SignaturePolicy``,
``jws.verify_json_policy``): each policy accepts and refuses exactly where its documentation
says, over the matrix {classical only, post-quantum only, both valid, one invalid, PQ stripped,
extra unknown signer, same algorithm twice} x {any, all, require}, in both orders.

The matrix runs for each pair of (classical, second) algorithms in ``PAIRS``: two classical
schemes (ES256 + EdDSA) and the hybrid pairs ES256 + ML-DSA-65 and RS256 + ML-DSA-87.
"""

from __future__ import annotations

import copy
import json
import warnings
from dataclasses import dataclass
from typing import Any

import pytest

from jwtkit import jwa, jws
from jwtkit._codec import b64url_decode, b64url_encode
from jwtkit._keys import mldsa_support
from jwtkit.errors import (
    AlgorithmNotAllowed,
    AmbiguousKey,
    InvalidKey,
    InvalidSignature,
    JWTError,
    KeyNotFound,
    MalformedToken,
    MissingSignature,
    UsageError,
)
from jwtkit.jwk import Key, KeySet
from jwtkit.jws import SignaturePolicy, Signer

PAYLOAD = b'{"sub":"42"}'


@dataclass(frozen=True)
class Pair:
    """A classical algorithm, the second one a hybrid token adds, and their keys."""

    classical: str
    second: str
    c_key: Key
    c2_key: Key  # another trusted key of the classical algorithm (a rotation)
    s_key: Key
    stranger: Key  # of the classical algorithm, not trusted

    @property
    def trusted(self) -> KeySet:
        keys = (self.c_key, self.c2_key, self.s_key)
        return KeySet([k.public_key() for k in keys], allow_mixed=True)

    @property
    def algorithms(self) -> list[str]:
        return [self.classical, self.second]


def make_pair(classical: str, second: str) -> Pair:
    return Pair(
        classical,
        second,
        Key.generate(classical, kid="c-1"),
        Key.generate(classical, kid="c-2"),
        Key.generate(second, kid="s-1"),
        Key.generate(classical, kid="stranger"),
    )


PAIRS = [make_pair("ES256", "EdDSA")]
if mldsa_support.MLDSA_MODULE is not None:  # this cryptography release can sign with ML-DSA
    PAIRS += [make_pair("ES256", "ML-DSA-65"), make_pair("RS256", "ML-DSA-87")]


@pytest.fixture(params=PAIRS, ids=lambda p: f"{p.classical}+{p.second}")
def pair(request: pytest.FixtureRequest) -> Pair:
    result: Pair = request.param
    return result


def signed(pair: Pair, *names: str) -> dict[str, Any]:
    """A general JWS of PAYLOAD with one signature per name: c, c2, s, stranger, rsa."""
    signers = {
        "c": Signer(pair.c_key, pair.classical),
        "c2": Signer(pair.c2_key, pair.classical),
        "s": Signer(pair.s_key, pair.second),
        "stranger": Signer(pair.stranger, pair.classical),
        "rsa": Signer(RSA, "PS256"),
    }
    return jws.sign_json(PAYLOAD, [signers[name] for name in names])


RSA = Key.generate("PS256", kid="rsa-unknown")  # an algorithm no pair allows


def spoil(document: dict[str, Any], index: int) -> dict[str, Any]:
    """The document with signature ``index`` changed in its first byte (still base64url)."""
    result = copy.deepcopy(document)
    entry = result["signatures"][index]
    raw = bytearray(b64url_decode(entry["signature"], "signature"))
    raw[0] ^= 0x01
    entry["signature"] = b64url_encode(bytes(raw))
    return result


def strip(document: dict[str, Any], index: int) -> dict[str, Any]:
    result = copy.deepcopy(document)
    del result["signatures"][index]
    return result


def reverse(document: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(document)
    result["signatures"].reverse()
    return result


def case_document(pair: Pair, case: str) -> dict[str, Any]:
    if case == "classical only":
        return signed(pair, "c")
    if case == "second only":
        return signed(pair, "s")
    if case == "both valid":
        return signed(pair, "c", "s")
    if case == "second invalid":
        return spoil(signed(pair, "c", "s"), 1)
    if case == "classical invalid":
        return spoil(signed(pair, "c", "s"), 0)
    if case == "second stripped":
        return strip(signed(pair, "c", "s"), 1)
    if case == "extra signer, algorithm not allowed":
        return signed(pair, "c", "s", "rsa")
    if case == "extra signer, key not trusted":
        return signed(pair, "c", "s", "stranger")
    if case == "same algorithm twice":
        return signed(pair, "c", "c2", "s")
    raise AssertionError(case)


POLICIES = {
    "any": SignaturePolicy.any(),
    "all": SignaturePolicy.all(),
    "require": None,  # require(pair.second), built per pair
}

OK = None
# case -> expected outcome per policy: None (accepted) or the error class raised.
MATRIX: dict[str, dict[str, type[JWTError] | None]] = {
    "classical only": {"any": OK, "all": MissingSignature, "require": MissingSignature},
    "second only": {"any": OK, "all": MissingSignature, "require": OK},
    "both valid": {"any": OK, "all": OK, "require": OK},
    "second invalid": {
        "any": InvalidSignature,
        "all": InvalidSignature,
        "require": InvalidSignature,
    },
    "classical invalid": {
        "any": InvalidSignature,
        "all": InvalidSignature,
        "require": InvalidSignature,
    },
    "second stripped": {"any": OK, "all": MissingSignature, "require": MissingSignature},
    "extra signer, algorithm not allowed": {"any": OK, "all": AlgorithmNotAllowed, "require": OK},
    "extra signer, key not trusted": {"any": OK, "all": KeyNotFound, "require": OK},
    "same algorithm twice": {"any": OK, "all": OK, "require": OK},
}


def policy_for(pair: Pair, name: str) -> SignaturePolicy:
    policy = POLICIES[name]
    return SignaturePolicy.require(pair.second) if policy is None else policy


@pytest.mark.parametrize("order", ["as signed", "reversed"])
@pytest.mark.parametrize("policy_name", list(POLICIES))
@pytest.mark.parametrize("case", list(MATRIX))
def test_a8_policy_matrix(pair: Pair, case: str, policy_name: str, order: str) -> None:
    document = case_document(pair, case)
    if order == "reversed" and len(document["signatures"]) > 1:
        document = reverse(document)
    policy = policy_for(pair, policy_name)
    expected = MATRIX[case][policy_name]
    if expected is None:
        results = jws.verify_json_policy(document, pair.trusted, pair.algorithms, policy=policy)
        assert results
        assert all(r.payload == PAYLOAD for r in results)
        # Document order: the indexes increase, and only our signatures are returned.
        indexes = [r.signature_index or 0 for r in results]
        assert indexes == sorted(indexes)
        assert {r.algorithm for r in results} <= set(pair.algorithms)
        if policy_name == "require":
            assert pair.second in {r.algorithm for r in results}
    else:
        with pytest.raises(expected) as caught:
            jws.verify_json_policy(document, pair.trusted, pair.algorithms, policy=policy)
        assert type(caught.value) is expected


def test_all_returns_every_signature_in_document_order(pair: Pair) -> None:
    document = signed(pair, "c", "c2", "s")
    results = jws.verify_json_policy(
        json.dumps(document), pair.trusted, pair.algorithms, policy=SignaturePolicy.all()
    )
    assert [r.signature_index for r in results] == [0, 1, 2]
    assert [r.key.kid for r in results if r.key] == ["c-1", "c-2", "s-1"]


def test_any_ignores_signatures_not_ours_and_returns_ours(pair: Pair) -> None:
    document = signed(pair, "rsa", "stranger", "c")
    results = jws.verify_json_policy(
        document, pair.trusted, pair.algorithms, policy=SignaturePolicy.any()
    )
    assert [(r.signature_index, r.algorithm) for r in results] == [(2, pair.classical)]


def test_a_classical_only_verifier_accepts_a_hybrid_token(pair: Pair) -> None:
    """A relying party that knows only the classical key and algorithm ignores the other."""
    document = signed(pair, "c", "s")
    results = jws.verify_json_policy(
        document, pair.c_key.public_key(), [pair.classical], policy=SignaturePolicy.any()
    )
    assert [r.algorithm for r in results] == [pair.classical]
    # ... and under `all` it refuses the signature it cannot check.
    with pytest.raises(AlgorithmNotAllowed):
        jws.verify_json_policy(
            document, pair.c_key.public_key(), [pair.classical], policy=SignaturePolicy.all()
        )


def test_no_signature_of_ours_raises_the_most_specific_reason(pair: Pair) -> None:
    with pytest.raises(KeyNotFound):
        jws.verify_json_policy(
            signed(pair, "rsa", "stranger"),
            pair.trusted,
            pair.algorithms,
            policy=SignaturePolicy.any(),
        )
    with pytest.raises(AlgorithmNotAllowed):
        jws.verify_json_policy(
            signed(pair, "rsa"), pair.trusted, pair.algorithms, policy=SignaturePolicy.any()
        )


def test_a8_stripping_then_resigning_with_an_untrusted_key_fails_require(pair: Pair) -> None:
    """The attacker removes the second signature and adds one of the same algorithm made
    with their own key: it is not ours, so the requirement is still unmet."""
    attacker = Key.generate(pair.second, kid="s-1-evil")
    document = strip(signed(pair, "c", "s"), 1)
    forged = jws.sign_json(PAYLOAD, [Signer(attacker, pair.second)])["signatures"][0]
    document["signatures"].append(forged)
    with pytest.raises(MissingSignature) as caught:
        jws.verify_json_policy(
            document, pair.trusted, pair.algorithms, policy=SignaturePolicy.require(pair.second)
        )
    assert pair.second in str(caught.value)


def test_a8_relabelled_algorithm_is_an_invalid_signature(pair: Pair) -> None:
    """Downgrade: the second signature's protected header is rewritten to claim the
    classical algorithm; the signature no longer verifies, which refuses the document."""
    document = signed(pair, "c", "s")
    entry = document["signatures"][1]
    header = json.loads(b64url_decode(entry["protected"], "h"))
    header["alg"] = pair.classical
    header["kid"] = "c-1"
    entry["protected"] = b64url_encode(json.dumps(header).encode())
    with pytest.raises(InvalidSignature):
        jws.verify_json_policy(
            document, pair.trusted, pair.algorithms, policy=SignaturePolicy.any()
        )


@pytest.mark.parametrize("name", ["ML-DSA-99", "FOO", "none", "es256"])
def test_an_entry_with_an_unknown_algorithm_is_ignored_by_any_and_refused_by_all(
    pair: Pair, name: str
) -> None:
    document = signed(pair, "c", "s")
    extra = copy.deepcopy(document["signatures"][0])
    extra["protected"] = b64url_encode(json.dumps({"alg": name, "kid": "c-1"}).encode())
    document["signatures"].append(extra)
    results = jws.verify_json_policy(
        document, pair.trusted, pair.algorithms, policy=SignaturePolicy.require(pair.second)
    )
    assert [r.signature_index for r in results] == [0, 1]
    with pytest.raises(AlgorithmNotAllowed):
        jws.verify_json_policy(
            document, pair.trusted, pair.algorithms, policy=SignaturePolicy.all()
        )


def test_a_trusted_kid_with_an_algorithm_its_key_does_not_fit_refuses(pair: Pair) -> None:
    """An entry naming one of our keys with an allowed algorithm that key cannot do."""
    signer = Signer(pair.s_key, pair.second, protected={"kid": "c-1"})
    document = jws.sign_json(PAYLOAD, [Signer(pair.c_key, pair.classical), signer])
    with pytest.raises(InvalidKey):
        jws.verify_json_policy(
            document, pair.trusted, pair.algorithms, policy=SignaturePolicy.any()
        )


def test_an_ambiguous_kid_in_our_own_keys_is_never_ignored(pair: Pair) -> None:
    twin = Key.generate(pair.classical, kid="c-1")
    keys = KeySet([pair.c_key.public_key(), twin.public_key(), pair.s_key.public_key()])
    with pytest.raises(AmbiguousKey):
        jws.verify_json_policy(
            signed(pair, "s", "c"), keys, pair.algorithms, policy=SignaturePolicy.any()
        )


def test_an_empty_signature_of_an_allowed_algorithm_refuses(pair: Pair) -> None:
    document = signed(pair, "c", "s")
    document["signatures"][1]["signature"] = ""
    with pytest.raises(InvalidSignature):
        jws.verify_json_policy(
            document, pair.trusted, pair.algorithms, policy=SignaturePolicy.any()
        )


def test_flattened_form(pair: Pair) -> None:
    document = jws.sign_json(PAYLOAD, [Signer(pair.s_key, pair.second)], flatten=True)
    policy = SignaturePolicy.require(pair.second)
    (result,) = jws.verify_json_policy(document, pair.trusted, pair.algorithms, policy=policy)
    assert result.signature_index == 0


def test_a_malformed_entry_refuses_the_document_before_any_policy(pair: Pair) -> None:
    document = signed(pair, "c", "s")
    document["signatures"].append({"signature": "AA"})
    for policy in (SignaturePolicy.any(), SignaturePolicy.all()):
        with pytest.raises(MalformedToken):
            jws.verify_json_policy(document, pair.trusted, pair.algorithms, policy=policy)


def test_detached_payload(pair: Pair) -> None:
    document = jws.sign_json(PAYLOAD, [Signer(pair.c_key), Signer(pair.s_key)], detached=True)
    results = jws.verify_json_policy(
        document,
        pair.trusted,
        pair.algorithms,
        policy=SignaturePolicy.all(),
        detached_payload=PAYLOAD,
    )
    assert len(results) == 2


# ---------------------------------------------------------------------------------------------
# the policy value and wrong calls


def test_policy_values() -> None:
    assert SignaturePolicy.any() == SignaturePolicy("any")
    assert SignaturePolicy.all().mode == "all"
    assert SignaturePolicy.require("ML-DSA-65", "ES256", "ML-DSA-65").required == (
        "ML-DSA-65",
        "ES256",
    )
    assert SignaturePolicy(required=["ES256"]).required == ("ES256",)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "build",
    [
        lambda: SignaturePolicy("some"),  # type: ignore[arg-type]
        lambda: SignaturePolicy("any", "ES256"),  # type: ignore[arg-type]
        lambda: SignaturePolicy("any", 5),  # type: ignore[arg-type]
        lambda: SignaturePolicy("any", ("ES256", "")),
        lambda: SignaturePolicy("any", ("ES256", 1)),  # type: ignore[arg-type]
        lambda: SignaturePolicy("all", ("ES256",)),
        SignaturePolicy.require,
    ],
)
def test_bad_policies_are_usage_errors(build: Any) -> None:
    with pytest.raises(UsageError):
        build()


def test_a_required_algorithm_outside_the_allow_list_is_a_usage_error(pair: Pair) -> None:
    with pytest.raises(UsageError, match="allow-list"):
        jws.verify_json_policy(
            signed(pair, "c"),
            pair.trusted,
            [pair.classical],
            policy=SignaturePolicy.require(pair.second),
        )


def test_policy_must_be_a_signature_policy(pair: Pair) -> None:
    with pytest.raises(UsageError, match="SignaturePolicy"):
        jws.verify_json_policy(
            signed(pair, "c"),
            pair.trusted,
            pair.algorithms,
            policy="any",  # type: ignore[arg-type]
        )


def test_none_cannot_be_allowed_under_a_policy() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwa.InsecureAlgorithmWarning)
        registry = jwa.DEFAULT_REGISTRY.including(jwa.NONE)
    document = jws.sign_json(PAYLOAD, [Signer(None, "none")], registry=registry)
    with pytest.raises(UsageError, match="'none'"):
        jws.verify_json_policy(
            document, None, ["none"], policy=SignaturePolicy.any(), registry=registry
        )


def test_missing_signature_is_an_invalid_signature_and_names_no_key(pair: Pair) -> None:
    with pytest.raises(InvalidSignature) as caught:
        jws.verify_json_policy(
            signed(pair, "c"), pair.trusted, pair.algorithms, policy=SignaturePolicy.all()
        )
    assert caught.value.code == "missing_signature"
    message = str(caught.value)
    assert pair.second in message
    assert PAYLOAD.decode() not in message
