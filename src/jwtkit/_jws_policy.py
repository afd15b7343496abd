"""Signature policies for the JWS JSON Serialization: which signatures must verify.

The general JWS JSON Serialization (RFC 7515 §7.2.1) carries several signatures over one
payload, and RFC 7515 §5.2 leaves to the application which of them must validate for the JWS
to be accepted, as long as at least one does. A hybrid token (a classical and a post-quantum
signature over the same payload) is only as strong as that decision, so it is a value here,
:class:`SignaturePolicy`:

* ``any``: one valid signature by a trusted key suffices. A forger who breaks any one scheme
  the verifier trusts (the classical one, by a quantum computer) forges a token with it alone.
  For verifiers that trust one key only (a classical-only relying party during a migration).
* ``require(*algorithms)``: a valid signature by each named algorithm must be present.
  ``require("ML-DSA-65")`` protects against a break of the classical scheme and against
  stripping (removing the ML-DSA signature leaves a document that fails), not against a break
  of ML-DSA. ``require("ES256", "ML-DSA-65")`` makes a forger break both schemes: the hybrid
  guarantee, which holds while either scheme does.
* ``all``: every algorithm of the allow-list has signed *and* every signature of the document
  verifies: the hybrid guarantee for every allowed algorithm, and the verifier states the
  complete set of signers. It counts algorithms, not keys: a key set holds the old and the new
  key of a rotation, which never both sign every token.

Rules shared by every policy (verify_json's tolerant "first one wins" is not among them):

* Every entry is parsed and checked before any cryptography runs (as in ``verify_json``).
* An entry is *ours* when its ``alg`` is allowed and a trusted key is named by its ``kid`` (or,
  without a ``kid``, fits its ``alg``). An entry of ours that does not verify, or that names a
  trusted key which does not fit its ``alg``, refuses the whole document under every policy:
  RFC 7515 §5.2 would allow ignoring it, but a bad signature from a key we trust means
  tampering or a broken signer, and accepting on the strength of the others would hide both.
* An entry that is not ours (an algorithm not allowed or unknown, a ``kid`` no trusted key has)
  is ignored by ``any`` and ``require``, so that a classical-only verifier accepts a hybrid
  token, and refused by ``all``, whose verifier claims to know every signer.
* The same algorithm may sign more than once (two keys during a rotation); each entry is
  checked, and an algorithm counts once it has one valid signature. Order does not matter.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._codec import DEFAULT_MAX_TOKEN_SIZE
from ._jws_compact import VerifiedJWS, allowed_algorithms
from ._jws_json import DEFAULT_MAX_SIGNATURES, _parse, _verify_entry
from ._keysource import KeyArgument, KeySource
from ._messages import short
from .errors import (
    AlgorithmNotAllowed,
    AmbiguousKey,
    InvalidKey,
    InvalidSignature,
    JWTError,
    KeyNotFound,
    MissingSignature,
    UsageError,
)
from .jwa import DEFAULT_REGISTRY, Registry

__all__ = ["SignaturePolicy", "verify_json_policy", "verify_with_policy"]

Mode = Literal["any", "all"]


@dataclass(frozen=True)
class SignaturePolicy:
    """Which signatures of a JWS JSON document must verify; build with :meth:`any`,
    :meth:`all` or :meth:`require` (module :mod:`jwtkit._jws_policy` explains each)."""

    mode: Mode = "any"
    #: The algorithms that must each have a valid signature (``require``).
    required: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.mode not in ("any", "all"):
            raise UsageError(f"SignaturePolicy mode: 'any' or 'all', got {short(self.mode)}")
        required: object = self.required
        if (
            isinstance(required, (str, bytes))
            or not isinstance(required, Iterable)
            or not all(type(name) is str and name for name in required)
        ):
            raise UsageError("SignaturePolicy.required: a sequence of algorithm names")
        object.__setattr__(self, "required", tuple(dict.fromkeys(required)))
        if self.mode == "all" and self.required:
            raise UsageError(
                "SignaturePolicy: 'all' already requires every allowed algorithm; pass the "
                "algorithms as the allow-list instead of required="
            )

    @classmethod
    def any(cls) -> SignaturePolicy:
        """One valid signature by a trusted key suffices; signatures that are not ours are
        ignored, a bad signature of ours refuses the document."""
        return cls("any")

    @classmethod
    def all(cls) -> SignaturePolicy:
        """Every allowed algorithm has signed and every signature verifies."""
        return cls("all")

    @classmethod
    def require(cls, *algorithms: str) -> SignaturePolicy:
        """A valid signature by each of ``algorithms`` must be present (others as ``any``)."""
        if not algorithms:
            raise UsageError("SignaturePolicy.require: name at least one algorithm")
        return cls("any", algorithms)


def _ours(exc: JWTError) -> bool:
    """Whether a failed entry was made for us: checked against a trusted key, or naming one."""
    if isinstance(exc, AlgorithmNotAllowed):
        return False
    if isinstance(exc, KeyNotFound):
        return isinstance(exc, AmbiguousKey)  # our own key set is ambiguous: never ignored
    return True  # InvalidSignature, or InvalidKey: a trusted key named that does not fit


def verify_with_policy(
    data: object,
    source: KeySource,
    allowed: frozenset[str],
    policy: SignaturePolicy,
    *,
    detached_payload: bytes | None,
    crit: Collection[str],
    registry: Registry,
    max_token_size: int,
    max_signatures: int,
) -> tuple[VerifiedJWS, ...]:
    """:func:`verify_json_policy` with the keys and the allow-list already prepared (the JWT
    Verifier passes its own)."""
    if not isinstance(policy, SignaturePolicy):
        raise UsageError(
            "policy: expected a jws.SignaturePolicy, e.g. SignaturePolicy.require('ML-DSA-65')"
        )
    if any(registry.signature(name).unsecured for name in allowed):  # type: ignore[union-attr]
        raise UsageError("a signature policy needs signatures: 'none' cannot be allowed")
    outside = [name for name in policy.required if name not in allowed]
    if outside:
        raise UsageError(
            f"SignaturePolicy requires {outside}, which the allow-list {sorted(allowed)} does "
            "not contain"
        )
    parsed = _parse(data, detached_payload, crit, max_token_size, max_signatures)
    verified: list[VerifiedJWS] = []
    ignored: list[JWTError] = []
    for entry in parsed.entries:
        try:
            verified.append(_verify_entry(entry, parsed, source, allowed, registry))
        except (AlgorithmNotAllowed, InvalidKey, InvalidSignature) as exc:
            if policy.mode == "all" or _ours(exc):
                raise
            ignored.append(exc)
    if not verified:
        # Nothing of ours: say why, the most specific reason last (as verify_json does).
        raise next((e for e in ignored if isinstance(e, KeyNotFound)), ignored[0])
    signed = {result.algorithm for result in verified}
    needed = allowed if policy.mode == "all" else policy.required
    missing = sorted(name for name in needed if name not in signed)
    if missing:
        raise MissingSignature(
            f"no valid signature by {', '.join(missing)}: the signature policy requires "
            f"{'every allowed algorithm' if policy.mode == 'all' else 'one by each of'} "
            f"{sorted(needed)}, and the document's valid signatures are by {sorted(signed)}"
        )
    return tuple(verified)


def verify_json_policy(
    data: Mapping[str, Any] | str | bytes,
    key: KeyArgument | None,
    algorithms: Iterable[str] | None = None,
    *,
    policy: SignaturePolicy,
    detached_payload: bytes | None = None,
    crit: Collection[str] = (),
    registry: Registry = DEFAULT_REGISTRY,
    max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
    max_signatures: int = DEFAULT_MAX_SIGNATURES,
) -> tuple[VerifiedJWS, ...]:
    """Verify a JWS in JSON serialization under ``policy``; return every signature that
    verified, in document order (the flattened form is one signature).

    Arguments are those of :func:`~jwtkit.jws.verify_json`. The policy decides which
    signatures must verify (RFC 7515 §5.2 leaves it to the application): see
    :class:`SignaturePolicy`. A required algorithm without a valid signature raises
    :class:`~jwtkit.errors.MissingSignature`; a signature of a trusted key that does not verify
    raises :class:`~jwtkit.errors.InvalidSignature` under every policy.
    """
    source = KeySource(key)
    allowed = allowed_algorithms(algorithms, source, registry)
    return verify_with_policy(
        data,
        source,
        allowed,
        policy,
        detached_payload=detached_payload,
        crit=crit,
        registry=registry,
        max_token_size=max_token_size,
        max_signatures=max_signatures,
    )
