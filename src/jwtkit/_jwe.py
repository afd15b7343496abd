"""JSON Web Encryption (RFC 7516): compact and JSON (general, flattened) serializations.

The decryption order follows RFC 7516 §5.2, with every check that needs no secret first:

1. the shape of the input (five base64url segments, or a JWE JSON object) and its size;
2. the headers: strict JSON, member types, ``crit`` (RFC 7516 §4.1.13), ``zip`` only in the
   protected header, header names disjoint across the protected, shared unprotected and
   per-recipient headers (RFC 7516 §7.2.1, security matrix A8-A10, C6);
3. ``alg`` and ``enc`` against the caller's allow-lists (RFC 8725 §3.1);
4. the key-management parameters (``epk``, ``p2c``, ...; C1, C5) and the encrypted key's
   presence (C7);
5. trusted keys that fit the ``kid``, the algorithm and the operation (A3);
6. the CEK, then the content: one opaque :class:`~jwtkit.errors.DecryptionError` for every
   failure from here on (C2-C4);
7. ``zip: DEF`` decompression, capped (C6).

A JWS is never accepted here and a JWE is never accepted by :mod:`jwtkit.jws` (A6); the compact
and JSON entry points are separate (A7).

:class:`Decrypter` does the argument checks and the per-key work once, and remembers protected
headers that decrypted (by their base64url segment), so that a repeated header skips steps 2-5;
every result and every error stays the one the full path gives. :func:`decrypt` and
:func:`decrypt_json` share Decrypters between calls with the same arguments.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519

from ._codec import (
    DEFAULT_MAX_JSON_ENTRIES,
    DEFAULT_MAX_TOKEN_SIZE,
    b64url_decode,
    b64url_decode_fast,
    b64url_encode,
    check_compact,
    json_dumps,
    json_entries,
    json_loads_object,
    json_serialization_object,
)
from ._header import check_header
from ._jwa_content import ContentEncryptionAlgorithm
from ._jwa_keymgmt import (
    ECDHES,
    PBES2,
    ECDHPublicKey,
    KeyManagementAlgorithm,
    KeyParameters,
    UnwrapFunction,
    WrapResult,
    _b64_parameter,
)
from ._jwa_keymgmt import _exchange as _exchange  # noqa: PLC0414 - tests read it here
from ._keysource import KeyArgument, KeySource, coerce_key
from ._memo import UNSHARED, SharedMemo, held, key_part, value_part
from ._messages import short
from .errors import (
    AlgorithmNotAllowed,
    DecryptionError,
    InvalidKey,
    JWTError,
    MalformedToken,
    TokenTooLarge,
    UsageError,
)
from .jwa import (
    DEFAULT_REGISTRY,
    PBES2_HS256_A128KW,
    PBES2_HS384_A192KW,
    PBES2_HS512_A256KW,
    RSA1_5,
    Registry,
)
from .jwk import Key, KeySet, OctKey

__all__ = [
    "DEFAULT_MAX_DECOMPRESSED_SIZE",
    "DEFAULT_MAX_PBES2_COUNT",
    "DEFAULT_MAX_RECIPIENTS",
    "DecryptedJWE",
    "Decrypter",
    "Recipient",
    "decrypt",
    "decrypt_json",
    "encrypt",
    "encrypt_json",
]

#: Default cap on a ``zip: DEF`` plaintext after decompression, in bytes (security matrix C6).
DEFAULT_MAX_DECOMPRESSED_SIZE = 250_000
#: Default cap on the PBES2 iteration count ``p2c`` a token may ask for (security matrix C5).
DEFAULT_MAX_PBES2_COUNT = 600_000
#: Default upper bound on the recipients of a JWE in JSON serialization, the bound on the
#: signatures of a JWS (security matrix D1): the sender must not choose how many key unwraps a
#: message costs.
DEFAULT_MAX_RECIPIENTS = DEFAULT_MAX_JSON_ENTRIES

#: ``zip`` values this library understands (RFC 7516 §4.1.3, RFC 7518 §7.3).
_ZIP_DEFLATE = "DEF"
#: How to name the opt-in constants in error messages.
_OPT_IN_CONSTANTS = {
    RSA1_5.name: "RSA1_5",
    PBES2_HS256_A128KW.name: "PBES2_HS256_A128KW",
    PBES2_HS384_A192KW.name: "PBES2_HS384_A192KW",
    PBES2_HS512_A256KW.name: "PBES2_HS512_A256KW",
}
#: Header parameters that the key-management step writes; callers may not set them.
_GENERATED_PARAMETERS = frozenset({"epk", "iv", "tag"})
#: Members of a JWE JSON object (RFC 7516 §7.2.1); other members are ignored.
_JSON_STRING_MEMBERS = ("protected", "encrypted_key", "iv", "ciphertext", "tag", "aad")


@dataclass(frozen=True)
class DecryptedJWE:
    """The result of a successful decryption: the plaintext, and what protected it.

    ``header`` is the protected header (``{}`` for a JSON JWE without one). The JSON
    serialization also reports the shared ``unprotected`` header, the header of the recipient
    whose key decrypted (``recipient_header``), that recipient's position
    (``recipient_index``, 0 for flattened JSON) and the JWE AAD (``aad``); the compact
    serialization leaves them ``None``.

    .. warning:: Only ``header`` is integrity protected. Values in ``unprotected`` and
       ``recipient_header`` can be changed by anyone on the way (RFC 7516 §7.2.1).
    """

    header: dict[str, Any]
    plaintext: bytes
    #: The key-management algorithm (``alg``) and content encryption (``enc``) used.
    algorithm: str
    encryption: str
    #: The trusted key that decrypted.
    key: Key
    unprotected: dict[str, Any] | None = None
    recipient_header: dict[str, Any] | None = None
    recipient_index: int | None = None
    aad: bytes | None = None

    @property
    def joint_header(self) -> dict[str, Any]:
        """The union of the protected, shared and per-recipient headers (RFC 7516 §7.2.1)."""
        return {**self.header, **(self.unprotected or {}), **(self.recipient_header or {})}


@dataclass(frozen=True)
class Recipient:
    """One recipient of :func:`encrypt_json`: its key, ``alg`` and per-recipient header."""

    key: Key | bytes | str
    algorithm: str
    header: Mapping[str, Any] | None = None


# -- shared checks ----------------------------------------------------------------------------


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


def _inflate(data: bytes, limit: int) -> bytes:
    """Raw DEFLATE (RFC 1951) decompression that stops past ``limit`` bytes (C6)."""
    inflater = zlib.decompressobj(-15)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error:
        raise MalformedToken("zip: the plaintext is not valid DEFLATE data") from None
    if len(out) > limit:
        raise TokenTooLarge(
            f"zip: the decompressed plaintext is larger than {limit} bytes (max_decompressed_size)"
        )
    if not inflater.eof or inflater.unused_data:
        raise MalformedToken("zip: the plaintext is not one complete DEFLATE stream")
    return out


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


# -- decryption -------------------------------------------------------------------------------


def _as_dir_key(key: Key, enc: ContentEncryptionAlgorithm) -> Key:
    """For ``dir``: an ``oct`` key whose own ``alg`` names the ``enc`` it is the CEK of.

    RFC 7520 §5.6 gives its ``dir`` key ``"alg": "A128GCM"``. Such a key still serves exactly
    one algorithm (that content encryption, RFC 8725 §3.1), so it is used as a ``dir`` key for
    that ``enc`` only; any other key is returned unchanged.
    """
    if not isinstance(key, OctKey) or key.alg != enc.name:
        return key
    return OctKey(
        key.secret,
        kid=key.kid,
        use=key.use,
        key_ops=key.key_ops,
        alg="dir",
        allow_weak=key.allow_weak,
    )


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


# -- prepared decryption ----------------------------------------------------------------------

#: ``open(encrypted_key, iv, ciphertext, tag, aad) -> plaintext`` for one trusted key, with the
#: per-key work done; every failure is :class:`DecryptionError`.
_Opener = Callable[[bytes, bytes, bytes, bytes, bytes], bytes]
#: The parameters of an algorithm that reads nothing from the header (``dir``, RSA, AES-KW).
_NO_PARAMETERS = KeyParameters()
#: The longest protected header segment a :class:`Decrypter` remembers, in characters
#: (real headers have a few hundred; longer ones are decrypted, just not cached).
_MAX_CACHED_HEADER = 1024
#: Header values that a shallow copy duplicates completely.
_SCALARS = (str, int, float, bool, type(None))
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


def _opener(
    alg: KeyManagementAlgorithm, enc: ContentEncryptionAlgorithm, unwrap: UnwrapFunction
) -> _Opener:
    """The prepared decryption of one (header, key) pair whose algorithm reads no header
    parameters: the key's prepared unwrap, then the content decryption (prepared too when the
    key is the CEK)."""
    if alg.direct:
        decrypt_content = enc.decrypter(unwrap(_NO_PARAMETERS, b""))

        def open_direct(
            encrypted_key: bytes, iv: bytes, ciphertext: bytes, tag: bytes, aad: bytes
        ) -> bytes:
            return decrypt_content(iv, ciphertext, tag, aad)

        return open_direct

    decrypt = enc.decrypt

    def open_wrapped(
        encrypted_key: bytes, iv: bytes, ciphertext: bytes, tag: bytes, aad: bytes
    ) -> bytes:
        return decrypt(unwrap(_NO_PARAMETERS, encrypted_key), iv, ciphertext, tag, aad)

    return open_wrapped


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


def _first_to_open(
    openers: Sequence[tuple[Key, _Opener]], encrypted_key: bytes, content: _Content
) -> tuple[bytes, Key]:
    """The plaintext and caller's key of the first prepared key that decrypts, in key order."""
    iv, ciphertext, tag, aad = content
    for original, opener in openers:
        try:
            return opener(encrypted_key, iv, ciphertext, tag, aad), original
        except DecryptionError:
            continue
    raise DecryptionError()


