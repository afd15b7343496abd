"""The network edge: the URL policy and fetching over httpx's MockTransport (no sockets)."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from types import SimpleNamespace
from typing import Any

import anyio
import httpx
import pytest

import jwtkit
from jwtkit.remote import JWKSFetchError, JWKSInvalid, UnsafeURL
from jwtkit.remote._errors import JWKSError
from jwtkit.remote._extras import INSTALL_LINE, MissingExtra
from jwtkit.remote._http import (
    MAX_REDIRECTS,
    Document,
    FetchOptions,
    _shut,
    _Watchdog,
    afetch_json,
    check_url,
    fetch_json,
    host_of,
    is_loopback_http,
    max_age,
    parse_jwks,
    safe_repr,
)
from jwtkit.testing import FrozenClock

URL = "https://id.example/.well-known/jwks.json"
OPTIONS = FetchOptions(timeout=5, max_bytes=4096)
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def key() -> jwtkit.Key:
    return jwtkit.Key.generate("ES256", kid="k1")


def _jwks(*keys: jwtkit.Key) -> dict[str, Any]:
    return {"keys": [k.public_key().to_jwk() for k in keys]}


def _fetch(handler: Handler, url: str = URL, options: FetchOptions = OPTIONS) -> Document:
    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        return fetch_json(http, url, options, FrozenClock())


async def _afetch(handler: Any, url: str = URL, options: FetchOptions = OPTIONS) -> Document:
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        return await afetch_json(http, url, options, FrozenClock())


# -- the URL policy --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://id.example/jwks",
        "HTTPS://ID.EXAMPLE:8443/a/b?tenant=x",
        "http://127.0.0.1:8080/jwks",
        "http://127.1.2.3/jwks",
        "http://[::1]:9000/jwks",
        "http://localhost/jwks",
    ],
)
def test_url_policy_accepts_https_and_loopback_http(url: str) -> None:
    assert check_url(url, "JWKS URL").hostname


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://id.example/jwks", "http is allowed only to a loopback host"),
        ("http://10.0.0.1/jwks", "http is allowed only to a loopback host"),
        ("http://localhost.id.example/jwks", "http is allowed only to a loopback host"),
        ("file:///etc/passwd", "the scheme must be https"),
        ("data:application/json,{}", "the scheme must be https"),
        ("ftp://id.example/jwks", "the scheme must be https"),
        ("gopher://127.0.0.1/", "the scheme must be https"),
        ("id.example/jwks", "the scheme must be https"),
        ("https:///jwks", "has no host"),
        ("https://user:secret@id.example/jwks", "credentials in the URL are refused"),
        ("https://id.example/jwks#keys", "must not have a fragment"),
        ("https://id.example:99999/jwks", "not a valid URL"),
        ("https://[::1/jwks", "not a valid URL"),
        ("", "not a valid URL"),
        ("https://id.example/a b", "not a valid URL"),
        ("https://id.example/" + "a" * 3000, "not a valid URL"),
    ],
)
def test_url_policy_refuses_other_urls(url: str, reason: str) -> None:
    with pytest.raises(UnsafeURL, match=reason) as caught:
        check_url(url, "JWKS URL")
    assert caught.value.code == "jwks_unsafe_url"
    assert "secret" not in str(caught.value)


def test_url_policy_refuses_non_strings_and_http_after_https() -> None:
    with pytest.raises(UnsafeURL, match="expected a URL string, got bytes"):
        check_url(b"https://id.example", "JWKS URL")
    with pytest.raises(UnsafeURL, match=r"http is refused after https \(127.0.0.1:80\)"):
        check_url("http://127.0.0.1:80/", "redirect", https_only=True)


def test_url_helpers() -> None:
    assert is_loopback_http("http://127.0.0.1:1/x")
    assert not is_loopback_http("https://127.0.0.1/x")
    assert not is_loopback_http("http://id.example/x")
    assert host_of("https://ID.example:8443/x") == "id.example:8443"
    assert host_of("http://[::1]:80/x") == "[::1]:80"
    assert safe_repr("https://id.example/jwks?api_key=hunter2") == "https://id.example/jwks"


# -- responses -------------------------------------------------------------------------------


def test_fetch_returns_the_json_object_and_sends_our_headers(key: jwtkit.Key) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=_jwks(key), headers={"Cache-Control": "max-age=120"})

    options = FetchOptions(timeout=5, max_bytes=4096, headers={"X-Api-Key": "abc"})
    document = _fetch(handler, options=options)
    assert document.data == _jwks(key)
    assert document.max_age == 120
    assert document.url == URL
    (request,) = seen
    assert request.headers["accept"] == "application/jwk-set+json, application/json"
    assert request.headers["accept-encoding"] == "identity"
    assert request.headers["user-agent"] == f"jwtkit/{jwtkit.__version__}"
    assert request.headers["x-api-key"] == "abc"


@pytest.mark.parametrize("status", [201, 204, 304, 400, 401, 403, 404, 429, 500, 502, 503])
def test_any_status_but_200_is_a_fetch_error(status: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text="TOPSECRET internal details")

    with pytest.raises(JWKSFetchError) as caught:
        _fetch(handler)
    error = caught.value
    assert error.code == "jwks_fetch_failed"
    assert str(error) == f"JWKS from id.example: HTTP {status}"
    assert error.status == status
    assert error.host == "id.example"
    assert error.__cause__ is None
    assert error.__context__ is None


def test_content_length_over_the_cap_is_refused_before_reading() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"{}" + b" " * 5000)

    with pytest.raises(JWKSFetchError, match="larger than 4096 bytes"):
        _fetch(handler)


def test_streamed_body_over_the_cap_is_abandoned(key: jwtkit.Key) -> None:
    produced: list[int] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(1000):
            produced.append(1)
            yield b" " * 1024

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=chunks())  # chunked, no Content-Length

    with pytest.raises(JWKSFetchError, match="larger than 4096 bytes"):
        _fetch(handler)
    assert len(produced) <= 5  # stopped reading at the cap


def test_streamed_body_at_the_cap_is_accepted() -> None:
    body = b'{"keys": []}'.ljust(4096)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter([body[:100], body[100:]]))

    assert _fetch(handler).data == {"keys": []}


def test_slow_body_past_the_overall_deadline_times_out() -> None:
    clock = FrozenClock()

    def drip() -> Iterator[bytes]:
        for char in b'{"keys": []}':
            clock.advance(1)  # each byte takes a second: every read is within the timeout
            yield bytes([char])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=drip())

    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as http,
        pytest.raises(JWKSFetchError, match=r"timed out after 5s \(timeout\)"),
    ):
        fetch_json(http, URL, OPTIONS, clock)


def test_the_watchdog_shuts_down_connections_at_the_deadline() -> None:
    """The edges of the sync fetch's watchdog (the loopback tests run it against a server)."""
    watchdog = _Watchdog(60)
    watchdog.trace("connection.connect_tcp.started", {"host": "id.example"})
    watchdog.trace("connection.connect_tcp.complete", {"return_value": object()})
    ours, theirs = socket.socketpair()
    with watchdog, ours, theirs:
        assert 59 < watchdog.remaining() <= 60
        watchdog._fire()  # what the timer does at the deadline
        stream = SimpleNamespace(get_extra_info={"socket": ours}.get)
        watchdog.trace("connection.connect_tcp.complete", {"return_value": stream})
        assert theirs.recv(1) == b""  # connected too late: shut down at once
        with socket.socket() as unconnected:
            _shut(unconnected)  # nothing to shut down: no error
    assert watchdog.fired
    assert watchdog._sockets == []  # the duplicates are closed
    assert ours.fileno() == -1


