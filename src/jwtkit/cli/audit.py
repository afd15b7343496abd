"""``jwtkit audit``: lint a token against RFC 8725 (JWT Best Current Practices) and common
mistakes. Each finding has a severity (critical, high, medium, low, info) and a one-line fix.

The rules are :mod:`jwtkit._token_audit`'s (the service's ``POST /audit`` applies the same;
``docs/cli.md`` lists them with their severities): the header, the claims, sensitive data in
the payload and, with ``--crack``, an HS256/384/512 signature checked against the shipped
list of weak secrets and ``--wordlist`` files. This module holds the command: its options,
reading the token and the wordlists, and the report.

Nothing here verifies the token: an audit reads what anyone holding the token can read.
``--issuer URL`` audits an issuer instead (:mod:`.audit_issuer`); both report through
:mod:`._findings`.
"""

from __future__ import annotations

import click

from .._token_audit import (
    SEVERITIES,
    Finding,
    audit_claims,
    audit_header,
    audit_token,
    crack,
    luhn,
    sensitive_values,
    weak_secrets,
    wordlist,
)
from ..errors import JWTError
from . import _time
from ._errors import CommandFailed, UsageProblem
from ._findings import report
from ._io import read_input, read_token, timeout_option
from ._output import printable
from ._time import duration_option
from .audit_issuer import run_issuer_audit

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
    "wordlist_files",
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
    wordlist_files: tuple[str, ...],
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
        if token is not None or try_crack or wordlist_files:
            raise UsageProblem("--issuer audits an issuer: give no token, --crack or --wordlist")
        _audit_issuer(issuer, timeout, fail_on, as_json)
        return
    text = read_token(token)
    now = _time.current_time()
    extra = [line for path in wordlist_files for line in wordlist(read_input(path, "--wordlist"))]
    secrets = [*extra, *weak_secrets()] if try_crack or wordlist_files else []
    try:
        audit = audit_token(text, now=now, max_lifetime=max_lifetime, secrets=secrets)
    except JWTError as exc:
        raise CommandFailed(exc.message) from None
    alg = audit.algorithm
    label = f"a {audit.format} token" + (f" ({printable(alg)})" if isinstance(alg, str) else "")
    fields = {"verified": False, "format": audit.format, "algorithm": alg}
    report(
        audit.findings,
        label=label,
        fail_on=fail_on,
        as_json=as_json,
        fields=fields,
        badge="UNVERIFIED",
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
