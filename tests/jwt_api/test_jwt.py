"""``jwtkit.encode`` / ``decode`` / ``decode_complete`` / ``decode_unverified``, the reusable
``Verifier`` and ``jwtkit.testing.FrozenClock`` (RFC 7519 §7; RFC 7515 §4.1.9; RFC 8725 §3.11).
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

import jwtkit
from jwtkit import jwa, jws
from jwtkit._codec import b64url_decode, b64url_encode, json_loads_object
from jwtkit.errors import (
    AlgorithmNotAllowed,
    ExpiredToken,
    InvalidSignature,
    InvalidType,
    KeyNotFound,
    MalformedToken,
    TokenTooLarge,
    UnsupportedCritical,
    UsageError,
)
from jwtkit.jwk import ECKey, Key, KeySet, OctKey
from jwtkit.jwt import normalize_typ
from jwtkit.testing import FrozenClock

SECRET = b"jwtkit-jwt-test-secret-" + b"0123456789abcdef" * 3  # long enough for HS512
OTHER_SECRET = b"jwtkit-other-secret----" + b"fedcba9876543210" * 3
NOW = 1_780_000_000  # 2026-05-28T20:26:40Z


@pytest.fixture(scope="module")
def ec_key() -> Key:
    return Key.generate("ES256", kid="ec-1")


@pytest.fixture(scope="module")
def none_registry() -> jwa.Registry:
    with pytest.warns(jwa.InsecureAlgorithmWarning):
        return jwa.DEFAULT_REGISTRY.including(jwa.NONE)


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    return json_loads_object(b64url_decode(header)), json_loads_object(b64url_decode(payload))


def _raw_token(header: Mapping[str, Any], claims: Mapping[str, Any], secret: bytes) -> str:
    """A token with exactly this header, signed with HS256 (bypassing encode's checks)."""
    signing_input = (
        b64url_encode(json.dumps(header).encode())
        + "."
        + b64url_encode(json.dumps(claims).encode())
    )
    hs256 = jwa.DEFAULT_REGISTRY.signature("HS256")
    assert hs256 is not None
    return signing_input + "." + b64url_encode(hs256.signer(OctKey(secret))(signing_input.encode()))


# ---------------------------------------------------------------------------------------------
# encode


def test_encode_then_decode_round_trips() -> None:
    token = jwtkit.encode({"sub": "42", "n": [1, 2]}, SECRET, "HS256")
    assert _parts(token) == ({"alg": "HS256", "typ": "JWT"}, {"sub": "42", "n": [1, 2]})
    assert jwtkit.decode(token, SECRET, algorithms=["HS256"]) == {"sub": "42", "n": [1, 2]}


@pytest.mark.parametrize("key", [SECRET, SECRET.decode("ascii"), OctKey(SECRET)])
def test_encode_defaults_to_hs256_for_a_bare_secret(key: bytes | str | Key) -> None:
    token = jwtkit.encode({"a": 1}, key)
    assert _parts(token)[0]["alg"] == "HS256"
    assert jwtkit.decode(token, SECRET, algorithms=["HS256"]) == {"a": 1}


def test_encode_uses_the_key_alg_and_kid(ec_key: Key) -> None:
    token = jwtkit.encode({"a": 1}, ec_key)
    assert _parts(token)[0] == {"alg": "ES256", "typ": "JWT", "kid": "ec-1"}
    token = jwtkit.encode({"a": 1}, OctKey(SECRET, alg="HS512"))
    assert _parts(token)[0]["alg"] == "HS512"


def test_encode_without_an_algorithm_for_a_key_without_alg_is_refused() -> None:
    key = Key.generate("OKP")
    with pytest.raises(UsageError, match="algorithm is required"):
        jwtkit.encode({"a": 1}, key)


def test_encode_converts_datetimes_to_numeric_dates() -> None:
    exp = datetime(2026, 5, 28, 21, 26, 40, tzinfo=timezone.utc)
    naive_nbf = datetime(2026, 5, 28, 20, 26, 40)
    iat = datetime(2026, 5, 28, 22, 26, 40, tzinfo=timezone(timedelta(hours=3)))
    payload = {"exp": exp, "nbf": naive_nbf, "iat": iat, "sub": "x"}
    claims = _parts(jwtkit.encode(payload, SECRET))[1]
    assert claims == {"exp": NOW + 3600, "nbf": NOW, "iat": NOW - 3600, "sub": "x"}
    assert all(type(claims[name]) is int for name in ("exp", "nbf", "iat"))
    assert payload == {"exp": exp, "nbf": naive_nbf, "iat": iat, "sub": "x"}


@pytest.mark.parametrize("expires_in", [900, 900.7, timedelta(minutes=15)])
def test_expires_in_sets_iat_and_exp(expires_in: float | timedelta) -> None:
    claims = _parts(jwtkit.encode({"sub": "x"}, SECRET, expires_in=expires_in, now=NOW))[1]
    assert claims == {"sub": "x", "iat": NOW, "exp": NOW + 900}


def test_expires_in_uses_the_real_clock_by_default() -> None:
    before = int(time.time())
    claims = _parts(jwtkit.encode({}, SECRET, expires_in=60))[1]
    after = int(time.time())
    assert before <= claims["iat"] <= after
    assert claims["exp"] == claims["iat"] + 60


def test_expires_in_overrides_given_iat_and_exp() -> None:
    claims = _parts(jwtkit.encode({"iat": 1, "exp": 2}, SECRET, expires_in=10, now=NOW))[1]
    assert claims == {"iat": NOW, "exp": NOW + 10}


@pytest.mark.parametrize(
    ("not_before", "nbf"),
    [
        (30, NOW + 30),
        (-30, NOW - 30),
        (timedelta(minutes=1), NOW + 60),
        (datetime.fromtimestamp(NOW + 5, tz=timezone.utc), NOW + 5),
        (datetime.fromtimestamp(NOW + 5, tz=timezone.utc).replace(tzinfo=None), NOW + 5),
    ],
)
def test_not_before_forms(not_before: float | timedelta | datetime, nbf: int) -> None:
    claims = _parts(jwtkit.encode({"sub": "x"}, SECRET, not_before=not_before, now=NOW))[1]
    assert claims == {"sub": "x", "nbf": nbf}


def test_expires_in_and_not_before_together() -> None:
    claims = _parts(
        jwtkit.encode({}, SECRET, expires_in=timedelta(hours=1), not_before=10, now=NOW)
    )[1]
    assert claims == {"iat": NOW, "exp": NOW + 3600, "nbf": NOW + 10}


@pytest.mark.parametrize(("name", "value"), [("expires_in", "900"), ("not_before", "soon")])
def test_bad_time_arguments_are_usage_errors(name: str, value: Any) -> None:
    with pytest.raises(UsageError, match=f"{name}: expected"):
        jwtkit.encode({}, SECRET, now=NOW, **{name: value})


def test_encode_never_mutates_the_payload() -> None:
    payload: dict[str, Any] = {"sub": "x", "exp": datetime(2030, 1, 1), "aud": ["a"]}
    snapshot = {"sub": "x", "exp": datetime(2030, 1, 1), "aud": ["a"]}
    jwtkit.encode(payload, SECRET, expires_in=60, not_before=5, now=NOW)
    jwtkit.encode(payload, SECRET)
    assert payload == snapshot


def test_encode_accepts_any_mapping() -> None:
    from types import MappingProxyType

    token = jwtkit.encode(MappingProxyType({"a": 1}), SECRET)
    assert _parts(token)[1] == {"a": 1}


@pytest.mark.parametrize("payload", [[("a", 1)], "claims", b"{}", None])
def test_encode_payload_must_be_a_mapping(payload: Any) -> None:
    with pytest.raises(UsageError, match="payload must be a mapping of claims"):
        jwtkit.encode(payload, SECRET)


@pytest.mark.parametrize(
    "payload", [{"a": object()}, {"a": {1, 2}}, {"a": float("nan")}, {"a": b"bytes"}]
)
def test_non_serializable_payload_is_a_usage_error(payload: dict[Any, Any]) -> None:
    with pytest.raises(UsageError, match="payload is not JSON-serializable"):
        jwtkit.encode(payload, SECRET)


def test_non_serializable_header_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        jwtkit.encode({}, SECRET, headers={"ext": object()})


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, (Decimal, uuid.UUID)):
            return str(o)
        return super().default(o)


