"""``jwtkit encrypt`` and ``jwtkit decrypt``: JSON Web Encryption (RFC 7516) in the terminal.

``encrypt`` turns bytes (an argument, a file or standard input) into a compact JWE for a
recipient's key; ``decrypt`` turns a compact or JSON-serialized JWE back into the bytes, with
the library's allow-lists and limits:

* the key decides the algorithms (RFC 8725 §3.1): without ``--alg`` the allow-list is the
  keys' own ``alg`` values, else every key-management algorithm the keys fit; ``--enc``
  defaults to the six content encryptions (all authenticated, RFC 7518 §5);
* ``RSA1_5`` decrypts only with ``--allow-legacy`` and is never used to encrypt (padding
  oracles, RFC 8725 §3.2, security matrix C2); PBES2 needs ``--allow-pbes2`` both ways (the
  token chooses the PBKDF2 work, C5); both flags print a warning;
* ``--zip`` compresses before encrypting, with a warning (length leaks, RFC 8725 §3.6);
  decompression is capped (``--max-decompressed-size``, C6).

Every failure to decrypt is the library's one ``decryption failed`` (exit status 1). Plaintext
printed to a terminal has its non-printable characters escaped; piped, it is the exact bytes.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterable, Sequence
from typing import Any, BinaryIO

import click

from .._codec import b64url_encode
from ..errors import JWTError, UsageError
from ..jwa import (
    CONTENT_ENCRYPTION_ALGORITHMS,
    DEFAULT_REGISTRY,
    KEY_MANAGEMENT_ALGORITHMS,
    PBES2_HS256_A128KW,
    PBES2_HS384_A192KW,
    PBES2_HS512_A256KW,
    RSA1_5,
    InsecureAlgorithmWarning,
    Registry,
)
from ..jwe import (
    DEFAULT_MAX_DECOMPRESSED_SIZE,
    DEFAULT_MAX_PBES2_COUNT,
    DecryptedJWE,
    decrypt,
    decrypt_json,
    encrypt,
)
from ..jwk import Key, KeySet, OctKey
from ._errors import CommandFailed, UsageProblem, warn
from ._io import (
    infer_value,
    load_key,
    parse_assignment,
    read_input,
    read_token,
    secret_from_options,
)
from ._output import emit_json, printable
from .decode import jwe_header

__all__ = [
    "DEFAULT_ENCRYPTION",
    "LEGACY_WARNING",
    "PBES2_WARNING",
    "ZIP_WARNING",
    "decrypt_command",
    "decryption_algorithms",
    "encryption_algorithm",
    "encryption_for",
    "jwe_registry",
    "recipient_key",
    "report",
]

#: The content encryption ``encrypt`` uses unless told (or the ``dir`` key's length decides).
DEFAULT_ENCRYPTION = "A256GCM"
#: The warnings printed for the opt-in flags and ``--zip``.
LEGACY_WARNING = (
    "--allow-legacy: RSA1_5 key encryption invites padding-oracle attacks (RFC 8725 §3.2); "
    "decrypt it only to migrate its senders to RSA-OAEP-256 or ECDH-ES"
)
PBES2_WARNING = (
    "--allow-pbes2: a PBES2 token is only as strong as its password, and the token chooses "
    "the PBKDF2 work (p2c, capped by --max-pbes2-count); prefer a random key (RFC 7518 §4.8)"
)
ZIP_WARNING = (
    "--zip: compressing before encrypting leaks information about the plaintext through the "
    "ciphertext length when the plaintext mixes secrets with text others choose (RFC 8725 §3.6)"
)

_LEGACY = {RSA1_5.name: RSA1_5}
_PBES2 = {alg.name: alg for alg in (PBES2_HS256_A128KW, PBES2_HS384_A192KW, PBES2_HS512_A256KW)}
_ORDER = [
    *KEY_MANAGEMENT_ALGORITHMS,
    *_PBES2,
    *_LEGACY,
]
_ENCRYPTIONS = list(CONTENT_ENCRYPTION_ALGORITHMS)
# A dir key is the CEK itself: its length names the content encryption (RFC 7518 §5.2, §5.3).
_DIR_ENCRYPTION = {
    16: "A128GCM",
    24: "A192GCM",
    32: "A256GCM",
    48: "A192CBC-HS384",
    64: "A256CBC-HS512",
}
_STRING_HEADERS = frozenset({"kid", "typ", "cty", "apu", "apv", "jku", "x5u", "x5t", "x5t#S256"})


# -- shared ----------------------------------------------------------------------------------


def jwe_registry(allow_legacy: bool, allow_pbes2: bool) -> Registry:
    """The default registry, plus ``RSA1_5`` and/or PBES2 when the flags ask for them; the
    command prints its own warning line instead of the library's Python warning."""
    extra = [*(_LEGACY.values() if allow_legacy else ()), *(_PBES2.values() if allow_pbes2 else ())]
    if not extra:
        return DEFAULT_REGISTRY
    if allow_legacy:
        warn(LEGACY_WARNING)
    if allow_pbes2:
        warn(PBES2_WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureAlgorithmWarning)
        return DEFAULT_REGISTRY.including(*extra)


