"""``jwtkit._oauth``: the OAuth 2.0 / Bearer grammar, written once.

The token service and the integrations both use it; a test below makes sure that no module
writes the grammar again.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jwtkit import _oauth
from jwtkit._oauth import (
    MalformedAuthorization,
    bearer_challenge,
    error_body,
    is_b64token,
    is_client_id,
    is_quotable,
    is_scope,
    is_scope_token,
    parse_bearer,
    sanitize_description,
    single_authorization,
)

SRC = Path(__file__).resolve().parents[1] / "src" / "jwtkit"


def test_scope_tokens_rfc_6749_section_3_3() -> None:
    assert all(is_scope_token(t) for t in ("read", "a:b", "!", "~", "https://x/y#z[0]"))
    assert not any(is_scope_token(t) for t in ("", "a b", 'a"b', "a\\b", "é", "\x7f", 3, None))
    assert is_scope("openid profile read:all")
    assert not is_scope("openid  profile")
    assert not is_scope(" openid")
    assert not is_scope("")


def test_client_ids() -> None:
    assert is_client_id("first-party")
    assert is_client_id("x" * 128)
    assert not any(is_client_id(v) for v in ("", "x" * 129, "a b", "é", "a\tb"))


def test_b64tokens_rfc_6750_section_2_1() -> None:
    assert all(is_b64token(v) for v in ("abc", "a-._~+/Z09==", "x" * 500))
    assert not any(is_b64token(v) for v in ("", "a b", "=abc", "a=b", "a\tb", "é", 'a"b'))


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (None, None),
        ("", None),
        ("Basic eDp5", None),
        ("Bearerabc", None),
        ("Bearer\tabc", None),
        ("Bearer abc", "abc"),
        ("bEARER   abc", "abc"),
        (" \tBearer abc= \t", "abc="),
        ("Bearer a-._~+/Z09==", "a-._~+/Z09=="),
    ],
)
def test_bearer_credentials_rfc_6750_section_2_1(header: str | None, token: str | None) -> None:
    assert parse_bearer(header) == token


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "Bearer \tabc",
        "Bearer abc\u00a0",
        "Bearer a=b",
        "Bearer é",
    ],
)
def test_malformed_bearer_credentials(header: str) -> None:
    with pytest.raises(MalformedAuthorization) as caught:
        parse_bearer(header)
    assert caught.value.description == _oauth.MALFORMED_AUTHORIZATION


def test_one_authorization_field() -> None:
    assert single_authorization([]) is None
    assert single_authorization(["x"]) == "x"
    with pytest.raises(MalformedAuthorization, match="more than one Authorization header"):
        single_authorization(["Bearer a", "Bearer a"])


def test_descriptions_rfc_6749_section_5_2() -> None:
    assert sanitize_description("plain text") == "plain text"
    assert sanitize_description('say "hi"\\ \u00e9\n') == "say 'hi'/ ??"
    assert (
        sanitize_description("RFC 6749 \u00a73.2 \u2013 it\u2019s") == "RFC 6749 section 3.2 - it's"
    )
    assert len(sanitize_description("x" * 1000)) == _oauth.MAX_DESCRIPTION
    assert is_quotable("realm 1")
    assert not is_quotable('a"b')
    assert error_body("invalid_request", "a\u00e9") == {
        "error": "invalid_request",
        "error_description": "a?",
    }
    assert bearer_challenge("api") == 'Bearer realm="api"'
    assert bearer_challenge('r"', "insufficient_scope", "d\r\n", "a b") == (
        'Bearer realm="r\'", error="insufficient_scope", error_description="d??", scope="a b"'
    )


# The grammar's character classes: each may be written only in jwtkit/_oauth.py.
_GRAMMAR = {
    "scope-token": r"\x21\x23-\x5b\x5d-\x7e",
    "client-id": r"\x21-\x7e]{1,128}",
    "b64token": r"A-Za-z0-9\-._~+/]+=*",
    "quoted-string content": r"\x20\x21\x23-\x5b\x5d-\x7e",
    "quoted-string content (2)": r"\x20-\x21\x23-\x5b\x5d-\x7e",
}


def test_no_module_writes_the_grammar_again() -> None:
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "_oauth.py" and path.parent == SRC:
            continue
        text = path.read_text(encoding="utf-8")
        for name, pattern in _GRAMMAR.items():
            assert pattern not in text, f"{path.relative_to(SRC)} writes the {name} grammar"
        assert not re.search(r"\"error_description\":\s*[A-Za-z_]", text), (
            f"{path.relative_to(SRC)} builds an error body: use jwtkit._oauth.error_body"
        )


@pytest.mark.parametrize(
    ("header", "credentials"),
    [
        (None, None),
        ("Basic eDp5", None),
        ("DPoPabc", None),
        ("DPoP abc", ("dpop", "abc")),
        ("dpop   a-._~+/Z09==", ("dpop", "a-._~+/Z09==")),
        (" \tDPOP abc \t", ("dpop", "abc")),
        ("Bearer abc", ("bearer", "abc")),
    ],
)
def test_credentials_of_both_schemes_rfc_9449_section_7_1(
    header: str | None, credentials: tuple[str, str] | None
) -> None:
    assert _oauth.parse_credentials(header) == credentials


@pytest.mark.parametrize("header", ["DPoP", "DPoP ", "DPoP a b", "DPoP \tabc", "DPoP a=b"])
def test_malformed_dpop_credentials(header: str) -> None:
    with pytest.raises(MalformedAuthorization) as caught:
        _oauth.parse_credentials(header)
    assert caught.value.description == _oauth.MALFORMED_DPOP_AUTHORIZATION


def test_bearer_parser_leaves_dpop_credentials_alone() -> None:
    assert parse_bearer("DPoP a b") is None


def test_dpop_challenges_rfc_9449_section_7_1() -> None:
    assert _oauth.dpop_challenge(["ES256", "PS256"]) == 'DPoP algs="ES256 PS256"'
    assert _oauth.dpop_challenge(["ES256"], "api", "use_dpop_nonce", 'a "nonce"') == (
        'DPoP realm="api", error="use_dpop_nonce", error_description="a \'nonce\'", algs="ES256"'
    )
    assert _oauth.dpop_challenge(
        ["EdDSA"], None, "insufficient_scope", None, "a b", "https://x/m"
    ) == (
        'DPoP error="insufficient_scope", scope="a b", resource_metadata="https://x/m", '
        'algs="EdDSA"'
    )


def test_dpop_nonces_rfc_9449_section_8_1() -> None:
    assert _oauth.is_dpop_nonce("eyJ7S_zG.eyJH0-Z.HX4w-7v")
    assert not any(_oauth.is_dpop_nonce(v) for v in ("", "a b", 'a"b', "a\\b", None))


def test_challenge_refuses_a_metadata_url_it_cannot_quote() -> None:
    with pytest.raises(ValueError, match="resource_metadata"):
        _oauth.dpop_challenge(["ES256"], resource_metadata='https://x/"')
