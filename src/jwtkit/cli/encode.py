"""``jwtkit encode``: build and sign a JWT (RFC 7519 §7.1) from JSON and ``--claim`` options.

Claims are merged in this order, later ones winning: the JSON object (argument, ``-`` for
standard input, or ``--claims-file``), each ``--claim NAME=VALUE`` (typed by
:func:`jwtkit.cli._io.infer_value`), each ``--claim-json NAME=JSON``, then the time options.
``iat`` is set to now unless the claims carry one or ``--no-iat`` is given. The core signs
and refuses weak keys (RFC 7518 §3.2, security matrix B6); its message is shown as it is.
``--encrypt-to KEY`` then encrypts the signed token to KEY: a nested JWT (RFC 7519 §5.2,
§11.2: sign, then encrypt, ``cty: "JWT"``).
"""

from __future__ import annotations

import json
from typing import Any

import click

from ..errors import JWTError
from ..jwa import DEFAULT_REGISTRY
from ..jwk import Key, KeySet, OctKey
from ..jwt import decode_unverified, encode
from . import _time
from ._errors import UsageProblem, warn
from ._io import (
    SECRET_ENV_DEFAULT,
    infer_value,
    key_options,
    load_key,
    parse_assignment,
    parse_json_object,
    read_input,
    signing_material,
)
from ._output import emit_json
from ._time import parse_time, time_option
from .decode import jwe_header
from .jwe import encryption_algorithm, encryption_for, recipient_key

__all__ = ["encode_command", "signing_algorithm"]

_ALGORITHMS = sorted(DEFAULT_REGISTRY.signature_names)
_KEY_MANAGEMENT = sorted(DEFAULT_REGISTRY.key_management_names)
_ENCRYPTIONS = sorted(DEFAULT_REGISTRY.content_encryption_names)
# Always strings, never typed by --claim/--header: StringOrURI claims (RFC 7519 §4.1.1-4.1.3,
# §4.1.7) and string header members (RFC 7515 §4.1).
_STRING_CLAIMS = frozenset({"iss", "sub", "aud", "jti"})
_STRING_HEADERS = frozenset({"alg", "kid", "typ", "cty", "jku", "x5u", "x5t", "x5t#S256"})


def _claims(claims_json: str | None, claims_file: str | None) -> dict[str, Any]:
    if claims_json is not None and claims_file is not None:
        raise UsageProblem("give the claims either as CLAIMS or with --claims-file, not both")
    if claims_file is not None:
        return parse_json_object(read_input(claims_file, "--claims-file"), "--claims-file")
    if claims_json == "-":
        return parse_json_object(read_input("-", "CLAIMS"), "CLAIMS")
    if claims_json is not None:
        return parse_json_object(claims_json.encode("utf-8"), "CLAIMS")
    return {}


def _json_value(name: str, text: str) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not allowed")

    try:
        return json.loads(text, parse_constant=refuse)
    except ValueError as exc:
        raise UsageProblem(f"--claim-json {name}: invalid JSON ({exc})") from None


def _pick_key(keys: Key | KeySet, kid: str | None) -> Key:
    if isinstance(keys, Key):
        return keys
    candidates = [k for k in keys if kid is None or k.kid == kid]
    if len(candidates) != 1:
        which = "no key has that kid" if not candidates else f"it holds {len(candidates)} keys"
        raise UsageProblem(f"--key: pick one key of the JWK Set with --kid ({which})")
    return candidates[0]


def _encryption(encrypt_to: str | None, enc_alg: str | None, enc: str | None) -> dict[str, Any]:
    """The ``encode`` arguments that encrypt the signed token to ``--encrypt-to``, if given."""
    if encrypt_to is None:
        given = [name for name, value in (("--enc-alg", enc_alg), ("--enc", enc)) if value]
        if given:
            verb = "applies" if len(given) == 1 else "apply"
            raise UsageProblem(f"{' and '.join(given)} {verb} only with --encrypt-to KEY")
        return {}
    recipient = recipient_key(load_key(encrypt_to, "--encrypt-to"), None, "--encrypt-to")
    algorithm = encryption_algorithm(recipient, enc_alg, False, "--enc-alg")
    return {
        "encrypt_with": recipient,
        "encryption_algorithm": algorithm,
        "content_encryption": encryption_for(recipient, algorithm, enc),
    }


def signing_algorithm(key: Key, alg: str | None) -> str | None:
    """``--alg``, else the key's ``alg``; for an asymmetric key without one, the only
    algorithm its type fits (an EC P-256 key: ES256). ``None`` lets the core decide (HS256
    for a secret)."""
    if alg is not None or key.alg is not None or isinstance(key, OctKey):
        return alg
    fits = [name for name in _ALGORITHMS if key.supports(name)]
    if len(fits) == 1:
        return fits[0]
    choices = ", ".join(fits) if fits else "none: it is not a signing key"
    raise UsageProblem(f"--alg is required for this {key.kty} key (it fits {choices})")