@dataclass(frozen=True)
class _HeaderEntry:
    """A protected header that decrypted before, with its keys prepared (header cache)."""

    header: dict[str, Any]
    #: ``True`` when a shallow copy of ``header`` is a complete copy (no nested values).
    flat: bool
    #: The decoded header of a nested one, to rebuild a deep copy for each result.
    raw: bytes
    alg: KeyManagementAlgorithm
    enc: ContentEncryptionAlgorithm
    inflate: bool
    openers: tuple[tuple[Key, _Opener], ...]
    #: The provider's key set the entry was made with (``None`` for fixed keys).
    keyset: KeySet | None


@dataclass(frozen=True)
class _AgreementPlan:
    """ECDH-ES: the trusted private keys on one curve for a (``kid``, ``alg``, ``enc``)."""

    #: ``(caller's key, its prepared unwrap)`` for every key that fits, in key order.
    keys: tuple[tuple[Key, UnwrapFunction], ...]
    keyset: KeySet | None


def _understood(crit: Collection[str]) -> Collection[str]:
    """``crit`` as a set of names; a string is kept as it is (``decrypt`` always read it so)."""
    if isinstance(crit, str):
        return crit
    try:
        return frozenset(crit)
    except TypeError:
        raise UsageError(
            f"crit must be a collection of header names, got {type(crit).__name__}"
        ) from None