def _check_opt_in(name: str, source: str, allow_legacy: bool, allow_pbes2: bool) -> None:
    if name in _LEGACY and not allow_legacy:
        raise UsageProblem(
            f"{source} {name} is a legacy algorithm open to padding-oracle attacks "
            "(RFC 8725 §3.2): add --allow-legacy to decrypt it anyway"
        )
    if name in _PBES2 and not allow_pbes2:
        raise UsageProblem(
            f"{source} {name} derives the key from a password, with work the token chooses: "
            "add --allow-pbes2 to use it"
        )


def _jwe_key_options(function: Any) -> Any:
    """``--key``/``--secret-file``/``--secret-env``/``--secret`` (no ``$JWT_SECRET`` default:
    that variable holds an HMAC secret, not an encryption key)."""
    function = click.option(
        "--secret-env",
        metavar="NAME",
        help="Read the secret (an oct key or a PBES2 password) from this environment variable.",
    )(function)
    function = click.option(
        "--secret",
        metavar="TEXT",
        help="The secret itself (visible in ps and shell history: prefer --secret-file).",
    )(function)
    function = click.option(
        "--secret-file",
        metavar="FILE",
        help="Read the secret (an oct key or a PBES2 password) from FILE ('-' for stdin); one "
        "trailing newline is dropped.",
    )(function)
    return click.option(
        "--key",
        "key_file",
        metavar="FILE",
        help="Key file: PEM, OpenSSH, DER, JWK or JWK Set ('-' for stdin).",
    )(function)


def _material(
    key_file: str | None, secret: str | None, secret_file: str | None, secret_env: str | None
) -> Key | KeySet:
    secret_key = secret_from_options(secret, secret_file, secret_env)
    if key_file is not None:
        if secret_key is not None:
            raise UsageProblem("give either --key or a secret option, not both")
        return load_key(key_file, "--key")
    if secret_key is None:
        raise UsageProblem("no key: give --key FILE (or --secret-file FILE for a secret)")
    return secret_key


def _fits(key: Key, candidates: Iterable[str]) -> list[str]:
    return [name for name in candidates if key.supports(name)]


def _own_alg(key: Key) -> str | None:
    """The key's ``alg``; ``dir`` for an ``oct`` key whose ``alg`` names a content encryption
    (RFC 7520 §5.6 gives its ``dir`` key ``"alg": "A128GCM"``: that key is the CEK of that
    ``enc``, and the library uses it as ``dir`` for that ``enc`` only)."""
    if isinstance(key, OctKey) and key.alg in CONTENT_ENCRYPTION_ALGORITHMS:
        return "dir"
    return key.alg


# -- encrypt ---------------------------------------------------------------------------------


def recipient_key(keys: Key | KeySet, kid: str | None, option: str = "--key") -> Key:
    """The one key to encrypt to: the key itself, or the JWK Set member ``--kid`` names."""
    if isinstance(keys, Key):
        return keys
    candidates = [k for k in keys if kid is None or k.kid == kid]
    if len(candidates) != 1:
        which = "no key has that kid" if not candidates else f"it holds {len(candidates)} keys"
        raise UsageProblem(f"{option}: pick one key of the JWK Set with --kid ({which})")
    return candidates[0]


