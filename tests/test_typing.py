"""The public API's types, checked by mypy --strict (this file must type-check) and run.

Each ``assert_type`` fails the type check if a public signature loses precision, e.g. if
``ECKey.generate()`` stopped returning ``ECKey`` or ``decode`` stopped returning a dict.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

import jwtkit
from jwtkit import jws
from jwtkit.jwk import ECKey, Key, KeySet, OctKey, OKPKey, RSAKey
from jwtkit.testing import FrozenClock


def test_public_signatures_keep_their_types() -> None:
    ec_key = assert_type(ECKey.generate(), ECKey)
    assert_type(OKPKey.generate(), OKPKey)
    assert_type(OctKey.generate(256), OctKey)
    assert_type(Key.generate("RS256"), Key)
    assert_type(RSAKey.from_pem(Key.generate("RS256").to_pem(private=True)), RSAKey)
    public = assert_type(ec_key.public_key(), ECKey)
    assert_type(Key.from_jwk(public.to_jwk()), Key)
    assert_type(KeySet([public]).to_jwks(), dict[str, Any])

    token = assert_type(jwtkit.encode({"sub": "1"}, ec_key, algorithm="ES256"), str)
    assert_type(jwtkit.decode(token, public, algorithms=["ES256"]), dict[str, Any])
    complete = assert_type(
        jwtkit.decode_complete(token, public, algorithms=["ES256"]), jwtkit.DecodedJWT
    )
    assert_type(complete.header, dict[str, Any])
    assert_type(complete.claims, dict[str, Any])

    clock = FrozenClock(1_700_000_000)
    verifier = jwtkit.Verifier(public, algorithms=["ES256"], clock=clock)
    assert_type(verifier.decode(token), dict[str, Any])

    signed = assert_type(jws.sign(b"payload", ec_key, algorithm="ES256"), str)
    result = assert_type(jws.verify(signed, public, algorithms=["ES256"]), jws.VerifiedJWS)
    assert_type(result.payload, bytes)
    assert result.payload == b"payload"
    assert complete.claims == {"sub": "1"}