class Decrypter:
    """Decrypt many JWEs with the same keys and allow-lists. Build once, reuse.

    Takes the arguments of :func:`decrypt` (less the token) and checks them once; the per-key
    work (an ``AESGCM`` object for a ``dir`` key, OAEP padding objects, the keys that fit a
    ``kid`` and an algorithm) is done once too. Protected headers that decrypted are cached by
    their base64url segment (``header_cache_size`` of them, oldest dropped first; 0 disables),
    so a repeated header is not parsed or checked again. Headers that carry per-message
    key-management parameters (``epk``, ``iv``/``tag``, ``p2s``/``p2c``) are not cached, as
    they never repeat; for ``ECDH-ES`` the keys on the ``epk`` curve are prepared instead.
    Nothing is cached before a token decrypts, and nothing secret is cached that the keys do
    not already hold: no CEK, no shared secret. Safe to share between threads.

    ``decrypt(token)`` takes the compact serialization, ``decrypt_json(data)`` the JSON ones.
    Every result and every error is the one :func:`decrypt` / :func:`decrypt_json` gives.
    """

    __slots__ = (
        "_agreements",
        "_algorithms",
        "_cache",
        "_cache_size",
        "_crit",
        "_encryptions",
        "_lock",
        "_max_decompressed_size",
        "_max_pbes2_count",
        "_max_recipients",
        "_max_token_size",
        "_registry",
        "_source",
    )

    def __init__(
        self,
        key: KeyArgument,
        *,
        algorithms: Iterable[str],
        encryptions: Iterable[str],
        crit: Collection[str] = (),
        registry: Registry = DEFAULT_REGISTRY,
        max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
        max_decompressed_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE,
        max_pbes2_count: int = DEFAULT_MAX_PBES2_COUNT,
        header_cache_size: int = 128,
        max_recipients: int = DEFAULT_MAX_RECIPIENTS,
    ) -> None:
        self._source = KeySource(key)
        self._algorithms = _allow_list(
            algorithms, "algorithms", registry.key_management_names, "RSA-OAEP-256"
        )
        self._encryptions = _allow_list(
            encryptions, "encryptions", registry.content_encryption_names, "A256GCM"
        )
        _check_limits(max_decompressed_size, max_pbes2_count, max_recipients)
        if type(header_cache_size) is not int or header_cache_size < 0:
            raise UsageError("header_cache_size must be a non-negative integer")
        self._crit = _understood(crit)
        self._registry = registry
        self._max_token_size = max_token_size
        self._max_decompressed_size = max_decompressed_size
        self._max_pbes2_count = max_pbes2_count
        self._max_recipients = max_recipients
        self._cache: dict[str, _HeaderEntry] = {}
        self._agreements: dict[tuple[Any, ...], _AgreementPlan] = {}
        # A key resolver may pick other keys for the same header: nothing is prepared then.
        self._cache_size = header_cache_size if self._source.cacheable else 0
        self._lock = threading.Lock()

    def decrypt(self, token: str | bytes) -> DecryptedJWE:
        """Decrypt a JWE in compact serialization (RFC 7516 §3.1, §5.2); see :func:`decrypt`."""
        if type(token) is bytes and token.isascii():
            token = token.decode("ascii")
        if type(token) is str and len(token) <= self._max_token_size:
            parts = token.split(".")
            if len(parts) == 5 and parts[0]:
                # Strict decoding checks each segment's alphabet and encoding, as
                # check_compact and _segment would; any flaw takes the full path, which
                # reports it precisely.
                try:
                    encrypted_key = b64url_decode_fast(parts[1])
                    iv = b64url_decode_fast(parts[2])
                    ciphertext = b64url_decode_fast(parts[3])
                    tag = b64url_decode_fast(parts[4])
                    entry = self._cache.get(parts[0])
                    raw = b"" if entry is not None else b64url_decode_fast(parts[0])
                except ValueError:
                    pass
                else:
                    content = _Content(iv, ciphertext, tag, parts[0].encode("ascii"))
                    if entry is None:
                        header = json_loads_object(raw, "header")
                        _check_jwe_header(header, header, self._crit)
                        alg, enc = _select(
                            header, self._algorithms, self._encryptions, self._registry
                        )
                        return self._decrypt_recipient(
                            parts[0], raw, header, alg, enc, encrypted_key, content
                        )
                    result = self._decrypt_cached(entry, encrypted_key, content)
                    if result is not None:
                        return result
        return self._decrypt_full(token)

    def decrypt_json(self, data: Mapping[str, Any] | str | bytes) -> DecryptedJWE:
        """Decrypt a JWE in general or flattened JSON serialization (RFC 7516 §7.2); see
        :func:`decrypt_json`."""
        return _decrypt_json(
            data,
            self._source,
            self._algorithms,
            self._encryptions,
            self._crit,
            self._registry,
            self._max_token_size,
            self._max_decompressed_size,
            self._max_pbes2_count,
            self._max_recipients,
        )

    def _decrypt_cached(
        self, entry: _HeaderEntry, encrypted_key: bytes, content: _Content
    ) -> DecryptedJWE | None:
        """The fast path for a header that decrypted before; ``None`` to take the full one.

        A cached header segment is known to be well formed and allowed; an encrypted key
        where none belongs (or none where one is needed) takes the full path, which reports
        it precisely.
        """
        if entry.alg.direct is bool(encrypted_key):
            return None
        if entry.keyset is not None and self._source.provider_keys(entry.header) is not (
            entry.keyset
        ):
            return None
        plaintext, original = _first_to_open(entry.openers, encrypted_key, content)
        if entry.inflate:
            plaintext = _inflate(plaintext, self._max_decompressed_size)
        header = dict(entry.header) if entry.flat else json_loads_object(entry.raw, "header")
        return DecryptedJWE(header, plaintext, entry.alg.name, entry.enc.name, original)

    def _decrypt_full(self, token: str | bytes) -> DecryptedJWE:
        """Every check in order, each failure with its precise error (RFC 7516 §5.2)."""
        header_segment, key_segment, iv_segment, ct_segment, tag_segment = check_compact(
            token, 5, self._max_token_size
        )
        if not header_segment:
            raise MalformedToken("token: the protected header is empty")
        raw = _segment(header_segment, "header")
        header = json_loads_object(raw, "header")
        _check_jwe_header(header, header, self._crit)
        alg, enc = _select(header, self._algorithms, self._encryptions, self._registry)
        encrypted_key = _segment(key_segment, "encrypted key")
        content = _Content(
            _segment(iv_segment, "iv"),
            _segment(ct_segment, "ciphertext"),
            _segment(tag_segment, "tag"),
            header_segment.encode("ascii"),
        )
        return self._decrypt_recipient(
            header_segment, raw, header, alg, enc, encrypted_key, content
        )

    def _decrypt_recipient(
        self,
        segment: str,
        raw: bytes,
        header: dict[str, Any],
        alg: KeyManagementAlgorithm,
        enc: ContentEncryptionAlgorithm,
        encrypted_key: bytes,
        content: _Content,
    ) -> DecryptedJWE:
        """Decrypt a token whose header is checked but not cached (RFC 7516 §5.2 steps 6-16),
        then prepare the keys for the next token with this header."""
        if type(alg) is ECDHES and self._cache_size:
            agreed = self._agree(header, alg, enc, encrypted_key, content)
            if agreed is not None:
                return agreed
        opened = _open_recipient(
            self._source, header, alg, enc, encrypted_key, content, self._max_pbes2_count
        )
        plaintext = _finish(opened.plaintext, header, self._max_decompressed_size)
        if self._cache_size:
            self._remember(segment, raw, header, alg, enc, opened)
        return DecryptedJWE(header, plaintext, alg.name, enc.name, opened.key)

    def _agree(
        self,
        header: dict[str, Any],
        alg: ECDHES,
        enc: ContentEncryptionAlgorithm,
        encrypted_key: bytes,
        content: _Content,
    ) -> DecryptedJWE | None:
        """ECDH-ES with prepared keys on the ``epk`` curve; ``None`` to take the full path.

        The checks are those of ``read_parameters`` and ``check_key``, in the same order: a
        plan exists only for keys that passed them with an ``epk`` on the same curve.
        """
        lean = _lean_epk(header.get("epk"))
        if lean is None:
            return None
        curve, public = lean
        plan = self._agreements.get((header.get("kid"), alg.name, enc.name, curve))
        if plan is None:
            return None
        parameters = KeyParameters(
            apu=_b64_parameter(header, "apu", required=False),
            apv=_b64_parameter(header, "apv", required=False),
            epk_public=public,
        )
        _check_encrypted_key(alg, encrypted_key)
        if plan.keyset is not None and self._source.provider_keys(header) is not plan.keyset:
            return None
        iv, ciphertext, tag, aad = content
        for original, unwrap in plan.keys:
            try:
                cek = unwrap(parameters, encrypted_key)
                plaintext = enc.decrypt(cek, iv, ciphertext, tag, aad)
            except DecryptionError:
                continue
            return DecryptedJWE(
                header,
                _finish(plaintext, header, self._max_decompressed_size),
                alg.name,
                enc.name,
                original,
            )
        raise DecryptionError()

    def _remember(
        self,
        segment: str,
        raw: bytes,
        header: dict[str, Any],
        alg: KeyManagementAlgorithm,
        enc: ContentEncryptionAlgorithm,
        opened: _Opened,
    ) -> None:
        """Prepare the keys of a header that just decrypted (never before).

        Anyone can encrypt to a public key, so anyone can have a header remembered: the caches
        are bounded in entries and a header longer than ``_MAX_CACHED_HEADER`` characters is
        not remembered, which bounds their memory too.
        """
        if len(segment) > _MAX_CACHED_HEADER:
            return
        epk = opened.parameters.epk
        if epk is not None:
            if type(alg) is not ECDHES:  # pragma: no cover - only ECDH-ES reads an epk
                return
            plan_key = (header.get("kid"), alg.name, enc.name, epk.crv)
            plan = _AgreementPlan(tuple(opened.found), opened.provided)
            self._store(self._agreements, plan_key, plan)
            return
        if opened.parameters != _NO_PARAMETERS:
            return  # per-message parameters (iv/tag, p2s/p2c): the header never repeats
        flat = all(isinstance(value, _SCALARS) for value in header.values())
        entry = _HeaderEntry(
            # A copy of its own: the caller may change the header of the result.
            dict(header) if flat else json_loads_object(raw, "header"),
            flat,
            b"" if flat else raw,
            alg,
            enc,
            header.get("zip") == _ZIP_DEFLATE,
            tuple((original, _opener(alg, enc, unwrap)) for original, unwrap in opened.found),
            opened.provided,
        )
        self._store(self._cache, segment, entry)

    def _store(self, cache: dict[Any, Any], key: Any, value: Any) -> None:
        with self._lock:
            if key not in cache and len(cache) >= self._cache_size:
                del cache[next(iter(cache))]
            cache[key] = value


