"""``x5c`` certificate chains validated against trust anchors the caller gives.

RFC 7515 §4.1.6 and RFC 7517 §4.7: ``x5c`` is a chain, leaf first, whose first certificate
holds the signing key; the recipient "MUST validate the certificate chain according to
RFC 5280". A chain is trusted only through a :class:`ChainPolicy`, which cannot be built
without anchors: a chain in a token header, on its own, is never a source of trust (security
matrix A4). The path validation itself is ``cryptography``'s (``x509.verification``, its Web
PKI profile), with three changes that fit signing certificates rather than TLS servers:

* the leaf's extendedKeyUsage is not required to name TLS client or server authentication
  (no usage is registered for JWS; a ``leaf_check`` can demand one);
* a leaf without subjectAltName is accepted, unless ``dns_name`` asks for one;
* a leaf keyUsage, when present, must allow digitalSignature or nonRepudiation
  (RFC 5280 §4.2.1.3).

Every failure is an :class:`~jwtkit.errors.UntrustedCertificate` whose ``reason`` is a stable
word and whose message names what failed without repeating certificate contents.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, Final

from cryptography import x509
from cryptography.x509 import DNSName
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    Policy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from ..errors import JWTError, KeyNotFound, UntrustedCertificate, UsageError
from .base import Key
from .certificates import load_chain
from .factory import key_from_crypto, key_from_jwk
from .formats import CRYPTO_ERRORS
from .keyset import KeySet

__all__ = ["DEFAULT_MAX_DEPTH", "MAX_CHAIN_SIZE", "ChainPolicy", "X5CKeyProvider"]

#: Intermediate certificates allowed between the leaf and an anchor, unless told otherwise.
DEFAULT_MAX_DEPTH: Final = 4
#: The most base64 text a chain may hold in all (a few certificates of a few KB each).
MAX_CHAIN_SIZE: Final = 64 * 1024
#: The most chains an :class:`X5CKeyProvider` remembers (their key sets keep their identity).
_REMEMBERED_CHAINS: Final = 32

_NOT_FOR_SIGNING: Final = "the leaf keyUsage allows neither digitalSignature nor nonRepudiation"
_DETAIL_NOISE = re.compile(r"\s*\(encountered processing .*\)\s*$|^validation failed:\s*", re.S)
_DETAIL_LENGTH: Final = 160


def _leaf_key_usage(_: Policy, __: x509.Certificate, usage: x509.KeyUsage | None) -> None:
    """RFC 5280 §4.2.1.3: a key that signs data (not certificates) asserts one of these."""
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        raise ValueError(_NOT_FOR_SIGNING)


def _leaf_policy(require_san: bool) -> ExtensionPolicy:
    policy = (
        ExtensionPolicy.webpki_defaults_ee()
        .may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None)
        .may_be_present(x509.KeyUsage, Criticality.AGNOSTIC, _leaf_key_usage)
    )
    if require_san:
        return policy
    return policy.may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)


def _load_anchors(anchors: object) -> tuple[x509.Certificate, ...]:
    if isinstance(anchors, (str, bytes, x509.Certificate)) or not isinstance(anchors, Iterable):
        raise UsageError(
            "anchors: expected a list of certificates (x509.Certificate, PEM or DER), got "
            f"{type(anchors).__name__}"
        )
    loaded: list[x509.Certificate] = []
    for index, anchor in enumerate(anchors):
        if isinstance(anchor, x509.Certificate):
            loaded.append(anchor)
            continue
        if not isinstance(anchor, (bytes, str)):
            raise UsageError(
                f"anchors[{index}]: expected an x509.Certificate, PEM or DER, got "
                f"{type(anchor).__name__}"
            )
        data = anchor.encode("utf-8") if isinstance(anchor, str) else anchor
        try:
            if data.lstrip().startswith(b"-----BEGIN"):
                loaded.extend(x509.load_pem_x509_certificates(data))
            else:
                loaded.append(x509.load_der_x509_certificate(data))
        except CRYPTO_ERRORS:
            raise UsageError(f"anchors[{index}]: not a PEM or DER X.509 certificate") from None
    if not loaded:
        raise UsageError(
            "anchors: at least one trust anchor is needed; a certificate chain is never "
            "trusted on its own (RFC 7515 §4.1.6)"
        )
    return tuple(loaded)


def _validity(certificate: x509.Certificate, label: str, when: datetime) -> UntrustedCertificate:
    """The error of a certificate outside its validity period at ``when``."""
    if when < certificate.not_valid_before_utc:
        start = certificate.not_valid_before_utc.isoformat()
        return UntrustedCertificate("not_yet_valid", f"{label} is not valid before {start}")
    end = certificate.not_valid_after_utc.isoformat()
    return UntrustedCertificate("expired", f"{label} expired at {end}")


def _in_period(certificate: x509.Certificate, when: datetime) -> bool:
    return certificate.not_valid_before_utc <= when <= certificate.not_valid_after_utc


class ChainPolicy:
    """Trust anchors and the rules an ``x5c`` chain must meet (RFC 7515 §4.1.6, RFC 5280 §6).

    ``anchors`` are the certificates trusted a priori (``x509.Certificate`` objects, PEM text
    with one or more certificates, or DER bytes); an anchor may be a root CA, an intermediate,
    or the leaf itself (a pinned certificate). There is no default set: without anchors there
    is no policy. The rest is optional:

    * ``dns_name`` - the leaf must carry this DNS name in its subjectAltName (RFC 6125
      matching, wildcards included);
    * ``leaf_check`` - called with the validated leaf ``x509.Certificate``; return ``True``
      to accept it (check its subject, a URI or e-mail subjectAltName, an extendedKeyUsage);
    * ``max_depth`` - the most intermediate certificates between the leaf and an anchor;
    * ``clock`` - returns the Unix time at which the chain must be valid (``time.time`` by
      default; :class:`jwtkit.testing.FrozenClock` in tests).

    A chain holds at most ``max_depth + 2`` certificates (the leaf, the intermediates and,
    optionally, the root) and 64 KiB of text. CA certificates must meet the Web PKI profile of
    ``cryptography`` (RSA of 2048 bits or more, or ECDSA on P-256/P-384/P-521, no SHA-1);
    the leaf may hold any key a JOSE signature algorithm uses.

    .. warning:: Revocation (CRL, OCSP) is not checked.
    """

    __slots__ = (
        "_anchors",
        "_clock",
        "_dns_name",
        "_ee_policy",
        "_leaf_check",
        "_max_depth",
        "_store",
        "_subject",
    )

    def __init__(
        self,
        anchors: Iterable[x509.Certificate | bytes | str],
        *,
        dns_name: str | None = None,
        leaf_check: Callable[[x509.Certificate], bool] | None = None,
        max_depth: int = DEFAULT_MAX_DEPTH,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._anchors = _load_anchors(anchors)
        self._store = Store(list(self._anchors))
        self._subject: DNSName | None = None
        if dns_name is not None:
            try:
                self._subject = DNSName(dns_name)
                PolicyBuilder().store(self._store).build_server_verifier(self._subject)
            except (TypeError, ValueError):
                raise UsageError(
                    f"dns_name: not a DNS name (an A-label, no wildcard): {dns_name!r}"
                ) from None
        self._dns_name = dns_name
        if leaf_check is not None and not callable(leaf_check):
            raise UsageError("leaf_check: expected a callable(certificate) -> bool")
        self._leaf_check = leaf_check
        if type(max_depth) is not int or not 0 <= max_depth <= 16:
            raise UsageError(f"max_depth: expected an int from 0 to 16, got {max_depth!r}")
        self._max_depth = max_depth
        if clock is not None and not callable(clock):
            raise UsageError("clock: expected a callable() -> Unix time")
        self._clock: Callable[[], float] = time.time if clock is None else clock
        self._ee_policy = _leaf_policy(require_san=dns_name is not None)

    def __repr__(self) -> str:
        return (
            f"ChainPolicy({len(self._anchors)} anchors, dns_name={self._dns_name!r}, "
            f"max_depth={self._max_depth})"
        )

    def verify_chain(self, x5c: Sequence[str]) -> Key:
        """Validate ``x5c`` (standard base64 DER, leaf first) and return the leaf's public key.

        Raises :class:`~jwtkit.errors.UntrustedCertificate` when the chain does not lead to an
        anchor under this policy, :class:`~jwtkit.errors.InvalidKey` when ``x5c`` is malformed
        or the leaf key is unusable (an RSA key below 2048 bits, say).
        """
        return self._leaf_key(x5c, None, None)

    def _leaf_key(self, x5c: object, x5t: object, x5t_s256: object) -> Key:
        """:meth:`verify_chain`, with the thumbprints that must match the leaf (RFC 7515
        §4.1.7-4.1.8) when a header gives them."""
        self._check_bounds(x5c)
        certificates = load_chain(x5c)
        leaf = certificates[0]
        members = {"x5c": x5c, "x5t": x5t, "x5t#S256": x5t_s256}
        jwk = key_from_crypto(leaf).to_jwk()
        jwk.update({name: value for name, value in members.items() if value is not None})
        key = key_from_jwk(jwk)  # checks x5t/x5t#S256 against the leaf
        self._validate(certificates)
        self._accept_leaf(leaf)
        return key

    def _check_bounds(self, x5c: object) -> None:
        if not isinstance(x5c, Sequence) or isinstance(x5c, (str, bytes)):
            return  # load_chain says what is wrong
        limit = self._max_depth + 2
        if len(x5c) > limit:
            raise UntrustedCertificate(
                "chain_too_long",
                f"'x5c' holds {len(x5c)} certificates; at most {limit} are accepted "
                f"(max_depth={self._max_depth})",
            )
        size = sum(len(item) for item in x5c if isinstance(item, str))
        if size > MAX_CHAIN_SIZE:
            raise UntrustedCertificate(
                "too_large", f"'x5c' holds {size} characters; at most {MAX_CHAIN_SIZE} are accepted"
            )

    def _now(self) -> datetime:
        now = self._clock()
        try:
            return datetime.fromtimestamp(now, timezone.utc)
        except (TypeError, ValueError, OverflowError, OSError):
            raise UsageError(f"clock: expected a Unix time, got {type(now).__name__}") from None

    def _validate(self, certificates: list[x509.Certificate]) -> None:
        when = self._now()
        builder = (
            PolicyBuilder()
            .store(self._store)
            .time(when)
            .max_chain_depth(self._max_depth)
            .extension_policies(
                ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=self._ee_policy
            )
        )
        leaf, intermediates = certificates[0], certificates[1:]
        try:
            if self._subject is None:
                builder.build_client_verifier().verify(leaf, intermediates)
            else:
                builder.build_server_verifier(self._subject).verify(leaf, intermediates)
        except VerificationError as exc:
            raise self._failure(str(exc), certificates, when) from None

    def _failure(
        self, text: str, certificates: list[x509.Certificate], when: datetime
    ) -> UntrustedCertificate:
        """The error for ``cryptography``'s failure ``text``, without its certificate dump."""
        detail = _DETAIL_NOISE.sub("", text)[:_DETAIL_LENGTH]
        if "not valid at validation time" in text:
            labelled = [(f"'x5c'[{i}]", c) for i, c in enumerate(certificates)]
            labelled += [("a trust anchor", c) for c in self._anchors]
            for label, certificate in labelled:
                if not _in_period(certificate, when):
                    return _validity(certificate, label, when)
        if "exceeds max depth" in text:
            return UntrustedCertificate(
                "chain_too_long",
                f"no path to a trust anchor within {self._max_depth} intermediate certificates "
                "(max_depth)",
            )
        if _NOT_FOR_SIGNING in text:
            return UntrustedCertificate(
                "not_for_signing", f"'x5c'[0]: {_NOT_FOR_SIGNING} (RFC 5280 §4.2.1.3)"
            )
        if self._dns_name is not None and "subjectAltName" in text:
            return UntrustedCertificate(
                "name_mismatch", f"'x5c'[0] is not issued for DNS name {self._dns_name!r}"
            )
        if "must not be asserted in an EE certificate" in text:
            return UntrustedCertificate(
                "not_a_leaf",
                "'x5c'[0] is a CA certificate: 'x5c' lists the signing (leaf) certificate "
                "first (RFC 7515 §4.1.6)",
            )
        if "candidates exhausted" in text:
            return UntrustedCertificate(
                "unknown_issuer",
                "'x5c' leads to none of the trust anchors (an unknown issuer or a missing "
                f"intermediate certificate): {detail}",
            )
        return UntrustedCertificate("invalid_chain", f"the certificate chain is invalid: {detail}")

    def _accept_leaf(self, leaf: x509.Certificate) -> None:
        check = self._leaf_check
        if check is None:
            return
        try:
            accepted = check(leaf)
        except JWTError:
            raise
        except Exception as exc:
            raise UntrustedCertificate(
                "leaf_refused", f"the leaf_check failed: {type(exc).__name__}"
            ) from exc
        if accepted is not True:
            raise UntrustedCertificate("leaf_refused", "the leaf_check refused 'x5c'[0]")


