"""ML-DSA-44/65/87 signatures (RFC 9964 §5) in compact JWS, the JWS JSON serialization, JWTs,
the :class:`~jwtkit.Verifier` and key-set selection."""

from __future__ import annotations

import pytest

import jwtkit
from jwtkit import jwa, jws
from jwtkit._codec import b64url_decode, b64url_encode
from jwtkit._keys import mldsa_support
from jwtkit._keys.mldsa_support import ML_DSA_MIN_CRYPTOGRAPHY
from jwtkit.errors import InvalidKey, InvalidSignature, JWTError
from jwtkit.jwk import AKPKey, Key, KeySet
from jwtkit.jws import Signer

pytestmark = pytest.mark.skipif(
    mldsa_support.MLDSA_MODULE is None,
    reason=f"ML-DSA needs cryptography >= {ML_DSA_MIN_CRYPTOGRAPHY}",
)

SIGNATURE_LENGTHS = {"ML-DSA-44": 2420, "ML-DSA-65": 3309, "ML-DSA-87": 4627}


@pytest.fixture(scope="module")
def keys() -> dict[str, AKPKey]:
    return {alg: AKPKey.generate(alg, kid=alg.lower()) for alg in SIGNATURE_LENGTHS}


@pytest.mark.parametrize("alg", sorted(SIGNATURE_LENGTHS))
def test_compact_round_trip_with_the_exact_signature_length(
    keys: dict[str, AKPKey], alg: str
) -> None:
    key = keys[alg]
    token = jws.sign(b"payload", key)
    signature = b64url_decode(token.split(".")[2], "signature")
    assert len(signature) == SIGNATURE_LENGTHS[alg]
    result = jws.verify(token, key.public_key(), algorithms=[alg])
    assert result.payload == b"payload"
    assert result.header == {"alg": alg, "kid": alg.lower()}
    assert result.algorithm == alg


def test_signatures_are_hedged_and_all_verify(keys: dict[str, AKPKey]) -> None:
    """FIPS 204 Algorithm 2 (hedged): two signatures of one input differ; both verify."""
    key = keys["ML-DSA-44"]
    first, second = jws.sign(b"x", key), jws.sign(b"x", key)
    assert first != second
    for token in (first, second):
        assert jws.verify(token, key.public_key(), algorithms=["ML-DSA-44"]).payload == b"x"


def test_the_context_string_is_empty(keys: dict[str, AKPKey]) -> None:
    """RFC 9964 §5: ctx is the empty string; a signature made with another context fails."""
    key = keys["ML-DSA-65"]
    token = jws.sign(b"x", key)
    signing_input = token.rsplit(".", 1)[0].encode("ascii")
    private = key.crypto_private_key
    assert private is not None
    empty = private.sign(signing_input, b"")
    assert jws.verify(
        f"{signing_input.decode()}.{b64url_encode(empty)}",
        key.public_key(),
        algorithms=["ML-DSA-65"],
    )
    other = private.sign(signing_input, b"jwt")
    with pytest.raises(InvalidSignature):
        jws.verify(
            f"{signing_input.decode()}.{b64url_encode(other)}",
            key.public_key(),
            algorithms=["ML-DSA-65"],
        )


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s[:-4],  # too short
        lambda s: s + "AAAA",  # too long
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),  # another signature, same length
        lambda s: s[:-2] + "==",  # padding
        lambda s: "",  # empty
    ],
)
def test_bad_signatures_fail(keys: dict[str, AKPKey], mangle: object) -> None:
    key = keys["ML-DSA-44"]
    header, payload, signature = jws.sign(b"x", key).split(".")
    bad = f"{header}.{payload}.{mangle(signature)}"  # type: ignore[operator]
    with pytest.raises((InvalidSignature, JWTError)):
        jws.verify(bad, key.public_key(), algorithms=["ML-DSA-44"])


