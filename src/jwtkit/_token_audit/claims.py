"""The token audit's rules on a claims set (RFC 7519 §4.1; RFC 8725 §3.8-3.9).

* times: ``exp`` missing or not a NumericDate, a lifetime longer than the limit, expired,
  ``iat`` or ``nbf`` in the future, ``iat`` missing;
* ``aud``, ``iss`` and ``jti`` missing;
* sensitive data (the payload is only base64url, readable by anyone who holds the token):
  secret-like claim names, e-mail addresses, payment card numbers (issuer prefix, length and
  Luhn check), US Social Security numbers (``ddd-dd-dddd``), UK National Insurance numbers,
  IBANs (ISO 13616 mod-97 check), private keys, AWS access key IDs and tokens inside tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .._messages import printable, safe
from .._times import human_duration, numeric_date, relative
from .findings import Finding

__all__ = ["DEFAULT_MAX_LIFETIME", "audit_claims", "luhn", "sensitive_values"]

#: The longest lifetime (``exp`` - ``iat``) an audit accepts unless told otherwise: one day.
DEFAULT_MAX_LIFETIME = 86400.0

_SECRET_NAMES = re.compile(
    r"password|passwd|passphrase|secret|privatekey|apikey|accesskey|credential|creditcard|"
    r"cardnumber|cvv|cvc|(?:^|access|refresh|id|session|auth|csrf|bearer|api)token$|^pwd$|"
    r"^pin$|^ssn$"
)
# The local part starts where a run of its characters starts: tried from inside a run too, a
# long run without "@" would cost quadratic time (a denial-of-service lever on POST /audit).
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])")
_NINO = re.compile(
    r"(?<![A-Za-z0-9])(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r" ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])"
)
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----")
_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")
_NESTED_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
# Payment card issuer prefixes (IIN ranges) and lengths: Visa, Mastercard, American Express,
# Discover, JCB, Diners Club, UnionPay.
_CARD_BRANDS = (
    (re.compile(r"4"), (13, 16, 19)),
    (re.compile(r"5[1-5]|2(?:2[2-9]|[3-6]\d|7[01]|720)"), (16,)),
    (re.compile(r"3[47]"), (15,)),
    (re.compile(r"6011|65|64[4-9]"), (16, 17, 18, 19)),
    (re.compile(r"35(?:2[89]|[3-8]\d)"), (16, 17, 18, 19)),
    (re.compile(r"3(?:0[0-5]|[68])"), (14, 15, 16, 17, 18, 19)),
    (re.compile(r"62"), (16, 17, 18, 19)),
)


def _time_findings(claims: Mapping[str, Any], now: float, max_lifetime: float) -> list[Finding]:
    found = []
    exp = numeric_date(claims.get("exp"))
    iat = numeric_date(claims.get("iat"))
    nbf = numeric_date(claims.get("nbf"))
    if "exp" not in claims:
        found.append(
            Finding(
                "exp-missing",
                "high",
                "claims.exp",
                "no exp: the token never expires, so a leaked copy works forever",
                "set a short expiry, e.g. jwtkit encode --exp 15m (RFC 7519 §4.1.4)",
            )
        )
    for name, value in (("exp", exp), ("iat", iat), ("nbf", nbf)):
        if name in claims and value is None:
            found.append(
                Finding(
                    f"{name}-invalid",
                    "high",
                    f"claims.{name}",
                    f"{name} is not a NumericDate: {safe(claims[name])}; some verifiers ignore it",
                    "use seconds since 1970 as a JSON number (RFC 7519 §2)",
                )
            )
    if exp is not None:
        start = iat if iat is not None else nbf if nbf is not None else now
        lifetime = exp - start
        if lifetime > max_lifetime:
            basis = "exp - iat" if iat is not None else "exp - nbf" if nbf is not None else "left"
            found.append(
                Finding(
                    "lifetime-long",
                    "medium",
                    "claims.exp",
                    f"lifetime {human_duration(lifetime)} ({basis}) is longer than "
                    f"{human_duration(max_lifetime)}",
                    "issue short-lived tokens and refresh them (--max-lifetime sets this limit)",
                )
            )
        if exp <= now:
            found.append(
                Finding(
                    "expired",
                    "info",
                    "claims.exp",
                    f"expired {relative(exp, now)}",
                    "issue a new token",
                )
            )
    if iat is not None and iat > now:
        found.append(
            Finding(
                "iat-future",
                "low",
                "claims.iat",
                f"issued in the future ({relative(iat, now)}): clock skew or a forged token",
                "sync the issuer's clock (NTP); verifiers reject such tokens",
            )
        )
    if nbf is not None and nbf > now:
        message = f"not valid yet (valid {relative(nbf, now)})"
        found.append(Finding("nbf-future", "info", "claims.nbf", message, "wait for it"))
    if "iat" not in claims:
        found.append(
            Finding(
                "iat-missing",
                "info",
                "claims.iat",
                "no iat: verifiers cannot bound the token's age",
                "set iat when issuing (RFC 7519 §4.1.6)",
            )
        )
    return found


def _missing_findings(claims: Mapping[str, Any]) -> Iterator[Finding]:
    if "aud" not in claims:
        yield Finding(
            "aud-missing",
            "medium",
            "claims.aud",
            "no aud: any service that trusts the issuer accepts this token",
            "name the intended recipient and have verifiers check it (RFC 8725 §3.9)",
        )
    if "iss" not in claims:
        yield Finding(
            "iss-missing",
            "medium",
            "claims.iss",
            "no iss: verifiers cannot tell which issuer (and which keys) it belongs to",
            "set iss and have verifiers check it (RFC 8725 §3.8)",
        )
    if "jti" not in claims:
        yield Finding(
            "jti-missing",
            "low",
            "claims.jti",
            "no jti: the token cannot be revoked by ID nor its replay detected",
            "give each token a unique jti (RFC 7519 §4.1.7)",
        )


def luhn(digits: str) -> bool:
    """The Luhn (mod 10) check of a string of digits (ISO/IEC 7812-1 Annex B)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card_number(text: str) -> bool:
    for match in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        for prefix, lengths in _CARD_BRANDS:
            if prefix.match(digits) and len(digits) in lengths and luhn(digits):
                return True
    return False


