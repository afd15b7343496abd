"""The service's signing keys: encrypted at rest, published before they sign, kept published
until every token they signed has expired.

Each key is a :class:`~jwtkit.server.models.SigningKeyRecord` in the Store: the public JWK in
clear, the private key (PKCS#8 PEM) sealed with AES-256-GCM under the key-encryption key (KEK)
from the configuration, a random 96-bit nonce and the ``kid`` as associated data (so a sealed
key cannot be moved to another record). The blob is ``0x01 || nonce || ciphertext+tag``. The
``kid`` is the key's RFC 7638 thumbprint.

The ring keeps keys of several algorithms (:attr:`KeyRing.algorithms`): ``signing_algorithm``,
which signs access tokens, each of ``id_token_algorithms`` (OpenID Connect Discovery 1.0 §3
requires RS256 for ID tokens; a client may register another, OpenID Connect Dynamic Client
Registration 1.0 §2), and each of ``published_algorithms``, whose keys are published and sign
nothing (an ML-DSA key published ahead of the switch of ``signing_algorithm``, or the previous
algorithm's key while its access tokens live). Each algorithm has its own life cycle, and the
keys of one algorithm never affect those of another.

Life of a key (the rollover of RFC 7517 §5 / RFC 8414 §2 ``jwks_uri``, as OpenID Connect Core
§10.1.1 describes it):

``pending``
    in the JWKS, not signing yet; ``activated_at`` is when it will start signing, so resource
    servers that cache the JWKS have time to fetch it first.
``active``
    signs new tokens of its algorithm. Exactly one key of each algorithm is active at any time.
``retired``
    never signs again; stays in the JWKS until ``publish_until`` = the moment it stopped
    signing + ``access_token_ttl`` + a publication margin (workers that have not yet reloaded
    the keys, and verifiers' leeway), whatever its algorithm: no token the service signs may
    outlive ``access_token_ttl``.

A configured algorithm that has no active key when the service loads the ring (a new
database, or an existing one gaining an algorithm, such as RS256 on the upgrade that brought ID
tokens) gets a key that is active at once, without the publication delay of a rotation. That is
safe: nothing was ever signed with a key a verifier lacks, and a verifier that meets an unknown
``kid`` fetches the JWKS again (OpenID Connect Core §10.1.1), where the new key already is.

Keys of an algorithm the settings no longer name (``signing_algorithm`` changed, an algorithm
removed from ``id_token_algorithms``) stay as they are: published, never signing here. Such an
active key is retired with :meth:`KeyRing.retire`, and stays published until the tokens it
signed have expired.

Transitions are computed from the stored records and the clock alone, so they are
deterministic: several workers applying them write the same values. ``signing_key()`` already
follows the clock between two :meth:`KeyRing.refresh` calls.

A ring made with ``on_change`` calls it with the ``kid`` of every key it creates, activates or
retires, once the change is stored: with Redis, that tells the other instances of the service
to reload their keys at once (:meth:`.broadcast.Broadcast.keys_changed`) rather than at their
next periodic :meth:`KeyRing.refresh`.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import stat
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import anyio
import anyio.to_thread
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .._messages import short
from ..errors import JWTError
from ..jwk import Key, KeySet
from .config import ConfigError, Settings, decode_key_encryption_key
from .models import SigningKeyRecord
from .storage.base import Access, Store

__all__ = ["DEFAULT_PUBLISH_MARGIN", "KeyRing", "KeyRingError", "resolve_key_encryption_key"]

logger = logging.getLogger("jwtkit.server.keyring")

#: Seconds a retired key stays published beyond ``access_token_ttl``: a worker signs with the
#: old key until its next :meth:`KeyRing.refresh`, and verifiers allow some leeway.
DEFAULT_PUBLISH_MARGIN = 60.0

_BLOB_VERSION = b"\x01"
_NONCE_SIZE = 12
_TAG_SIZE = 16


class KeyRingError(ValueError):
    """A key operation was refused (unknown kid, retiring the active key of an algorithm, an
    algorithm the ring does not keep, ...)."""


# -- the key-encryption key ------------------------------------------------------------------


def _read_key_file(path: str) -> bytes:
    with open(path, encoding="ascii") as handle:
        text = handle.read()
    try:
        return decode_key_encryption_key(text)
    except ValueError as exc:
        raise ConfigError(f"key file {path}: {exc}") from None


def _create_key_file(path: str) -> bytes:
    """Write 32 random bytes (base64url) to ``path`` with mode 0600, atomically.

    The key is written to a private temporary file (``O_EXCL``, 0600) that is then hard-linked
    into place, so a concurrent worker either wins or reads the complete winner's file.
    """
    raw = secrets.token_bytes(32)
    text = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") + "\n"
    temporary = f"{path}.{secrets.token_hex(8)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(temporary, flags, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _read_key_file(path)
    finally:
        os.unlink(temporary)
    return raw


def resolve_key_encryption_key(settings: Settings, *, create: bool = True) -> bytes:
    """The 32-byte KEK: ``settings.key_encryption_key``, or in development the key file.

    In development without a configured KEK, ``settings.key_file`` is read, or created with
    32 random bytes and mode 0600 (unless ``create`` is false: then a missing file is a
    :class:`~jwtkit.server.config.ConfigError` naming its absolute path), and a loud warning
    is logged. In production a missing KEK is a :class:`~jwtkit.server.config.ConfigError`.
    """
    return _resolve(settings, create)[0]


def _resolve(settings: Settings, create: bool) -> tuple[bytes, str | None]:
    """The KEK and, when it came from the development key file, that file's absolute path."""
    if settings.key_encryption_key is not None:
        return decode_key_encryption_key(settings.key_encryption_key), None
    if settings.environment != "development":
        raise ConfigError(
            "key_encryption_key (JWTKIT_KEY_ENCRYPTION_KEY): required in production; the "
            "development key file is not used there"
        )
    path = settings.key_file
    try:
        kek = _read_key_file(path)
        action = "using"
    except FileNotFoundError:
        if not create:
            raise ConfigError(
                f"key file {os.path.abspath(path)} does not exist: point key_file "
                "(JWTKIT_KEY_FILE, or --config) at the service's key file, or start the "
                "service once with `jwtkit serve` to create it"
            ) from None
        try:
            kek = _create_key_file(path)
        except OSError as exc:
            raise ConfigError(f"key file {path}: cannot create it ({exc.strerror})") from None
        action = "created"
    except OSError as exc:
        raise ConfigError(f"key file {path}: cannot read it ({exc.strerror})") from None
    logger.warning(
        "DEVELOPMENT ONLY: %s the key-encryption key file %s. Whoever can read this file can "
        "decrypt the signing keys and forge tokens. In production set "
        "JWTKIT_KEY_ENCRYPTION_KEY (and JWTKIT_ENVIRONMENT=production) instead.",
        action,
        path,
    )
    if os.name == "posix" and os.stat(path).st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning("key file %s is accessible to other users: run chmod 600 %s", path, path)
    return kek, os.path.abspath(path)


