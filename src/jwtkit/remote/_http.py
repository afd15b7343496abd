"""The network edge of :mod:`jwtkit.remote`: the URL policy and fetching JSON with httpx.

Rules (security matrix D6, A4):

* a URL is ``https``, or ``http`` to a loopback host (``127.0.0.0/8``, ``::1``,
  ``localhost``) for development and tests; no other scheme (``file:``, ``data:``, ...), no
  user information, no fragment;
* redirects are followed by hand, at most :data:`MAX_REDIRECTS`, each hop checked: same host
  and port only (a missing port is the scheme's default), never from ``https`` to ``http``;
  ``http`` is allowed only when the first URL was loopback ``http``;
* the response must be ``200``; its body is read as a stream and abandoned past ``max_bytes``
  (decompressed bytes; ``identity`` encoding is asked for);
* ``timeout`` bounds the whole fetch: connecting, the response headers, the body, redirects.
  httpx's own timeouts bound each read only, so a server sending one header line at a time
  could hold a fetch for ever; the async fetch is cancelled at the deadline
  (``anyio.fail_after``), the sync one has its connection shut down by a :class:`_Watchdog`;
* every failure is a :class:`~._errors.JWKSError` naming the host and what went wrong, never
  an httpx exception or its traceback.

JSON is parsed strictly (no duplicate names, no NaN, bounded depth: ``jwtkit._codec``). A JWK
Set (RFC 7517 §5) keeps its usable keys; the others are skipped and logged at WARNING on the
``jwtkit.remote`` logger with their reason (security matrix F2). A published set must contain
public keys only: symmetric (``oct``) keys and private keys are skipped too, since whatever is
published is known to everyone. A well-formed set without any usable key is an answer (no key
is trusted), not an error: only a document that is not a JWK Set is :class:`JWKSInvalid`.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, NoReturn
from urllib.parse import SplitResult, urljoin, urlsplit

from .. import __version__
from .._codec import json_loads_object
from .._messages import short
from .._urls import URLRefused, check_web_url, is_loopback_host, netloc
from ..errors import JWTError
from ..jwk import Key, KeySet, SkippedKey
from ._errors import JWKSFetchError, JWKSInvalid, UnsafeURL
from ._extras import anyio, httpx

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_REDIRECTS",
    "Document",
    "FetchOptions",
    "afetch_json",
    "check_url",
    "fetch_json",
    "host_of",
    "is_loopback_http",
    "max_age",
    "parse_jwks",
    "safe_repr",
]

logger = logging.getLogger("jwtkit.remote")

#: The default cap on a response body: JWK Sets are a few kilobytes.
DEFAULT_MAX_BYTES = 512 * 1024
#: Redirects followed at most (each one checked).
MAX_REDIRECTS = 3
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"https": 443, "http": 80}
_USER_AGENT = f"jwtkit/{__version__}"
_MAX_AGE = re.compile(r"max-age\s*=\s*\"?(\d{1,10})\"?\s*\Z", re.IGNORECASE)
Clock = Callable[[], float]


# -- the URL policy --------------------------------------------------------------------------


def check_url(url: object, what: str, *, https_only: bool = False) -> SplitResult:
    """The parts of ``url`` if the URL policy (:mod:`jwtkit._urls`) allows it, else
    :class:`UnsafeURL` naming ``what``: ``https`` always; ``http`` only to a loopback host, and
    never when ``https_only`` (a hop or a link from an ``https`` origin)."""
    try:
        return check_web_url(url, https_only=https_only)
    except URLRefused as exc:
        raise UnsafeURL(f"{what}: {exc}") from None


def is_loopback_http(url: str) -> bool:
    """``True`` for an ``http`` URL to a loopback host (development and tests)."""
    parts = urlsplit(url)
    return parts.scheme.lower() == "http" and is_loopback_host(parts.hostname or "")


def host_of(url: str) -> str:
    """The host (and port) of a URL that passed :func:`check_url`, for messages."""
    parts = urlsplit(url)
    return netloc((parts.hostname or "").lower(), parts.port)


def safe_repr(url: str) -> str:
    """A URL without its query (which could hold an API key), for ``repr`` and logs."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{host_of(url)}{parts.path}"


