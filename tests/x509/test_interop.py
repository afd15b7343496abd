"""Tokens with an x5c header made by other JOSE libraries verify through a ChainPolicy."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization
from joserfc import jwt as joserfc_jwt
from joserfc.jwk import ECKey as JoserfcECKey
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jwt as jwcrypto_jwt

import jwtkit
from jwtkit import errors
from jwtkit.testing import FrozenClock
from jwtkit.x509 import ChainPolicy, X5CKeyProvider

from . import pki
from .conftest import chain


def _pem(issued: pki.Issued) -> bytes:
    return issued.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _jwcrypto_token(issued: pki.Issued, x5c: list[str]) -> str:
    key = jwcrypto_jwk.JWK.from_pem(_pem(issued))
    made = jwcrypto_jwt.JWT(header={"alg": "ES256", "x5c": x5c}, claims={"sub": "42"})
    made.make_signed_token(key)
    token: str = made.serialize()
    return token


def _joserfc_token(issued: pki.Issued, x5c: list[str]) -> str:
    key = JoserfcECKey.import_key(_pem(issued))
    return joserfc_jwt.encode({"alg": "ES256", "x5c": x5c}, {"sub": "42"}, key)


@pytest.mark.parametrize("make", [_jwcrypto_token, _joserfc_token])
def test_a_token_with_x5c_from_another_library_verifies(
    make: Callable[[pki.Issued, list[str]], str],
    policy: ChainPolicy,
    ec_leaf: pki.Issued,
    intermediate: pki.Issued,
) -> None:
    x5c = chain(ec_leaf, intermediate)
    jwt = make(ec_leaf, x5c)
    decoded = jwtkit.decode_complete(jwt, X5CKeyProvider(policy), algorithms=["ES256"])
    assert decoded.header["x5c"] == x5c
    assert decoded.claims == {"sub": "42"}


def test_another_library_token_is_refused_when_the_chain_is_not_trusted(
    ec_leaf: pki.Issued, intermediate: pki.Issued
) -> None:
    policy = ChainPolicy([pki.root().certificate], clock=FrozenClock(pki.NOW))
    jwt = _jwcrypto_token(ec_leaf, chain(ec_leaf, intermediate))
    with pytest.raises(errors.UntrustedCertificate):
        jwtkit.decode(jwt, X5CKeyProvider(policy), algorithms=["ES256"])


def test_a_jwk_with_x5c_exported_by_jwcrypto_validates(
    policy: ChainPolicy, ec_leaf: pki.Issued, intermediate: pki.Issued
) -> None:
    exported = jwcrypto_jwk.JWK.from_pem(_pem(ec_leaf)).export_public(as_dict=True)
    exported["x5c"] = chain(ec_leaf, intermediate)
    key = jwtkit.Key.from_jwk(json.dumps(exported))
    key.verify_certificate_chain(policy)
