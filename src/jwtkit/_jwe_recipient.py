"""One recipient of a JWE decrypted (RFC 7516 §5.2 steps 6-16), the steps every serialization
and the :class:`~jwtkit._jwe_decrypt.Decrypter` share:

* the caller's ``alg``/``enc`` allow-lists and limits, checked once (RFC 8725 §3.1);
* the joint header's rules: member types, ``crit``, ``enc``, ``zip`` (RFC 7516 §4.1);
* ``alg`` and ``enc`` selected against the allow-lists;
* the trusted keys that fit, each with its prepared unwrap
  (``KeyManagementAlgorithm.unwrapper``), and the encrypted key's presence (C7);
* an ``epk`` in its usual form read without building a key (a fast path of the
  :class:`~jwtkit._jwe_decrypt.Decrypter`, checked as strictly as ``ECDHES.read_parameters``);
* the CEK and the content, with one opaque :class:`~jwtkit.errors.DecryptionError` for every
  failure from there on (C2-C4), and the capped ``zip`` inflation (C6).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519

from ._codec import (
    b64url_decode,
    b64url_decode_fast,
)
from ._header import check_header
from ._jwa_content import ContentEncryptionAlgorithm
from ._jwa_keymgmt import (
    ECDHPublicKey,
    KeyManagementAlgorithm,
    KeyParameters,
    UnwrapFunction,
)
from ._jwe_common import (
    _OPT_IN_CONSTANTS,
    _ZIP_DEFLATE,
    _as_dir_key,
    _inflate,
)
from ._keysource import KeySource
from ._messages import short
from .errors import (
    AlgorithmNotAllowed,
    DecryptionError,
    InvalidKey,
    MalformedToken,
    UsageError,
)
from .jwa import (
    Registry,
)
from .jwk import Key, KeySet

__all__ = []


def _allow_list(
    values: Iterable[str] | None, what: str, available: frozenset[str], example: str
) -> frozenset[str]:
    """The caller's allow-list of ``alg`` or ``enc`` names, required and checked (RFC 8725 §3.1)."""
    if values is None:
        raise UsageError(f"{what} is required, e.g. {what}=[{example!r}] (RFC 8725 §3.1)")
    if isinstance(values, (str, bytes)):
        raise UsageError(f"{what} must be a list of names, e.g. [{example!r}], not a string")
    listed = list(values)
    if not listed:
        raise UsageError(f"{what} is empty: no token could ever decrypt")
    for name in listed:
        if type(name) is not str:
            raise UsageError(f"{what}: expected names (str), got {type(name).__name__}")
        if name not in available:
            constant = _OPT_IN_CONSTANTS.get(name)
            if constant is not None:
                raise UsageError(
                    f"{name!r} is not enabled: pass a registry built with "
                    f"DEFAULT_REGISTRY.including(jwtkit.jwa.{constant}) to accept it"
                )
            raise UsageError(f"{what}: {short(name)} is not a supported algorithm")
    return frozenset(listed)


def _check_limits(max_decompressed_size: int, max_pbes2_count: int, max_recipients: int) -> None:
    for name, value in (
        ("max_decompressed_size", max_decompressed_size),
        ("max_pbes2_count", max_pbes2_count),
    ):
        if type(value) is not int or value < 0:
            raise UsageError(f"{name} must be a non-negative integer")
    if type(max_recipients) is not int or max_recipients < 1:
        raise UsageError("max_recipients must be a positive integer")


def _check_jwe_header(
    joint: Mapping[str, Any], protected: Mapping[str, Any], crit: Collection[str]
) -> None:
    """Member types, ``crit``, ``enc`` and ``zip`` of one recipient's joint header."""
    check_header(joint, crit)
    if "b64" in joint:
        raise MalformedToken("header: 'b64' applies to JWS only (RFC 7797 §3)")
    if "enc" not in joint:
        raise MalformedToken("header: 'enc' is missing (RFC 7516 §4.1.2)")
    for name in protected.get("crit", ()):
        if name not in protected:
            raise MalformedToken(
                f"header: 'crit' lists {short(name)}, which is not in the protected header"
            )
    if "zip" in joint and joint["zip"] != _ZIP_DEFLATE:
        raise MalformedToken(
            f"header: 'zip' {short(joint['zip'])} is not supported; only 'DEF' (RFC 7516 §4.1.3)"
        )


