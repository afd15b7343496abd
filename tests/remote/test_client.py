"""JWKSClient and AsyncJWKSClient over httpx's MockTransport with a FrozenClock: the cache
rules seen through a Verifier, single-flight with threads and tasks, and discovery."""

from __future__ import annotations

import logging
import threading
from typing import Any

import anyio
import httpx
import pytest
from anyio import wait_all_tasks_blocked

import jwtkit
from jwtkit import KeyNotFound, KeySet, UsageError
from jwtkit.remote import (
    AsyncJWKSClient,
    DiscoveryError,
    JWKSClient,
    JWKSError,
    JWKSFetchError,
    JWKSInvalid,
    UnsafeURL,
)
from jwtkit.remote._cache import CacheState, decide
from jwtkit.remote._client import _http_settings, _options, discovery_urls
from jwtkit.testing import FrozenClock

ISSUER = "https://id.example"
JWKS_URL = "https://id.example/.well-known/jwks.json"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeIssuer:
    """A JWKS (and metadata) endpoint on MockTransport: change ``keys``, ``status`` or
    ``headers`` at will; ``requests`` lists the paths asked for."""

    def __init__(self, *keys: jwtkit.Key) -> None:
        self.keys = list(keys)
        self.status = 200
        self.headers: dict[str, str] = {}
        self.metadata: dict[str, dict[str, Any]] = {}
        self.requests: list[str] = []
        #: JWK members served instead of ``keys`` when set.
        self.raw: list[dict[str, Any]] | None = None
        #: A whole response body served instead of a JWK Set when set.
        self.body: bytes | None = None
        #: Where the JWK Set URL redirects to when set.
        self.location: str | None = None

    def jwks(self) -> dict[str, Any]:
        if self.raw is not None:
            return {"keys": self.raw}
        return {"keys": [key.public_key().to_jwk() for key in self.keys]}

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url.path)
        if request.url.path in self.metadata:
            return httpx.Response(200, json=self.metadata[request.url.path])
        if request.url.path != "/.well-known/jwks.json":
            return httpx.Response(404)
        if self.location is not None:
            return httpx.Response(302, headers={"Location": self.location})
        if self.status != 200:
            return httpx.Response(self.status)
        if self.body is not None:
            return httpx.Response(200, content=self.body, headers=self.headers)
        return httpx.Response(200, json=self.jwks(), headers=self.headers)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def client(self, clock: FrozenClock, **options: Any) -> JWKSClient:
        return JWKSClient(JWKS_URL, transport=self.transport(), clock=clock, **options)

    def async_client(self, clock: FrozenClock, **options: Any) -> AsyncJWKSClient:
        return AsyncJWKSClient(JWKS_URL, transport=self.transport(), clock=clock, **options)


@pytest.fixture(scope="module")
def key1() -> jwtkit.Key:
    return jwtkit.Key.generate("ES256", kid="k1")


@pytest.fixture(scope="module")
def key2() -> jwtkit.Key:
    return jwtkit.Key.generate("ES256", kid="k2")


def _token(key: jwtkit.Key, sub: str = "42") -> str:
    return jwtkit.encode({"sub": sub}, key, algorithm="ES256")


def _verifier(client: JWKSClient | AsyncJWKSClient) -> jwtkit.Verifier:
    return jwtkit.Verifier(client, algorithms=["ES256"])


# -- the cache through a Verifier ------------------------------------------------------------


def test_verifier_fetches_once_and_keeps_the_same_keyset(key1: jwtkit.Key) -> None:
    issuer = FakeIssuer(key1)
    clock = FrozenClock()
    with issuer.client(clock) as client:
        verifier = _verifier(client)
        for sub in ("1", "2", "3"):
            assert verifier.decode(_token(key1, sub)) == {"sub": sub}
        assert issuer.requests == ["/.well-known/jwks.json"]
        assert client.get_keyset() is client.get_keyset()
        assert jwtkit.decode(_token(key1), client, algorithms=["ES256"]) == {"sub": "42"}
        assert len(issuer.requests) == 1


