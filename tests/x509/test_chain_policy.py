"""ChainPolicy: x5c chains validated against the caller's anchors (RFC 7515 §4.1.6, RFC 5280)."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from typing_extensions import assert_type

import jwtkit
from jwtkit import errors
from jwtkit._keys import chains
from jwtkit.testing import FrozenClock
from jwtkit.x509 import ChainPolicy
from vectors import load_rfc_cases

from . import pki
from .conftest import chain


def _reason(policy: ChainPolicy, x5c: object) -> errors.UntrustedCertificate:
    with pytest.raises(errors.UntrustedCertificate) as caught:
        policy.verify_chain(x5c)  # type: ignore[arg-type]
    assert caught.value.code == "untrusted_certificate"
    assert isinstance(caught.value, errors.InvalidKey)
    assert "encountered processing" not in str(caught.value)
    return caught.value


@pytest.mark.parametrize("kty", ["RSA", "EC", "OKP"])
def test_a_good_chain_gives_the_leaf_public_key(
    kty: str, policy: ChainPolicy, leaves: dict[str, pki.Issued], intermediate: pki.Issued
) -> None:
    issued = leaves[kty]
    key = assert_type(policy.verify_chain(chain(issued, intermediate)), jwtkit.Key)
    assert key.kty == kty
    assert not key.is_private
    assert key.x5c == (issued.x5c, intermediate.x5c)
    assert key == jwtkit.Key.from_cryptography(issued.key.public_key())


def test_the_root_may_end_the_chain(
    policy: ChainPolicy, ec_leaf: pki.Issued, intermediate: pki.Issued, ca: pki.Issued
) -> None:
    assert policy.verify_chain(chain(ec_leaf, intermediate, ca)).kty == "EC"


def test_a_chain_to_another_anchor_is_untrusted(
    ec_leaf: pki.Issued, intermediate: pki.Issued, clock: FrozenClock
) -> None:
    other = ChainPolicy([pki.root("Test Root").certificate], clock=clock)  # same name, other key
    error = _reason(other, chain(ec_leaf, intermediate))
    assert error.reason == "unknown_issuer"
    assert "trust anchors" in error.message


def test_a_missing_intermediate_is_an_unknown_issuer(
    policy: ChainPolicy, ec_leaf: pki.Issued
) -> None:
    error = _reason(policy, chain(ec_leaf))
    assert error.reason == "unknown_issuer"
    assert "missing intermediate" in error.message


def test_a_ca_certificate_first_is_refused_as_the_wrong_order(
    policy: ChainPolicy, ec_leaf: pki.Issued, intermediate: pki.Issued
) -> None:
    error = _reason(policy, chain(intermediate, ec_leaf))
    assert error.reason == "not_a_leaf"
    assert "leaf) certificate first" in error.message


def test_an_expired_leaf_is_reported_with_its_end(
    policy: ChainPolicy, clock: FrozenClock, ec_leaf: pki.Issued, intermediate: pki.Issued
) -> None:
    clock.advance(31 * pki.DAY)
    error = _reason(policy, chain(ec_leaf, intermediate))
    assert error.reason == "expired"
    assert error.message.startswith("'x5c'[0] expired at ")
    assert ec_leaf.certificate.not_valid_after_utc.isoformat() in error.message


def test_a_leaf_not_yet_valid_is_reported_with_its_start(
    policy: ChainPolicy, clock: FrozenClock, ec_leaf: pki.Issued, intermediate: pki.Issued
) -> None:
    clock.advance(-2 * pki.DAY)
    error = _reason(policy, chain(ec_leaf, intermediate))
    assert error.reason == "not_yet_valid"
    assert error.message.startswith("'x5c'[0] is not valid before ")


def test_an_expired_intermediate_is_named(
    ca: pki.Issued, policy: ChainPolicy, signing_keys: dict[str, pki.PrivateKey]
) -> None:
    old = pki.intermediate(ca, days=(-60, -1))
    issued = pki.leaf(old, signing_keys["EC"], days=(-30, 30))
    error = _reason(policy, chain(issued, old))
    assert error.reason == "expired"
    assert error.message.startswith("'x5c'[1] expired at ")


def test_an_expired_anchor_is_named(signing_keys: dict[str, pki.PrivateKey]) -> None:
    old_root = pki.root(days=(-60, -1))
    middle = pki.intermediate(old_root, days=(-30, 30))
    issued = pki.leaf(middle, signing_keys["EC"], days=(-30, 30))
    policy = ChainPolicy([old_root.certificate], clock=FrozenClock(pki.NOW))
    error = _reason(policy, chain(issued, middle))
    assert error.reason == "expired"
    assert error.message.startswith("a trust anchor expired at ")


def test_an_unexplained_validity_failure_keeps_its_detail(
    policy: ChainPolicy, ec_leaf: pki.Issued
) -> None:
    when = datetime.fromtimestamp(pki.NOW, timezone.utc)
    text = "validation failed: cert is not valid at validation time (encountered processing x)"
    error = policy._failure(text, [ec_leaf.certificate], when)
    assert error.reason == "invalid_chain"
    assert error.message == (
        "the certificate chain is invalid: cert is not valid at validation time"
    )


@pytest.mark.parametrize("usage", [pki.ENCIPHERMENT])
def test_a_leaf_whose_key_usage_excludes_signing_is_refused(
    usage: str, policy: ChainPolicy, intermediate: pki.Issued
) -> None:
    issued = pki.leaf(intermediate, ec.generate_private_key(ec.SECP256R1()), usage=usage)
    error = _reason(policy, chain(issued, intermediate))
    assert error.reason == "not_for_signing"
    assert "RFC 5280 §4.2.1.3" in error.message


@pytest.mark.parametrize("usage", [pki.NON_REPUDIATION, None])
def test_a_leaf_for_non_repudiation_or_without_key_usage_signs(
    usage: str | None, policy: ChainPolicy, intermediate: pki.Issued
) -> None:
    issued = pki.leaf(intermediate, ec.generate_private_key(ec.SECP256R1()), usage=usage)
    assert policy.verify_chain(chain(issued, intermediate)).kty == "EC"


def test_a_leaf_without_subject_alternative_name_or_with_any_eku_is_accepted(
    policy: ChainPolicy, intermediate: pki.Issued
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    issued = pki.leaf(intermediate, key, san=(), eku=[pki.CODE_SIGNING])
    assert policy.verify_chain(chain(issued, intermediate)).kty == "EC"


def test_dns_name_must_be_in_the_leaf_subject_alternative_name(
    ca: pki.Issued, clock: FrozenClock, ec_leaf: pki.Issued, intermediate: pki.Issued
) -> None:
    good = ChainPolicy([ca.pem], dns_name="signer.example", clock=clock)
    assert good.verify_chain(chain(ec_leaf, intermediate)).kty == "EC"
    wrong = ChainPolicy([ca.pem], dns_name="other.example", clock=clock)
    error = _reason(wrong, chain(ec_leaf, intermediate))
    assert error.reason == "name_mismatch"
    assert error.message == "'x5c'[0] is not issued for DNS name 'other.example'"


def test_dns_name_needs_a_subject_alternative_name_and_ignores_the_eku(
    ca: pki.Issued, clock: FrozenClock, intermediate: pki.Issued
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    policy = ChainPolicy([ca.certificate], dns_name="signer.example", clock=clock)
    bare = pki.leaf(intermediate, key, san=())
    assert _reason(policy, chain(bare, intermediate)).reason == "name_mismatch"
    code_signing = pki.leaf(intermediate, key, eku=[pki.CODE_SIGNING])
    assert policy.verify_chain(chain(code_signing, intermediate)).kty == "EC"


def test_leaf_check_sees_the_leaf_and_decides(
    ca: pki.Issued, clock: FrozenClock, ec_leaf: pki.Issued, intermediate: pki.Issued
) -> None:
    seen: list[x509.Certificate] = []

    def signer_only(certificate: x509.Certificate) -> bool:
        seen.append(certificate)
        names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        return names[0].value == "signer"

    policy = ChainPolicy([ca.certificate], leaf_check=signer_only, clock=clock)
    policy.verify_chain(chain(ec_leaf, intermediate))
    assert seen == [ec_leaf.certificate]
    other = pki.leaf(intermediate, ec.generate_private_key(ec.SECP256R1()), name="someone")
    error = _reason(policy, chain(other, intermediate))
    assert error.reason == "leaf_refused"
    assert error.message == "the leaf_check refused 'x5c'[0]"


def test_leaf_check_must_answer_true_exactly(
    ca: pki.Issued, clock: FrozenClock, ec_leaf: pki.Issued, intermediate: pki.Issued
) -> None:
    policy = ChainPolicy([ca.certificate], leaf_check=lambda c: 1, clock=clock)  # type: ignore[arg-type,return-value]
    assert _reason(policy, chain(ec_leaf, intermediate)).reason == "leaf_refused"


def test_a_failing_leaf_check_is_a_jwtkit_error(
    ca: pki.Issued, clock: FrozenClock, ec_leaf: pki.Issued, intermediate: pki.Issued
) -> None:
    def broken(certificate: x509.Certificate) -> bool:
        raise ValueError("secret detail")

    policy = ChainPolicy([ca.certificate], leaf_check=broken, clock=clock)
    error = _reason(policy, chain(ec_leaf, intermediate))
    assert error.reason == "leaf_refused"
    assert error.message == "the leaf_check failed: ValueError"
    assert isinstance(error.__cause__, ValueError)

    def strict(certificate: x509.Certificate) -> bool:
        raise errors.InvalidSubject("sub", "not ours")

    policy = ChainPolicy([ca.certificate], leaf_check=strict, clock=clock)
    with pytest.raises(errors.InvalidSubject):
        policy.verify_chain(chain(ec_leaf, intermediate))


def test_max_depth_bounds_the_intermediates(
    ca: pki.Issued, clock: FrozenClock, ec_leaf: pki.Issued, intermediate: pki.Issued
) -> None:
    flat = ChainPolicy([ca.certificate], max_depth=0, clock=clock)
    error = _reason(flat, chain(ec_leaf, intermediate))
    assert error.reason == "chain_too_long"
    assert "within 0 intermediate certificates" in error.message
    pinned = ChainPolicy([intermediate.certificate], max_depth=0, clock=clock)
    assert pinned.verify_chain(chain(ec_leaf)).kty == "EC"


def test_a_chain_longer_than_max_depth_allows_is_refused_before_parsing(
    policy: ChainPolicy, ec_leaf: pki.Issued
) -> None:
    error = _reason(policy, [ec_leaf.x5c] + ["not base64"] * (chains.DEFAULT_MAX_DEPTH + 2))
    assert error.reason == "chain_too_long"
    assert error.message == "'x5c' holds 7 certificates; at most 6 are accepted (max_depth=4)"


def test_a_chain_larger_than_the_size_cap_is_refused_before_parsing(
    policy: ChainPolicy,
) -> None:
    error = _reason(policy, ["A" * chains.MAX_CHAIN_SIZE, "AAAA"])
    assert error.reason == "too_large"


@pytest.mark.parametrize(
    "x5c", ["MIIB", [], [1], ["not base64!"], [base64.b64encode(b"junk").decode()]]
)
def test_a_malformed_chain_is_an_invalid_key(policy: ChainPolicy, x5c: object) -> None:
    with pytest.raises(errors.InvalidKey) as caught:
        policy.verify_chain(x5c)  # type: ignore[arg-type]
    assert type(caught.value) is errors.InvalidKey
    assert "x5c" in caught.value.message


def test_a_weak_rsa_leaf_is_refused_as_a_key(policy: ChainPolicy, intermediate: pki.Issued) -> None:
    weak = rsa.generate_private_key(65537, 1024)  # noqa: S505 - deliberately weak (F1)
    issued = pki.leaf(intermediate, weak)
    with pytest.raises(errors.InvalidKey, match="2048"):
        policy.verify_chain(chain(issued, intermediate))


def test_anchors_are_required(clock: FrozenClock) -> None:
    with pytest.raises(errors.UsageError, match="at least one trust anchor"):
        ChainPolicy([], clock=clock)
    with pytest.raises(errors.UsageError, match="at least one trust anchor"):
        ChainPolicy(iter(()), clock=clock)


@pytest.mark.parametrize("anchors", [None, "-----BEGIN CERTIFICATE-----", b"der", 42])
def test_anchors_must_be_a_list(anchors: object) -> None:
    with pytest.raises(errors.UsageError, match="anchors: expected a list"):
        ChainPolicy(anchors)  # type: ignore[arg-type]


def test_anchors_of_the_wrong_type_or_unreadable_are_usage_errors() -> None:
    with pytest.raises(errors.UsageError, match=r"anchors\[0\]: expected an x509.Certificate"):
        ChainPolicy([42])  # type: ignore[list-item]
    with pytest.raises(errors.UsageError, match=r"anchors\[1\]: not a PEM or DER"):
        ChainPolicy([pki.root().certificate, b"\x30\x03junk"])
    with pytest.raises(errors.UsageError, match=r"anchors\[0\]: not a PEM or DER"):
        ChainPolicy(["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"])


def test_anchors_may_be_pem_text_with_several_certificates_or_der(
    clock: FrozenClock, ca: pki.Issued, ec_leaf: pki.Issued, intermediate: pki.Issued
) -> None:
    bundle = (pki.root("Another Root").pem + ca.pem).decode()
    assert ChainPolicy([bundle], clock=clock).verify_chain(chain(ec_leaf, intermediate))
    der = base64.b64decode(ca.x5c)
    assert ChainPolicy([der], clock=clock).verify_chain(chain(ec_leaf, intermediate))
    assert repr(ChainPolicy([bundle])) == "ChainPolicy(2 anchors, dns_name=None, max_depth=4)"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("dns_name", "not a name!", "dns_name: not a DNS name"),
        ("dns_name", 42, "dns_name: not a DNS name"),
        ("dns_name", "*.example", "dns_name: not a DNS name"),
        ("leaf_check", "yes", "leaf_check: expected a callable"),
        ("max_depth", True, "max_depth: expected an int from 0 to 16"),
        ("max_depth", -1, "max_depth: expected an int from 0 to 16"),
        ("max_depth", 17, "max_depth: expected an int from 0 to 16"),
        ("clock", 1_780_000_000, "clock: expected a callable"),
    ],
)
def test_options_are_checked_when_the_policy_is_built(
    ca: pki.Issued, option: str, value: object, message: str
) -> None:
    with pytest.raises(errors.UsageError, match=message):
        ChainPolicy([ca.certificate], **{option: value})  # type: ignore[arg-type]


def test_a_clock_that_gives_no_time_is_a_usage_error(
    ca: pki.Issued, ec_leaf: pki.Issued, intermediate: pki.Issued
) -> None:
    policy = ChainPolicy([ca.certificate], clock=lambda: "now")  # type: ignore[arg-type,return-value]
    with pytest.raises(errors.UsageError, match="clock: expected a Unix time, got str"):
        policy.verify_chain(chain(ec_leaf, intermediate))


def test_the_default_clock_is_the_current_time(ca: pki.Issued) -> None:
    signer = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(timezone.utc).timestamp()
    middle = pki.intermediate(ca, days=((int(now) - pki.NOW) // pki.DAY - 1, 10_000))
    issued = pki.leaf(middle, signer, days=((int(now) - pki.NOW) // pki.DAY - 1, 10_000))
    assert ChainPolicy([ca.certificate]).verify_chain(chain(issued, middle)).kty == "EC"


def test_key_verify_certificate_chain_validates_the_jwk_own_chain(
    policy: ChainPolicy, ec_leaf: pki.Issued, intermediate: pki.Issued, clock: FrozenClock
) -> None:
    jwk = jwtkit.Key.from_cryptography(ec_leaf.key).public_key().to_jwk()
    key = jwtkit.Key.from_jwk({**jwk, "x5c": chain(ec_leaf, intermediate)})
    key.verify_certificate_chain(policy)
    clock.advance(31 * pki.DAY)
    with pytest.raises(errors.UntrustedCertificate) as caught:
        key.verify_certificate_chain(policy)
    assert caught.value.reason == "expired"


def test_key_verify_certificate_chain_needs_a_chain_and_a_policy(
    policy: ChainPolicy, ec_leaf: pki.Issued
) -> None:
    key = jwtkit.Key.from_cryptography(ec_leaf.key, kid="k1")
    with pytest.raises(errors.UntrustedCertificate) as caught:
        key.verify_certificate_chain(policy)
    assert caught.value.reason == "missing"
    assert caught.value.message == (
        "EC key (crv='P-256', kid 'k1') has no 'x5c' certificate chain to validate"
    )
    with pytest.raises(errors.UsageError, match=r"expected a jwtkit\.x509\.ChainPolicy, got list"):
        key.verify_certificate_chain([ec_leaf.certificate])  # type: ignore[arg-type]


def test_the_rfc7517_appendix_b_chain_is_refused_even_when_pinned() -> None:
    """RFC 7517 Appendix B: a self-issued, SHA-1-signed certificate without extensions."""
    case = next(c for c in load_rfc_cases("rfc7517") if c["id"] == "B")
    key = jwtkit.Key.from_jwk(case["key"])
    assert key.x5c is not None
    certificate = x509.load_der_x509_certificate(base64.b64decode(key.x5c[0]))
    during = certificate.not_valid_before_utc.timestamp() + pki.DAY
    policy = ChainPolicy([certificate], clock=FrozenClock(during))
    with pytest.raises(errors.UntrustedCertificate) as caught:
        key.verify_certificate_chain(policy)
    assert caught.value.reason == "invalid_chain"
    assert "Brian Campbell" not in caught.value.message
