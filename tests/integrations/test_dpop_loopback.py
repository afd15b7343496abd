"""DPoP end to end over real HTTP: a FastAPI resource served by uvicorn on a loopback socket,
a client with ``httpx`` making a fresh proof per request (RFC 9449 §7).

Expiries are not waited for: the tokens live for 15 minutes, the test takes a second. The
server's DPoP verifier uses the real clock, as the client's proofs do.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI

import jwtkit
from jwtkit.dpop import create_proof
from jwtkit.integrations.fastapi import DPoPSettings, configure, require_token

ISSUER = "https://id.example"
AUDIENCE = "https://api.example"
SIGNING_KEY = jwtkit.Key.generate("ES256", kid="issuer-key")
CLIENT_KEY = jwtkit.Key.generate("ES256")
THIEF_KEY = jwtkit.Key.generate("EdDSA")


def _app() -> FastAPI:
    verifier = jwtkit.Verifier(
        SIGNING_KEY.public_key(), algorithms=["ES256"], issuer=ISSUER, audience=AUDIENCE
    )
    app = FastAPI()
    configure(app, verifier)
    direct = Depends(require_token(dpop=DPoPSettings()))
    # As behind a proxy that serves https://api.example/proxied/... from this application.
    proxied = Depends(require_token(dpop=DPoPSettings(public_url="https://api.example")))

    @app.api_route("/items", methods=["GET", "POST"])
    async def items(claims: dict[str, Any] = direct) -> dict[str, Any]:
        return {"sub": claims["sub"]}

    @app.get("/proxied/items")
    async def proxied_items(claims: dict[str, Any] = proxied) -> dict[str, Any]:
        return {"sub": claims["sub"]}

    return app


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    import uvicorn

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(_app(), log_level="warning", proxy_headers=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:  # waiting for start-up, not for an expiry
        assert thread.is_alive(), "uvicorn stopped during start-up"
        assert time.monotonic() < deadline, "uvicorn did not start in time"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


def _token(key: jwtkit.Key = CLIENT_KEY) -> str:
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "cnf": {"jkt": key.thumbprint()}}
    return jwtkit.encode(claims, SIGNING_KEY, algorithm="ES256", expires_in=900)


def _headers(token: str, method: str, url: str, key: jwtkit.Key = CLIENT_KEY) -> dict[str, str]:
    proof = create_proof(key, method=method, url=url, access_token=token)
    return {"Authorization": f"DPoP {token}", "DPoP": proof}


def test_dpop_over_real_http(base_url: str) -> None:
    token = _token()
    url = f"{base_url}/items"
    with httpx.Client(base_url=base_url, timeout=10, trust_env=False) as http:
        headers = _headers(token, "GET", url)
        good = http.get("/items?page=1", headers=headers)
        assert good.status_code == 200, good.text
        assert good.json() == {"sub": "alice"}

        replayed = http.get("/items?page=1", headers=headers)
        assert replayed.status_code == 401
        assert replayed.json()["error"] == "invalid_dpop_proof"
        challenge = replayed.headers["www-authenticate"]
        assert challenge.startswith('Bearer realm="api", DPoP realm="api", error="invalid_dpop_')
        assert 'algs="ES256 ' in challenge

        other_method = http.get("/items", headers=_headers(token, "POST", url))
        assert other_method.json()["error"] == "invalid_dpop_proof"
        other_url = http.get("/items", headers=_headers(token, "GET", f"{base_url}/proxied/items"))
        assert other_url.json()["error"] == "invalid_dpop_proof"
        other_host = http.get("/items", headers=_headers(token, "GET", "https://api.example/items"))
        assert other_host.json()["error"] == "invalid_dpop_proof"

        stolen = http.get("/items", headers=_headers(token, "GET", url, THIEF_KEY))
        assert stolen.status_code == 401
        assert stolen.json()["error"] == "invalid_token"  # RFC 9449 §7.1: the key binding

        as_bearer = http.get("/items", headers={"Authorization": f"Bearer {token}"})
        assert as_bearer.status_code == 401
        assert as_bearer.json()["error"] == "invalid_token"
        assert "DPoP scheme" in as_bearer.json()["error_description"]

        posted = http.post("/items", headers=_headers(token, "POST", url))
        assert posted.json() == {"sub": "alice"}


def test_public_url_behind_a_proxy(base_url: str) -> None:
    token = _token()
    with httpx.Client(base_url=base_url, timeout=10, trust_env=False) as http:
        public = _headers(token, "GET", "https://api.example/proxied/items")
        assert http.get("/proxied/items", headers=public).json() == {"sub": "alice"}
        # The URL the application sees is not the one clients use: refused there.
        direct = _headers(token, "GET", f"{base_url}/proxied/items")
        assert http.get("/proxied/items", headers=direct).status_code == 401
        # Headers a client may forge change nothing: jwtkit never reads X-Forwarded-*.
        forged = _headers(token, "GET", "https://evil.example/items")
        forged |= {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
        assert http.get("/items", headers=forged).json()["error"] == "invalid_dpop_proof"


def test_public_url_pins_the_host_whatever_the_host_header(base_url: str) -> None:
    token = _token()
    with httpx.Client(base_url=base_url, timeout=10, trust_env=False) as http:
        forged = _headers(token, "GET", "http://evil.example/proxied/items")
        forged["Host"] = "evil.example"
        assert http.get("/proxied/items", headers=forged).status_code == 401
        public = _headers(token, "GET", "https://api.example/proxied/items")
        public["Host"] = "evil.example"
        assert http.get("/proxied/items", headers=public).json() == {"sub": "alice"}
