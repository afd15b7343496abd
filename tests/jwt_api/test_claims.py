"""Claims validation (``jwtkit._claims``), through ``jwtkit.decode`` and directly.

RFC 7519 §4.1 (registered claims), §7.2 (validation); RFC 8725 §3.8-3.12; security matrix E1-E3.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import jwtkit
from jwtkit._claims import ClaimsPolicy, format_duration, format_time, seconds, to_timestamp
from jwtkit.errors import (
    ClaimError,
    ExpiredToken,
    InvalidAudience,
    InvalidIssuer,
    InvalidSubject,
    MissingClaim,
    NotYetValid,
    UsageError,
)

SECRET = b"jwtkit-claims-test-secret-" + b"0123456789abcdef" * 2
NOW = 1_780_000_000  # 2026-05-28T20:26:40Z


def _token(claims: Mapping[str, Any]) -> str:
    return jwtkit.encode(claims, SECRET, "HS256")


def _decode(claims: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("now", NOW)
    return jwtkit.decode(_token(claims), SECRET, algorithms=["HS256"], **kwargs)


# ---------------------------------------------------------------------------------------------
# exp (RFC 7519 §4.1.4)


def test_unexpired_token_passes() -> None:
    assert _decode({"exp": NOW + 1}) == {"exp": NOW + 1}
    assert _decode({"exp": NOW + 0.5}) == {"exp": NOW + 0.5}


@pytest.mark.parametrize("exp", [NOW, NOW - 1, NOW - 0.5])
def test_token_is_expired_from_the_exp_instant_on(exp: float) -> None:
    with pytest.raises(ExpiredToken) as info:
        _decode({"exp": exp})
    assert info.value.claim == "exp"
    assert info.value.reason == "expired"
    assert info.value.code == "expired"


def test_expiry_message_says_how_long_ago_when_and_the_leeway() -> None:
    with pytest.raises(ExpiredToken) as info:
        _decode({"exp": NOW - 180})
    assert str(info.value) == "token expired 3 min ago at 2026-05-28T20:23:40Z, leeway 0s"
    with pytest.raises(ExpiredToken) as info:
        _decode({"exp": NOW - 180}, leeway=30)
    assert str(info.value) == "token expired 3 min ago at 2026-05-28T20:23:40Z, leeway 30s"
    with pytest.raises(ExpiredToken) as info:
        _decode({"exp": NOW - 3 * 86400}, leeway=timedelta(seconds=1.5))
    assert str(info.value) == "token expired 3 days ago at 2026-05-25T20:26:40Z, leeway 1.5s"


@pytest.mark.parametrize("leeway", [11, 10.5, timedelta(seconds=11)])
def test_leeway_extends_exp(leeway: float | timedelta) -> None:
    assert _decode({"exp": NOW - 10}, leeway=leeway) == {"exp": NOW - 10}


@pytest.mark.parametrize("leeway", [10, 9.5, timedelta(seconds=10)])
def test_leeway_is_not_unbounded(leeway: float | timedelta) -> None:
    with pytest.raises(ExpiredToken):
        _decode({"exp": NOW - 10}, leeway=leeway)


def test_verify_exp_false_accepts_an_expired_token_but_not_a_malformed_exp() -> None:
    options = {"verify_exp": False}
    assert _decode({"exp": NOW - 1000}, options=options) == {"exp": NOW - 1000}
    with pytest.raises(ClaimError):
        _decode({"exp": "soon"}, options=options)


def test_token_without_exp_is_accepted_unless_required() -> None:
    assert _decode({"sub": "x"}) == {"sub": "x"}
    with pytest.raises(MissingClaim) as info:
        _decode({"sub": "x"}, require=["exp"])
    assert info.value.claim == "exp"
    assert info.value.reason == "missing"
    assert info.value.code == "missing_claim"
    assert str(info.value) == "required claim 'exp' is missing"


# ---------------------------------------------------------------------------------------------
# nbf and iat (RFC 7519 §4.1.5, §4.1.6)


def test_nbf_in_the_future_is_not_yet_valid() -> None:
    with pytest.raises(NotYetValid) as info:
        _decode({"nbf": NOW + 60})
    assert info.value.claim == "nbf"
    assert info.value.reason == "not yet valid"
    assert info.value.code == "not_yet_valid"
    assert str(info.value) == (
        "token is not valid before 2026-05-28T20:27:40Z (in 60 s), leeway 0s"
    )


def test_nbf_now_or_within_leeway_is_valid() -> None:
    assert _decode({"nbf": NOW}) == {"nbf": NOW}
    assert _decode({"nbf": NOW + 60}, leeway=60) == {"nbf": NOW + 60}
    assert _decode({"nbf": NOW + 60}, leeway=timedelta(minutes=1)) == {"nbf": NOW + 60}
    with pytest.raises(NotYetValid):
        _decode({"nbf": NOW + 60}, leeway=59)


def test_verify_nbf_false_skips_the_time_check() -> None:
    assert _decode({"nbf": NOW + 7200}, options={"verify_nbf": False}) == {"nbf": NOW + 7200}


def test_iat_in_the_future_is_not_yet_valid() -> None:
    with pytest.raises(NotYetValid) as info:
        _decode({"iat": NOW + 7200})
    assert info.value.claim == "iat"
    assert info.value.reason == "issued in the future"
    assert str(info.value) == (
        "token was issued in the future, at 2026-05-28T22:26:40Z (in 2 h), leeway 0s"
    )
    assert _decode({"iat": NOW + 7200}, leeway=7200) == {"iat": NOW + 7200}
    assert _decode({"iat": NOW + 7200}, options={"verify_iat": False}) == {"iat": NOW + 7200}
    assert _decode({"iat": NOW - 7200}) == {"iat": NOW - 7200}


def test_max_age_bounds_the_age_of_iat() -> None:
    assert _decode({"iat": NOW - 60}, max_age=60) == {"iat": NOW - 60}
    with pytest.raises(ExpiredToken) as info:
        _decode({"iat": NOW - 61}, max_age=60)
    assert info.value.claim == "iat"
    assert info.value.reason == "older than max_age"
    assert str(info.value) == (
        "token was issued 61 s ago at 2026-05-28T20:25:39Z, more than max_age 60s, leeway 0s"
    )
    assert _decode({"iat": NOW - 61}, max_age=timedelta(seconds=60), leeway=1) == {"iat": NOW - 61}


def test_max_age_makes_iat_required() -> None:
    with pytest.raises(MissingClaim) as info:
        _decode({"sub": "x"}, max_age=60)
    assert info.value.claim == "iat"


# ---------------------------------------------------------------------------------------------
# E2: NumericDates of the wrong type are rejected, never treated as absent


@pytest.mark.parametrize("name", ["exp", "nbf", "iat"])
@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (str(NOW + 100), "got str"),
        (True, "got bool"),
        (False, "got bool"),
        (None, "got null"),
        ([NOW + 100], "got list"),
        ({"t": NOW + 100}, "got dict"),
        (1e20, "out of range"),
        (-1e20, "out of range"),
        (253402300800, "out of range"),
        (-62135596801, "out of range"),
    ],
)
def test_E2_numeric_dates_of_the_wrong_type_reject_the_token(  # noqa: N802
    name: str, value: Any, fragment: str
) -> None:
    with pytest.raises(ClaimError, match=fragment) as info:
        _decode({name: value}, options={"verify_exp": False, "verify_nbf": False})
    assert type(info.value) is ClaimError
    assert info.value.claim == name
    assert info.value.code == "invalid_claim"


def test_numeric_date_range_limits_are_inclusive() -> None:
    assert _decode({"exp": 253402300799}) == {"exp": 253402300799}
    assert _decode({"iat": -62135596800}) == {"iat": -62135596800}


# ---------------------------------------------------------------------------------------------
# iss (E3: exact match)


def test_issuer_must_match_exactly() -> None:
    assert _decode({"iss": "https://id.example"}, issuer="https://id.example")["iss"] == (
        "https://id.example"
    )
    for iss in (
        "https://id.example.evil",
        "https://id.exampl",
        "https://ID.example",
        "https://id.example/",
        " https://id.example",
    ):
        with pytest.raises(InvalidIssuer) as info:
            _decode({"iss": iss}, issuer="https://id.example")
        assert info.value.claim == "iss"
        assert info.value.code == "invalid_issuer"
        assert "expected 'https://id.example' (exact match)" in str(info.value)


def test_issuer_may_be_one_of_a_collection() -> None:
    issuers = ["https://a.example", "https://b.example"]
    assert _decode({"iss": "https://b.example"}, issuer=issuers)["iss"] == "https://b.example"
    assert _decode({"iss": "https://a.example"}, issuer=frozenset(issuers))
    with pytest.raises(InvalidIssuer, match=r"one of \['https://a.example', 'https://b.example'\]"):
        _decode({"iss": "https://c.example"}, issuer=issuers)


@pytest.mark.parametrize("iss", [["https://id.example"], 1, None, {"a": 1}])
def test_non_string_issuer_is_rejected(iss: Any) -> None:
    with pytest.raises(InvalidIssuer):
        _decode({"iss": iss}, issuer="https://id.example")


def test_expected_issuer_makes_iss_required() -> None:
    with pytest.raises(MissingClaim) as info:
        _decode({"sub": "x"}, issuer="https://id.example")
    assert info.value.claim == "iss"


def test_issuer_is_not_checked_when_not_expected() -> None:
    assert _decode({"iss": "anyone"}) == {"iss": "anyone"}


@pytest.mark.parametrize("issuer", [[], [1], ["ok", None], ()])
def test_bad_issuer_argument_is_a_usage_error(issuer: Any) -> None:
    with pytest.raises(UsageError, match="issuer: expected a string or a non-empty collection"):
        _decode({"iss": "x"}, issuer=issuer)


# ---------------------------------------------------------------------------------------------
# aud (E1)


def test_audience_string_matches_string_or_list_aud() -> None:
    assert _decode({"aud": "api"}, audience="api") == {"aud": "api"}
    assert _decode({"aud": ["web", "api"]}, audience="api") == {"aud": ["web", "api"]}


def test_audience_collection_matches_any_member() -> None:
    assert _decode({"aud": "api"}, audience=["web", "api"]) == {"aud": "api"}
    assert _decode({"aud": ["x", "web"]}, audience={"web", "api"}) == {"aud": ["x", "web"]}


@pytest.mark.parametrize("aud", ["apix", "ap", "API", ["web"], ["apix", "x"]])
def test_audience_requires_an_exact_member(aud: Any) -> None:
    with pytest.raises(InvalidAudience) as info:
        _decode({"aud": aud}, audience="api")
    assert info.value.reason == "not accepted"
    assert info.value.claim == "aud"
    assert info.value.code == "invalid_audience"
    assert "does not include 'api'" in str(info.value)


@pytest.mark.parametrize("aud", [[], [1], ["api", 1], ["api", None], 1, None, {"api": 1}, True])
def test_E1_malformed_aud_is_rejected(aud: Any) -> None:  # noqa: N802
    with pytest.raises(InvalidAudience) as info:
        _decode({"aud": aud}, audience="api")
    assert info.value.reason == "malformed"
    assert str(info.value) == "claim 'aud' must be a string or a non-empty array of strings"


def test_malformed_aud_is_rejected_even_without_verify_aud() -> None:
    with pytest.raises(InvalidAudience, match="must be a string or a non-empty array"):
        _decode({"aud": []}, options={"verify_aud": False})


def test_aud_present_but_no_audience_expected_is_rejected() -> None:
    with pytest.raises(InvalidAudience) as info:
        _decode({"aud": "api"})
    assert info.value.reason == "unexpected audience"
    assert "no audience was expected" in str(info.value)


def test_verify_aud_false_skips_the_audience_match() -> None:
    assert _decode({"aud": "api"}, options={"verify_aud": False}) == {"aud": "api"}
    assert _decode({"aud": "x"}, audience="api", options={"verify_aud": False}) == {"aud": "x"}


def test_expected_audience_makes_aud_required() -> None:
    with pytest.raises(MissingClaim) as info:
        _decode({"sub": "x"}, audience="api")
    assert info.value.claim == "aud"


@pytest.mark.parametrize("audience", [[], [1], ["api", b"web"], set()])
def test_bad_audience_argument_is_a_usage_error(audience: Any) -> None:
    with pytest.raises(UsageError, match="audience: expected a string or a non-empty collection"):
        _decode({"aud": "api"}, audience=audience)


# ---------------------------------------------------------------------------------------------
# sub, jti


def test_subject_must_match_exactly() -> None:
    assert _decode({"sub": "42"}, subject="42") == {"sub": "42"}
    with pytest.raises(InvalidSubject) as info:
        _decode({"sub": "43"}, subject="42")
    assert info.value.claim == "sub"
    assert info.value.reason == "unexpected subject"
    assert info.value.code == "invalid_subject"
    assert str(info.value) == "subject '43' is not the expected '42'"


def test_expected_subject_makes_sub_required() -> None:
    with pytest.raises(MissingClaim) as info:
        _decode({"iss": "x"}, subject="42")
    assert info.value.claim == "sub"


@pytest.mark.parametrize("sub", [42, None, ["42"], True])
def test_non_string_sub_is_rejected_even_without_expectation(sub: Any) -> None:
    with pytest.raises(InvalidSubject, match="must be a string"):
        _decode({"sub": sub})


def test_subject_argument_must_be_a_string() -> None:
    with pytest.raises(UsageError, match="subject: expected a string"):
        _decode({"sub": "42"}, subject=42)


@pytest.mark.parametrize("jti", [1, None, ["a"]])
def test_non_string_jti_is_rejected(jti: Any) -> None:
    with pytest.raises(ClaimError, match="'jti': must be a string") as info:
        _decode({"jti": jti})
    assert type(info.value) is ClaimError
    assert info.value.claim == "jti"


def test_string_jti_and_private_claims_pass_through() -> None:
    claims = {"jti": "id-1", "scope": "read write", "n": [1, {"a": None}]}
    assert _decode(claims) == claims


# ---------------------------------------------------------------------------------------------
# require and options


def test_require_lists_more_required_claims() -> None:
    assert _decode({"jti": "1", "sub": "x"}, require=["jti", "sub"])
    assert _decode({"jti": "1"}, require=("jti",))
    with pytest.raises(MissingClaim) as info:
        _decode({"jti": "1"}, require=["jti", "sub"])
    assert info.value.claim == "sub"


def test_options_require_is_merged_with_require() -> None:
    with pytest.raises(MissingClaim) as info:
        _decode({"jti": "1"}, require=["jti"], options={"require": ["exp"]})
    assert info.value.claim == "exp"
    assert _decode({"exp": NOW + 1}, options={"require": ["exp"]}) == {"exp": NOW + 1}


def test_require_as_a_string_is_refused() -> None:
    with pytest.raises(UsageError, match="require must be a list"):
        _decode({"sub": "x"}, require="sub")
    with pytest.raises(UsageError, match="options\\['require'\\] must be a list"):
        _decode({"sub": "x"}, options={"require": "sub"})


def test_require_names_must_be_strings() -> None:
    with pytest.raises(UsageError, match="claim names must be strings"):
        _decode({"sub": "x"}, require=[1])
    with pytest.raises(UsageError, match="claim names must be strings"):
        _decode({"sub": "x"}, options={"require": [None]})


def test_unknown_options_are_refused() -> None:
    with pytest.raises(UsageError, match=r"unknown option\(s\) \['verify_expiry'\]"):
        _decode({"sub": "x"}, options={"verify_expiry": False})


@pytest.mark.parametrize("value", [False, 0, None, "no"])
def test_verify_signature_cannot_be_turned_off(value: Any) -> None:
    with pytest.raises(UsageError, match="verify_signature cannot be turned off"):
        _decode({"sub": "x"}, options={"verify_signature": value})


def test_verify_signature_true_is_accepted() -> None:
    assert _decode({"sub": "x"}, options={"verify_signature": True}) == {"sub": "x"}


@pytest.mark.parametrize("name", ["verify_exp", "verify_nbf", "verify_iat", "verify_aud"])
@pytest.mark.parametrize("value", [1, 0, "false", None])
def test_verify_flags_must_be_booleans(name: str, value: Any) -> None:
    with pytest.raises(UsageError, match=f"{name} must be True or False"):
        _decode({"sub": "x"}, options={name: value})


def test_empty_options_mean_defaults() -> None:
    assert _decode({"sub": "x"}, options={}) == {"sub": "x"}


@pytest.mark.parametrize("leeway", [-1, -0.5, timedelta(seconds=-1)])
def test_negative_leeway_is_refused(leeway: Any) -> None:
    with pytest.raises(UsageError, match="leeway must not be negative"):
        _decode({"sub": "x"}, leeway=leeway)


@pytest.mark.parametrize("leeway", ["10", True, None, float("nan"), float("inf")])
def test_leeway_must_be_seconds_or_timedelta(leeway: Any) -> None:
    with pytest.raises(UsageError, match="leeway: expected seconds"):
        _decode({"sub": "x"}, leeway=leeway)


def test_max_age_must_be_seconds_or_timedelta() -> None:
    with pytest.raises(UsageError, match="max_age: expected seconds"):
        _decode({"iat": NOW}, max_age="60")


# ---------------------------------------------------------------------------------------------
# now


def test_now_may_be_a_datetime_naive_meaning_utc() -> None:
    aware = datetime.fromtimestamp(NOW, tz=timezone.utc)
    naive = aware.replace(tzinfo=None)
    other_zone = aware.astimezone(timezone(timedelta(hours=5)))
    for now in (aware, naive, other_zone):
        assert _decode({"exp": NOW + 1}, now=now) == {"exp": NOW + 1}
        with pytest.raises(ExpiredToken):
            _decode({"exp": NOW}, now=now)


@pytest.mark.parametrize("now", ["2026-01-01", True, float("nan")])
def test_bad_now_is_a_usage_error(now: Any) -> None:
    with pytest.raises(UsageError, match="now: expected a Unix time"):
        _decode({"sub": "x"}, now=now)


# ---------------------------------------------------------------------------------------------
# the policy and helpers directly


def test_policy_build_defaults() -> None:
    policy = ClaimsPolicy.build()
    assert policy == ClaimsPolicy()
    assert policy.require == frozenset()
    assert policy.leeway == 0.0
    assert (policy.verify_exp, policy.verify_nbf, policy.verify_iat, policy.verify_aud) == (
        True,
        True,
        True,
        True,
    )
    policy.check({}, NOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.leeway = 5  # type: ignore[misc]


def test_policy_build_normalizes_expectations() -> None:
    policy = ClaimsPolicy.build(
        audience="api",
        issuer=["a", "b"],
        subject="s",
        leeway=timedelta(seconds=3),
        require=["jti"],
        max_age=timedelta(minutes=2),
        options={"verify_nbf": False},
    )
    assert policy.audience == frozenset({"api"})
    assert policy.issuer == frozenset({"a", "b"})
    assert policy.leeway == 3.0
    assert policy.max_age == 120.0
    assert policy.require == frozenset({"jti", "aud", "iss", "sub", "iat"})
    assert policy.verify_nbf is False


def test_policy_check_is_pure_and_does_not_mutate_claims() -> None:
    claims = {"exp": NOW + 10, "aud": ["api"], "iss": "a", "sub": "s"}
    snapshot = {"exp": NOW + 10, "aud": ["api"], "iss": "a", "sub": "s"}
    policy = ClaimsPolicy.build(audience="api", issuer="a", subject="s")
    policy.check(claims, NOW)
    policy.check(claims, NOW + 9.999)
    assert claims == snapshot
    with pytest.raises(ExpiredToken):
        policy.check(claims, NOW + 10)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (0, "0 s"),
        (42.9, "42 s"),
        (119, "119 s"),
        (120, "2 min"),
        (7199, "119 min"),
        (7200, "2 h"),
        (172799, "47 h"),
        (172800, "2 days"),
        (-180, "3 min"),
    ],
)
def test_format_duration(delta: float, text: str) -> None:
    assert format_duration(delta) == text


def test_format_time_is_iso_8601_utc() -> None:
    assert format_time(NOW) == "2026-05-28T20:26:40Z"
    assert format_time(NOW + 0.9) == "2026-05-28T20:26:40Z"
    assert format_time(0) == "1970-01-01T00:00:00Z"


def test_seconds_and_to_timestamp() -> None:
    assert seconds(5, "x") == 5.0
    assert seconds(2.5, "x") == 2.5
    assert seconds(timedelta(minutes=1), "x") == 60.0
    assert to_timestamp(NOW, "x") == float(NOW)
    assert to_timestamp(datetime(2026, 5, 28, 20, 26, 40), "x") == NOW
    assert to_timestamp(datetime(2026, 5, 28, 20, 26, 40, tzinfo=timezone.utc), "x") == NOW
    with pytest.raises(UsageError, match=r"^delta: "):
        seconds("5", "delta")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=r"^when: "):
        to_timestamp(float("inf"), "when")


def test_claim_errors_keep_pyjwt_names() -> None:
    assert jwtkit.ExpiredSignatureError is ExpiredToken
    assert jwtkit.ImmatureSignatureError is NotYetValid
    assert jwtkit.InvalidAudienceError is InvalidAudience
    assert jwtkit.InvalidIssuerError is InvalidIssuer
    assert jwtkit.MissingRequiredClaimError is MissingClaim
    with pytest.raises(jwtkit.ExpiredSignatureError):
        _decode({"exp": NOW - 1})
