"""The framework-free bearer logic: RFC 6750 §2.1 parsing, scopes, §3 challenges, errors.

Every framework module answers with what this module decides, so the decisions are pinned
here once; the framework tests check that each app delivers them.
"""

from __future__ import annotations

import importlib
import logging
import re
import subprocess
import sys
from typing import Any

import pytest

import jwtkit
from jwtkit import UsageError
from jwtkit.integrations import _bearer
from jwtkit.integrations._bearer import (
    BearerError,
    aauthenticate,
    authenticate,
    bearer_token,
    check_realm,
    check_scope_claims,
    check_scopes,
    check_verifier,
    parse_authorization,
    single_header,
    token_scopes,
)

from .support import (
    AUDIENCE,
    ISSUER,
    STRANGER,
    AsyncProvider,
    AsyncUnreachableProvider,
    DualProvider,
    FailingJWKSProvider,
    Issuer,
    UnreachableProvider,
    assert_no_leak,
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- RFC 6750 §2.1: the Authorization header ------------------------------------------------


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer abc", "abc"),
        ("BEARER abc", "abc"),
        ("Bearer   abc", "abc"),  # 1*SP
        ("  Bearer abc  ", "abc"),  # surrounding whitespace is not part of the field value
        ("Bearer a-b_c~d+e/f==", "a-b_c~d+e/f=="),  # the whole b64token alphabet
    ],
)
def test_parse_authorization_accepts_bearer_credentials(header: str, token: str) -> None:
    assert parse_authorization(header) == token
    assert bearer_token(header) == token


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwYXNz", "Token abc", "Bearerabc"])
def test_parse_authorization_sees_no_bearer_credentials(header: str | None) -> None:
    assert parse_authorization(header) is None
    with pytest.raises(BearerError) as info:
        bearer_token(header)
    assert info.value.status == 401
    assert info.value.credentials is False
    assert info.value.challenge() == 'Bearer realm="api"'


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Bearer a b", "Bearer a,b", 'Bearer "abc"', "Bearer =abc", "Bearer é"],
)
def test_malformed_bearer_credentials_are_an_invalid_request(header: str) -> None:
    with pytest.raises(BearerError) as info:
        parse_authorization(header)
    assert info.value.status == 400
    assert info.value.error == "invalid_request"
    assert info.value.challenge() == (
        'Bearer realm="api", error="invalid_request", '
        'error_description="malformed Authorization header: expected Bearer <token>"'
    )


def test_single_header_refuses_two_authorization_fields() -> None:
    assert single_header([]) is None
    assert single_header(["Bearer a"]) == "Bearer a"
    with pytest.raises(BearerError) as info:
        single_header(["Bearer a", "Bearer b"])
    assert (info.value.status, info.value.error) == (400, "invalid_request")


# -- scopes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "scopes"),
    [
        ({"scope": "read write"}, ("read", "write")),
        ({"scope": " read  read write "}, ("read", "write")),
        ({"scp": ["read", "write"]}, ("read", "write")),
        ({"scp": "read write"}, ("read", "write")),
        ({"scope": "read", "scp": ["write"]}, ("read",)),  # the first claim present wins
        ({"scope": 42}, ()),  # any other shape grants nothing
        ({"scp": ["read", 1]}, ()),
        ({"scope": None, "scp": ["read"]}, ()),
        ({}, ()),
    ],
)
def test_token_scopes_reads_scope_then_scp(claims: dict[str, Any], scopes: tuple[str]) -> None:
    assert token_scopes(claims) == scopes


def test_token_scopes_reads_the_configured_claims() -> None:
    claims = {"scope": "read", "permissions": ["admin"]}
    assert token_scopes(claims, ("permissions",)) == ("admin",)


def test_check_scopes_validates_scope_tokens() -> None:
    assert check_scopes("read write") == ("read", "write")
    assert check_scopes(["read", "read", "write"]) == ("read", "write")
    assert check_scopes(()) == ()
    for bad in (["read write"], ['a"b'], ["a\\b"], [""], [1], "read  write"):
        with pytest.raises(UsageError, match="scope token"):
            check_scopes(bad)  # type: ignore[arg-type]


def test_check_scope_claims_and_realm() -> None:
    assert check_scope_claims("permissions") == ("permissions",)
    assert check_scope_claims(["scope", "scp"]) == ("scope", "scp")
    for bad in ((), ("",), (1,)):
        with pytest.raises(UsageError, match="scope_claims"):
            check_scope_claims(bad)  # type: ignore[arg-type]
    assert check_realm("my api") == "my api"
    for realm in ('a"b', "a\\b", "a\nb", "é", 1):
        with pytest.raises(UsageError, match="realm"):
            check_realm(realm)  # type: ignore[arg-type]