# -- sealing ---------------------------------------------------------------------------------


def _seal(kek: bytes, kid: str, private_pem: bytes) -> bytes:
    nonce = secrets.token_bytes(_NONCE_SIZE)
    return _BLOB_VERSION + nonce + AESGCM(kek).encrypt(nonce, private_pem, kid.encode("utf-8"))


def _unseal(kek: bytes, record: SigningKeyRecord, key_file: str | None = None) -> Key:
    """The private key of ``record``; ``key_file`` names where ``kek`` came from, if a file."""
    blob = bytes(record.encrypted_private)
    message = f"cannot decrypt signing key {record.kid}: wrong key_encryption_key?"
    if key_file is not None:
        message = (
            f"cannot decrypt signing key {record.kid} with the key file {key_file}: it is not "
            "the key file the signing keys were encrypted with (point key_file, "
            "JWTKIT_KEY_FILE or --config at the service's key file)"
        )
    if len(blob) < 1 + _NONCE_SIZE + _TAG_SIZE or blob[:1] != _BLOB_VERSION:
        raise ConfigError(message)
    nonce, sealed = blob[1 : 1 + _NONCE_SIZE], blob[1 + _NONCE_SIZE :]
    try:
        pem = AESGCM(kek).decrypt(nonce, sealed, record.kid.encode("utf-8"))
    except InvalidTag:
        raise ConfigError(message) from None
    try:
        key = Key.from_pem(pem, kid=record.kid, alg=record.algorithm, use="sig")
    except JWTError:
        raise ConfigError(f"signing key {record.kid}: the decrypted key is unusable") from None
    if key.public_key() != _public_key(record):
        raise ConfigError(f"signing key {record.kid}: the private key does not match its JWK")
    return key