def test_refetch_after_the_ttl_keeps_the_object_when_keys_are_unchanged(key1: jwtkit.Key) -> None:
    issuer = FakeIssuer(key1)
    clock = FrozenClock()
    client = issuer.client(clock, cache_ttl=600)
    first = client.get_keyset()
    clock.advance(600)
    assert client.get_keyset() is first
    assert len(issuer.requests) == 2


def test_server_max_age_is_honoured_within_bounds(key1: jwtkit.Key) -> None:
    issuer = FakeIssuer(key1)
    issuer.headers = {"Cache-Control": "public, max-age=120"}
    clock = FrozenClock()
    client = issuer.client(clock)
    client.get_keyset()
    clock.advance(119)
    client.get_keyset()
    assert len(issuer.requests) == 1
    clock.advance(1)
    client.get_keyset()
    assert len(issuer.requests) == 2
    issuer.headers = {"Cache-Control": "no-store"}
    clock.advance(120)
    client.get_keyset()
    clock.advance(29)  # no-store: fresh for the cooldown, not zero
    client.get_keyset()
    assert len(issuer.requests) == 3


def test_unknown_kid_refetches_at_most_once_per_cooldown(
    key1: jwtkit.Key, key2: jwtkit.Key
) -> None:
    issuer = FakeIssuer(key1)
    clock = FrozenClock()
    client = issuer.client(clock, cooldown=30)
    verifier = _verifier(client)
    verifier.decode(_token(key1))
    issuer.keys = [key1, key2]  # the issuer publishes a new key
    with pytest.raises(KeyNotFound, match="no trusted key has kid 'k2'"):
        verifier.decode(_token(key2))  # within the cooldown of the first fetch
    assert len(issuer.requests) == 1
    clock.advance(30)
    assert verifier.decode(_token(key2)) == {"sub": "42"}
    assert len(issuer.requests) == 2
    # A flood of random kids: nothing is fetched during the cooldown...
    for number in range(200):
        forged = jwtkit.Key.generate("ES256", kid=f"random-{number}")
        with pytest.raises(KeyNotFound):
            verifier.decode(_token(forged))
    assert len(issuer.requests) == 2
    # ...and one request per cooldown after it.
    clock.advance(30)
    with pytest.raises(KeyNotFound):
        verifier.decode(_token(jwtkit.Key.generate("ES256", kid="random")))
    assert len(issuer.requests) == 3


def test_rotated_out_key_stops_verifying_after_a_refetch(
    key1: jwtkit.Key, key2: jwtkit.Key
) -> None:
    issuer = FakeIssuer(key1)
    clock = FrozenClock()
    client = issuer.client(clock)
    verifier = _verifier(client)
    old = _token(key1)
    verifier.decode(old)
    issuer.keys = [key2]
    clock.advance(600)
    with pytest.raises(KeyNotFound):
        verifier.decode(old)
    assert verifier.decode(_token(key2)) == {"sub": "42"}


def test_failed_fetch_keeps_the_last_good_keys_until_max_stale(
    key1: jwtkit.Key, caplog: pytest.LogCaptureFixture
) -> None:
    issuer = FakeIssuer(key1)
    clock = FrozenClock()
    client = issuer.client(clock, cache_ttl=600, cooldown=30, max_stale=3600)
    verifier = _verifier(client)
    token = _token(key1)
    verifier.decode(token)
    issuer.status = 503
    clock.advance(600)
    with caplog.at_level(logging.WARNING, logger="jwtkit.remote"):
        assert verifier.decode(token) == {"sub": "42"}  # stale-if-error
    assert caplog.records[-1].getMessage() == (
        "JWKS from id.example: HTTP 503; serving the last good keys"
    )
    assert len(issuer.requests) == 2
    clock.advance(29)
    verifier.decode(token)
    assert len(issuer.requests) == 2  # failures back off by the cooldown too
    clock.advance(3600 - 29)  # one hour past freshness
    with (
        caplog.at_level(logging.WARNING, logger="jwtkit.remote"),
        pytest.raises(JWKSFetchError, match="HTTP 503") as caught,
    ):
        verifier.decode(token)
    assert caught.value.code == "jwks_fetch_failed"
    assert caplog.records[-1].getMessage().endswith("; no keys to serve")
    issuer.status = 200
    clock.advance(30)
    assert verifier.decode(token) == {"sub": "42"}


