"""ID tokens across libraries: jwtkit.oidc and authlib (its OpenID Connect client checks,
``CodeIDToken`` / ``HybridIDToken`` over joserfc, and its provider's ``generate_id_token``)
accept the same tokens and refuse the same wrong nonce, at_hash and c_hash."""

from __future__ import annotations

from typing import Any

import pytest
from authlib.oidc.core import CodeIDToken, HybridIDToken
from authlib.oidc.core.grants.util import generate_id_token
from joserfc import jwt
from joserfc.errors import InvalidClaimError
from joserfc.jwk import KeySet

import jwtkit
from jwtkit import errors
from jwtkit.oidc import IDTokenVerifier, token_hash

ISSUER = "https://id.example"
CLIENT = "web"
T0 = 1_700_000_000
NONCE = "n-0S6_WzA2Mj"
ACCESS_TOKEN = "SlAV32hkKG"
CODE = "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"


@pytest.fixture(scope="module", params=["RS256", "ES256"])
def key(request: pytest.FixtureRequest) -> jwtkit.Key:
    return jwtkit.Key.generate(request.param, kid=f"{request.param}-1")


def _authlib(
    token: str,
    key: jwtkit.Key,
    cls: type[CodeIDToken] = CodeIDToken,
    now: int = T0,
    **params: str,
) -> CodeIDToken:
    """The ID token checked as authlib's client does: joserfc for the signature, then the
    claims class with the request's parameters."""
    keys = KeySet.import_key_set({"keys": [key.public_key().to_jwk()]})
    decoded = jwt.decode(token, keys, algorithms=[str(key.alg)])
    claims = cls(
        decoded.claims,
        decoded.header,
        {"iss": {"essential": True, "value": ISSUER}, "aud": {"essential": True, "value": CLIENT}},
        {"client_id": CLIENT, **params},
    )
    claims.validate(now=now)
    return claims


def _jwtkit(key: jwtkit.Key) -> IDTokenVerifier:
    return IDTokenVerifier(
        key.public_key(), issuer=ISSUER, client_id=CLIENT, algorithms=[str(key.alg)]
    )


def _our_token(key: jwtkit.Key, **changes: Any) -> str:
    alg = str(key.alg)
    claims = {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": CLIENT,
        "exp": T0 + 300,
        "iat": T0,
        "auth_time": T0 - 30,
        "nonce": NONCE,
        "azp": CLIENT,
        "at_hash": token_hash(ACCESS_TOKEN, alg),
        "c_hash": token_hash(CODE, alg),
        **changes,
    }
    return jwtkit.encode(claims, key, algorithm=alg)


def test_a_jwtkit_id_token_passes_authlib_and_jwtkit(key: jwtkit.Key) -> None:
    token = _our_token(key)
    ours = _jwtkit(key).decode(
        token, nonce=NONCE, access_token=ACCESS_TOKEN, code=CODE, max_age=60, now=T0
    )
    theirs = _authlib(
        token, key, HybridIDToken, nonce=NONCE, access_token=ACCESS_TOKEN, code=CODE, max_age="60"
    )
    assert dict(theirs) == ours


def test_an_authlib_id_token_passes_jwtkit(key: jwtkit.Key) -> None:
    alg = str(key.alg)
    token: str = generate_id_token(
        {"access_token": ACCESS_TOKEN},
        {"sub": "user-1"},
        key.to_jwk(private=True),
        ISSUER,
        CLIENT,
        alg=alg,
        nonce=NONCE,
        code=CODE,
        kid=key.kid,
    )
    issued = jwtkit.decode_unverified(token).claims["iat"]  # authlib stamps the real time
    ours = _jwtkit(key).decode(
        token, nonce=NONCE, access_token=ACCESS_TOKEN, code=CODE, max_age=60, now=issued + 1
    )
    assert ours["at_hash"] == token_hash(ACCESS_TOKEN, alg)
    assert ours["c_hash"] == token_hash(CODE, alg)
    assert dict(_authlib(token, key, HybridIDToken, issued + 1, code=CODE)) == ours
    with pytest.raises(errors.InvalidNonce):
        _jwtkit(key).decode(token, nonce="n-other", now=issued + 1)
    with pytest.raises(errors.InvalidTokenHash):
        _jwtkit(key).decode(token, code="another code", now=issued + 1)


@pytest.mark.parametrize(
    ("changes", "request_", "error"),
    [
        ({}, {"nonce": "n-other"}, errors.InvalidNonce),
        (
            {"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"},
            {"access_token": ACCESS_TOKEN},
            errors.InvalidTokenHash,
        ),
        ({"c_hash": "AAAAAAAAAAAAAAAAAAAAAA"}, {"code": CODE}, errors.InvalidTokenHash),
        ({"azp": "another-client"}, {}, errors.InvalidAudience),
    ],
)
def test_both_refuse_the_same_bad_bindings(
    key: jwtkit.Key, changes: dict[str, Any], request_: dict[str, Any], error: type[Exception]
) -> None:
    token = _our_token(key, **changes)
    with pytest.raises(error):
        _jwtkit(key).decode(token, now=T0, **request_)
    with pytest.raises(InvalidClaimError):
        _authlib(token, key, HybridIDToken, **request_)
