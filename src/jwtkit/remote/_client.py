"""The JWKS clients: :class:`JWKSClient` (threads) and :class:`AsyncJWKSClient` (asyncio/trio).

Both are key providers for :class:`~jwtkit.Verifier` (``KeyProvider.keyset_for``; the async
one also ``AsyncKeyProvider.keyset_for_async``) over the pure cache of ``_cache.py`` and the
fetching of ``_http.py``. They add the locks: one fetch in flight per client, other callers
wait for it and share its outcome (single-flight). Discovery (:meth:`JWKSClient.from_issuer`)
reads OpenID Connect Discovery 1.0 §4 or RFC 8414 §3 metadata and checks its ``issuer``.

The hot path, a token whose ``kid`` is in fresh keys, reads the state without a lock and
returns the same :class:`~jwtkit.jwk.KeySet` object every time, so the Verifier's per-key work
is kept until the keys change.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType, TracebackType
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from .._messages import short
from ..errors import KeyNotFound, UsageError
from ..jwk import Key, KeySet
from ._cache import (
    CachePolicy,
    CacheState,
    Decision,
    Step,
    abandoned,
    decide,
    failed,
    fetched,
)
from ._errors import DiscoveryError, JWKSError, JWKSFetchError, UnsafeURL
from ._extras import anyio, httpx
from ._http import (
    DEFAULT_MAX_BYTES,
    Document,
    FetchOptions,
    afetch_json,
    check_url,
    fetch_json,
    host_of,
    is_loopback_http,
    parse_jwks,
    safe_repr,
)

__all__ = ["AsyncJWKSClient", "JWKSClient", "check_issuer", "discovery_urls", "jwks_uri_of"]

logger = logging.getLogger("jwtkit.remote")

Clock = Callable[[], float]
_Sync = TypeVar("_Sync", bound="JWKSClient")
_Async = TypeVar("_Async", bound="AsyncJWKSClient")

_OIDC_PATH = "/.well-known/openid-configuration"
_RFC8414_PATH = "/.well-known/oauth-authorization-server"


# -- options ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    policy: CachePolicy
    fetch: FetchOptions
    clock: Clock
    allow_weak: bool


def _options(
    *,
    cache_ttl: float,
    cooldown: float,
    timeout: float,
    max_bytes: int,
    max_stale: float,
    headers: Mapping[str, str] | None,
    clock: Clock | None,
    allow_weak: bool,
) -> _Options:
    policy = CachePolicy(cache_ttl=cache_ttl, cooldown=cooldown, max_stale=max_stale)
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not 0 < timeout < math.inf
    ):
        raise UsageError("timeout: expected a finite number of seconds > 0")
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
        raise UsageError("max_bytes: expected a number of bytes > 0")
    if headers is None:
        headers = {}
    if not isinstance(headers, Mapping) or not all(
        isinstance(name, str) and isinstance(value, str) for name, value in headers.items()
    ):
        raise UsageError("headers: expected a mapping of header names to string values")
    if clock is not None and not callable(clock):
        raise UsageError("clock: expected a callable returning seconds")
    if not isinstance(allow_weak, bool):
        raise UsageError("allow_weak: expected True or False")
    return _Options(
        policy,
        FetchOptions(float(timeout), max_bytes, MappingProxyType(dict(headers))),
        time.monotonic if clock is None else clock,
        allow_weak,
    )


def _http_settings(url: str, options: _Options, has_transport: bool) -> dict[str, Any]:
    """Arguments for an httpx client: no automatic redirects (each hop is checked by hand),
    our timeout; proxy variables are honoured except for loopback URLs and given transports."""
    return {
        "timeout": httpx.Timeout(options.fetch.timeout),
        "follow_redirects": False,
        "trust_env": not has_transport and not is_loopback_http(url),
    }


# -- discovery -------------------------------------------------------------------------------


def discovery_urls(issuer: str) -> tuple[str, str]:
    """The OpenID Connect Discovery 1.0 §4 URL (the issuer, then
    ``/.well-known/openid-configuration``) and the RFC 8414 §3.1 one
    (``/.well-known/oauth-authorization-server`` between host and path)."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    origin = f"{parts.scheme}://{parts.netloc}"
    return f"{origin}{path}{_OIDC_PATH}", f"{origin}{_RFC8414_PATH}{path}"