def encryption_algorithm(key: Key, alg: str | None, allow_pbes2: bool, option: str) -> str:
    """``alg`` (``option``), else the key's own ``alg``, else the only key-management
    algorithm the key fits. ``RSA1_5`` is refused: jwtkit never encrypts with it."""
    chosen = alg if alg is not None else _own_alg(key)
    source = option if alg is not None else "the key's alg"
    if chosen is None:
        candidates = [*KEY_MANAGEMENT_ALGORITHMS, *(_PBES2 if allow_pbes2 else ())]
        fits = _fits(key, candidates)
        if len(fits) != 1:
            choices = ", ".join(fits) if fits else "none: it is not an encryption key"
            raise UsageProblem(f"{option} is required for this {key.kty} key (it fits {choices})")
        return fits[0]
    if chosen in _LEGACY:
        raise UsageProblem(
            f"{source} is RSA1_5: jwtkit never encrypts with it (padding oracles, RFC 8725 "
            "§3.2); use RSA-OAEP-256"
        )
    if chosen not in KEY_MANAGEMENT_ALGORITHMS and chosen not in _PBES2:
        raise UsageProblem(f"{source} {chosen!r} is not a JWE key-management algorithm")
    _check_opt_in(chosen, source, allow_legacy=False, allow_pbes2=allow_pbes2)
    return chosen


def encryption_for(key: Key, alg: str, enc: str | None) -> str:
    """``enc``, else for ``dir`` the content encryption the key names or its length fits, else
    A256GCM."""
    if enc is not None:
        return enc
    if alg == "dir" and isinstance(key, OctKey):
        if key.alg is not None and key.alg in CONTENT_ENCRYPTION_ALGORITHMS:
            return key.alg
        return _DIR_ENCRYPTION.get(len(key.secret), DEFAULT_ENCRYPTION)
    return DEFAULT_ENCRYPTION


def _plaintext(argument: str | None, in_file: str | None) -> bytes:
    if argument is not None and in_file is not None:
        raise UsageProblem("give the plaintext either as PLAINTEXT or with --in, not both")
    if in_file is not None:
        return read_input(in_file, "--in")
    if argument is None:
        if sys.stdin.isatty():
            raise UsageProblem("missing PLAINTEXT: pass it as an argument, with --in FILE, or '-'")
        argument = "-"
    if argument == "-":
        return read_input("-", "PLAINTEXT")
    return argument.encode("utf-8", "surrogateescape")


@click.command("encrypt")
@click.argument("plaintext_text", metavar="[PLAINTEXT]", required=False)
@click.option("--in", "in_file", metavar="FILE", help="Read the plaintext (any bytes) from FILE.")
@_jwe_key_options
@click.option(
    "--alg",
    type=click.Choice(_ORDER),
    metavar="ALG",
    help="Key management, e.g. RSA-OAEP-256, ECDH-ES+A256KW, A256KW, dir (default: the key's "
    "alg, else the only one it fits).",
)
@click.option(
    "--enc",
    type=click.Choice(_ENCRYPTIONS),
    metavar="ENC",
    help=f"Content encryption (default {DEFAULT_ENCRYPTION}; for dir, what the key length fits).",
)
@click.option("--zip", "compress", is_flag=True, help="Compress (DEFLATE) before encrypting.")
@click.option("--kid", help="The header kid (default: the key's kid); picks a JWK Set member.")
@click.option("--typ", help="The header typ, e.g. JWT.")
@click.option("--cty", help="The header cty (content type), e.g. JWT for a nested JWT.")
@click.option(
    "--header",
    "header_items",
    multiple=True,
    metavar="NAME=VALUE",
    help="A protected header member, typed like --claim of encode (repeatable).",
)
@click.option("--allow-pbes2", is_flag=True, help="Allow PBES2 (password-based) key wrapping.")
@click.option(
    "--p2c",
    type=click.IntRange(min=1000),
    metavar="COUNT",
    help=f"PBES2 iteration count (default {DEFAULT_MAX_PBES2_COUNT:,}).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (see docs/jwe.md).")
