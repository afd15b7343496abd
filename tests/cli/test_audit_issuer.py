"""``jwtkit audit --issuer``: real loopback issuers, good and bad, each finding alone; the
project's token service audited; ``--json``, ``--fail-on`` and every failure as one line."""

from __future__ import annotations

import base64
import datetime
import json
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

import jwtkit
from jwtkit.cli._findings import SEVERITIES

from .helpers import Result, one_line_error, run
from .issuers import (
    CACHED,
    JWKS,
    OAUTH,
    OPENID,
    IssuerServer,
    TokenService,
    good_keys,
    good_metadata,
    publish,
)

Change = Callable[[dict[str, Any], dict[str, Any]], None]
ISSUER_KEYS = {
    "issuer",
    "metadata",
    "jwks_uri",
    "signing_keys",
    "findings",
    "counts",
    "fail_on",
    "failed",
}


@pytest.fixture
def server() -> Iterator[IssuerServer]:
    issuer = IssuerServer()
    try:
        yield issuer
    finally:
        issuer.stop()


def audit(server: IssuerServer, *args: str) -> Result:
    return run("audit", "--issuer", server.base, "--json", *args)


def above_info(result: Result) -> dict[str, str]:
    """id -> severity of every finding above info."""
    assert result.code == 0, result
    return {f["id"]: f["severity"] for f in result.json()["findings"] if f["severity"] != "info"}


def ids(result: Result) -> set[str]:
    return {f["id"] for f in result.json()["findings"]}


# -- a clean issuer --------------------------------------------------------------------------


def test_a_clean_issuer_has_no_finding_above_info(server: IssuerServer) -> None:
    publish(server)
    result = audit(server)
    data = result.json()
    assert set(data) == ISSUER_KEYS
    assert data["issuer"] == server.base
    assert data["jwks_uri"] == f"{server.base}{JWKS}"
    assert data["signing_keys"] == {"ES256": 2}
    assert [m["url"] for m in data["metadata"]] == [server.base + OPENID, server.base + OAUTH]
    assert all(m["found"] and m["error"] is None for m in data["metadata"])
    assert [f["id"] for f in data["findings"]] == ["loopback-http"]  # the test runs on http
    assert data["counts"] == {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 1}
    assert data["fail_on"] is None
    assert data["failed"] is False
    human = run("audit", "--issuer", server.base, "--fail-on", "low")
    assert human.code == 0, human
    assert human.out.startswith(
        f"audit of issuer {server.base} (signing keys: 2 ES256): 1 finding (1 info)\n"
    )
    assert "INFO      loopback-http  issuer" in human.out
    assert "UNVERIFIED" not in human.out


def test_an_issuer_with_a_path_is_looked_up_at_both_well_known_locations(
    server: IssuerServer,
) -> None:
    """RFC 8414 §3.1 inserts the well-known path before the issuer's path; OpenID Connect
    Discovery 1.0 §4.1 appends it."""
    issuer = f"{server.base}/tenant"
    metadata = {**_metadata(server), "issuer": issuer}
    publish(server, metadata)
    del server.routes[OPENID], server.routes[OAUTH]
    server.json(f"/tenant{OPENID}", metadata)
    server.json(f"{OAUTH}/tenant", metadata)
    result = run("audit", "--issuer", issuer, "--json")
    assert [m["url"] for m in result.json()["metadata"]] == [
        f"{issuer}{OPENID}",
        f"{server.base}{OAUTH}/tenant",
    ]
    assert above_info(result) == {}


def _metadata(server: IssuerServer) -> dict[str, Any]:
    return good_metadata(server.base)


# -- each finding alone ----------------------------------------------------------------------


def _set(**members: Any) -> Change:
    def change(metadata: dict[str, Any], jwks: dict[str, Any]) -> None:
        metadata.update(members)

    return change


def _drop(name: str) -> Change:
    def change(metadata: dict[str, Any], jwks: dict[str, Any]) -> None:
        del metadata[name]

    return change