def check_issuer(issuer: object) -> str:
    """``issuer`` after the network policy (and no query, RFC 8414 §2), for discovery."""
    parts = check_url(issuer, "issuer")
    if parts.query:
        raise UnsafeURL(
            "issuer: must not have a query (RFC 8414 §2)", host=host_of(cast(str, issuer))
        )
    return cast(str, issuer)


def jwks_uri_of(metadata: Mapping[str, Any], issuer: str) -> str:
    """The ``jwks_uri`` of authorization server metadata, after checking that its ``issuer``
    is exactly ``issuer`` (RFC 8414 §3.3, OpenID Connect Discovery 1.0 §4.3) and that the URI
    passes the network policy (https; http only when the issuer itself is loopback http)."""
    host = host_of(issuer)
    found = metadata.get("issuer")
    if found != issuer:
        raise DiscoveryError(
            f"discovery for {host}: the metadata's issuer {short(found)} is not {short(issuer)} "
            "(they must be equal, RFC 8414 §3.3, OpenID Connect Discovery 1.0 §4.3)",
            host=host,
        )
    jwks_uri = metadata.get("jwks_uri")
    if jwks_uri is None:
        raise DiscoveryError(f"discovery for {host}: the metadata has no jwks_uri", host=host)
    try:
        check_url(jwks_uri, "jwks_uri", https_only=not is_loopback_http(issuer))
    except JWKSError as exc:
        raise DiscoveryError(f"discovery for {host}: {exc.message}", host=host) from None
    return cast(str, jwks_uri)


class _Discovery:
    """Tries the OpenID Connect document, then the RFC 8414 one, and keeps the reasons.

    OpenID Connect first: the providers that issue tokens to APIs (Google, Entra ID, Auth0,
    Okta, Keycloak) all publish it, and some publish only it; RFC 8414 §5 asks servers that
    support both to serve the same content at both. The second is tried only when the first
    answered with an HTTP error or a document that is not JSON; a network failure (the host
    is the same) or an issuer mismatch (a security check) ends the discovery at once.
    """

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.urls = discovery_urls(issuer)
        self.reasons: list[str] = []

    def failure(self, url: str, exc: JWKSError) -> None:
        """Note why ``url`` failed; raise when trying the other URL would not help."""
        if isinstance(exc, JWKSFetchError) and exc.status is None:
            raise DiscoveryError(
                f"discovery for {host_of(self.issuer)}: {exc.message}", host=exc.host
            ) from None
        self.reasons.append(f"{urlsplit(url).path}: {exc.message}")

    def done(self, document: Document) -> tuple[str, dict[str, Any]]:
        return jwks_uri_of(document.data, self.issuer), document.data

    def give_up(self) -> DiscoveryError:
        host = host_of(self.issuer)
        return DiscoveryError(
            f"discovery for {host}: no usable metadata ({'; '.join(self.reasons)})", host=host
        )


def _discover(http: httpx.Client, issuer: str, options: _Options) -> tuple[str, dict[str, Any]]:
    discovery = _Discovery(issuer)
    for url in discovery.urls:
        try:
            document = fetch_json(http, url, options.fetch, options.clock, "metadata")
        except JWKSError as exc:
            discovery.failure(url, exc)
            continue
        return discovery.done(document)
    raise discovery.give_up()


async def _adiscover(
    http: httpx.AsyncClient, issuer: str, options: _Options
) -> tuple[str, dict[str, Any]]:
    discovery = _Discovery(issuer)
    for url in discovery.urls:
        try:
            document = await afetch_json(http, url, options.fetch, options.clock, "metadata")
        except JWKSError as exc:
            discovery.failure(url, exc)
            continue
        return discovery.done(document)
    raise discovery.give_up()


