"""JWE encryption (RFC 7516 §5.1): :func:`encrypt` (compact) and :func:`encrypt_json` (general
and flattened JSON, one or more recipients).

The caller's headers may not set what the library sets (``zip``: pass ``compress=True``;
``epk``, ``iv``, ``tag``: the key-management step writes them; ``b64``: JWS only); ``alg`` is
per recipient, ``crit`` only protected, and header names stay disjoint (RFC 7516 §7.2.1).
Decryption-only algorithms (``RSA1_5``) are refused (RFC 8725 §3.2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._codec import (
    b64url_encode,
    json_dumps,
)
from ._header import check_header
from ._jwa_content import ContentEncryptionAlgorithm
from ._jwa_keymgmt import (
    KeyManagementAlgorithm,
    WrapResult,
)
from ._jwe_common import (
    _OPT_IN_CONSTANTS,
    _ZIP_DEFLATE,
    _as_dir_key,
    _deflate,
    _disjoint,
)
from ._keysource import coerce_key
from ._messages import short
from ._types import Header
from .errors import (
    AlgorithmNotAllowed,
    MalformedToken,
    UsageError,
)
from .jwa import (
    DEFAULT_REGISTRY,
    Registry,
)
from .jwk import Key

__all__ = [
    "Recipient",
    "encrypt",
    "encrypt_json",
]

#: Header parameters that the key-management step writes; callers may not set them.
_GENERATED_PARAMETERS = frozenset({"epk", "iv", "tag"})


@dataclass(frozen=True)
class Recipient:
    """One recipient of :func:`encrypt_json`: its key, ``alg`` and per-recipient header."""

    key: Key | bytes | str
    algorithm: str
    header: Mapping[str, Any] | None = None


def _lookup(
    registry: Registry, algorithm: str, encryption: str
) -> tuple[KeyManagementAlgorithm, ContentEncryptionAlgorithm]:
    alg = registry.key_management(algorithm)
    if alg is None:
        constant = _OPT_IN_CONSTANTS.get(algorithm) if isinstance(algorithm, str) else None
        hint = (
            f"; opt in with DEFAULT_REGISTRY.including(jwtkit.jwa.{constant})" if constant else ""
        )
        raise AlgorithmNotAllowed(
            f"algorithm {short(algorithm)} is not supported by this registry{hint}"
        )
    if not alg.can_encrypt:
        raise UsageError(
            f"{alg.name} is supported for decryption only (RFC 8725 §3.2); "
            "encrypt with RSA-OAEP-256"
        )
    enc = registry.content_encryption(encryption)
    if enc is None:
        raise AlgorithmNotAllowed(
            f"encryption {short(encryption)} is not supported by this registry"
        )
    return alg, enc


def _caller_header(
    headers: Mapping[str, Any] | None, what: str, alg: KeyManagementAlgorithm | None
) -> Header:
    """A copy of a header the caller passed, without names the library sets itself."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise UsageError(f"{what} must be a mapping, got {type(headers).__name__}")
    header = dict(headers)
    if "zip" in header:
        raise UsageError(f"{what}: do not set 'zip'; pass compress=True (RFC 7516 §4.1.3)")
    if "b64" in header:
        raise UsageError(f"{what}: 'b64' applies to JWS only (RFC 7797 §3)")
    generated = sorted(_GENERATED_PARAMETERS & set(header))
    if generated:
        raise UsageError(f"{what}: {generated[0]!r} is set by the key-management algorithm")
    if alg is not None and "alg" in header and header["alg"] != alg.name:
        raise UsageError(f"{what}['alg'] is {short(header['alg'])} but algorithm is {alg.name!r}")
    return header


def _encode_protected(header: Mapping[str, Any]) -> str:
    try:
        return b64url_encode(json_dumps(header))
    except (TypeError, ValueError) as exc:
        raise UsageError(f"headers are not JSON-serializable: {exc}") from None


def _wrap_into(wrapped: WrapResult, header: Header, expected: Mapping[str, Any] | None) -> None:
    """Publish the key-management parameters in ``header`` (or check them against the given
    header bytes, when test vectors fix them)."""
    for name, value in wrapped.header.items():
        if expected is None:
            header[name] = value
        elif expected.get(name) != value:
            raise ValueError(f"the fixed header disagrees with the computed {name!r}")


