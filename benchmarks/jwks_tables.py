"""JWKS-backed verification with a warm cache: jwtkit vs PyJWT's PyJWKClient (issue 4).

A JWK Set is served by a real HTTP server on loopback. Each library fetches it once and then
verifies the same ES256 tokens with exp/iss/aud checks:

* jwtkit: ``Verifier(JWKSClient(url), algorithms=["ES256"], issuer=..., audience=...)``,
  built once, ``verifier.decode(token)`` per token;
* PyJWT: ``PyJWKClient(url)`` built once, then per token
  ``client.get_signing_key_from_jwt(token)`` and ``jwt.decode(token, key, ...)``, once with
  the default settings and once with ``cache_keys=True`` (its most favourable setting).

Run alone (``python benchmarks/jwks_tables.py [--quick]``) or through ``benchmarks/compare.py``,
which calls :func:`jwks_tables`. Target: jwtkit >= 3x PyJWT for ES256 tokens.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt as pyjwt

import jwtkit
from _timing import batch, calibrate
from jwtkit.remote import JWKSClient

__all__ = ["jwks_tables"]

ISSUER = "https://id.example"
AUDIENCE = "api"
TARGET = 3.0


@contextmanager
def _jwks_server(jwks: dict[str, Any]) -> Iterator[str]:
    body = json.dumps(jwks).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


def _measure(
    cases: dict[str, Callable[[str], object]], token: str, repeats: int, target: float
) -> dict[str, float]:
    """Best seconds per call of each case, from interleaved calibrated batches."""
    counts = {name: calibrate(call, token, target) for name, call in cases.items()}
    best = dict.fromkeys(cases, math.inf)
    for _ in range(repeats):
        for name, call in cases.items():
            gc.collect()
            per_call = batch(call, token, counts[name]) / counts[name]
            best[name] = min(best[name], per_call)
    return best


def jwks_tables(quick: bool = False) -> str:
    """Run the comparison and return it as Markdown."""
    key = jwtkit.Key.generate("ES256", kid="2026-11")
    now = int(time.time())
    claims = {
        "sub": "1234567890",
        "name": "John Doe",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 3600,
    }
    token = jwtkit.encode(claims, key)
    with _jwks_server(jwtkit.KeySet([key.public_key()]).to_jwks()) as url:
        client = JWKSClient(url)
        verifier = jwtkit.Verifier(client, algorithms=["ES256"], issuer=ISSUER, audience=AUDIENCE)
        default_client = pyjwt.PyJWKClient(url)
        caching_client = pyjwt.PyJWKClient(url, cache_keys=True)

        def pyjwt_default(value: str) -> object:
            signing_key = default_client.get_signing_key_from_jwt(value)
            return pyjwt.decode(
                value, signing_key.key, algorithms=["ES256"], audience=AUDIENCE, issuer=ISSUER
            )

        def pyjwt_cached(value: str) -> object:
            signing_key = caching_client.get_signing_key_from_jwt(value)
            return pyjwt.decode(
                value, signing_key.key, algorithms=["ES256"], audience=AUDIENCE, issuer=ISSUER
            )

        cases: dict[str, Callable[[str], object]] = {
            "jwtkit Verifier(JWKSClient).decode": verifier.decode,
            "PyJWT PyJWKClient + jwt.decode (default)": pyjwt_default,
            "PyJWT PyJWKClient(cache_keys=True) + jwt.decode": pyjwt_cached,
        }
        for name, call in cases.items():  # equal work: same claims, and a forgery refused
            if call(token) != claims:
                raise AssertionError(f"{name} returned other claims")
            forged = jwtkit.encode(claims, jwtkit.Key.generate("ES256", kid="2026-11"))
            try:
                call(forged)
            except (jwtkit.JWTError, pyjwt.PyJWTError):
                pass
            else:
                raise AssertionError(f"{name} accepted a forged token")
        best = _measure(cases, token, 3 if quick else 5, 0.05 if quick else 0.2)
        client.close()
    ours = best["jwtkit Verifier(JWKSClient).decode"]
    lines = [
        "## ES256 verify through a JWKS endpoint (warm cache), exp/iss/aud validation",
        "",
        "| implementation | ops/s | us/op (best) | time vs jwtkit |",
        "|---|---:|---:|---:|",
    ]
    for name, seconds in best.items():
        ratio_to_ours = seconds / ours
        lines.append(
            f"| {name} | {1 / seconds:,.0f} | {seconds * 1e6:.2f} | {ratio_to_ours:.2f}x |"
        )
    fastest_peer = min(v for k, v in best.items() if k.startswith("PyJWT"))
    ratio = fastest_peer / ours
    verdict = "PASS" if ratio >= TARGET else "MISS"
    lines += [
        "",
        f"Target: jwtkit >= {TARGET:g}x PyJWT's best configuration: measured {ratio:.2f}x, "
        f"**{verdict}**.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (noisier)")
    args = parser.parse_args(argv)
    print(jwks_tables(quick=args.quick))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