def _select(
    joint: Mapping[str, Any],
    algorithms: frozenset[str],
    encryptions: frozenset[str],
    registry: Registry,
) -> tuple[KeyManagementAlgorithm, ContentEncryptionAlgorithm]:
    """The header's ``alg`` and ``enc``, if the caller allows both (byte-exact names)."""
    name, enc_name = joint["alg"], joint["enc"]
    if name not in algorithms:
        raise AlgorithmNotAllowed(
            f"algorithm {short(name)} is not allowed; expected one of {sorted(algorithms)}"
        )
    if enc_name not in encryptions:
        raise AlgorithmNotAllowed(
            f"encryption {short(enc_name)} is not allowed; expected one of {sorted(encryptions)}"
        )
    alg = registry.key_management(name)
    enc = registry.content_encryption(enc_name)
    if alg is None or enc is None:  # pragma: no cover - allow-lists are checked against it
        raise AlgorithmNotAllowed(f"algorithm {short(name)} is not supported")
    return alg, enc


def _rebind_dir_keys(
    keys: KeySet, enc: ContentEncryptionAlgorithm
) -> tuple[KeySet, dict[int, Key]]:
    """The keys with :func:`_as_dir_key` applied, and a map back to the caller's objects."""
    originals: dict[int, Key] = {}
    bound: list[Key] = []
    for key in keys:
        copy = _as_dir_key(key, enc)
        if copy is not key:
            originals[id(copy)] = key
        bound.append(copy)
    # The same kinds of keys as the set they come from, which was accepted as it is.
    return KeySet(bound, allow_mixed=True), originals


def _candidates(
    source: KeySource,
    joint: Mapping[str, Any],
    alg: KeyManagementAlgorithm,
    enc: ContentEncryptionAlgorithm,
    parameters: KeyParameters,
) -> tuple[list[tuple[Key, UnwrapFunction]], KeySet | None]:
    """``(caller's key, its prepared unwrap)`` for every trusted key that can decrypt this
    recipient, and the provider's key set they came from (``None`` for fixed keys or a key
    resolver)."""
    keys = source.static_keys
    provided = None
    if keys is None:
        keys = provided = source.provider_keys(joint)
    originals: dict[int, Key] = {}
    if alg.name == "dir" and keys is not None:
        keys, originals = _rebind_dir_keys(keys, enc)
    found: list[tuple[Key, UnwrapFunction]] = []
    first_error: InvalidKey | None = None
    for key in source.candidates(joint, alg.name, alg.unwrap_operation, keys):
        try:
            alg.check_key(key, enc, parameters)
            unwrap = alg.unwrapper(key, enc)
        except InvalidKey as exc:
            first_error = first_error or exc
            continue
        found.append((originals.get(id(key), key), unwrap))
    if not found:
        assert first_error is not None  # noqa: S101 - candidates() never returns no key
        raise first_error
    return found, provided


class _Content(NamedTuple):
    """The shared, decoded parts of a JWE: what every recipient decrypts."""

    iv: bytes
    ciphertext: bytes
    tag: bytes
    aad: bytes


def _check_encrypted_key(alg: KeyManagementAlgorithm, encrypted_key: bytes) -> None:
    """RFC 7516 §5.2 step 10: an encrypted key exactly when the algorithm transports one (C7)."""
    if alg.direct and encrypted_key:
        raise MalformedToken(
            f"token: {alg.name} uses no encrypted key, but one is present (RFC 7516 §5.2 step 10)"
        )
    if not alg.direct and not encrypted_key:
        raise MalformedToken(f"token: {alg.name} needs an encrypted key, but it is empty")


@dataclass(frozen=True)
class _Opened:
    """One recipient decrypted: the plaintext (before ``zip``), the caller's key that did it,
    and what a :class:`Decrypter` needs to prepare the next token with the same header."""

    plaintext: bytes
    key: Key
    parameters: KeyParameters
    found: list[tuple[Key, UnwrapFunction]]
    provided: KeySet | None


