"""Tokens verified with the key of their own x5c header, once the caller's anchors trust it."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

import jwtkit
from jwtkit import errors
from jwtkit._keys import chains
from jwtkit.testing import FrozenClock
from jwtkit.x509 import ChainPolicy, X5CKeyProvider

from . import pki
from .conftest import ALGORITHMS, chain, token


@pytest.mark.parametrize("kty", ["RSA", "EC", "OKP"])
def test_a_token_verifies_with_the_key_of_its_trusted_chain(
    kty: str, policy: ChainPolicy, leaves: dict[str, pki.Issued], intermediate: pki.Issued
) -> None:
    issued, algorithm = leaves[kty], ALGORITHMS[kty]
    jwt = token(issued.key, chain(issued, intermediate), algorithm)
    verifier = jwtkit.Verifier(X5CKeyProvider(policy), algorithms=[algorithm])
    decoded = verifier.decode_complete(jwt)
    assert decoded.claims == {"sub": "42"}
    assert decoded.key is not None
    assert decoded.key.kty == kty
    assert decoded.key.x5c == tuple(chain(issued, intermediate))
    assert verifier.decode(jwt) == {"sub": "42"}  # the cached header, the chain checked again


def test_the_one_shot_calls_take_the_provider_too(
    policy: ChainPolicy, ec_leaf: pki.Issued, intermediate: pki.Issued
) -> None:
    jwt = token(ec_leaf.key, chain(ec_leaf, intermediate), "ES256")
    provider = X5CKeyProvider(policy)
    assert jwtkit.decode(jwt, provider, algorithms=["ES256"]) == {"sub": "42"}
    assert jwtkit.jws.verify(jwt, provider, algorithms=["ES256"]).payload == b'{"sub":"42"}'


def test_a_jws_json_serialization_takes_the_chain_of_its_protected_header(
    policy: ChainPolicy, ec_leaf: pki.Issued, intermediate: pki.Issued
) -> None:
    signer = jwtkit.jws.Signer(
        jwtkit.Key.from_cryptography(ec_leaf.key),
        "ES256",
        protected={"x5c": chain(ec_leaf, intermediate)},
    )
    data = jwtkit.jws.sign_json(b"payload", [signer], flatten=True)
    verified = jwtkit.jws.verify_json(data, X5CKeyProvider(policy), algorithms=["ES256"])
    assert verified.payload == b"payload"


def test_the_chain_is_validated_again_for_every_token(
    policy: ChainPolicy, clock: FrozenClock, ec_leaf: pki.Issued, intermediate: pki.Issued
) -> None:
    jwt = token(ec_leaf.key, chain(ec_leaf, intermediate), "ES256")
    verifier = jwtkit.Verifier(X5CKeyProvider(policy), algorithms=["ES256"])
    assert verifier.decode(jwt) == {"sub": "42"}
    clock.advance(31 * pki.DAY)
    with pytest.raises(errors.UntrustedCertificate) as caught:
        verifier.decode(jwt)
    assert caught.value.reason == "expired"


def test_the_one_shot_decode_validates_the_chain_again_on_each_call(
    policy: ChainPolicy, clock: FrozenClock, ec_leaf: pki.Issued, intermediate: pki.Issued
) -> None:
    jwt = token(ec_leaf.key, chain(ec_leaf, intermediate), "ES256")
    provider = X5CKeyProvider(policy)
    assert jwtkit.decode(jwt, provider, algorithms=["ES256"]) == {"sub": "42"}
    clock.advance(31 * pki.DAY)
    with pytest.raises(errors.UntrustedCertificate):
        jwtkit.decode(jwt, provider, algorithms=["ES256"])
    with pytest.raises(errors.UntrustedCertificate):
        jwtkit.jws.verify(jwt, provider, algorithms=["ES256"])


def test_an_untrusted_chain_fails_the_token(
    ec_leaf: pki.Issued, intermediate: pki.Issued, clock: FrozenClock
) -> None:
    policy = ChainPolicy([pki.root().certificate], clock=clock)
    jwt = token(ec_leaf.key, chain(ec_leaf, intermediate), "ES256")
    with pytest.raises(errors.UntrustedCertificate) as caught:
        jwtkit.decode(jwt, X5CKeyProvider(policy), algorithms=["ES256"])
    assert caught.value.reason == "unknown_issuer"


def test_a4_header_x5c_without_anchors_is_never_a_key(
    ec_leaf: pki.Issued, intermediate: pki.Issued
) -> None:
    jwt = token(ec_leaf.key, chain(ec_leaf, intermediate), "ES256")
    with pytest.raises(errors.UsageError, match="needs a ChainPolicy with trust anchors"):
        X5CKeyProvider(None)  # type: ignore[arg-type]
    with pytest.raises(errors.UsageError, match="at least one trust anchor"):
        X5CKeyProvider(ChainPolicy([]))
    # Without the provider, the header's chain is not looked at: the caller's keys decide.
    other = jwtkit.Key.generate("ES256")
    with pytest.raises(errors.InvalidSignature):
        jwtkit.decode(jwt, other.public_key(), algorithms=["ES256"])


def test_a_token_without_x5c_finds_no_key(policy: ChainPolicy, ec_leaf: pki.Issued) -> None:
    jwt = token(ec_leaf.key, None, "ES256")
    with pytest.raises(errors.KeyNotFound, match="the token has no 'x5c' header"):
        jwtkit.decode(jwt, X5CKeyProvider(policy), algorithms=["ES256"])


def test_a_valid_chain_does_not_vouch_for_a_signature_by_another_key(
    policy: ChainPolicy, ec_leaf: pki.Issued, intermediate: pki.Issued
) -> None:
    forger = ec.generate_private_key(ec.SECP256R1())
    jwt = token(forger, chain(ec_leaf, intermediate), "ES256")
    with pytest.raises(errors.InvalidSignature):
        jwtkit.decode(jwt, X5CKeyProvider(policy), algorithms=["ES256"])


def test_a_kid_is_a_hint_that_never_selects_another_key(
    policy: ChainPolicy, ec_leaf: pki.Issued, intermediate: pki.Issued
) -> None:
    """The chain's leaf is the only candidate, whatever the kid names."""
    provider = X5CKeyProvider(policy)
    x5c = chain(ec_leaf, intermediate)
    named = token(ec_leaf.key, x5c, "ES256", kid="key-elsewhere")
    assert jwtkit.decode(named, provider, algorithms=["ES256"]) == {"sub": "42"}
    elsewhere = ec.generate_private_key(ec.SECP256R1())
    forged = token(elsewhere, x5c, "ES256", kid="key-elsewhere")
    with pytest.raises(errors.InvalidSignature):
        jwtkit.decode(forged, provider, algorithms=["ES256"])


