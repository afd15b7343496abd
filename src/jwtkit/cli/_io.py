"""Reading what the commands work on: tokens, keys, secrets and claims, from arguments, files
or standard input (``-``).

* a TOKEN argument is the token itself, a file holding it, or ``-``; a leading ``Bearer `` is
  dropped (RFC 6750 §2.1), so an ``Authorization`` header value can be pasted as it is;
* a key file holds PEM (PKCS#8, SPKI, PKCS#1, SEC1, X.509), an OpenSSH key, DER, a JWK
  (RFC 7517 §4) or a JWK Set (RFC 7517 §5); the format is detected from the content;
* an HMAC secret comes from ``--secret`` (warned about: it shows in ``ps`` and shell history),
  ``--secret-file`` or an environment variable (``JWT_SECRET`` unless ``--secret-env`` names
  another); secrets are refused by the core when they are well known (security matrix B6);
* ``--claim k=v`` values are typed by :func:`infer_value`.

Problems with these inputs are :class:`~jwtkit.cli._errors.UsageProblem` (exit status 2);
messages name the option or file, never the token or key material.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from .._codec import json_loads_object
from ..errors import JWTError
from ..jwk import Key, KeySet, OctKey
from ._errors import CommandFailed, UsageProblem, warn

__all__ = [
    "SECRET_ENV_DEFAULT",
    "infer_value",
    "key_options",
    "load_key",
    "parse_assignment",
    "parse_json_object",
    "read_input",
    "read_token",
    "secret_from_options",
    "signing_material",
    "timeout_option",
]

#: The environment variable read for an HMAC secret when no key option is given. Not a
#: ``JWTKIT_*`` name: the token service treats unknown ``JWTKIT_*`` variables as typos.
SECRET_ENV_DEFAULT = "JWT_SECRET"

_F = TypeVar("_F", bound=Callable[..., Any])
_COMPACT = re.compile(r"[A-Za-z0-9_=+/-]*(?:\.[A-Za-z0-9_=+/-]*){2,4}")
_SSH_PREFIXES = (b"ssh-", b"ecdsa-sha2-", b"sk-ssh-", b"sk-ecdsa-")
_DER_SEQUENCE = 0x30
_STDIN_USED = "jwtkit.cli.stdin_used"
_INTEGER = re.compile(r"-?(?:0|[1-9]\d*)")
_FLOAT = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+(?:[eE][+-]?\d+)?|[eE][+-]?\d+)")


def _stdin_once(what: str) -> bytes:
    """Standard input, which one invocation may read for one purpose only."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        root = ctx.find_root()
        used = root.meta.get(_STDIN_USED)
        if used is not None:
            raise UsageProblem(f"{what}: standard input is already used for {used}")
        root.meta[_STDIN_USED] = what
    stream = sys.stdin
    buffer = getattr(stream, "buffer", None)
    if buffer is None:  # a text-only replacement (an embedding program, a test harness)
        return stream.read().encode("utf-8")
    data: bytes = buffer.read()
    return data


def read_input(source: str, what: str) -> bytes:
    """The bytes of file ``source``, or of standard input when it is ``-``."""
    if source == "-":
        return _stdin_once(what)
    try:
        with open(source, "rb") as handle:
            return handle.read()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageProblem(f"{what}: cannot read {source!r}: {reason}") from None


def read_token(value: str | None) -> str:
    """The token of a TOKEN argument: the token itself, a file, ``-``, or piped input."""
    if value is None:
        if sys.stdin.isatty():
            raise UsageProblem("missing TOKEN: pass it as an argument, a file name, or '-'")
        value = "-"
    if value == "-":
        text = _stdin_once("TOKEN").decode("utf-8", "replace")
    elif _COMPACT.fullmatch(_strip_bearer(value)) or not (
        os.path.isfile(value) or os.sep in value or "/" in value
    ):
        if "." not in value:
            raise UsageProblem("TOKEN is neither a token nor a readable file")
        text = value
    else:
        text = read_input(value, "TOKEN").decode("utf-8", "replace")
    token = _strip_bearer(text)
    if not token:
        raise CommandFailed("the token is empty")
    return token


def _strip_bearer(text: str) -> str:
    text = text.strip()
    if text[:7].lower() == "bearer ":
        text = text[7:].strip()
    return text


def load_key(source: str, what: str) -> Key | KeySet:
    """A key or key set from a PEM, OpenSSH, DER, JWK or JWK Set file, ``-``, or JWK JSON
    text given inline (it starts with ``{``)."""
    inline = source.lstrip().startswith("{")
    data = source.encode("utf-8") if inline else read_input(source, what)
    label = f"{what} (inline JSON)" if inline else f"{what} {source}"
    text = data.strip()
    try:
        if text.startswith(b"{"):
            document = json_loads_object(text, "JSON")
            if "keys" in document:
                return _keyset(KeySet.from_jwks(document), label)
            if "kty" in document:
                return Key.from_jwk(document)
            raise UsageProblem(
                f"{label}: a JSON key must be a JWK (with 'kty') or a JWK Set (with 'keys')"
            )
        if b"-----BEGIN" in text:
            return Key.from_pem(data)
        if text.startswith(_SSH_PREFIXES) or text.startswith(b"-----BEGIN OPENSSH"):
            return Key.from_ssh(data)
        if data[:1] == bytes([_DER_SEQUENCE]):
            return Key.from_der(data)
    except JWTError as exc:
        raise UsageProblem(f"{label}: {exc.message}") from None
    raise UsageProblem(f"{label}: not a PEM, OpenSSH, DER, JWK or JWK Set file")