def test_json_encoder_serializes_custom_types() -> None:
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    token = jwtkit.encode({"id": ident, "price": Decimal("1.10")}, SECRET, json_encoder=_Encoder)
    assert jwtkit.decode(token, SECRET, algorithms=["HS256"]) == {
        "id": "12345678-1234-5678-1234-567812345678",
        "price": "1.10",
    }
    assert b64url_decode(token.split(".")[1]) == (
        b'{"id":"12345678-1234-5678-1234-567812345678","price":"1.10"}'
    )
    with pytest.raises(UsageError, match="not JSON-serializable"):
        jwtkit.encode({"a": object()}, SECRET, json_encoder=_Encoder)
    with pytest.raises(UsageError, match="not JSON-serializable"):
        jwtkit.encode({"a": float("inf")}, SECRET, json_encoder=_Encoder)


def test_typ_none_leaves_typ_out_and_headers_override() -> None:
    assert _parts(jwtkit.encode({}, SECRET, typ=None))[0] == {"alg": "HS256"}
    assert _parts(jwtkit.encode({}, SECRET, typ="at+jwt"))[0] == {"alg": "HS256", "typ": "at+jwt"}
    header = _parts(jwtkit.encode({}, SECRET, headers={"typ": "dpop+jwt", "cty": "x"}))[0]
    assert header == {"alg": "HS256", "typ": "dpop+jwt", "cty": "x"}
    header = _parts(jwtkit.encode({}, OctKey(SECRET, kid="k"), headers={"kid": "override"}))[0]
    assert header["kid"] == "override"


def test_headers_cannot_change_the_algorithm_or_disable_base64url() -> None:
    with pytest.raises(UsageError, match="headers\\['alg'\\]"):
        jwtkit.encode({}, SECRET, "HS256", headers={"alg": "none"})
    with pytest.raises(UsageError, match="'b64': false is not allowed"):
        jwtkit.encode({}, SECRET, "HS256", headers={"b64": False})


