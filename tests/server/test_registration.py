"""Dynamic Client Registration (RFC 7591) through the app: ``POST /register``.

Registered clients work at the token endpoint; every kind of refused metadata has its own test
and its RFC 7591 §3.2.2 error; the modes of ``client_registration`` (open, token, off), the
per-address limit and the audit event.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from conftest import PASSWORD, T0, Harness, RunApp

import jwtkit
from jwtkit.server.client_assertions import CLIENT_ASSERTION_TYPE
from jwtkit.server.clients import is_first_party
from jwtkit.server.oauth_errors import OAuthError
from jwtkit.server.registration import ID_TOKEN_SIGNING_ALGORITHMS, parse_client_metadata

pytestmark = pytest.mark.anyio


@pytest.fixture
async def harness(run_app: RunApp) -> AsyncIterator[Harness]:
    """The service with ID tokens in every algorithm a client may register."""
    async with run_app(id_token_algorithms=ID_TOKEN_SIGNING_ALGORITHMS) as running:
        yield running


#: What an MCP client typically sends: a public native app on a loopback port.
NATIVE_APP: dict[str, Any] = {
    "client_name": "Example MCP client",
    "redirect_uris": ["http://127.0.0.1:33418/callback"],
    "token_endpoint_auth_method": "none",
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
}
#: A backend that calls APIs in its own name.
SERVICE: dict[str, Any] = {"grant_types": ["client_credentials"], "scope": "profile"}
TOKEN = "registration-token-" + "x" * 32
PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "issuer": "https://id.example",
    "argon2_memory_cost": 19456,
}


async def _register(harness: Harness, metadata: Any, **headers: str) -> httpx.Response:
    return await harness.http.post("/register", json=metadata, headers=headers)


async def _registered(harness: Harness, metadata: Any) -> dict[str, Any]:
    response = await _register(harness, metadata)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _refused(
    response: httpx.Response, status: int, error: str, description: str = ""
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    assert body["error"] == error, body
    assert description in body["error_description"], body
    return body


async def _metadata(harness: Harness) -> dict[str, Any]:
    document: dict[str, Any] = (
        await harness.http.get("/.well-known/oauth-authorization-server")
    ).json()
    return document


# -- registration ----------------------------------------------------------------------------


async def test_a_public_client_registers(harness: Harness) -> None:
    response = await _register(harness, NATIVE_APP)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    answer = response.json()
    client_id = answer.pop("client_id")
    assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", client_id)
    assert answer == {
        "client_id_issued_at": int(T0),
        "client_name": "Example MCP client",
        "redirect_uris": ["http://127.0.0.1:33418/callback"],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": "openid profile email offline_access",
    }
    client = await harness.store.client_by_id(client_id)
    assert client is not None
    assert client.secret_hash is None
    assert client.grant_types == ("authorization_code", "refresh_token")
    assert client.redirect_uris == ("http://127.0.0.1:33418/callback",)
    assert client.scopes == ("openid", "profile", "email", "offline_access")
    assert client.name == "Example MCP client"
    assert client.created_at == T0
    # Never first-party: its users always see the consent page.
    assert client.first_party is False
    assert not is_first_party(client_id, client, harness.settings)
    assert client.audiences == ()


async def test_a_confidential_client_registers_and_gets_a_client_credentials_token(
    harness: Harness,
) -> None:
    answer = await _registered(harness, SERVICE)
    assert answer["token_endpoint_auth_method"] == "client_secret_basic"  # RFC 7591 §2 default
    assert answer["client_secret_expires_at"] == 0
    assert answer["grant_types"] == ["client_credentials"]
    assert answer["response_types"] == []
    assert answer["scope"] == "profile"
    assert "redirect_uris" not in answer
    client_id, secret = answer["client_id"], answer["client_secret"]
    assert len(secret) >= 43
    client = await harness.store.client_by_id(client_id)
    assert client is not None
    assert client.secret_hash is not None
    assert secret not in client.secret_hash
    token = await harness.http.post(
        "/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert token.status_code == 200, token.text
    assert token.json()["scope"] == "profile"
    wrong = await harness.http.post(
        "/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret + "x")
    )
    await _refused(wrong, 401, "invalid_client")


async def test_client_secret_post_is_registered_and_works(harness: Harness) -> None:
    answer = await _registered(
        harness, {**SERVICE, "token_endpoint_auth_method": "client_secret_post"}
    )
    assert answer["token_endpoint_auth_method"] == "client_secret_post"
    form = {
        "grant_type": "client_credentials",
        "client_id": answer["client_id"],
        "client_secret": answer["client_secret"],
    }
    assert (await harness.http.post("/token", data=form)).status_code == 200


async def test_a_public_client_cannot_get_a_token_in_its_own_name(harness: Harness) -> None:
    answer = await _registered(harness, NATIVE_APP)
    refused = await harness.http.post(
        "/token", data={"grant_type": "client_credentials", "client_id": answer["client_id"]}
    )
    await _refused(refused, 401, "invalid_client")


async def test_a_registered_client_may_not_use_the_password_grant(harness: Harness) -> None:
    await harness.register()
    answer = await _registered(harness, NATIVE_APP)
    login = await harness.login(client_id=answer["client_id"])
    await _refused(login, 400, "unauthorized_client")


async def test_every_registration_gets_its_own_id_and_secret(harness: Harness) -> None:
    first = await _registered(harness, SERVICE)
    second = await _registered(harness, SERVICE)
    assert first["client_id"] != second["client_id"]
    assert first["client_secret"] != second["client_secret"]


async def test_every_kept_member_is_answered_as_stored(harness: Harness) -> None:
    metadata = {
        "client_name": "Web app",
        "redirect_uris": ["https://app.example.com/cb", "https://app.example.com/other"],
        "post_logout_redirect_uris": ["https://app.example.com/bye"],
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
        "scope": "profile openid",
        "id_token_signed_response_alg": "EdDSA",
    }
    answer = await _registered(harness, metadata)
    for name, value in metadata.items():
        assert answer[name] == value, name
    client = await harness.store.client_by_id(answer["client_id"])
    assert client is not None
    assert client.post_logout_redirect_uris == ("https://app.example.com/bye",)
    assert client.id_token_signed_response_alg == "EdDSA"
    assert client.scopes == ("profile", "openid")
    assert client.grant_types == ("authorization_code", "refresh_token", "client_credentials")


@pytest.mark.parametrize("algorithm", ID_TOKEN_SIGNING_ALGORITHMS)
async def test_id_token_algorithms(harness: Harness, algorithm: str) -> None:
    answer = await _registered(harness, {**NATIVE_APP, "id_token_signed_response_alg": algorithm})
    assert answer["id_token_signed_response_alg"] == algorithm


async def test_only_the_configured_id_token_algorithms(run_app: RunApp) -> None:
    async with run_app() as harness:  # id_token_algorithms: RS256 only
        await _refused(
            await _register(harness, {**NATIVE_APP, "id_token_signed_response_alg": "ES256"}),
            400,
            "invalid_client_metadata",
            "id_token_signed_response_alg 'ES256' is not supported: one of RS256",
        )


async def test_unknown_and_ignored_members_are_left_out(harness: Harness) -> None:
    """RFC 7591 §2: unknown members are ignored; contacts and the URLs a client would show
    are ignored too (the server MAY), so the answer tells the client they were not kept."""
    ignored = {
        "contacts": ["admin@example.com"],
        "client_uri": "https://app.example.com",
        "logo_uri": "http://evil.example/logo.png",
        "tos_uri": "https://app.example.com/tos",
        "policy_uri": "https://app.example.com/policy",
        "software_id": "4NRB1-0XZABZI9E6-5SM3R",
        "software_version": "2.1",
        "x-unknown": {"nested": [1, 2, 3]},
    }
    answer = await _registered(harness, {**NATIVE_APP, **ignored})
    assert not set(ignored) & set(answer)


async def test_null_members_count_as_omitted(harness: Harness) -> None:
    nulls = {
        "token_endpoint_auth_method": None,
        "response_types": None,
        "scope": None,
        "client_name": None,
        "post_logout_redirect_uris": None,
        "id_token_signed_response_alg": None,
        "software_statement": None,
    }
    answer = await _registered(harness, {**SERVICE, **nulls, "scope": None})
    assert answer["token_endpoint_auth_method"] == "client_secret_basic"
    assert answer["response_types"] == []
    assert answer["scope"] == "openid profile email offline_access"
    assert "client_name" not in answer


async def test_the_defaults_register_a_code_flow_client(harness: Harness) -> None:
    """grant_types defaults to authorization_code, response_types to code (RFC 7591 §2),
    the authentication method to client_secret_basic, the scope to every offered scope."""
    answer = await _registered(harness, {"redirect_uris": ["https://app.example.com/cb"]})
    assert answer["grant_types"] == ["authorization_code"]
    assert answer["response_types"] == ["code"]
    assert answer["token_endpoint_auth_method"] == "client_secret_basic"
    assert answer["scope"] == "openid profile email offline_access"
    assert "client_secret" in answer


async def test_repeated_values_are_registered_once(harness: Harness) -> None:
    answer = await _registered(
        harness,
        {
            **NATIVE_APP,
            "grant_types": ["authorization_code", "authorization_code"],
            "response_types": ["code", "code"],
            "scope": "openid openid",
        },
    )
    assert answer["grant_types"] == ["authorization_code"]
    assert answer["response_types"] == ["code"]
    assert answer["scope"] == "openid"


async def test_native_apps_may_register_private_use_schemes(harness: Harness) -> None:
    uris = ["com.example.app:/oauth2redirect", "http://[::1]/cb", "http://localhost:8080/cb"]
    answer = await _registered(harness, {**NATIVE_APP, "redirect_uris": uris})
    assert answer["redirect_uris"] == uris


async def test_the_scope_is_within_the_offered_scopes(run_app: RunApp) -> None:
    async with run_app(default_scope="openid profile mcp:tools") as harness:
        answer = await _registered(harness, {**SERVICE, "scope": "mcp:tools"})
        assert answer["scope"] == "mcp:tools"
        everything = await _registered(harness, {"grant_types": ["client_credentials"]})
        assert everything["scope"] == "openid profile email offline_access mcp:tools"
        assert (await _metadata(harness))["scopes_supported"] == [
            "openid",
            "profile",
            "email",
            "offline_access",
            "mcp:tools",
        ]
    async with run_app(default_scope="") as harness:
        await _refused(
            await _register(harness, {**SERVICE, "scope": "mcp:tools"}),
            400,
            "invalid_client_metadata",
            "scope not offered by this server: mcp:tools (offered: openid profile email "
            "offline_access)",
        )


async def test_the_metadata_names_the_registration_endpoint(harness: Harness) -> None:
    metadata = await _metadata(harness)
    assert metadata["registration_endpoint"] == "http://127.0.0.1:8000/register"
    oidc = (await harness.http.get("/.well-known/openid-configuration")).json()
    assert oidc["registration_endpoint"] == metadata["registration_endpoint"]


async def test_the_openapi_document_describes_the_endpoint(harness: Harness) -> None:
    document = (await harness.http.get("/openapi.json")).json()
    operation = document["paths"]["/register"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["token_endpoint_auth_method"]["enum"] == [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
        "none",
    ]
    assert {"201", "400", "401", "415", "429"} <= set(operation["responses"])


# -- refused metadata ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uris", "description"),
    [
        (["http://app.example.com/cb"], "http is only for a loopback host"),
        (["https://app.example.com/cb#fragment"], "must not have a fragment"),
        (["https://*.example.com/cb"], "wildcards are not allowed"),
        (["https://app.example.com/*"], "wildcards are not allowed"),
        (["/relative/cb"], "must be an absolute URI"),
        (["https://user@app.example.com/cb"], "must not contain userinfo"),
        (["javascript:alert(1)"], "reverse domain name"),
        (["https://app.example.com/cb", "https://app.example.com/cb"], "registered twice"),
        ([f"https://app.example.com/{n}" for n in range(21)], "at most 20 redirect URIs"),
        ([], "needs at least one redirect URI"),
    ],
    ids=[
        "http-not-loopback",
        "fragment",
        "wildcard-host",
        "wildcard-path",
        "relative",
        "userinfo",
        "javascript",
        "twice",
        "too-many",
        "none",
    ],
)
async def test_bad_redirect_uris(harness: Harness, uris: list[str], description: str) -> None:
    response = await _register(harness, {**NATIVE_APP, "redirect_uris": uris})
    await _refused(response, 400, "invalid_redirect_uri", description)
    assert await harness.store.list_clients() == []


async def test_the_code_flow_needs_redirect_uris(harness: Harness) -> None:
    metadata = {key: value for key, value in NATIVE_APP.items() if key != "redirect_uris"}
    await _refused(
        await _register(harness, metadata),
        400,
        "invalid_redirect_uri",
        "needs at least one redirect URI",
    )


async def test_a_confidential_client_may_not_register_a_private_use_scheme(
    harness: Harness,
) -> None:
    metadata = {**NATIVE_APP, "token_endpoint_auth_method": "client_secret_basic"}
    metadata["redirect_uris"] = ["com.example.app:/cb"]
    await _refused(
        await _register(harness, metadata), 400, "invalid_redirect_uri", "public clients"
    )


@pytest.mark.parametrize("uris", ["https://app.example.com/cb", [1], {"a": "b"}])
async def test_redirect_uris_must_be_an_array_of_strings(harness: Harness, uris: Any) -> None:
    await _refused(
        await _register(harness, {**NATIVE_APP, "redirect_uris": uris}),
        400,
        "invalid_redirect_uri",
        "redirect_uris must be an array of strings",
    )


async def test_redirect_uris_without_the_code_flow(harness: Harness) -> None:
    metadata = {**SERVICE, "redirect_uris": ["https://app.example.com/cb"]}
    await _refused(
        await _register(harness, metadata),
        400,
        "invalid_client_metadata",
        "redirect URIs are only for the authorization_code grant",
    )


async def test_the_password_grant_cannot_be_registered(harness: Harness) -> None:
    metadata = {**NATIVE_APP, "grant_types": ["authorization_code", "password"]}
    await _refused(
        await _register(harness, metadata),
        400,
        "invalid_client_metadata",
        "the password grant cannot be registered",
    )


@pytest.mark.parametrize(
    "grant",
    [
        "implicit",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "urn:ietf:params:oauth:grant-type:device_code",
    ],
)
async def test_unknown_grants(harness: Harness, grant: str) -> None:
    metadata = {**NATIVE_APP, "grant_types": ["authorization_code", grant]}
    await _refused(
        await _register(harness, metadata),
        400,
        "invalid_client_metadata",
        "is not supported: one of authorization_code, client_credentials, refresh_token",
    )


async def test_grant_types_must_not_be_empty(harness: Harness) -> None:
    await _refused(
        await _register(harness, {**NATIVE_APP, "grant_types": []}),
        400,
        "invalid_client_metadata",
        "grant_types must name at least one grant",
    )


async def test_grant_types_must_be_an_array_of_strings(harness: Harness) -> None:
    await _refused(
        await _register(harness, {**NATIVE_APP, "grant_types": "authorization_code"}),
        400,
        "invalid_client_metadata",
        "grant_types must be an array of strings",
    )


async def test_refresh_tokens_come_with_the_code_flow(harness: Harness) -> None:
    await _refused(
        await _register(harness, {"grant_types": ["client_credentials", "refresh_token"]}),
        400,
        "invalid_client_metadata",
        "the refresh_token grant comes with authorization_code",
    )


async def test_a_public_client_cannot_use_client_credentials(harness: Harness) -> None:
    metadata = {**SERVICE, "token_endpoint_auth_method": "none"}
    await _refused(
        await _register(harness, metadata),
        400,
        "invalid_client_metadata",
        "a public client (without a secret) cannot use client_credentials",
    )


@pytest.mark.parametrize("response_type", ["token", "id_token", "code id_token", "none"])
async def test_only_the_code_response_type(harness: Harness, response_type: str) -> None:
    metadata = {**NATIVE_APP, "response_types": ["code", response_type]}
    await _refused(
        await _register(harness, metadata),
        400,
        "invalid_client_metadata",
        f"response type '{response_type}' is not supported: only code",
    )


@pytest.mark.parametrize(
    "metadata",
    [
        {**NATIVE_APP, "response_types": []},
        {**SERVICE, "response_types": ["code"]},
        {"response_types": ["code"], "grant_types": ["client_credentials"]},
    ],
    ids=["code-flow-without-code", "code-without-code-flow", "code-with-client-credentials"],
)
async def test_response_types_must_match_the_grants(
    harness: Harness, metadata: dict[str, Any]
) -> None:
    """RFC 7591 §2.1: the code response type goes with the authorization_code grant."""
    await _refused(
        await _register(harness, metadata),
        400,
        "invalid_client_metadata",
        "response_types and grant_types disagree",
    )


async def test_an_unknown_scope(harness: Harness) -> None:
    await _refused(
        await _register(harness, {**NATIVE_APP, "scope": "openid admin mcp:tools"}),
        400,
        "invalid_client_metadata",
        "scope not offered by this server: admin mcp:tools (offered: openid profile email"
        " offline_access)",
    )


@pytest.mark.parametrize("scope", ["", "openid  profile", " openid", 'a"b', ["openid"]])
async def test_a_malformed_scope(harness: Harness, scope: Any) -> None:
    response = await _register(harness, {**NATIVE_APP, "scope": scope})
    await _refused(response, 400, "invalid_client_metadata", "scope must be")


@pytest.mark.parametrize("algorithm", ["HS256", "none", "PS256", "rs256", 256])
async def test_a_bad_id_token_algorithm(harness: Harness, algorithm: Any) -> None:
    response = await _register(harness, {**NATIVE_APP, "id_token_signed_response_alg": algorithm})
    await _refused(response, 400, "invalid_client_metadata", "id_token_signed_response_alg")


@pytest.mark.parametrize(
    "name",
    ["x" * 201, "", " padded", "Tab\tname", "Right\u202eleft", 42],
    ids=["too-long", "empty", "padded", "tab", "bidi-override", "number"],
)
async def test_a_bad_client_name(harness: Harness, name: Any) -> None:
    response = await _register(harness, {**NATIVE_APP, "client_name": name})
    await _refused(response, 400, "invalid_client_metadata", "client")


async def test_a_client_registers_its_keys_and_authenticates_with_them(
    harness: Harness,
) -> None:
    """private_key_jwt (RFC 7523 §2.2): the public keys come as jwks; no secret is made; the
    client then gets a token with an assertion signed by its private key."""
    key = jwtkit.ECKey.generate("ES256", kid="k1")
    public = {"keys": [key.public_key().to_jwk()]}
    metadata = {**SERVICE, "token_endpoint_auth_method": "private_key_jwt", "jwks": public}
    answer = await _registered(harness, metadata)
    assert "client_secret" not in answer
    assert answer["jwks"] == public
    client_id = answer["client_id"]
    now = int(harness.clock())
    assertion = jwtkit.encode(
        {
            "iss": client_id,
            "sub": client_id,
            "aud": harness.settings.issuer,
            "jti": "one",
            "iat": now,
            "exp": now + 60,
        },
        key,
        algorithm="ES256",
    )
    token = await harness.http.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": assertion,
        },
    )
    assert token.status_code == 200, token.text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"jwks": None}, "private_key_jwt needs the client's public keys in jwks"),
        ({"jwks": {"keys": []}}, "jwks: "),
        ({"jwks": ["not", "a", "set"]}, "jwks must be a JWK Set"),
        ({"jwks_uri": "https://app.example.com/jwks.json"}, "jwks_uri is not supported"),
        (
            {"token_endpoint_auth_method": "client_secret_basic"},
            "jwks is only for the private_key_jwt token_endpoint_auth_method",
        ),
    ],
)
async def test_bad_client_keys_are_refused(
    harness: Harness, changes: dict[str, Any], message: str
) -> None:
    key = jwtkit.ECKey.generate("ES256")
    metadata = {
        **SERVICE,
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": {"keys": [key.public_key().to_jwk()]},
        **changes,
    }
    await _refused(await _register(harness, metadata), 400, "invalid_client_metadata", message)


@pytest.mark.parametrize("method", ["client_secret_jwt", "tls_client_auth", "", 1])
async def test_unknown_authentication_methods(harness: Harness, method: Any) -> None:
    response = await _register(harness, {**SERVICE, "token_endpoint_auth_method": method})
    await _refused(response, 400, "invalid_client_metadata", "token_endpoint_auth_method")


async def test_bad_post_logout_redirect_uris(harness: Harness) -> None:
    bad = {**NATIVE_APP, "post_logout_redirect_uris": ["http://app.example.com/bye"]}
    await _refused(await _register(harness, bad), 400, "invalid_client_metadata", "loopback")
    without_code_flow = {**SERVICE, "post_logout_redirect_uris": ["https://app.example.com/"]}
    await _refused(
        await _register(harness, without_code_flow),
        400,
        "invalid_client_metadata",
        "post-logout redirect URIs are only for the authorization_code grant",
    )
    not_array = {**NATIVE_APP, "post_logout_redirect_uris": "https://app.example.com/"}
    await _refused(
        await _register(harness, not_array),
        400,
        "invalid_client_metadata",
        "post_logout_redirect_uris must be an array of strings",
    )


async def test_software_statements_are_not_supported(harness: Harness) -> None:
    metadata = {**NATIVE_APP, "software_statement": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"}
    await _refused(
        await _register(harness, metadata),
        400,
        "unapproved_software_statement",
        "software statements are not supported",
    )


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "text/plain", "application/jwt", None]
)
async def test_the_body_must_be_json(harness: Harness, content_type: str | None) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = await harness.http.post(
        "/register", content=json.dumps(NATIVE_APP).encode(), headers=headers
    )
    await _refused(response, 415, "invalid_request", "application/json")


async def test_a_json_body_in_another_charset_is_refused(harness: Harness) -> None:
    response = await harness.http.post(
        "/register",
        content=json.dumps(NATIVE_APP).encode("utf-16"),
        headers={"Content-Type": "application/json; charset=utf-16"},
    )
    await _refused(response, 400, "invalid_request", "UTF-8")


@pytest.mark.parametrize("body", [b"[{}]", b'"client"', b"42", b"null", b"true"])
async def test_the_metadata_must_be_a_json_object(harness: Harness, body: bytes) -> None:
    response = await harness.http.post(
        "/register", content=body, headers={"Content-Type": "application/json"}
    )
    await _refused(
        response, 400, "invalid_client_metadata", "the client metadata must be a JSON object"
    )


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"",
        b'{"client_name": "a"} {}',
        b'{"client_name": "a", "client_name": "b"}',
        b'{"x": NaN}',
        b'{"x": -Infinity}',
        b"[" * 5000 + b"]" * 5000,
        b'{"client_name": "\xff"}',
    ],
    ids=[
        "truncated",
        "empty",
        "two-values",
        "repeated-member",
        "nan",
        "infinity",
        "deep",
        "bad-utf8",
    ],
)
async def test_malformed_json(harness: Harness, body: bytes) -> None:
    response = await harness.http.post(
        "/register", content=body, headers={"Content-Type": "application/json"}
    )
    await _refused(response, 400, "invalid_request")


async def test_a_body_over_the_limit_is_refused(harness: Harness) -> None:
    metadata = {**NATIVE_APP, "padding": "x" * 70_000}
    await _refused(await _register(harness, metadata), 413, "invalid_request", "exceeds")


def test_the_rules_run_without_the_app() -> None:
    """The metadata rules are framework-free (server/registration.py)."""
    metadata = parse_client_metadata(NATIVE_APP, ("openid",))
    assert metadata.public
    assert metadata.scopes == ("openid",)
    with pytest.raises(OAuthError) as refused:
        parse_client_metadata({"grant_types": ["password"]}, ())
    assert refused.value.error == "invalid_client_metadata"
    assert refused.value.status == 400


# -- modes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [{**PRODUCTION}, {**PRODUCTION, "client_registration": "off"}, {"client_registration": "off"}],
    ids=["production-default", "production-off", "development-off"],
)
async def test_off_the_endpoint_does_not_exist(run_app: RunApp, overrides: dict[str, Any]) -> None:
    async with run_app(**overrides) as harness:
        response = await _register(harness, NATIVE_APP)
        await _refused(response, 404, "not_found")
        assert "registration_endpoint" not in await _metadata(harness)
        assert await harness.store.list_clients() == []


async def test_open_in_production_when_asked_for(run_app: RunApp) -> None:
    async with run_app(**PRODUCTION, client_registration="open") as harness:
        assert (await _metadata(harness))["registration_endpoint"] == "https://id.example/register"
        await _registered(harness, NATIVE_APP)


async def test_open_mode_ignores_an_authorization_header(harness: Harness) -> None:
    await _registered(harness, NATIVE_APP)
    response = await _register(harness, NATIVE_APP, Authorization="Bearer whatever")
    assert response.status_code == 201


@pytest.mark.parametrize("environment", [{}, PRODUCTION], ids=["development", "production"])
async def test_token_mode_asks_for_the_initial_access_token(
    run_app: RunApp, environment: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    settings = {**environment, "client_registration": "token", "client_registration_token": TOKEN}
    async with run_app(**settings) as harness:
        assert "registration_endpoint" in await _metadata(harness)
        missing = await _register(harness, NATIVE_APP)
        await _refused(missing, 401, "invalid_request", "an access token is required")
        assert missing.headers["www-authenticate"] == 'Bearer realm="jwtkit"'
        with caplog.at_level(logging.INFO, logger="jwtkit.audit"):
            wrong = await _register(harness, NATIVE_APP, Authorization=f"Bearer {TOKEN}x")
        await _refused(wrong, 401, "invalid_token", "the initial access token is invalid")
        assert wrong.headers["www-authenticate"] == (
            'Bearer realm="jwtkit", error="invalid_token", '
            'error_description="the initial access token is invalid"'
        )
        malformed = await _register(harness, NATIVE_APP, Authorization="Bearer a b")
        await _refused(malformed, 400, "invalid_request")
        basic = await _register(harness, NATIVE_APP, Authorization=f"Basic {TOKEN}")
        await _refused(basic, 401, "invalid_request")
        assert await harness.store.list_clients() == []
        answer = await _registered_with(harness, NATIVE_APP, TOKEN)
        assert answer["token_endpoint_auth_method"] == "none"
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "jwtkit.audit"]
    refused = [event for event in events if event["event"] == "client_registration_refused"]
    assert refused == [{**refused[0], "client_ip": "203.0.113.7"}]
    assert TOKEN not in caplog.text


async def _registered_with(harness: Harness, metadata: Any, token: str) -> dict[str, Any]:
    response = await _register(harness, metadata, Authorization=f"Bearer {token}")
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_token_mode_checks_the_token_before_the_body(run_app: RunApp) -> None:
    async with run_app(client_registration="token", client_registration_token=TOKEN) as harness:
        response = await harness.http.post("/register", content=b"not json")
        await _refused(response, 401, "invalid_request")


# -- limits and audit ------------------------------------------------------------------------


async def test_registrations_are_limited_per_address(run_app: RunApp) -> None:
    async with run_app(registration_max_per_ip=2) as harness:
        for _ in range(2):
            await _registered(harness, NATIVE_APP)
        # Refused metadata is answered before it is counted.
        bad = await _register(harness, {**NATIVE_APP, "grant_types": ["password"]})
        await _refused(bad, 400, "invalid_client_metadata")
        refused = await _register(harness, NATIVE_APP)
        await _refused(refused, 429, "slow_down", "too many client registrations")
        assert 0 < int(refused.headers["retry-after"]) <= 3600
        assert len(await harness.store.list_clients()) == 2
        # Counted apart from user registrations, and per address.
        await harness.register()
        transport = httpx.ASGITransport(app=harness.app, client=("198.51.100.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            elsewhere = await other.post("/register", json=NATIVE_APP)
            assert elsewhere.status_code == 201, elsewhere.text
        harness.clock.advance(3600)
        await _registered(harness, NATIVE_APP)


async def test_user_registrations_do_not_use_up_client_registrations(run_app: RunApp) -> None:
    async with run_app(registration_max_per_ip=1) as harness:
        await harness.register()
        refused = await harness.http.post("/users", json={"username": "bob", "password": PASSWORD})
        await _refused(refused, 429, "slow_down")
        await _registered(harness, NATIVE_APP)


async def test_a_registration_is_audited_without_its_secret(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="jwtkit.audit"):
        answer = await _registered(harness, SERVICE)
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "jwtkit.audit"]
    registered = [event for event in events if event["event"] == "client_registered"]
    assert registered == [
        {
            "event": "client_registered",
            "time": registered[0]["time"],
            "client_id": answer["client_id"],
            "client_ip": "203.0.113.7",
        }
    ]
    assert answer["client_secret"] not in caplog.text


async def test_a_limited_registration_is_audited(
    run_app: RunApp, caplog: pytest.LogCaptureFixture
) -> None:
    async with run_app(registration_max_per_ip=1) as harness:
        await _registered(harness, NATIVE_APP)
        with caplog.at_level(logging.INFO, logger="jwtkit.audit"):
            await _register(harness, NATIVE_APP)
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "jwtkit.audit"]
    assert [(e["event"], e["client_ip"]) for e in events] == [("rate_limited", "203.0.113.7")]