def _key(member: Callable[[dict[str, Any]], dict[str, Any]]) -> Change:
    """Replace the second key of the set by ``member(its JWK)``."""

    def change(metadata: dict[str, Any], jwks: dict[str, Any]) -> None:
        jwks["keys"][1] = member(jwks["keys"][1])

    return change


def _add_key(jwk: dict[str, Any]) -> Change:
    def change(metadata: dict[str, Any], jwks: dict[str, Any]) -> None:
        jwks["keys"].append(jwk)

    return change


def _rsa_jwk(private: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    key = jwtkit.Key.from_cryptography(private.public_key(), kid=kid, allow_weak=True)
    return {**key.to_jwk(), "use": "sig"}


def _certificate_of_another_key() -> str:
    signer = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "another key")])
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(signer.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=1))
        .sign(signer, hashes.SHA256())
    )
    return base64.b64encode(certificate.public_bytes(Encoding.DER)).decode()


def _same_kid(metadata: dict[str, Any], jwks: dict[str, Any]) -> None:
    jwks["keys"][1]["kid"] = jwks["keys"][0]["kid"]


def _no_kid(metadata: dict[str, Any], jwks: dict[str, Any]) -> None:
    del jwks["keys"][1]["kid"]


def _encryption_only(metadata: dict[str, Any], jwks: dict[str, Any]) -> None:
    for jwk in jwks["keys"]:
        jwk.update(use="enc", alg="ECDH-ES")


def _one_key(metadata: dict[str, Any], jwks: dict[str, Any]) -> None:
    del jwks["keys"][1]


def _not_a_set(metadata: dict[str, Any], jwks: dict[str, Any]) -> None:
    jwks["keys"] = "none"