# -- what both clients share -----------------------------------------------------------------


def _kid(header: Mapping[str, Any]) -> str | None:
    kid = header.get("kid")
    return kid if isinstance(kid, str) else None


class _Base:
    """Configuration, state and the lock-protected transitions of a JWKS client."""

    _url: str
    _host: str
    _options: _Options
    _policy: CachePolicy
    _clock: Clock
    _state: CacheState
    _lock: threading.Condition
    _waiters: int
    _closed: bool
    _issuer: str | None
    _metadata: Mapping[str, Any] | None

    def _setup(
        self, url: str, options: _Options, issuer: str | None, metadata: Mapping[str, Any] | None
    ) -> None:
        self._url = url
        self._host = host_of(url)
        self._options = options
        self._policy = options.policy
        self._clock = options.clock
        self._state = CacheState()
        self._lock = threading.Condition(threading.Lock())
        self._waiters = 0
        self._closed = False
        self._issuer = issuer
        self._metadata = None if metadata is None else MappingProxyType(dict(metadata))

    @property
    def url(self) -> str:
        """The JWK Set URL."""
        return self._url

    @property
    def issuer(self) -> str | None:
        """The issuer given to ``from_issuer`` (``None`` when built from a JWKS URL)."""
        return self._issuer

    @property
    def metadata(self) -> Mapping[str, Any] | None:
        """The discovered authorization server metadata (read-only), if any."""
        return self._metadata

    def __repr__(self) -> str:
        return f"{type(self).__name__}({safe_repr(self._url)!r})"

    def _cached(self, header: Mapping[str, Any]) -> tuple[str | None, KeySet | None]:
        """The lock-free fast path: the keys when they are fresh and know the ``kid``."""
        kid = _kid(header)
        state = self._state
        if state.knows(kid) and self._clock() < state.fresh_until:
            return kid, state.keys
        return kid, None

    def _decide(self, kid: str | None, *, may_fetch: bool, force: bool = False) -> Decision:
        """Decide and store the new state; the caller holds the lock."""
        decision = decide(
            self._state, self._policy, self._clock(), kid, may_fetch=may_fetch, force=force
        )
        self._state = decision.state
        return decision

    def _answer(self, decision: Decision) -> KeySet:
        keys = decision.state.keys
        if decision.step is Step.USE and keys is not None:
            return keys
        error = decision.state.error
        if error is not None:
            raise error.again()
        raise JWKSFetchError(f"JWKS from {self._host}: no keys fetched yet", host=self._host)

    def _fetch_ended(
        self, before: float, outcome: tuple[KeySet, float | None] | JWKSError | None
    ) -> None:
        """Store the outcome of the fetch in flight (``None``: abandoned); the caller holds
        the lock."""
        previous = self._state.keys
        if outcome is None:
            self._state = abandoned(self._state, before)
        elif isinstance(outcome, JWKSError):
            self._state = failed(self._state, outcome)
            serving = (
                "serving the last good keys"
                if self._state.usable(self._policy, self._clock())
                else "no keys to serve"
            )
            logger.warning("%s; %s", outcome.message, serving)
        else:
            keys, max_age = outcome
            self._state = fetched(self._state, self._policy, self._clock(), keys, max_age)
            if self._state.keys is not previous:
                logger.info("JWKS from %s: %d keys now in use", self._host, len(keys))

    def _keys_from(self, document: Document) -> tuple[KeySet, float | None]:
        return parse_jwks(document, allow_weak=self._options.allow_weak), document.max_age

    def _check_open(self) -> None:
        if self._closed:
            raise UsageError(f"{type(self).__name__} for {self._host} is closed")

    def _key(self, keys: KeySet, kid: str) -> Key:
        found = keys.get(kid)
        if not found:
            raise KeyNotFound(f"the JWKS at {self._host} has no key with kid {short(kid)}")
        return found[0]

    def _strict(self, keys: KeySet) -> KeySet:
        """``keys``, unless the last fetch failed (what :meth:`refresh` reports)."""
        error = self._state.error
        if error is not None:
            raise error.again()
        return keys