# -- one-shot calls ---------------------------------------------------------------------------

_SHARED_DECRYPTERS: SharedMemo[Decrypter] = SharedMemo(64)


def _decrypter_for(
    key: KeyArgument,
    algorithms: Iterable[str],
    encryptions: Iterable[str],
    crit: Collection[str],
    registry: Registry,
    max_token_size: int,
    max_decompressed_size: int,
    max_pbes2_count: int,
    max_recipients: int = DEFAULT_MAX_RECIPIENTS,
) -> Decrypter:
    """A :class:`Decrypter` for one-shot calls, shared between calls with the same arguments.

    The memo is small and bounded (oldest dropped first) and keyed by the rule of
    :mod:`jwtkit._memo`, the one the JWT one-shot calls use: keys, key sets and providers by
    identity (so a result names the caller's own key), secrets by value, other arguments by
    value and type. Anything else (a key resolver, an iterator) gets a fresh
    :class:`Decrypter`.
    """
    part = key_part(key)
    signature: Any = None
    if part is not UNSHARED:
        try:
            signature = (
                part,
                value_part(algorithms),
                value_part(encryptions),
                () if crit == () else value_part(crit),
                registry,
                # value_part's form of a number, inline on this hot path
                (type(max_token_size), max_token_size),
                (type(max_decompressed_size), max_decompressed_size),
                (type(max_pbes2_count), max_pbes2_count),
                (type(max_recipients), max_recipients),
            )
            shared = _SHARED_DECRYPTERS.get(signature)
        except TypeError:  # an iterator or something unhashable: no sharing
            signature = None
        else:
            if shared is not None:
                return shared
    decrypter = Decrypter(
        key,
        algorithms=algorithms,
        encryptions=encryptions,
        crit=crit,
        registry=registry,
        max_token_size=max_token_size,
        max_decompressed_size=max_decompressed_size,
        max_pbes2_count=max_pbes2_count,
        max_recipients=max_recipients,
    )
    if signature is not None:
        _SHARED_DECRYPTERS.put(signature, decrypter, held(key), registry)
    return decrypter


