"""``jwtkit audit``: lint a token against RFC 8725 (JWT Best Current Practices) and common
mistakes. Each finding has a severity (critical, high, medium, low, info) and a one-line fix.

The checks (see ``docs/cli.md`` for the list with severities):

* header: ``alg`` ``none`` or unknown (RFC 8725 §2.1, §3.1-3.2), HMAC (shared secrets, §3.5),
  missing or generic ``typ`` (§3.11), a ``kid`` with path, SQL, shell or URL syntax (§3.10),
  key-bearing headers ``jku``/``x5u``/``jwk``/``x5c`` (§3.10; CVE-2018-0114), ``crit``;
  for JWE, ``RSA1_5`` (§3.2), ``zip`` (§3.6) and a PBES2 ``p2c`` below OWASP's PBKDF2
  recommendation, invalid, or above the decryption cap (RFC 7518 §4.8.1.2);
* claims: missing or malformed ``exp``, a lifetime above ``--max-lifetime``, missing ``aud``
  (§3.9), ``iss`` (§3.8), ``jti`` and ``iat``, expired or future times;
* sensitive data (the payload is only base64url, readable by anyone who holds the token):
  secret-like claim names, e-mail addresses, payment card numbers (issuer prefix, length and
  Luhn check), US Social Security numbers (``ddd-dd-dddd``), UK National Insurance numbers,
  IBANs (ISO 13616 mod-97 check), private keys, AWS access key IDs and tokens inside tokens;
* ``--crack``: an HS256/384/512 signature checked against the shipped list of weak secrets
  (``weak_secrets.txt``) and ``--wordlist`` files, through the core's verification.

Nothing here verifies the token: an audit reads what anyone holding the token can read.
``--issuer URL`` audits an issuer instead (:mod:`.audit_issuer`); both report through
:mod:`._findings`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from importlib import resources
from typing import Any

import click

from ..errors import JWTError
from ..jwa import (
    KEY_MANAGEMENT_ALGORITHMS,
    PBES2_HS256_A128KW,
    PBES2_HS384_A192KW,
    PBES2_HS512_A256KW,
    RSA1_5,
    SIGNATURE_ALGORITHMS,
)
from ..jwe import DEFAULT_MAX_PBES2_COUNT
from ..jwk import OctKey
from ..jws import verify as jws_verify
from ..jwt import decode_unverified, normalize_typ
from . import _time
from ._errors import CommandFailed, UsageProblem
from ._findings import SEVERITIES, Finding, report
from ._io import read_input, read_token, timeout_option
from ._output import printable, safe
from ._time import duration_option, human_duration, numeric_date, relative
from .audit_issuer import run_issuer_audit
from .decode import jwe_header

__all__ = [
    "SEVERITIES",
    "Finding",
    "audit_claims",
    "audit_header",
    "crack",
    "luhn",
    "sensitive_values",
    "weak_secrets",
]

_HMAC = ("HS256", "HS384", "HS512")
_DEFAULT_MAX_LIFETIME = 86400.0
_KID_MAX = 128
#: Every registered JWE key-management algorithm (RFC 7518 §4.1, RFC 8037 §3.2).
_JWE_ALGORITHMS = frozenset(
    {*KEY_MANAGEMENT_ALGORITHMS, RSA1_5.name}
    | {alg.name for alg in (PBES2_HS256_A128KW, PBES2_HS384_A192KW, PBES2_HS512_A256KW)}
)
#: The least PBKDF2 iteration count to accept per PBES2 algorithm: OWASP Password Storage
#: Cheat Sheet (PBKDF2-HMAC-SHA256: 600,000; PBKDF2-HMAC-SHA512: 210,000). SHA-384 runs the
#: SHA-512 compression function at the same cost, so it gets the SHA-512 figure.
PBES2_MIN_COUNTS = {
    PBES2_HS256_A128KW.name: 600_000,
    PBES2_HS384_A192KW.name: 210_000,
    PBES2_HS512_A256KW.name: 210_000,
}
#: RFC 7518 §4.8.1.2: "A minimum iteration count of 1000 is RECOMMENDED".
_RFC_MIN_COUNT = 1000

_TRAVERSAL = re.compile(r"\.\.[/\\]|[/\\]\.\.|^[/\\]|^[A-Za-z]:[/\\]|%2e%2e|%2f|%5c", re.I)
_SQL = re.compile(
    r"'|\"|;|--|/\*|\b(?:union|select|insert|update|delete|drop|sleep|or|and)\b\s", re.I
)
_SHELL = re.compile(r"[`|&<>$]|\$\(")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(?://|[A-Za-z0-9])")

_SECRET_NAMES = re.compile(
    r"password|passwd|passphrase|secret|privatekey|apikey|accesskey|credential|creditcard|"
    r"cardnumber|cvv|cvc|(?:^|access|refresh|id|session|auth|csrf|bearer|api)token$|^pwd$|"
    r"^pin$|^ssn$"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
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


# -- header ----------------------------------------------------------------------------------


def _kid_problems(kid: str) -> list[str]:
    problems = []
    if _TRAVERSAL.search(kid):
        problems.append("path syntax")
    if _URL.match(kid):
        problems.append("a URL")
    if _SQL.search(kid):
        problems.append("SQL metacharacters")
    if _SHELL.search(kid):
        problems.append("shell metacharacters")
    if not kid.isprintable():
        problems.append("control characters")
    if len(kid) > _KID_MAX:
        problems.append(f"{len(kid)} characters")
    return problems


def _alg_findings(alg: Any, jwe: bool) -> Iterator[Finding]:
    where = "header.alg"
    if alg is None:
        yield Finding(
            "alg-missing",
            "high",
            where,
            "the header has no alg",
            "every JOSE header names its algorithm (RFC 7515 §4.1.1); re-issue the token",
        )
        return
    if not isinstance(alg, str):
        yield Finding(
            "alg-invalid",
            "high",
            where,
            f"alg is not a string: {safe(alg)}",
            "re-issue the token with a registered algorithm name",
        )
        return
    if alg.lower() == "none":
        variant = "" if alg == "none" else f" ({safe(alg)}, a case variant used to dodge filters)"
        yield Finding(
            "alg-none",
            "high",
            where,
            f"alg is none{variant}: the token is unsigned and anyone can forge it",
            "sign every token and never accept 'none' (RFC 8725 §2.1, §3.1)",
        )
    elif jwe:
        if alg == "RSA1_5":
            yield Finding(
                "alg-rsa1_5",
                "high",
                where,
                "RSA1_5 key encryption is open to padding-oracle attacks (Bleichenbacher): a "
                "recipient that answers differently to bad padding decrypts for the attacker",
                "use RSA-OAEP-256 or ECDH-ES+A256KW (RFC 8725 §3.2)",
            )
        elif alg not in _JWE_ALGORITHMS:
            yield Finding(
                "alg-unknown",
                "medium",
                where,
                f"alg {safe(alg)} is not a registered JWE key-management algorithm",
                "use RSA-OAEP-256, ECDH-ES+A256KW, or A256KW/dir for shared keys (RFC 7518 §4.1)",
            )
    elif alg not in SIGNATURE_ALGORITHMS:
        yield Finding(
            "alg-unknown",
            "medium",
            where,
            f"alg {safe(alg)} is not a registered signature algorithm",
            "use a registered algorithm such as ES256, EdDSA or PS256 (RFC 8725 §3.2)",
        )
    elif alg in _HMAC:
        yield Finding(
            "alg-hmac",
            "low",
            where,
            f"{alg} uses a shared secret: every verifier can also mint tokens, and a weak "
            "secret can be guessed offline",
            "use ES256 or EdDSA when others verify; else a random secret of at least 32 "
            "bytes (jwtkit keygen --alg HS256; check with audit --crack; RFC 8725 §3.5)",
        )


def audit_header(header: Mapping[str, Any], *, jwe: bool = False) -> list[Finding]:
    """Findings about a protected header (JWS or, with ``jwe=True``, JWE)."""
    found = list(_alg_findings(header.get("alg"), jwe))
    typ = header.get("typ")
    if typ is None:
        if not jwe:
            found.append(
                Finding(
                    "typ-missing",
                    "low",
                    "header.typ",
                    "no typ: nothing tells this kind of token from another",
                    "set an explicit type such as at+jwt (RFC 8725 §3.11, RFC 9068 §2.1)",
                )
            )
    elif isinstance(typ, str) and normalize_typ(typ) == "jwt":
        found.append(
            Finding(
                "typ-generic",
                "info",
                "header.typ",
                "typ 'JWT' says it is a JWT, not which kind (access token, ID token, ...)",
                "use an explicit type such as at+jwt (RFC 8725 §3.11)",
            )
        )
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        found.append(
            Finding(
                "kid-invalid",
                "medium",
                "header.kid",
                f"kid is not a string: {safe(kid)}",
                "use a string kid (RFC 7515 §4.1.4)",
            )
        )
    elif isinstance(kid, str):
        problems = _kid_problems(kid)
        if problems:
            found.append(
                Finding(
                    "kid-suspicious",
                    "high",
                    "header.kid",
                    f"kid contains {', '.join(problems)}: {safe(kid[:60])}; a sign of an "
                    "injection attempt against verifiers that build paths or queries from it",
                    "treat kid as an opaque name looked up among trusted keys (RFC 8725 §3.10)",
                )
            )
    for name in ("jku", "x5u"):
        if name in header:
            found.append(
                Finding(
                    f"header-{name}",
                    "high",
                    f"header.{name}",
                    f"{name} names a URL to fetch the key from: a verifier that follows it lets "
                    "the token pick its own key (forgery, SSRF)",
                    "never fetch keys a token names; configure the key set on the verifier "
                    "(RFC 8725 §3.10)",
                )
            )
    if "jwk" in header:
        found.append(
            Finding(
                "header-jwk",
                "high",
                "header.jwk",
                "the header embeds a public key: a verifier that uses it accepts any "
                "self-signed token (CVE-2018-0114)",
                "verify only with keys the verifier already trusts (RFC 8725 §3.10)",
            )
        )
    if "x5c" in header:
        found.append(
            Finding(
                "header-x5c",
                "medium",
                "header.x5c",
                "the header carries a certificate chain; its key is trustworthy only after "
                "path validation to a trust anchor",
                "verify with configured keys, or validate the chain (RFC 5280) first",
            )
        )
    if "crit" in header:
        found.append(
            Finding(
                "header-crit",
                "info",
                "header.crit",
                f"crit lists extensions every verifier must understand: {safe(header['crit'])}",
                "make sure each verifier processes them, or drop them (RFC 7515 §4.1.11)",
            )
        )
    if jwe and "zip" in header:
        found.append(
            Finding(
                "header-zip",
                "medium",
                "header.zip",
                "compression before encryption leaks information about the plaintext through "
                "the ciphertext length (CRIME/BREACH), and a recipient that inflates without a "
                "limit can be sent a decompression bomb",
                "do not compress content that mixes secrets with attacker-influenced data; cap "
                "the inflated size (jwtkit: max_decompressed_size) (RFC 8725 §3.6)",
            )
        )
    if jwe:
        found += _pbes2_findings(header)
    return found


def _pbes2_findings(header: Mapping[str, Any]) -> list[Finding]:
    """A PBES2 ``p2c`` (RFC 7518 §4.8.1.2) that is missing or invalid, lower than OWASP's
    PBKDF2 recommendation for the hash, or above jwtkit's decryption cap."""
    alg = header.get("alg")
    minimum = PBES2_MIN_COUNTS.get(alg) if isinstance(alg, str) else None
    if minimum is None:
        return []
    p2c = header.get("p2c")
    where = "header.p2c"
    if type(p2c) is not int or p2c < _RFC_MIN_COUNT:
        return [
            Finding(
                "pbes2-p2c-invalid",
                "high",
                where,
                f"p2c {safe(p2c)} is not an integer of at least {_RFC_MIN_COUNT}: the password "
                "is barely stretched, or decryption fails",
                f"re-encrypt with p2c of at least {minimum:,} (RFC 7518 §4.8.1.2)",
            )
        ]
    if p2c < minimum:
        return [
            Finding(
                "pbes2-p2c-low",
                "medium",
                where,
                f"p2c {p2c:,} is below {minimum:,}, OWASP's PBKDF2 iteration count for {alg}: "
                "a stolen token makes offline password guessing cheap",
                f"re-encrypt with p2c of at least {minimum:,}, or use a random key (A256KW, "
                "dir) instead of a password",
            )
        ]
    if p2c > DEFAULT_MAX_PBES2_COUNT:
        return [
            Finding(
                "pbes2-p2c-high",
                "medium",
                where,
                f"p2c {p2c:,} is above {DEFAULT_MAX_PBES2_COUNT:,}: each decryption attempt "
                "costs the recipient that much work (a denial-of-service lever; "
                "CVE-2022-36083, CVE-2023-52428)",
                "keep p2c at the recommended count; recipients should cap it (jwtkit: "
                "max_pbes2_count)",
            )
        ]
    return []