def _public_key(record: SigningKeyRecord) -> Key:
    try:
        key = Key.from_jwk(record.public_jwk)
    except JWTError:
        raise ConfigError(f"signing key {record.kid}: the stored public JWK is invalid") from None
    if key.is_private or key.kid != record.kid or key.alg != record.algorithm:
        raise ConfigError(f"signing key {record.kid}: the stored public JWK does not match")
    return key


def _new_record(
    kek: bytes, algorithm: str, now: float, activate_at: float
) -> tuple[SigningKeyRecord, Key]:
    """A new pending key's record and its private key (``kid`` and ``alg`` set)."""
    generated = Key.generate(algorithm, use="sig")
    kid = generated.thumbprint()
    private = Key.from_pem(generated.to_pem(private=True), kid=kid, alg=algorithm, use="sig")
    public_jwk = json.dumps(private.public_key().to_jwk(), separators=(",", ":"), sort_keys=True)
    record = SigningKeyRecord(
        kid=kid,
        algorithm=algorithm,
        public_jwk=public_jwk,
        encrypted_private=_seal(kek, kid, private.to_pem(private=True)),
        status="pending",
        created_at=now,
        activated_at=activate_at,
    )
    return record, private


# -- the state machine -----------------------------------------------------------------------


def _activation(record: SigningKeyRecord) -> float | None:
    if record.status == "active":
        return record.activated_at if record.activated_at is not None else record.created_at
    if record.status == "pending":
        return record.activated_at
    return None


def _settle(
    records: list[SigningKeyRecord], now: float, retention: float
) -> tuple[list[SigningKeyRecord], list[SigningKeyRecord]]:
    """The records as they are at ``now`` and the ones that changed.

    For each algorithm on its own: of its active and pending keys whose activation time has
    come, the latest signs; each earlier one stopped signing when the next one started and is
    retired, published for ``retention`` seconds more.
    """
    changed: dict[str, SigningKeyRecord] = {}
    for algorithm in dict.fromkeys(record.algorithm for record in records):
        same = [record for record in records if record.algorithm == algorithm]
        _settle_algorithm(same, now, retention, changed)
    settled = [changed.get(record.kid, record) for record in records]
    return settled, list(changed.values())


def _settle_algorithm(
    records: list[SigningKeyRecord],
    now: float,
    retention: float,
    changed: dict[str, SigningKeyRecord],
) -> None:
    """:func:`_settle` for the records of one algorithm; the changed ones go to ``changed``."""
    due = []
    for position, record in enumerate(records):  # the Store lists the oldest first
        activation = _activation(record)
        if activation is not None and activation <= now:
            due.append((activation, record.created_at, position, record))
    due.sort(key=lambda item: item[:3])
    for index, (activation, _, _, record) in enumerate(due):
        kid = record.kid
        if index == len(due) - 1:
            if record.status != "active" or record.activated_at is None:
                changed[kid] = replace(record, status="active", activated_at=activation)
        else:
            stopped = due[index + 1][0]
            changed[kid] = replace(
                record,
                status="retired",
                activated_at=activation,
                retired_at=stopped,
                publish_until=stopped + retention,
            )