# -- fetching --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchOptions:
    """What bounds one fetch; ``headers`` are sent with every request."""

    timeout: float
    max_bytes: int
    headers: Mapping[str, str] = field(default_factory=dict)

    def request_headers(self) -> dict[str, str]:
        return {
            "Accept": "application/jwk-set+json, application/json",
            "Accept-Encoding": "identity",
            "User-Agent": _USER_AGENT,
            **self.headers,
        }


@dataclass(frozen=True)
class Document:
    """A fetched JSON object, the ``max-age`` its response allowed and the URL it came from;
    ``headers`` are the response's (names in lower case), ``redirects`` the URLs that
    redirected to ``url``, first one first (what ``jwtkit audit --issuer`` reports)."""

    data: dict[str, Any]
    max_age: float | None
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    redirects: tuple[str, ...] = ()


def max_age(headers: Mapping[str, str]) -> float | None:
    """Seconds the response may be cached: ``0`` for ``no-store``/``no-cache``, the
    ``max-age`` directive (RFC 9111 §5.2.2.1), else ``None``. Malformed directives are ignored.
    """
    found: float | None = None
    for directive in headers.get("cache-control", "").split(","):
        name = directive.strip().lower()
        if name in {"no-store", "no-cache"}:
            return 0.0
        match = _MAX_AGE.match(directive.strip())
        if match is not None and found is None:
            found = float(match.group(1))
    return found


class _Body:
    """A response body collected under a size cap and a deadline."""

    def __init__(self, options: FetchOptions, host: str, what: str) -> None:
        self._options = options
        self._host = host
        self._what = what
        self._chunks: list[bytes] = []
        self._size = 0

    def add(self, chunk: bytes, now: float, deadline: float) -> None:
        self._size += len(chunk)
        if self._size > self._options.max_bytes:
            raise JWKSFetchError(
                f"{self._what} from {self._host}: the response is larger than "
                f"{self._options.max_bytes} bytes (max_bytes)",
                host=self._host,
            )
        self._chunks.append(chunk)
        if now > deadline:
            raise _timed_out(self._options, self._host, self._what)

    def value(self) -> bytes:
        return b"".join(self._chunks)


def _timed_out(options: FetchOptions, host: str, what: str, reason: str = "") -> JWKSFetchError:
    return JWKSFetchError(
        f"{what} from {host}: timed out after {options.timeout:g}s{reason} (timeout)", host=host
    )


def _redirect(current: str, response: httpx.Response, what: str) -> str | None:
    """The next URL when ``response`` is a redirect that the policy allows, ``None`` when it
    is not a redirect. An ``http`` hop can only follow a loopback ``http`` URL (the first URL
    passed :func:`check_url`, and every hop stays on its host), so the rule needs only the
    current URL: from ``https``, ``https`` only."""
    if response.status_code not in _REDIRECT_STATUSES:
        return None
    host = host_of(current)
    location = response.headers.get("location")
    if not location:
        raise JWKSFetchError(
            f"{what} from {host}: HTTP {response.status_code} redirect without a Location",
            host=host,
            status=response.status_code,
        )
    target: str = urljoin(current, location)
    current_parts = urlsplit(current)
    try:
        parts = check_url(target, "redirect", https_only=current_parts.scheme == "https")
    except UnsafeURL as exc:
        raise JWKSFetchError(
            f"{what} from {host}: refused {exc.message}", host=host, status=response.status_code
        ) from None
    if parts.hostname != current_parts.hostname or _port(parts) != _port(current_parts):
        other = "host" if parts.hostname != current_parts.hostname else "port"
        raise JWKSFetchError(
            f"{what} from {host}: refused redirect to another {other} "
            f"({netloc(parts.hostname or '', _port(parts))}); only redirects on the same host "
            "and port are followed",
            host=host,
            status=response.status_code,
        )
    return target


def _port(parts: SplitResult) -> int:
    """The port of a URL that passed :func:`check_url`: its own, or its scheme's default."""
    return parts.port or _DEFAULT_PORTS[parts.scheme.lower()]