def _keyset(keys: KeySet, label: str) -> KeySet:
    for skipped in keys.skipped:
        kid = "" if skipped.kid is None else f" (kid {skipped.kid!r})"
        warn(f"{label}: key {skipped.index}{kid} skipped: {skipped.reason}")
    if not keys.keys:
        raise UsageProblem(f"{label}: the JWK Set holds no usable key")
    return keys


def secret_from_options(
    secret: str | None, secret_file: str | None, secret_env: str | None
) -> OctKey | None:
    """The HMAC key from ``--secret``, ``--secret-file`` or ``--secret-env``, if one is given."""
    options = (("--secret", secret), ("--secret-file", secret_file), ("--secret-env", secret_env))
    given = [name for name, value in options if value is not None]
    if len(given) > 1:
        raise UsageProblem(f"give only one of {' and '.join(given)}")
    if secret is not None:
        warn(
            "a secret on the command line is visible to other users (ps) and kept in the shell "
            f"history; use --secret-file FILE or the {SECRET_ENV_DEFAULT} environment variable"
        )
        return _oct_key(secret.encode("utf-8"), "--secret")
    if secret_file is not None:
        data = read_input(secret_file, "--secret-file")
        if data.endswith(b"\n"):  # the one newline editors and `echo` add
            data = data[:-2] if data.endswith(b"\r\n") else data[:-1]
        return _oct_key(data, f"--secret-file {secret_file}")
    if secret_env is not None:
        value = os.environ.get(secret_env)
        if value is None:
            raise UsageProblem(f"--secret-env: the environment variable {secret_env} is not set")
        return _oct_key(value.encode("utf-8", "surrogateescape"), f"${secret_env}")
    return None


def _oct_key(secret: bytes, label: str) -> OctKey:
    try:
        return OctKey(secret)
    except JWTError as exc:
        raise UsageProblem(f"{label}: {exc.message}") from None


def default_secret() -> OctKey | None:
    """The key of ``$JWT_SECRET``, when it is set and not empty."""
    value = os.environ.get(SECRET_ENV_DEFAULT)
    if not value:
        return None
    return _oct_key(value.encode("utf-8", "surrogateescape"), f"${SECRET_ENV_DEFAULT}")


def timeout_option(used_by: str) -> Callable[[_F], _F]:
    """The ``--timeout`` option of the commands that fetch over the network (``used_by``
    names their options): seconds for each fetch, default 5."""
    option: Callable[[_F], _F] = click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=5.0,
        show_default=True,
        metavar="SECONDS",
        help=f"Seconds for each HTTP request ({used_by}).",
    )
    return option


def key_options(function: _F) -> _F:
    """The ``--key``/``--secret``/``--secret-file``/``--secret-env`` options."""
    function = click.option(
        "--secret-env",
        metavar="NAME",
        help=f"Read the HMAC secret from this environment variable (default {SECRET_ENV_DEFAULT}"
        ", used when no other key option is given).",
    )(function)
    function = click.option(
        "--secret-file",
        metavar="FILE",
        help="Read the HMAC secret from FILE ('-' for stdin); one trailing newline is dropped.",
    )(function)
    function = click.option(
        "--secret",
        metavar="TEXT",
        help="The HMAC secret itself (visible in ps and shell history: prefer --secret-file).",
    )(function)
    return click.option(
        "--key",
        "key_file",
        metavar="FILE",
        help="Key file: PEM, OpenSSH, DER, JWK or JWK Set ('-' for stdin).",
    )(function)


def signing_material(
    key_file: str | None, secret: str | None, secret_file: str | None, secret_env: str | None
) -> Key | KeySet | None:
    """The key from the key options, ``$JWT_SECRET`` when none is given, else ``None``."""
    secret_key = secret_from_options(secret, secret_file, secret_env)
    if key_file is not None:
        if secret_key is not None:
            raise UsageProblem("give either --key or a secret option, not both")
        return load_key(key_file, "--key")
    if secret_key is not None:
        return secret_key
    return default_secret()


def parse_json_object(data: bytes, what: str) -> dict[str, Any]:
    """A JSON object (strict: no duplicate names, no NaN), or a usage error naming ``what``."""
    try:
        return json_loads_object(data.strip(), what)
    except JWTError as exc:
        raise UsageProblem(exc.message) from None


def infer_value(text: str) -> Any:
    """``--claim`` typing: integers, floats, ``true``/``false``/``null``; else the string.

    Integers with leading zeros (``007``) stay strings, so do non-finite numbers.
    """
    if _INTEGER.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        value = float(text)
        if value not in (float("inf"), float("-inf")):
            return value
    return {"true": True, "false": False, "null": None}.get(text, text)


def parse_assignment(text: str, option: str) -> tuple[str, str]:
    """``name=value`` split at the first ``=``; the name must not be empty."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise UsageProblem(f"{option}: expected NAME=VALUE, got {_shown(text)}")
    return name, value


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")