# -- claims ----------------------------------------------------------------------------------


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
    claims: Mapping[str, Any], *, now: float, max_lifetime: float = _DEFAULT_MAX_LIFETIME
) -> list[Finding]:
    """Findings about a claims set at time ``now``."""
    return [
        *_time_findings(claims, now, max_lifetime),
        *_missing_findings(claims),
        *sensitive_values(claims),
    ]


# -- cracking --------------------------------------------------------------------------------


def weak_secrets() -> list[bytes]:
    """The shipped list of weak secrets (``weak_secrets.txt``; ``#`` starts a comment line)."""
    text = resources.files(__package__).joinpath("weak_secrets.txt").read_text("utf-8")
    return _lines(text.encode("utf-8"))


def _lines(data: bytes) -> list[bytes]:
    lines = (line.rstrip(b"\r") for line in data.split(b"\n"))
    return [line for line in lines if line and not line.startswith(b"#")]


def crack(token: str, algorithm: str, candidates: Iterable[bytes]) -> bytes | None:
    """The first candidate secret whose HMAC verifies ``token`` (via :func:`jwtkit.jws.verify`,
    which compares in constant time), or ``None``."""
    for secret in candidates:
        try:
            jws_verify(token, OctKey(secret, allow_weak=True), algorithms=[algorithm])
        except JWTError:
            continue
        return secret
    return None