# -- RFC 6750 §3: answers -------------------------------------------------------------------


def test_insufficient_scope_names_the_required_scopes() -> None:
    error = BearerError.insufficient_scope(("read", "write"))
    assert error.status == 403
    assert error.challenge("files") == (
        'Bearer realm="files", error="insufficient_scope", '
        'error_description="the access token does not grant the required scope", '
        'scope="read write"'
    )
    assert error.headers()["Cache-Control"] == "no-store"
    assert error.body() == {
        "error": "insufficient_scope",
        "error_description": "the access token does not grant the required scope",
    }


def test_unavailable_has_no_challenge() -> None:
    error = BearerError.unavailable()
    assert (error.status, error.error) == (503, "temporarily_unavailable")
    assert error.challenge() is None
    assert "WWW-Authenticate" not in error.headers()


def test_challenge_values_are_always_safe_quoted_strings() -> None:
    error = BearerError(401, "invalid_token", 'bad "quote" \\ and\r\nX-Injected: 1 é')
    challenge = error.challenge('re"alm')
    assert challenge is not None
    assert "\r" not in challenge
    assert "\n" not in challenge
    # One sanitizer with the token service (jwtkit._oauth): '"' reads as "'", '\\' as '/'.
    assert challenge == (
        'Bearer realm="re\'alm", error="invalid_token", '
        "error_description=\"bad 'quote' / and??X-Injected: 1 ?\""
    )
    forced = BearerError.insufficient_scope(['a"b\r\n'])  # unchecked scopes are still safe
    assert str(forced.challenge()).endswith('scope="a\'b??"')
    assert repr(BearerError.unavailable()).startswith("BearerError(503, 'temporarily_unavailable'")
    assert BearerError.code == "bearer_error"
    assert isinstance(error, jwtkit.JWTError)


# -- authenticate ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "advance", "description"),
    [
        ({}, 901, "the access token expired"),
        ({"nbf": 1_700_000_100}, 0, "the access token is not valid yet"),
        ({"aud": "https://other.example"}, 0, "the access token is not meant for this resource"),
        ({"iss": "https://evil.example"}, 0, "the access token's issuer is not trusted"),
        ({"sub": None, "iss": None}, 0, "the access token's claims are not valid"),
    ],
)
def test_authenticate_describes_claim_failures_with_fixed_phrases(
    claims: dict[str, Any], advance: float, description: str
) -> None:
    issuer = Issuer()
    token = issuer.token(**claims)
    issuer.clock.advance(advance)
    with pytest.raises(BearerError) as info:
        authenticate(issuer.verifier(), f"Bearer {token}")
    assert (info.value.status, info.value.error) == (401, "invalid_token")
    assert info.value.description == description
    assert_no_leak(str(info.value.challenge()), token)


def test_authenticate_refuses_bad_signatures_types_and_malformed_tokens() -> None:
    issuer = Issuer()
    forged = issuer.token(STRANGER)
    with pytest.raises(BearerError, match="the access token is invalid"):
        authenticate(issuer.verifier(), f"Bearer {forged}")
    with pytest.raises(BearerError, match="the access token is malformed"):
        authenticate(issuer.verifier(), "Bearer not-a-jwt")
    typed = jwtkit.Verifier(
        issuer.published, algorithms=["ES256"], typ="at+jwt", clock=issuer.clock
    )
    with pytest.raises(BearerError, match="the access token has the wrong type"):
        authenticate(typed, f"Bearer {issuer.token()}")


def test_authenticate_checks_required_scopes() -> None:
    issuer = Issuer()
    verifier = issuer.verifier()
    token = issuer.token(scope="read")
    assert authenticate(verifier, f"Bearer {token}", ("read",))["sub"] == "alice"
    with pytest.raises(BearerError) as info:
        authenticate(verifier, f"Bearer {token}", ("read", "write"))
    assert info.value.status == 403
    assert info.value.scope == ("read", "write")


@pytest.mark.parametrize("provider", [UnreachableProvider(), FailingJWKSProvider()])
def test_an_unavailable_key_provider_is_a_503_and_is_logged_without_details(
    provider: Any, caplog: pytest.LogCaptureFixture
) -> None:
    issuer = Issuer()
    token = issuer.token()
    with (
        caplog.at_level(logging.WARNING, logger="jwtkit.integrations"),
        pytest.raises(BearerError) as info,
    ):
        authenticate(issuer.verifier(provider), f"Bearer {token}")
    assert info.value.status == 503
    assert info.value.body()["error"] == "temporarily_unavailable"
    assert "keys are unavailable" in caplog.text
    assert token not in caplog.text
    assert "secret-host" not in caplog.text


def test_a_usage_error_is_a_bug_and_propagates() -> None:
    issuer = Issuer()
    async_only = issuer.verifier(AsyncProvider(issuer))
    with pytest.raises(UsageError, match="adecode"):
        authenticate(async_only, f"Bearer {issuer.token()}")


