"""The provider's metadata: one document at both well-known URLs (RFC 8414 §3, OpenID
Connect Discovery 1.0 §4), checked by authlib's validators, which no one here wrote."""

from __future__ import annotations

import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oidc import discovery, rpinitiated
from conftest import RunApp

pytestmark = pytest.mark.anyio

ISSUER = "https://login.example"


async def test_the_metadata_passes_authlibs_rfc8414_and_openid_validators(
    run_app: RunApp,
) -> None:
    async with run_app(issuer=ISSUER, environment="development") as harness:
        oauth = (await harness.http.get("/.well-known/oauth-authorization-server")).json()
        openid = (await harness.http.get("/.well-known/openid-configuration")).json()
    assert oauth == openid
    AuthorizationServerMetadata(oauth).validate()
    discovery.OpenIDProviderMetadata(openid).validate(
        metadata_classes=[rpinitiated.OpenIDProviderMetadata]
    )
    assert openid["response_types_supported"] == ["code"]
    assert openid["code_challenge_methods_supported"] == ["S256"]
    assert openid["authorization_response_iss_parameter_supported"] is True
    assert openid["subject_types_supported"] == ["public"]
    assert "RS256" in openid["id_token_signing_alg_values_supported"]
    assert openid["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert openid["end_session_endpoint"] == f"{ISSUER}/logout"
    assert "authorization_code" in openid["grant_types_supported"]
    assert {"openid", "profile", "email", "offline_access"} <= set(openid["scopes_supported"])


async def test_the_password_grant_is_listed_only_when_on(run_app: RunApp) -> None:
    async with run_app(issuer=ISSUER, environment="development", password_grant=False) as h:
        metadata = (await h.http.get("/.well-known/openid-configuration")).json()
    assert "password" not in metadata["grant_types_supported"]