def _seal_compact(
    plaintext: bytes,
    key: Key,
    alg: KeyManagementAlgorithm,
    enc: ContentEncryptionAlgorithm,
    header: Header,
    *,
    compress: bool,
    cek: bytes | None = None,
    iv: bytes | None = None,
    ephemeral: Key | None = None,
    wrap_iv: bytes | None = None,
    protected_segment: str | None = None,
) -> str:
    """The compact JWE of ``plaintext`` (RFC 7516 §5.1). The keyword arguments after
    ``compress`` fix the random values and the header bytes, for test vectors only."""
    wrapped = alg.wrap(
        key, enc, header, None if alg.direct else cek, ephemeral=ephemeral, iv=wrap_iv
    )
    if protected_segment is None:
        _wrap_into(wrapped, header, None)
        check_header(header, header.get("crit", ()))
        protected_segment = _encode_protected(header)
    else:
        _wrap_into(wrapped, header, header)
    if compress:
        plaintext = _deflate(plaintext)
    nonce = enc.generate_iv() if iv is None else iv
    ciphertext, tag = enc.encrypt(wrapped.cek, nonce, plaintext, protected_segment.encode("ascii"))
    return ".".join(
        (
            protected_segment,
            b64url_encode(wrapped.encrypted_key),
            b64url_encode(nonce),
            b64url_encode(ciphertext),
            b64url_encode(tag),
        )
    )


def encrypt(
    plaintext: bytes,
    key: Key | bytes | str,
    *,
    algorithm: str,
    encryption: str,
    headers: Mapping[str, Any] | None = None,
    compress: bool = False,
    registry: Registry = DEFAULT_REGISTRY,
) -> str:
    """Encrypt ``plaintext`` to ``key`` and return a compact JWE (RFC 7516 §3.1, §5.1).

    ``algorithm`` is the key management (``alg``, e.g. ``"RSA-OAEP-256"``, ``"ECDH-ES+A256KW"``,
    ``"dir"``) and ``encryption`` the content encryption (``enc``, e.g. ``"A256GCM"``).
    ``headers`` adds protected header members (``cty``, ``apu``/``apv`` for ECDH-ES, ``p2c`` for
    PBES2, ...). ``compress=True`` deflates the plaintext first (``zip: DEF``).

    .. warning:: Compressing data that mixes secrets with attacker-chosen text leaks the
       secrets through the ciphertext length (CRIME/BREACH); compress only when that cannot
       happen (RFC 8725 §3.6).
    """
    if not isinstance(plaintext, bytes):
        raise UsageError(f"plaintext must be bytes, got {type(plaintext).__name__}")
    recipient_key = coerce_key(key)
    alg, enc = _lookup(registry, algorithm, encryption)
    header: Header = {"alg": alg.name, "enc": enc.name}
    caller = _caller_header(headers, "headers", alg)
    if "enc" in caller and caller["enc"] != enc.name:
        raise UsageError(f"headers['enc'] is {short(caller['enc'])} but encryption is {enc.name!r}")
    header.update(caller)
    if recipient_key.kid is not None and "kid" not in header:
        header["kid"] = recipient_key.kid
    if compress:
        header["zip"] = _ZIP_DEFLATE
    if alg.name == "dir":
        recipient_key = _as_dir_key(recipient_key, enc)
    return _seal_compact(plaintext, recipient_key, alg, enc, header, compress=compress)