def test_encode_with_an_unknown_algorithm_is_not_allowed() -> None:
    with pytest.raises(AlgorithmNotAllowed):
        jwtkit.encode({}, SECRET, "HS1024")
    with pytest.raises(AlgorithmNotAllowed):
        jwtkit.encode({}, SECRET, "none")


def test_encode_without_a_key_needs_none() -> None:
    with pytest.raises(UsageError, match="HS256 needs a key"):
        jwtkit.encode({}, None, "HS256")
    with pytest.raises(UsageError, match="algorithm is required"):
        jwtkit.encode({}, None)


def test_encode_refuses_unsupported_key_arguments() -> None:
    with pytest.raises(UsageError, match="key: expected"):
        jwtkit.encode({}, bytearray(SECRET))  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="key: expected"):
        jwtkit.encode({}, 42)  # type: ignore[arg-type]


def test_encode_none_only_with_the_opt_in_registry_and_no_key(
    none_registry: jwa.Registry,
) -> None:
    token = jwtkit.encode({"sub": "x"}, None, "none", registry=none_registry)
    assert token.endswith(".")
    assert _parts(token)[0] == {"alg": "none", "typ": "JWT"}
    with pytest.raises(UsageError, match="'none' takes no key"):
        jwtkit.encode({}, SECRET, "none", registry=none_registry)


def test_encode_signing_key_must_fit(ec_key: Key) -> None:
    with pytest.raises(jwtkit.InvalidKey):
        jwtkit.encode({}, ec_key.public_key())
    with pytest.raises(jwtkit.InvalidKey):
        jwtkit.encode({}, ec_key, "HS256")


def test_encode_with_pem_text_and_decode_with_public_pem(ec_key: Key) -> None:
    private_pem = ec_key.to_pem(private=True).decode("ascii")
    token = jwtkit.encode({"sub": "pem"}, private_pem, "ES256")
    assert jwtkit.decode(token, ec_key.public_key().to_pem(), algorithms=["ES256"]) == {
        "sub": "pem"
    }
    assert jwtkit.decode(
        token, ec_key.public_key().to_pem().decode("ascii"), algorithms=["ES256"]
    ) == {"sub": "pem"}


# ---------------------------------------------------------------------------------------------
# decode: arguments


def test_decode_accepts_bytes_tokens() -> None:
    token = jwtkit.encode({"a": 1}, SECRET)
    assert jwtkit.decode(token.encode("ascii"), SECRET, algorithms=["HS256"]) == {"a": 1}


def test_decode_requires_algorithms_unless_keys_carry_alg(ec_key: Key) -> None:
    token = jwtkit.encode({"a": 1}, SECRET)
    with pytest.raises(UsageError, match="algorithms is required"):
        jwtkit.decode(token, SECRET)
    token = jwtkit.encode({"a": 1}, ec_key)
    assert jwtkit.decode(token, ec_key.public_key()) == {"a": 1}
    with pytest.raises(AlgorithmNotAllowed):
        jwtkit.decode(
            jwtkit.encode({}, SECRET),
            KeySet([ec_key.public_key(), OctKey(SECRET, alg="HS512")], allow_mixed=True),
        )


def test_decode_refuses_algorithms_as_a_string() -> None:
    with pytest.raises(UsageError, match="must be a list of names"):
        jwtkit.decode(jwtkit.encode({}, SECRET), SECRET, algorithms="HS256")


def test_decode_refuses_unknown_algorithms() -> None:
    with pytest.raises(UsageError, match="not a supported algorithm"):
        jwtkit.decode(jwtkit.encode({}, SECRET), SECRET, algorithms=["HS256", "XS256"])


def test_decode_refuses_none_without_the_opt_in_registry() -> None:
    # The message does not send the caller to a registry that decode would refuse as well.
    for name in ("none", "None"):
        with pytest.raises(UsageError, match="'none' cannot be accepted by decode") as caught:
            jwtkit.decode(jwtkit.encode({}, SECRET), SECRET, algorithms=iter(["HS256", name]))
        assert "decode_unverified" in str(caught.value)
        assert "including" not in str(caught.value)


def test_encode_with_none_names_the_opt_in() -> None:
    with pytest.raises(AlgorithmNotAllowed, match=r"DEFAULT_REGISTRY.including\(jwtkit.jwa.NONE\)"):
        jwtkit.encode({}, None, "none")


def test_decode_refuses_none_even_with_the_opt_in_registry(none_registry: jwa.Registry) -> None:
    token = jwtkit.encode({"sub": "x"}, None, "none", registry=none_registry)
    with pytest.raises(UsageError, match="'none' cannot be accepted by decode"):
        jwtkit.decode(token, None, algorithms=["none"], registry=none_registry)
    with pytest.raises(UsageError, match="'none' cannot be accepted by decode"):
        jwtkit.Verifier(None, algorithms=["HS256", "none"], registry=none_registry)
    with pytest.raises(AlgorithmNotAllowed):
        jwtkit.decode(token, SECRET, algorithms=["HS256"], registry=none_registry)
    with pytest.raises(AlgorithmNotAllowed):
        jwtkit.decode(token, SECRET, algorithms=["HS256"])


def test_decode_refuses_to_skip_the_signature() -> None:
    with pytest.raises(UsageError, match="verify_signature cannot be turned off"):
        jwtkit.decode(
            jwtkit.encode({}, SECRET),
            SECRET,
            algorithms=["HS256"],
            options={"verify_signature": False},
        )