# -- the synchronous client ------------------------------------------------------------------


class JWKSClient(_Base):
    """A JWK Set fetched over HTTPS and cached; a key provider for :class:`~jwtkit.Verifier`.

    ::

        jwks = jwtkit.remote.JWKSClient("https://id.example/.well-known/jwks.json")
        verifier = jwtkit.Verifier(jwks, algorithms=["ES256"], issuer="https://id.example",
                                   audience="api")
        claims = verifier.decode(token)

    Safe to share between threads: one fetch is in flight at a time and the other threads
    wait for it. See ``docs/remote.md`` for every option and the cache rules.

    .. warning::
       ``http`` URLs are accepted only for loopback hosts (development, tests). Everything
       else must be ``https``: a key set fetched over plain HTTP can be replaced by anyone on
       the path, and with it every token.
    """

    _http: httpx.Client

    def __init__(
        self,
        url: str,
        *,
        cache_ttl: float = 600,
        cooldown: float = 30,
        timeout: float = 5,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_stale: float = 86_400,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        allow_weak: bool = False,
    ) -> None:
        check_url(url, "JWKS URL")
        options = _options(
            cache_ttl=cache_ttl,
            cooldown=cooldown,
            timeout=timeout,
            max_bytes=max_bytes,
            max_stale=max_stale,
            headers=headers,
            clock=clock,
            allow_weak=allow_weak,
        )
        self._setup(url, options, None, None)
        self._http = self._client_for(url, options, transport)

    @staticmethod
    def _client_for(
        url: str, options: _Options, transport: httpx.BaseTransport | None
    ) -> httpx.Client:
        if transport is not None and not isinstance(transport, httpx.BaseTransport):
            raise UsageError("transport: expected an httpx.BaseTransport")
        return httpx.Client(
            transport=transport, **_http_settings(url, options, transport is not None)
        )

    @classmethod
    def from_issuer(
        cls: type[_Sync],
        issuer: str,
        *,
        cache_ttl: float = 600,
        cooldown: float = 30,
        timeout: float = 5,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_stale: float = 86_400,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        allow_weak: bool = False,
    ) -> _Sync:
        """A client for the ``jwks_uri`` of ``issuer``'s metadata (OpenID Connect Discovery
        1.0 §4, then RFC 8414 §3), whose ``issuer`` must equal ``issuer`` exactly.

        Raises :class:`~jwtkit.remote.DiscoveryError` when no usable metadata is found. The
        metadata is fetched once, now; the keys at the first lookup.
        """
        issuer = check_issuer(issuer)
        options = _options(
            cache_ttl=cache_ttl,
            cooldown=cooldown,
            timeout=timeout,
            max_bytes=max_bytes,
            max_stale=max_stale,
            headers=headers,
            clock=clock,
            allow_weak=allow_weak,
        )
        http = cls._client_for(issuer, options, transport)
        try:
            jwks_uri, metadata = _discover(http, issuer, options)
        except BaseException:
            http.close()
            raise
        client = cls.__new__(cls)
        client._setup(jwks_uri, options, issuer, metadata)
        client._http = http
        return client

    # -- KeyProvider -------------------------------------------------------------------------

    def keyset_for(self, header: Mapping[str, Any]) -> KeySet:
        """The keys for a token with this protected header (:class:`~jwtkit.KeyProvider`):
        fetched when the cache is empty or expired, or when the ``kid`` is unknown and the
        cooldown allows; the same object while the keys are unchanged."""
        kid, keys = self._cached(header)
        if keys is not None:
            return keys
        return self._lookup(kid)

    # -- public helpers ----------------------------------------------------------------------

    def get_keyset(self) -> KeySet:
        """The current keys, fetching them when the cache is empty or expired."""
        return self._lookup(None)

    def get_key(self, kid: str) -> Key:
        """The (first) key with this ``kid``; an unknown ``kid`` triggers a fetch when the
        cooldown allows, then :class:`~jwtkit.KeyNotFound`."""
        if not isinstance(kid, str):
            raise UsageError(f"kid: expected a string, got {type(kid).__name__}")
        return self._key(self._lookup(kid), kid)

    def refresh(self) -> KeySet:
        """Fetch now, whatever the cache says (joining a fetch in flight); raise if it fails."""
        return self._strict(self._lookup(None, force=True))

    def close(self) -> None:
        """Close the HTTP connections. Cached keys still answer; fetching is refused."""
        self._closed = True
        self._http.close()

    def __enter__(self) -> JWKSClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- the single flight -------------------------------------------------------------------

    def _lookup(self, kid: str | None, *, force: bool = False) -> KeySet:
        with self._lock:
            before = self._state.last_attempt
            decision = self._decide(kid, may_fetch=True, force=force)
            while decision.step is Step.WAIT:
                generation = self._state.generation
                self._waiters += 1
                try:
                    self._lock.wait()
                finally:
                    self._waiters -= 1
                before = self._state.last_attempt
                decision = self._decide(kid, may_fetch=self._state.generation == generation)
            if decision.step is not Step.FETCH:
                return self._answer(decision)
        self._fetch(before)
        with self._lock:
            return self._answer(self._decide(kid, may_fetch=False))

    def _fetch(self, before: float) -> None:
        outcome: tuple[KeySet, float | None] | JWKSError | None = None
        try:
            self._check_open()
            options = self._options
            document = fetch_json(self._http, self._url, options.fetch, self._clock)
            outcome = self._keys_from(document)
        except JWKSError as exc:
            outcome = exc
        finally:
            with self._lock:
                self._fetch_ended(before, outcome)
                self._lock.notify_all()


