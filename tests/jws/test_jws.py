"""Unit tests of JWS compact signing and verification (``jwtkit.jws``), of how the ``key``
argument becomes trusted keys (``jwtkit._keysource``) and of the algorithm registry
(``jwtkit.jwa``). RFC 7515 §3.1, §5; RFC 7797; RFC 8725 §3.1.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

import jwtkit
from jwtkit import jwa, jws
from jwtkit._codec import b64url_decode, b64url_encode, json_loads_object
from jwtkit._keysource import KeySource, coerce_key
from jwtkit.errors import (
    AlgorithmNotAllowed,
    InvalidKey,
    InvalidSignature,
    KeyNotFound,
    MalformedToken,
    TokenTooLarge,
    UnsupportedCritical,
    UsageError,
)
from jwtkit.jwk import ECKey, Key, KeySet, OctKey, OKPKey, RSAKey

SECRET = b"jwtkit-unit-test-secret/" + b"0123456789abcdef" * 3  # 72 bytes: fits HS512 too
OTHER_SECRET = b"another-unit-test-secret" + b"fedcba9876543210" * 3


@pytest.fixture(scope="module")
def hmac_key() -> OctKey:
    return OctKey(SECRET)


@pytest.fixture(scope="module")
def rsa_key() -> Key:
    return Key.generate("RSA")


@pytest.fixture(scope="module")
def ec_key() -> Key:
    return Key.generate("ES256", kid="ec-1")


@pytest.fixture(scope="module")
def ed_key() -> Key:
    return Key.generate("OKP")


@pytest.fixture(scope="module")
def none_registry() -> jwa.Registry:
    with pytest.warns(jwa.InsecureAlgorithmWarning, match="'none'"):
        return jwa.DEFAULT_REGISTRY.including(jwa.NONE)


def _header_of(token: str) -> dict[str, Any]:
    return json_loads_object(b64url_decode(token.split(".", maxsplit=1)[0]))


def _with_header(header: Mapping[str, Any], rest: str = "cGF5bG9hZA.c2ln") -> str:
    return b64url_encode(json.dumps(header).encode()) + "." + rest


# ---------------------------------------------------------------------------------------------
# round trips


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_sign_then_verify_returns_payload_header_and_key(hmac_key: OctKey, alg: str) -> None:
    token = jws.sign(b"hello", hmac_key, algorithm=alg)
    result = jws.verify(token, hmac_key, algorithms=[alg])
    assert isinstance(result, jws.VerifiedJWS)
    assert result.payload == b"hello"
    assert result.header == {"alg": alg}
    assert result.algorithm == alg
    assert result.key is hmac_key


@pytest.mark.parametrize("alg", ["RS256", "PS256", "RS512"])
def test_rsa_sign_with_private_verify_with_public(rsa_key: Key, alg: str) -> None:
    token = jws.sign(b"\x00binary\xff", rsa_key, algorithm=alg)
    result = jws.verify(token, rsa_key.public_key(), algorithms=[alg])
    assert result.payload == b"\x00binary\xff"
    assert result.key == rsa_key.public_key()


def test_ec_key_alg_is_used_when_no_algorithm_is_named(ec_key: Key) -> None:
    token = jws.sign(b"x", ec_key)
    assert _header_of(token) == {"alg": "ES256", "kid": "ec-1"}
    assert jws.verify(token, ec_key.public_key()).algorithm == "ES256"


def test_eddsa_round_trip(ed_key: Key) -> None:
    token = jws.sign(b"payload", ed_key, algorithm="EdDSA")
    assert jws.verify(token, ed_key.public_key(), algorithms=["EdDSA"]).payload == b"payload"


def test_verify_accepts_bytes_tokens(hmac_key: OctKey) -> None:
    token = jws.sign(b"x", hmac_key, algorithm="HS256")
    assert jws.verify(token.encode("ascii"), hmac_key, algorithms=["HS256"]).payload == b"x"


def test_secret_bytes_and_str_are_hmac_keys() -> None:
    token = jws.sign(b"x", SECRET, algorithm="HS256")
    assert jws.verify(token, SECRET, algorithms=["HS256"]).payload == b"x"
    text = SECRET.decode("ascii")
    token2 = jws.sign(b"x", text, algorithm="HS256")
    assert token2 == token
    result = jws.verify(token2, text, algorithms=["HS256"])
    assert isinstance(result.key, OctKey)
    assert result.key.secret == SECRET


def test_pem_text_is_an_asymmetric_key(ec_key: Key) -> None:
    private_pem = ec_key.to_pem(private=True)
    public_pem = ec_key.public_key().to_pem()
    token = jws.sign(b"x", private_pem.decode("ascii"), algorithm="ES256")
    assert jws.verify(token, public_pem, algorithms=["ES256"]).payload == b"x"
    result = jws.verify(token, public_pem.decode("ascii"), algorithms=["ES256"])
    assert isinstance(result.key, ECKey)


def test_verified_jws_is_immutable(hmac_key: OctKey) -> None:
    result = jws.verify(jws.sign(b"x", hmac_key, "HS256"), hmac_key, algorithms=["HS256"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.payload = b"y"  # type: ignore[misc]


def test_sign_is_deterministic_for_hmac_and_header_order_is_alg_first(hmac_key: OctKey) -> None:
    first = jws.sign(b"x", hmac_key, "HS256", headers={"typ": "JOSE", "cty": "text"})
    second = jws.sign(b"x", hmac_key, "HS256", headers={"typ": "JOSE", "cty": "text"})
    assert first == second
    assert b64url_decode(first.split(".")[0]) == b'{"alg":"HS256","typ":"JOSE","cty":"text"}'


# ---------------------------------------------------------------------------------------------
# the allow-list (RFC 8725 §3.1)


def test_verify_requires_algorithms_when_the_key_has_no_alg(hmac_key: OctKey) -> None:
    token = jws.sign(b"x", hmac_key, "HS256")
    with pytest.raises(UsageError, match="algorithms is required") as info:
        jws.verify(token, hmac_key)
    assert info.value.code == "usage_error"


def test_verify_takes_the_allow_list_from_keys_that_carry_alg() -> None:
    key = OctKey(SECRET, alg="HS384")
    token = jws.sign(b"x", key)
    assert _header_of(token)["alg"] == "HS384"
    assert jws.verify(token, key).algorithm == "HS384"
    hs256 = jws.sign(b"x", SECRET, "HS256")
    with pytest.raises(AlgorithmNotAllowed, match="'HS256' is not allowed"):
        jws.verify(hs256, key)


def test_verify_requires_algorithms_when_one_key_of_several_has_no_alg(ec_key: Key) -> None:
    token = jws.sign(b"x", ec_key)
    keys = KeySet([ec_key.public_key(), OctKey(SECRET)], allow_mixed=True)
    with pytest.raises(UsageError, match="algorithms is required"):
        jws.verify(token, keys)
    assert jws.verify(token, keys, algorithms=["ES256"]).payload == b"x"


def test_verify_requires_algorithms_without_any_key() -> None:
    with pytest.raises(UsageError, match="algorithms is required"):
        jws.verify("e30.e30.", None)


@pytest.mark.parametrize("algorithms", ["HS256", b"HS256"])
def test_algorithms_as_a_string_is_refused(hmac_key: OctKey, algorithms: Any) -> None:
    token = jws.sign(b"x", hmac_key, "HS256")
    with pytest.raises(UsageError, match="must be a list of names"):
        jws.verify(token, hmac_key, algorithms=algorithms)


def test_empty_algorithms_is_refused(hmac_key: OctKey) -> None:
    with pytest.raises(UsageError, match="algorithms is empty"):
        jws.verify(jws.sign(b"x", hmac_key, "HS256"), hmac_key, algorithms=[])


def test_non_string_algorithm_names_are_refused(hmac_key: OctKey) -> None:
    with pytest.raises(UsageError, match="expected names \\(str\\), got int"):
        jws.verify(jws.sign(b"x", hmac_key, "HS256"), hmac_key, algorithms=[1])  # type: ignore[list-item]


@pytest.mark.parametrize("name", ["none", "None", "NONE", "nOnE"])
def test_none_in_the_allow_list_needs_the_opt_in_registry(hmac_key: OctKey, name: str) -> None:
    with pytest.raises(UsageError, match="'none' is not enabled"):
        jws.verify(jws.sign(b"x", hmac_key, "HS256"), hmac_key, algorithms=["HS256", name])


@pytest.mark.parametrize("name", ["HS999", "hs256", "RSA-OAEP", ""])
def test_unknown_algorithm_names_are_refused(hmac_key: OctKey, name: str) -> None:
    with pytest.raises(UsageError, match="is not a supported algorithm"):
        jws.verify(jws.sign(b"x", hmac_key, "HS256"), hmac_key, algorithms=[name])


def test_algorithms_may_be_any_iterable(hmac_key: OctKey) -> None:
    token = jws.sign(b"x", hmac_key, "HS256")

    def names() -> Iterator[str]:
        yield "RS256"
        yield "HS256"

    for algorithms in (("HS256",), {"HS256", "ES256"}, frozenset({"HS256"}), names()):
        assert jws.verify(token, hmac_key, algorithms=algorithms).algorithm == "HS256"


def test_token_algorithm_outside_the_allow_list_is_not_allowed(hmac_key: OctKey) -> None:
    token = jws.sign(b"x", hmac_key, "HS256")
    with pytest.raises(AlgorithmNotAllowed, match="'HS256' is not allowed") as info:
        jws.verify(token, hmac_key, algorithms=["HS384", "HS512"])
    assert info.value.code == "algorithm_not_allowed"
    assert "['HS384', 'HS512']" in str(info.value)


# ---------------------------------------------------------------------------------------------
# token shape


@pytest.mark.parametrize(
    ("token", "error", "fragment"),
    [
        ("a.b", MalformedToken, "2 segments, expected 3"),
        ("a.b.c.d", MalformedToken, "4 segments, expected 3"),
        ("a.b.c.d.e", MalformedToken, "5 segments, expected 3"),
        ("", MalformedToken, "1 segments, expected 3"),
        (".e30.c2ln", MalformedToken, "header and signature must be base64url"),
        ("eyJ=.e30.c2ln", MalformedToken, "header and signature must be base64url"),
        ("e30.e30.c2l+", MalformedToken, "header and signature must be base64url"),
        ('{"alg":"HS256"}.e30.sig', MalformedToken, "header and signature must be base64url"),
        ("e30.e30.c2ln", MalformedToken, "'alg' is missing"),
        ("W10.e30.c2ln", MalformedToken, "header: expected a JSON object, got an array"),
        ("eyJ.e30.c2ln", MalformedToken, "header: "),
        ("Y.e30.c2ln", MalformedToken, "header: invalid base64url length 1"),
    ],
)
def test_malformed_tokens_are_rejected(
    hmac_key: OctKey, token: str, error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error, match=fragment):
        jws.verify(token, hmac_key, algorithms=["HS256"])


def test_non_ascii_bytes_token_is_malformed(hmac_key: OctKey) -> None:
    with pytest.raises(MalformedToken, match="not ASCII"):
        jws.verify("eyJ.é.x".encode(), hmac_key, algorithms=["HS256"])


def test_non_string_token_is_malformed(hmac_key: OctKey) -> None:
    with pytest.raises(MalformedToken, match="expected str or bytes, got int"):
        jws.verify(12, hmac_key, algorithms=["HS256"])  # type: ignore[arg-type]


def test_token_size_is_bounded(hmac_key: OctKey) -> None:
    token = jws.sign(b"x" * 100, hmac_key, "HS256")
    with pytest.raises(TokenTooLarge):
        jws.verify(token, hmac_key, algorithms=["HS256"], max_token_size=len(token) - 1)
    assert jws.verify(token, hmac_key, algorithms=["HS256"], max_token_size=len(token))


def test_payload_segment_must_be_base64url_when_encoded(hmac_key: OctKey) -> None:
    header = jws.sign(b"x", hmac_key, "HS256").split(".")[0]
    with pytest.raises(MalformedToken, match="payload must be base64url"):
        jws.verify(f"{header}.not base64.c2ln", hmac_key, algorithms=["HS256"])
    with pytest.raises(MalformedToken, match="payload: non-canonical"):
        jws.verify(f"{header}.YR.c2ln", hmac_key, algorithms=["HS256"])


def test_header_member_types_are_checked(hmac_key: OctKey) -> None:
    token = _with_header({"alg": "HS256", "kid": 7})
    with pytest.raises(MalformedToken, match="'kid' must be a string"):
        jws.verify(token, hmac_key, algorithms=["HS256"])


def test_unknown_critical_extension_is_rejected_unless_declared(hmac_key: OctKey) -> None:
    token = jws.sign(b"x", hmac_key, "HS256", headers={"ext": 1, "crit": ["ext"]})
    with pytest.raises(UnsupportedCritical, match="'ext' is not understood") as info:
        jws.verify(token, hmac_key, algorithms=["HS256"])
    assert info.value.code == "unsupported_critical"
    result = jws.verify(token, hmac_key, algorithms=["HS256"], crit=["ext"])
    assert result.header == {"alg": "HS256", "ext": 1, "crit": ["ext"]}


# ---------------------------------------------------------------------------------------------
# signatures


def test_wrong_signature_is_one_opaque_error(hmac_key: OctKey) -> None:
    token = jws.sign(b"x", hmac_key, "HS256")
    forged = jws.sign(b"x", OTHER_SECRET, "HS256")
    with pytest.raises(InvalidSignature) as info:
        jws.verify(forged, hmac_key, algorithms=["HS256"])
    assert str(info.value) == "signature verification failed"
    assert info.value.code == "invalid_signature"
    tampered = token.rsplit(".", 1)[0].replace("eA", "eQ") + "." + token.rsplit(".", 1)[1]
    with pytest.raises(InvalidSignature):
        jws.verify(tampered, hmac_key, algorithms=["HS256"])


def test_empty_signature_is_invalid(hmac_key: OctKey) -> None:
    header_and_payload = jws.sign(b"x", hmac_key, "HS256").rsplit(".", 1)[0]
    with pytest.raises(InvalidSignature):
        jws.verify(header_and_payload + ".", hmac_key, algorithms=["HS256"])


def test_any_of_several_trusted_keys_may_verify(hmac_key: OctKey) -> None:
    other = OctKey(OTHER_SECRET)
    token = jws.sign(b"x", hmac_key, "HS256")
    result = jws.verify(token, [other, hmac_key], algorithms=["HS256"])
    assert result.key is hmac_key
    result = jws.verify(token, KeySet([other, hmac_key]), algorithms=["HS256"])
    assert result.key == hmac_key
    with pytest.raises(InvalidSignature):
        jws.verify(token, [other], algorithms=["HS256"])


def test_mixed_secret_and_key_sequence_needs_the_opt_in(hmac_key: OctKey, ec_key: Key) -> None:
    token = jws.sign(b"x", ec_key)
    keys = [SECRET, ec_key.public_key()]
    with pytest.raises(InvalidKey, match="allow_mixed=True"):
        jws.verify(token, keys, algorithms=["HS256", "ES256"])  # type: ignore[arg-type]
    opted_in = KeySet([OctKey(SECRET), ec_key.public_key()], allow_mixed=True)
    result = jws.verify(token, opted_in, algorithms=["HS256", "ES256"])
    assert result.algorithm == "ES256"
    assert isinstance(result.key, ECKey)


# ---------------------------------------------------------------------------------------------
# RFC 7797: unencoded and detached payloads; RFC 7515 Appendix F: detached content


def test_unencoded_payload_in_compact_form_round_trips(hmac_key: OctKey) -> None:
    token = jws.sign(b"hello world $", hmac_key, "HS256", headers={"b64": False})
    header, payload, _ = token.split(".")
    assert payload == "hello world $"
    assert json_loads_object(b64url_decode(header)) == {
        "alg": "HS256",
        "b64": False,
        "crit": ["b64"],
    }
    result = jws.verify(token, hmac_key, algorithms=["HS256"])
    assert result.payload == b"hello world $"
    assert result.header["b64"] is False


def test_b64_false_keeps_existing_crit_entries(hmac_key: OctKey) -> None:
    token = jws.sign(b"p", hmac_key, "HS256", headers={"b64": False, "ext": 1, "crit": ["ext"]})
    assert _header_of(token)["crit"] == ["ext", "b64"]
    token = jws.sign(b"p", hmac_key, "HS256", headers={"b64": False, "crit": ["b64"]})
    assert _header_of(token)["crit"] == ["b64"]
    assert jws.verify(token, hmac_key, algorithms=["HS256"]).payload == b"p"


def test_b64_true_is_signed_as_base64url(hmac_key: OctKey) -> None:
    token = jws.sign(b"p", hmac_key, "HS256", headers={"b64": True, "crit": ["b64"]})
    assert token.split(".")[1] == "cA"
    assert jws.verify(token, hmac_key, algorithms=["HS256"]).payload == b"p"


@pytest.mark.parametrize(
    "payload",
    [b"a.b", b"", b"\xff\xfe", b"line\nbreak", b"tab\there"],
)
def test_unencoded_payload_that_cannot_stand_in_compact_form_is_refused(
    hmac_key: OctKey, payload: bytes
) -> None:
    with pytest.raises(UsageError, match="use detached=True"):
        jws.sign(payload, hmac_key, "HS256", headers={"b64": False})


def test_unencoded_payload_must_be_printable_when_verifying(hmac_key: OctKey) -> None:
    header = jws.sign(b"p", hmac_key, "HS256", headers={"b64": False}).split(".")[0]
    with pytest.raises(MalformedToken, match="must be printable text"):
        jws.verify(f"{header}.a\tb.c2ln", hmac_key, algorithms=["HS256"])


def test_unencoded_detached_payload_may_be_any_bytes(hmac_key: OctKey) -> None:
    payload = b"$.02\x00\xff"
    token = jws.sign(payload, hmac_key, "HS256", headers={"b64": False}, detached=True)
    assert token.split(".")[1] == ""
    result = jws.verify(token, hmac_key, algorithms=["HS256"], detached_payload=payload)
    assert result.payload == payload
    with pytest.raises(InvalidSignature):
        jws.verify(token, hmac_key, algorithms=["HS256"], detached_payload=b"$.03")


def test_encoded_detached_payload_round_trips(hmac_key: OctKey) -> None:
    token = jws.sign(b"detached", hmac_key, "HS256", detached=True)
    header, payload, signature = token.split(".")
    assert payload == ""
    result = jws.verify(token, hmac_key, algorithms=["HS256"], detached_payload=b"detached")
    assert result.payload == b"detached"
    attached = f"{header}.{b64url_encode(b'detached')}.{signature}"
    assert jws.verify(attached, hmac_key, algorithms=["HS256"]).payload == b"detached"


def test_detached_payload_given_for_a_token_that_has_one_is_refused(hmac_key: OctKey) -> None:
    token = jws.sign(b"x", hmac_key, "HS256")
    with pytest.raises(MalformedToken, match="a detached payload was given"):
        jws.verify(token, hmac_key, algorithms=["HS256"], detached_payload=b"x")


# ---------------------------------------------------------------------------------------------
# signing arguments


def test_sign_payload_must_be_bytes(hmac_key: OctKey) -> None:
    with pytest.raises(UsageError, match="payload must be bytes, got str"):
        jws.sign("text", hmac_key, "HS256")  # type: ignore[arg-type]


def test_sign_needs_an_algorithm_from_the_call_or_the_key(hmac_key: OctKey) -> None:
    with pytest.raises(UsageError, match="algorithm is required"):
        jws.sign(b"x", hmac_key)
    with pytest.raises(UsageError, match="algorithm is required"):
        jws.sign(b"x", None)


def test_sign_needs_a_key_for_a_real_algorithm() -> None:
    with pytest.raises(UsageError, match="HS256 needs a key"):
        jws.sign(b"x", None, "HS256")


@pytest.mark.parametrize("name", ["HS999", "none", "hs256"])
def test_sign_with_an_algorithm_outside_the_registry_is_not_allowed(
    hmac_key: OctKey, name: str
) -> None:
    with pytest.raises(AlgorithmNotAllowed, match="is not supported by this registry"):
        jws.sign(b"x", hmac_key, name)


def test_sign_headers_cannot_contradict_the_algorithm(hmac_key: OctKey) -> None:
    with pytest.raises(UsageError, match="headers\\['alg'\\] is 'HS512' but algorithm is"):
        jws.sign(b"x", hmac_key, "HS256", headers={"alg": "HS512"})
    token = jws.sign(b"x", hmac_key, "HS256", headers={"alg": "HS256"})
    assert _header_of(token) == {"alg": "HS256"}


def test_sign_puts_the_key_kid_in_the_header_unless_overridden() -> None:
    key = OctKey(SECRET, kid="k-1")
    assert _header_of(jws.sign(b"x", key, "HS256")) == {"alg": "HS256", "kid": "k-1"}
    assert _header_of(jws.sign(b"x", key, "HS256", headers={"kid": "other"}))["kid"] == "other"


def test_sign_checks_the_header_it_builds(hmac_key: OctKey) -> None:
    with pytest.raises(MalformedToken, match="'kid' must be a string"):
        jws.sign(b"x", hmac_key, "HS256", headers={"kid": 1})
    with pytest.raises(MalformedToken, match="'crit' lists 'ext', which is absent"):
        jws.sign(b"x", hmac_key, "HS256", headers={"crit": ["ext"]})


def test_sign_with_non_json_header_values_is_a_usage_error(hmac_key: OctKey) -> None:
    with pytest.raises(UsageError):
        jws.sign(b"x", hmac_key, "HS256", headers={"ext": object()})
    with pytest.raises(UsageError):
        jws.sign(b"x", hmac_key, "HS256", headers={"ext": float("nan")})


def test_sign_refuses_a_key_that_does_not_fit(ec_key: Key, hmac_key: OctKey) -> None:
    with pytest.raises(InvalidKey):
        jws.sign(b"x", ec_key, "HS256")
    with pytest.raises(InvalidKey):
        jws.sign(b"x", ec_key.public_key(), "ES256")
    with pytest.raises(InvalidKey):
        jws.sign(b"x", hmac_key, "RS256")


# ---------------------------------------------------------------------------------------------
# `none` (RFC 7518 §3.6): opt-in registry only, never with a key


def test_none_signs_and_verifies_only_with_the_opt_in_registry(
    none_registry: jwa.Registry,
) -> None:
    token = jws.sign(b"x", None, "none", registry=none_registry)
    assert token == "eyJhbGciOiJub25lIn0.eA."
    result = jws.verify(token, None, algorithms=["none"], registry=none_registry)
    assert result.payload == b"x"
    assert result.key is None
    assert result.algorithm == "none"
    with pytest.raises(UsageError, match="'none' is not enabled"):
        jws.verify(token, None, algorithms=["none"])


def test_none_refuses_a_key(none_registry: jwa.Registry, hmac_key: OctKey) -> None:
    with pytest.raises(UsageError, match="'none' takes no key"):
        jws.sign(b"x", hmac_key, "none", registry=none_registry)
    token = jws.sign(b"x", None, "none", registry=none_registry)
    with pytest.raises(UsageError, match="only when no key is given"):
        jws.verify(token, hmac_key, algorithms=["none", "HS256"], registry=none_registry)


def test_none_with_a_signature_is_invalid(none_registry: jwa.Registry) -> None:
    token = jws.sign(b"x", None, "none", registry=none_registry) + "c2ln"
    with pytest.raises(InvalidSignature):
        jws.verify(token, None, algorithms=["none"], registry=none_registry)


def test_none_token_is_refused_by_an_hmac_verifier_even_with_the_opt_in_registry(
    none_registry: jwa.Registry, hmac_key: OctKey
) -> None:
    token = jws.sign(b"x", None, "none", registry=none_registry)
    with pytest.raises(AlgorithmNotAllowed):
        jws.verify(token, hmac_key, algorithms=["HS256"], registry=none_registry)


# ---------------------------------------------------------------------------------------------
# key selection: kid, KeySet, resolvers


def test_kid_selects_the_key_from_a_key_set() -> None:
    a = OctKey(SECRET, kid="a")
    b = OctKey(OTHER_SECRET, kid="b")
    keys = KeySet([a, b])
    token = jws.sign(b"x", b, "HS256")
    assert _header_of(token)["kid"] == "b"
    assert jws.verify(token, keys, algorithms=["HS256"]).key == b


def test_unknown_kid_is_key_not_found() -> None:
    keys = KeySet([OctKey(SECRET, kid="a")])
    token = jws.sign(b"x", OctKey(SECRET, kid="zzz"), "HS256")
    with pytest.raises(KeyNotFound, match="no trusted key has kid 'zzz'") as info:
        jws.verify(token, keys, algorithms=["HS256"])
    assert info.value.code == "key_not_found"


def test_token_without_kid_tries_every_fitting_key(ec_key: Key) -> None:
    a = OctKey(OTHER_SECRET, kid="a")
    b = OctKey(SECRET, kid="b")
    token = jws.sign(b"x", SECRET, "HS256")
    assert "kid" not in _header_of(token)
    keys = KeySet([ec_key.public_key(), a, b], allow_mixed=True)
    assert jws.verify(token, keys, algorithms=["HS256"]).key == b


def test_kid_naming_a_key_that_does_not_fit_says_why(ec_key: Key) -> None:
    keys = KeySet([ec_key.public_key()])
    token = jws.sign(b"x", SECRET, "HS256", headers={"kid": "ec-1"})
    with pytest.raises(InvalidKey) as info:
        jws.verify(token, keys, algorithms=["HS256", "ES256"])
    assert not isinstance(info.value, KeyNotFound)
    assert info.value.code == "invalid_key"


def test_no_key_of_the_right_type_says_why(ec_key: Key) -> None:
    token = jws.sign(b"x", SECRET, "HS256")
    with pytest.raises(InvalidKey) as info:
        jws.verify(token, ec_key.public_key(), algorithms=["HS256", "ES256"])
    assert not isinstance(info.value, KeyNotFound)


def test_no_key_at_all_is_key_not_found() -> None:
    token = jws.sign(b"x", SECRET, "HS256")
    with pytest.raises(KeyNotFound, match="no trusted key fits algorithm 'HS256'"):
        jws.verify(token, None, algorithms=["HS256"])
    with pytest.raises(KeyNotFound, match="no trusted key fits algorithm 'HS256'"):
        jws.verify(token, KeySet([]), algorithms=["HS256"])


def test_resolver_receives_the_header_and_returns_a_key() -> None:
    seen: list[dict[str, Any]] = []
    key = OctKey(SECRET, kid="abc")

    def resolve(header: Mapping[str, Any]) -> Key:
        seen.append(dict(header))
        return key

    token = jws.sign(b"x", key, "HS256", headers={"typ": "x"})
    result = jws.verify(token, resolve, algorithms=["HS256"])
    assert result.key is key
    assert seen == [{"alg": "HS256", "typ": "x", "kid": "abc"}]


def test_resolver_key_still_has_to_match_the_kid() -> None:
    token = jws.sign(b"x", OctKey(SECRET, kid="abc"), "HS256")
    with pytest.raises(KeyNotFound, match="no trusted key has kid 'abc'"):
        jws.verify(token, lambda header: OctKey(SECRET, kid="other"), algorithms=["HS256"])


def test_resolver_may_return_a_key_set() -> None:
    b = OctKey(SECRET, kid="b")
    token = jws.sign(b"x", b, "HS256")
    result = jws.verify(
        token, lambda header: KeySet([OctKey(OTHER_SECRET, kid="a"), b]), algorithms=["HS256"]
    )
    assert result.key == b


def test_resolver_returning_an_empty_key_set_is_key_not_found() -> None:
    token = jws.sign(b"x", SECRET, "HS256")
    with pytest.raises(KeyNotFound, match="no trusted key fits"):
        jws.verify(token, lambda header: KeySet([]), algorithms=["HS256"])


def test_resolver_that_raises_becomes_key_not_found() -> None:
    def resolve(header: Mapping[str, Any]) -> Key:
        raise LookupError("database down: secret=hunter2")

    token = jws.sign(b"x", SECRET, "HS256")
    with pytest.raises(KeyNotFound, match="the key resolver failed: LookupError") as info:
        jws.verify(token, resolve, algorithms=["HS256"])
    assert "hunter2" not in str(info.value)
    assert isinstance(info.value.__cause__, LookupError)


def test_resolver_jwtkit_key_errors_pass_through() -> None:
    error = InvalidKey("resolver says no")

    def resolve(header: Mapping[str, Any]) -> Key:
        raise error

    token = jws.sign(b"x", SECRET, "HS256")
    with pytest.raises(InvalidKey) as info:
        jws.verify(token, resolve, algorithms=["HS256"])
    assert info.value is error


@pytest.mark.parametrize("returned", [None, SECRET, "secret", [OctKey(SECRET)], {"kty": "oct"}])
def test_resolver_returning_something_else_is_a_usage_error(returned: Any) -> None:
    token = jws.sign(b"x", SECRET, "HS256")
    with pytest.raises(UsageError, match="must return a Key or KeySet"):
        jws.verify(token, lambda header: returned, algorithms=["HS256"])


@pytest.mark.parametrize("key", [42, 4.2, {"kty": "oct", "k": "abc"}, [42]])
def test_unsupported_key_arguments_are_usage_errors(key: Any) -> None:
    token = jws.sign(b"x", SECRET, "HS256")
    with pytest.raises(UsageError, match="key: expected"):
        jws.verify(token, key, algorithms=["HS256"])


def test_sign_refuses_unsupported_key_arguments() -> None:
    with pytest.raises(UsageError, match="key: expected"):
        jws.sign(b"x", 42, "HS256")  # type: ignore[arg-type]


def test_coerce_key_dispatches_on_the_form(ec_key: Key, ed_key: Key) -> None:
    assert coerce_key(ec_key) is ec_key
    assert isinstance(coerce_key(SECRET), OctKey)
    assert isinstance(coerce_key(SECRET.decode()), OctKey)
    assert isinstance(coerce_key(ec_key.public_key().to_pem()), ECKey)
    assert isinstance(coerce_key(b"\r\n  " + ec_key.public_key().to_pem()), ECKey)
    assert isinstance(coerce_key(ed_key.to_pem(private=True).decode()), OKPKey)


def test_key_source_reports_its_shape(ec_key: Key) -> None:
    empty = KeySource(None)
    assert empty.is_empty
    assert empty.default_algorithms() is None
    assert empty.static_keys is not None
    assert len(empty.static_keys) == 0

    with_alg = KeySource([ec_key, OctKey(SECRET, alg="HS512")])
    assert not with_alg.is_empty
    assert with_alg.default_algorithms() == frozenset({"ES256", "HS512"})

    without_alg = KeySource(KeySet([ec_key, OctKey(SECRET)]))
    assert without_alg.default_algorithms() is None

    resolver = KeySource(lambda header: ec_key)
    assert resolver.static_keys is None
    assert not resolver.is_empty
    assert resolver.default_algorithms() is None


def test_resolver_needs_algorithms(ec_key: Key) -> None:
    with pytest.raises(UsageError, match="algorithms is required"):
        jws.verify(jws.sign(b"x", ec_key), lambda header: ec_key)


# ---------------------------------------------------------------------------------------------
# the registry (jwtkit.jwa)

ALL_SIGNATURE_ALGORITHMS = {
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512", "ES256K", "EdDSA", "Ed25519", "Ed448",
    "ML-DSA-44", "ML-DSA-65", "ML-DSA-87",
}  # fmt: skip


def test_default_registry_holds_every_safe_signature_algorithm() -> None:
    registry = jwa.DEFAULT_REGISTRY
    assert registry.signature_names == ALL_SIGNATURE_ALGORITHMS
    assert set(registry) == ALL_SIGNATURE_ALGORITHMS
    assert set(jwa.SIGNATURE_ALGORITHMS) == ALL_SIGNATURE_ALGORITHMS
    assert "none" not in registry
    assert registry.signature("none") is None
    assert not any(registry.signature(n).unsecured for n in registry)  # type: ignore[union-attr]


def test_registry_lookup_is_exact_and_typed() -> None:
    registry = jwa.DEFAULT_REGISTRY
    hs256 = registry.signature("HS256")
    assert isinstance(hs256, jwa.SignatureAlgorithm)
    assert hs256.name == "HS256"
    assert hs256.symmetric
    assert not hs256.unsecured
    assert registry.signature("hs256") is None
    assert registry.signature("HS256 ") is None
    assert registry.signature(b"HS256") is None
    assert registry.signature(None) is None
    assert "HS256" in registry
    assert b"HS256" not in registry
    assert 1 not in registry


def test_registry_including_none_warns_and_returns_a_new_value() -> None:
    with pytest.warns(jwa.InsecureAlgorithmWarning, match="unsecured tokens carry no signature"):
        registry = jwa.DEFAULT_REGISTRY.including(jwa.NONE)
    assert "none" in registry
    assert registry.signature("none") is jwa.NONE
    assert jwa.NONE.unsecured
    assert "none" not in jwa.DEFAULT_REGISTRY
    assert registry.signature_names == ALL_SIGNATURE_ALGORITHMS | {"none"}


def test_registry_excluding_and_including_safe_algorithms_do_not_warn() -> None:
    smaller = jwa.DEFAULT_REGISTRY.excluding("RS256", "not-there")
    assert "RS256" not in smaller
    assert smaller.signature_names == ALL_SIGNATURE_ALGORITHMS - {"RS256"}
    restored = smaller.including(jwa.SIGNATURE_ALGORITHMS["RS256"])
    assert restored.signature_names == ALL_SIGNATURE_ALGORITHMS
    assert "RS256" in jwa.DEFAULT_REGISTRY


def test_registry_repr_lists_sorted_names() -> None:
    registry = jwa.Registry([jwa.SIGNATURE_ALGORITHMS["HS512"], jwa.SIGNATURE_ALGORITHMS["ES256"]])
    assert repr(registry) == "Registry(['ES256', 'HS512'])"
    assert list(registry) == ["HS512", "ES256"]


def test_calls_use_the_registry_they_are_given(rsa_key: Key) -> None:
    registry = jwa.DEFAULT_REGISTRY.excluding("RS256")
    with pytest.raises(AlgorithmNotAllowed, match="not supported by this registry"):
        jws.sign(b"x", rsa_key, "RS256", registry=registry)
    token = jws.sign(b"x", rsa_key, "RS256")
    with pytest.raises(UsageError, match="'RS256' is not a supported algorithm"):
        jws.verify(token, rsa_key.public_key(), algorithms=["RS256"], registry=registry)


def test_signer_and_verifier_are_bound_to_a_key(hmac_key: OctKey, rsa_key: Key) -> None:
    hs256 = jwa.DEFAULT_REGISTRY.signature("HS256")
    assert hs256 is not None
    tag = hs256.signer(hmac_key)(b"abc.def")
    verify = hs256.verifier(hmac_key)
    assert verify(b"abc.def", b64url_encode(tag))
    assert not verify(b"abc.deg", b64url_encode(tag))
    assert not verify(b"abc.def", b64url_encode(tag) + "A")
    assert not verify(b"abc.def", "é" * 43)
    rs256 = jwa.DEFAULT_REGISTRY.signature("RS256")
    assert rs256 is not None
    assert isinstance(rsa_key, RSAKey)
    signature = rs256.signer(rsa_key)(b"abc.def")
    assert rs256.verifier(rsa_key.public_key())(b"abc.def", b64url_encode(signature))
    with pytest.raises(InvalidKey):
        hs256.signer(rsa_key)
    with pytest.raises(InvalidKey):
        rs256.verifier(hmac_key)


def test_jwtkit_top_level_exposes_the_jws_module() -> None:
    assert jwtkit.jws.sign is jws.sign
    assert jwtkit.jws.verify is jws.verify


def test_eddsa_algorithms_name_the_key_they_need() -> None:
    registry = jwa.DEFAULT_REGISTRY
    ec_key = jwtkit.Key.generate("ES256")
    ed448 = jwtkit.Key.generate("Ed448")
    for name, key, message in (
        ("EdDSA", ec_key, "EdDSA needs an OKP key on Ed25519 or Ed448"),
        ("Ed25519", ed448, "Ed25519 needs an OKP key on Ed25519, got Ed448"),
    ):
        algorithm = registry.signature(name)
        assert algorithm is not None
        with pytest.raises(InvalidKey, match=message):
            algorithm.signer(key)
        with pytest.raises(InvalidKey, match=message):
            algorithm.verifier(key.public_key())