def test_decode_refuses_unknown_options() -> None:
    with pytest.raises(UsageError, match="unknown option"):
        jwtkit.decode(jwtkit.encode({}, SECRET), SECRET, algorithms=["HS256"], options={"x": 1})


def test_decode_bad_signature_is_invalid_signature_before_claims() -> None:
    token = jwtkit.encode({"exp": NOW - 100}, OTHER_SECRET)
    with pytest.raises(InvalidSignature):
        jwtkit.decode(token, SECRET, algorithms=["HS256"], now=NOW)


# ---------------------------------------------------------------------------------------------
# decode: token shape


def test_decode_rejects_five_segment_tokens_as_jwe() -> None:
    for token in ("a.b.c.d.e", b"a.b.c.d.e"):
        with pytest.raises(MalformedToken, match="5 segments is a JWE"):
            jwtkit.decode(token, SECRET, algorithms=["HS256"])


def test_decode_rejects_an_empty_payload() -> None:
    token = jws.sign(b"", SECRET, "HS256")
    with pytest.raises(MalformedToken, match="the payload is empty"):
        jwtkit.decode(token, SECRET, algorithms=["HS256"])


def test_decode_rejects_a_payload_that_is_not_base64url() -> None:
    header = jwtkit.encode({}, SECRET).split(".")[0]
    with pytest.raises(MalformedToken, match="the payload must be base64url"):
        jwtkit.decode(f"{header}.a b.c2ln", SECRET, algorithms=["HS256"])


@pytest.mark.parametrize("payload", [b"[1]", b'"x"', b"not json", b'{"a":1,"a":2}'])
def test_decode_requires_a_strict_claims_object(payload: bytes) -> None:
    token = jws.sign(payload, SECRET, "HS256")
    with pytest.raises(MalformedToken, match=r"^claims: "):
        jwtkit.decode(token, SECRET, algorithms=["HS256"])


def test_decode_rejects_b64_false_in_a_jwt() -> None:
    token = jws.sign(b"e30", SECRET, "HS256", headers={"b64": False})
    with pytest.raises(MalformedToken, match="'b64': false is not allowed in a JWT"):
        jwtkit.decode(token, SECRET, algorithms=["HS256"])


@pytest.mark.parametrize("cty", ["JWT", "jwt", "application/JWT"])
def test_decode_does_not_unwrap_nested_jwts(cty: str) -> None:
    token = jwtkit.encode({}, SECRET, headers={"cty": cty})
    with pytest.raises(MalformedToken, match="nested JWT"):
        jwtkit.decode(token, SECRET, algorithms=["HS256"])


def test_decode_accepts_other_content_types() -> None:
    token = jwtkit.encode({"a": 1}, SECRET, headers={"cty": "application/json"})
    assert jwtkit.decode(token, SECRET, algorithms=["HS256"]) == {"a": 1}


def test_decode_processes_crit() -> None:
    token = jwtkit.encode({"a": 1}, SECRET, headers={"ext": True, "crit": ["ext"]})
    with pytest.raises(UnsupportedCritical):
        jwtkit.decode(token, SECRET, algorithms=["HS256"])
    assert jwtkit.decode(token, SECRET, algorithms=["HS256"], crit=["ext"]) == {"a": 1}


def test_decode_checks_header_member_types() -> None:
    token = _raw_token({"alg": "HS256", "typ": 1}, {"a": 1}, SECRET)
    with pytest.raises(MalformedToken, match="'typ' must be a string"):
        jwtkit.decode(token, SECRET, algorithms=["HS256"])


def test_decode_bounds_the_token_size() -> None:
    token = jwtkit.encode({"data": "x" * 1000}, SECRET)
    with pytest.raises(TokenTooLarge):
        jwtkit.decode(token, SECRET, algorithms=["HS256"], max_token_size=1000)
    assert jwtkit.decode(token, SECRET, algorithms=["HS256"], max_token_size=len(token))


# ---------------------------------------------------------------------------------------------
# typ (RFC 7515 §4.1.9, RFC 8725 §3.11)


@pytest.mark.parametrize(
    ("value", "normalized"),
    [
        ("JWT", "jwt"),
        ("application/jwt", "jwt"),
        ("Application/JWT", "jwt"),
        ("at+jwt", "at+jwt"),
        ("application/at+jwt", "at+jwt"),
        ("APPLICATION/AT+JWT", "at+jwt"),
        ("application/a/b", "application/a/b"),
        ("text/plain", "text/plain"),
    ],
)
def test_normalize_typ(value: str, normalized: str) -> None:
    assert normalize_typ(value) == normalized


@pytest.mark.parametrize("expected", ["at+jwt", "application/at+jwt", "AT+JWT"])
@pytest.mark.parametrize("typ", ["at+jwt", "application/at+jwt", "At+Jwt", "APPLICATION/AT+JWT"])
def test_expected_typ_matches_every_spelling_of_the_media_type(expected: str, typ: str) -> None:
    token = jwtkit.encode({"a": 1}, SECRET, typ=typ)
    assert jwtkit.decode(token, SECRET, algorithms=["HS256"], typ=expected) == {"a": 1}