def encrypt_command(
    plaintext_text: str | None,
    in_file: str | None,
    key_file: str | None,
    secret_file: str | None,
    secret: str | None,
    secret_env: str | None,
    alg: str | None,
    enc: str | None,
    compress: bool,
    kid: str | None,
    typ: str | None,
    cty: str | None,
    header_items: tuple[str, ...],
    allow_pbes2: bool,
    p2c: int | None,
    as_json: bool,
) -> None:
    """Encrypt bytes to a key; print the compact JWE (RFC 7516).

    PLAINTEXT is text, or '-' to read standard input (read by default when input is piped);
    --in FILE reads any bytes. The key is the recipient's public key (RSA, EC, X25519/X448)
    or a shared secret (an oct JWK, or --secret-file). RSA1_5 is never used to encrypt.

    \b
    Examples:
      jwtkit keygen --alg RSA-OAEP-256 --out rsa.jwk --public-out rsa.pub.jwk
      jwtkit encrypt --key rsa.pub.jwk --enc A256GCM 'the secret'
      jwtkit encrypt --key ec.pub.jwk --alg ECDH-ES+A256KW --in report.pdf > report.jwe
      jwtkit keygen --alg A256KW --out shared.jwk
      echo '{"card": "4111..."}' | jwtkit encrypt --key shared.jwk --cty json --json
    """
    plaintext = _plaintext(plaintext_text, in_file)
    key = recipient_key(_material(key_file, secret, secret_file, secret_env), kid)
    algorithm = encryption_algorithm(key, alg, allow_pbes2, "--alg")
    encryption = encryption_for(key, algorithm, enc)
    headers: dict[str, Any] = {}
    for item in header_items:
        name, value = parse_assignment(item, "--header")
        headers[name] = value if name in _STRING_HEADERS else infer_value(value)
    for member, given in (("kid", kid), ("typ", typ), ("cty", cty)):
        if given is not None:
            headers[member] = given
    if p2c is not None:
        if algorithm not in _PBES2:
            raise UsageProblem(f"--p2c applies to PBES2 only, not {algorithm}")
        headers["p2c"] = p2c
    if compress:
        warn(ZIP_WARNING)
    registry = jwe_registry(False, allow_pbes2)
    try:
        token = encrypt(
            plaintext,
            key,
            algorithm=algorithm,
            encryption=encryption,
            headers=headers or None,
            compress=compress,
            registry=registry,
        )
    except JWTError as exc:
        raise UsageProblem(exc.message) from None
    if as_json:
        emit_json({"token": token, "header": jwe_header(token)})
    else:
        click.echo(token)


# -- decrypt ---------------------------------------------------------------------------------


def decryption_algorithms(
    keys: Key | KeySet, given: Sequence[str], allow_legacy: bool, allow_pbes2: bool
) -> list[str]:
    """The ``alg`` allow-list: ``--alg``, else the keys' own ``alg`` values when every key has
    one, else every key-management algorithm the keys fit (RSA1_5 and PBES2 only with their
    flags). The key decides, never the token (RFC 8725 §3.1)."""
    members = keys.keys if isinstance(keys, KeySet) else (keys,)
    if given:
        for name in given:
            _check_opt_in(name, "--alg", allow_legacy, allow_pbes2)
        return list(dict.fromkeys(given))
    if all(key.alg is not None for key in members):
        own = list(dict.fromkeys(str(_own_alg(key)) for key in members))
        for name in own:
            _check_opt_in(name, "the key's alg", allow_legacy, allow_pbes2)
        return own
    candidates = [
        *KEY_MANAGEMENT_ALGORITHMS,
        *(_PBES2 if allow_pbes2 else ()),
        *(_LEGACY if allow_legacy else ()),
    ]
    fits = [name for name in candidates if any(key.supports(name) for key in members)]
    if not fits:
        raise UsageProblem("no JWE key-management algorithm fits the given key")
    return fits


def _decrypt(
    text: str,
    keys: Key | KeySet,
    algorithms: list[str],
    encryptions: list[str],
    options: dict[str, Any],
    as_json: bool,
) -> DecryptedJWE:
    try:
        if text.startswith("{"):
            return decrypt_json(
                text, keys, algorithms=algorithms, encryptions=encryptions, **options
            )
        return decrypt(text, keys, algorithms=algorithms, encryptions=encryptions, **options)
    except UsageError as exc:
        raise UsageProblem(exc.message) from None
    except JWTError as exc:
        if as_json:
            emit_json({"decrypted": False, "error": {"code": exc.code, "message": exc.message}})
        raise CommandFailed(exc.message) from None


def _text(plaintext: bytes) -> str | None:
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError:
        return None