@pytest.mark.anyio
async def test_aauthenticate_awaits_an_async_provider() -> None:
    issuer = Issuer()
    provider = AsyncProvider(issuer)
    verifier = issuer.verifier(provider)
    claims = await aauthenticate(verifier, f"Bearer {issuer.token(scp=['read'])}", ("read",))
    assert claims["sub"] == "alice"
    assert provider.calls == 1
    with pytest.raises(BearerError) as info:
        await aauthenticate(verifier, f"Bearer {issuer.token(scope='write')}", ("read",))
    assert info.value.status == 403
    with pytest.raises(BearerError) as info:
        await aauthenticate(verifier, "Bearer a.b.c")
    assert info.value.status == 401
    with pytest.raises(BearerError) as info:
        await aauthenticate(verifier, None)
    assert info.value.credentials is False
    unreachable = issuer.verifier(AsyncUnreachableProvider())
    with pytest.raises(BearerError) as info:
        await aauthenticate(unreachable, f"Bearer {issuer.token()}")
    assert info.value.status == 503


def test_check_verifier_refuses_non_verifiers_and_async_only_keys_for_sync_use() -> None:
    issuer = Issuer()
    with pytest.raises(UsageError, match="parentheses"):
        check_verifier(lambda: None, "require_token")  # type: ignore[arg-type]
    async_only = issuer.verifier(AsyncProvider(issuer))
    assert check_verifier(async_only, "JWTMiddleware") is async_only
    with pytest.raises(UsageError, match=r"async key provider.*adecode"):
        check_verifier(async_only, "JWTKit", sync=True)
    both = issuer.verifier(DualProvider(issuer))  # like AsyncJWKSClient: refused for sync use
    with pytest.raises(UsageError, match="async key provider"):
        check_verifier(both, "JWTKit", sync=True)
    sync_only = issuer.verifier(UnreachableProvider())
    assert check_verifier(sync_only, "JWTKit", sync=True) is sync_only
    local = issuer.verifier(issuer.published)
    assert check_verifier(local, "JWTKit", sync=True) is local


# -- packaging ------------------------------------------------------------------------------


def test_importing_the_package_imports_no_framework() -> None:
    code = (
        "import sys, jwtkit.integrations, jwtkit.integrations._bearer; "
        "print(','.join(m for m in ('starlette', 'fastapi', 'flask', 'httpx') "
        "if m in sys.modules))"
    )
    out = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""
    assert jwtkit.integrations.__all__ == []


@pytest.mark.parametrize(
    ("module", "hidden"),
    [("starlette", "starlette"), ("fastapi", "fastapi"), ("flask", "flask")],
)
def test_a_missing_extra_names_the_install_line(
    module: str, hidden: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"jwtkit.integrations.{module}"
    for loaded in [m for m in sys.modules if m == hidden or m.startswith(hidden + ".")]:
        monkeypatch.delitem(sys.modules, loaded)
    monkeypatch.setitem(sys.modules, hidden, None)
    monkeypatch.delitem(sys.modules, name, raising=False)
    with pytest.raises(ImportError) as info:
        importlib.import_module(name)
    assert str(info.value) == (
        f"jwtkit.integrations.{module} needs the '{module}' extra: pip install 'jwtkit[{module}]'"
    )


def test_every_module_cites_rfc_6750_and_has_all() -> None:
    for name in ("_bearer", "starlette", "fastapi", "flask"):
        module = importlib.import_module(f"jwtkit.integrations.{name}")
        assert module.__doc__ is not None
        assert "RFC 6750" in module.__doc__, name
        assert isinstance(module.__all__, list)
    assert _bearer.DEFAULT_REALM == "api"
    assert (AUDIENCE, ISSUER) == ("https://api.example", "https://id.example")


def test_the_body_and_the_challenge_carry_the_same_valid_description() -> None:
    """RFC 6749 §5.2: error_description holds only %x20-21 / %x23-5B / %x5D-7E, in the JSON
    body as in the challenge; the token service sanitizes the same way (one sanitizer)."""
    from jwtkit.server.oauth_errors import OAuthError

    text = "the token\u2019s \u201ckid\u201d is unknown (RFC 7515 \u00a74.1.4) \u2014 \u00fc \\ "
    text += "x" * 400
    error = BearerError(401, "invalid_token", text)
    description = error.body()["error_description"]
    assert re.fullmatch(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,300}", description)
    assert description.startswith("the token's 'kid' is unknown (RFC 7515 section 4.1.4) - ")
    assert description.endswith("...")
    assert f'error_description="{description}"' in str(error.challenge())
    assert description == OAuthError("invalid_token", text).description
