"""JWE decryption (RFC 7516 §5.2): :func:`decrypt` (compact), :func:`decrypt_json` (general and
flattened JSON) and :class:`Decrypter`, which prepares the keys and caches headers.

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
and JSON entry points are separate (A7). The steps of one recipient are in
:mod:`jwtkit._jwe_recipient`, the JSON syntaxes in :mod:`jwtkit._jwe_json`.

:class:`Decrypter` does the argument checks and the per-key work once, and remembers protected
headers that decrypted (by their base64url segment), so that a repeated header skips steps 2-5;
every result and every error stays the one the full path gives. :func:`decrypt` and
:func:`decrypt_json` share Decrypters between calls with the same arguments.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._codec import (
    DEFAULT_MAX_TOKEN_SIZE,
    b64url_decode_fast,
    check_compact,
    json_loads_object,
)
from ._jwa_content import ContentEncryptionAlgorithm
from ._jwa_keymgmt import (
    ECDHES,
    KeyManagementAlgorithm,
    KeyParameters,
    UnwrapFunction,
    _b64_parameter,
)
from ._jwe_common import (
    _ZIP_DEFLATE,
    DEFAULT_MAX_DECOMPRESSED_SIZE,
    DEFAULT_MAX_PBES2_COUNT,
    DEFAULT_MAX_RECIPIENTS,
    DecryptedJWE,
    _inflate,
)
from ._jwe_json import _decrypt_json
from ._jwe_recipient import (
    _allow_list,
    _check_encrypted_key,
    _check_jwe_header,
    _check_limits,
    _Content,
    _finish,
    _lean_epk,
    _open_recipient,
    _Opened,
    _segment,
    _select,
)
from ._keysource import KeyArgument, KeySource
from ._memo import UNSHARED, SharedMemo, held, key_part, value_part
from ._types import Header
from .errors import (
    DecryptionError,
    MalformedToken,
    UsageError,
)
from .jwa import (
    DEFAULT_REGISTRY,
    Registry,
)
from .jwk import Key, KeySet

__all__ = [
    "Decrypter",
    "decrypt",
    "decrypt_json",
]

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

    header: Header
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
    work (each key's ``unwrapper``: an ``AESGCM`` object for a ``dir`` key, OAEP padding
    objects; the keys that fit a ``kid`` and an algorithm) is done once too. Protected
    headers that decrypted are cached by their base64url segment (``header_cache_size`` of
    them, oldest dropped first; 0 disables), so a repeated header is not parsed or checked
    again. Headers that carry per-message
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
        header: Header,
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
        header: Header,
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
        header: Header,
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