def decrypt(
    token: str | bytes,
    key: KeyArgument,
    *,
    algorithms: Iterable[str],
    encryptions: Iterable[str],
    crit: Collection[str] = (),
    registry: Registry = DEFAULT_REGISTRY,
    max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
    max_decompressed_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE,
    max_pbes2_count: int = DEFAULT_MAX_PBES2_COUNT,
    max_recipients: int = DEFAULT_MAX_RECIPIENTS,
) -> DecryptedJWE:
    """Decrypt a JWE in compact serialization (RFC 7516 §3.1, §5.2).

    ``algorithms`` (key management, ``alg``) and ``encryptions`` (content encryption, ``enc``)
    are required allow-lists. ``crit`` names the critical extensions your code processes.
    ``max_decompressed_size`` caps a ``zip: DEF`` plaintext and ``max_pbes2_count`` the PBES2
    work a token may ask for. Any failure raises a :class:`~jwtkit.errors.JWTError` subclass;
    every failure of the decryption itself is one :class:`~jwtkit.errors.DecryptionError`.

    Calls with the same arguments share a :class:`Decrypter` (a small bounded memo); build
    your own to decrypt many tokens with the same keys.
    """
    return _decrypter_for(
        key,
        algorithms,
        encryptions,
        crit,
        registry,
        max_token_size,
        max_decompressed_size,
        max_pbes2_count,
    ).decrypt(token)


