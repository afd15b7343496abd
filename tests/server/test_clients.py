"""Client registration rules (jwtkit.server.clients): registrable grants, redirect URIs
(RFC 9700 §2.1, OAuth 2.1 §2.3.1, RFC 8252 §7.1, §7.3, RFC 6749 §3.1.2), their matching, and
which clients are first-party."""

from __future__ import annotations

import pytest

from jwtkit.server.clients import (
    MAX_CLIENT_NAME_LENGTH,
    MAX_REDIRECT_URI_LENGTH,
    MAX_REDIRECT_URIS,
    REGISTRABLE_GRANTS,
    RedirectURIError,
    check_client_name,
    check_post_logout_redirect_uris,
    check_redirect_uri,
    check_registration,
    is_first_party,
    redirect_uri_matches,
)
from jwtkit.server.config import Settings
from jwtkit.server.models import Client

ACCEPTED = [
    ("https://app.example.com/callback", False),
    ("https://app.example.com/cb?tenant=a&x=%2F", False),
    ("https://app.example.com:8443/cb", False),
    ("https://app.example.com", False),
    ("https://[2001:db8::1]/cb", False),
    ("http://127.0.0.1/callback", True),
    ("http://127.0.0.1:8080/callback", False),
    ("http://[::1]:53682/", True),
    ("http://[::1]", True),
    ("http://localhost:3000/cb", False),
    ("com.example.app:/oauth2redirect/example-provider", True),
    ("com.example.app://callback", True),
]


@pytest.mark.parametrize(("uri", "public"), ACCEPTED)
def test_accepted_redirect_uris(uri: str, public: bool) -> None:
    check_redirect_uri(uri, public=public)


REFUSED = [
    ("", True, "must be 1 to 2000 characters"),
    ("https://app.example.com/" + "a" * MAX_REDIRECT_URI_LENGTH, True, "must be 1 to 2000"),
    ("https://app.example.com/caf\u00e9", True, "ASCII URI"),
    ("https://app.example.com/a b", True, "ASCII URI"),
    ("https://app.example.com/<script>", True, "ASCII URI"),
    ("https://app.example.com/%zz", True, "%XX escape"),
    ("https://app.example.com/%", True, "%XX escape"),
    ("https://app.example.com/cb#", True, "fragment"),
    ("https://app.example.com/cb#top", True, "fragment"),
    ("https://*.example.com/cb", True, "wildcards"),
    ("https://app.example.com/*", True, "wildcards"),
    ("/callback", True, "absolute URI"),
    ("app.example.com/callback", True, "absolute URI"),
    ("1https://app.example.com/", True, "absolute URI"),
    ("https:/app.example.com/cb", True, "must name a host"),
    ("https:app.example.com", True, "must name a host"),
    ("https:///cb", True, "must name a host"),
    ("https://user@app.example.com/cb", True, "userinfo"),
    ("https://app.example.com@evil.example/cb", True, "userinfo"),
    ("https://app.example.com:99999/cb", True, "host and port"),
    ("https://app.example.com:x/cb", True, "host and port"),
    ("https://[::1/cb", True, "host and port"),
    ("http://app.example.com/cb", True, "http is only for a loopback host"),
    ("http://127.0.0.2/cb", True, "http is only for a loopback host"),
    ("http://localhost.example.com/cb", True, "http is only for a loopback host"),
    ("http://[::2]/cb", True, "http is only for a loopback host"),
    ("javascript:alert(1)", True, "reverse domain name"),
    ("data:text/html,x", True, "reverse domain name"),
    ("myapp:/callback", True, "reverse domain name"),
    ("com.example.app:/callback", False, "public clients"),
]


@pytest.mark.parametrize(("uri", "public", "message"), REFUSED)
def test_refused_redirect_uris(uri: str, public: bool, message: str) -> None:
    with pytest.raises(RedirectURIError, match=message) as refused:
        check_redirect_uri(uri, public=public)
    assert "\n" not in str(refused.value)


def test_the_checks_ignore_the_case_of_the_scheme_and_host() -> None:
    """``HTTP://LOCALHOST`` is a loopback URI and ``HTTP://app.example.com`` is plain http."""
    check_redirect_uri("HTTP://LOCALHOST:8080/cb", public=True)
    with pytest.raises(ValueError, match="loopback"):
        check_redirect_uri("HTTP://app.example.com/cb", public=True)


def test_registrable_grants_include_the_authorization_code_grant() -> None:
    assert REGISTRABLE_GRANTS == (
        "authorization_code",
        "client_credentials",
        "password",
        "refresh_token",
    )