def _open_recipient(
    source: KeySource,
    joint: Mapping[str, Any],
    alg: KeyManagementAlgorithm,
    enc: ContentEncryptionAlgorithm,
    encrypted_key: bytes,
    content: _Content,
    max_pbes2_count: int,
) -> _Opened:
    """Decrypt the content for one recipient with the first trusted key that can."""
    parameters = alg.read_parameters(joint, max_pbes2_count)
    _check_encrypted_key(alg, encrypted_key)
    found, provided = _candidates(source, joint, alg, enc, parameters)
    for original, unwrap in found:
        try:
            cek = unwrap(parameters, encrypted_key)
            plaintext = enc.decrypt(cek, content.iv, content.ciphertext, content.tag, content.aad)
        except DecryptionError:
            continue
        return _Opened(plaintext, original, parameters, found, provided)
    raise DecryptionError()


def _finish(plaintext: bytes, joint: Mapping[str, Any], max_decompressed_size: int) -> bytes:
    if joint.get("zip") == _ZIP_DEFLATE:
        return _inflate(plaintext, max_decompressed_size)
    return plaintext


def _segment(segment: str, what: str) -> bytes:
    """A segment already checked for the base64url alphabet: the fast decoder, falling back
    to the strict one for the precise error."""
    try:
        return b64url_decode_fast(segment)
    except ValueError:
        return b64url_decode(segment, what)


# -- ECDH-ES: the usual epk, read fast ------------------------------------------------------

#: ``epk`` members of the usual ephemeral keys, parsed without building a :class:`Key`.
_EC_EPK_MEMBERS = frozenset({"kty", "crv", "x", "y"})
_OKP_EPK_MEMBERS = frozenset({"kty", "crv", "x"})
_EC_EPK_CURVES: dict[str, tuple[ec.EllipticCurve, int]] = {
    "P-256": (ec.SECP256R1(), 32),
    "P-384": (ec.SECP384R1(), 48),
    "P-521": (ec.SECP521R1(), 66),
}
_OKP_EPK_CURVES: dict[str, tuple[type[x25519.X25519PublicKey | x448.X448PublicKey], int]] = {
    "X25519": (x25519.X25519PublicKey, 32),
    "X448": (x448.X448PublicKey, 56),
}


def _lean_epk(epk: object) -> tuple[str, ECDHPublicKey] | None:
    """``(curve, public key)`` of an ``epk`` in its usual form (only ``kty``, ``crv`` and the
    coordinates), or ``None`` for anything else, which the full parser then reports.

    Accepts a subset of what ``ECDHES.read_parameters`` accepts: the coordinates are decoded
    strictly and must have the curve's exact length, and ``cryptography`` checks that an EC
    point is on the curve (RFC 7518 §4.6.1.1, security matrix C1).
    """
    if type(epk) is not dict:
        return None
    try:
        kty, crv, x = epk["kty"], epk["crv"], epk["x"]
        if type(crv) is not str or type(x) is not str:
            return None
        if kty == "EC" and epk.keys() == _EC_EPK_MEMBERS and crv in _EC_EPK_CURVES:
            y = epk["y"]
            curve, length = _EC_EPK_CURVES[crv]
            if type(y) is not str:
                return None
            raw_x, raw_y = b64url_decode_fast(x), b64url_decode_fast(y)
            if len(raw_x) != length or len(raw_y) != length:
                return None
            # SEC 1 §2.3.4: an uncompressed point; cryptography refuses a point that is not on
            # the curve and coordinates that are not reduced (which the full parser then sees).
            point = b"\x04" + raw_x + raw_y
            return crv, ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
        if kty == "OKP" and epk.keys() == _OKP_EPK_MEMBERS and crv in _OKP_EPK_CURVES:
            public_class, length = _OKP_EPK_CURVES[crv]
            raw = b64url_decode_fast(x)
            if len(raw) != length:
                return None
            return crv, public_class.from_public_bytes(raw)
    except (KeyError, ValueError):
        return None
    return None