def test_sync_requests_ask_for_a_connection_each(key: jwtkit.Key) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=_jwks(key))

    _fetch(handler)
    assert seen[0].headers["connection"] == "close"  # so that the watchdog sees the socket
    assert "trace" in seen[0].extensions


@pytest.mark.parametrize(
    ("exception", "message"),
    [
        (httpx.ReadTimeout("read timed out"), r"timed out after 5s \(ReadTimeout\)"),
        (httpx.ConnectTimeout("connect"), r"timed out after 5s \(ConnectTimeout\)"),
        (httpx.ConnectError("[Errno 111] refused"), "JWKS from id.example: ConnectError$"),
        (httpx.RemoteProtocolError("bad"), "JWKS from id.example: RemoteProtocolError$"),
    ],
)
def test_transport_errors_become_fetch_errors(exception: Exception, message: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exception

    with pytest.raises(JWKSFetchError, match=message) as caught:
        _fetch(handler)
    assert caught.value.status is None
    assert caught.value.__cause__ is None  # no httpx traceback chained to it
    assert caught.value.__suppress_context__


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>login</html>", "not a JSON object"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"keys": [], "keys": []}', "not a JSON object"),
        (b"\xff\xfe", "not a JSON object"),
        (b'{"n": NaN}', "not a JSON object"),
    ],
)
def test_bodies_that_are_not_a_json_object_are_invalid(body: bytes, reason: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    with pytest.raises(JWKSInvalid, match=reason) as caught:
        _fetch(handler)
    assert caught.value.code == "jwks_invalid"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", None),
        ("public, max-age=300", 300.0),
        ("max-age=0", 0.0),
        ('max-age="60"', 60.0),
        ("MAX-AGE = 45, must-revalidate", 45.0),
        ("max-age=60, max-age=30", 60.0),
        ("max-age=-1", None),
        ("max-age=abc", None),
        ("s-maxage=100", None),
        ("no-store", 0.0),
        ("max-age=600, no-cache", 0.0),
    ],
)
def test_max_age_from_cache_control(header: str, expected: float | None) -> None:
    assert max_age(httpx.Headers({"Cache-Control": header} if header else {})) == expected


