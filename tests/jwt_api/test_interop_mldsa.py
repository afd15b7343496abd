"""ML-DSA (RFC 9964) interoperability with jwcrypto, in both directions.

jwcrypto (1.6.0 on, with cryptography 49 or later) reads and writes AKP keys and signs with
ML-DSA-44/65/87; PyJWT and joserfc have no ML-DSA yet. For each parameter set:

* a JWT made by ``jwtkit.encode`` verifies in jwcrypto with the key imported from jwtkit's
  public JWK or PEM, and the reverse, with jwcrypto's exports imported by ``Key.from_jwk`` and
  ``Key.from_pem``;
* private and public JWKs travel both ways and denote the same key (same members, same RFC 9964
  §6 thumbprint, and a signature made with the import verifies with the original);
* a token from the peer with a changed payload, or verified with a key of another parameter
  set, is refused.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws
from jwcrypto import jwt as jwcrypto_jwt

import jwtkit
from jwtkit import Key, jws
from jwtkit._codec import b64url_encode
from jwtkit._keys.mldsa_support import ML_DSA_MIN_CRYPTOGRAPHY, MLDSA_MODULE
from jwtkit.errors import InvalidSignature, JWTError

pytestmark = [
    pytest.mark.skipif(
        MLDSA_MODULE is None, reason=f"ML-DSA needs cryptography >= {ML_DSA_MIN_CRYPTOGRAPHY}"
    ),
    pytest.mark.skipif(
        "AKP" not in jwcrypto_jwk.JWKTypesRegistry,
        reason="this jwcrypto has no AKP keys (1.6.0 added them)",
    ),
]

ALGORITHMS = ["ML-DSA-44", "ML-DSA-65", "ML-DSA-87"]
NOW = int(time.time())
CLAIMS: dict[str, Any] = {"iss": "https://issuer.example", "sub": "u", "iat": NOW, "exp": NOW + 60}


def _peer_key(alg: str) -> Any:
    return jwcrypto_jwk.JWK.generate(kty="AKP", alg=alg)


def _peer_jwt(key: Any, alg: str, claims: dict[str, Any] = CLAIMS) -> str:
    token: Any = jwcrypto_jwt.JWT(header={"alg": alg}, claims=claims)
    token.make_signed_token(key)
    serialized: str = token.serialize()
    return serialized


def _peer_claims(token: str, key: Any, alg: str) -> dict[str, Any]:
    decoded: Any = jwcrypto_jwt.JWT(jwt=token, key=key, algs=[alg])
    claims: dict[str, Any] = json.loads(decoded.claims)
    return claims


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_jwtkit_jwt_verifies_in_jwcrypto(alg: str) -> None:
    key = Key.generate(alg, kid="k1")
    token = jwtkit.encode(CLAIMS, key)
    from_jwk = jwcrypto_jwk.JWK.from_json(json.dumps(key.public_key().to_jwk()))
    assert _peer_claims(token, from_jwk, alg) == CLAIMS
    from_pem = jwcrypto_jwk.JWK.from_pem(key.to_pem())
    assert _peer_claims(token, from_pem, alg) == CLAIMS


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_jwcrypto_jwt_decodes_in_jwtkit(alg: str) -> None:
    peer = _peer_key(alg)
    token = _peer_jwt(peer, alg)
    from_jwk = Key.from_jwk(peer.export_public())
    assert jwtkit.decode(token, from_jwk, algorithms=[alg], now=NOW) == CLAIMS
    from_pem = Key.from_pem(peer.export_to_pem(private_key=False, password=None))
    assert jwtkit.decode(token, from_pem, algorithms=[alg], now=NOW) == CLAIMS
    assert from_pem.alg == alg


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_private_jwks_travel_both_ways_as_the_same_key(alg: str) -> None:
    ours = Key.generate(alg)
    theirs = jwcrypto_jwk.JWK.from_json(json.dumps(ours.to_jwk(private=True)))
    assert theirs.has_private
    assert json.loads(theirs.export_private()) == ours.to_jwk(private=True)
    assert theirs.thumbprint() == ours.thumbprint()
    signed: Any = jwcrypto_jws.JWS(b"from jwcrypto")
    signed.add_signature(theirs, alg=alg, protected=json.dumps({"alg": alg}))
    token = signed.serialize(compact=True)
    assert jws.verify(token, ours.public_key(), algorithms=[alg]).payload == b"from jwcrypto"

    peer = _peer_key(alg)
    imported = Key.from_jwk(peer.export_private())
    assert imported.is_private
    assert imported.to_jwk(private=True) == json.loads(peer.export_private())
    assert imported.thumbprint() == peer.thumbprint()
    mine = jws.sign(b"from jwtkit", imported)
    parsed: Any = jwcrypto_jws.JWS()
    parsed.deserialize(mine)
    parsed.verify(jwcrypto_jwk.JWK.from_json(peer.export_public()), alg=alg)
    assert parsed.payload == b"from jwtkit"


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_jwcrypto_tokens_are_refused_when_changed_or_for_another_parameter_set(alg: str) -> None:
    peer = _peer_key(alg)
    public = Key.from_jwk(peer.export_public())
    header, payload, signature = _peer_jwt(peer, alg).split(".")
    changed = f"{header}.{b64url_encode(json.dumps(dict(CLAIMS, sub='v')).encode())}.{signature}"
    with pytest.raises(InvalidSignature):
        jwtkit.decode(changed, public, algorithms=[alg], now=NOW)
    other = next(name for name in ALGORITHMS if name != alg)
    other_key = Key.from_jwk(_peer_key(other).export_public())
    with pytest.raises(JWTError):
        jwtkit.decode(f"{header}.{payload}.{signature}", other_key, algorithms=ALGORITHMS, now=NOW)
