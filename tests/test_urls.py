"""``jwtkit._urls``: the one URL policy that ``jwtkit.remote`` and the integrations apply."""

from __future__ import annotations

import pytest

from jwtkit._urls import URLRefused, check_web_url, is_loopback_host, netloc
from jwtkit.errors import UsageError
from jwtkit.integrations._resource import check_url as metadata_check_url
from jwtkit.remote._errors import UnsafeURL
from jwtkit.remote._http import check_url as fetch_check_url


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("10.0.0.1", False),
        ("localhost.example", False),
        ("", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(
    "url",
    [
        "https://id.example/jwks#",  # an empty fragment is a fragment too (RFC 3986 §3.5)
        "https://id.example/\x01",
        "https://id.example/\x7f",
        "http://id.example/",
        "https://u@id.example/",
    ],
)
def test_both_callers_refuse_what_the_policy_refuses(url: str) -> None:
    with pytest.raises(URLRefused):
        check_web_url(url)
    with pytest.raises(UnsafeURL):
        fetch_check_url(url, "JWKS URL")
    with pytest.raises(UsageError):
        metadata_check_url(url, "resource")


def test_the_options() -> None:
    assert check_web_url("http://127.0.0.1:8000/x?y").port == 8000
    with pytest.raises(URLRefused, match=r"^http is refused after https \(127.0.0.1:8000\)$"):
        check_web_url("http://127.0.0.1:8000/", https_only=True)
    with pytest.raises(URLRefused, match="must not have a query"):
        check_web_url("https://id.example/?y", query=False)
    assert check_web_url('https://id.example/"').path == '/"'
    with pytest.raises(URLRefused, match="not a valid URL"):
        check_web_url('https://id.example/"', quotable=True)
    with pytest.raises(URLRefused, match="not a valid URL"):
        check_web_url("https://id.example/é", quotable=True)


def test_netloc_brackets_ipv6() -> None:
    assert netloc("::1", 443) == "[::1]:443"
    assert netloc("id.example", None) == "id.example"
