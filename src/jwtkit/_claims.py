"""JWT claims validation (RFC 7519 §4.1, RFC 8725 §3.8-3.12; security matrix E1-E5).

A :class:`ClaimsPolicy` is built once from the caller's expectations and checks a claims set
against a given time. It is pure: no clock is read here; the caller passes ``now``.

Rules:

* ``exp``, ``nbf``, ``iat`` must be NumericDates: ``int`` or ``float``, never ``bool``, within
  years 1-9999; anything else rejects the token (E2), it is never treated as absent;
* ``exp`` must be after ``now - leeway``; ``nbf`` and ``iat`` must not be after ``now + leeway``;
* ``iss`` and ``sub`` match exactly (E3); ``aud`` is a string or a non-empty array of strings
  and must contain one accepted audience (E1); a token that names an audience is rejected when
  the caller expects none (RFC 7519 §4.1.3);
* every expectation makes its claim required; ``require`` adds more;
* ``max_age`` bounds the age of ``iat``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ._messages import short
from ._times import MAX_NUMERIC_DATE, MIN_NUMERIC_DATE
from .errors import (
    ClaimError,
    ExpiredToken,
    InvalidAudience,
    InvalidIssuer,
    InvalidSubject,
    MissingClaim,
    NotYetValid,
    UsageError,
)

__all__ = ["ClaimsPolicy", "format_time", "seconds", "to_timestamp"]

_OPTION_NAMES = frozenset(
    {"verify_signature", "verify_exp", "verify_nbf", "verify_iat", "verify_aud", "require"}
)


def seconds(value: float | timedelta, what: str) -> float:
    """A duration in seconds from a number or a :class:`~datetime.timedelta`."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if type(value) not in (int, float) or not math.isfinite(value):
        raise UsageError(f"{what}: expected seconds (int/float) or a timedelta")
    return float(value)


