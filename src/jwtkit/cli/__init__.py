"""The token commands of the ``jwtkit`` console script (extra ``cli``): jwt.io in the terminal.

===============  ==========================================================================
``decode``       show header, claims and signature, labelled UNVERIFIED (:mod:`.decode`)
``verify``       verify signature and claims; exit 0 only for a valid token (:mod:`.verify`)
``encode``       build and sign a token (:mod:`.encode`)
``keygen``       generate a key; the kid defaults to its RFC 7638 thumbprint (:mod:`.keys`)
``thumbprint``   RFC 7638 thumbprints and RFC 9278 thumbprint URIs (:mod:`.keys`)
``jwks``         a public JWK Set (RFC 7517 §5) from key files (:mod:`.keys`)
``audit``        lint a token against RFC 8725 (:mod:`.audit`), or with ``--issuer`` a live
                 issuer's metadata and JWK Set (:mod:`.audit_issuer`)
``encrypt``      encrypt bytes to a key: a compact JWE (RFC 7516) (:mod:`.jwe`)
``decrypt``      decrypt a compact or JSON JWE; one error for every failure (:mod:`.jwe`)
``sd``           SD-JWTs (RFC 9901): ``issue``, ``present``, ``verify`` (:mod:`.sd`)
``inspect``      the token page on this machine (loopback), with ``POST /audit``
                 (:mod:`.inspect`)
===============  ==========================================================================

:func:`register` adds them to the ``jwtkit`` click group built by :mod:`jwtkit._console`;
this package never imports the token service. Every command reads tokens, keys and claims
from arguments, files or standard input (``-``), prints machine-readable output with
``--json``, and fails with one line on stderr: exit status 1 for an invalid token, 2 for bad
usage. ``docs/cli.md`` is the manual.
"""

from __future__ import annotations

from .._extras import MissingExtra

try:
    import click
except ImportError as exc:  # the console script says this first; a direct import says it too
    raise MissingExtra(exc.name or "click", "cli", "jwtkit.cli") from exc

from .audit import audit_command
from .decode import decode_command
from .encode import encode_command
from .inspect import inspect_command
from .jwe import decrypt_command, encrypt_command
from .keys import jwks_command, keygen_command, thumbprint_command
from .sd import sd_group
from .verify import verify_command

__all__ = ["register"]


def register(group: click.Group) -> None:
    """Add ``decode``, ``verify``, ``encode``, ``keygen``, ``thumbprint``, ``jwks``,
    ``audit``, ``encrypt``, ``decrypt``, ``sd`` and ``inspect`` to the ``jwtkit`` group."""
    for command in (
        decode_command,
        verify_command,
        encode_command,
        keygen_command,
        thumbprint_command,
        jwks_command,
        audit_command,
        encrypt_command,
        decrypt_command,
        sd_group,
        inspect_command,
    ):
        group.add_command(command)
