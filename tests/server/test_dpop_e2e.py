"""DPoP end to end (RFC 9449): two real ``jwtkit serve`` processes on one database.

Both instances share the database (one SQLite file, or PostgreSQL) and the key-encryption key,
and run with server-provided nonces (``JWTKIT_DPOP_NONCE``). Their issuer, the public URL the
proofs name, is an address neither listens on (a proxy's in a deployment): a proof made for the
URL an instance is reached at is refused. Each step is driven over real HTTP with
:func:`jwtkit.dpop.create_proof` and httpx: a nonce of one instance is accepted by the other, a
proof is accepted once across both (ten parallel requests with one proof: one succeeds), a
stolen token is useless without its key and as a Bearer token, a public client's refresh token
needs its key. The same rules in-process, one by one: ``test_dpop.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from browser_flow import form_of, pkce, query_of
from conftest import PASSWORD, TEST_KEK, free_port
from test_e2e import Server, _environment

import jwtkit
from jwtkit.dpop import create_proof

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "shared.db")
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def issuer() -> str:
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def servers(tmp_path: Path, database: str, issuer: str) -> Iterator[tuple[Server, Server]]:
    env = _environment()
    env.update(
        JWTKIT_KEY_ENCRYPTION_KEY=TEST_KEK,
        JWTKIT_ENVIRONMENT="development",
        JWTKIT_ISSUER=issuer,
        JWTKIT_DPOP_NONCE="true",
    )
    options = ("--database", database)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    a = Server(tmp_path / "a", free_port(), database=None, env=env, options=options)
    try:
        b = Server(tmp_path / "b", free_port(), database=None, env=env, options=options)
        try:
            yield a, b
        finally:
            b.stop()
    finally:
        a.stop()
    for server in (a, b):
        assert "Traceback" not in server.output(), server.output()


def _claims(token: str) -> dict[str, Any]:
    return dict(jwtkit.decode_unverified(token).claims)


def test_dpop_bound_tokens_across_two_instances(
    servers: tuple[Server, Server], issuer: str
) -> None:
    a_server, b_server = servers
    key = jwtkit.Key.generate("ES256")
    thief = jwtkit.Key.generate("ES256")
    login = {"grant_type": "password", "username": "alice", "password": PASSWORD}

    def proof(signer: jwtkit.Key, method: str, path: str, **options: Any) -> str:
        return create_proof(signer, method=method, url=issuer + path, **options)

    async def scenario() -> None:
        async with (
            httpx.AsyncClient(base_url=a_server.url, timeout=10, trust_env=False) as a,
            httpx.AsyncClient(base_url=b_server.url, timeout=10, trust_env=False) as b,
        ):
            created = await a.post("/users", json={"username": "alice", "password": PASSWORD})
            assert created.status_code == 201, created.text
            metadata = (await b.get("/.well-known/openid-configuration")).json()
            assert "ES256" in metadata["dpop_signing_alg_values_supported"]

            # A nonce is asked for (RFC 9449 §8); A's nonce is good at B.
            asked = await a.post(
                "/token", data=login, headers={"DPoP": proof(key, "POST", "/token")}
            )
            assert asked.status_code == 400, asked.text
            assert asked.json()["error"] == "use_dpop_nonce"
            nonce = asked.headers["dpop-nonce"]
            issued = await b.post(
                "/token", data=login, headers={"DPoP": proof(key, "POST", "/token", nonce=nonce)}
            )
            assert issued.status_code == 200, issued.text
            tokens = issued.json()
            assert tokens["token_type"] == "DPoP"
            token = tokens["access_token"]
            assert _claims(token)["cnf"] == {"jkt": key.thumbprint()}

            # A proof names the issuer's URL, not the address the instance is reached at.
            by_address = create_proof(
                key, method="POST", url=f"{a_server.url}/token", nonce=issued.headers["dpop-nonce"]
            )
            refused = await a.post("/token", data=login, headers={"DPoP": by_address})
            assert refused.json()["error"] == "invalid_dpop_proof", refused.text

            # /userinfo with a proof at A; the same proof is refused at B (one use in all).
            userinfo = proof(key, "GET", "/userinfo", access_token=token)
            dpop = {"Authorization": f"DPoP {token}", "DPoP": userinfo}
            first = await a.get("/userinfo", headers=dpop)
            assert first.status_code == 200, first.text
            assert first.json()["preferred_username"] == "alice"
            replayed = await b.get("/userinfo", headers=dpop)
            assert replayed.status_code == 401
            assert replayed.json()["error"] == "invalid_dpop_proof"

            # Ten parallel requests with one new proof, over both instances: one succeeds.
            racing = {
                "Authorization": f"DPoP {token}",
                "DPoP": proof(key, "GET", "/userinfo", access_token=token),
            }
            statuses: list[int] = []

            async def get(http: httpx.AsyncClient) -> None:
                statuses.append((await http.get("/userinfo", headers=racing)).status_code)

            async with anyio.create_task_group() as group:
                for index in range(10):
                    group.start_soon(get, (a, b)[index % 2])
            assert sorted(statuses) == [200] + [401] * 9

            # A proof of another method or URL; the token without its key; as Bearer.
            for wrong, error in (
                (proof(key, "POST", "/userinfo", access_token=token), "invalid_dpop_proof"),
                (proof(key, "GET", "/token", access_token=token), "invalid_dpop_proof"),
                (proof(thief, "GET", "/userinfo", access_token=token), "invalid_token"),
            ):
                answer = await b.get(
                    "/userinfo", headers={"Authorization": f"DPoP {token}", "DPoP": wrong}
                )
                assert answer.status_code == 401, answer.text
                assert answer.json()["error"] == error
                assert answer.headers["www-authenticate"].startswith("DPoP ")
            as_bearer = await a.get("/userinfo", headers={"Authorization": f"Bearer {token}"})
            assert as_bearer.status_code == 401
            assert as_bearer.json()["error"] == "invalid_token"

            # The public client's refresh token is bound to the key (RFC 9449 §5.8).
            refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
            nonce = issued.headers["dpop-nonce"]
            stolen = await a.post(
                "/token",
                data=refresh,
                headers={"DPoP": proof(thief, "POST", "/token", nonce=nonce)},
            )
            assert stolen.status_code == 400, stolen.text
            assert stolen.json()["error"] == "invalid_grant"
            rotated = await b.post(
                "/token", data=refresh, headers={"DPoP": proof(key, "POST", "/token", nonce=nonce)}
            )
            assert rotated.status_code == 200, rotated.text
            assert rotated.json()["refresh_token"] != tokens["refresh_token"]
            assert _claims(rotated.json()["access_token"])["cnf"] == {"jkt": key.thumbprint()}

    anyio.run(scenario)


def test_a_code_bound_with_dpop_jkt_across_two_instances(
    servers: tuple[Server, Server], issuer: str
) -> None:
    """A browser login at A for a client registered at A (RFC 7591) with ``dpop_jkt``; the code
    is exchanged at B, which needs a proof made with that key (RFC 9449 §10)."""
    a_server, b_server = servers
    key = jwtkit.Key.generate("ES256")
    other = jwtkit.Key.generate("ES256")
    redirect_uri = "http://127.0.0.1:9/callback"

    def proof(signer: jwtkit.Key, nonce: str | None = None) -> str:
        return create_proof(signer, method="POST", url=f"{issuer}/token", nonce=nonce)

    async def scenario() -> None:
        async with (
            httpx.AsyncClient(base_url=a_server.url, timeout=10, trust_env=False) as a,
            httpx.AsyncClient(base_url=b_server.url, timeout=10, trust_env=False) as b,
        ):
            created = await a.post("/users", json={"username": "alice", "password": PASSWORD})
            assert created.status_code == 201, created.text
            registered = await a.post(
                "/register",
                json={
                    "redirect_uris": [redirect_uri],
                    "token_endpoint_auth_method": "none",
                    "grant_types": ["authorization_code", "refresh_token"],
                },
            )
            assert registered.status_code == 201, registered.text
            client_id = registered.json()["client_id"]

            async def code() -> tuple[str, str]:
                """(code, code_verifier) of a login and consent at A, bound to ``key``."""
                verifier, challenge = pkce()
                page = await a.get(
                    "/authorize",
                    params={
                        "response_type": "code",
                        "client_id": client_id,
                        "redirect_uri": redirect_uri,
                        "scope": "openid offline_access",
                        "state": "s",
                        "code_challenge": challenge,
                        "code_challenge_method": "S256",
                        "dpop_jkt": key.thumbprint(),
                    },
                )
                while page.status_code == 200:  # the login page, then the consent page
                    form = form_of(page)
                    fields = {**form.fields, "username": "alice", "password": PASSWORD}
                    if "password" not in form.fields:
                        fields = {**form.fields, "decision": "allow"}
                    page = await a.post(form.action, data=fields)
                assert page.status_code in (302, 303), page.text
                return query_of(page.headers["location"])["code"], verifier

            def exchange(code: str, verifier: str) -> dict[str, str]:
                return {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect_uri,
                    "code_verifier": verifier,
                    "client_id": client_id,
                }

            code_, verifier = await code()
            asked = await b.post(
                "/token", data=exchange(code_, verifier), headers={"DPoP": proof(other)}
            )
            assert asked.json()["error"] == "use_dpop_nonce", asked.text
            nonce = asked.headers["dpop-nonce"]  # the code is not spent by this answer
            refused = await b.post(
                "/token", data=exchange(code_, verifier), headers={"DPoP": proof(other, nonce)}
            )
            assert refused.status_code == 400, refused.text
            assert refused.json()["error"] == "invalid_grant"
            assert "dpop_jkt" in refused.json()["error_description"]
            code_, verifier = await code()
            exchanged = await b.post(
                "/token", data=exchange(code_, verifier), headers={"DPoP": proof(key, nonce)}
            )
            assert exchanged.status_code == 200, exchanged.text
            tokens = exchanged.json()
            assert tokens["token_type"] == "DPoP"
            assert _claims(tokens["access_token"])["cnf"] == {"jkt": key.thumbprint()}
            refresh = {
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_id": client_id,
            }
            stolen = await a.post("/token", data=refresh, headers={"DPoP": proof(other, nonce)})
            assert stolen.json()["error"] == "invalid_grant", stolen.text
            rotated = await a.post("/token", data=refresh, headers={"DPoP": proof(key, nonce)})
            assert rotated.status_code == 200, rotated.text

    anyio.run(scenario)
