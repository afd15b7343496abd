"""ID tokens on their own (OpenID Connect Core §2, §3.1.3.6) and the id_token_hint reader."""

from __future__ import annotations

import pytest
from conftest import T0, Harness

import jwtkit
from jwtkit.oidc import token_hash
from jwtkit.server.id_tokens import issue_id_token, read_id_token_hint

pytestmark = pytest.mark.anyio


#: Published examples (values, not code): PingIdentity's worked at_hash example (RS256), and the
#: README of the oidc-token-hash package (RS256; EdDSA with Ed25519, SHA-512 as decided in
#: OpenID Connect issue #1125 and the OpenID Connect Token Hash Algorithms guide).
_EXAMPLE = (
    "YmJiZTAwYmYtMzgyOC00NzhkLTkyOTItNjJjNDM3MGYzOWIy9sFhvH8K_x8UIHj1osisS57f5DduL-ar_qw5jl3l"
    "thwpMjm283aVMQXDmoqqqydDSqJfbhptzw8rUVwkuQbolw"
)


@pytest.mark.parametrize(
    ("token", "algorithm", "expected"),
    [
        ("dNZX1hEZ9wBCzNL40Upu646bdzQA", "RS256", "wfgvmE9VxjAudsl9lc6TqA"),
        (_EXAMPLE, "RS256", "x7vk7f6BvQj0jQHYFIk4ag"),
        (_EXAMPLE, "EdDSA", "EGEAhGYyfuwDaVTifvrWSoD5MSy_5hZPy6I7Vm-7pTQ"),
    ],
)
def test_at_hash_matches_published_examples(token: str, algorithm: str, expected: str) -> None:
    key = jwtkit.OKPKey.generate("Ed25519") if algorithm == "EdDSA" else None
    assert token_hash(token, algorithm, key) == expected


async def test_an_id_token_without_nonce_or_session_leaves_them_out(harness: Harness) -> None:
    service = harness.service
    token = issue_id_token(
        service.keyring,
        harness.settings,
        client_id="web",
        algorithm=None,
        user_id="u1",
        now=T0,
        auth_time=T0 - 5,
        nonce=None,
        sid=None,
        access_token="access",
    )
    claims = jwtkit.decode_unverified(token).claims
    assert "nonce" not in claims
    assert "sid" not in claims
    assert (claims["aud"], claims["azp"], claims["auth_time"]) == ("web", "web", int(T0 - 5))
    assert read_id_token_hint(service.keyring, harness.settings, token) == claims


async def test_a_hint_is_read_only_when_it_is_an_id_token_of_this_service(
    harness: Harness,
) -> None:
    service = harness.service
    keyring, settings = service.keyring, harness.settings
    assert read_id_token_hint(keyring, settings, "x" * 20_000) is None
    key = keyring.signing_key("RS256")
    several = jwtkit.encode(
        {"iss": settings.issuer, "sub": "u1", "aud": ["a", "b"], "iat": int(T0)},
        key,
        algorithm="RS256",
    )
    assert read_id_token_hint(keyring, settings, several) is None
    foreign = jwtkit.encode(
        {"iss": settings.issuer, "sub": "u1", "aud": "web"},
        jwtkit.RSAKey.generate("RS256"),
        algorithm="RS256",
    )
    assert read_id_token_hint(keyring, settings, foreign) is None
