"""``PyJWKClient`` against a real JWKS server on a loopback port, beside PyJWT's own client
against the same server: the same keys are found, the same tokens verify, failures are
caught by the same names. Fetching is jwtkit.remote's (URL policy, caps, cache)."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

import jwt as pyjwt
import pytest

import jwtkit
import jwtkit.pyjwt
from jwtkit import UsageError

LIBRARIES = {"PyJWT": pyjwt, "jwtkit.pyjwt": jwtkit.pyjwt}


class JWKSServer:
    """Serves ``body`` with ``status`` at ``/jwks`` on 127.0.0.1 and records each request's
    path and headers."""

    def __init__(self) -> None:
        self.body = b'{"keys": []}'
        self.status = 200
        self.requests: list[dict[str, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                headers = {name.lower(): value for name, value in self.headers.items()}
                owner.requests.append({**headers, "path": self.path})
                status, body = (owner.status, owner.body) if self.path == "/jwks" else (404, b"")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def publish(self, *keys: jwtkit.Key, extra: list[dict[str, Any]] | None = None) -> None:
        members = [key.public_key().to_jwk() for key in keys] + (extra or [])
        self.body = json.dumps({"keys": members}).encode()

    @property
    def fetches(self) -> int:
        return sum(1 for request in self.requests if request["path"] == "/jwks")

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def server() -> Iterator[JWKSServer]:
    running = JWKSServer()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(params=sorted(LIBRARIES))
def jwt(request: pytest.FixtureRequest) -> ModuleType:
    module: ModuleType = LIBRARIES[request.param]
    return module


def encryption_jwk() -> dict[str, Any]:
    """An RSA public key published for encryption (``use: enc``), without ``alg``."""
    return {**jwtkit.RSAKey.generate("RSA").public_key().to_jwk(), "kid": "enc-1", "use": "enc"}


@pytest.fixture
def keys() -> tuple[jwtkit.Key, jwtkit.Key]:
    return jwtkit.Key.generate("RS256", kid="rsa-1"), jwtkit.Key.generate("ES256", kid="ec-1")


def test_the_documented_flow(jwt: ModuleType, server: JWKSServer, keys: Any) -> None:
    rsa_key, ec_key = keys
    server.publish(rsa_key, ec_key)
    claims = {"iss": "https://id.example", "aud": "https://expenses-api", "sub": "42"}
    token = jwtkit.encode(claims, rsa_key, "RS256")
    jwks_client = jwt.PyJWKClient(server.url, headers={"User-agent": "custom-user-agent"})
    signing_key = jwks_client.get_signing_key_from_jwt(token)
    assert (signing_key.key_id, signing_key.algorithm_name) == ("rsa-1", "RS256")
    decoded = jwt.decode(token, signing_key, audience="https://expenses-api",
                         options={"verify_exp": False}, algorithms=["RS256"])  # fmt: skip
    assert decoded == claims
    assert jwt.decode(token, signing_key.key, audience="https://expenses-api",
                      algorithms=["RS256"]) == claims  # fmt: skip
    assert server.requests[0]["user-agent"] == "custom-user-agent"
    es_token = jwtkit.encode(claims, ec_key, "ES256")
    es_key = jwks_client.get_signing_key_from_jwt(es_token)
    assert jwt.decode(es_token, es_key, audience="https://expenses-api") == claims
    assert server.fetches == 1  # the set is cached


def test_keys_and_sets(jwt: ModuleType, server: JWKSServer, keys: Any) -> None:
    rsa_key, ec_key = keys
    no_kid = jwtkit.Key.generate("ES256")
    server.publish(rsa_key, ec_key, no_kid, extra=[encryption_jwk()])
    jwks_client = jwt.PyJWKClient(server.url)
    assert [key.key_id for key in jwks_client.get_jwk_set().keys] == [
        "rsa-1", "ec-1", None, "enc-1"
    ]  # fmt: skip
    assert [key.key_id for key in jwks_client.get_signing_keys()] == ["rsa-1", "ec-1"]
    assert jwks_client.get_signing_key("ec-1").key_type == "EC"
    with pytest.raises(jwt.PyJWKClientError, match="enc-1"):
        jwks_client.get_signing_key("enc-1")  # not a signing key
    assert server.fetches == 1
    jwks_client.get_jwk_set(refresh=True)
    assert server.fetches == 2
    data = jwks_client.fetch_data()
    assert [member["kid"] for member in data["keys"] if "kid" in member][:2] == ["rsa-1", "ec-1"]


def test_an_unknown_kid_refetches_once(jwt: ModuleType, server: JWKSServer, keys: Any) -> None:
    rsa_key, ec_key = keys
    server.publish(rsa_key)
    jwks_client = jwt.PyJWKClient(server.url, cooldown_duration=0)
    assert jwks_client.get_signing_key("rsa-1").key_id == "rsa-1"
    server.publish(rsa_key, ec_key)  # a new key appears
    assert jwks_client.get_signing_key("ec-1").key_id == "ec-1"
    assert server.fetches == 2
    with pytest.raises(jwt.PyJWKClientError, match="Unable to find a signing key"):
        jwks_client.get_signing_key("missing")
    assert server.fetches == 3


def test_without_the_set_cache_each_call_fetches(
    jwt: ModuleType, server: JWKSServer, keys: Any
) -> None:
    server.publish(*keys)
    jwks_client = jwt.PyJWKClient(server.url, cache_jwk_set=False, cache_keys=True,
                                  max_cached_keys=4, lifespan=60, timeout=5)  # fmt: skip
    jwks_client.get_jwk_set()
    jwks_client.get_jwk_set()
    assert server.fetches == 2


def test_fetch_failures_are_connection_errors(jwt: ModuleType, server: JWKSServer) -> None:
    server.status = 500
    jwks_client = jwt.PyJWKClient(server.url)
    with pytest.raises(jwt.PyJWKClientConnectionError):
        jwks_client.get_jwk_set()
    closed = JWKSServer()
    closed.stop()
    with pytest.raises(jwt.PyJWKClientConnectionError):
        jwt.PyJWKClient(closed.url, timeout=2).get_signing_keys()


def test_a_response_that_is_not_a_jwk_set_is_a_client_error(
    jwt: ModuleType, server: JWKSServer
) -> None:
    server.body = b"[1, 2, 3]"
    with pytest.raises(jwt.PyJWKClientError) as caught:
        jwt.PyJWKClient(server.url).get_jwk_set()
    assert not isinstance(caught.value, jwt.PyJWKClientConnectionError)


@pytest.mark.parametrize("body", [b'{"keys": []}', b'{"keys": [{"kty": "XYZ"}]}'])
def test_a_set_without_usable_keys_is_an_error(jwt: ModuleType, server: JWKSServer,
                                               body: bytes) -> None:  # fmt: skip
    server.body = body
    jwks_client = jwt.PyJWKClient(server.url)
    with pytest.raises((jwt.PyJWKClientError, jwt.PyJWKSetError)):
        jwks_client.get_signing_keys()


def test_a_set_without_signing_keys_is_a_client_error(jwt: ModuleType, server: JWKSServer) -> None:
    server.publish(extra=[encryption_jwk()])
    with pytest.raises(jwt.PyJWKClientError, match="signing keys"):
        jwt.PyJWKClient(server.url).get_signing_keys()


def test_a_token_without_kid(jwt: ModuleType, server: JWKSServer, keys: Any) -> None:
    server.publish(*keys)
    token = jwtkit.encode({"a": 1}, jwtkit.Key.generate("ES256"), "ES256")
    with pytest.raises(jwt.PyJWKClientError):
        jwt.PyJWKClient(server.url).get_signing_key_from_jwt(token)


# -- what only the drop-in does ---------------------------------------------------------------


def test_only_https_or_loopback_http_is_fetched() -> None:
    """PyJWT fetches any http(s) URL; jwtkit keeps its URL policy."""
    assert pyjwt.PyJWKClient("http://id.example/jwks")
    with pytest.raises(jwtkit.pyjwt.PyJWKClientError, match="https"):
        jwtkit.pyjwt.PyJWKClient("http://id.example/jwks")
    for url in ("file:///etc/passwd", "ftp://id.example/jwks"):
        with pytest.raises(pyjwt.PyJWKClientError):
            pyjwt.PyJWKClient(url)
        with pytest.raises(jwtkit.pyjwt.PyJWKClientError):
            jwtkit.pyjwt.PyJWKClient(url)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"lifespan": 0}, "lifespan must be more than 0"),
        ({"lifespan": "300"}, "lifespan: expected a number"),
        ({"cooldown_duration": -1}, "cooldown_duration must be 0 or more"),
        ({"cooldown_duration": True}, "cooldown_duration: expected a number"),
        ({"timeout": 0}, "timeout"),
    ],
)
def test_bad_options_are_client_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(jwtkit.pyjwt.PyJWKClientError, match=message):
        jwtkit.pyjwt.PyJWKClient("https://id.example/jwks", **options)


def test_an_ssl_context_is_used_for_the_connection(server: JWKSServer, keys: Any) -> None:
    server.publish(*keys)
    jwks_client = jwtkit.pyjwt.PyJWKClient(server.url, ssl_context=ssl.create_default_context())
    assert jwks_client.get_signing_key("ec-1").key_id == "ec-1"
    with pytest.raises(UsageError, match="ssl_context"):
        jwtkit.pyjwt.PyJWKClient(server.url, ssl_context="no")  # type: ignore[arg-type]


def test_a_lifespan_shorter_than_the_cooldown_is_accepted(server: JWKSServer) -> None:
    jwks_client = jwtkit.pyjwt.PyJWKClient(server.url, lifespan=5, cooldown_duration=30)
    assert repr(jwks_client) == f"PyJWKClient({server.url!r})"
    jwks_client.close()


def test_a_kid_must_be_a_string(server: JWKSServer) -> None:
    with pytest.raises(jwtkit.pyjwt.PyJWKClientError, match="kid: expected a string"):
        jwtkit.pyjwt.PyJWKClient(server.url).get_signing_key(7)  # type: ignore[arg-type]


def test_the_remote_error_is_the_cause(server: JWKSServer) -> None:
    from jwtkit.remote import JWKSFetchError

    server.status = 503
    with pytest.raises(jwtkit.pyjwt.PyJWKClientConnectionError) as caught:
        jwtkit.pyjwt.PyJWKClient(server.url).get_jwk_set()
    assert isinstance(caught.value.__cause__, JWKSFetchError)
    assert caught.value.code == "pyjwk_client_connection_error"
    assert "HTTP 503" in str(caught.value)


def test_without_the_remote_extra_the_client_names_the_install_line() -> None:
    code = (
        "import sys; sys.modules['httpx'] = None\n"
        "import jwtkit.pyjwt as jwt\n"
        "print(jwt.decode(jwt.encode({'a': 1}, 'k' * 32), 'k' * 32, algorithms=['HS256']))\n"
        "try:\n"
        "    jwt.PyJWKClient('https://id.example/jwks')\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    out = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.splitlines() == [
        "{'a': 1}",
        "MissingExtra jwtkit.pyjwt.PyJWKClient needs the 'remote' extra: "
        "pip install 'jwtkit[remote]'",
    ]