def _optional_object(container: Mapping[str, Any], name: str, what: str) -> dict[str, Any] | None:
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


def _disjoint(*headers: Mapping[str, Any] | None) -> None:
    """RFC 7516 §7.2.1: no name in more than one of the headers (security matrix A8)."""
    seen: set[str] = set()
    for header in headers:
        if header is None:
            continue
        for name in header:
            if name in seen:
                raise MalformedToken(
                    f"JWE JSON: header parameter {short(name)} appears in more than one header "
                    "(RFC 7516 §7.2.1)"
                )
            seen.add(name)


def _check_unprotected(header: Mapping[str, Any] | None, what: str) -> None:
    """``crit`` and ``zip`` must be integrity protected (RFC 7516 §4.1.13, §4.1.3; A9, C6)."""
    if header is None:
        return
    for name in ("crit", "zip"):
        if name in header:
            raise MalformedToken(
                f"JWE JSON: {name!r} is allowed only in the protected header, not in {what}"
            )


def decrypt_json(
    data: Mapping[str, Any] | str | bytes,
    key: KeyArgument,
    *,
    algorithms: Iterable[str],
    encryptions: Iterable[str],
    crit: Collection[str] = (),
    registry: Registry = DEFAULT_REGISTRY,
    max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
    max_decompressed_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE,
    max_pbes2_count: int = DEFAULT_MAX_PBES2_COUNT,
    max_recipients: int = DEFAULT_MAX_RECIPIENTS,
) -> DecryptedJWE:
    """Decrypt a JWE in general or flattened JSON serialization (RFC 7516 §7.2).

    An object with ``recipients`` is the general syntax; one without is the flattened syntax
    (§7.2.2). Recipients whose ``alg``/``enc`` are not allowed or for which no trusted key fits
    are skipped; the first recipient that decrypts wins and is reported. The arguments are
    those of :func:`decrypt`.

    ``data`` is the parsed object or its JSON text (``str`` or bytes-like), read as
    :func:`jwtkit.jws.verify_json` reads a JWS. A message with more than ``max_recipients``
    recipients (default :data:`DEFAULT_MAX_RECIPIENTS`, the bound on the signatures of a JWS)
    is refused with :class:`~jwtkit.errors.TokenTooLarge` before any key is tried.

    .. warning:: The sender chooses how many recipients your keys are tried against; the work
       is bounded by ``max_recipients``, by ``max_token_size`` and, for PBES2, by trying one
       PBES2 recipient at most (a message with more is refused), so that ``max_pbes2_count``
       bounds the work per key.
    """
    return _decrypter_for(
        key,
        algorithms,
        encryptions,
        crit,
        registry,
        max_token_size,
        max_decompressed_size,
        max_pbes2_count,
        max_recipients,
    ).decrypt_json(data)


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
    protected: dict[str, Any] = {}
    if protected_segment is not None:
        protected = json_loads_object(b64url_decode(protected_segment, "protected"), "protected")
    _check_unprotected(unprotected, "'unprotected'")
    joints: list[dict[str, Any]] = []
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
) -> list[tuple[dict[str, Any] | None, bytes]]:
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
    out: list[tuple[dict[str, Any] | None, bytes]] = []
    for index, entry in enumerate(listed):
        what = f"JWE JSON recipient {index}"
        if type(entry) is not dict:
            raise MalformedToken(f"{what}: must be a JSON object")
        header = _optional_object(entry, "header", what)
        encrypted = _string_member(entry, "encrypted_key", what)
        out.append((header, b64url_decode(encrypted or "", "encrypted_key")))
    return out


# -- encryption -------------------------------------------------------------------------------


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
) -> dict[str, Any]:
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


def _wrap_into(
    wrapped: WrapResult, header: dict[str, Any], expected: Mapping[str, Any] | None
) -> None:
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
    header: dict[str, Any],
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
    header: dict[str, Any] = {"alg": alg.name, "enc": enc.name}
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
    prepared: list[tuple[Key, KeyManagementAlgorithm, dict[str, Any]]] = []
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
    entries: list[tuple[dict[str, Any], bytes]] = []
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
