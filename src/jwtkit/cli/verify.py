"""``jwtkit verify``: check a token's signature and claims; exit 0 only when it is valid.

Keys come from a file (PEM, OpenSSH, DER, JWK or JWK Set), an HMAC secret, a JWK Set URL or an
issuer's discovery document (RFC 8414 §3, OpenID Connect Discovery 1.0 §4) through
:mod:`jwtkit.remote`. Without ``--alg`` the allow-list is the keys' own ``alg`` values, or
else every algorithm the keys' types fit (RFC 8725 §3.1: the key decides, never the token;
for a remote key set, every asymmetric algorithm). The claims are checked by the core
(RFC 7519 §7.2, RFC 8725 §3.8-3.11). A failure prints the core error's message, one line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from .._codec import b64url_decode, json_loads_object
from ..errors import ClaimError, JWTError, UsageError
from ..jwa import DEFAULT_REGISTRY
from ..jwk import Key, KeySet
from ..jwt import DecodedJWT, decode_complete
from . import _time
from ._errors import CommandFailed, UsageProblem, warn
from ._io import SECRET_ENV_DEFAULT, key_options, read_token, signing_material, timeout_option
from ._output import Style, emit_json, key_label, times_json, token_sections
from ._time import duration_option

if TYPE_CHECKING:
    from ..remote import JWKSClient

__all__ = ["allowed_for", "verify_command"]

_ALGORITHMS = sorted(DEFAULT_REGISTRY.signature_names)
_REMOTE_ALGORITHMS = [name for name in _ALGORITHMS if not name.startswith("HS")]


def allowed_for(keys: Key | KeySet) -> list[str] | None:
    """The default allow-list: ``None`` when every key has its own ``alg`` (the core then
    uses those), else every algorithm that at least one key's type fits."""
    members = keys.keys if isinstance(keys, KeySet) else (keys,)
    if all(key.alg is not None for key in members):
        return None
    return [name for name in _ALGORITHMS if any(key.supports(name) for key in members)]


class _SkippedKeys(logging.Handler):
    """Shows the remote client's "key N skipped: why" log records as warning lines; its other
    records repeat the error that the command prints anyway."""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if " skipped: " in message:
            warn(message)


@contextmanager
def _remote_log() -> Iterator[None]:
    logger = logging.getLogger("jwtkit.remote")
    handler = _SkippedKeys(logging.WARNING)
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


@contextmanager
def _remote_keys(
    jwks_url: str | None, issuer_url: str | None, timeout: float
) -> Iterator[JWKSClient]:
    """A :class:`jwtkit.remote.JWKSClient` for ``--jwks`` or ``--issuer-url`` (extra
    ``remote``: without it, the install line is the error), closed afterwards."""
    try:
        from ..remote import JWKSClient  # noqa: PLC0415 - optional (extra 'remote')
    except ImportError as exc:
        raise UsageProblem(str(exc)) from None
    with _remote_log():
        try:
            if issuer_url is not None:
                client = JWKSClient.from_issuer(issuer_url, timeout=timeout)
            else:
                client = JWKSClient(str(jwks_url), timeout=timeout)
        except JWTError as exc:
            usage = isinstance(exc, UsageError) or exc.code == "jwks_unsafe_url"
            raise (UsageProblem if usage else CommandFailed)(exc.message) from None
        with client:
            yield client


def _named_like(key: Key, token: str) -> Key:
    """A key without a kid (PEM, a secret) given alone is the key the user means, whatever
    kid the token names: it gets that kid (the signature is still checked with it)."""
    try:
        kid = json_loads_object(b64url_decode(token.split(".", maxsplit=1)[0], "header")).get("kid")
    except JWTError:
        return key  # the core reports what is wrong with the token
    if not isinstance(kid, str):
        return key
    return Key.from_jwk({**key.to_jwk(private=key.is_private), "kid": kid})


def _fail(exc: JWTError, as_json: bool) -> CommandFailed:
    if as_json:
        claim = exc.claim if isinstance(exc, ClaimError) else None
        error = {"code": exc.code, "message": exc.message, "claim": claim}
        emit_json({"valid": False, "verified": False, "error": error})
    return CommandFailed(exc.message)


