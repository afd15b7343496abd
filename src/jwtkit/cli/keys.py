"""``jwtkit keygen``, ``jwtkit thumbprint`` and ``jwtkit jwks``: make, name and publish keys.

* ``keygen`` generates a key for an algorithm; its ``kid`` defaults to the RFC 7638 thumbprint.
  Files are created with mode 0600 (``os.open``), never overwritten without ``--force``.
* ``thumbprint`` prints RFC 7638 JWK thumbprints, or RFC 9278 thumbprint URIs with ``--uri``.
* ``jwks`` builds a public JWK Set (RFC 7517 §5) from key files: private keys contribute their
  public half only, secret (``oct``) keys are refused.

These are not called ``keys``: that name belongs to the token service's key-rotation commands.
"""

from __future__ import annotations

import json
import os
from typing import Any

import click

from ..errors import JWTError
from ..jwk import Key, KeySet
from ._errors import CommandFailed, UsageProblem, warn
from ._io import load_key
from ._output import emit_json, printable

__all__ = [
    "FORMATS",
    "jwks_command",
    "keygen_command",
    "render_key",
    "thumbprint_command",
    "write_private_file",
]

#: Output formats of ``keygen`` and the public counterpart of each private one.
FORMATS = {
    "jwk": "jwk-public",
    "jwk-public": None,
    "jwks": "jwks-public",
    "jwks-public": None,
    "pem": "pem-public",
    "pem-public": None,
}
_HASHES = ("sha256", "sha384", "sha512")


