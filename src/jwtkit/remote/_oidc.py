"""A small OpenID Connect relying party: :class:`OIDCClient` and :class:`AsyncOIDCClient`.

Discovery (OpenID Connect Discovery 1.0 §4, through the JWKS clients' ``from_issuer``) gives
the provider's metadata and its key set; ID tokens are then checked by the core's
:class:`~jwtkit.oidc.IDTokenVerifier` (OpenID Connect Core 1.0 §3.1.3.7) over that key set.
The algorithms default to ``RS256`` (Core §3.1.3.7 step 7) and the asymmetric ones the
metadata's ``id_token_signing_alg_values_supported`` advertises (Discovery §3) and this
library knows; ``HS*`` only with the client secret, ``none`` never.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, ClassVar, Generic, TypeVar

from ..errors import UsageError
from ..jwa import DEFAULT_REGISTRY, Registry
from ..jwk import Key, KeySet
from ..oidc import DEFAULT_ID_TOKEN_ALGORITHMS, IDTokenVerifier
from ._client import AsyncJWKSClient, JWKSClient
from ._extras import httpx
from ._http import DEFAULT_MAX_BYTES

__all__ = ["AsyncOIDCClient", "OIDCClient", "id_token_algorithms"]

Clock = Callable[[], float]
#: The client's own keys that decrypt encrypted ID tokens (its private key, a key set, ...).
DecryptionKey = Key | KeySet | Sequence[Key] | bytes | str
Claims = dict[str, Any]
Now = float | datetime | None
_J = TypeVar("_J", JWKSClient, AsyncJWKSClient)


def id_token_algorithms(
    metadata: Mapping[str, Any], *, client_secret: bool, registry: Registry = DEFAULT_REGISTRY
) -> frozenset[str]:
    """The ID-token algorithms to accept from a provider: ``RS256`` and what its metadata's
    ``id_token_signing_alg_values_supported`` lists, keeping the names ``registry`` knows,
    never ``none``, and ``HS*`` only when the client has a secret (Core §3.1.3.7 steps 7-8)."""
    names = set(DEFAULT_ID_TOKEN_ALGORITHMS)
    advertised = metadata.get("id_token_signing_alg_values_supported")
    if isinstance(advertised, list):
        for name in advertised:
            algorithm = registry.signature(name)
            if algorithm is None or algorithm.unsecured:
                continue
            if algorithm.symmetric and not client_secret:
                continue
            names.add(algorithm.name)
    return frozenset(names)


class _RelyingParty(Generic[_J]):
    """What both clients share: the provider's metadata, its key set and the ID-token
    verifier over them."""

    #: The JWKS client class this relying party works with.
    _jwks_class: ClassVar[type[JWKSClient] | type[AsyncJWKSClient]]
    _jwks: _J
    _verifier: IDTokenVerifier
    _issuer: str
    _metadata: Mapping[str, Any]
    _algorithms: frozenset[str]

    def __init__(
        self,
        jwks: _J,
        client_id: str,
        *,
        client_secret: str | None = None,
        algorithms: Iterable[str] | None = None,
        leeway: float | timedelta = 0,
        max_token_age: float | timedelta | None = None,
        acr_values: Collection[str] | None = None,
        require: Iterable[str] = (),
        registry: Registry = DEFAULT_REGISTRY,
        clock: Clock | None = None,
        decryption_key: DecryptionKey | None = None,
        decryption_algorithms: Iterable[str] | None = None,
        content_encryptions: Iterable[str] | None = None,
    ) -> None:
        if not isinstance(jwks, self._jwks_class):
            raise UsageError(
                f"jwks: {type(self).__name__} takes {self._jwks_class.__name__}.from_issuer"
                f"(...), got {type(jwks).__name__}"
            )
        issuer, metadata = jwks.issuer, jwks.metadata
        if issuer is None or metadata is None:
            raise UsageError(
                f"{type(self).__name__}: the JWKS client must come from discovery "
                "(JWKSClient.from_issuer), so that the issuer and its metadata are known"
            )
        if algorithms is None:
            algorithms = id_token_algorithms(
                metadata, client_secret=client_secret is not None, registry=registry
            )
        self._verifier = IDTokenVerifier(
            jwks,
            issuer=issuer,
            client_id=client_id,
            algorithms=algorithms,
            client_secret=client_secret,
            leeway=leeway,
            max_token_age=max_token_age,
            acr_values=acr_values,
            require=require,
            registry=registry,
            clock=clock,
            decryption_key=decryption_key,
            decryption_algorithms=decryption_algorithms,
            content_encryptions=content_encryptions,
        )
        self._jwks = jwks
        self._issuer = issuer
        self._metadata = metadata
        self._algorithms = frozenset(algorithms)

    @property
    def jwks(self) -> _J:
        """The provider's key set."""
        return self._jwks

    @property
    def issuer(self) -> str:
        """The provider's issuer identifier (the ``iss`` of its ID tokens)."""
        return self._issuer

    @property
    def client_id(self) -> str:
        """This client's identifier (the ``aud`` of its ID tokens)."""
        return self._verifier.client_id

    @property
    def metadata(self) -> Mapping[str, Any]:
        """The provider's discovered metadata (read-only): ``authorization_endpoint``,
        ``token_endpoint``, ``userinfo_endpoint``, ``end_session_endpoint``, ..."""
        return self._metadata

    @property
    def algorithms(self) -> frozenset[str]:
        """The algorithms accepted for ID tokens."""
        return self._algorithms

    @property
    def verifier(self) -> IDTokenVerifier:
        """The ID-token verifier over the provider's key set."""
        return self._verifier

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._issuer!r}, {self.client_id!r})"