def test_check_registration() -> None:
    check_registration(("client_credentials",), (), public=False)
    check_registration(("password", "refresh_token"), (), public=True)
    uris = ("https://a.example/cb", "com.example.app:/cb")
    check_registration(("authorization_code", "refresh_token"), uris, public=True)
    check_registration(("authorization_code",), ("https://a.example/cb",), public=False)
    refusals = [
        (("implicit",), (), "unknown grant 'implicit'"),
        (("authorization_code",), (), "needs at least one redirect URI"),
        (("refresh_token",), ("https://a.example/cb",), "only for the authorization_code grant"),
        (("authorization_code",), ("https://a.example/cb",) * 2, "registered twice"),
        (("authorization_code",), ("http://a.example/cb",), "loopback"),
        (
            ("authorization_code",),
            tuple(f"https://a.example/{n}" for n in range(MAX_REDIRECT_URIS + 1)),
            f"at most {MAX_REDIRECT_URIS} redirect URIs",
        ),
    ]
    for grants, redirect_uris, message in refusals:
        with pytest.raises(ValueError, match=message):
            check_registration(grants, redirect_uris, public=True)
    with pytest.raises(ValueError, match="public clients"):
        check_registration(("authorization_code",), ("com.example.app:/cb",), public=False)
    many = tuple(f"https://a.example/{n}" for n in range(MAX_REDIRECT_URIS))
    check_registration(("authorization_code",), many, public=False)


def test_a_public_client_cannot_use_client_credentials() -> None:
    """RFC 6749 §4.4: the grant of a confidential client (the CLI and Dynamic Client
    Registration share the rule)."""
    check_registration(("client_credentials",), (), public=False)
    with pytest.raises(ValueError, match="public client") as refused:
        check_registration(("client_credentials",), (), public=True)
    assert not isinstance(refused.value, RedirectURIError)


@pytest.mark.parametrize(
    ("grants", "redirect_uris", "redirect_problem", "message"),
    [
        (("implicit",), (), False, "unknown grant"),
        (("client_credentials",), ("https://a.example/cb",), False, "only for the authorization"),
        (("authorization_code",), (), True, "needs at least one redirect URI"),
        (("authorization_code",), ("https://a.example/cb",) * 2, True, "registered twice"),
        (("authorization_code",), ("https://a.example/cb#x",), True, "fragment"),
    ],
)
def test_redirect_uri_problems_are_told_apart(
    grants: tuple[str, ...], redirect_uris: tuple[str, ...], redirect_problem: bool, message: str
) -> None:
    """A problem with the redirect URIs is a RedirectURIError (RFC 7591 §3.2.2
    ``invalid_redirect_uri``); one with the grants a plain ValueError."""
    with pytest.raises(ValueError, match=message) as refused:
        check_registration(grants, redirect_uris, public=False)
    assert isinstance(refused.value, RedirectURIError) is redirect_problem


def test_check_post_logout_redirect_uris() -> None:
    code = ("authorization_code",)
    check_post_logout_redirect_uris(code, (), public=False)
    check_post_logout_redirect_uris(("client_credentials",), (), public=False)
    check_post_logout_redirect_uris(code, ("https://a.example/bye", "http://[::1]/"), public=False)
    check_post_logout_redirect_uris(code, ("com.example.app:/bye",), public=True)
    too_many = tuple(f"https://a.example/{n}" for n in range(MAX_REDIRECT_URIS + 1))
    refusals = [
        (("client_credentials",), ("https://a.example/bye",), "only for the authorization_code"),
        (code, ("https://a.example/bye",) * 2, "post-logout redirect URI is registered twice"),
        (code, too_many, f"at most {MAX_REDIRECT_URIS} post-logout redirect URIs"),
        (code, ("http://a.example/bye",), "loopback"),
        (code, ("https://a.example/bye#x",), "fragment"),
        (code, ("com.example.app:/bye",), "public clients"),
    ]
    for grants, uris, message in refusals:
        with pytest.raises(ValueError, match=message):
            check_post_logout_redirect_uris(grants, uris, public=False)


@pytest.mark.parametrize(
    "name", ["My App", "Ma\u00efs \u6f22\u5b57", "x", "x" * MAX_CLIENT_NAME_LENGTH]
)
def test_accepted_client_names(name: str) -> None:
    check_client_name(name)


@pytest.mark.parametrize(
    "name",
    ["", " App", "App ", "A\tB", "A\nB", "evil\u202eppa", "x" * (MAX_CLIENT_NAME_LENGTH + 1)],
)
def test_refused_client_names(name: str) -> None:
    with pytest.raises(ValueError, match="the client name must be 1 to 200 printable"):
        check_client_name(name)