@pytest.mark.parametrize("typ", ["JWT", "jwt", "application/jwt"])
def test_typ_jwt_equals_application_jwt(typ: str) -> None:
    token = jwtkit.encode({"a": 1}, SECRET, typ=typ)
    assert jwtkit.decode(token, SECRET, algorithms=["HS256"], typ="JWT") == {"a": 1}
    assert jwtkit.decode(token, SECRET, algorithms=["HS256"], typ="application/jwt") == {"a": 1}


@pytest.mark.parametrize("typ", ["JWT", "id_token+jwt", "application/at+jwt+x", None])
def test_E5_wrong_or_missing_typ_is_invalid_type(typ: str | None) -> None:  # noqa: N802
    token = jwtkit.encode({"a": 1}, SECRET, typ=typ)
    with pytest.raises(InvalidType) as info:
        jwtkit.decode(token, SECRET, algorithms=["HS256"], typ="at+jwt")
    assert info.value.claim == "typ"
    assert info.value.code == "invalid_type"
    assert "is not the expected 'at+jwt'" in str(info.value)


def test_typ_is_not_checked_unless_expected() -> None:
    token = jwtkit.encode({"a": 1}, SECRET, typ="anything")
    assert jwtkit.decode(token, SECRET, algorithms=["HS256"]) == {"a": 1}


def test_typ_argument_must_be_a_string() -> None:
    with pytest.raises(UsageError, match="typ: expected a string"):
        jwtkit.decode(jwtkit.encode({}, SECRET), SECRET, algorithms=["HS256"], typ=1)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# decode_complete and decode_unverified


def test_decode_complete_returns_header_claims_key_and_algorithm(ec_key: Key) -> None:
    token = jwtkit.encode({"sub": "x"}, ec_key)
    public = ec_key.public_key()
    keys = KeySet([OctKey(SECRET), public], allow_mixed=True)
    decoded = jwtkit.decode_complete(token, keys, algorithms=["ES256"])
    assert isinstance(decoded, jwtkit.DecodedJWT)
    assert decoded.header == {"alg": "ES256", "typ": "JWT", "kid": "ec-1"}
    assert decoded.claims == {"sub": "x"}
    assert decoded.signature == b64url_decode(token.split(".")[2])
    assert len(decoded.signature) == 64
    assert decoded.algorithm == "ES256"
    assert decoded.key == public
    assert isinstance(decoded.key, ECKey)