def _iban(text: str) -> bool:
    for match in _IBAN.finditer(text):
        compact = match.group().replace(" ", "")
        if not 15 <= len(compact) <= 34:
            continue
        rearranged = compact[4:] + compact[:4]
        if int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1:
            return True
    return False


def _walk(value: Any, path: str) -> Iterator[tuple[str, str | None, Any]]:
    """(path, member name or None, value) for every value in a JSON structure."""
    if isinstance(value, dict):
        for name, child in value.items():
            child_path = f"{path}.{name}"
            yield child_path, name, child
            yield from _walk(child, child_path)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            child_path = f"{path}[{index}]"
            yield child_path, None, child
            yield from _walk(child, child_path)


_VALUE_CHECKS: Sequence[tuple[str, str, str, Any]] = (
    ("private-key", "high", "a private key", _PRIVATE_KEY.search),
    ("aws-key-id", "high", "an AWS access key ID", _AWS_KEY_ID.search),
    ("card-number", "high", "a payment card number (passes the Luhn check)", _card_number),
    ("national-id", "high", "a US Social Security number (ddd-dd-dddd)", _SSN.search),
    ("national-id", "high", "a UK National Insurance number", _NINO.search),
    ("iban", "high", "a bank account number (IBAN, passes mod-97)", _iban),
    ("embedded-token", "medium", "another token (a bearer credential)", _NESTED_JWT.search),
    ("email", "medium", "an e-mail address (personal data)", _EMAIL.search),
)
_NOT_SECRET = "anyone holding the token can read the payload: it is encoded, not encrypted"
_FIX_SENSITIVE = (
    "keep it out of the token: store it server-side and put an opaque reference (or encrypt "
    "the token, JWE)"
)


def sensitive_values(claims: Mapping[str, Any]) -> list[Finding]:
    """Claims that look sensitive by name (``password``, ``api_key``, ...) or by value."""
    found = []
    for path, name, value in _walk(dict(claims), "claims"):
        shown = printable(path)
        if name is not None and _SECRET_NAMES.search(re.sub(r"[^a-z0-9]", "", name.lower())):
            found.append(
                Finding(
                    "sensitive-name",
                    "high",
                    shown,
                    f"claim {safe(name)} looks like a secret; {_NOT_SECRET}",
                    _FIX_SENSITIVE,
                )
            )
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            continue
        text = str(value)
        for finding_id, severity, what, check in _VALUE_CHECKS:
            if check(text):
                found.append(
                    Finding(
                        finding_id,
                        severity,
                        shown,
                        f"looks like {what}; {_NOT_SECRET}",
                        _FIX_SENSITIVE,
                    )
                )
    return found


def audit_claims(
    claims: Mapping[str, Any], *, now: float, max_lifetime: float = DEFAULT_MAX_LIFETIME
) -> list[Finding]:
    """Findings about a claims set at time ``now``."""
    return [
        *_time_findings(claims, now, max_lifetime),
        *_missing_findings(claims),
        *sensitive_values(claims),
    ]