@click.command("encode")
@click.argument("claims_json", metavar="[CLAIMS]", required=False)
@click.option("--claims-file", metavar="FILE", help="Read the claims (a JSON object) from FILE.")
@click.option(
    "--claim",
    "claim_items",
    multiple=True,
    metavar="NAME=VALUE",
    help="A claim; VALUE is typed: 42, 1.5, true, false, null, else a string (repeatable).",
)
@click.option(
    "--claim-json",
    "claim_json_items",
    multiple=True,
    metavar="NAME=JSON",
    help="A claim whose value is JSON: roles='[\"admin\"]' (repeatable).",
)
@click.option(
    "--exp",
    "--expires-in",
    "expires",
    callback=time_option,
    metavar="WHEN",
    help="Expiry: a duration from now (15m, 1h, 7d), @UNIX or an ISO 8601 time.",
)
@click.option(
    "--nbf", callback=time_option, metavar="WHEN", help="Not before (same forms as --exp)."
)
@click.option("--iat", callback=time_option, metavar="WHEN", help="Issued at (default: now).")
@click.option("--no-iat", is_flag=True, help="Do not add iat.")
@click.option(
    "--header",
    "header_items",
    multiple=True,
    metavar="NAME=VALUE",
    help="A header member, typed like --claim (repeatable).",
)
@click.option("--kid", help="The header kid (default: the key's kid).")
@click.option("--typ", default="JWT", show_default=True, help="The header typ ('' for none).")
@click.option(
    "--alg",
    type=click.Choice(_ALGORITHMS),
    metavar="ALG",
    help="Signature algorithm, e.g. ES256 (default: the key's alg; HS256 for a secret).",
)
@key_options
@click.option(
    "--encrypt-to",
    "encrypt_to",
    metavar="KEY",
    help="Then encrypt the signed token to this key file (a nested JWT, cty JWT).",
)
@click.option(
    "--enc-alg",
    type=click.Choice(_KEY_MANAGEMENT),
    metavar="ALG",
    help="Key management for --encrypt-to, e.g. RSA-OAEP-256, ECDH-ES+A256KW (default: the "
    "key's alg).",
)
@click.option(
    "--enc",
    type=click.Choice(_ENCRYPTIONS),
    metavar="ENC",
    help="Content encryption for --encrypt-to (default A256GCM).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (see docs/cli.md).")
def encode_command(
    claims_json: str | None,
    claims_file: str | None,
    claim_items: tuple[str, ...],
    claim_json_items: tuple[str, ...],
    expires: str | None,
    nbf: str | None,
    iat: str | None,
    no_iat: bool,
    header_items: tuple[str, ...],
    kid: str | None,
    typ: str,
    alg: str | None,
    key_file: str | None,
    secret: str | None,
    secret_file: str | None,
    secret_env: str | None,
    encrypt_to: str | None,
    enc_alg: str | None,
    enc: str | None,
    as_json: bool,
) -> None:
    """Build and sign a token; print it.

    CLAIMS is a JSON object, or '-' to read it from standard input. --claim values are
    typed: integers, decimals, true/false/null, everything else is a string (iss, sub, aud
    and jti always are; --claim-json NAME='"42"' forces a string). iat is now unless
    --no-iat.

    \b
    Examples:
      jwtkit keygen --alg ES256 --out es256.jwk
      jwtkit encode --key es256.jwk --claim sub=42 --claim aud=api --exp 15m
      jwtkit encode '{"sub": "42", "roles": ["admin"]}' --secret-file hs256.secret --exp 1h
      echo '{"sub": "42"}' | jwtkit encode - --key es256.jwk --typ at+jwt --json
      jwtkit encode --key es256.jwk --claim sub=42 --exp 15m --encrypt-to api.pub.jwk
    """
    if iat is not None and no_iat:
        raise UsageProblem("give either --iat or --no-iat, not both")
    claims = _claims(claims_json, claims_file)
    for item in claim_items:
        name, value = parse_assignment(item, "--claim")
        claims[name] = value if name in _STRING_CLAIMS else infer_value(value)
    for item in claim_json_items:
        name, value = parse_assignment(item, "--claim-json")
        claims[name] = _json_value(name, value)
    headers: dict[str, Any] = {}
    for item in header_items:
        name, value = parse_assignment(item, "--header")
        headers[name] = value if name in _STRING_HEADERS else infer_value(value)
    if kid is not None:
        headers["kid"] = kid
    now = _time.current_time()
    if iat is not None:
        claims["iat"] = int(parse_time(iat, now))
    elif not no_iat and "iat" not in claims:
        claims["iat"] = int(now)
    if nbf is not None:
        claims["nbf"] = int(parse_time(nbf, now))
    if expires is not None:
        claims["exp"] = int(parse_time(expires, now))
        if claims["exp"] <= now:
            warn("--exp is not in the future: the token is already expired")
    keys = signing_material(key_file, secret, secret_file, secret_env)
    if keys is None:
        raise UsageProblem(
            f"no key: give --key FILE or --secret-file FILE (or set {SECRET_ENV_DEFAULT})"
        )
    key = _pick_key(keys, kid)
    encryption: dict[str, Any] = _encryption(encrypt_to, enc_alg, enc)
    try:
        token = encode(
            claims, key, signing_algorithm(key, alg), headers or None, typ=typ or None, **encryption
        )
    except JWTError as exc:
        raise UsageProblem(exc.message) from None
    if as_json:
        header = jwe_header(token) if encryption else decode_unverified(token).header
        emit_json({"token": token, "header": header, "claims": claims})
    else:
        click.echo(token)