def test_decoded_jwt_supports_pyjwt_style_subscripting() -> None:
    token = jwtkit.encode({"sub": "x"}, SECRET)
    decoded = jwtkit.decode_complete(token, SECRET, algorithms=["HS256"])
    assert decoded["header"] is decoded.header
    assert decoded["payload"] is decoded.claims
    assert decoded["signature"] is decoded.signature
    with pytest.raises(KeyError):
        decoded["claims"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        decoded.claims = {}  # type: ignore[misc]


def test_decode_unverified_parses_without_verifying() -> None:
    token = jwtkit.encode({"exp": 1, "aud": "x"}, OTHER_SECRET, "HS384", headers={"kid": "?"})
    decoded = jwtkit.decode_unverified(token)
    assert decoded.header == {"alg": "HS384", "typ": "JWT", "kid": "?"}
    assert decoded.claims == {"exp": 1, "aud": "x"}
    assert len(decoded.signature) == 48
    assert decoded.algorithm is None
    assert decoded.key is None
    assert jwtkit.decode_unverified(token.encode()).claims == decoded.claims


def test_decode_unverified_still_rejects_malformed_tokens() -> None:
    with pytest.raises(MalformedToken, match="JWE"):
        jwtkit.decode_unverified("a.b.c.d.e")
    with pytest.raises(MalformedToken, match=r"^claims: "):
        jwtkit.decode_unverified(jws.sign(b"[]", SECRET, "HS256"))
    with pytest.raises(MalformedToken, match=r"^header: "):
        jwtkit.decode_unverified("W10.e30.")
    with pytest.raises(TokenTooLarge):
        jwtkit.decode_unverified(jwtkit.encode({}, SECRET), max_token_size=10)


# ---------------------------------------------------------------------------------------------
# keys: KeySet, kid, resolvers


def test_decode_selects_by_kid_from_a_key_set(ec_key: Key) -> None:
    a = OctKey(SECRET, kid="a")
    b = OctKey(OTHER_SECRET, kid="b")
    keys = KeySet([a, b, ec_key.public_key()], allow_mixed=True)
    for signer in (a, b):
        decoded = jwtkit.decode_complete(jwtkit.encode({}, signer), keys, algorithms=["HS256"])
        assert decoded.key == signer
    with pytest.raises(KeyNotFound):
        jwtkit.decode(jwtkit.encode({}, OctKey(SECRET, kid="c")), keys, algorithms=["HS256"])


def test_decode_without_kid_tries_each_key() -> None:
    keys = KeySet([OctKey(OTHER_SECRET), OctKey(SECRET)])
    decoded = jwtkit.decode_complete(jwtkit.encode({}, SECRET), keys, algorithms=["HS256"])
    assert decoded.key == OctKey(SECRET)


def test_decode_with_a_resolver_returning_a_key_or_key_set() -> None:
    key = OctKey(SECRET, kid="a")
    token = jwtkit.encode({"a": 1}, key)
    assert jwtkit.decode(token, lambda header: key, algorithms=["HS256"]) == {"a": 1}
    assert jwtkit.decode(token, lambda header: KeySet([key]), algorithms=["HS256"]) == {"a": 1}


def test_decode_resolver_errors() -> None:
    token = jwtkit.encode({"a": 1}, SECRET)

    def broken(header: Mapping[str, Any]) -> Key:
        raise RuntimeError("boom")

    with pytest.raises(KeyNotFound, match="the key resolver failed: RuntimeError"):
        jwtkit.decode(token, broken, algorithms=["HS256"])
    with pytest.raises(UsageError, match="must return a Key or KeySet"):
        jwtkit.decode(token, lambda header: SECRET, algorithms=["HS256"])  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Verifier


def test_verifier_gives_the_same_results_as_decode_on_cache_miss_and_hit() -> None:
    verifier = jwtkit.Verifier(SECRET, algorithms=["HS256"], audience="api", issuer="iss")
    tokens = [
        jwtkit.encode({"aud": "api", "iss": "iss", "n": n}, SECRET, now=NOW, expires_in=60)
        for n in range(3)
    ]
    for token in tokens + tokens:  # the second round hits the header cache
        expected = jwtkit.decode(
            token, SECRET, algorithms=["HS256"], audience="api", issuer="iss", now=NOW
        )
        assert verifier.decode(token, now=NOW) == expected
        complete = verifier.decode_complete(token, now=NOW)
        assert complete == jwtkit.decode_complete(
            token, SECRET, algorithms=["HS256"], audience="api", issuer="iss", now=NOW
        )
        assert verifier.decode(token.encode("ascii"), now=NOW) == expected


def test_verifier_cache_hit_still_checks_signature_and_claims() -> None:
    clock = FrozenClock(NOW)
    verifier = jwtkit.Verifier(SECRET, algorithms=["HS256"], clock=clock)
    good = jwtkit.encode({"n": 1}, SECRET, expires_in=60, now=NOW)
    assert verifier.decode(good) == {"n": 1, "iat": NOW, "exp": NOW + 60}  # caches the header
    forged = jwtkit.encode({"n": 1}, OTHER_SECRET, expires_in=60, now=NOW)
    assert forged.split(".")[0] == good.split(".")[0]
    with pytest.raises(InvalidSignature):
        verifier.decode(forged)
    with pytest.raises(InvalidSignature):
        verifier.decode_complete(forged)
    with pytest.raises(InvalidSignature):
        verifier.decode(forged.encode())
    header, payload, signature = good.split(".")
    with pytest.raises(InvalidSignature):
        verifier.decode(f"{header}.{payload}x.{signature}")
    clock.advance(60)
    with pytest.raises(ExpiredToken):
        verifier.decode(good)
    with pytest.raises(ExpiredToken):
        verifier.decode_complete(good)
    assert verifier.decode(good, now=NOW) == {"n": 1, "iat": NOW, "exp": NOW + 60}


def test_verifier_cache_hit_reports_malformed_tokens_precisely() -> None:
    verifier = jwtkit.Verifier(SECRET, algorithms=["HS256"])
    good = jwtkit.encode({"n": 1}, SECRET)
    assert verifier.decode(good) == {"n": 1}  # caches the header
    header, payload, signature = good.split(".")
    with pytest.raises(MalformedToken, match="the payload must be base64url"):
        verifier.decode(f"{header}.{payload}é.{signature}")
    # A correctly signed but non-canonical payload segment is still refused (B7).
    hs256 = jwa.DEFAULT_REGISTRY.signature("HS256")
    assert hs256 is not None
    signing_input = f"{header}.e31"
    forged = (
        signing_input + "." + b64url_encode(hs256.signer(OctKey(SECRET))(signing_input.encode()))
    )
    with pytest.raises(MalformedToken, match="payload: non-canonical"):
        verifier.decode(forged)
    with pytest.raises(MalformedToken, match="payload: non-canonical"):
        verifier.decode_complete(forged)
    signing_input = f"{header}.{b64url_encode(b'[1]')}"
    array = (
        signing_input + "." + b64url_encode(hs256.signer(OctKey(SECRET))(signing_input.encode()))
    )
    with pytest.raises(MalformedToken, match="claims: expected a JSON object"):
        verifier.decode(array)


def test_verifier_cache_hit_falls_back_to_other_fitting_keys() -> None:
    a = OctKey(SECRET)
    b = OctKey(OTHER_SECRET)
    verifier = jwtkit.Verifier(KeySet([a, b]), algorithms=["HS256"])
    by_a = jwtkit.encode({"k": "a"}, a)
    by_b = jwtkit.encode({"k": "b"}, b)
    assert verifier.decode_complete(by_a).key == a  # caches the header, a first
    assert verifier.decode(by_b) == {"k": "b"}  # cache hit: a fails, b verifies
    assert verifier.decode_complete(by_b).key == b
    assert verifier.decode_complete(by_a).key == a


def test_verifier_header_cache_is_bounded() -> None:
    verifier = jwtkit.Verifier(SECRET, algorithms=["HS256"], header_cache_size=2)
    tokens = [jwtkit.encode({"n": n}, SECRET, headers={"x": n}) for n in range(5)]
    for n, token in enumerate(tokens):
        assert verifier.decode(token) == {"n": n}
        assert len(verifier._cache) <= 2
    assert len(verifier._cache) == 2
    for n, token in enumerate(tokens):
        assert verifier.decode(token) == {"n": n}


def test_verifier_header_cache_can_be_disabled() -> None:
    verifier = jwtkit.Verifier(SECRET, algorithms=["HS256"], header_cache_size=0)
    token = jwtkit.encode({}, SECRET)
    assert verifier.decode(token) == {}
    assert verifier.decode(token) == {}
    assert len(verifier._cache) == 0


def test_verifier_with_a_resolver_asks_it_for_every_token() -> None:
    calls: list[Mapping[str, Any]] = []
    key = OctKey(SECRET)

    def resolve(header: Mapping[str, Any]) -> Key:
        calls.append(header)
        return key

    verifier = jwtkit.Verifier(resolve, algorithms=["HS256"])
    token = jwtkit.encode({"a": 1}, SECRET)
    assert verifier.decode(token) == {"a": 1}
    assert verifier.decode(token) == {"a": 1}
    assert len(calls) == 2
    assert len(verifier._cache) == 0


def test_verifier_typ_check_applies_on_cache_miss_only_for_new_headers() -> None:
    verifier = jwtkit.Verifier(SECRET, algorithms=["HS256"], typ="at+jwt")
    good = jwtkit.encode({"a": 1}, SECRET, typ="application/at+jwt")
    bad = jwtkit.encode({"a": 1}, SECRET)
    assert verifier.decode(good) == {"a": 1}
    assert verifier.decode(good) == {"a": 1}
    with pytest.raises(InvalidType):
        verifier.decode(bad)
    with pytest.raises(InvalidType):
        verifier.decode(bad)


def test_verifier_with_frozen_clock() -> None:
    clock = FrozenClock(NOW)
    key = Key.generate("ES256")
    verifier = jwtkit.Verifier(key.public_key(), clock=clock, leeway=timedelta(seconds=5))
    token = jwtkit.encode({"sub": "x"}, key, expires_in=900, now=clock())
    assert verifier.decode(token)["sub"] == "x"
    clock.advance(904)
    assert verifier.decode(token)["sub"] == "x"
    clock.advance(1)
    with pytest.raises(ExpiredToken):
        verifier.decode(token)
    clock.set(NOW - 10)
    with pytest.raises(jwtkit.NotYetValid):  # iat in the future, beyond the leeway
        verifier.decode(token)


def test_verifier_is_safe_to_share_between_threads(ec_key: Key) -> None:
    verifier = jwtkit.Verifier(
        KeySet([OctKey(SECRET, kid="h"), ec_key.public_key()], allow_mixed=True),
        algorithms=["HS256", "ES256"],
        header_cache_size=4,
    )
    tokens: list[tuple[str, dict[str, Any] | None]] = []
    for n in range(40):
        if n % 4 == 0:
            tokens.append((jwtkit.encode({"n": n}, ec_key, headers={"x": n % 8}), {"n": n}))
        elif n % 4 == 1:
            tokens.append((jwtkit.encode({"n": n}, OTHER_SECRET, headers={"kid": "h"}), None))
        else:
            key = OctKey(SECRET, kid="h")
            tokens.append((jwtkit.encode({"n": n}, key, headers={"x": n % 8}), {"n": n}))
    barrier = threading.Barrier(8)

    def work(offset: int) -> int:
        barrier.wait()
        checked = 0
        for i in range(len(tokens) * 3):
            token, expected = tokens[(i + offset) % len(tokens)]
            if expected is None:
                with pytest.raises(InvalidSignature):
                    verifier.decode(token)
            else:
                assert verifier.decode(token) == expected
            checked += 1
        return checked

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(8)))
    assert results == [len(tokens) * 3] * 8
    assert len(verifier._cache) <= 4


