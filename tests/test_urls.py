"""``jwtkit._urls``: the one URL policy that ``jwtkit.remote`` and the integrations apply."""

from __future__ import annotations

import pytest

from jwtkit._urls import URLRefused, check_web_url, is_loopback_host, netloc, redacted_url
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


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:p%40ss@h/db", "postgresql://u@h/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("postgresql://h", "postgresql://h"),
        ("postgresql:///db?host=/run/postgresql", "postgresql:///db?host=/run/postgresql"),
        (
            "postgresql://h/db?user=u&password=secret&sslmode=require",
            "postgresql://h/db?user=u&password=***&sslmode=require",
        ),
        ("postgresql://h/db?sslpassword=secret", "postgresql://h/db?sslpassword=***"),
        # An unencoded '/' in the password: the host is what follows the last '@'.
        ("postgresql://u:pa/ss@h/db", "postgresql://u@h/db"),
        ("postgresql://u:pa?ss@h/db", "postgresql://u@h/db"),
        ("redis://redis.internal:6379/0", "redis://redis.internal:6379/0"),
        ("redis://:hunter2@redis.internal:6379/0", "redis://***@redis.internal:6379/0"),
        ("rediss://jwtkit:hunter2@redis.internal", "rediss://jwtkit@redis.internal"),
        ("redis://:hun/ter2@redis.internal/0", "redis://***@redis.internal/0"),
        ("redis://:hun@ter?2#x@redis.internal/0", "redis://***@redis.internal/0"),
        ("redis://hun/ter2@redis.internal/0", "redis://***@redis.internal/0"),
        ("unix:///run/redis.sock?password=hunter2", "unix:///run/redis.sock?password=***"),
        ("redis://redis.internal/0#hunter2", "redis://redis.internal/0"),
        ("hunter2", "<hidden>"),
        ("hunter 2://x", "<hidden>"),
    ],
)
def test_redacted_url_never_shows_a_password(url: str, shown: str) -> None:
    assert redacted_url(url) == shown
    assert not any(
        secret in shown for secret in ("hunter", "hun", "secret", "p%40ss", "pa/", "pa?")
    )


def test_redacted_url_shows_plain_text_as_the_caller_says() -> None:
    assert redacted_url(".jwtkit/jwtkit.db", plain=".jwtkit/jwtkit.db") == ".jwtkit/jwtkit.db"
    assert redacted_url("hunter2") == "<hidden>"