def test_first_fetch_failure_is_reported_to_every_caller_within_the_cooldown(
    key1: jwtkit.Key, caplog: pytest.LogCaptureFixture
) -> None:
    issuer = FakeIssuer(key1)
    issuer.status = 500
    clock = FrozenClock()
    client = issuer.client(clock)
    with caplog.at_level(logging.WARNING, logger="jwtkit.remote"):
        with pytest.raises(JWKSFetchError) as first:
            client.get_keyset()
        with pytest.raises(JWKSFetchError) as second:
            _verifier(client).decode(_token(key1))
    assert second.value is not first.value
    assert str(second.value) == str(first.value) == "JWKS from id.example: HTTP 500"
    assert second.value.status == 500
    assert len(issuer.requests) == 1
    issuer.status = 200
    clock.advance(30)
    assert len(client.get_keyset()) == 1


def test_a_jwks_without_usable_keys_replaces_the_old_set(
    key1: jwtkit.Key, caplog: pytest.LogCaptureFixture
) -> None:
    """Attack finding 8: the issuer removed its keys (it publishes none that is usable):
    tokens signed by the removed keys are refused at the next fetch, not for up to max_stale."""
    issuer = FakeIssuer(key1)
    clock = FrozenClock()
    client = issuer.client(clock)
    verifier = _verifier(client)
    token = _token(key1)
    assert verifier.decode(token) == {"sub": "42"}
    secret = jwtkit.OctKey.generate(256, kid="secret")
    issuer.raw = [secret.to_jwk(private=True)]  # a published secret is refused
    clock.advance(600)
    with (
        caplog.at_level(logging.WARNING, logger="jwtkit.remote"),
        pytest.raises(KeyNotFound, match="no trusted key has kid 'k1'"),
    ):
        verifier.decode(token)
    messages = [record.getMessage() for record in caplog.records]
    assert any("symmetric ('oct') key" in message for message in messages)
    assert messages[-1] == (
        "JWKS from id.example: no usable key (1 in the set, 1 skipped); tokens are refused "
        "until the issuer publishes one"
    )
    assert len(issuer.requests) == 2
    emptied = client.refresh()  # an answer, not an error
    assert list(emptied) == []
    assert [entry.kid for entry in emptied.skipped] == ["secret"]
    issuer.raw = []
    clock.advance(30)
    assert list(client.refresh()) == []
    issuer.raw = None  # published again: found by the unknown-kid refetch after the cooldown
    clock.advance(30)
    assert verifier.decode(token) == {"sub": "42"}