@click.command("verify")
@click.argument("token", required=False)
@key_options
@click.option("--jwks", "jwks_url", metavar="URL", help="Fetch the keys from this JWK Set URL.")
@click.option(
    "--issuer-url",
    metavar="URL",
    help="Discover the JWK Set from this issuer's metadata (RFC 8414 / OpenID); "
    "also expects it as iss unless --iss is given.",
)
@click.option(
    "--alg",
    "algorithms",
    multiple=True,
    type=click.Choice(_ALGORITHMS),
    metavar="ALG",
    help="An accepted algorithm, e.g. ES256 (repeatable). Default: the keys' own alg, else "
    "every algorithm the keys fit.",
)
@click.option("--iss", "issuers", multiple=True, help="Expected issuer (repeatable: any of).")
@click.option("--aud", "audiences", multiple=True, help="Accepted audience (repeatable).")
@click.option("--sub", "subject", help="Expected subject.")
@click.option("--typ", help="Expected header typ, e.g. at+jwt (RFC 8725 §3.11).")
@click.option(
    "--require",
    "required",
    multiple=True,
    metavar="CLAIMS",
    help="Claims that must be present (repeatable, or comma-separated).",
)
@click.option(
    "--leeway",
    callback=duration_option,
    default="0",
    metavar="DURATION",
    help="Clock skew allowed (e.g. 30s).",
)
@click.option(
    "--max-age", callback=duration_option, metavar="DURATION", help="Maximum age of iat (e.g. 1h)."
)
@timeout_option("--jwks, --issuer-url")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (see docs/cli.md).")
def verify_command(
    token: str | None,
    key_file: str | None,
    secret: str | None,
    secret_file: str | None,
    secret_env: str | None,
    jwks_url: str | None,
    issuer_url: str | None,
    algorithms: tuple[str, ...],
    issuers: tuple[str, ...],
    audiences: tuple[str, ...],
    subject: str | None,
    typ: str | None,
    required: tuple[str, ...],
    leeway: float,
    max_age: float | None,
    timeout: float,
    as_json: bool,
) -> None:
    """Verify a token's signature and claims; exit 0 only when it is valid.

    TOKEN is the token, a file holding it, or '-' (read by default when input is piped).
    Give one key source: --key FILE, --secret-file FILE (or $JWT_SECRET, or --secret-env
    NAME), --jwks URL or --issuer-url URL. On failure one line on stderr says why and the
    exit status is 1 (2 for bad usage).

    \b
    Examples:
      jwtkit verify --key public.pem --aud api --iss https://id.example "$TOKEN"
      jwtkit verify --secret-file hs256.secret --alg HS256 token.txt
      jwtkit verify --issuer-url https://id.example --aud api --typ at+jwt - < token.txt
      jwtkit verify --jwks https://id.example/.well-known/jwks.json --json "$TOKEN"
    """
    text = read_token(token)
    remote = [name for name, v in (("--jwks", jwks_url), ("--issuer-url", issuer_url)) if v]
    if len(remote) > 1:
        raise UsageProblem("give either --jwks or --issuer-url, not both")
    local_given = key_file is not None or secret is not None or secret_file is not None
    if remote and (local_given or secret_env is not None):
        raise UsageProblem(f"give either {remote[0]} or a local key option, not both")
    names = [n.strip() for item in required for n in item.split(",") if n.strip()]
    if issuer_url is not None and not issuers:
        issuers = (issuer_url,)
    options: dict[str, Any] = {
        "audience": list(audiences) or None,
        "issuer": list(issuers) or None,
        "subject": subject,
        "typ": typ,
        "require": names,
        "leeway": leeway,
        "max_age": max_age,
        "now": _time.current_time(),
    }
    if remote:
        with _remote_keys(jwks_url, issuer_url, timeout) as client:
            allowed = list(algorithms) or _REMOTE_ALGORITHMS
            decoded = _decode(text, client, allowed, options, as_json)
    else:
        keys = signing_material(key_file, secret, secret_file, secret_env)
        if keys is None:
            raise UsageProblem(
                "no key: give --key FILE, --secret-file FILE, --jwks URL or --issuer-url URL "
                f"(or set {SECRET_ENV_DEFAULT})"
            )
        if isinstance(keys, Key) and keys.kid is None:
            keys = _named_like(keys, text)
        allowed_list = list(algorithms) or allowed_for(keys)
        decoded = _decode(text, keys, allowed_list, options, as_json)
    _report(decoded, options["now"], as_json)


def _decode(
    token: str, keys: Any, algorithms: list[str] | None, options: dict[str, Any], as_json: bool
) -> DecodedJWT:
    if algorithms == []:
        raise UsageProblem("no signature algorithm fits the given key")
    try:
        return decode_complete(token, keys, algorithms=algorithms, **options)
    except UsageError as exc:
        raise UsageProblem(exc.message) from None
    except JWTError as exc:
        raise _fail(exc, as_json) from None


def _report(decoded: DecodedJWT, now: float, as_json: bool) -> None:
    key = decoded.key
    if as_json:
        emit_json(
            {
                "valid": True,
                "verified": True,
                "algorithm": decoded.algorithm,
                "kid": None if key is None else key.kid,
                "header": decoded.header,
                "claims": decoded.claims,
                "times": times_json(decoded.claims, now),
            }
        )
        return
    style = Style()
    by = "" if key is None else f" with {key_label(key)}"
    lines = [
        style("VALID", "good") + f"  {decoded.algorithm} signature verified{by}; claims checked"
    ]
    if "exp" not in decoded.claims:
        lines.append(style("note", "warn") + "  no 'exp': this token never expires")
    lines += ["", *token_sections(decoded.header, decoded.claims, now, style)]
    click.echo("\n".join(lines))