# -- the asynchronous client -----------------------------------------------------------------


class AsyncJWKSClient(_Base):
    """:class:`JWKSClient` for asyncio (and trio) applications, with the same options.

    Use it with ``await verifier.adecode(token)``: a fetch never blocks the event loop, and
    concurrent tasks share one fetch. Its synchronous ``keyset_for`` (``verifier.decode``)
    answers from the cache only. Create it where it will be used (an application's lifespan),
    since its HTTP connections belong to one event loop, and close it with ``await aclose()``
    or ``async with``. Discovery: ``await AsyncJWKSClient.from_issuer(issuer)``.
    """

    _http: httpx.AsyncClient
    _done: anyio.Event | None

    def __init__(
        self,
        url: str,
        *,
        cache_ttl: float = 600,
        cooldown: float = 30,
        timeout: float = 5,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_stale: float = 86_400,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        allow_weak: bool = False,
    ) -> None:
        check_url(url, "JWKS URL")
        options = _options(
            cache_ttl=cache_ttl,
            cooldown=cooldown,
            timeout=timeout,
            max_bytes=max_bytes,
            max_stale=max_stale,
            headers=headers,
            clock=clock,
            allow_weak=allow_weak,
        )
        self._setup(url, options, None, None)
        self._http = self._client_for(url, options, transport)
        self._done = None

    @staticmethod
    def _client_for(
        url: str, options: _Options, transport: httpx.AsyncBaseTransport | None
    ) -> httpx.AsyncClient:
        if transport is not None and not isinstance(transport, httpx.AsyncBaseTransport):
            raise UsageError("transport: expected an httpx.AsyncBaseTransport")
        return httpx.AsyncClient(
            transport=transport, **_http_settings(url, options, transport is not None)
        )

    @classmethod
    async def from_issuer(
        cls: type[_Async],
        issuer: str,
        *,
        cache_ttl: float = 600,
        cooldown: float = 30,
        timeout: float = 5,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_stale: float = 86_400,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        allow_weak: bool = False,
    ) -> _Async:
        """:meth:`JWKSClient.from_issuer`, awaited: ``await AsyncJWKSClient.from_issuer(...)``."""
        issuer = check_issuer(issuer)
        options = _options(
            cache_ttl=cache_ttl,
            cooldown=cooldown,
            timeout=timeout,
            max_bytes=max_bytes,
            max_stale=max_stale,
            headers=headers,
            clock=clock,
            allow_weak=allow_weak,
        )
        http = cls._client_for(issuer, options, transport)
        try:
            jwks_uri, metadata = await _adiscover(http, issuer, options)
        except BaseException:
            await http.aclose()
            raise
        client = cls.__new__(cls)
        client._setup(jwks_uri, options, issuer, metadata)
        client._http = http
        client._done = None
        return client

    # -- AsyncKeyProvider and KeyProvider ----------------------------------------------------

    async def keyset_for_async(self, header: Mapping[str, Any]) -> KeySet:
        """The keys for a token with this protected header (:class:`~jwtkit.AsyncKeyProvider`,
        used by ``Verifier.adecode``); fetches like :meth:`JWKSClient.keyset_for`."""
        kid, keys = self._cached(header)
        if keys is not None:
            return keys
        return await self._lookup(kid)

    def keyset_for(self, header: Mapping[str, Any]) -> KeySet:
        """The cached keys for ``header`` (``Verifier.decode``). Never fetches: expired keys
        that know the ``kid`` still answer (within ``max_stale``), but when the cache is empty
        or a new ``kid`` needs a fetch it raises :class:`~jwtkit.UsageError` asking for
        ``await verifier.adecode(token)``."""
        kid, keys = self._cached(header)
        if keys is not None:
            return keys
        state, now = self._state, self._clock()
        decision = decide(state, self._policy, now, kid)
        if decision.step in {Step.FETCH, Step.WAIT}:
            if state.knows(kid) and state.usable(self._policy, now):
                return cast(KeySet, state.keys)  # stale: the next adecode refreshes them
            raise UsageError(
                f"AsyncJWKSClient for {self._host}: the keys for this token must be fetched, "
                "which needs 'await verifier.adecode(token)' (or a JWKSClient for "
                "verifier.decode)"
            )
        return self._answer(decision)

    # -- public helpers ----------------------------------------------------------------------

    async def aget_keyset(self) -> KeySet:
        """The current keys, fetching them when the cache is empty or expired."""
        return await self._lookup(None)

    async def aget_key(self, kid: str) -> Key:
        """The (first) key with this ``kid``; see :meth:`JWKSClient.get_key`."""
        if not isinstance(kid, str):
            raise UsageError(f"kid: expected a string, got {type(kid).__name__}")
        return self._key(await self._lookup(kid), kid)

    async def arefresh(self) -> KeySet:
        """Fetch now (joining a fetch in flight); raise if it fails."""
        return self._strict(await self._lookup(None, force=True))

    async def aclose(self) -> None:
        """Close the HTTP connections. Cached keys still answer; fetching is refused."""
        self._closed = True
        await self._http.aclose()

    async def __aenter__(self) -> AsyncJWKSClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- the single flight -------------------------------------------------------------------

    async def _lookup(self, kid: str | None, *, force: bool = False) -> KeySet:
        may_fetch = True
        while True:
            with self._lock:
                before = self._state.last_attempt
                decision = self._decide(kid, may_fetch=may_fetch, force=force)
                generation = self._state.generation
                if decision.step is Step.FETCH:
                    self._done = anyio.Event()
                done = cast("anyio.Event", self._done)
            force = False
            if decision.step is Step.FETCH:
                await self._fetch(before, done)
                may_fetch = False
            elif decision.step is Step.WAIT:
                self._waiters += 1
                try:
                    await done.wait()
                finally:
                    self._waiters -= 1
                may_fetch = self._state.generation == generation
            else:
                return self._answer(decision)

    async def _fetch(self, before: float, done: anyio.Event) -> None:
        outcome: tuple[KeySet, float | None] | JWKSError | None = None
        try:
            self._check_open()
            options = self._options
            document = await afetch_json(self._http, self._url, options.fetch, self._clock)
            outcome = self._keys_from(document)
        except JWKSError as exc:
            outcome = exc
        finally:
            with self._lock:
                self._fetch_ended(before, outcome)
            done.set()