def _published(record: SigningKeyRecord, now: float) -> bool:
    if record.status in {"pending", "active"}:
        return True
    return record.publish_until is not None and record.publish_until > now


class KeyRing:
    """The signing keys of one service process, backed by the Store: an active key for each
    algorithm of :attr:`algorithms`.

    Build it with :meth:`load`. Call :meth:`refresh` periodically (at least every
    ``publish_margin`` seconds) so that rotations made by other processes (``jwtkit keys
    rotate``) reach this one.
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Callable[[], float],
        kek: bytes,
        *,
        publish_margin: float = DEFAULT_PUBLISH_MARGIN,
        key_file: str | None = None,
        read_only: bool = False,
        on_change: Callable[[str], Awaitable[object]] | None = None,
    ) -> None:
        self._store = store
        self._on_change = on_change
        self._settings = settings
        self._clock = clock
        self._kek = kek
        self._key_file = key_file
        self._read_only = read_only
        self._retention = settings.access_token_ttl + publish_margin
        self._algorithms = tuple(
            dict.fromkeys(
                (
                    settings.signing_algorithm,
                    *settings.id_token_algorithms,
                    *settings.published_algorithms,
                )
            )
        )
        self._records: list[SigningKeyRecord] = []
        self._private: dict[str, Key] = {}
        self._public: dict[str, Key] = {}
        self._keyset: tuple[tuple[str, ...], KeySet] | None = None
        self._lock = anyio.Lock()

    @classmethod
    async def load(
        cls,
        store: Store,
        settings: Settings,
        clock: Callable[[], float] = time.time,
        *,
        publish_margin: float = DEFAULT_PUBLISH_MARGIN,
        access: Access = "create",
        on_change: Callable[[str], Awaitable[object]] | None = None,
    ) -> KeyRing:
        """Resolve the KEK, read the keys, and give each algorithm of :attr:`algorithms` that
        has no active key one, active at once (the module's docstring says why that is safe).

        Every key that signs or will sign is decrypted now, so a wrong KEK is reported at
        start-up as a :class:`~jwtkit.server.config.ConfigError`, not at the first login.
        ``access`` (:data:`~jwtkit.server.storage.base.Access`): only ``"create"`` (the
        service) creates the development key file and the missing keys, so that an admin
        command run with other settings adds no key the service does not use; ``"read"`` also
        writes nothing to the store (no transition persisted: :meth:`records` still shows them
        as of now). ``on_change`` is told of every key created, activated or retired (the
        module's docstring), the keys created here included.
        """
        kek, key_file = _resolve(settings, create=access == "create")
        ring = cls(
            store,
            settings,
            clock,
            kek,
            publish_margin=publish_margin,
            key_file=key_file,
            read_only=access == "read",
            on_change=on_change,
        )
        created = []
        async with ring._lock:
            await ring._reload()
            missing = [name for name in ring._algorithms if ring._current(name) is None]
            if missing and access == "create":
                now = clock()
                for algorithm in missing:
                    record = await ring._generate(algorithm, now, now)
                    await store.add_signing_key(record)
                    created.append(record.kid)
                    logger.info(
                        "created the signing key %s (%s), active at once: there was no "
                        "active %s key",
                        record.kid,
                        algorithm,
                        algorithm,
                    )
                await ring._reload()
        for kid in created:
            await ring._changed(kid)
        for record in ring._records:
            if record.status in {"pending", "active"}:
                ring._private_key(record)
        for record in ring._view():
            if record.status == "active" and record.algorithm not in ring._algorithms:
                logger.warning(
                    "the signing key %s is active but its algorithm %s is not named by "
                    "signing_algorithm, id_token_algorithms or published_algorithms: it signs "
                    "nothing and "
                    "stays published; `jwtkit keys retire %s` retires it (published until the "
                    "tokens it signed have expired)",
                    record.kid,
                    record.algorithm,
                    record.kid,
                )
        return ring

    # -- reading -----------------------------------------------------------------------------

    @property
    def algorithms(self) -> tuple[str, ...]:
        """The algorithms the ring keeps an active key for: ``signing_algorithm`` (access
        tokens) first, then ``id_token_algorithms`` and ``published_algorithms`` in their
        order, each once."""
        return self._algorithms

    def _kept(self, algorithm: str | None) -> str:
        """``algorithm``, by default ``signing_algorithm``; refused unless the ring keeps it."""
        if algorithm is None:
            return self._settings.signing_algorithm
        if algorithm not in self._algorithms:
            raise KeyRingError(
                f"no signing keys of the algorithm {short(algorithm)} are kept: the key ring "
                f"keeps {', '.join(self._algorithms)} (the algorithm settings)"
            )
        return algorithm

    def _view(self) -> list[SigningKeyRecord]:
        return _settle(self._records, self._clock(), self._retention)[0]

    def _current(self, algorithm: str) -> SigningKeyRecord | None:
        return next(
            (
                record
                for record in self._view()
                if record.status == "active" and record.algorithm == algorithm
            ),
            None,
        )

    def _private_key(self, record: SigningKeyRecord) -> Key:
        key = self._private.get(record.kid)
        if key is None:
            key = _unseal(self._kek, record, self._key_file)
            self._private[record.kid] = key
        return key

    def signing_key(self, algorithm: str | None = None) -> Key:
        """The private key that signs tokens of ``algorithm`` now (``kid`` and ``alg`` set),
        decrypted once. ``algorithm`` defaults to ``settings.signing_algorithm``, the access
        tokens'; :class:`KeyRingError` for one the ring does not keep (:attr:`algorithms`), or
        when it has no active key (a ring loaded read-only from a store that lacks one)."""
        chosen = self._kept(algorithm)
        record = self._current(chosen)
        if record is None:
            raise KeyRingError(f"there is no active {chosen} signing key")
        return self._private_key(record)

    def verification_keys(self) -> KeySet:
        """The public keys to publish, of every algorithm: pending, active, and retired ones
        still within ``publish_until``. The same object is returned while the set is unchanged.

        A verifier of one kind of token allows only that kind's algorithms: the access tokens'
        verifier allows ``signing_algorithm`` and ``published_algorithms`` alone, so that no
        ID-token key verifies one.
        """
        now = self._clock()
        records = [record for record in self._view() if _published(record, now)]
        kids = tuple(record.kid for record in records)
        if self._keyset is None or self._keyset[0] != kids:
            keys = []
            for record in records:
                key = self._public.get(record.kid)
                if key is None:
                    key = self._public[record.kid] = _public_key(record)
                keys.append(key)
            self._keyset = (kids, KeySet(keys))
        return self._keyset[1]

    def jwks(self) -> dict[str, Any]:
        """The JWK Set document for ``/.well-known/jwks.json``: every published key of every
        algorithm, each with ``use: sig`` and ``alg`` (RFC 7517 §5)."""
        return self.verification_keys().to_jwks()

    def records(self) -> list[SigningKeyRecord]:
        """Every known key record as it stands now (oldest first); no key material in clear."""
        return self._view()

    # -- changing ----------------------------------------------------------------------------

    async def _generate(self, algorithm: str, now: float, activate_at: float) -> SigningKeyRecord:
        # RSA key generation takes tens of milliseconds: keep it off the event loop. The new
        # private key is kept, so that it is not decrypted again (loading an RSA key checks
        # it, which takes tens of milliseconds too).
        record, private = await anyio.to_thread.run_sync(
            _new_record, self._kek, algorithm, now, activate_at
        )
        self._private[record.kid] = private
        return record

    async def _reload(self) -> None:
        """Read the records, persist the transitions due by now, drop unpublished keys."""
        records = await self._store.signing_keys()
        now = self._clock()
        settled, changed = _settle(records, now, self._retention)
        if not self._read_only:  # a read-only ring shows the transitions, persists none
            for record in changed:
                await self._store.update_signing_key(record)
        self._records = settled
        published = {record.kid for record in settled if _published(record, now)}
        self._private = {kid: key for kid, key in self._private.items() if kid in published}
        self._public = {kid: key for kid, key in self._public.items() if kid in published}

    async def _changed(self, kid: str) -> None:
        """Tell ``on_change`` that the key ``kid`` changed (called outside the lock)."""
        if self._on_change is not None:
            await self._on_change(kid)

    def _find(self, kid: str) -> SigningKeyRecord:
        for record in self._records:
            if record.kid == kid:
                return record
        raise KeyRingError(f"no signing key with kid {kid!r}")

    async def refresh(self) -> None:
        """Reload the keys from the Store (rotations by other processes), apply the
        activations and retirements that are due, and stop publishing expired keys."""
        async with self._lock:
            await self._reload()

    async def rotate(
        self, *, activate_after: float = 0, algorithm: str | None = None
    ) -> SigningKeyRecord:
        """Create a new key of ``algorithm``, published at once and signing ``activate_after``
        seconds later; the keys of the other algorithms are left alone.

        Give resource servers time to fetch the JWKS (``activate_after`` >= their cache
        lifetime); 0 switches at once (after a compromise). When the new key starts signing,
        the previous key of its algorithm is retired and stays published until the tokens it
        signed expire. ``algorithm`` defaults to ``settings.signing_algorithm``; one the ring
        does not keep (:attr:`algorithms`) is a :class:`KeyRingError`.
        """
        if not activate_after >= 0:
            raise KeyRingError("activate_after must be a number of seconds >= 0")
        chosen = self._kept(algorithm)
        async with self._lock:
            now = self._clock()
            record = await self._generate(chosen, now, now + activate_after)
            await self._store.add_signing_key(record)
            await self._reload()
            rotated = self._find(record.kid)
        await self._changed(rotated.kid)
        return rotated

    async def activate_pending(
        self, min_publish_seconds: float = 0, *, algorithm: str | None = None
    ) -> SigningKeyRecord | None:
        """Make the newest pending key of ``algorithm`` (default ``signing_algorithm``) that
        has been published for at least ``min_publish_seconds`` sign now; ``None`` when there
        is no such key."""
        chosen = self._kept(algorithm)
        async with self._lock:
            await self._reload()
            now = self._clock()
            ready = [
                record
                for record in self._records
                if record.status == "pending"
                and record.algorithm == chosen
                and record.created_at + min_publish_seconds <= now
            ]
            if not ready:
                return None
            newest = ready[-1]  # the Store lists the oldest first
            await self._store.update_signing_key(replace(newest, activated_at=now))
            await self._reload()
            activated = self._find(newest.kid)
        await self._changed(activated.kid)
        return activated

    async def retire(self, kid: str) -> SigningKeyRecord:
        """Stop publishing a key now: tokens it signed no longer verify.

        A pending key is withdrawn; a retired key leaves the JWKS before ``publish_until``
        (after a compromise). The active key of an algorithm the ring keeps cannot be retired:
        :meth:`rotate` that algorithm first. The active key of an algorithm the ring no longer
        keeps (the settings changed) stops signing now and, as after a rotation, stays
        published until the tokens it signed have expired; retiring it again unpublishes it.
        """
        async with self._lock:
            await self._reload()
            record = self._find(kid)
            now = self._clock()
            publish_until = now
            if record.status == "active":
                if record.algorithm in self._algorithms:
                    raise KeyRingError(
                        f"signing key {kid} is the active key of its algorithm "
                        f"{record.algorithm} and cannot be retired; rotate first (`jwtkit keys "
                        f"rotate --algorithm {record.algorithm}`), then retire it"
                    )
                publish_until = now + self._retention
            elif record.status == "retired" and not _published(record, now):
                return record
            retired = replace(
                record,
                status="retired",
                retired_at=record.retired_at if record.retired_at is not None else now,
                publish_until=publish_until,
            )
            await self._store.update_signing_key(retired)
            await self._reload()
            result = self._find(kid)
        await self._changed(kid)
        return result