_RSA_2048 = rsa.generate_private_key(65537, 2048)
_CASES: dict[str, tuple[str, str, Change]] = {
    # metadata
    "issuer with a trailing slash": (
        "issuer-mismatch",
        "high",
        lambda m, j: m.update(issuer=m["issuer"] + "/"),
    ),
    "no issuer": ("issuer-mismatch", "high", _drop("issuer")),
    "no subject_types_supported": ("metadata-missing", "medium", _drop("subject_types_supported")),
    "http token endpoint": (
        "http-endpoint",
        "high",
        _set(token_endpoint="http://id.example/token"),
    ),
    "http jwks_uri": ("http-endpoint", "high", _set(jwks_uri="http://id.example/jwks")),
    "http policy link": ("http-link", "low", _set(op_policy_uri="http://id.example/policy")),
    "relative endpoint": ("metadata-invalid", "medium", _set(userinfo_endpoint="/userinfo")),
    "http mtls alias": (
        "http-endpoint",
        "high",
        _set(mtls_endpoint_aliases={"token_endpoint": "http://mtls.example/token"}),
    ),
    "algorithms not a list": (
        "metadata-invalid",
        "medium",
        _set(userinfo_signing_alg_values_supported="RS256"),
    ),
    "none for ID tokens": (
        "alg-none-advertised",
        "high",
        _set(id_token_signing_alg_values_supported=["ES256", "none"]),
    ),
    "none for request objects": (
        "alg-none-advertised",
        "medium",
        _set(request_object_signing_alg_values_supported=["ES256", "none"]),
    ),
    "RSA1_5 for ID token encryption": (
        "alg-rsa1_5-advertised",
        "high",
        _set(
            id_token_encryption_alg_values_supported=["RSA1_5", "RSA-OAEP-256"],
            id_token_encryption_enc_values_supported=["A128GCM"],
        ),
    ),
    "HS256 ID tokens": (
        "alg-hmac-id-token",
        "low",
        _set(id_token_signing_alg_values_supported=["ES256", "HS256"]),
    ),
    "no PKCE": ("pkce-missing", "medium", _drop("code_challenge_methods_supported")),
    "PKCE plain only": ("pkce-s256-missing", "high", _set(code_challenge_methods_supported=[])),
    "PKCE plain too": (
        "pkce-plain",
        "medium",
        _set(code_challenge_methods_supported=["S256", "plain"]),
    ),
    "implicit grant": (
        "grant-implicit",
        "medium",
        _set(grant_types_supported=["authorization_code", "implicit"]),
    ),
    "password grant": (
        "grant-password",
        "high",
        _set(grant_types_supported=["authorization_code", "password"]),
    ),
    "access token from /authorize": (
        "front-channel-token",
        "medium",
        _set(response_types_supported=["code", "code id_token token"]),
    ),
    "ES384 advertised without a key": (
        "alg-without-key",
        "medium",
        _set(id_token_signing_alg_values_supported=["ES256", "ES384"]),
    ),
    # the JWK Set
    "a published secret": (
        "jwk-secret-published",
        "critical",
        _add_key({"kty": "oct", "kid": "hs", "k": base64.urlsafe_b64encode(bytes(32)).decode()}),
    ),
    "a published private key": (
        "jwk-private-key-published",
        "critical",
        _key(lambda jwk: {**jwtkit.Key.generate("ES256").to_jwk(private=True), "kid": jwk["kid"]}),
    ),
    "a 1024-bit RSA key": (
        "jwk-weak-rsa",
        "high",
        _add_key(_rsa_jwk(rsa.generate_private_key(65537, 1024), "rsa-weak")),  # noqa: S505
    ),
    "RSA exponent 3": (
        "jwk-weak-exponent",
        "medium",
        _add_key(_rsa_jwk(rsa.generate_private_key(3, 2048), "rsa-3")),
    ),
    "an EC key that says RS256": (
        "jwk-alg-mismatch",
        "medium",
        _key(lambda jwk: {**jwk, "alg": "RS256"}),
    ),
    "use sig with key_ops encrypt": (
        "jwk-use-mismatch",
        "medium",
        _key(lambda jwk: {**jwk, "key_ops": ["encrypt"]}),
    ),
    "use sig with a key-management alg": (
        "jwk-use-mismatch",
        "medium",
        _add_key({**_rsa_jwk(_RSA_2048, "rsa-enc"), "alg": "RSA-OAEP-256"}),
    ),
    "x5c of another key": (
        "jwk-x5c-mismatch",
        "high",
        _key(lambda jwk: {**jwk, "x5c": [_certificate_of_another_key()]}),
    ),
    "an unsupported curve": ("jwk-skipped", "medium", _key(lambda jwk: {**jwk, "crv": "P-192"})),
    "not an object": ("jwk-skipped", "medium", _add_key("a string")),  # type: ignore[arg-type]
    "duplicate kid": ("jwks-duplicate-kid", "medium", _same_kid),
    "kid missing": ("jwks-kid-missing", "low", _no_kid),
    "no signing key": ("jwks-no-signing-key", "high", _encryption_only),
    "not a JWK Set": ("jwks-invalid", "high", _not_a_set),
}


@pytest.mark.parametrize("case", sorted(_CASES))
def test_each_finding_alone(server: IssuerServer, case: str) -> None:
    finding, severity, change = _CASES[case]
    publish(server, change=change)
    result = audit(server)
    assert above_info(result) == {finding: severity}, result.json()["findings"]
    shown = next(f for f in result.json()["findings"] if f["id"] == finding)
    assert all(shown[name] for name in ("message", "fix", "location"))


def test_one_key_per_algorithm_is_an_info_about_rotation(server: IssuerServer) -> None:
    publish(server, change=_one_key)
    result = audit(server)
    assert above_info(result) == {}
    single = next(f for f in result.json()["findings"] if f["id"] == "jwks-single-key")
    assert "ES256" in single["message"]
    assert result.json()["signing_keys"] == {"ES256": 1}