@pytest.mark.parametrize(
    "body",
    [b"<html>maintenance</html>", b'{"keys": [', b'{"keys": {}}', b"[]", b'{"kids": []}'],
)
def test_a_malformed_document_keeps_the_old_set(
    key1: jwtkit.Key, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """A body that is not JSON, or not a JWK Set, is a broken answer (an error page, a
    truncated response), not the issuer's word: stale-if-error applies, as for HTTP errors."""
    issuer = FakeIssuer(key1)
    clock = FrozenClock()
    client = issuer.client(clock)
    keys = client.get_keyset()
    issuer.body = body
    clock.advance(600)
    with caplog.at_level(logging.WARNING, logger="jwtkit.remote"):
        assert client.get_keyset() is keys
    assert caplog.records[-1].getMessage().endswith("; serving the last good keys")
    with pytest.raises(JWKSInvalid) as caught:
        client.refresh()
    assert caught.value.code == "jwks_invalid"


def test_a_redirect_to_another_port_is_a_fetch_failure(key1: jwtkit.Key) -> None:
    issuer = FakeIssuer(key1)
    clock = FrozenClock()
    client = issuer.client(clock)
    keys = client.get_keyset()
    issuer.location = "https://id.example:8443/.well-known/jwks.json"
    with pytest.raises(JWKSFetchError, match=r"refused redirect to another port") as caught:
        client.refresh()
    assert caught.value.status == 302
    assert client.get_keyset() is keys  # stale-if-error: a refused hop is a fetch failure
    assert issuer.requests == ["/.well-known/jwks.json"] * 2  # the other port never asked


@pytest.mark.anyio
async def test_async_client_replaces_the_set_with_an_empty_answer(key1: jwtkit.Key) -> None:
    issuer = FakeIssuer(key1)
    clock = FrozenClock()
    async with issuer.async_client(clock) as client:
        verifier = _verifier(client)
        assert await verifier.adecode(_token(key1)) == {"sub": "42"}
        issuer.keys = []
        clock.advance(600)
        with pytest.raises(KeyNotFound):
            await verifier.adecode(_token(key1))
        issuer.body = b"not json"
        clock.advance(600)
        with pytest.raises(JWKSInvalid, match="not a JSON object"):
            await verifier.adecode(_token(key1))  # an unknown kid reports the failed fetch
        assert list(await client.aget_keyset()) == []  # stale: the last answer, still empty
        issuer.location = "https://id.example:8443/jwks"
        with pytest.raises(JWKSFetchError, match="another port"):
            await client.arefresh()


def test_keyset_for_ignores_non_string_kids(key1: jwtkit.Key) -> None:
    issuer = FakeIssuer(key1)
    client = issuer.client(FrozenClock())
    keys = client.keyset_for({"alg": "ES256", "kid": 7})
    assert keys.select(7, "ES256", "verify") == ()  # type: ignore[arg-type]
    assert client.keyset_for({"alg": "ES256", "kid": ["x"]}) is keys
    assert len(issuer.requests) == 1


def test_unexpected_failures_do_not_block_the_next_fetch(key1: jwtkit.Key) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("bug in a custom transport")
        return httpx.Response(200, json={"keys": [key1.public_key().to_jwk()]})

    client = JWKSClient(JWKS_URL, transport=httpx.MockTransport(handler), clock=FrozenClock())
    with pytest.raises(KeyNotFound, match="the key provider failed: RuntimeError"):
        _verifier(client).decode(_token(key1))
    assert len(client.get_keyset()) == 1  # not held back by a cooldown: nothing was fetched
    assert len(calls) == 2


# -- the public helpers ----------------------------------------------------------------------


def test_get_key_and_refresh(key1: jwtkit.Key, key2: jwtkit.Key) -> None:
    issuer = FakeIssuer(key1)
    clock = FrozenClock()
    client = issuer.client(clock)
    assert client.get_key("k1") == key1.public_key()
    with pytest.raises(KeyNotFound, match=r"the JWKS at id\.example has no key with kid 'k2'"):
        client.get_key("k2")
    with pytest.raises(UsageError, match="kid: expected a string"):
        client.get_key(2)  # type: ignore[arg-type]
    issuer.keys = [key2]
    refreshed = client.refresh()  # fresh keys, fetched anyway
    assert [key.kid for key in refreshed] == ["k2"]
    assert client.get_key("k2") == key2.public_key()
    issuer.status = 502
    with pytest.raises(JWKSFetchError, match="HTTP 502"):
        client.refresh()
    assert client.get_keyset() is refreshed


def test_close_refuses_fetching_but_keeps_answering_from_the_cache(key1: jwtkit.Key) -> None:
    issuer = FakeIssuer(key1)
    clock = FrozenClock()
    with issuer.client(clock) as client:
        keys = client.get_keyset()
    assert client.keyset_for({"kid": "k1"}) is keys
    clock.advance(600)
    with pytest.raises(UsageError, match=r"JWKSClient for id\.example is closed"):
        client.get_keyset()


def test_properties_and_repr(key1: jwtkit.Key) -> None:
    client = JWKSClient(
        "https://id.example/jwks?api_key=hunter2", transport=FakeIssuer().transport()
    )
    assert repr(client) == "JWKSClient('https://id.example/jwks')"
    assert client.url == "https://id.example/jwks?api_key=hunter2"
    assert client.issuer is None
    assert client.metadata is None
    client.close()


def test_an_empty_cache_without_an_error_says_so() -> None:
    client = FakeIssuer().client(FrozenClock())
    empty = decide(CacheState(), client._policy, 0, None, may_fetch=False)
    with pytest.raises(JWKSFetchError, match=r"JWKS from id\.example: no keys fetched yet"):
        client._answer(empty)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout": 0}, "timeout: expected a finite number"),
        ({"timeout": float("inf")}, "timeout: expected a finite number"),
        ({"timeout": True}, "timeout: expected a finite number"),
        ({"max_bytes": 0}, "max_bytes: expected a number of bytes"),
        ({"max_bytes": 1.5}, "max_bytes: expected a number of bytes"),
        ({"max_bytes": True}, "max_bytes: expected a number of bytes"),
        ({"headers": {"X": 1}}, "headers: expected a mapping"),
        ({"headers": [("X", "1")]}, "headers: expected a mapping"),
        ({"clock": 5}, "clock: expected a callable"),
        ({"allow_weak": "yes"}, "allow_weak: expected True or False"),
        ({"cache_ttl": 10, "cooldown": 20}, "cooldown: must not be longer than cache_ttl"),
        ({"transport": object()}, r"transport: expected an httpx.BaseTransport"),
    ],
)
def test_bad_options_are_usage_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        JWKSClient(JWKS_URL, **options)


