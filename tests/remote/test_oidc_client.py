"""OIDCClient and AsyncOIDCClient over httpx's MockTransport: discovery, the algorithms taken
from the metadata, ID tokens checked, and the misuses refused. The real token service as the
provider: ``tests/server/test_relying_party.py``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import jwtkit
from jwtkit import errors
from jwtkit.remote import AsyncJWKSClient, AsyncOIDCClient, DiscoveryError, JWKSClient, OIDCClient
from jwtkit.remote._oidc import id_token_algorithms
from jwtkit.testing import FrozenClock

ISSUER = "https://id.example"
T0 = 1_700_000_000
SECRET = "a client secret that is long enough for HS256, by some margin"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def rsa() -> jwtkit.Key:
    return jwtkit.Key.generate("RS256", kid="r1")


@pytest.fixture(scope="module")
def es() -> jwtkit.Key:
    return jwtkit.Key.generate("ES256", kid="e1")


class Provider:
    """Discovery and a JWK Set on MockTransport; ``requests`` lists the paths asked for."""

    def __init__(self, *keys: jwtkit.Key, **metadata: Any) -> None:
        self.keys = keys
        self.metadata: dict[str, Any] = {
            "issuer": ISSUER,
            "jwks_uri": f"{ISSUER}/jwks",
            "authorization_endpoint": f"{ISSUER}/authorize",
            "id_token_signing_alg_values_supported": ["RS256", "ES256", "HS256", "none", "X1"],
            **metadata,
        }
        self.requests: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url.path)
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(200, json=self.metadata)
        if request.url.path == "/jwks":
            return httpx.Response(200, json={"keys": [k.public_key().to_jwk() for k in self.keys]})
        return httpx.Response(404)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)


def _id_token(key: jwtkit.Key | bytes, alg: str, **changes: Any) -> str:
    claims = {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": "web",
        "exp": T0 + 300,
        "iat": T0,
        "nonce": "n-1",
        **changes,
    }
    return jwtkit.encode(claims, key, algorithm=alg)


def test_the_algorithms_come_from_the_metadata_without_none_or_hs() -> None:
    metadata = Provider().metadata
    assert id_token_algorithms(metadata, client_secret=False) == {"RS256", "ES256"}
    assert id_token_algorithms(metadata, client_secret=True) == {"RS256", "ES256", "HS256"}
    assert id_token_algorithms({}, client_secret=True) == {"RS256"}
    odd = {"id_token_signing_alg_values_supported": "ES256"}
    assert id_token_algorithms(odd, client_secret=False) == {"RS256"}


def test_from_issuer_discovers_and_validates_id_tokens(rsa: jwtkit.Key, es: jwtkit.Key) -> None:
    provider = Provider(rsa, es)
    clock = FrozenClock(T0)
    with OIDCClient.from_issuer(ISSUER, "web", transport=provider.transport(), clock=clock) as rp:
        assert (rp.issuer, rp.client_id) == (ISSUER, "web")
        assert rp.algorithms == {"RS256", "ES256"}
        assert rp.metadata["authorization_endpoint"] == f"{ISSUER}/authorize"
        assert rp.jwks.url == f"{ISSUER}/jwks"
        assert rp.verifier.client_id == "web"
        assert repr(rp) == "OIDCClient('https://id.example', 'web')"
        for key, alg in ((rsa, "RS256"), (es, "ES256")):
            assert rp.validate_id_token(_id_token(key, alg), nonce="n-1")["sub"] == "user-1"
        with pytest.raises(errors.InvalidNonce):
            rp.validate_id_token(_id_token(rsa, "RS256"), nonce="n-2")
        with pytest.raises(jwtkit.AlgorithmNotAllowed):
            rp.validate_id_token(_id_token(SECRET.encode(), "HS256"))
        with pytest.raises(jwtkit.ExpiredToken):
            rp.validate_id_token(_id_token(rsa, "RS256"), now=T0 + 300)
    assert provider.requests == ["/.well-known/openid-configuration", "/jwks"]


def test_hs256_id_tokens_need_the_client_secret(rsa: jwtkit.Key) -> None:
    provider = Provider(rsa)
    rp = OIDCClient.from_issuer(
        ISSUER, "web", client_secret=SECRET, transport=provider.transport(), clock=FrozenClock(T0)
    )
    assert rp.validate_id_token(_id_token(SECRET.encode(), "HS256"))["sub"] == "user-1"
    assert rp.validate_id_token(_id_token(rsa, "RS256"))["sub"] == "user-1"
    rp.close()


def test_explicit_algorithms_replace_the_metadatas(rsa: jwtkit.Key, es: jwtkit.Key) -> None:
    provider = Provider(rsa, es)
    rp = OIDCClient.from_issuer(
        ISSUER, "web", algorithms=["ES256"], transport=provider.transport(), clock=FrozenClock(T0)
    )
    assert rp.algorithms == {"ES256"}
    with pytest.raises(jwtkit.AlgorithmNotAllowed):
        rp.validate_id_token(_id_token(rsa, "RS256"))
    rp.close()


def test_bad_options_close_the_discovered_client(rsa: jwtkit.Key) -> None:
    provider = Provider(rsa)
    with pytest.raises(jwtkit.UsageError, match="need the client secret"):
        OIDCClient.from_issuer(ISSUER, "web", algorithms=["HS256"], transport=provider.transport())


def test_the_key_set_must_come_from_discovery(rsa: jwtkit.Key) -> None:
    plain = JWKSClient(f"{ISSUER}/jwks", transport=Provider(rsa).transport())
    with pytest.raises(jwtkit.UsageError, match="must come from discovery"):
        OIDCClient(plain, "web")
    with pytest.raises(
        jwtkit.UsageError,
        match=r"OIDCClient takes JWKSClient.from_issuer\(...\), got AsyncJWKSClient",
    ):
        OIDCClient(AsyncJWKSClient(f"{ISSUER}/jwks"), "web")  # type: ignore[arg-type]
    with pytest.raises(
        jwtkit.UsageError,
        match=r"AsyncOIDCClient takes AsyncJWKSClient.from_issuer\(...\), got JWKSClient",
    ):
        AsyncOIDCClient(plain, "web")  # type: ignore[arg-type]
    plain.close()


def test_a_provider_whose_metadata_names_another_issuer_is_refused(rsa: jwtkit.Key) -> None:
    provider = Provider(rsa, issuer="https://elsewhere.example")
    with pytest.raises(DiscoveryError):
        OIDCClient.from_issuer(ISSUER, "web", transport=provider.transport())


@pytest.mark.anyio
async def test_the_async_client_discovers_and_validates(rsa: jwtkit.Key) -> None:
    provider = Provider(rsa)
    clock = FrozenClock(T0)
    async with await AsyncOIDCClient.from_issuer(
        ISSUER, "web", transport=provider.transport(), clock=clock
    ) as rp:
        assert isinstance(rp.jwks, AsyncJWKSClient)
        assert rp.metadata["issuer"] == ISSUER
        token = _id_token(rsa, "RS256")
        assert (await rp.avalidate_id_token(token, nonce="n-1"))["sub"] == "user-1"
        with pytest.raises(jwtkit.InvalidAudience):
            await rp.avalidate_id_token(_id_token(rsa, "RS256", aud="other"))
    with pytest.raises(jwtkit.UsageError, match="need the client secret"):
        await AsyncOIDCClient.from_issuer(
            ISSUER, "web", algorithms=["HS256"], transport=provider.transport()
        )


def _encrypted(key: jwtkit.Key, recipient: jwtkit.Key) -> str:
    claims = {"iss": ISSUER, "sub": "user-1", "aud": "web", "exp": T0 + 300, "iat": T0}
    return jwtkit.encode(claims, key, "RS256", encrypt_with=recipient.public_key())


@pytest.mark.anyio
async def test_both_clients_decrypt_encrypted_id_tokens_with_the_clients_key(
    rsa: jwtkit.Key,
) -> None:
    provider = Provider(rsa)
    client_key = jwtkit.Key.generate("ECDH-ES+A256KW")
    decryption: dict[str, Any] = {
        "decryption_key": client_key,
        "decryption_algorithms": ["ECDH-ES+A256KW"],
        "content_encryptions": ["A256GCM"],
    }
    token = _encrypted(rsa, client_key)
    with OIDCClient.from_issuer(
        ISSUER, "web", transport=provider.transport(), clock=FrozenClock(T0), **decryption
    ) as rp:
        assert rp.validate_id_token(token)["sub"] == "user-1"
        with pytest.raises(jwtkit.MalformedToken, match="encrypted JWT was expected"):
            rp.validate_id_token(_id_token(rsa, "RS256"))
    async with await AsyncOIDCClient.from_issuer(
        ISSUER, "web", transport=provider.transport(), clock=FrozenClock(T0), **decryption
    ) as arp:
        assert (await arp.avalidate_id_token(token))["sub"] == "user-1"
        with pytest.raises(jwtkit.DecryptionError):
            await arp.avalidate_id_token(_encrypted(rsa, jwtkit.Key.generate("ECDH-ES+A256KW")))
