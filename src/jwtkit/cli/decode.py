"""``jwtkit decode``: show a token's header, claims and signature **without verifying** it.

The output always says UNVERIFIED (``"verified": false`` in JSON): nothing in an unverified
token can be trusted (RFC 8725 §3.1). NumericDates (RFC 7519 §2) are shown as ISO 8601 times
with a relative time, and registered names are explained in a word. For an encrypted token
(JWE, five segments, RFC 7516 §7.1) only the protected header is readable without the key;
the human output adds the sizes of the other four segments, and says so when the JWE holds a
nested JWT (``cty: JWT``, RFC 7519 §5.2) that ``jwtkit decrypt`` then ``jwtkit verify`` open.
"""

from __future__ import annotations

from typing import Any

import click

from .._token_audit import jwe_header
from ..errors import JWTError
from ..jwt import decode_unverified
from . import _time
from ._errors import CommandFailed
from ._io import read_token
from ._output import Style, emit_json, printable, safe, table, times_json, token_sections

__all__ = ["JWE_NOTE", "NESTED_NOTE", "decode_command", "jwe_header", "jwe_sections"]

#: What ``decode`` says about an encrypted token.
JWE_NOTE = "encrypted token (JWE): shows the protected header only"
#: What ``decode`` says about a JWE whose content type is a JWT (RFC 7519 §5.2).
NESTED_NOTE = (
    "nested JWT (cty JWT): open it with 'jwtkit decrypt --key KEY', then check the inner token "
    "with 'jwtkit verify'"
)
_JWE_SEGMENTS = ("encrypted key", "iv", "ciphertext", "tag")
_UNVERIFIED = "the signature was not checked: anyone could have written this (use 'jwtkit verify')"


def jwe_sections(token: str, header: dict[str, Any], style: Style) -> list[str]:
    """The ``Encrypted`` section of a compact JWE: the byte length of each segment after the
    header (from its base64url length; nothing is decrypted), and the nested-JWT note."""
    segments = zip(_JWE_SEGMENTS, token.split(".")[1:], strict=True)
    rows = [(name, f"{len(part) * 3 // 4} bytes", "") for name, part in segments]
    lines = ["", style("Encrypted", "title"), *table(rows, style)]
    cty = header.get("cty")
    if isinstance(cty, str) and cty.lower() in ("jwt", "application/jwt"):
        lines += ["", NESTED_NOTE]
    return lines


def _algorithm(header: dict[str, Any]) -> str:
    alg = header.get("alg")
    return printable(alg) if isinstance(alg, str) else safe(alg)


def _signature(header: dict[str, Any], signature: dict[str, Any], style: Style) -> str:
    if signature["length"]:
        return f"{_algorithm(header)}, {signature['length']} bytes"
    return style("none: no signature (an unsecured token)", "bad")


@click.command("decode")
@click.argument("token", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (see docs/cli.md).")
def decode_command(token: str | None, as_json: bool) -> None:
    """Show a token's header, claims and signature WITHOUT verifying it.

    TOKEN is the token, a file holding it, or '-' for standard input (read by default when
    input is piped). A leading 'Bearer ' is ignored. Times are shown in UTC with a relative
    time; registered claims are explained in a word. Nothing is sent anywhere.

    \b
    Examples:
      jwtkit decode eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2ln...
      pbpaste | jwtkit decode
      jwtkit decode token.txt --json | jq .claims
    """
    text = read_token(token)
    now = _time.current_time()
    try:
        if text.count(".") == 4:
            header: dict[str, Any] = jwe_header(text)
            claims: dict[str, Any] | None = None
            signature: dict[str, Any] | None = None
        else:
            decoded = decode_unverified(text)
            header, claims = decoded.header, decoded.claims
            signature = {"algorithm": header.get("alg"), "length": len(decoded.signature)}
    except JWTError as exc:
        raise CommandFailed(exc.message) from None
    if as_json:
        emit_json(
            {
                "verified": False,
                "format": "JWS" if claims is not None else "JWE",
                "header": header,
                "claims": claims,
                "signature": signature,
                "times": {} if claims is None else times_json(claims, now),
                "note": None if claims is not None else JWE_NOTE,
            }
        )
        return
    style = Style()
    lines = [style("UNVERIFIED", "warn") + "  " + _UNVERIFIED]
    if signature is None:
        lines.append(JWE_NOTE)
    lines += ["", *token_sections(header, claims, now, style)]
    if signature is None:
        lines += jwe_sections(text, header, style)
    else:
        lines += ["", style("Signature", "title"), "  " + _signature(header, signature, style)]
    click.echo("\n".join(lines))