def test_async_client_checks_its_transport_type() -> None:
    with pytest.raises(UsageError, match=r"transport: expected an httpx.AsyncBaseTransport"):
        AsyncJWKSClient(JWKS_URL, transport=httpx.HTTPTransport())  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["http://id.example/jwks", "file:///etc/jwks.json", "data:,{}"])
def test_unsafe_urls_are_refused_at_construction(url: str) -> None:
    with pytest.raises(UnsafeURL):
        JWKSClient(url)
    with pytest.raises(UnsafeURL):
        AsyncJWKSClient(url)


def test_proxy_variables_are_not_used_for_loopback_or_given_transports() -> None:
    options = _options(
        cache_ttl=600,
        cooldown=30,
        timeout=5,
        max_bytes=1024,
        max_stale=60,
        headers=None,
        clock=None,
        allow_weak=False,
    )
    assert _http_settings("https://id.example/", options, False)["trust_env"] is True
    assert _http_settings("https://id.example/", options, True)["trust_env"] is False
    assert _http_settings("http://127.0.0.1:1/", options, False)["trust_env"] is False
    assert _http_settings("https://id.example/", options, False)["follow_redirects"] is False


# -- threads: single flight ------------------------------------------------------------------


def test_twenty_threads_with_an_unknown_kid_cause_one_request(
    key1: jwtkit.Key, key2: jwtkit.Key
) -> None:
    issuer = FakeIssuer(key1)
    clock = FrozenClock()
    release = threading.Event()
    requests: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request.url.path)
        if len(requests) > 1:
            assert release.wait(timeout=10), "the test never released the fetch"
        return issuer.handler(request)

    client = JWKSClient(JWKS_URL, transport=httpx.MockTransport(handler), clock=clock)
    verifier = _verifier(client)
    verifier.decode(_token(key1))
    issuer.keys = [key1, key2]
    clock.advance(30)
    token = _token(key2)
    results: list[object] = []
    start = threading.Barrier(20)

    def work() -> None:
        start.wait(timeout=10)
        try:
            results.append(verifier.decode(token))
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            results.append(exc)

    threads = [threading.Thread(target=work) for _ in range(20)]
    for thread in threads:
        thread.start()
    for _ in range(10_000):  # until 19 threads wait for the one that fetches
        with client._lock:
            if client._waiters == 19:
                break
        threading.Event().wait(0.001)
    assert client._waiters == 19
    release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert results == [{"sub": "42"}] * 20
    assert len(requests) == 2  # the first fill, then exactly one for the 20 threads