MATCHES = [
    ("https://app.example.com/cb", "https://app.example.com/cb"),
    ("https://app.example.com/cb?a=1", "https://app.example.com/cb?a=1"),
    ("com.example.app:/cb", "com.example.app:/cb"),
    # RFC 8252 §7.3: a loopback redirect URI may use any port.
    ("http://127.0.0.1/cb", "http://127.0.0.1:53682/cb"),
    ("http://127.0.0.1:8080/cb", "http://127.0.0.1:9090/cb"),
    ("http://127.0.0.1:8080/cb", "http://127.0.0.1/cb"),
    ("http://[::1]:8080/cb?x=1", "http://[::1]:1/cb?x=1"),
    ("http://[::1]", "http://[::1]:65535"),
    ("http://localhost:3000/", "http://localhost:4000/"),
]


@pytest.mark.parametrize(("registered", "presented"), MATCHES)
def test_redirect_uri_matches(registered: str, presented: str) -> None:
    assert redirect_uri_matches(registered, presented)


MISMATCHES = [
    # extra path, query or fragment
    ("https://app.example.com/cb", "https://app.example.com/cb/extra"),
    ("https://app.example.com/cb", "https://app.example.com/cb/"),
    ("https://app.example.com/cb", "https://app.example.com/cb?x=1"),
    ("https://app.example.com/cb", "https://app.example.com/cb?"),
    ("https://app.example.com/cb", "https://app.example.com/cb#x"),
    ("https://app.example.com/cb?a=1", "https://app.example.com/cb?a=1&a=2"),
    # no normalisation: case, port, escapes
    ("https://app.example.com/cb", "https://APP.example.com/cb"),
    ("https://app.example.com/cb", "HTTPS://app.example.com/cb"),
    ("https://app.example.com/cb", "https://app.example.com:443/cb"),
    ("https://app.example.com/cb", "https://app.example.com:8443/cb"),
    ("https://app.example.com/a-b", "https://app.example.com/a%2Db"),
    # other scheme, host or userinfo
    ("https://app.example.com/cb", "http://app.example.com/cb"),
    ("https://app.example.com/cb", "https://evil.example.com/cb"),
    ("https://app.example.com/cb", "https://app.example.com.evil.example/cb"),
    ("https://app.example.com/cb", "https://user@app.example.com/cb"),
    ("com.example.app:/cb", "com.example.evil:/cb"),
    # loopback: only the port may differ
    ("http://127.0.0.1/cb", "http://127.0.0.1:8080/cb/extra"),
    ("http://127.0.0.1/cb", "http://127.0.0.1:8080/cb?x=1"),
    ("http://127.0.0.1/cb", "http://127.0.0.1:8080/cb#x"),
    ("http://127.0.0.1/cb", "http://127.0.0.1:8080/"),
    ("http://127.0.0.1/cb", "http://127.0.0.1:8080"),
    ("http://127.0.0.1/cb", "http://[::1]:8080/cb"),
    ("http://127.0.0.1/cb", "http://localhost:8080/cb"),
    ("http://127.0.0.1/cb", "https://127.0.0.1:8080/cb"),
    ("http://127.0.0.1/cb", "http://127.0.0.1:0/cb"),
    ("http://127.0.0.1/cb", "http://127.0.0.1:65536/cb"),
    ("http://127.0.0.1/cb", "http://127.0.0.1:/cb"),
    ("http://127.0.0.1/cb", "http://127.0.0.1:8080@evil.example/cb"),
    ("http://127.0.0.1/cb", "http://user@127.0.0.1:8080/cb"),
    ("http://127.0.0.1/cb", "http://127.0.0.1.evil.example:8080/cb"),
    ("http://localhost/cb", "http://LOCALHOST:8080/cb"),
    ("http://127.0.0.1/cb?a=1", "http://127.0.0.1:80/cb?a=2"),
    # a port that differs is only allowed for a loopback registration
    ("https://127.0.0.1/cb", "https://127.0.0.1:8443/cb"),
]


@pytest.mark.parametrize(("registered", "presented"), MISMATCHES)
def test_redirect_uri_does_not_match(registered: str, presented: str) -> None:
    assert not redirect_uri_matches(registered, presented)


def test_first_party_clients() -> None:
    """The built-in client is first-party by its setting, stored or not; any other client only
    when registered ``first_party``."""
    settings = Settings(first_party_client_id="ours")
    stored = Client("ours", None, ("password",), (), 0.0)
    assert is_first_party("ours", None, settings)
    assert is_first_party("ours", stored, settings)
    other = Client("app", None, ("authorization_code",), (), 0.0, redirect_uris=("https://a/",))
    assert not is_first_party("app", other, settings)
    assert is_first_party("app", Client("app", None, (), (), 0.0, first_party=True), settings)
    assert not is_first_party("app", None, settings)
    assert not is_first_party("first-party", None, settings)
