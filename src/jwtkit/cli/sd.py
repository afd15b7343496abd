"""``jwtkit sd``: SD-JWTs (RFC 9901) on the command line: ``issue``, ``present``, ``verify``.

``issue`` signs a claims file with some claims made selectively disclosable (``--disclose``
takes JSON Pointers, RFC 6901); ``present`` keeps the Disclosures of the chosen claims (and
of the claims around and inside them) and adds a Key Binding JWT with ``--holder-key``;
``verify`` checks a presentation as :class:`jwtkit.sd_jwt.SDJWTVerifier` does and prints the
disclosed claims. Invalid SD-JWTs exit 1, bad usage 2, each with one line on stderr.
"""

from __future__ import annotations

from typing import Any

import click

from ..errors import JWTError, UsageError
from ..jwa import DEFAULT_REGISTRY
from ..jwk import Key, KeySet
from ..sd_jwt import DEFAULT_TYP, SD_ALGORITHMS, SDJWT, SDJWTVerifier, issue
from . import _time
from ._errors import CommandFailed, UsageProblem
from ._io import load_key, parse_json_object, read_input, read_token
from ._output import emit_json, safe
from ._time import parse_time, time_option
from .encode import signing_algorithm
from .verify import allowed_for

__all__ = ["sd_group"]

_ALGORITHMS = sorted(DEFAULT_REGISTRY.signature_names)


def _one_key(source: str, option: str) -> Key:
    keys = load_key(source, option)
    if isinstance(keys, KeySet):
        if len(keys.keys) != 1:
            raise UsageProblem(f"{option}: expected one key, the file holds {len(keys.keys)}")
        return keys.keys[0]
    return keys


def _failed(exc: JWTError) -> CommandFailed:
    """A usage error of the core is the user's (exit 2); anything else, the token's (exit 1)."""
    if isinstance(exc, UsageError):
        return UsageProblem(exc.message)
    return CommandFailed(exc.message)


@click.group("sd")
def sd_group() -> None:
    """SD-JWTs (RFC 9901): issue, present and verify selectively disclosable claims.

    \b
    Examples:
      jwtkit sd issue --key issuer.jwk --claims claims.json --disclose /email \\
          --holder-key holder.pub.jwk > sd.txt
      jwtkit sd present sd.txt --disclose /email --holder-key holder.jwk \\
          --aud https://verifier.example --nonce n1 > shown.txt
      jwtkit sd verify shown.txt --key issuer.pub.jwk --require-key-binding \\
          --aud https://verifier.example --nonce n1
    """


@sd_group.command("issue")
@click.option("--key", "key_file", required=True, metavar="FILE", help="The Issuer's private key.")
@click.option(
    "--claims", "claims_file", required=True, metavar="FILE", help="The claims: a JSON object."
)
@click.option(
    "--disclose",
    "paths",
    multiple=True,
    metavar="PATH",
    help="A claim to make selectively disclosable, as a JSON Pointer: /email, /address/street, "
    "/nationalities/0 (repeatable).",
)
@click.option(
    "--holder-key", metavar="FILE", help="The Holder's public key, put in cnf.jwk (Key Binding)."
)
@click.option(
    "--decoys",
    type=click.IntRange(0, 100),
    default=0,
    help="Add 1 to N decoy digests, at random, where digests are (RFC 9901 §4.2.5).",
)
@click.option("--alg", type=click.Choice(_ALGORITHMS), metavar="ALG", help="Signature algorithm.")
@click.option(
    "--sd-alg", type=click.Choice(sorted(SD_ALGORITHMS)), default="sha-256", show_default=True
)
@click.option("--typ", default=DEFAULT_TYP, show_default=True, help="The header typ.")
@click.option("--exp", "expires", callback=time_option, metavar="WHEN", help="Expiry (15m, @UNIX).")
@click.option("--json", "as_json", is_flag=True, help="Print the SD-JWT and its Disclosures.")
def issue_command(
    key_file: str,
    claims_file: str,
    paths: tuple[str, ...],
    holder_key: str | None,
    decoys: int,
    alg: str | None,
    sd_alg: str,
    typ: str,
    expires: str | None,
    as_json: bool,
) -> None:
    """Issue an SD-JWT: <Issuer-signed JWT>~<Disclosure>~...~"""
    key = _one_key(key_file, "--key")
    claims = parse_json_object(read_input(claims_file, "--claims"), "--claims")
    now = _time.current_time()
    if expires is not None:
        claims["exp"] = int(parse_time(expires, now))
    holder = None if holder_key is None else _one_key(holder_key, "--holder-key")
    try:
        sd_jwt = issue(
            claims,
            key,
            signing_algorithm(key, alg),
            disclose=list(paths),
            holder_key=holder,
            decoys=decoys,
            sd_alg=sd_alg,
            typ=typ or None,
            now=now,
        )
    except JWTError as exc:
        raise _failed(exc) from None
    if as_json:
        held = SDJWT.parse(sd_jwt)
        emit_json({"sd_jwt": sd_jwt, "disclosures": _listing(held)})
    else:
        click.echo(sd_jwt)