# -- the command -----------------------------------------------------------------------------


@click.command("audit")
@click.argument("token", required=False)
@click.option(
    "--issuer",
    metavar="URL",
    help="Audit this issuer's metadata and JWK Set instead of a token (fetched live).",
)
@click.option(
    "--max-lifetime",
    callback=duration_option,
    metavar="DURATION",
    default="1d",
    show_default=True,
    help="Longest acceptable lifetime (exp - iat).",
)
@click.option(
    "--crack", "try_crack", is_flag=True, help="Try the built-in weak secrets on HS256/384/512."
)
@click.option(
    "--wordlist",
    multiple=True,
    metavar="FILE",
    help="More secrets to try, one per line (repeatable; implies --crack).",
)
@timeout_option("--issuer")
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES[:-1]),
    help="Exit with status 1 when a finding of this severity or above exists (for CI).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (see docs/cli.md).")
def audit_command(
    token: str | None,
    issuer: str | None,
    max_lifetime: float,
    try_crack: bool,
    wordlist: tuple[str, ...],
    timeout: float,
    fail_on: str | None,
    as_json: bool,
) -> None:
    """Lint a token against RFC 8725 and common mistakes, without verifying it; or, with
    --issuer, lint a live issuer's metadata and JWK Set (RFC 8414, OpenID Connect Discovery,
    RFC 7517).

    Each finding has a severity (critical, high, medium, low, info) and a one-line fix.
    --crack tries a built-in list of weak secrets on HS256/384/512 tokens (offline; nothing
    is sent).

    \b
    Examples:
      jwtkit audit "$TOKEN"
      jwtkit audit --crack --fail-on medium token.txt
      jwtkit audit --max-lifetime 1h --json - < token.txt
      jwtkit audit --issuer https://id.example --fail-on high
    """
    if issuer is not None:
        if token is not None or try_crack or wordlist:
            raise UsageProblem("--issuer audits an issuer: give no token, --crack or --wordlist")
        _audit_issuer(issuer, timeout, fail_on, as_json)
        return
    text = read_token(token)
    now = _time.current_time()
    extra = [line for path in wordlist for line in _lines(read_input(path, "--wordlist"))]
    try:
        if text.count(".") == 4:
            header, claims, jwe = jwe_header(text), None, True
        else:
            decoded = decode_unverified(text)
            header, claims, jwe = decoded.header, decoded.claims, False
    except JWTError as exc:
        raise CommandFailed(exc.message) from None
    findings = audit_header(header, jwe=jwe)
    if claims is not None:
        findings += audit_claims(claims, now=now, max_lifetime=max_lifetime)
    alg = header.get("alg")
    if (try_crack or wordlist) and alg in _HMAC:
        cracked = _crack(text, str(alg), [*extra, *weak_secrets()])
        if cracked is not None:
            findings.append(cracked)
    label = f"a {'JWE' if jwe else 'JWS'} token" + (
        f" ({printable(alg)})" if isinstance(alg, str) else ""
    )
    fields = {"verified": False, "format": "JWE" if jwe else "JWS", "algorithm": alg}
    report(
        findings, label=label, fail_on=fail_on, as_json=as_json, fields=fields, badge="UNVERIFIED"
    )