def test_keys_without_alg_are_counted_by_kind(server: IssuerServer) -> None:
    keys = [
        {k: v for k, v in jwtkit.Key.generate(alg).public_key().to_jwk().items() if k != "alg"}
        for alg in ("ES256", "RS256", "EdDSA")
    ]
    x25519 = jwtkit.Key.from_jwk(
        {"kty": "OKP", "crv": "X25519", "x": base64.urlsafe_b64encode(bytes(32)).decode()[:43]}
    ).to_jwk()
    jwks = {"keys": [{**key, "kid": f"k{n}"} for n, key in enumerate([*keys, keys[0], x25519])]}
    jwks["keys"][-2]["kid"] = "k-next"
    publish(server, jwks=jwks)
    result = audit(server)
    assert result.json()["signing_keys"] == {"EC P-256": 2, "OKP Ed25519": 1, "RSA": 1}
    human = run("audit", "--issuer", server.base)
    assert "(signing keys: 2 EC P-256, 1 OKP Ed25519, 1 RSA)" in human.out.splitlines()[0]


def _serve_jwks(server: IssuerServer, content_type: str, **headers: str) -> None:
    jwks = {"keys": [key.to_jwk() for key in good_keys()]}
    server.json(JWKS, jwks, content_type, **headers)


@pytest.mark.parametrize(
    ("cache_control", "finding", "severity"),
    [
        (None, "jwks-cache-missing", "low"),
        ("public", "jwks-cache-missing", "low"),
        ("no-store", "jwks-cache-short", "low"),
        ("max-age=30", "jwks-cache-short", "low"),
        ("max-age=604800", "jwks-cache-long", "medium"),
    ],
)
def test_jwks_caching_headers(
    server: IssuerServer, cache_control: str | None, finding: str, severity: str
) -> None:
    publish(server)
    headers = {} if cache_control is None else {"Cache-Control": cache_control}
    _serve_jwks(server, "application/jwk-set+json", **headers)
    assert above_info(audit(server)) == {finding: severity}


def test_content_types(server: IssuerServer) -> None:
    publish(server)
    _serve_jwks(server, "application/json", **{"Cache-Control": CACHED})
    assert above_info(audit(server)) == {}  # RFC 7517 §8.5 or plain JSON
    _serve_jwks(server, "text/plain; charset=utf-8", **{"Cache-Control": CACHED})
    result = audit(server)
    assert above_info(result) == {"content-type": "low"}
    shown = next(f for f in result.json()["findings"] if f["id"] == "content-type")
    assert shown["location"] == "jwks_uri"
    assert "'text/plain; charset=utf-8'" in shown["message"]
    publish(server)
    metadata = _metadata(server)
    server.raw(OPENID, 200, json.dumps(metadata).encode())  # no Content-Type
    server.json(OAUTH, metadata)
    result = audit(server)
    assert above_info(result) == {"content-type": "low"}
    assert "without a Content-Type" in result.json()["findings"][0]["message"]


def test_redirects_are_followed_and_reported(server: IssuerServer) -> None:
    publish(server, change=_set(jwks_uri=f"{server.base}/old-jwks"))
    server.raw("/old-jwks", 301, Location="/jwks")
    result = audit(server)
    assert above_info(result) == {"redirect": "low"}
    assert result.json()["findings"][0]["location"] == "jwks_uri"


def test_metadata_at_one_location_only_or_different(server: IssuerServer) -> None:
    publish(server)
    del server.routes[OAUTH]
    result = audit(server)
    assert above_info(result) == {}
    missing = next(f for f in result.json()["findings"] if f["id"] == "metadata-location-missing")
    assert missing["location"] == server.base + OAUTH
    assert "HTTP 404" in missing["message"]
    assert result.json()["metadata"][1] == {
        "url": server.base + OAUTH,
        "found": False,
        "error": f"metadata from {server.base.removeprefix('http://')}: HTTP 404",
    }
    # Only the RFC 8414 location: its required members are RFC 8414's.
    publish(server, change=_drop("subject_types_supported"))
    del server.routes[OPENID]
    assert above_info(audit(server)) == {}
    # Two different documents: both issuers are checked.
    publish(server)
    server.json(OAUTH, {**_metadata(server), "issuer": "https://elsewhere.example"})
    result = audit(server)
    assert above_info(result) == {"metadata-differs": "low", "issuer-mismatch": "high"}