# -- redirects -------------------------------------------------------------------------------


def _redirecting(location: str, status: int = 302) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/moved":
            return httpx.Response(200, json={"keys": []})
        return httpx.Response(status, headers={"Location": location})

    return handler


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_on_the_same_host_is_followed(status: int) -> None:
    document = _fetch(_redirecting("/moved", status))
    assert document.url == "https://id.example/moved"
    assert _fetch(_redirecting("https://ID.EXAMPLE:443/moved")).data == {"keys": []}


def test_a_document_keeps_its_headers_and_the_urls_that_redirected_to_it() -> None:
    document = _fetch(_redirecting("/moved"))
    assert document.redirects == (URL,)
    assert document.headers["content-type"] == "application/json"
    direct = _fetch(lambda request: httpx.Response(200, json={}, headers={"X-A": "1"}))
    assert direct.redirects == ()
    assert direct.headers["x-a"] == "1"


@pytest.mark.anyio
async def test_async_documents_keep_their_redirects_too() -> None:
    document = await _afetch(_redirecting("/moved"))
    assert document.redirects == (URL,)
    assert document.url == "https://id.example/moved"


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://id.example/moved", "http is refused after https"),
        ("http://127.0.0.1/moved", "http is refused after https"),
        ("file:///etc/passwd", "the scheme must be https"),
        ("data:application/json,{}", r"not http\(s\) \(InvalidURL\)"),
        ("javascript:alert(1)", r"not http\(s\) \(InvalidURL\)"),
        ("gopher://id.example/", "the scheme must be https"),
        ("https://evil.example/moved", "to another host"),
        ("https://id.example.evil.example/moved", "to another host"),
        ("https://id.example:8443/moved", r"to another port \(id\.example:8443\)"),
        ("https://id.example:80/moved", r"to another port \(id\.example:80\)"),
        ("//id.example:444/moved", "to another port"),
    ],
)
def test_redirects_elsewhere_are_refused(location: str, reason: str) -> None:
    with pytest.raises(JWKSFetchError, match=f"refused redirect.*{reason}"):
        _fetch(_redirecting(location))


def test_redirect_without_location_is_an_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301)

    with pytest.raises(JWKSFetchError, match="HTTP 301 redirect without a Location"):
        _fetch(handler)


def test_redirect_loops_stop_after_the_maximum() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(307, headers={"Location": f"/hop{len(calls)}"})

    with pytest.raises(JWKSFetchError, match=f"more than {MAX_REDIRECTS} redirects"):
        _fetch(handler)
    assert len(calls) == MAX_REDIRECTS + 1


def test_loopback_http_may_redirect_to_https_on_the_same_host_and_not_back() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "http":
            return httpx.Response(301, headers={"Location": "https://127.0.0.1:8443/jwks"})
        if request.url.path == "/jwks":
            return httpx.Response(302, headers={"Location": "http://127.0.0.1:8443/again"})
        return httpx.Response(200, json={})  # pragma: no cover - never reached

    with pytest.raises(JWKSFetchError, match="http is refused after https"):
        _fetch(handler, "http://127.0.0.1:8443/jwks")
    assert _fetch(_redirecting("/moved"), "http://127.0.0.1:8080/x").data == {"keys": []}
    with pytest.raises(JWKSFetchError, match="to another host"):
        _fetch(_redirecting("http://localhost/moved"), "http://127.0.0.1:8080/x")


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("http://127.0.0.1:8080/x", "http://127.0.0.1:9/moved"),
        ("http://127.0.0.1:8080/x", "https://127.0.0.1:8443/moved"),
        ("http://127.0.0.1/x", "https://127.0.0.1/moved"),  # 80 is not 443
        ("https://id.example/x", "https://id.example:8443/moved"),
    ],
)
def test_redirects_keep_the_port(url: str, location: str) -> None:
    """Attack finding 8: another port on the same host is another server (another
    service, another tenant's proxy), refused like another host; the sync and async fetches
    follow the same rule. A URL without a port means its scheme's default one."""
    with pytest.raises(JWKSFetchError, match=r"refused redirect to another port") as caught:
        _fetch(_redirecting(location), url)
    assert caught.value.status == 302
    assert "only redirects on the same host and port are followed" in caught.value.message