def _listing(held: SDJWT) -> list[dict[str, Any]]:
    return [
        {"path": path, "value": disclosure.value, "disclosure": disclosure.encoded}
        for path, disclosure in held.disclosable()
    ]


@sd_group.command("present")
@click.argument("sd_jwt", metavar="SDJWT", required=False)
@click.option(
    "--disclose",
    "paths",
    multiple=True,
    metavar="PATH",
    help="A claim to reveal, as a JSON Pointer (repeatable); the Disclosures around and inside "
    "it come along.",
)
@click.option("--list", "listing", is_flag=True, help="List the disclosable claims and stop.")
@click.option("--holder-key", metavar="FILE", help="The Holder's private key: adds a KB-JWT.")
@click.option("--aud", help="The Verifier, as the Key Binding JWT's aud.")
@click.option("--nonce", help="The Verifier's nonce for this transaction.")
@click.option("--alg", type=click.Choice(_ALGORITHMS), metavar="ALG", help="KB-JWT algorithm.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def present_command(
    sd_jwt: str | None,
    paths: tuple[str, ...],
    listing: bool,
    holder_key: str | None,
    aud: str | None,
    nonce: str | None,
    alg: str | None,
    as_json: bool,
) -> None:
    """Present an issued SD-JWT with the chosen Disclosures (and a Key Binding JWT)."""
    try:
        held = SDJWT.parse(read_token(sd_jwt))
        if listing:
            if as_json:
                emit_json({"disclosures": _listing(held)})
            else:
                for path, disclosure in held.disclosable():
                    click.echo(f"{path}  {safe(disclosure.value)}")
            return
        holder = None if holder_key is None else _one_key(holder_key, "--holder-key")
        shown = held.present(
            list(paths),
            holder_key=holder,
            audience=aud,
            nonce=nonce,
            algorithm=alg,
            now=_time.current_time(),
        )
    except JWTError as exc:
        raise _failed(exc) from None
    if as_json:
        emit_json({"presentation": shown})
    else:
        click.echo(shown)


@sd_group.command("verify")
@click.argument("sd_jwt", metavar="SDJWT", required=False)
@click.option("--key", "key_file", required=True, metavar="FILE", help="The Issuer's public key.")
@click.option(
    "--alg",
    "algorithms",
    multiple=True,
    type=click.Choice(_ALGORITHMS),
    metavar="ALG",
    help="Accepted Issuer algorithm (repeatable; default: what the key fits).",
)
@click.option("--iss", "issuers", multiple=True, help="Expected issuer (repeatable: any of).")
@click.option("--typ", help="Expected typ of the Issuer-signed JWT (RFC 9901 §9.11).")
@click.option(
    "--require", "required", multiple=True, metavar="CLAIM", help="A claim that must be disclosed."
)
@click.option("--require-key-binding", is_flag=True, help="Refuse a presentation without KB-JWT.")
@click.option("--aud", help="This Verifier's identifier: the KB-JWT's expected aud.")
@click.option("--nonce", help="The nonce this Verifier gave the Holder.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def verify_command(
    sd_jwt: str | None,
    key_file: str,
    algorithms: tuple[str, ...],
    issuers: tuple[str, ...],
    typ: str | None,
    required: tuple[str, ...],
    require_key_binding: bool,
    aud: str | None,
    nonce: str | None,
    as_json: bool,
) -> None:
    """Verify an SD-JWT or SD-JWT+KB; print the disclosed claims. Exit 0 only when valid."""
    keys = load_key(key_file, "--key")
    allowed = list(algorithms) or allowed_for(keys)
    try:
        verifier = SDJWTVerifier(
            keys,
            algorithms=allowed,
            issuer=list(issuers) or None,
            typ=typ,
            require=required,
            require_key_binding=require_key_binding,
            key_binding_audience=aud,
        )
        verified = verifier.verify(read_token(sd_jwt), nonce=nonce, now=_time.current_time())
    except JWTError as exc:
        raise _failed(exc) from None
    if as_json:
        emit_json(
            {
                "valid": True,
                "claims": verified.claims,
                "header": verified.header,
                "key_binding": verified.key_binding,
            }
        )
        return
    bound = (
        ""
        if verified.key_binding is None
        else f", key binding for {safe(verified.key_binding['aud'])}"
    )
    click.echo(f"valid SD-JWT: {len(verified.disclosures)} Disclosures{bound}")
    click.echo(safe(verified.claims))