def encrypt_json(
    plaintext: bytes,
    recipients: Sequence[Recipient],
    *,
    encryption: str,
    protected: Mapping[str, Any] | None = None,
    unprotected: Mapping[str, Any] | None = None,
    aad: bytes | None = None,
    compress: bool = False,
    flatten: bool = False,
    registry: Registry = DEFAULT_REGISTRY,
) -> dict[str, Any]:
    """Encrypt ``plaintext`` to one or more recipients in JWE JSON serialization (RFC 7516 §7.2).

    ``enc`` goes in the protected header, with ``protected``. With one recipient its ``alg``,
    ``kid`` and key-management parameters are integrity protected too (in the protected
    header); with several, each recipient's go in its own ``header``. ``unprotected`` is the
    shared unprotected header and ``aad`` extra authenticated data (RFC 7516 §5.1 step 14).
    ``flatten=True`` (one recipient only) gives the flattened syntax (§7.2.2). ``dir`` and
    ``ECDH-ES`` (direct modes) allow a single recipient only.
    """
    if not isinstance(plaintext, bytes):
        raise UsageError(f"plaintext must be bytes, got {type(plaintext).__name__}")
    if aad is not None and not isinstance(aad, bytes):
        raise UsageError(f"aad must be bytes, got {type(aad).__name__}")
    if isinstance(recipients, (str, bytes, Recipient)) or not isinstance(recipients, Sequence):
        raise UsageError("recipients must be a list of Recipient(key, algorithm, header)")
    if not recipients:
        raise UsageError("recipients is empty: nobody could decrypt")
    single = len(recipients) == 1
    if flatten and not single:
        raise UsageError("the flattened JSON serialization has exactly one recipient")
    prepared: list[tuple[Key, KeyManagementAlgorithm, Header]] = []
    enc = None
    for index, recipient in enumerate(recipients):
        if not isinstance(recipient, Recipient):
            raise UsageError(f"recipients[{index}] is not a Recipient")
        alg, enc = _lookup(registry, recipient.algorithm, encryption)
        if alg.direct and not single:
            raise UsageError(f"{alg.name} determines the CEK itself: it allows one recipient only")
        what = f"recipients[{index}].header"
        header = _caller_header(recipient.header, what, alg)
        recipient_key = coerce_key(recipient.key)
        if alg.name == "dir":
            recipient_key = _as_dir_key(recipient_key, enc)
        prepared.append((recipient_key, alg, header))
    assert enc is not None  # noqa: S101 - there is at least one recipient

    shared_protected = _caller_header(protected, "protected", None)
    if "enc" in shared_protected and shared_protected["enc"] != enc.name:
        raise UsageError(f"protected['enc'] is {short(shared_protected['enc'])}, not {enc.name!r}")
    shared_protected["enc"] = enc.name
    if compress:
        shared_protected["zip"] = _ZIP_DEFLATE
    shared_unprotected = _caller_header(unprotected, "unprotected", None)
    if "crit" in shared_unprotected:
        raise UsageError("unprotected: 'crit' must be in the protected header (RFC 7515 §4.1.11)")
    for shared in (shared_protected, shared_unprotected):
        if "alg" in shared and (not single or shared["alg"] != prepared[0][1].name):
            raise UsageError("'alg' is per recipient: set it with Recipient(algorithm=...)")

    cek = None if prepared[0][1].direct else enc.generate_cek()
    entries: list[tuple[Header, bytes]] = []
    for key, alg, header in prepared:
        if "crit" in header:
            raise UsageError("recipient headers: 'crit' must be in the protected header")
        # One recipient: its alg, kid and key-management parameters are integrity protected.
        target = shared_protected if single else header
        placed = {**shared_protected, **shared_unprotected, **header}
        if "alg" not in placed:
            target["alg"] = alg.name
        if key.kid is not None and "kid" not in placed:
            target["kid"] = key.kid
        _disjoint_for_encrypt(shared_protected, shared_unprotected, header)
        joint = {**shared_protected, **shared_unprotected, **header}
        wrapped = alg.wrap(key, enc, joint, cek)
        _wrap_into(wrapped, target, None)
        cek = wrapped.cek
        entries.append((header, wrapped.encrypted_key))
    assert cek is not None  # noqa: S101 - the loop ran at least once

    for header, _ in entries:
        joint = {**shared_protected, **shared_unprotected, **header}
        check_header(joint, shared_protected.get("crit", ()))
    protected_segment = _encode_protected(shared_protected)
    aad_segment = None if aad is None else b64url_encode(aad)
    signed = protected_segment if aad_segment is None else f"{protected_segment}.{aad_segment}"
    if compress:
        plaintext = _deflate(plaintext)
    nonce = enc.generate_iv()
    ciphertext, tag = enc.encrypt(cek, nonce, plaintext, signed.encode("ascii"))
    return _assemble(
        protected_segment,
        shared_unprotected,
        entries,
        aad_segment,
        (nonce, ciphertext, tag),
        flatten=flatten,
    )


def _disjoint_for_encrypt(*headers: Mapping[str, Any]) -> None:
    try:
        _disjoint(*headers)
    except MalformedToken as exc:
        raise UsageError(exc.message) from None


def _assemble(
    protected_segment: str,
    unprotected: Mapping[str, Any],
    entries: Sequence[tuple[Mapping[str, Any], bytes]],
    aad_segment: str | None,
    sealed: tuple[bytes, bytes, bytes],
    *,
    flatten: bool,
) -> dict[str, Any]:
    """The JWE JSON object (RFC 7516 §7.2.1, §7.2.2); empty members are left out."""
    nonce, ciphertext, tag = sealed
    out: dict[str, Any] = {"protected": protected_segment}
    if unprotected:
        out["unprotected"] = dict(unprotected)
    members: list[dict[str, Any]] = []
    for header, encrypted_key in entries:
        member: dict[str, Any] = {}
        if header:
            member["header"] = dict(header)
        if encrypted_key:
            member["encrypted_key"] = b64url_encode(encrypted_key)
        members.append(member)
    if flatten:
        out.update(members[0])
    else:
        out["recipients"] = members
    if aad_segment is not None:
        out["aad"] = aad_segment
    out["iv"] = b64url_encode(nonce)
    out["ciphertext"] = b64url_encode(ciphertext)
    out["tag"] = b64url_encode(tag)
    return out