def test_verifier_rejects_bad_arguments_at_construction() -> None:
    with pytest.raises(UsageError, match="algorithms is required"):
        jwtkit.Verifier(SECRET)
    with pytest.raises(UsageError, match="unknown option"):
        jwtkit.Verifier(SECRET, algorithms=["HS256"], options={"verify": True})
    with pytest.raises(UsageError, match="leeway"):
        jwtkit.Verifier(SECRET, algorithms=["HS256"], leeway=-5)


def test_verifier_fast_path_ignores_oversized_tokens() -> None:
    verifier = jwtkit.Verifier(SECRET, algorithms=["HS256"], max_token_size=200)
    small = jwtkit.encode({}, SECRET)
    assert verifier.decode(small) == {}
    big = jwtkit.encode({"pad": "x" * 300}, SECRET)
    with pytest.raises(TokenTooLarge):
        verifier.decode(big)


# ---------------------------------------------------------------------------------------------
# FrozenClock


def test_frozen_clock_stands_still_until_moved() -> None:
    clock = FrozenClock()
    assert clock() == 1_700_000_000
    assert clock() == 1_700_000_000
    assert clock.advance(10) == 1_700_000_010
    assert clock.advance(timedelta(minutes=1)) == 1_700_000_070
    assert clock.advance(-70) == 1_700_000_000
    clock.set(NOW)
    assert clock() == NOW
    clock.set(datetime(2026, 5, 28, 20, 26, 40, tzinfo=timezone.utc))
    assert clock() == NOW
    assert repr(clock) == f"FrozenClock({float(NOW)!r})"


