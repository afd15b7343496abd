"""MultiIssuerVerifier over real sockets: two issuers on loopback ports, each serving its
OpenID Connect discovery document and JWK Set, and counting the requests it sees.

The unverified ``iss`` only chooses the issuer's keys: an issuer off the list, a missing or
non-string ``iss`` is refused with no request at all; a token that names one issuer and is
signed with the other's key is refused. Time is a FrozenClock; the only waiting is for the
servers and for threads to reach a lock.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import pytest

import jwtkit
from jwtkit.remote import DiscoveryError, MultiIssuerVerifier, TrustedIssuer
from jwtkit.testing import FrozenClock

T0 = 1_700_000_000.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class IssuerServer:
    """An issuer on a loopback port: ``/.well-known/openid-configuration`` and ``/jwks``.
    ``discovery_status`` breaks discovery; ``gate`` (when set) holds discovery answers until
    it opens; ``requests`` lists the paths asked for."""

    def __init__(self, key: jwtkit.Key) -> None:
        self.key = key
        self.discovery_status = 200
        self.requests: list[str] = []
        self.asked = threading.Event()
        self.gate: threading.Event | None = None
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append(self.path)
                status, document = owner.answer(self.path)
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def answer(self, path: str) -> tuple[int, dict[str, Any]]:
        if path == "/.well-known/openid-configuration":
            self.asked.set()
            if self.gate is not None:
                assert self.gate.wait(10)
            if self.discovery_status != 200:
                return self.discovery_status, {"error": "unavailable"}
            return 200, {
                "issuer": self.issuer,
                "jwks_uri": f"{self.issuer}/jwks",
                "authorization_endpoint": f"{self.issuer}/authorize",
                "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            }
        if path == "/jwks":
            return 200, {"keys": [self.key.public_key().to_jwk()]}
        return 404, {"error": "not found"}

    def token(self, key: jwtkit.Key | None = None, **claims: Any) -> str:
        payload = {"iss": self.issuer, "sub": "user-1", "aud": "api", "exp": T0 + 300, **claims}
        payload = {name: value for name, value in payload.items() if value is not None}
        signer = key or self.key
        return jwtkit.encode(payload, signer, algorithm=signer.alg)

    def stop(self) -> None:
        if self.gate is not None:
            self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def servers() -> Iterator[tuple[IssuerServer, IssuerServer]]:
    a = IssuerServer(jwtkit.Key.generate("RS256", kid="a-1"))
    b = IssuerServer(jwtkit.Key.generate("ES256", kid="b-1"))
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


def _verifier(a: IssuerServer, b: IssuerServer, **options: Any) -> MultiIssuerVerifier:
    return MultiIssuerVerifier(
        [a.issuer, TrustedIssuer(b.issuer, audience="b-api", algorithms=["ES256"])],
        algorithms=["RS256"],
        audience="api",
        clock=FrozenClock(T0),
        **options,
    )


def test_a_token_from_each_issuer_is_accepted(servers: tuple[IssuerServer, IssuerServer]) -> None:
    a, b = servers
    with _verifier(a, b) as verifier:
        assert verifier.issuers == (a.issuer, b.issuer)
        assert a.requests == b.requests == []  # nothing is fetched before a token needs it
        assert verifier.decode(a.token())["iss"] == a.issuer
        assert b.requests == []
        decoded = verifier.decode_complete(b.token(aud="b-api"))
        assert (decoded.claims["iss"], decoded.algorithm) == (b.issuer, "ES256")
        assert verifier.decode(a.token(sub="user-2"))["sub"] == "user-2"
    assert a.requests == ["/.well-known/openid-configuration", "/jwks"]
    assert b.requests == ["/.well-known/openid-configuration", "/jwks"]


def test_per_issuer_options_apply_to_that_issuer_only(
    servers: tuple[IssuerServer, IssuerServer],
) -> None:
    a, b = servers
    with _verifier(a, b) as verifier:
        with pytest.raises(jwtkit.InvalidAudience):
            verifier.decode(b.token())  # b's audience is b-api
        with pytest.raises(jwtkit.InvalidAudience):
            verifier.decode(a.token(aud="b-api"))
        es_for_a = jwtkit.Key.generate("ES256", kid="a-1")
        with pytest.raises(jwtkit.AlgorithmNotAllowed):
            verifier.decode(a.token(es_for_a))  # a accepts RS256 only


def test_a_token_naming_one_issuer_signed_with_the_others_key_is_refused(
    servers: tuple[IssuerServer, IssuerServer],
) -> None:
    a, b = servers
    with MultiIssuerVerifier(
        [a.issuer, b.issuer], algorithms=["RS256", "ES256"], audience="api", clock=FrozenClock(T0)
    ) as verifier:
        assert verifier.decode(b.token())["iss"] == b.issuer
        with pytest.raises(jwtkit.KeyNotFound):
            verifier.decode(a.token(b.key))  # a's key set does not hold b's key
        same_kid = jwtkit.Key.generate("RS256", kid="a-1")
        b.key = same_kid  # b now publishes a key that takes a's kid
        with pytest.raises(jwtkit.InvalidSignature):
            verifier.decode(a.token(same_kid))


@pytest.mark.parametrize(
    ("iss", "error"),
    [
        (None, jwtkit.MissingClaim),
        (5, jwtkit.InvalidIssuer),
        (["ISSUER"], jwtkit.InvalidIssuer),
        ("http://127.0.0.1:1", jwtkit.InvalidIssuer),
        ("ISSUER/", jwtkit.InvalidIssuer),
        ("ISSUER".lower(), jwtkit.InvalidIssuer),
    ],
)
def test_an_issuer_off_the_list_is_refused_before_any_request(
    servers: tuple[IssuerServer, IssuerServer], iss: Any, error: type[jwtkit.JWTError]
) -> None:
    a, b = servers
    if isinstance(iss, str):
        iss = iss.replace("ISSUER", a.issuer)
    elif isinstance(iss, list):
        iss = [a.issuer]
    token = a.token(iss=iss) if iss is not None else a.token(iss=None)
    with _verifier(a, b) as verifier:
        with pytest.raises(error) as caught:
            verifier.decode(token)
        assert caught.value.claim == "iss"  # type: ignore[attr-defined]
    assert a.requests == b.requests == []


def test_a_malformed_token_is_refused_before_any_request(
    servers: tuple[IssuerServer, IssuerServer],
) -> None:
    a, b = servers
    with _verifier(a, b) as verifier:
        with pytest.raises(jwtkit.MalformedToken):
            verifier.decode("not.a.token")
        with pytest.raises(jwtkit.TokenTooLarge):
            MultiIssuerVerifier([a.issuer], algorithms=["RS256"], max_token_size=64).decode(
                a.token()
            )
    assert a.requests == b.requests == []


def test_a_failed_discovery_is_not_retried_within_the_cooldown(
    servers: tuple[IssuerServer, IssuerServer],
) -> None:
    a, _ = servers
    a.discovery_status = 503
    clock = FrozenClock(T0)
    with MultiIssuerVerifier([a.issuer], algorithms=["RS256"], audience="api", clock=clock) as v:
        with pytest.raises(DiscoveryError):
            v.decode(a.token())
        asked = len(a.requests)
        with pytest.raises(DiscoveryError):
            v.decode(a.token())
        assert len(a.requests) == asked  # the remembered failure, no new request
        a.discovery_status = 200
        clock.advance(30)
        assert v.decode(a.token(), now=T0)["iss"] == a.issuer


def test_a_given_jwks_uri_skips_discovery(servers: tuple[IssuerServer, IssuerServer]) -> None:
    a, _ = servers
    trusted = TrustedIssuer(a.issuer, jwks_uri=f"{a.issuer}/jwks")
    with MultiIssuerVerifier(
        trusted, algorithms=["RS256"], audience="api", clock=FrozenClock(T0)
    ) as verifier:
        assert verifier.decode(a.token())["iss"] == a.issuer
    assert a.requests == ["/jwks"]


def test_threads_share_one_discovery_per_issuer(servers: tuple[IssuerServer, IssuerServer]) -> None:
    """The second thread waits for the first one's discovery (held open by the server's
    gate) and then uses its keys: one discovery, one JWK Set fetch."""
    a, b = servers
    a.gate = threading.Event()
    verifier = _verifier(a, b)
    waiting = threading.Event()
    lock = verifier._sync_locks[a.issuer]

    class Watched:
        def __enter__(self) -> None:
            if a.asked.is_set():
                waiting.set()  # the second thread is at the lock
            lock.acquire()

        def __exit__(self, *exc: object) -> None:
            lock.release()

    verifier._sync_locks[a.issuer] = Watched()  # type: ignore[assignment]
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(verifier.decode(a.token())["sub"]))
        for _ in range(2)
    ]
    threads[0].start()
    assert a.asked.wait(10)  # the first thread is discovering, holding the lock
    threads[1].start()
    assert waiting.wait(10)
    a.gate.set()
    for thread in threads:
        thread.join(10)
    assert results == ["user-1", "user-1"]
    assert a.requests == ["/.well-known/openid-configuration", "/jwks"]
    verifier.close()


@pytest.mark.anyio
async def test_adecode_accepts_each_issuer_and_refuses_unknown_ones_without_requests(
    servers: tuple[IssuerServer, IssuerServer],
) -> None:
    a, b = servers
    async with _verifier(a, b) as verifier:
        with pytest.raises(jwtkit.InvalidIssuer):
            await verifier.adecode(a.token(iss="https://elsewhere.example"))
        with pytest.raises(jwtkit.MissingClaim):
            await verifier.adecode(a.token(iss=None))
        assert a.requests == b.requests == []
        results: list[str] = []

        async def one(token: str) -> None:
            results.append((await verifier.adecode(token))["iss"])

        async with anyio.create_task_group() as tasks:
            for _ in range(3):
                tasks.start_soon(one, a.token())
        assert results == [a.issuer] * 3
        decoded = await verifier.adecode_complete(b.token(aud="b-api"))
        assert decoded.claims["iss"] == b.issuer
        with pytest.raises(jwtkit.AlgorithmNotAllowed):
            await verifier.adecode(a.token(b.key))  # b's ES256 key: not a's algorithm, nor key
        other = jwtkit.Key.generate("RS256", kid="b-2")
        with pytest.raises(jwtkit.KeyNotFound):
            await verifier.adecode(a.token(other))
    assert a.requests.count("/.well-known/openid-configuration") == 1
    assert b.requests.count("/.well-known/openid-configuration") == 1


@pytest.mark.anyio
async def test_adecode_remembers_a_failed_discovery_and_takes_a_jwks_uri(
    servers: tuple[IssuerServer, IssuerServer],
) -> None:
    a, b = servers
    b.discovery_status = 404
    verifier = MultiIssuerVerifier(
        [TrustedIssuer(a.issuer, jwks_uri=f"{a.issuer}/jwks"), b.issuer],
        algorithms=["RS256", "ES256"],
        audience="api",
        clock=FrozenClock(T0),
    )
    assert (await verifier.adecode(a.token()))["iss"] == a.issuer
    for _ in range(2):
        with pytest.raises(DiscoveryError):
            await verifier.adecode(b.token())
    # Both discovery URLs were tried once (OpenID Connect, then RFC 8414), then remembered.
    assert len(b.requests) == 2
    await verifier.aclose()


@pytest.mark.parametrize(
    ("issuers", "options", "message"),
    [
        ([], {"algorithms": ["RS256"]}, "issuers is empty"),
        (["https://a.example", "https://a.example"], {"algorithms": ["RS256"]}, "listed twice"),
        ([7], {"algorithms": ["RS256"]}, "expected issuer identifiers"),
        ([TrustedIssuer(7)], {"algorithms": ["RS256"]}, "expected issuer identifiers"),  # type: ignore[arg-type]
        (["https://a.example"], {}, "algorithms: none given for issuer 'https://a.example'"),
        (["https://a.example"], {"algorithms": ["RS256"], "leeway": "1"}, "leeway"),
        (["https://a.example"], {"algorithms": ["RS256"], "timeout": 0}, "timeout"),
        (["https://a.example"], {"algorithms": ["RS256"], "cooldown": 900}, "cooldown"),
        (["http://a.example"], {"algorithms": ["RS256"]}, "https"),
        (["https://a.example?tenant=1"], {"algorithms": ["RS256"]}, "must not have a query"),
        (
            [TrustedIssuer("https://a.example", jwks_uri="http://a.example/jwks")],
            {"algorithms": ["RS256"]},
            "https",
        ),
    ],
)
def test_bad_configurations_are_usage_errors(
    issuers: list[Any], options: dict[str, Any], message: str
) -> None:
    with pytest.raises(jwtkit.UsageError, match=message):
        MultiIssuerVerifier(issuers, **options)


def test_one_issuer_may_be_given_alone() -> None:
    verifier = MultiIssuerVerifier("https://a.example", algorithms=["ES256"])
    assert verifier.issuers == ("https://a.example",)


def test_the_example_of_docs_remote_md_works(servers: tuple[IssuerServer, IssuerServer]) -> None:
    """The "Many issuers" example, with the loopback issuers in place of its hosts."""
    a, b = servers
    partner = IssuerServer(jwtkit.Key.generate("RS256", kid="p-1"))
    guide = Path(__file__).resolve().parents[2] / "docs" / "remote.md"
    section = guide.read_text(encoding="utf-8").split("## Many issuers", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    for host, server in (
        ("https://tenant-a.example", a),
        ("https://tenant-b.example", b),
        ("https://keys.partner.example", partner),
        ("https://partner.example", partner),
    ):
        code = code.replace(host, server.issuer)
    sync_part = "\n".join(line for line in code.splitlines() if "await " not in line)
    (async_line,) = [line for line in code.splitlines() if "await " in line]
    token = jwtkit.encode(
        {"iss": partner.issuer, "aud": "api", "sub": "user-1", "exp": time.time() + 60},
        partner.key,
        algorithm="RS256",
        typ="at+jwt",
    )
    namespace: dict[str, Any] = {"token": token}
    try:
        exec(compile(sync_part, "docs/remote.md", "exec"), namespace)  # noqa: S102
        assert namespace["claims"]["sub"] == "user-1"
        namespace["verifier"].close()
        body = f"    {async_line.strip()}\n    await verifier.aclose()\n    return claims"
        exec(f"async def main():\n{body}", namespace)  # noqa: S102
        assert asyncio.run(namespace["main"]())["iss"] == partner.issuer
    finally:
        partner.stop()
    assert partner.requests == ["/jwks", "/jwks"]  # given jwks_uri: no discovery; sync, async