def test_threads_share_a_failed_fetch(key1: jwtkit.Key) -> None:
    release = threading.Event()
    requests: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request.url.path)
        assert release.wait(timeout=10)
        return httpx.Response(500)

    client = JWKSClient(JWKS_URL, transport=httpx.MockTransport(handler), clock=FrozenClock())
    errors: list[JWKSError] = []

    def work() -> None:
        try:
            client.get_keyset()
        except JWKSError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(5)]
    for thread in threads:
        thread.start()
    for _ in range(10_000):
        with client._lock:
            if client._waiters == 4:
                break
        threading.Event().wait(0.001)
    release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(requests) == 1
    assert [str(error) for error in errors] == ["JWKS from id.example: HTTP 500"] * 5
    assert len({id(error) for error in errors}) == 5


# -- the async client ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_client_with_adecode(key1: jwtkit.Key, key2: jwtkit.Key) -> None:
    issuer = FakeIssuer(key1)
    clock = FrozenClock()
    async with issuer.async_client(clock) as client:
        verifier = _verifier(client)
        with pytest.raises(UsageError, match=r"needs 'await verifier\.adecode"):
            verifier.decode(_token(key1))  # nothing cached yet: sync access cannot fetch
        assert issuer.requests == []
        assert await verifier.adecode(_token(key1)) == {"sub": "42"}
        assert verifier.decode(_token(key1)) == {"sub": "42"}  # from the cache
        issuer.keys = [key1, key2]
        clock.advance(30)
        with pytest.raises(UsageError, match=r"needs 'await verifier\.adecode"):
            verifier.decode(_token(key2))  # a new kid needs a fetch
        assert await verifier.adecode(_token(key2)) == {"sub": "42"}
        assert (await verifier.adecode_complete(_token(key2))).key == key2.public_key()
        assert len(issuer.requests) == 2
        assert await client.aget_key("k2") == key2.public_key()
        with pytest.raises(KeyNotFound):
            await client.aget_key("k3")
        with pytest.raises(UsageError, match="kid: expected a string"):
            await client.aget_key(None)  # type: ignore[arg-type]
        assert await client.aget_keyset() is client.keyset_for({})
        assert await client.arefresh() is client.keyset_for({})
        assert len(issuer.requests) == 3
        clock.advance(601)  # expired: sync access serves the stale keys of a known kid
        assert verifier.decode(_token(key1)) == {"sub": "42"}
        assert len(issuer.requests) == 3
        with pytest.raises(UsageError, match=r"needs 'await verifier\.adecode"):
            verifier.decode(_token(jwtkit.Key.generate("ES256", kid="k3")))
    clock.advance(600)
    with pytest.raises(UsageError, match=r"AsyncJWKSClient for id\.example is closed"):
        await client.aget_keyset()


@pytest.mark.anyio
async def test_async_client_sync_access_reports_fetch_failures(key1: jwtkit.Key) -> None:
    issuer = FakeIssuer(key1)
    issuer.status = 500
    client = issuer.async_client(FrozenClock())
    with pytest.raises(JWKSFetchError, match="HTTP 500"):
        await client.aget_keyset()
    with pytest.raises(JWKSFetchError, match="HTTP 500"):
        client.keyset_for({"kid": "k1"})  # within the cooldown: the stored failure
    with pytest.raises(JWKSFetchError, match="HTTP 500"):
        await client.arefresh()
    await client.aclose()


@pytest.mark.anyio
async def test_twenty_tasks_with_an_unknown_kid_cause_one_request(
    key1: jwtkit.Key, key2: jwtkit.Key
) -> None:
    issuer = FakeIssuer(key1)
    clock = FrozenClock()
    release = anyio.Event()
    requests: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request.url.path)
        if len(requests) > 1:
            await release.wait()
        return issuer.handler(request)

    client = AsyncJWKSClient(JWKS_URL, transport=httpx.MockTransport(handler), clock=clock)
    verifier = _verifier(client)
    await verifier.adecode(_token(key1))
    issuer.keys = [key1, key2]
    clock.advance(30)
    token = _token(key2)
    results: list[dict[str, Any]] = []

    async def work() -> None:
        results.append(await verifier.adecode(token))

    async with anyio.create_task_group() as tasks:
        for _ in range(20):
            tasks.start_soon(work)
        await wait_all_tasks_blocked()
        assert client._waiters == 19
        release.set()
    assert results == [{"sub": "42"}] * 20
    assert len(requests) == 2
    await client.aclose()