def test_an_rfc8414_server_without_jwks_uri_is_audited_without_keys(
    server: IssuerServer,
) -> None:
    publish(server, change=_drop("jwks_uri"))
    del server.routes[OPENID]
    data = audit(server).json()
    assert data["jwks_uri"] is None
    assert data["signing_keys"] == {}
    assert ids(audit(server)) == {"loopback-http", "metadata-location-missing"}


def test_authorization_endpoint_is_required_only_with_a_grant_that_uses_it(
    server: IssuerServer,
) -> None:
    def machine_only(metadata: dict[str, Any], jwks: dict[str, Any]) -> None:
        del metadata["authorization_endpoint"], metadata["code_challenge_methods_supported"]
        metadata.update(grant_types_supported=["client_credentials"], response_types_supported=[])

    publish(server, change=machine_only)
    del server.routes[OPENID]
    assert above_info(audit(server)) == {}


def test_an_https_issuer_through_the_same_fetcher() -> None:
    """Over https (an httpx transport stands in for the network): no loopback finding, and
    the documents come through jwtkit.remote's fetcher and its policy."""
    import httpx

    from jwtkit.cli.audit_issuer import run_issuer_audit
    from jwtkit.remote._issuer import IssuerDocuments

    issuer = "https://id.example"
    metadata = good_metadata(issuer)
    jwks = {"keys": [key.to_jwk() for key in good_keys()]}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == JWKS:
            return httpx.Response(200, json=jwks, headers={"Cache-Control": CACHED})
        return httpx.Response(200, json=metadata)

    with IssuerDocuments(issuer, transport=httpx.MockTransport(answer)) as documents:
        assert documents.jwks_url_allowed(f"{issuer}/jwks")
        assert not documents.jwks_url_allowed("http://127.0.0.1/jwks")  # not from https
        result = run_issuer_audit(documents)
    assert result.findings == []
    assert result.signing_keys == {"ES256": 2}
    # From an https issuer, even a loopback http jwks_uri is plain http: a finding, not fetched.
    metadata["jwks_uri"] = "http://127.0.0.1/jwks"
    with IssuerDocuments(issuer, transport=httpx.MockTransport(answer)) as documents:
        result = run_issuer_audit(documents)
    assert [(f.id, f.severity, f.location) for f in result.findings] == [
        ("http-endpoint", "high", "metadata.jwks_uri")
    ]
    assert result.jwks_uri is None


# -- --fail-on and the exit status -----------------------------------------------------------


@pytest.mark.parametrize(("level", "code"), [("critical", 0), ("high", 1), ("medium", 1)])
def test_fail_on_sets_the_exit_status(server: IssuerServer, level: str, code: int) -> None:
    publish(server, change=_set(grant_types_supported=["authorization_code", "password"]))
    result = audit(server, "--fail-on", level)
    assert result.code == code
    assert result.json()["failed"] is bool(code)
    if code:
        assert one_line_error(result, 1) == f"audit: findings at or above {level} (worst: high)"


def test_a_critical_finding_comes_first_and_fails_every_level(server: IssuerServer) -> None:
    publish(server, change=_CASES["a published secret"][2])
    result = run("audit", "--issuer", server.base, "--fail-on", "critical")
    assert one_line_error(result, 1) == "audit: findings at or above critical (worst: critical)"
    assert "CRITICAL  jwk-secret-published  jwks.keys[2] (kid 'hs')" in result.out
    assert SEVERITIES[0] == "critical"