def _audit_issuer(issuer: str, timeout: float, fail_on: str | None, as_json: bool) -> None:
    """``audit --issuer``: the documents through :mod:`jwtkit.remote` (extra ``remote``:
    without it, the install line is the error, exit 2), the checks of :mod:`.audit_issuer`;
    a URL the policy refuses is bad usage (2), a failed fetch one line (1)."""
    try:
        from ..remote._issuer import IssuerDocuments  # noqa: PLC0415 - optional (extra 'remote')
    except ImportError as exc:
        raise UsageProblem(str(exc)) from None
    try:
        with IssuerDocuments(issuer, timeout=timeout) as documents:
            audit = run_issuer_audit(documents)
    except JWTError as exc:
        usage = exc.code == "jwks_unsafe_url"
        raise (UsageProblem if usage else CommandFailed)(exc.message) from None
    keys = ", ".join(f"{count} {printable(kind)}" for kind, count in audit.signing_keys.items())
    report(
        audit.findings,
        label=f"issuer {printable(audit.issuer)}" + (f" (signing keys: {keys})" if keys else ""),
        fail_on=fail_on,
        as_json=as_json,
        fields=audit.fields(),
    )


def _crack(token: str, algorithm: str, candidates: list[bytes]) -> Finding | None:
    secret = crack(token, algorithm, candidates)
    if secret is None:
        return None
    shown = safe(secret.decode("utf-8", "replace"))
    return Finding(
        "weak-secret",
        "high",
        "signature",
        f"the {algorithm} secret is {shown}, a well-known weak secret: anyone can forge tokens",
        "rotate to a random secret of at least 32 bytes (jwtkit keygen --alg HS256) now",
    )
