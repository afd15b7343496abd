"""JWE JSON serialization (RFC 7516 §7.2): the general and flattened syntaxes read and
decrypted.

The members are checked (types, ``recipients`` against ``encrypted_key``/``header``, at most
``max_recipients`` recipients, D1), then every recipient's headers (``crit`` and ``zip`` only
protected, names disjoint: A8, A9, C6); recipients whose ``alg``/``enc`` are not allowed or that
no trusted key fits are skipped, at most one PBES2 recipient is tried (C5), and the first that
decrypts wins.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from ._codec import (
    b64url_decode,
    json_entries,
    json_loads_object,
    json_serialization_object,
)
from ._jwa_keymgmt import (
    PBES2,
)
from ._jwe_common import (
    DecryptedJWE,
    _disjoint,
)
from ._jwe_recipient import (
    _check_jwe_header,
    _Content,
    _finish,
    _open_recipient,
    _select,
)
from ._keysource import KeySource
from ._types import Header
from .errors import (
    AlgorithmNotAllowed,
    DecryptionError,
    InvalidKey,
    JWTError,
    MalformedToken,
)
from .jwa import (
    Registry,
)

__all__ = []

#: Members of a JWE JSON object (RFC 7516 §7.2.1); other members are ignored.
_JSON_STRING_MEMBERS = ("protected", "encrypted_key", "iv", "ciphertext", "tag", "aad")


def _optional_object(container: Mapping[str, Any], name: str, what: str) -> Header | None:
    if name not in container:
        return None
    value = container[name]
    if type(value) is not dict:
        raise MalformedToken(f"{what}: {name!r} must be a JSON object")
    return value


def _string_member(container: Mapping[str, Any], name: str, what: str) -> str | None:
    if name not in container:
        return None
    value = container[name]
    if type(value) is not str:
        raise MalformedToken(f"{what}: {name!r} must be a base64url string")
    return value


def _check_unprotected(header: Mapping[str, Any] | None, what: str) -> None:
    """``crit`` and ``zip`` must be integrity protected (RFC 7516 §4.1.13, §4.1.3; A9, C6)."""
    if header is None:
        return
    for name in ("crit", "zip"):
        if name in header:
            raise MalformedToken(
                f"JWE JSON: {name!r} is allowed only in the protected header, not in {what}"
            )


def _decrypt_json(
    data: Mapping[str, Any] | str | bytes,
    source: KeySource,
    allowed_algs: frozenset[str],
    allowed_encs: frozenset[str],
    crit: Collection[str],
    registry: Registry,
    max_token_size: int,
    max_decompressed_size: int,
    max_pbes2_count: int,
    max_recipients: int,
) -> DecryptedJWE:
    """:func:`decrypt_json` with the arguments already checked (by a :class:`Decrypter`)."""
    what = "JWE JSON"
    jwe = json_serialization_object(
        data, what, max_token_size, "a compact JWE goes to jwtkit.jwe.decrypt (RFC 7516 §7)"
    )
    strings = {name: _string_member(jwe, name, what) for name in _JSON_STRING_MEMBERS}
    if strings["ciphertext"] is None:
        raise MalformedToken("JWE JSON: 'ciphertext' is missing (RFC 7516 §7.2.1)")
    unprotected = _optional_object(jwe, "unprotected", what)
    recipients = _recipients(jwe, strings["encrypted_key"], max_recipients)

    protected_segment = strings["protected"]
    protected: Header = {}
    if protected_segment is not None:
        protected = json_loads_object(b64url_decode(protected_segment, "protected"), "protected")
    _check_unprotected(unprotected, "'unprotected'")
    joints: list[Header] = []
    for index, (header, _) in enumerate(recipients):
        _check_unprotected(header, f"the header of recipient {index}")
        _disjoint(protected, unprotected, header)
        joint = {**protected, **(unprotected or {}), **(header or {})}
        _check_jwe_header(joint, protected, crit)
        joints.append(joint)

    aad_segment = strings["aad"]
    # Decoded (and so checked to be base64url) before the segments form the AAD.
    aad = None if aad_segment is None else b64url_decode(aad_segment, "aad")
    signed = protected_segment or ""
    if aad_segment is not None:
        signed += "." + aad_segment
    content = _Content(
        b64url_decode(strings["iv"] or "", "iv"),
        b64url_decode(strings["ciphertext"], "ciphertext"),
        b64url_decode(strings["tag"] or "", "tag"),
        signed.encode("ascii"),
    )

    failure: JWTError | None = None
    attempted = False
    password_tried = False
    for index, ((header, encrypted_key), joint) in enumerate(zip(recipients, joints, strict=True)):
        try:
            alg, enc = _select(joint, allowed_algs, allowed_encs, registry)
            if isinstance(alg, PBES2):
                # The sender chooses the PBKDF2 work of every recipient: one is the limit, so
                # that many cheap recipients cannot multiply max_pbes2_count (C5).
                if password_tried:
                    raise MalformedToken("JWE JSON: more than one PBES2 recipient to try")
                password_tried = True
            opened = _open_recipient(
                source, joint, alg, enc, encrypted_key, content, max_pbes2_count
            )
        except DecryptionError:
            attempted = True
            continue
        except (AlgorithmNotAllowed, InvalidKey) as exc:
            failure = failure or exc
            continue
        return DecryptedJWE(
            protected,
            _finish(opened.plaintext, joint, max_decompressed_size),
            alg.name,
            enc.name,
            opened.key,
            unprotected,
            header,
            index,
            aad,
        )
    if attempted or failure is None:
        raise DecryptionError()
    raise failure


def _recipients(
    jwe: Mapping[str, Any], flat_key: str | None, max_recipients: int
) -> list[tuple[Header | None, bytes]]:
    """``(per-recipient header, encrypted key)`` for each recipient, general or flattened."""
    if "recipients" not in jwe:
        header = _optional_object(jwe, "header", "JWE JSON")
        return [(header, b64url_decode(flat_key or "", "encrypted_key"))]
    if "header" in jwe or flat_key is not None:
        raise MalformedToken(
            "JWE JSON: 'recipients' cannot be combined with a top-level 'header' or "
            "'encrypted_key' (RFC 7516 §7.2.2)"
        )
    listed = json_entries(jwe["recipients"], "JWE JSON", "recipients", max_recipients)
    out: list[tuple[Header | None, bytes]] = []
    for index, entry in enumerate(listed):
        what = f"JWE JSON recipient {index}"
        if type(entry) is not dict:
            raise MalformedToken(f"{what}: must be a JSON object")
        header = _optional_object(entry, "header", what)
        encrypted = _string_member(entry, "encrypted_key", what)
        out.append((header, b64url_decode(encrypted or "", "encrypted_key")))
    return out