def _usage(action: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a core call; its errors are usage errors here (a wrong option for this key)."""
    try:
        return action(*args, **kwargs)
    except JWTError as exc:
        raise UsageProblem(exc.message) from None


def render_key(key: Key, fmt: str) -> tuple[str, Any]:
    """The key in ``fmt``: the text to write and the value for ``--json`` (dict or str)."""
    public = fmt.endswith("-public")
    try:
        source = key.public_key() if public else key
        if fmt.startswith("pem"):
            text = source.to_pem(private=not public).decode("ascii")
            return text, text
        jwk = source.to_jwk(private=not public)
    except JWTError as exc:
        raise UsageProblem(exc.message) from None
    value = {"keys": [jwk]} if fmt.startswith("jwks") else jwk
    return json.dumps(value, indent=2) + "\n", value


def write_private_file(path: str, text: str, force: bool) -> None:
    """Write ``text`` to a new file with mode 0600; an existing file only with ``force``."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        descriptor = os.open(path, flags, 0o600)
    except FileExistsError:
        raise CommandFailed(f"{path} exists; pass --force to overwrite it") from None
    except OSError as exc:
        raise CommandFailed(f"cannot write {path}: {exc.strerror}") from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        if hasattr(os, "fchmod"):  # pragma: no branch - an existing file keeps its mode (--force)
            os.fchmod(handle.fileno(), 0o600)
        handle.write(text)


@click.command("keygen")
@click.option(
    "--alg",
    required=True,
    help="The algorithm the key is for: ES256, EdDSA, RS256, PS256, HS256, ML-DSA-65, ...",
)
@click.option("--kid", help="Key ID (default: the RFC 7638 thumbprint).")
@click.option("--size", type=int, help="Bits, for RSA (default 2048) and oct keys.")
@click.option("--crv", help="Curve, where the algorithm allows several (EdDSA: Ed25519, Ed448).")
@click.option("--use", type=click.Choice(["sig", "enc"]), help="The key's 'use' member.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(FORMATS)),
    default="jwk",
    show_default=True,
    help="jwk, jwks and pem hold the private key; the -public forms only the public half.",
)
@click.option("--out", metavar="FILE", help="Write to FILE (mode 0600) instead of stdout.")
@click.option(
    "--public-out", metavar="FILE", help="Also write the public half (same format) to FILE."
)
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (see docs/cli.md).")
def keygen_command(
    alg: str,
    kid: str | None,
    size: int | None,
    crv: str | None,
    use: str | None,
    fmt: str,
    out: str | None,
    public_out: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Generate a key for an algorithm.

    The key carries its alg, and its kid defaults to its RFC 7638 thumbprint. Files are
    written with mode 0600 and never overwritten without --force.

    \b
    Examples:
      jwtkit keygen --alg ES256 --out es256.jwk --public-out es256.pub.jwk
      jwtkit keygen --alg EdDSA --format pem --out ed25519.pem
      jwtkit keygen --alg HS256 --format jwk --out hs256.jwk
      jwtkit keygen --alg RS256 --size 3072 --kid 2026-11 --format jwks
      jwtkit keygen --alg ML-DSA-65 --out mldsa.jwk --public-out mldsa.pub.jwk
    """
    public_format = FORMATS[fmt]
    if public_out is not None and public_format is None:
        raise UsageProblem(f"--public-out needs a private --format (not {fmt})")
    key: Key = _usage(Key.generate, alg, size=size, crv=crv, kid=kid, use=use)
    if kid is None:
        key = Key.from_jwk({**key.to_jwk(private=True), "kid": key.thumbprint()})
    text, value = render_key(key, fmt)
    public_text = None if public_out is None else render_key(key, str(public_format))[0]
    if out is not None:
        write_private_file(out, text, force)
    if public_out is not None:
        write_private_file(public_out, str(public_text), force)
    if as_json:
        emit_json(
            {
                "alg": key.alg,
                "kty": key.kty,
                "kid": key.kid,
                "thumbprint": key.thumbprint(),
                "format": fmt,
                "out": out,
                "public_out": public_out,
                "key": value if out is None else None,
                "public_jwk": None if key.kty == "oct" else key.public_key().to_jwk(),
            }
        )
        return
    if out is None:
        click.echo(text, nl=False)
    written = [f for f in (out, public_out) if f is not None]
    if written:
        click.echo(
            f"{key.alg} key {key.kid} written to {' and '.join(written)} (mode 0600)", err=True
        )


def _members(keys: Key | KeySet) -> tuple[Key, ...]:
    return keys.keys if isinstance(keys, KeySet) else (keys,)


@click.command("thumbprint")
@click.argument("key_source", metavar="KEY")
@click.option(
    "--hash", "hash_name", type=click.Choice(_HASHES), default="sha256", show_default=True
)
@click.option("--uri", is_flag=True, help="Print the RFC 9278 URI (urn:ietf:params:oauth:...).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (see docs/cli.md).")
def thumbprint_command(key_source: str, hash_name: str, uri: bool, as_json: bool) -> None:
    """Print the RFC 7638 JWK thumbprint of a key (one line per key of a JWK Set).

    KEY is a key file (PEM, OpenSSH, DER, JWK, JWK Set), '-' for standard input, or JWK JSON.
    A private key and its public half have the same thumbprint.

    \b
    Examples:
      jwtkit thumbprint es256.jwk
      jwtkit thumbprint --uri public.pem
      jwtkit thumbprint --hash sha512 --json jwks.json
    """
    keys = _members(load_key(key_source, "KEY"))
    entries = [
        {
            "kid": key.kid,
            "kty": key.kty,
            "hash": hash_name,
            "thumbprint": key.thumbprint(hash_name),
            "uri": key.thumbprint_uri(hash_name),
        }
        for key in keys
    ]
    if as_json:
        emit_json({"keys": entries})
        return
    field = "uri" if uri else "thumbprint"
    for entry in entries:
        line = str(entry[field])
        if len(entries) > 1:
            kid = entry["kid"]
            line += "  " + ("-" if kid is None else printable(str(kid)))
        click.echo(line)


def _public_jwk(key: Key, source: str, alg: str | None, use: str | None, add_kid: bool) -> Any:
    if key.kty == "oct":
        raise UsageProblem(f"{source}: a secret (oct) key never goes into a public JWK Set")
    jwk = (key.public_key() if key.is_private else key).to_jwk()
    if alg is not None and "alg" not in jwk:
        jwk["alg"] = alg
    if use is not None and "use" not in jwk:
        jwk["use"] = use
    if add_kid and "kid" not in jwk:
        jwk["kid"] = key.thumbprint()
    return _usage(Key.from_jwk, jwk).to_jwk()  # checks that --alg/--use fit the key


@click.command("jwks")
@click.argument("sources", metavar="KEY...", nargs=-1, required=True)
@click.option("--alg", help="Set this alg on keys that have none (it must fit them).")
@click.option("--use", type=click.Choice(["sig", "enc"]), help="Set use on keys that have none.")
@click.option(
    "--kid/--no-kid",
    "add_kid",
    default=True,
    show_default=True,
    help="Give keys without a kid their RFC 7638 thumbprint as kid.",
)
@click.option("--json", "as_json", is_flag=True, help="The same JSON (accepted for symmetry).")
def jwks_command(
    sources: tuple[str, ...], alg: str | None, use: str | None, add_kid: bool, as_json: bool
) -> None:
    """Build a public JWK Set from key files; private parts never appear in it.

    Each KEY is a key file (PEM, OpenSSH, DER, JWK or JWK Set) or '-'. Private keys
    contribute their public half; secret (oct) keys are refused.

    \b
    Examples:
      jwtkit jwks es256.jwk > jwks.json
      jwtkit jwks --alg RS256 --use sig old.pem new.pem
    """
    published: list[Any] = []
    for source in sources:
        for key in _members(load_key(source, "KEY")):
            published.append(_public_jwk(key, source, alg, use, add_kid))
    kids = [jwk.get("kid") for jwk in published if jwk.get("kid") is not None]
    for kid in sorted({k for k in kids if kids.count(k) > 1}):
        warn(f"kid {printable(kid)!r} appears more than once in the set")
    emit_json({"keys": published})
