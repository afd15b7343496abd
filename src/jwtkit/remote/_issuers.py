"""Tokens from several issuers: :class:`MultiIssuerVerifier` and :class:`TrustedIssuer`.

A gateway that accepts tokens from an allow-list of issuers (tenants, partner providers) keeps
one :class:`~jwtkit.Verifier` per issuer, each over that issuer's own key set (a JWKS client,
from discovery or a given ``jwks_uri``), made at the issuer's first token. The unverified
``iss`` of a token only *chooses* among them; an ``iss`` that is missing, not a string or not
on the list is refused before any network request. The chosen verifier then checks
everything, ``iss`` included, exactly against that issuer (RFC 7519 §4.1.1, security matrix
E3), with that issuer's keys only: a token that names one issuer and is signed with another
issuer's key does not verify (RFC 8725 §3.8, §3.10).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from .._codec import DEFAULT_MAX_TOKEN_SIZE
from .._messages import short
from ..errors import InvalidIssuer, MissingClaim, UsageError
from ..jwa import DEFAULT_REGISTRY, Registry
from ..jwk import KeySet
from ..jwt import DecodedJWT, Verifier, decode_unverified
from ._client import AsyncJWKSClient, JWKSClient, _options, check_issuer
from ._errors import JWKSError
from ._extras import anyio, httpx
from ._http import DEFAULT_MAX_BYTES, check_url

__all__ = ["MultiIssuerVerifier", "TrustedIssuer"]

Clock = Callable[[], float]
Claims = dict[str, Any]
Now = float | datetime | None


@dataclass(frozen=True)
class TrustedIssuer:
    """One issuer a :class:`MultiIssuerVerifier` accepts, with its own options.

    ``audience`` and ``algorithms`` replace the verifier's defaults for this issuer (``None``:
    the defaults); ``jwks_uri`` names its key set directly instead of discovering it from the
    issuer's metadata (OpenID Connect Discovery 1.0 §4, RFC 8414 §3).
    """

    issuer: str
    audience: str | Collection[str] | None = None
    algorithms: Collection[str] | None = None
    jwks_uri: str | None = None


class _Failure:
    """A discovery that failed, remembered for ``cooldown`` seconds so that a stream of
    tokens naming an unreachable issuer does not become a stream of requests."""

    __slots__ = ("error", "until")

    def __init__(self, error: JWKSError, until: float) -> None:
        self.error = error
        self.until = until


class MultiIssuerVerifier:
    """Verify tokens from an allow-list of issuers, each with its own keys and options.

    ::

        verifier = MultiIssuerVerifier(
            ["https://tenant-a.example", TrustedIssuer("https://b.example", audience="b-api")],
            algorithms=["RS256", "ES256"],
            audience="api",
        )
        claims = verifier.decode(token)             # threads: JWKSClient per issuer
        claims = await verifier.adecode(token)      # asyncio/trio: AsyncJWKSClient per issuer

    The claim options (``audience``, ``subject``, ``leeway``, ``require``, ``max_age``,
    ``typ``, ``options``) are those of :class:`~jwtkit.Verifier`; the key-set options
    (``cache_ttl``, ``cooldown``, ``timeout``, ``max_bytes``, ``max_stale``, ``headers``,
    ``transport``) those of :class:`JWKSClient`. ``decode`` and ``adecode`` keep their own
    clients (a sync and an async HTTP client cannot be shared): use one of the two.
    """

    def __init__(
        self,
        issuers: Iterable[str | TrustedIssuer] | str | TrustedIssuer,
        *,
        algorithms: Collection[str] | None = None,
        audience: str | Collection[str] | None = None,
        subject: str | None = None,
        leeway: float | timedelta = 0,
        require: Iterable[str] = (),
        max_age: float | timedelta | None = None,
        typ: str | None = None,
        options: Mapping[str, Any] | None = None,
        registry: Registry = DEFAULT_REGISTRY,
        max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
        clock: Clock | None = None,
        cache_ttl: float = 600,
        cooldown: float = 30,
        timeout: float = 5,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_stale: float = 86_400,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if isinstance(issuers, (str, TrustedIssuer)):
            issuers = [issuers]
        trusted: dict[str, TrustedIssuer] = {}
        for entry in issuers:
            item = TrustedIssuer(entry) if isinstance(entry, str) else entry
            if not isinstance(item, TrustedIssuer) or not isinstance(item.issuer, str):
                raise UsageError("issuers: expected issuer identifiers or TrustedIssuer values")
            if item.jwks_uri is None:
                check_issuer(item.issuer)
            else:
                check_url(item.jwks_uri, "jwks_uri")
            if item.issuer in trusted:
                raise UsageError(f"issuers: {short(item.issuer)} is listed twice")
            trusted[item.issuer] = item
        if not trusted:
            raise UsageError("issuers is empty: no token could ever verify")
        self._claims: dict[str, Any] = {
            "subject": subject,
            "leeway": leeway,
            "require": tuple(require),
            "max_age": max_age,
            "typ": typ,
            "options": options,
            "registry": registry,
            "max_token_size": max_token_size,
            "clock": clock,
        }
        self._defaults = (algorithms, audience)
        self._jwks: dict[str, Any] = {
            "cache_ttl": cache_ttl,
            "cooldown": cooldown,
            "timeout": timeout,
            "max_bytes": max_bytes,
            "max_stale": max_stale,
            "headers": headers,
            "transport": transport,
            "clock": clock,
        }
        options = {name: value for name, value in self._jwks.items() if name != "transport"}
        _options(**options, allow_weak=False)  # the key-set options are checked now too
        for item in trusted.values():
            # Every option is checked now (with no keys), not at the issuer's first token.
            self._verifier_for(item, KeySet(()))
        self._trusted = trusted
        self._max_size = max_token_size
        self._cooldown = cooldown
        self._clock: Clock = time.time if clock is None else clock
        self._lock = threading.Lock()
        self._sync_locks = {name: threading.Lock() for name in trusted}
        self._async_locks = {name: anyio.Lock() for name in trusted}
        self._sync: dict[str, tuple[JWKSClient, Verifier]] = {}
        self._async: dict[str, tuple[AsyncJWKSClient, Verifier]] = {}
        self._failures: dict[tuple[str, bool], _Failure] = {}

    @property
    def issuers(self) -> tuple[str, ...]:
        """The accepted issuer identifiers."""
        return tuple(self._trusted)

    def _verifier_for(
        self, item: TrustedIssuer, keys: JWKSClient | AsyncJWKSClient | KeySet
    ) -> Verifier:
        algorithms = item.algorithms if item.algorithms is not None else self._defaults[0]
        if algorithms is None:
            raise UsageError(
                f"algorithms: none given for issuer {short(item.issuer)}; pass algorithms=[...] "
                "or TrustedIssuer(..., algorithms=[...]) (RFC 8725 §3.1)"
            )
        audience = item.audience if item.audience is not None else self._defaults[1]
        return Verifier(
            keys, algorithms=algorithms, audience=audience, issuer=item.issuer, **self._claims
        )

    # -- choosing ------------------------------------------------------------------------------

    def _issuer_of(self, token: str | bytes) -> TrustedIssuer:
        """The trusted issuer a token names, read WITHOUT verification only to choose its
        keys; anything else is refused here, before any request."""
        iss = decode_unverified(token, max_token_size=self._max_size).claims.get("iss", _MISSING)
        if iss is _MISSING:
            raise MissingClaim("iss")
        item = self._trusted.get(iss) if type(iss) is str else None
        if item is None:
            raise InvalidIssuer(
                "iss",
                "unexpected issuer",
                f"issuer {short(iss)} is not accepted; expected one of {sorted(self._trusted)} "
                "(exact match)",
            )
        return item

    def _failed_recently(self, name: str, asynchronous: bool) -> None:
        failure = self._failures.get((name, asynchronous))
        if failure is not None and self._clock() < failure.until:
            raise failure.error.again()

    def _remember_failure(self, name: str, asynchronous: bool, error: JWKSError) -> None:
        with self._lock:
            self._failures[(name, asynchronous)] = _Failure(error, self._clock() + self._cooldown)

    # -- synchronous ---------------------------------------------------------------------------

    def _sync_verifier(self, item: TrustedIssuer) -> Verifier:
        found = self._sync.get(item.issuer)
        if found is not None:
            return found[1]
        with self._sync_locks[item.issuer]:
            found = self._sync.get(item.issuer)
            if found is not None:
                return found[1]
            self._failed_recently(item.issuer, False)
            try:
                client = (
                    JWKSClient(item.jwks_uri, **self._jwks)
                    if item.jwks_uri is not None
                    else JWKSClient.from_issuer(item.issuer, **self._jwks)
                )
            except JWKSError as exc:
                self._remember_failure(item.issuer, False, exc)
                raise
            verifier = self._verifier_for(item, client)
            with self._lock:
                self._sync[item.issuer] = (client, verifier)
            return verifier

    def decode(self, token: str | bytes, *, now: Now = None) -> Claims:
        """Verify ``token`` with the keys of the issuer it names; return the claims."""
        return self._sync_verifier(self._issuer_of(token)).decode(token, now=now)

    def decode_complete(self, token: str | bytes, *, now: Now = None) -> DecodedJWT:
        """:meth:`decode`, returning the header and the key used too."""
        return self._sync_verifier(self._issuer_of(token)).decode_complete(token, now=now)

    def close(self) -> None:
        """Close the synchronous clients' HTTP connections."""
        with self._lock:
            clients = [client for client, _ in self._sync.values()]
        for client in clients:
            client.close()

    def __enter__(self) -> MultiIssuerVerifier:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- asynchronous --------------------------------------------------------------------------

    async def _async_verifier(self, item: TrustedIssuer) -> Verifier:
        found = self._async.get(item.issuer)
        if found is not None:
            return found[1]
        async with self._async_locks[item.issuer]:
            found = self._async.get(item.issuer)
            if found is not None:
                return found[1]
            self._failed_recently(item.issuer, True)
            try:
                client = (
                    AsyncJWKSClient(item.jwks_uri, **self._jwks)
                    if item.jwks_uri is not None
                    else await AsyncJWKSClient.from_issuer(item.issuer, **self._jwks)
                )
            except JWKSError as exc:
                self._remember_failure(item.issuer, True, exc)
                raise
            verifier = self._verifier_for(item, client)
            with self._lock:
                self._async[item.issuer] = (client, verifier)
            return verifier

    async def adecode(self, token: str | bytes, *, now: Now = None) -> Claims:
        """:meth:`decode` for asyncio/trio: the issuer's key set is an AsyncJWKSClient."""
        verifier = await self._async_verifier(self._issuer_of(token))
        return await verifier.adecode(token, now=now)

    async def adecode_complete(self, token: str | bytes, *, now: Now = None) -> DecodedJWT:
        """:meth:`decode_complete` for asyncio/trio."""
        verifier = await self._async_verifier(self._issuer_of(token))
        return await verifier.adecode_complete(token, now=now)

    async def aclose(self) -> None:
        """Close the asynchronous clients' HTTP connections."""
        with self._lock:
            clients = [client for client, _ in self._async.values()]
        for client in clients:
            await client.aclose()

    async def __aenter__(self) -> MultiIssuerVerifier:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


_MISSING: Any = object()