class OIDCClient(_RelyingParty[JWKSClient]):
    """A relying party of one OpenID provider, for threads (synchronous code).

    ::

        client = OIDCClient.from_issuer("https://id.example", "web")
        client.metadata["authorization_endpoint"]
        claims = client.validate_id_token(id_token, nonce=nonce, access_token=access_token)

    ``jwks`` is a :class:`JWKSClient` made by ``JWKSClient.from_issuer``; the options are those
    of :class:`~jwtkit.oidc.IDTokenVerifier`.
    """

    _jwks_class = JWKSClient

    @classmethod
    def from_issuer(
        cls,
        issuer: str,
        client_id: str,
        *,
        client_secret: str | None = None,
        algorithms: Iterable[str] | None = None,
        leeway: float | timedelta = 0,
        max_token_age: float | timedelta | None = None,
        acr_values: Collection[str] | None = None,
        require: Iterable[str] = (),
        registry: Registry = DEFAULT_REGISTRY,
        clock: Clock | None = None,
        decryption_key: DecryptionKey | None = None,
        decryption_algorithms: Iterable[str] | None = None,
        content_encryptions: Iterable[str] | None = None,
        cache_ttl: float = 600,
        cooldown: float = 30,
        timeout: float = 5,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_stale: float = 86_400,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> OIDCClient:
        """Discover ``issuer`` (:meth:`JWKSClient.from_issuer`: its metadata's ``issuer``
        must equal it) and build the client; ``clock`` serves the key cache and the token
        times alike."""
        jwks = JWKSClient.from_issuer(
            issuer,
            cache_ttl=cache_ttl,
            cooldown=cooldown,
            timeout=timeout,
            max_bytes=max_bytes,
            max_stale=max_stale,
            headers=headers,
            transport=transport,
            clock=clock,
        )
        try:
            return cls(
                jwks,
                client_id,
                client_secret=client_secret,
                algorithms=algorithms,
                leeway=leeway,
                max_token_age=max_token_age,
                acr_values=acr_values,
                require=require,
                registry=registry,
                clock=clock,
                decryption_key=decryption_key,
                decryption_algorithms=decryption_algorithms,
                content_encryptions=content_encryptions,
            )
        except BaseException:
            jwks.close()
            raise

    def validate_id_token(
        self,
        token: str | bytes,
        *,
        nonce: str | None = None,
        max_age: float | timedelta | None = None,
        access_token: str | None = None,
        code: str | None = None,
        now: Now = None,
    ) -> Claims:
        """Verify an ID token of this provider for this client and return its claims
        (:meth:`IDTokenVerifier.decode <jwtkit.oidc.IDTokenVerifier.decode>`)."""
        return self._verifier.decode(
            token, nonce=nonce, max_age=max_age, access_token=access_token, code=code, now=now
        )

    def close(self) -> None:
        """Close the key set's HTTP connections."""
        self._jwks.close()

    def __enter__(self) -> OIDCClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncOIDCClient(_RelyingParty[AsyncJWKSClient]):
    """:class:`OIDCClient` for asyncio (and trio): ``await AsyncOIDCClient.from_issuer(...)``,
    ``await client.avalidate_id_token(...)``, ``await client.aclose()``."""

    _jwks_class = AsyncJWKSClient

    @classmethod
    async def from_issuer(
        cls,
        issuer: str,
        client_id: str,
        *,
        client_secret: str | None = None,
        algorithms: Iterable[str] | None = None,
        leeway: float | timedelta = 0,
        max_token_age: float | timedelta | None = None,
        acr_values: Collection[str] | None = None,
        require: Iterable[str] = (),
        registry: Registry = DEFAULT_REGISTRY,
        clock: Clock | None = None,
        decryption_key: DecryptionKey | None = None,
        decryption_algorithms: Iterable[str] | None = None,
        content_encryptions: Iterable[str] | None = None,
        cache_ttl: float = 600,
        cooldown: float = 30,
        timeout: float = 5,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_stale: float = 86_400,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> AsyncOIDCClient:
        """:meth:`OIDCClient.from_issuer`, awaited."""
        jwks = await AsyncJWKSClient.from_issuer(
            issuer,
            cache_ttl=cache_ttl,
            cooldown=cooldown,
            timeout=timeout,
            max_bytes=max_bytes,
            max_stale=max_stale,
            headers=headers,
            transport=transport,
            clock=clock,
        )
        try:
            return cls(
                jwks,
                client_id,
                client_secret=client_secret,
                algorithms=algorithms,
                leeway=leeway,
                max_token_age=max_token_age,
                acr_values=acr_values,
                require=require,
                registry=registry,
                clock=clock,
                decryption_key=decryption_key,
                decryption_algorithms=decryption_algorithms,
                content_encryptions=content_encryptions,
            )
        except BaseException:
            await jwks.aclose()
            raise

    async def avalidate_id_token(
        self,
        token: str | bytes,
        *,
        nonce: str | None = None,
        max_age: float | timedelta | None = None,
        access_token: str | None = None,
        code: str | None = None,
        now: Now = None,
    ) -> Claims:
        """:meth:`OIDCClient.validate_id_token`, awaiting the key set."""
        return await self._verifier.adecode(
            token, nonce=nonce, max_age=max_age, access_token=access_token, code=code, now=now
        )

    async def aclose(self) -> None:
        """Close the key set's HTTP connections."""
        await self._jwks.aclose()

    async def __aenter__(self) -> AsyncOIDCClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