class X5CKeyProvider:
    """The key of the certificate chain in a token's ``x5c`` header, if ``policy`` trusts it.

    Pass it as the ``key`` of :class:`jwtkit.Verifier`, :func:`jwtkit.decode` or
    :func:`jwtkit.jws.verify`. For each token the chain is validated again (at the policy's
    clock), then the signature is verified with the leaf's key, which must fit the algorithm
    as any key must. ``x5t``/``x5t#S256`` in the header must be the leaf's thumbprints. A
    ``kid`` is only a hint (RFC 7515 §4.1.4): it never selects a key other than the leaf's.
    A token without ``x5c`` fails with :class:`~jwtkit.errors.KeyNotFound`.
    """

    __slots__ = ("_chains", "_lock", "_policy")

    def __init__(self, policy: ChainPolicy) -> None:
        if not isinstance(policy, ChainPolicy):
            raise UsageError(
                "X5CKeyProvider needs a ChainPolicy with trust anchors: a certificate chain in "
                f"a header is never trusted on its own, got {type(policy).__name__}"
            )
        self._policy = policy
        self._chains: dict[tuple[object, ...], KeySet] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"X5CKeyProvider({self._policy!r})"

    def keyset_for(self, header: Mapping[str, Any]) -> KeySet:
        """The leaf key of the header's validated ``x5c``, as a one-key set."""
        x5c = header.get("x5c")
        if x5c is None:
            raise KeyNotFound(
                "the token has no 'x5c' header: this verifier takes its key only from a "
                "certificate chain there"
            )
        x5t, x5t_s256 = header.get("x5t"), header.get("x5t#S256")
        key = self._policy._leaf_key(x5c, x5t, x5t_s256)
        # The same chain gives the same KeySet object, so that a Verifier keeps its per-key
        # work (the KeyProvider contract); the chain is validated again all the same.
        remembered = (key.x5c, x5t, x5t_s256)
        with self._lock:
            keys = self._chains.get(remembered)
            if keys is None:
                if len(self._chains) >= _REMEMBERED_CHAINS:
                    del self._chains[next(iter(self._chains))]
                keys = self._chains[remembered] = KeySet((key,))
        return keys

    async def keyset_for_async(self, header: Mapping[str, Any]) -> KeySet:
        """:meth:`keyset_for` for ``Verifier.adecode`` (no I/O: it does not wait)."""
        return self.keyset_for(header)