# -- failures: one line, never a traceback ---------------------------------------------------


def test_unreachable_issuer_is_one_line() -> None:
    with socket.socket() as probe:  # a loopback port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{probe.getsockname()[1]}"
    message = one_line_error(run("audit", "--issuer", base), 1)
    host = base.removeprefix("http://")
    assert message == f"discovery for {host}: metadata from {host}: ConnectError"


def test_http_errors_and_bad_documents_are_one_line(server: IssuerServer) -> None:
    nothing = one_line_error(run("audit", "--issuer", server.base), 1)
    assert "no usable metadata" in nothing
    assert "HTTP 404" in nothing
    server.raw(OPENID, 200, b"<html>", **{"Content-Type": "text/html"})
    server.raw(OAUTH, 200, b"not json")
    assert "not a JSON object" in one_line_error(run("audit", "--issuer", server.base), 1)
    server.raw(OPENID, 200, b"[" * 600_000)
    assert "larger than 524288 bytes" in one_line_error(run("audit", "--issuer", server.base), 1)
    publish(server)
    del server.routes[JWKS]
    assert one_line_error(run("audit", "--issuer", server.base), 1).endswith("HTTP 404")


def test_redirects_to_plain_http_elsewhere_are_refused(server: IssuerServer) -> None:
    server.raw(OPENID, 302, Location="http://id.example/.well-known/openid-configuration")
    server.raw(OAUTH, 302, Location="http://id.example/.well-known/oauth-authorization-server")
    message = one_line_error(run("audit", "--issuer", server.base), 1)
    assert "refused redirect" in message
    publish(server, change=_set(jwks_uri=f"{server.base}/old-jwks"))
    server.raw("/old-jwks", 302, Location="http://id.example/jwks")
    message = one_line_error(run("audit", "--issuer", server.base), 1)
    assert message.startswith("JWKS from")
    assert "refused redirect" in message


def test_timeout() -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    try:
        base = f"http://127.0.0.1:{listener.getsockname()[1]}"
        message = one_line_error(run("audit", "--issuer", base, "--timeout", "0.2"), 1)
        assert "timed out after 0.2s" in message
    finally:
        listener.close()


def test_usage_errors() -> None:
    plain_http = run("audit", "--issuer", "http://id.example")
    assert "loopback" in one_line_error(plain_http, 2)
    query = run("audit", "--issuer", "https://id.example/?tenant=1")
    assert "query" in one_line_error(query, 2)
    both = run("audit", "--issuer", "https://id.example", "a.b.c")
    assert one_line_error(both, 2) == (
        "--issuer audits an issuer: give no token, --crack or --wordlist"
    )
    assert "--timeout" in one_line_error(
        run("audit", "--issuer", "https://id.example", "--timeout", "0"), 2
    )


def test_issuer_audit_needs_the_remote_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "jwtkit.remote" or m.startswith("jwtkit.remote.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "httpx", None)
    monkeypatch.delattr(jwtkit, "remote", raising=False)
    message = one_line_error(run("audit", "--issuer", "https://id.example"), 2)
    assert message == "jwtkit.remote needs the 'remote' extra: pip install 'jwtkit[remote]'"


# -- the project's own token service ---------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"password_grant": False}, {}),  # as in production
        ({}, {"grant-password": "high"}),  # development turns the legacy grant on
    ],
)
def test_the_token_service_passes_its_own_audit(
    tmp_path: Path, settings: dict[str, Any], expected: dict[str, str]
) -> None:
    service = TokenService(tmp_path, **settings)
    try:
        result = run("audit", "--issuer", service.issuer, "--json")
    finally:
        service.stop()
    found = {f["id"]: f["severity"] for f in result.json()["findings"]}
    assert {k: v for k, v in found.items() if v not in {"low", "info"}} == expected
    assert result.json()["signing_keys"]