def test_a_tampered_payload_fails(keys: dict[str, AKPKey]) -> None:
    key = keys["ML-DSA-87"]
    header, _, signature = jws.sign(b"x", key).split(".")
    with pytest.raises(InvalidSignature):
        jws.verify(f"{header}.{b64url_encode(b'y')}.{signature}", key, algorithms=["ML-DSA-87"])


def test_the_algorithm_fixes_the_parameter_set(keys: dict[str, AKPKey]) -> None:
    """An ML-DSA-44 key never verifies an ML-DSA-65 token, even with both algorithms allowed."""
    token = jws.sign(b"x", keys["ML-DSA-65"])
    with pytest.raises(JWTError):
        jws.verify(token, keys["ML-DSA-44"].public_key(), algorithms=["ML-DSA-44", "ML-DSA-65"])
    with pytest.raises(InvalidKey, match="does not fit ML-DSA-44"):
        jws.sign(b"x", keys["ML-DSA-65"], algorithm="ML-DSA-44")
    algorithm = jwa.SIGNATURE_ALGORITHMS["ML-DSA-44"]
    with pytest.raises(InvalidKey, match="ML-DSA-44 needs an AKP key for ML-DSA-44, got EC"):
        algorithm.verifier(Key.generate("ES256"))
    with pytest.raises(InvalidKey, match="does not fit ML-DSA-44"):
        algorithm.verifier(keys["ML-DSA-87"])


def test_a_token_whose_alg_is_not_allowed_is_refused(keys: dict[str, AKPKey]) -> None:
    token = jws.sign(b"x", keys["ML-DSA-65"])
    with pytest.raises(jwtkit.AlgorithmNotAllowed):
        jws.verify(token, keys["ML-DSA-65"].public_key(), algorithms=["ES256"])


def test_json_serialization(keys: dict[str, AKPKey]) -> None:
    ec = Key.generate("ES256", kid="ec")
    document = jws.sign_json(b"payload", [Signer(keys["ML-DSA-65"]), Signer(ec)])
    trusted = KeySet([keys["ML-DSA-65"].public_key(), ec.public_key()])
    result = jws.verify_json(document, trusted, algorithms=["ML-DSA-65"])
    assert result.payload == b"payload"
    assert result.signature_index == 0
    flattened = jws.sign_json(b"p", [Signer(keys["ML-DSA-44"])], flatten=True)
    assert jws.verify_json(flattened, keys["ML-DSA-44"], algorithms=["ML-DSA-44"]).payload == b"p"


def test_jwt_encode_decode_and_verifier(keys: dict[str, AKPKey]) -> None:
    key = keys["ML-DSA-87"]
    token = jwtkit.encode({"sub": "alice"}, key)
    assert jwtkit.decode(token, key.public_key(), algorithms=["ML-DSA-87"]) == {"sub": "alice"}
    verifier = jwtkit.Verifier(key.public_key(), algorithms=["ML-DSA-87"])
    assert verifier.decode(token) == {"sub": "alice"}
    assert verifier.decode_complete(token).header["alg"] == "ML-DSA-87"


def test_key_set_selection_by_kid_and_by_algorithm(keys: dict[str, AKPKey]) -> None:
    public = KeySet([key.public_key() for key in keys.values()])
    for alg, key in keys.items():
        token = jwtkit.encode({"n": 1}, key)
        assert jwtkit.decode(token, public, algorithms=list(SIGNATURE_LENGTHS)) == {"n": 1}
        without_kid = AKPKey(key.crypto_private_key)  # type: ignore[arg-type]
        anonymous = jwtkit.encode({"n": 2}, without_kid)
        unnamed = KeySet([AKPKey(k.crypto_public_key) for k in keys.values()])
        assert jwtkit.decode(anonymous, unnamed, algorithms=[alg]) == {"n": 2}
        assert public.select(alg.lower(), alg, "verify") == (key.public_key(),)
