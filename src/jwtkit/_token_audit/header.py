"""The token audit's rules on a JOSE header (JWS, or JWE with ``jwe=True``).

* ``alg``: missing, not a string, ``none`` in any case (RFC 8725 §2.1, §3.1), unregistered
  (§3.2), HMAC (a shared secret, §3.5); for JWE, ``RSA1_5`` (§3.2);
* ``typ`` missing or the generic ``JWT`` (§3.11);
* a ``kid`` with path, URL, SQL or shell syntax, control characters or an unusual length
  (§3.10);
* key-bearing members ``jku``/``x5u``/``jwk``/``x5c`` (§3.10; CVE-2018-0114) and ``crit``
  (RFC 7515 §4.1.11);
* for JWE, ``zip`` (§3.6) and a PBES2 ``p2c`` below OWASP's PBKDF2 recommendation, invalid,
  or above the decryption cap (RFC 7518 §4.8.1.2).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from .._messages import safe
from ..jwa import (
    KEY_MANAGEMENT_ALGORITHMS,
    PBES2_HS256_A128KW,
    PBES2_HS384_A192KW,
    PBES2_HS512_A256KW,
    RSA1_5,
    SIGNATURE_ALGORITHMS,
)
from ..jwe import DEFAULT_MAX_PBES2_COUNT
from ..jwt import normalize_typ
from .findings import Finding

__all__ = ["HMAC_ALGORITHMS", "PBES2_MIN_COUNTS", "audit_header"]

#: The HMAC algorithms: a shared secret signs and verifies (RFC 7518 §3.2).
HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
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
    elif alg in HMAC_ALGORITHMS:
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