def _check_status(response: httpx.Response, host: str, what: str, options: FetchOptions) -> None:
    status = response.status_code
    if status != 200:
        raise JWKSFetchError(f"{what} from {host}: HTTP {status}", host=host, status=status)
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > options.max_bytes:
        raise JWKSFetchError(
            f"{what} from {host}: the response is larger than {options.max_bytes} bytes "
            "(max_bytes)",
            host=host,
            status=status,
        )


def _document(
    body: bytes, response: httpx.Response, url: str, what: str, redirects: list[str]
) -> Document:
    host = host_of(url)
    try:
        data = json_loads_object(body, what)
    except JWTError as exc:
        raise JWKSInvalid(
            f"{what} from {host}: the response is not a JSON object ({exc.message})", host=host
        ) from None
    headers = {name.lower(): value for name, value in response.headers.items()}
    return Document(data, max_age(response.headers), url, headers, tuple(redirects))


def _transport_failure(
    exc: Exception, url: str, what: str, options: FetchOptions
) -> JWKSFetchError:
    host = host_of(url)
    if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        return _timed_out(options, host, what, f" ({type(exc).__name__})")
    if isinstance(exc, httpx.InvalidURL):
        # Our URLs passed check_url: httpx refused a redirect's Location (data:, javascript:)
        # while preparing the next request.
        return JWKSFetchError(
            f"{what} from {host}: refused redirect to a URL that is not http(s) (InvalidURL)",
            host=host,
        )
    return JWKSFetchError(f"{what} from {host}: {type(exc).__name__}", host=host)


def _too_many_redirects(url: str, what: str) -> NoReturn:
    host = host_of(url)
    raise JWKSFetchError(f"{what} from {host}: more than {MAX_REDIRECTS} redirects", host=host)


class _Watchdog:
    """Ends a synchronous fetch at its deadline, whatever the server does.

    httpx bounds connecting and each read by its timeout, never a whole response: a server
    that sends one header line every few tenths of a second keeps every read short and the
    fetch going for minutes (and every thread waiting for the keys with it). A blocked
    ``recv`` can only be ended from another thread, so a timer shuts the connection down at
    the deadline; httpx then fails the read and :func:`fetch_json` reports a timeout.

    The socket comes from httpcore's ``trace`` request extension (its
    ``connection.connect_tcp.complete`` event carries the new network stream). The watchdog
    keeps a duplicate of its descriptor: ``shutdown`` through it ends the TCP connection under
    any TLS layer wrapped around it later, and the duplicate is never reused for anything else
    while the watchdog holds it. Requests ask for ``Connection: close``, so that each one opens
    a connection that the watchdog sees. Transports that are not httpcore's (``MockTransport``,
    a custom one) send no such event; for them the deadline is checked between reads.
    """

    def __init__(self, timeout: float) -> None:
        self.deadline = time.monotonic() + timeout
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(timeout, self._fire)
        self._timer.daemon = True

    def remaining(self) -> float:
        """Seconds left before the deadline (at least a millisecond, for httpx)."""
        return max(self.deadline - time.monotonic(), 0.001)

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        """The httpcore ``trace`` extension: keep each new connection's socket."""
        if event != "connection.connect_tcp.complete":
            return
        stream = info.get("return_value")
        sock = getattr(stream, "get_extra_info", lambda _: None)("socket")
        if not isinstance(sock, socket.socket):
            return
        handle = sock.dup()
        with self._lock:
            self._sockets.append(handle)
            if self.fired:  # connected just as the time ran out
                _shut(handle)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for handle in self._sockets:
                _shut(handle)

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        with self._lock:
            for handle in self._sockets:
                handle.close()
            self._sockets.clear()