@pytest.mark.anyio
async def test_async_redirects_keep_the_port() -> None:
    with pytest.raises(JWKSFetchError, match="refused redirect to another port"):
        await _afetch(_redirecting("https://id.example:8443/moved"))


def test_redirects_count_against_the_overall_deadline() -> None:
    clock = FrozenClock()

    def handler(request: httpx.Request) -> httpx.Response:
        clock.advance(3)
        return httpx.Response(302, headers={"Location": "/next"})

    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as http,
        pytest.raises(JWKSFetchError, match="timed out after 5s"),
    ):
        fetch_json(http, URL, OPTIONS, clock)


# -- async -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_fetch_follows_the_same_rules(key: jwtkit.Key) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old":
            return httpx.Response(308, headers={"Location": "/jwks"})
        if request.url.path == "/jwks":
            return httpx.Response(200, json=_jwks(key), headers={"Cache-Control": "max-age=9"})
        if request.url.path == "/evil":
            return httpx.Response(302, headers={"Location": "file:///etc/passwd"})
        return httpx.Response(404)

    document = await _afetch(handler, "https://id.example/old")
    assert document.data == _jwks(key)
    assert document.max_age == 9
    assert document.url == "https://id.example/jwks"
    with pytest.raises(JWKSFetchError, match="HTTP 404"):
        await _afetch(handler, "https://id.example/missing")
    with pytest.raises(JWKSFetchError, match="refused redirect"):
        await _afetch(handler, "https://id.example/evil")


@pytest.mark.anyio
async def test_async_fetch_caps_streamed_bodies_and_loops() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b" " * 1024

    async def big(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=chunks())

    async def looping(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "/again"})

    with pytest.raises(JWKSFetchError, match="larger than 4096 bytes"):
        await _afetch(big)
    with pytest.raises(JWKSFetchError, match="more than 3 redirects"):
        await _afetch(looping)


@pytest.mark.anyio
async def test_async_fetch_timeouts() -> None:
    async def read_timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow")

    async def hanging(request: httpx.Request) -> httpx.Response:
        await anyio.sleep_forever()
        raise AssertionError  # pragma: no cover

    async def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(JWKSFetchError, match=r"timed out after 5s \(ReadTimeout\)"):
        await _afetch(read_timeout)
    with pytest.raises(JWKSFetchError, match=r"timed out after 0.05s \(TimeoutError\)"):
        await _afetch(hanging, options=FetchOptions(timeout=0.05, max_bytes=4096))
    with pytest.raises(JWKSFetchError, match="ConnectError"):
        await _afetch(broken)


