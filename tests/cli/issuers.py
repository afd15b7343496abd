"""Issuers for ``jwtkit audit --issuer`` tests: a real HTTP server on a loopback port whose
documents, statuses and headers each test sets, and the project's token service served by
uvicorn in a thread."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwtkit
from jwtkit.testing import FrozenClock


class Route:
    """What one path answers."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.status = status
        self.body = body
        self.headers = headers


class IssuerServer:
    """A loopback HTTP server: ``routes`` maps a path to its answer; other paths are 404."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                route = owner.routes.get(self.path, Route(404, b"{}", {}))
                self.send_response(route.status)
                headers = {"Content-Length": str(len(route.body)), **route.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                # The client may stop reading (the size cap): expected.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(route.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output clean

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def json(
        self, path: str, value: Any, content_type: str = "application/json", **headers: str
    ) -> None:
        body = json.dumps(value).encode()
        self.routes[path] = Route(200, body, {"Content-Type": content_type, **headers})

    def raw(self, path: str, status: int, body: bytes = b"", **headers: str) -> None:
        self.routes[path] = Route(status, body, headers)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


OPENID = "/.well-known/openid-configuration"
OAUTH = "/.well-known/oauth-authorization-server"
JWKS = "/jwks"
#: The Cache-Control of a well-served JWK Set.
CACHED = "public, max-age=300"


def good_metadata(base: str) -> dict[str, Any]:
    """Metadata of an issuer that does everything right."""
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/token",
        "jwks_uri": f"{base}{JWKS}",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ["ES256"],
        "service_documentation": "https://docs.example/issuer",
    }


def good_keys() -> list[jwtkit.Key]:
    """Two ES256 keys (the current one and the next), with kid, alg and use."""
    return [
        jwtkit.Key.from_jwk(
            {**jwtkit.Key.generate("ES256").public_key().to_jwk(), "kid": kid, "use": "sig"}
        )
        for kid in ("2024-01", "2024-02")
    ]


def publish(
    server: IssuerServer,
    metadata: dict[str, Any] | None = None,
    jwks: dict[str, Any] | None = None,
    *,
    change: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
) -> None:
    """Serve ``metadata`` at both well-known locations and ``jwks`` at /jwks (defaults: the
    good ones), after ``change(metadata, jwks)``."""
    if metadata is None:
        metadata = good_metadata(server.base)
    if jwks is None:
        jwks = {"keys": [key.to_jwk() for key in good_keys()]}
    if change is not None:
        change(metadata, jwks)
    server.json(OPENID, metadata)
    server.json(OAUTH, metadata)
    server.json(JWKS, jwks, "application/jwk-set+json", **{"Cache-Control": CACHED})


KEK = base64.urlsafe_b64encode(bytes(range(32))).decode().rstrip("=")


class TokenService:
    """``jwtkit.server.create_app`` served by uvicorn in a thread on a pre-bound loopback
    socket (the real service, as ``jwtkit serve`` runs it)."""

    def __init__(self, workdir: Path, **settings: Any) -> None:
        import uvicorn

        from jwtkit.server.app import create_app
        from jwtkit.server.config import Settings

        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        port = self.socket.getsockname()[1]
        self.issuer = f"http://127.0.0.1:{port}"
        config = Settings(
            issuer=self.issuer,
            port=port,
            database=str(workdir / "jwtkit.db"),
            key_file=str(workdir / "kek.secret"),
            key_encryption_key=KEK,
            argon2_time_cost=1,
            argon2_memory_cost=8,
            argon2_parallelism=1,
            **settings,
        )
        app = create_app(config, clock=FrozenClock(time.time()))
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:  # waiting for start-up, not for an expiry
            assert self.thread.is_alive(), "the token service stopped during start-up"
            assert time.monotonic() < deadline, "the token service did not start in time"
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.socket.close()