@pytest.mark.anyio
async def test_a_cancelled_fetch_is_taken_over_by_a_waiting_task(key1: jwtkit.Key) -> None:
    issuer = FakeIssuer(key1)
    requests: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request.url.path)
        if len(requests) == 1:
            await anyio.sleep_forever()
        return issuer.handler(request)

    client = AsyncJWKSClient(JWKS_URL, transport=httpx.MockTransport(handler), clock=FrozenClock())
    results: list[KeySet] = []
    first = anyio.CancelScope()

    async def cancelled() -> None:
        with first:
            await client.aget_keyset()

    async def waiting() -> None:
        results.append(await client.aget_keyset())

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(cancelled)
        await wait_all_tasks_blocked()
        tasks.start_soon(waiting)
        await wait_all_tasks_blocked()
        assert client._waiters == 1
        first.cancel()
    assert first.cancelled_caught
    assert [len(keys) for keys in results] == [1]
    assert len(requests) == 2
    await client.aclose()


# -- discovery -------------------------------------------------------------------------------


def _metadata(issuer: str = ISSUER, jwks_uri: object = JWKS_URL) -> dict[str, Any]:
    return {"issuer": issuer, "jwks_uri": jwks_uri, "token_endpoint": f"{issuer}/token"}


def test_discovery_urls_follow_oidc_and_rfc_8414() -> None:
    assert discovery_urls("https://id.example") == (
        "https://id.example/.well-known/openid-configuration",
        "https://id.example/.well-known/oauth-authorization-server",
    )
    assert discovery_urls("https://id.example/tenant/") == (
        "https://id.example/tenant/.well-known/openid-configuration",
        "https://id.example/.well-known/oauth-authorization-server/tenant",
    )


def test_from_issuer_reads_openid_configuration_first(key1: jwtkit.Key) -> None:
    issuer = FakeIssuer(key1)
    issuer.metadata["/.well-known/openid-configuration"] = _metadata()
    client = JWKSClient.from_issuer(ISSUER, transport=issuer.transport(), clock=FrozenClock())
    assert client.url == JWKS_URL
    assert client.issuer == ISSUER
    assert client.metadata is not None
    assert client.metadata["token_endpoint"] == "https://id.example/token"
    with pytest.raises(TypeError):
        client.metadata["issuer"] = "x"  # type: ignore[index]
    assert _verifier(client).decode(_token(key1)) == {"sub": "42"}
    assert issuer.requests == ["/.well-known/openid-configuration", "/.well-known/jwks.json"]
    client.close()


def test_from_issuer_falls_back_to_rfc_8414(key1: jwtkit.Key) -> None:
    issuer = FakeIssuer(key1)
    tenant = "https://id.example/tenant"
    issuer.metadata["/.well-known/oauth-authorization-server/tenant"] = _metadata(tenant)
    client = JWKSClient.from_issuer(tenant, transport=issuer.transport())
    assert client.url == JWKS_URL
    assert issuer.requests == [
        "/tenant/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server/tenant",
    ]


def test_from_issuer_falls_back_when_the_first_document_is_not_json(key1: jwtkit.Key) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("openid-configuration"):
            return httpx.Response(200, text="<html>not here</html>")
        return httpx.Response(200, json=_metadata())

    client = JWKSClient.from_issuer(ISSUER, transport=httpx.MockTransport(handler))
    assert client.url == JWKS_URL


def test_from_issuer_refuses_a_different_issuer_without_fallback(key1: jwtkit.Key) -> None:
    issuer = FakeIssuer(key1)
    issuer.metadata["/.well-known/openid-configuration"] = _metadata("https://id.example/")
    issuer.metadata["/.well-known/oauth-authorization-server"] = _metadata()
    with pytest.raises(DiscoveryError, match=r"issuer 'https://id\.example/' is not") as caught:
        JWKSClient.from_issuer(ISSUER, transport=issuer.transport())
    assert caught.value.code == "jwks_discovery_failed"
    assert "RFC 8414 §3.3" in str(caught.value)
    assert issuer.requests == ["/.well-known/openid-configuration"]