@pytest.mark.anyio
async def test_async_redirects_count_against_the_overall_deadline() -> None:
    clock = FrozenClock()

    async def handler(request: httpx.Request) -> httpx.Response:
        clock.advance(3)
        return httpx.Response(302, headers={"Location": "/next"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(JWKSFetchError, match="timed out after 5s"):
            await afetch_json(http, URL, OPTIONS, clock)


# -- JWK Sets --------------------------------------------------------------------------------


def _document(data: dict[str, Any]) -> Document:
    return Document(data, None, URL)


def test_parse_jwks_keeps_good_keys_and_logs_each_skipped_one(
    key: jwtkit.Key, caplog: pytest.LogCaptureFixture
) -> None:
    private = jwtkit.Key.generate("ES256", kid="leaked")
    secret = jwtkit.OctKey.generate(256, kid="shared")
    other = jwtkit.Key.generate("EdDSA", kid="k2")
    members = [
        {"kty": "EC", "kid": "bad-curve", "crv": "P-999", "x": "AA", "y": "AA"},
        key.public_key().to_jwk(),
        "not an object",
        private.to_jwk(private=True),
        secret.to_jwk(private=True),
        {"kty": "RSA", "kid": 7, "n": "AQAB", "e": "AQAB"},
        other.public_key().to_jwk(),
    ]
    with caplog.at_level(logging.WARNING, logger="jwtkit.remote"):
        keys = parse_jwks(_document({"keys": members}))
    assert [k.kid for k in keys] == ["k1", "k2"]
    assert [(s.index, s.kid) for s in keys.skipped] == [
        (0, "bad-curve"),
        (2, None),
        (3, "leaked"),
        (4, "shared"),
        (5, None),
    ]
    reasons = {s.index: s.reason for s in keys.skipped}
    assert "private key material" in reasons[3]
    assert "symmetric ('oct') key" in reasons[4]
    records = [r for r in caplog.records if r.name == "jwtkit.remote"]
    assert len(records) == 5
    assert all(r.levelno == logging.WARNING for r in records)
    assert records[0].getMessage().startswith("JWKS from id.example: key 0 (kid 'bad-curve')")
    logged = "\n".join(r.getMessage() for r in records)
    for secret_member in (private.to_jwk(private=True)["d"], secret.to_jwk(private=True)["k"]):
        assert secret_member not in logged
        assert secret_member not in repr(keys.skipped)


def test_parse_jwks_passes_allow_weak(caplog: pytest.LogCaptureFixture) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    small = rsa.generate_private_key(65537, 1024).public_key()  # noqa: S505 - the point
    weak = jwtkit.Key.from_cryptography(small, kid="small", allow_weak=True)
    document = _document({"keys": [weak.to_jwk()]})
    with caplog.at_level(logging.WARNING, logger="jwtkit.remote"):
        strict = parse_jwks(document)
    assert list(strict) == []
    assert [(s.kid, "2048" in s.reason) for s in strict.skipped] == [("small", True)]
    assert [k.kid for k in parse_jwks(document, allow_weak=True)] == ["small"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({}, "the 'keys' member must be an array"),
        ({"keys": {"kty": "EC"}}, "the 'keys' member must be an array"),
        ({"keys": None}, "the 'keys' member must be an array"),
    ],
)
def test_documents_that_are_not_a_jwk_set_are_invalid(
    data: dict[str, Any], reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="jwtkit.remote"),
        pytest.raises(JWKSInvalid, match=reason) as caught,
    ):
        parse_jwks(_document(data))
    assert caught.value.host == "id.example"


@pytest.mark.parametrize(
    ("members", "skipped"),
    [
        ([], []),
        ([{"kty": "nope"}], [(0, None)]),
        ([jwtkit.OctKey.generate(256, kid="s").to_jwk(private=True), "x"], [(0, "s"), (1, None)]),
    ],
)
def test_a_jwk_set_without_usable_keys_is_an_empty_key_set(
    members: list[Any], skipped: list[tuple[int, str | None]], caplog: pytest.LogCaptureFixture
) -> None:
    """Attack finding 8: a well-formed set with no usable key is an answer (no key is
    trusted), not an error that would keep the previous keys."""
    with caplog.at_level(logging.WARNING, logger="jwtkit.remote"):
        keys = parse_jwks(_document({"keys": members}))
    assert list(keys) == []
    assert [(s.index, s.kid) for s in keys.skipped] == skipped
    messages = [r.getMessage() for r in caplog.records if r.name == "jwtkit.remote"]
    assert len(messages) == len(skipped) + 1
    assert messages[-1] == (
        f"JWKS from id.example: no usable key ({len(members)} in the set, {len(skipped)} "
        "skipped); tokens are refused until the issuer publishes one"
    )


# -- errors and the extra --------------------------------------------------------------------


def test_errors_copy_themselves_for_each_waiter() -> None:
    error = JWKSFetchError("JWKS from h: HTTP 500", host="h", status=500)
    copy = error.again()
    assert type(copy) is JWKSFetchError
    assert copy is not error
    assert (copy.message, copy.host, copy.status, copy.code) == (
        error.message,
        "h",
        500,
        "jwks_fetch_failed",
    )
    assert isinstance(copy, JWKSError)
    assert isinstance(copy, jwtkit.JWTError)
    assert repr(copy) == "JWKSFetchError('JWKS from h: HTTP 500')"


def test_missing_httpx_prints_the_install_line() -> None:
    code = (
        "import sys\n"
        "sys.modules['httpx'] = None\n"
        "try:\n"
        "    import jwtkit.remote\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc, sep=': ')\n"
    )
    out = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"MissingExtra: {INSTALL_LINE}"
    error = MissingExtra("httpx", "remote")
    assert isinstance(error, ImportError)
    assert (str(error), error.name) == (INSTALL_LINE, "httpx")
    assert INSTALL_LINE == "jwtkit.remote needs the 'remote' extra: pip install 'jwtkit[remote]'"


def test_documents_are_plain_json(key: jwtkit.Key) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=json.dumps(_jwks(key)).encode())

    assert parse_jwks(_fetch(handler)) == jwtkit.KeySet([key.public_key()])
