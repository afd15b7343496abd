"""Server-provided nonces (RFC 9449 §8, §9): ``DPoPNonces`` and the verifier's nonce flow."""

from __future__ import annotations

import pytest

import jwtkit
from jwtkit.dpop import DPoPNonces, DPoPVerifier, create_proof
from jwtkit.errors import DPoPNonceRequired, InvalidDPoPProof, UsageError
from jwtkit.testing import FrozenClock

NOW = 1_700_000_000
URL = "https://api.example/items"
SECRET = b"s" * 32


@pytest.fixture(scope="module")
def key() -> jwtkit.Key:
    return jwtkit.Key.generate("ES256")


def test_nonce_is_accepted_for_its_lifetime() -> None:
    clock = FrozenClock(NOW)
    nonces = DPoPNonces(SECRET, lifetime=300, clock=clock)
    nonce = nonces.issue()
    assert nonces.check(nonce)
    clock.advance(299)
    assert nonces.check(nonce)
    clock.advance(1)
    assert not nonces.check(nonce)


def test_nonce_from_the_future_is_refused() -> None:
    clock = FrozenClock(NOW + 60)
    nonce = DPoPNonces(SECRET, clock=clock).issue()
    clock.set(NOW)
    assert not DPoPNonces(SECRET, clock=clock).check(nonce)


def test_nonce_is_shared_by_instances_with_the_same_secret() -> None:
    clock = FrozenClock(NOW)
    nonce = DPoPNonces(SECRET, clock=clock).issue()
    assert DPoPNonces(SECRET, clock=clock).check(nonce)
    assert not DPoPNonces(b"t" * 32, clock=clock).check(nonce)


@pytest.mark.parametrize("nonce", ["", "abc", "A" * 54, "!" * 54, None])
def test_forged_nonces_are_refused(nonce: object) -> None:
    assert not DPoPNonces(SECRET).check(nonce)  # type: ignore[arg-type]


def test_nonce_is_nqchars_and_changes_with_time() -> None:
    clock = FrozenClock(NOW)
    nonces = DPoPNonces(SECRET, clock=clock)
    first = nonces.issue()
    clock.advance(1)
    assert nonces.issue() != first
    assert first.isascii()
    assert '"' not in first
    assert " " not in first


@pytest.mark.parametrize(
    ("secret", "lifetime"), [(b"short", 300), ("s" * 32, 300), (SECRET, 0), (SECRET, "1")]
)
def test_nonce_settings_are_checked(secret: object, lifetime: object) -> None:
    with pytest.raises(UsageError):
        DPoPNonces(secret, lifetime=lifetime)  # type: ignore[arg-type]


def test_missing_nonce_asks_for_one(key: jwtkit.Key) -> None:
    clock = FrozenClock(NOW)
    nonces = DPoPNonces(SECRET, clock=clock)
    verifier = DPoPVerifier(nonces=nonces, clock=clock)
    proof = create_proof(key, method="GET", url=URL, clock=clock)
    with pytest.raises(DPoPNonceRequired) as excinfo:
        verifier.verify(proof, method="GET", url=URL)
    assert excinfo.value.code == "use_dpop_nonce"
    assert isinstance(excinfo.value, InvalidDPoPProof)
    assert nonces.check(excinfo.value.nonce)
    # The refused proof is not remembered: the client retries with the nonce, a new proof.
    retry = create_proof(key, method="GET", url=URL, clock=clock, nonce=excinfo.value.nonce)
    assert verifier.verify(retry, method="GET", url=URL).claims["nonce"] == excinfo.value.nonce


def test_stale_nonce_asks_for_a_new_one(key: jwtkit.Key) -> None:
    clock = FrozenClock(NOW)
    nonces = DPoPNonces(SECRET, lifetime=30, clock=clock)
    verifier = DPoPVerifier(nonces=nonces, clock=clock)
    old = nonces.issue()
    clock.advance(31)
    proof = create_proof(key, method="GET", url=URL, clock=clock, nonce=old)
    with pytest.raises(DPoPNonceRequired, match="no longer") as excinfo:
        verifier.verify(proof, method="GET", url=URL)
    assert excinfo.value.nonce != old
    assert nonces.check(excinfo.value.nonce)


def test_nonce_of_another_server_is_refused(key: jwtkit.Key) -> None:
    clock = FrozenClock(NOW)
    verifier = DPoPVerifier(nonces=DPoPNonces(SECRET, clock=clock), clock=clock)
    foreign = DPoPNonces(b"x" * 32, clock=clock).issue()
    with pytest.raises(DPoPNonceRequired):
        verifier.verify(create_proof(key, method="GET", url=URL, clock=clock, nonce=foreign),
                        method="GET", url=URL)  # fmt: skip


def test_nonce_that_is_no_string_is_refused(key: jwtkit.Key) -> None:
    clock = FrozenClock(NOW)
    verifier = DPoPVerifier(nonces=DPoPNonces(SECRET, clock=clock), clock=clock)
    header = {"typ": "dpop+jwt", "jwk": key.public_key().to_jwk()}
    claims = b'{"jti":"j","htm":"GET","htu":"%s","iat":%d,"nonce":5}' % (URL.encode(), NOW)
    proof = jwtkit.jws.sign(claims, key, "ES256", header)
    with pytest.raises(DPoPNonceRequired):
        verifier.verify(proof, method="GET", url=URL)


def test_nonce_is_ignored_without_nonces(key: jwtkit.Key) -> None:
    clock = FrozenClock(NOW)
    proof = create_proof(key, method="GET", url=URL, clock=clock, nonce="whatever")
    assert DPoPVerifier(clock=clock).verify(proof, method="GET", url=URL).claims["nonce"] == (
        "whatever"
    )
