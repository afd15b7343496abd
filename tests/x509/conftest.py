"""Chains shared by the x5c tests: one root, one intermediate, and a leaf per key type."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

import jwtkit
from jwtkit.testing import FrozenClock
from jwtkit.x509 import ChainPolicy

from . import pki

#: The algorithm each leaf key type signs with.
ALGORITHMS = {"RSA": "RS256", "EC": "ES256", "OKP": "EdDSA"}


@pytest.fixture(scope="session")
def ca() -> pki.Issued:
    return pki.root()


@pytest.fixture(scope="session")
def intermediate(ca: pki.Issued) -> pki.Issued:
    return pki.intermediate(ca)


@pytest.fixture(scope="session")
def signing_keys() -> dict[str, pki.PrivateKey]:
    return {
        "RSA": rsa.generate_private_key(65537, 2048),
        "EC": ec.generate_private_key(ec.SECP256R1()),
        "OKP": ed25519.Ed25519PrivateKey.generate(),
    }


@pytest.fixture(scope="session")
def leaves(
    intermediate: pki.Issued, signing_keys: dict[str, pki.PrivateKey]
) -> dict[str, pki.Issued]:
    return {kty: pki.leaf(intermediate, key) for kty, key in signing_keys.items()}


@pytest.fixture(scope="session")
def ec_leaf(leaves: dict[str, pki.Issued]) -> pki.Issued:
    return leaves["EC"]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(pki.NOW)


@pytest.fixture
def policy(ca: pki.Issued, clock: FrozenClock) -> ChainPolicy:
    return ChainPolicy([ca.certificate], clock=clock)


def chain(*issued: pki.Issued) -> list[str]:
    """An ``x5c`` value: the certificates in the order given."""
    return [item.x5c for item in issued]


def token(signer: pki.PrivateKey, x5c: list[str] | None, algorithm: str, **header: Any) -> str:
    """A JWT signed by ``signer`` whose header carries ``x5c`` (and ``header``)."""
    if x5c is not None:
        header["x5c"] = x5c
    key = jwtkit.Key.from_cryptography(signer)
    return jwtkit.encode({"sub": "42"}, key, algorithm=algorithm, headers=header)