@pytest.mark.parametrize(
    ("jwks_uri", "reason"),
    [
        (None, "the metadata has no jwks_uri"),
        (42, "jwks_uri: expected a URL string"),
        ("http://id.example/jwks", "http is refused after https"),
        ("http://127.0.0.1/jwks", "http is refused after https"),
        ("file:///etc/jwks", "the scheme must be https"),
    ],
)
def test_from_issuer_checks_the_jwks_uri(jwks_uri: object, reason: str) -> None:
    issuer = FakeIssuer()
    issuer.metadata["/.well-known/openid-configuration"] = _metadata(jwks_uri=jwks_uri)
    with pytest.raises(DiscoveryError, match=reason):
        JWKSClient.from_issuer(ISSUER, transport=issuer.transport())


def test_from_issuer_on_loopback_http_accepts_a_loopback_jwks_uri() -> None:
    local = "http://127.0.0.1:8000"
    issuer = FakeIssuer()
    issuer.metadata["/.well-known/openid-configuration"] = _metadata(
        local, f"{local}/.well-known/jwks.json"
    )
    assert JWKSClient.from_issuer(local, transport=issuer.transport()).url.startswith(local)


def test_from_issuer_without_metadata_names_both_attempts() -> None:
    issuer = FakeIssuer()
    with pytest.raises(DiscoveryError) as caught:
        JWKSClient.from_issuer(ISSUER, transport=issuer.transport())
    assert str(caught.value) == (
        "discovery for id.example: no usable metadata ("
        "/.well-known/openid-configuration: metadata from id.example: HTTP 404; "
        "/.well-known/oauth-authorization-server: metadata from id.example: HTTP 404)"
    )


def test_from_issuer_stops_at_a_network_failure() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        raise httpx.ConnectError("refused")

    with pytest.raises(DiscoveryError, match=r"discovery for id\.example: .*ConnectError"):
        JWKSClient.from_issuer(ISSUER, transport=httpx.MockTransport(handler))
    assert len(calls) == 1


@pytest.mark.parametrize(
    "issuer",
    ["https://id.example?tenant=1", "http://id.example", "https://id.example#x"],
)
def test_from_issuer_checks_the_issuer(issuer: str) -> None:
    with pytest.raises(UnsafeURL) as caught:
        JWKSClient.from_issuer(issuer, transport=FakeIssuer().transport())
    assert isinstance(caught.value, UsageError)  # refused when the client is built
    assert caught.value.code == "jwks_unsafe_url"


@pytest.mark.anyio
async def test_async_from_issuer(key1: jwtkit.Key) -> None:
    issuer = FakeIssuer(key1)
    issuer.metadata["/.well-known/oauth-authorization-server"] = _metadata()
    client = await AsyncJWKSClient.from_issuer(
        ISSUER, transport=issuer.transport(), clock=FrozenClock(), cooldown=5
    )
    assert client.issuer == ISSUER
    assert await _verifier(client).adecode(_token(key1)) == {"sub": "42"}
    await client.aclose()
    bad = FakeIssuer()
    bad.metadata["/.well-known/openid-configuration"] = _metadata("https://other.example")
    with pytest.raises(DiscoveryError, match=r"issuer 'https://other\.example' is not"):
        await AsyncJWKSClient.from_issuer(ISSUER, transport=bad.transport())
    with pytest.raises(DiscoveryError, match="no usable metadata"):
        await AsyncJWKSClient.from_issuer(ISSUER, transport=FakeIssuer().transport())


def test_clients_are_key_providers() -> None:
    transport = FakeIssuer().transport()
    assert isinstance(JWKSClient(JWKS_URL, transport=transport), jwtkit.KeyProvider)
    client = AsyncJWKSClient(JWKS_URL, transport=httpx.MockTransport(lambda r: httpx.Response(1)))
    assert isinstance(client, jwtkit.AsyncKeyProvider)
    assert isinstance(client, jwtkit.KeyProvider)