def to_timestamp(value: float | datetime, what: str) -> float:
    """A Unix time from a number or an aware :class:`~datetime.datetime` (naive means UTC)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    if type(value) not in (int, float) or not math.isfinite(value):
        raise UsageError(f"{what}: expected a Unix time (int/float) or a datetime")
    return float(value)


def format_time(timestamp: float) -> str:
    """ISO 8601 UTC for messages, e.g. ``2026-11-29T10:15:00Z``."""
    when = datetime.fromtimestamp(int(timestamp), tz=timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_duration(delta: float) -> str:
    """A short human duration: ``42 s``, ``3 min``, ``5 h``, ``2 days``."""
    delta = abs(delta)
    if delta < 120:
        return f"{int(delta)} s"
    if delta < 7200:
        return f"{int(delta // 60)} min"
    if delta < 172800:
        return f"{int(delta // 3600)} h"
    return f"{int(delta // 86400)} days"


def _numeric_date(claims: Mapping[str, Any], name: str) -> float:
    """The NumericDate of a claim that is present, or the ClaimError saying what is wrong."""
    value = claims[name]
    if value is None:
        raise ClaimError(name, "must be a NumericDate, got null")
    if type(value) is not int and type(value) is not float:
        raise ClaimError(
            name, f"must be a NumericDate (seconds since the epoch), got {type(value).__name__}"
        )
    if not MIN_NUMERIC_DATE <= value <= MAX_NUMERIC_DATE:
        raise ClaimError(name, "NumericDate out of range")
    return value


def _names(value: str | Iterable[str] | None, what: str) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset((value,))
    names = frozenset(value)
    if not names or not all(isinstance(n, str) for n in names):
        raise UsageError(f"{what}: expected a string or a non-empty collection of strings")
    return names


@dataclass(frozen=True)
class ClaimsPolicy:
    """What a caller expects of a token's claims; checks claims sets against a time."""

    audience: frozenset[str] | None = None
    issuer: frozenset[str] | None = None
    subject: str | None = None
    leeway: float = 0.0
    require: frozenset[str] = frozenset()
    max_age: float | None = None
    verify_exp: bool = True
    verify_nbf: bool = True
    verify_iat: bool = True
    verify_aud: bool = True

    @classmethod
    def build(
        cls,
        *,
        audience: str | Iterable[str] | None = None,
        issuer: str | Iterable[str] | None = None,
        subject: str | None = None,
        leeway: float | timedelta = 0,
        require: Iterable[str] = (),
        max_age: float | timedelta | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> ClaimsPolicy:
        """Check and normalize the arguments of ``decode`` (PyJWT's names and ``options``)."""
        options = dict(options or {})
        unknown = set(options) - _OPTION_NAMES
        if unknown:
            raise UsageError(f"options: unknown option(s) {sorted(unknown)}")
        if options.get("verify_signature", True) is not True:
            raise UsageError(
                "options: verify_signature cannot be turned off; use "
                "jwtkit.decode_unverified() to inspect a token without trusting it"
            )
        if isinstance(require, str):
            raise UsageError("require must be a list of claim names, not a string")
        required = set(require)
        extra = options.get("require", ())
        if isinstance(extra, str):
            raise UsageError("options['require'] must be a list of claim names, not a string")
        required.update(extra)
        if not all(isinstance(n, str) for n in required):
            raise UsageError("require: claim names must be strings")
        if subject is not None and not isinstance(subject, str):
            raise UsageError("subject: expected a string")
        flags = {}
        for name in ("verify_exp", "verify_nbf", "verify_iat", "verify_aud"):
            flag = options.get(name, True)
            if type(flag) is not bool:
                raise UsageError(f"options: {name} must be True or False")
            flags[name] = flag
        leeway_s = seconds(leeway, "leeway")
        if leeway_s < 0:
            raise UsageError("leeway must not be negative")
        max_age_s = None if max_age is None else seconds(max_age, "max_age")
        if max_age_s is not None:
            required.add("iat")
        aud = _names(audience, "audience")
        iss = _names(issuer, "issuer")
        if aud is not None:
            required.add("aud")
        if iss is not None:
            required.add("iss")
        if subject is not None:
            required.add("sub")
        return cls(
            audience=aud,
            issuer=iss,
            subject=subject,
            leeway=leeway_s,
            require=frozenset(required),
            max_age=max_age_s,
            **flags,
        )

    def check(self, claims: Mapping[str, Any], now: float) -> None:
        """Raise a :class:`~jwtkit.errors.ClaimError` subclass unless ``claims`` pass."""
        if self.require and not claims.keys() >= self.require:
            raise MissingClaim(min(self.require - claims.keys()))
        leeway = self.leeway
        get: Any = claims.get
        # The common case (an int or float in range) is tested inline; _numeric_date explains
        # anything else. A JSON null is present but not a NumericDate (security matrix E2).
        exp = get("exp")
        if exp is not None or "exp" in claims:
            if (type(exp) is not int and type(exp) is not float) or not (
                MIN_NUMERIC_DATE <= exp <= MAX_NUMERIC_DATE
            ):
                _numeric_date(claims, "exp")
            if self.verify_exp and now >= exp + leeway:
                raise ExpiredToken(
                    "exp",
                    "expired",
                    f"token expired {format_duration(now - exp)} ago at {format_time(exp)}, "
                    f"leeway {leeway:g}s",
                )
        nbf = _numeric_date(claims, "nbf") if "nbf" in claims else None
        if nbf is not None and self.verify_nbf and nbf > now + leeway:
            raise NotYetValid(
                "nbf",
                "not yet valid",
                f"token is not valid before {format_time(nbf)} "
                f"(in {format_duration(nbf - now)}), leeway {leeway:g}s",
            )
        iat = get("iat")
        if iat is not None or "iat" in claims:
            if (type(iat) is not int and type(iat) is not float) or not (
                MIN_NUMERIC_DATE <= iat <= MAX_NUMERIC_DATE
            ):
                _numeric_date(claims, "iat")
            if self.verify_iat and iat > now + leeway:
                raise NotYetValid(
                    "iat",
                    "issued in the future",
                    f"token was issued in the future, at {format_time(iat)} "
                    f"(in {format_duration(iat - now)}), leeway {leeway:g}s",
                )
            if self.max_age is not None and now - iat > self.max_age + leeway:
                raise ExpiredToken(
                    "iat",
                    "older than max_age",
                    f"token was issued {format_duration(now - iat)} ago at {format_time(iat)}, "
                    f"more than max_age {self.max_age:g}s, leeway {leeway:g}s",
                )
        if self.issuer is not None:
            iss = claims["iss"]
            if type(iss) is not str or iss not in self.issuer:
                raise InvalidIssuer(
                    "iss",
                    "unexpected issuer",
                    f"issuer {short(iss)} is not accepted; expected "
                    f"{_one_of(self.issuer)} (exact match)",
                )
        self._check_audience(claims)
        if "sub" in claims and type(claims["sub"]) is not str:
            raise InvalidSubject("sub", "must be a string")
        if self.subject is not None and claims["sub"] != self.subject:
            raise InvalidSubject(
                "sub",
                "unexpected subject",
                f"subject {short(claims['sub'])} is not the expected {self.subject!r}",
            )
        if "jti" in claims and type(claims["jti"]) is not str:
            raise ClaimError("jti", "must be a string")

    def _check_audience(self, claims: Mapping[str, Any]) -> None:
        if "aud" not in claims:
            return
        aud = claims["aud"]
        if type(aud) is str:
            values: tuple[str, ...] | list[Any] = (aud,)
        elif type(aud) is list and aud and all(type(a) is str for a in aud):
            values = aud
        else:
            raise InvalidAudience(
                "aud", "malformed", "claim 'aud' must be a string or a non-empty array of strings"
            )
        if not self.verify_aud:
            return
        if self.audience is None:
            raise InvalidAudience(
                "aud",
                "unexpected audience",
                "token names an audience but no audience was expected; pass audience=... "
                "(RFC 7519 §4.1.3)",
            )
        for value in values:
            if value in self.audience:
                return
        raise InvalidAudience(
            "aud",
            "not accepted",
            f"audience {short(aud)} does not include {_one_of(self.audience)}",
        )


def _one_of(names: frozenset[str]) -> str:
    ordered = sorted(names)
    return repr(ordered[0]) if len(ordered) == 1 else f"one of {ordered}"