def _shut(handle: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the other side: nothing to end
        handle.shutdown(socket.SHUT_RDWR)


def fetch_json(
    http: httpx.Client, url: str, options: FetchOptions, clock: Clock, what: str = "JWKS"
) -> Document:
    """GET ``url`` (a URL that passed :func:`check_url`) with ``http``; the JSON object it
    answers, following allowed redirects. The whole fetch ends after ``options.timeout``
    seconds of real time (:class:`_Watchdog`); ``clock`` is also checked between reads."""
    deadline = clock() + options.timeout
    current = url
    redirects: list[str] = []
    with _Watchdog(options.timeout) as watchdog:
        for _ in range(MAX_REDIRECTS + 1):
            try:
                with http.stream(
                    "GET",
                    current,
                    headers={**options.request_headers(), "Connection": "close"},
                    timeout=watchdog.remaining(),
                    extensions={"trace": watchdog.trace},
                ) as response:
                    target = _redirect(current, response, what)
                    if target is None:
                        _check_status(response, host_of(current), what, options)
                        body = _Body(options, host_of(current), what)
                        for chunk in response.iter_bytes():
                            body.add(chunk, clock(), deadline)
                        if watchdog.fired:  # a body read to the end of the connection
                            raise _timed_out(options, host_of(current), what)
                        return _document(body.value(), response, current, what, redirects)
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                if watchdog.fired:
                    raise _timed_out(options, host_of(current), what) from None
                raise _transport_failure(exc, current, what, options) from None
            if clock() > deadline or watchdog.fired:
                raise _timed_out(options, host_of(current), what)
            redirects.append(current)
            current = target
    _too_many_redirects(url, what)


async def afetch_json(
    http: httpx.AsyncClient, url: str, options: FetchOptions, clock: Clock, what: str = "JWKS"
) -> Document:
    """:func:`fetch_json` for an :class:`httpx.AsyncClient`; the deadline is also enforced by
    cancelling the whole fetch (``anyio.fail_after``)."""
    current = url
    redirects: list[str] = []
    try:
        with anyio.fail_after(options.timeout):
            deadline = clock() + options.timeout
            for _ in range(MAX_REDIRECTS + 1):
                headers = options.request_headers()
                async with http.stream("GET", current, headers=headers) as response:
                    target = _redirect(current, response, what)
                    if target is None:
                        _check_status(response, host_of(current), what, options)
                        body = _Body(options, host_of(current), what)
                        async for chunk in response.aiter_bytes():
                            body.add(chunk, clock(), deadline)
                        return _document(body.value(), response, current, what, redirects)
                if clock() > deadline:
                    raise _timed_out(options, host_of(current), what)
                redirects.append(current)
                current = target
    except (httpx.HTTPError, httpx.InvalidURL, TimeoutError) as exc:
        raise _transport_failure(exc, current, what, options) from None
    _too_many_redirects(url, what)


# -- JWK Sets --------------------------------------------------------------------------------


def _published_problem(key: Key) -> str | None:
    if key.kty == "oct":
        return "a symmetric ('oct') key in a published JWK Set is known to everyone; refused"
    if key.is_private:
        return "the member holds private key material, which a published JWK Set must not"
    return None


def parse_jwks(document: Document, *, allow_weak: bool = False) -> KeySet:
    """The usable public keys of a JWK Set document (RFC 7517 §5).

    Skipped members are logged at WARNING with their reason (security matrix F2) and listed
    in :attr:`KeySet.skipped`. A set without any usable key (empty, or every member skipped)
    is an empty :class:`KeySet`, logged at WARNING: the issuer trusts no key now, and the
    cache must not keep serving the keys it removed (attack finding 8). A document without
    a ``keys`` array is :class:`JWKSInvalid`.
    """
    host = host_of(document.url)
    try:
        parsed = KeySet.from_jwks(document.data, allow_weak=allow_weak)
    except JWTError as exc:
        raise JWKSInvalid(f"JWKS from {host}: {exc.message}", host=host) from None
    skipped = list(parsed.skipped)
    dropped = {entry.index for entry in skipped}
    members = document.data["keys"]
    indexes = [index for index in range(len(members)) if index not in dropped]
    keys: list[Key] = []
    for index, key in zip(indexes, parsed.keys, strict=True):
        problem = _published_problem(key)
        if problem is None:
            keys.append(key)
        else:
            skipped.append(SkippedKey(index, key.kid, problem))
    skipped.sort(key=lambda entry: entry.index)
    for entry in skipped:
        logger.warning(
            "JWKS from %s: key %d (kid %s) skipped: %s",
            host,
            entry.index,
            short(entry.kid),
            entry.reason,
        )
    if not keys:
        logger.warning(
            "JWKS from %s: no usable key (%d in the set, %d skipped); tokens are refused "
            "until the issuer publishes one",
            host,
            len(members),
            len(skipped),
        )
    return KeySet(keys, skipped=skipped)