def test_header_thumbprints_must_be_the_leaf(
    policy: ChainPolicy, ec_leaf: pki.Issued, intermediate: pki.Issued
) -> None:
    x5c = chain(ec_leaf, intermediate)
    jwk = jwtkit.Key.from_cryptography(ec_leaf.key.public_key()).to_jwk()
    leaf_key = jwtkit.Key.from_jwk({**jwk, "x5c": x5c})
    provider = X5CKeyProvider(policy)
    good = token(ec_leaf.key, x5c, "ES256", x5t=_sha1_thumbprint(ec_leaf))
    assert jwtkit.decode(good, provider, algorithms=["ES256"]) == {"sub": "42"}
    wrong = token(ec_leaf.key, x5c, "ES256", **{"x5t#S256": "A" * 43})
    with pytest.raises(errors.InvalidKey, match="x5t#S256"):
        jwtkit.decode(wrong, provider, algorithms=["ES256"])
    assert leaf_key.x5t is None


def _sha1_thumbprint(issued: pki.Issued) -> str:
    from cryptography.hazmat.primitives import hashes

    digest = issued.certificate.fingerprint(hashes.SHA1())  # noqa: S303 - a name, not a MAC
    return jwtkit._codec.b64url_encode(digest)


def test_the_leaf_key_must_fit_the_algorithm(
    policy: ChainPolicy, leaves: dict[str, pki.Issued], intermediate: pki.Issued
) -> None:
    x5c = chain(leaves["RSA"], intermediate)
    secret = jwtkit.OctKey.generate(256)
    jwt = jwtkit.encode({"sub": "42"}, secret, algorithm="HS256", headers={"x5c": x5c})
    with pytest.raises(errors.InvalidKey) as caught:
        jwtkit.decode(jwt, X5CKeyProvider(policy), algorithms=["HS256", "RS256"])
    assert type(caught.value) is errors.InvalidKey
    assert "HS256" in caught.value.message


def test_the_same_chain_gives_the_same_key_set_and_the_memory_is_bounded(
    policy: ChainPolicy,
    leaves: dict[str, pki.Issued],
    intermediate: pki.Issued,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider = X5CKeyProvider(policy)
    first = {"alg": "ES256", "x5c": chain(leaves["EC"], intermediate)}
    second = {"alg": "EdDSA", "x5c": chain(leaves["OKP"], intermediate)}
    keys = provider.keyset_for(first)
    assert provider.keyset_for(first) is keys
    monkeypatch.setattr(chains, "_REMEMBERED_CHAINS", 1)
    assert provider.keyset_for(second) is not keys
    assert provider.keyset_for(first) is not keys  # forgotten, then validated and built anew
    assert repr(provider) == "X5CKeyProvider(ChainPolicy(1 anchors, dns_name=None, max_depth=4))"


def test_adecode_takes_the_provider(
    policy: ChainPolicy, ec_leaf: pki.Issued, intermediate: pki.Issued
) -> None:
    jwt = token(ec_leaf.key, chain(ec_leaf, intermediate), "ES256")
    verifier = jwtkit.Verifier(X5CKeyProvider(policy), algorithms=["ES256"])
    assert asyncio.run(verifier.adecode(jwt)) == {"sub": "42"}


def test_errors_name_no_certificate_content(
    policy: ChainPolicy, ec_leaf: pki.Issued, intermediate: pki.Issued, clock: FrozenClock
) -> None:
    """F4: messages say what failed, never the certificates' names or material."""
    clock.advance(31 * pki.DAY)
    jwt = token(ec_leaf.key, chain(ec_leaf, intermediate), "ES256")
    with pytest.raises(errors.UntrustedCertificate) as caught:
        jwtkit.decode(jwt, X5CKeyProvider(policy), algorithms=["ES256"])
    text = str(caught.value) + repr(caught.value)
    for secret in ("Test Intermediate", "signer.example", ec_leaf.x5c[:40], "Certificate(subject"):
        assert secret not in text
