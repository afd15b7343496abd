"""The token audit: a token linted against RFC 8725 (JWT Best Current Practices) and common
mistakes, from what anyone holding it can read. Nothing is verified and no key is needed.

One set of rules for every front end: ``jwtkit audit`` (``cli/audit.py``: its options and its
report) and ``POST /audit`` of the token service and of ``jwtkit inspect``
(:func:`audit_request`, the JSON contract of both). The rules live in
:mod:`.header`, :mod:`.claims` and :mod:`.secrets` (weak HMAC secrets, tried only when the
caller passes candidates); the model, :class:`~.findings.Finding`, in :mod:`.findings`, which
``jwtkit audit --issuer`` reports through too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .._codec import b64url_decode, check_compact, json_loads_object
from ..errors import UsageError
from ..jwt import decode_unverified
from .claims import DEFAULT_MAX_LIFETIME, audit_claims, luhn, sensitive_values
from .findings import RANK, SEVERITIES, Finding, count_findings, sort_findings
from .header import HMAC_ALGORITHMS, PBES2_MIN_COUNTS, audit_header
from .secrets import crack, weak_secret_finding, weak_secrets, wordlist

__all__ = [
    "DEFAULT_MAX_LIFETIME",
    "HMAC_ALGORITHMS",
    "PBES2_MIN_COUNTS",
    "RANK",
    "SEVERITIES",
    "Finding",
    "TokenAudit",
    "audit_claims",
    "audit_header",
    "audit_request",
    "audit_token",
    "count_findings",
    "crack",
    "jwe_header",
    "luhn",
    "sensitive_values",
    "sort_findings",
    "weak_secrets",
    "wordlist",
]


@dataclass(frozen=True)
class TokenAudit:
    """What :func:`audit_token` found: the token's ``format`` (``"JWS"`` or ``"JWE"``), its
    protected header as read (unverified) and the findings in the order of the checks."""

    format: str
    header: dict[str, Any]
    findings: list[Finding]

    @property
    def algorithm(self) -> Any:
        """The header's ``alg`` as written (any JSON value), or ``None``."""
        return self.header.get("alg")


def jwe_header(token: str) -> dict[str, Any]:
    """The protected header of a JWE in compact form (RFC 7516 §7.1), unverified."""
    parts = check_compact(token, 5)
    return json_loads_object(b64url_decode(parts[0], "header"), "header")


def audit_token(
    token: str,
    *,
    now: float,
    max_lifetime: float = DEFAULT_MAX_LIFETIME,
    secrets: Iterable[bytes] = (),
) -> TokenAudit:
    """Audit a compact JWS (header and claims) or JWE (its protected header; five segments)
    at time ``now``; an HS256/384/512 token is also tried against ``secrets`` (none by
    default). A token the core cannot read (malformed, larger than its maximum token size)
    raises the core's :class:`~jwtkit.errors.MalformedToken`, whose message never holds the
    token."""
    if token.count(".") == 4:
        header, claims, jwe = jwe_header(token), None, True
    else:
        decoded = decode_unverified(token)
        header, claims, jwe = decoded.header, decoded.claims, False
    findings = audit_header(header, jwe=jwe)
    if claims is not None:
        findings += audit_claims(claims, now=now, max_lifetime=max_lifetime)
    alg = header.get("alg")
    if alg in HMAC_ALGORITHMS:
        cracked = weak_secret_finding(token, str(alg), secrets)
        if cracked is not None:
            findings.append(cracked)
    return TokenAudit("JWE" if jwe else "JWS", header, findings)


def audit_request(body: bytes, *, now: float) -> dict[str, Any]:
    """The answer to ``POST /audit``, the same on the service and on ``jwtkit inspect``.

    ``body`` is a JSON object (strict: UTF-8, no repeated member, no ``NaN``) with exactly one
    member, ``token``, a string. The answer is ``{"findings": [...], "counts": {...}}``: the
    findings of ``jwtkit audit --json`` (most severe first, each ``id``, ``severity``,
    ``where``, ``message`` and ``fix``) and the count per severity. The audit is the offline
    lint: no key, no weak-secret guessing, the default lifetime limit (one day).

    A body that is not such an object raises :class:`~jwtkit.errors.UsageError`; a token the
    core cannot read, :class:`~jwtkit.errors.MalformedToken`. Both are ``400 invalid_request``
    with the error's message, which never holds the token.
    """
    request = json_loads_object(body, "the request body")
    if set(request) != {"token"}:
        raise UsageError(
            "the request body must be a JSON object with one member, token (a compact JWS or JWE)"
        )
    token = request["token"]
    if not isinstance(token, str):
        raise UsageError("token: must be a string (a compact JWS or JWE)")
    findings = sort_findings(audit_token(token, now=now).findings)
    return {
        "findings": [
            {
                "id": f.id,
                "severity": f.severity,
                "where": f.location,
                "message": f.message,
                "fix": f.fix,
            }
            for f in findings
        ],
        "counts": count_findings(findings),
    }