def report(result: DecryptedJWE, serialization: str, as_json: bool) -> None:
    """Print a decryption: the JSON document, the escaped text on a terminal, else the bytes."""
    if as_json:
        emit_json(
            {
                "decrypted": True,
                "serialization": serialization,
                "algorithm": result.algorithm,
                "encryption": result.encryption,
                "kid": result.key.kid,
                "header": result.header,
                "unprotected": result.unprotected,
                "recipient_header": result.recipient_header,
                "recipient_index": result.recipient_index,
                "plaintext": _text(result.plaintext),
                "plaintext_base64url": b64url_encode(result.plaintext),
                "length": len(result.plaintext),
            }
        )
        return
    if sys.stdout.isatty():
        # A terminal: the plaintext comes from whoever encrypted, so no escape sequences.
        shown = printable(result.plaintext.decode("utf-8", "replace"), keep="\n\t")
        click.echo(shown if shown.endswith("\n") else shown + "\n", nl=False)
        return
    buffer: BinaryIO | None = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only replacement (an embedding program, a test harness)
        click.echo(result.plaintext.decode("utf-8", "surrogateescape"), nl=False)
        return
    sys.stdout.flush()
    buffer.write(result.plaintext)
    buffer.flush()


@click.command("decrypt")
@click.argument("token", required=False)
@_jwe_key_options
@click.option(
    "--alg",
    "algorithms",
    multiple=True,
    type=click.Choice(_ORDER),
    metavar="ALG",
    help="An accepted key-management algorithm (repeatable). Default: the keys' own alg, else "
    "every one the keys fit.",
)
@click.option(
    "--enc",
    "encryptions",
    multiple=True,
    type=click.Choice(_ENCRYPTIONS),
    metavar="ENC",
    help="An accepted content encryption (repeatable). Default: all six.",
)
@click.option(
    "--allow-legacy", is_flag=True, help="Accept RSA1_5 (padding oracles): migration only."
)
@click.option("--allow-pbes2", is_flag=True, help="Accept PBES2 (password-based) key wrapping.")
@click.option(
    "--max-pbes2-count",
    type=click.IntRange(min=1000),
    default=DEFAULT_MAX_PBES2_COUNT,
    show_default=True,
    metavar="COUNT",
    help="Refuse PBES2 tokens that ask for more PBKDF2 iterations.",
)
@click.option(
    "--max-decompressed-size",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_DECOMPRESSED_SIZE,
    show_default=True,
    metavar="BYTES",
    help="Refuse zip tokens that inflate to more.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (see docs/jwe.md).")
def decrypt_command(
    token: str | None,
    key_file: str | None,
    secret_file: str | None,
    secret: str | None,
    secret_env: str | None,
    algorithms: tuple[str, ...],
    encryptions: tuple[str, ...],
    allow_legacy: bool,
    allow_pbes2: bool,
    max_pbes2_count: int,
    max_decompressed_size: int,
    as_json: bool,
) -> None:
    """Decrypt a JWE (compact or JSON serialization); print the plaintext.

    TOKEN is the token, a file holding it, or '-' (read by default when input is piped).
    Piped output is the exact plaintext bytes; on a terminal, non-printable characters are
    escaped. Every failure is the same one line, 'decryption failed' (exit status 1).

    \b
    Examples:
      jwtkit decrypt --key rsa.jwk token.jwe
      jwtkit decrypt --key shared.jwk --enc A256GCM --json "$TOKEN"
      jwtkit decrypt --key rsa.jwk nested.jwe | jwtkit verify --key issuer.pub.jwk
      jwtkit decrypt --secret-file pass.txt --alg PBES2-HS512+A256KW --allow-pbes2 t.jwe
    """
    text = read_token(token)
    keys = _material(key_file, secret, secret_file, secret_env)
    allowed = decryption_algorithms(keys, algorithms, allow_legacy, allow_pbes2)
    options: dict[str, Any] = {
        "registry": jwe_registry(allow_legacy, allow_pbes2),
        "max_pbes2_count": max_pbes2_count,
        "max_decompressed_size": max_decompressed_size,
    }
    result = _decrypt(text, keys, allowed, list(encryptions) or _ENCRYPTIONS, options, as_json)
    report(result, "json" if text.startswith("{") else "compact", as_json)