def test_frozen_clock_accepts_datetimes_and_refuses_other_values() -> None:
    assert FrozenClock(datetime(2026, 5, 28, 20, 26, 40))() == NOW
    with pytest.raises(UsageError, match="now: expected"):
        FrozenClock("2026")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="delta: expected"):
        FrozenClock().advance("1")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="now: expected"):
        FrozenClock().set(None)  # type: ignore[arg-type]


def test_frozen_clock_is_thread_safe() -> None:
    clock = FrozenClock(0)

    def tick(_: int) -> None:
        for _ in range(1000):
            clock.advance(1)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(tick, range(4)))
    assert clock() == 4000


# ---------------------------------------------------------------------------------------------
# fast paths and their fallbacks


def test_hmac_works_without_the_c_level_hmac_object(monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac as hmac_module

    real_new = hmac_module.new

    class PlainHMAC:
        """An HMAC object that exposes only the public interface."""

        def __init__(self, key: bytes, digestmod: str) -> None:
            self._mac = real_new(key, digestmod=digestmod)

        def copy(self) -> Any:
            return self._mac.copy()

    monkeypatch.setattr(hmac_module, "new", PlainHMAC)
    key = jwtkit.OctKey(b"s" * 32)
    token = jwtkit.jws.sign(b"payload", key, algorithm="HS256")
    assert jwtkit.jws.verify(token, key, algorithms=["HS256"]).payload == b"payload"
    monkeypatch.undo()
    assert jwtkit.jws.verify(token, key, algorithms=["HS256"]).payload == b"payload"


def test_encode_refuses_a_non_string_typ() -> None:
    with pytest.raises(jwtkit.UsageError, match="typ"):
        jwtkit.encode({"a": 1}, b"s" * 32, typ=5)  # type: ignore[arg-type]


def test_one_shot_decode_with_mapping_options_and_unhashable_arguments() -> None:
    from types import MappingProxyType

    secret = b"s" * 32
    token = jwtkit.encode({"sub": "1"}, secret)
    options = MappingProxyType({"verify_exp": True, "require": ["sub"]})
    for _ in range(2):  # the second call finds the shared verifier
        assert jwtkit.decode(token, secret, algorithms=["HS256"], options=options) == {"sub": "1"}
    with pytest.raises(jwtkit.UsageError, match="algorithms"):
        jwtkit.decode(token, secret, algorithms=[["HS256"]])  # type: ignore[list-item]


def test_one_shot_decode_does_not_conflate_equal_numbers_of_other_types() -> None:
    secret = b"s" * 32
    token = jwtkit.encode({"sub": "1"}, secret)
    assert jwtkit.decode(token, secret, algorithms=["HS256"], leeway=1) == {"sub": "1"}
    with pytest.raises(jwtkit.UsageError, match="leeway"):
        jwtkit.decode(token, secret, algorithms=["HS256"], leeway=True)


def test_a_key_without_kid_verifies_tokens_that_name_a_kid() -> None:
    signer = jwtkit.Key.generate("ES256", kid="2026-11")
    token = jwtkit.encode({"sub": "1"}, signer)
    unnamed = jwtkit.Key.from_pem(signer.public_key().to_pem())
    assert unnamed.kid is None
    assert jwtkit.decode(token, unnamed, algorithms=["ES256"]) == {"sub": "1"}
    named_otherwise = jwtkit.Key.from_pem(signer.public_key().to_pem(), kid="other")
    with pytest.raises(jwtkit.KeyNotFound, match="kid"):
        jwtkit.decode(token, named_otherwise, algorithms=["ES256"])
    # In a set, a key with the token's kid is preferred; kid-less keys are the fallback.
    both = jwtkit.KeySet([jwtkit.Key.generate("ES256").public_key(), signer.public_key()])
    assert jwtkit.decode_complete(token, both, algorithms=["ES256"]).key == signer.public_key()


def test_one_shot_decode_refuses_number_subclasses_as_durations() -> None:
    import enum

    class Seconds(enum.IntEnum):
        MINUTE = 60

    token = jwtkit.encode({"sub": "1"}, b"s" * 32)
    with pytest.raises(jwtkit.UsageError, match="leeway"):
        jwtkit.decode(token, b"s" * 32, algorithms=["HS256"], leeway=Seconds.MINUTE)


def test_changing_a_returned_header_does_not_change_the_verifiers_cache() -> None:
    key = jwtkit.OctKey(b"s" * 32)
    token = jwtkit.encode({"sub": "1"}, key)
    verifier = jwtkit.Verifier(key, algorithms=["HS256"])
    first = verifier.decode_complete(token)  # the miss stores the header
    first.header["alg"] = "changed"
    second = verifier.decode_complete(token)  # the hit returns a copy
    assert second.header == {"alg": "HS256", "typ": "JWT"}
    second.header["typ"] = "changed"
    assert verifier.decode_complete(token).header == {"alg": "HS256", "typ": "JWT"}
