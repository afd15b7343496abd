"""Signing keys: encryption at rest, the development key file, rotation and retirement."""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import os
import secrets
import stat
from pathlib import Path
from typing import Any, cast

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import jwtkit
from jwtkit.server import keyring as keyring_module
from jwtkit.server.config import ConfigError, Settings
from jwtkit.server.keyring import (
    DEFAULT_PUBLISH_MARGIN,
    KeyRing,
    KeyRingError,
    resolve_key_encryption_key,
)
from jwtkit.server.models import SigningKeyRecord
from jwtkit.server.storage.base import Store
from jwtkit.testing import FrozenClock

KEK = secrets.token_urlsafe(32)
T0 = 1_700_000_000.0
TTL = 900
RETENTION = TTL + DEFAULT_PUBLISH_MARGIN


class FakeStore:
    """Just the signing-key part of the Store, in memory."""

    def __init__(self) -> None:
        self.keys: dict[str, SigningKeyRecord] = {}
        self.updates = 0

    async def add_signing_key(self, record: SigningKeyRecord) -> None:
        assert record.kid not in self.keys
        self.keys[record.kid] = record

    async def signing_keys(self) -> list[SigningKeyRecord]:
        return sorted(self.keys.values(), key=lambda record: record.created_at)

    async def update_signing_key(self, record: SigningKeyRecord) -> None:
        assert record.kid in self.keys
        self.updates += 1
        self.keys[record.kid] = record


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


def _settings(**changes: object) -> Settings:
    return dataclasses.replace(Settings(key_encryption_key=KEK), **changes)  # type: ignore[arg-type]


async def _load(store: FakeStore, clock: FrozenClock, settings: Settings | None = None) -> KeyRing:
    return await KeyRing.load(cast(Store, store), settings or _settings(), clock)


def _token(ring: KeyRing, clock: FrozenClock) -> str:
    key = ring.signing_key()
    assert key.alg is not None
    return jwtkit.encode(
        {"sub": "42", "iat": int(clock()), "exp": int(clock()) + TTL},
        key,
        algorithm=key.alg,
        typ="at+jwt",
    )


def _verifies(ring: KeyRing, token: str, clock: FrozenClock) -> bool:
    keys = ring.verification_keys()
    algorithms = sorted({key.alg for key in keys if key.alg})
    try:
        jwtkit.Verifier(keys, algorithms=algorithms, typ="at+jwt", clock=clock).decode(token)
    except jwtkit.JWTError:
        return False
    return True


def _kids(ring: KeyRing, algorithm: str = "ES256") -> list[str]:
    """The published kids of ``algorithm`` (by default the access tokens'), in order."""
    return [key["kid"] for key in ring.jwks()["keys"] if key["alg"] == algorithm]


async def _stored(store: FakeStore, algorithm: str = "ES256") -> SigningKeyRecord:
    """The one stored key of ``algorithm``."""
    [record] = [r for r in await store.signing_keys() if r.algorithm == algorithm]
    return record


# -- the key-encryption key ------------------------------------------------------------------


@pytest.mark.anyio
async def test_development_key_file_is_created_0600_with_a_loud_warning(
    store: FakeStore,
    clock: FrozenClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "keys.secret"
    settings = Settings(key_file=str(path))
    with caplog.at_level(logging.WARNING, logger="jwtkit.server.keyring"):
        ring = await _load(store, clock, settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="ascii").strip()
    assert len(base64.urlsafe_b64decode(text + "=")) == 32
    assert "DEVELOPMENT ONLY: created the key-encryption key file" in caplog.text
    assert "JWTKIT_KEY_ENCRYPTION_KEY" in caplog.text
    assert text not in caplog.text
    assert [p.name for p in tmp_path.iterdir()] == ["keys.secret"]  # no temporary left

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="jwtkit.server.keyring"):
        again = await _load(store, clock, settings)
    assert "DEVELOPMENT ONLY: using the key-encryption key file" in caplog.text
    assert again.signing_key() == ring.signing_key()


def test_configured_key_encryption_key_needs_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_key_encryption_key(_settings()) == base64.urlsafe_b64decode(KEK + "=")
    assert list(tmp_path.iterdir()) == []


def test_group_readable_key_file_gets_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "keys.secret"
    path.write_text(KEK + "\n", encoding="ascii")
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="jwtkit.server.keyring"):
        kek = resolve_key_encryption_key(Settings(key_file=str(path)))
    assert kek == base64.urlsafe_b64decode(KEK + "=")
    assert f"run chmod 600 {path}" in caplog.text


def test_malformed_key_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.secret"
    path.write_text("not a key", encoding="ascii")
    with pytest.raises(ConfigError, match=f"key file {path}: must be the base64url encoding"):
        resolve_key_encryption_key(Settings(key_file=str(path)))


def test_unreadable_key_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"key file {tmp_path}: cannot read it"):
        resolve_key_encryption_key(Settings(key_file=str(tmp_path)))


def test_key_file_that_cannot_be_created(tmp_path: Path) -> None:
    path = tmp_path / "missing-dir" / "keys.secret"
    with pytest.raises(ConfigError, match=f"key file {path}: cannot create it"):
        resolve_key_encryption_key(Settings(key_file=str(path)))


def test_concurrent_key_file_creation_reads_the_winner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "keys.secret"
    real_link = os.link

    def lose_the_race(source: str, target: str) -> None:
        path.write_text(KEK + "\n", encoding="ascii")  # another worker got there first
        with pytest.raises(FileExistsError):
            real_link(source, target)
        raise FileExistsError(target)

    monkeypatch.setattr(os, "link", lose_the_race)
    kek = resolve_key_encryption_key(Settings(key_file=str(path)))
    assert kek == base64.urlsafe_b64decode(KEK + "=")
    assert [p.name for p in tmp_path.iterdir()] == ["keys.secret"]


def test_production_without_key_encryption_key_is_refused() -> None:
    settings = Settings(
        environment="production", issuer="https://id.example", key_encryption_key=KEK
    )
    object.__setattr__(settings, "key_encryption_key", None)  # bypass validation on purpose
    with pytest.raises(ConfigError, match="required in production"):
        resolve_key_encryption_key(settings)


# -- the first key and encryption at rest ----------------------------------------------------


@pytest.mark.anyio
async def test_first_start_creates_and_activates_a_key_per_algorithm(
    store: FakeStore, clock: FrozenClock
) -> None:
    ring = await _load(store, clock)
    assert ring.algorithms == ("ES256", "RS256")  # signing_algorithm, then id_token_algorithms
    records = await store.signing_keys()
    assert [record.algorithm for record in records] == ["ES256", "RS256"]
    assert ring.records() == records
    for record in records:
        assert record.status == "active"
        assert (record.created_at, record.activated_at) == (T0, T0)
        key = ring.signing_key(record.algorithm)
        assert key.is_private
        assert (key.kid, key.alg, key.use) == (record.kid, record.algorithm, "sig")
        assert record.kid == key.thumbprint()  # RFC 7638
    assert ring.signing_key() == ring.signing_key("ES256")  # the access tokens' by default
    public = [ring.signing_key(name).public_key().to_jwk() for name in ring.algorithms]
    assert ring.jwks() == {"keys": public}
    for published, algorithm in zip(ring.jwks()["keys"], ring.algorithms, strict=True):
        assert (published["use"], published["alg"]) == ("sig", algorithm)
        assert published["kid"] == ring.signing_key(algorithm).kid
        assert "d" not in published


@pytest.mark.anyio
async def test_loading_again_keeps_the_key(store: FakeStore, clock: FrozenClock) -> None:
    first = await _load(store, clock)
    second = await _load(store, clock)
    assert len(store.keys) == 2
    for algorithm in ("ES256", "RS256"):
        assert second.signing_key(algorithm) == first.signing_key(algorithm)


@pytest.mark.anyio
async def test_private_key_is_encrypted_at_rest(store: FakeStore, clock: FrozenClock) -> None:
    ring = await _load(store, clock)
    record = await _stored(store)
    private_jwk = ring.signing_key().to_jwk(private=True)
    pem = ring.signing_key().to_pem(private=True)
    stored = repr(record).encode() + record.encrypted_private + record.public_jwk.encode()
    assert b"PRIVATE KEY" not in stored
    assert pem not in stored
    assert private_jwk["d"].encode() not in stored
    assert base64.urlsafe_b64decode(private_jwk["d"] + "==") not in record.encrypted_private
    assert "d" not in json.loads(record.public_jwk)
    # AES-256-GCM under the KEK with the kid as associated data
    kek = base64.urlsafe_b64decode(KEK + "=")
    blob = record.encrypted_private
    assert blob[:1] == b"\x01"
    assert (
        AESGCM(kek)
        .decrypt(blob[1:13], blob[13:], record.kid.encode())
        .startswith(b"-----BEGIN PRIVATE KEY-----")
    )
    with pytest.raises(InvalidTag):
        AESGCM(kek).decrypt(blob[1:13], blob[13:], b"another kid")


@pytest.mark.anyio
async def test_wrong_key_encryption_key_is_a_clear_error(
    store: FakeStore, clock: FrozenClock
) -> None:
    await _load(store, clock)
    record = await _stored(store)
    with pytest.raises(ConfigError) as caught:
        await _load(store, clock, _settings(key_encryption_key=secrets.token_urlsafe(32)))
    assert str(caught.value) == (
        f"cannot decrypt signing key {record.kid}: wrong key_encryption_key?"
    )
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


@pytest.mark.anyio
@pytest.mark.parametrize("blob", [b"", b"\x02" + bytes(40), b"\x01" + bytes(20)])
async def test_malformed_encrypted_blob_is_a_clear_error(
    store: FakeStore, clock: FrozenClock, blob: bytes
) -> None:
    await _load(store, clock)
    record = await _stored(store)
    store.keys[record.kid] = dataclasses.replace(record, encrypted_private=blob)
    with pytest.raises(ConfigError, match="wrong key_encryption_key"):
        await _load(store, clock)


@pytest.mark.anyio
async def test_a_sealed_key_cannot_be_moved_to_another_record(
    store: FakeStore, clock: FrozenClock
) -> None:
    ring = await _load(store, clock)
    first = ring.records()[0]
    second = await ring.rotate(activate_after=3600)
    store.keys[second.kid] = dataclasses.replace(second, encrypted_private=first.encrypted_private)
    with pytest.raises(ConfigError, match=f"cannot decrypt signing key {second.kid}"):
        await _load(store, clock)


@pytest.mark.anyio
async def test_private_key_that_does_not_match_its_jwk(
    store: FakeStore, clock: FrozenClock
) -> None:
    await _load(store, clock)
    record = await _stored(store)
    other = jwtkit.Key.generate("ES256")
    kek = base64.urlsafe_b64decode(KEK + "=")
    sealed = keyring_module._seal(kek, record.kid, other.to_pem(private=True))
    store.keys[record.kid] = dataclasses.replace(record, encrypted_private=sealed)
    with pytest.raises(ConfigError, match="the private key does not match its JWK"):
        await _load(store, clock)
    store.keys[record.kid] = dataclasses.replace(
        record, encrypted_private=keyring_module._seal(kek, record.kid, b"garbage")
    )
    with pytest.raises(ConfigError, match="the decrypted key is unusable"):
        await _load(store, clock)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("public_jwk", "message"),
    [
        ("{not json", "the stored public JWK is invalid"),
        (json.dumps({"kty": "oct", "k": "AAAA"}), "the stored public JWK does not match"),
        (None, "the stored public JWK does not match"),
    ],
)
async def test_corrupted_public_jwk(
    store: FakeStore, clock: FrozenClock, public_jwk: str | None, message: str
) -> None:
    ring = await _load(store, clock)
    record = await _stored(store)
    if public_jwk is None:
        jwk = json.loads(record.public_jwk)
        jwk["kid"] = "someone-else"
        public_jwk = json.dumps(jwk)
    store.keys[record.kid] = dataclasses.replace(record, public_jwk=public_jwk)
    await ring.refresh()
    with pytest.raises(ConfigError, match=message):
        ring.verification_keys()


@pytest.mark.anyio
@pytest.mark.parametrize("algorithm", ["ES256", "RS256", "PS256", "EdDSA"])
async def test_every_signing_algorithm(
    store: FakeStore, clock: FrozenClock, algorithm: str
) -> None:
    ring = await _load(store, clock, _settings(signing_algorithm=algorithm))
    key = ring.signing_key()
    assert key.alg == algorithm
    assert _verifies(ring, _token(ring, clock), clock)
    assert ring.jwks()["keys"][0]["alg"] == algorithm


# -- several algorithms ----------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("signing_algorithm", "id_token_algorithms", "algorithms"),
    [
        ("RS256", ("RS256",), ("RS256",)),  # one key signs both kinds of token
        ("ES256", ("RS256", "ES256", "EdDSA"), ("ES256", "RS256", "EdDSA")),
        ("PS256", ("EdDSA", "RS256"), ("PS256", "EdDSA", "RS256")),
    ],
)
async def test_the_algorithms_are_signing_algorithm_then_the_id_token_ones(
    store: FakeStore,
    clock: FrozenClock,
    signing_algorithm: str,
    id_token_algorithms: tuple[str, ...],
    algorithms: tuple[str, ...],
) -> None:
    settings = _settings(
        signing_algorithm=signing_algorithm, id_token_algorithms=id_token_algorithms
    )
    ring = await _load(store, clock, settings)
    assert ring.algorithms == algorithms
    assert [record.algorithm for record in ring.records()] == list(algorithms)
    assert [key["alg"] for key in ring.jwks()["keys"]] == list(algorithms)
    assert all(ring.signing_key(name).alg == name for name in algorithms)


@pytest.mark.anyio
async def test_a_database_of_one_algorithm_gains_an_active_key_of_the_new_one(
    store: FakeStore, clock: FrozenClock
) -> None:
    # A database of a version that kept ES256 keys only: its key signs access tokens.
    kek = base64.urlsafe_b64decode(KEK + "=")
    old, _ = keyring_module._new_record(kek, "ES256", T0 - 86400, T0 - 86400)
    old = dataclasses.replace(old, status="active")
    await store.add_signing_key(old)
    clock.advance(10)
    ring = await _load(store, clock)
    assert store.keys[old.kid] == old  # untouched
    assert ring.signing_key().kid == old.kid  # access tokens: signed as before
    new = await _stored(store, "RS256")
    # active at once: nothing was signed with it, and verifiers refetch on an unknown kid
    assert (new.status, new.created_at, new.activated_at) == ("active", T0 + 10, T0 + 10)
    assert ring.signing_key("RS256").kid == new.kid
    assert [key["kid"] for key in ring.jwks()["keys"]] == [old.kid, new.kid]


@pytest.mark.anyio
async def test_rotating_one_algorithm_leaves_the_others_alone(
    store: FakeStore, clock: FrozenClock
) -> None:
    ring = await _load(store, clock)
    es256 = await _stored(store, "ES256")
    old_rs256 = await _stored(store, "RS256")
    new = await ring.rotate(activate_after=600, algorithm="RS256")
    assert (new.algorithm, new.status) == ("RS256", "pending")
    assert _kids(ring, "RS256") == [old_rs256.kid, new.kid]
    clock.advance(600)
    await ring.refresh()
    assert ring.signing_key("RS256").kid == new.kid
    retired = store.keys[old_rs256.kid]
    assert (retired.status, retired.retired_at) == ("retired", T0 + 600)
    assert retired.publish_until == T0 + 600 + RETENTION
    # the access tokens' key did not move
    assert store.keys[es256.kid] == es256
    assert ring.signing_key().kid == es256.kid
    assert _kids(ring) == [es256.kid]
    # ... nor does the ID tokens' key when the access tokens' rotates
    rotated = await ring.rotate()
    assert rotated.algorithm == "ES256"
    assert ring.signing_key().kid == rotated.kid
    assert ring.signing_key("RS256").kid == new.kid
    assert store.keys[new.kid].status == "active"
    assert len(ring.jwks()["keys"]) == 4  # two of each algorithm, all published


@pytest.mark.anyio
async def test_the_active_key_of_each_algorithm_cannot_be_retired(
    store: FakeStore, clock: FrozenClock
) -> None:
    ring = await _load(store, clock)
    kid = cast(str, ring.signing_key("RS256").kid)
    with pytest.raises(KeyRingError) as caught:
        await ring.retire(kid)
    assert str(caught.value) == (
        f"signing key {kid} is the active key of its algorithm RS256 and cannot be retired; "
        "rotate first (`jwtkit keys rotate --algorithm RS256`), then retire it"
    )
    await ring.rotate(algorithm="RS256")
    retired = await ring.retire(kid)  # now the previous RS256 key: unpublished at once
    assert (retired.status, retired.publish_until) == ("retired", T0)
    assert kid not in _kids(ring, "RS256")
    assert ring.signing_key().alg == "ES256"  # still signing


@pytest.mark.anyio
async def test_activate_pending_is_per_algorithm(store: FakeStore, clock: FrozenClock) -> None:
    ring = await _load(store, clock)
    pending = await ring.rotate(activate_after=10**6, algorithm="RS256")
    clock.advance(300)
    assert await ring.activate_pending() is None  # no pending ES256 key
    activated = await ring.activate_pending(algorithm="RS256")
    assert activated is not None
    assert (activated.kid, activated.status) == (pending.kid, "active")
    assert ring.signing_key("RS256").kid == pending.kid


@pytest.mark.anyio
@pytest.mark.parametrize("algorithm", ["PS256", "EdDSA", "HS256", "none", "rs256"])
async def test_an_algorithm_the_ring_does_not_keep_is_refused(
    store: FakeStore, clock: FrozenClock, algorithm: str
) -> None:
    ring = await _load(store, clock)
    message = (
        f"no signing keys of the algorithm '{algorithm}' are kept: the key ring keeps ES256, "
        "RS256 (the algorithm settings)"
    )
    with pytest.raises(KeyRingError) as caught:
        ring.signing_key(algorithm)
    assert str(caught.value) == message
    with pytest.raises(KeyRingError, match="are kept"):
        await ring.rotate(algorithm=algorithm)
    with pytest.raises(KeyRingError, match="are kept"):
        await ring.activate_pending(algorithm=algorithm)
    assert len(store.keys) == 2


@pytest.mark.anyio
async def test_an_unknown_algorithm_is_shown_bounded(store: FakeStore, clock: FrozenClock) -> None:
    ring = await _load(store, clock)
    with pytest.raises(KeyRingError) as caught:
        ring.signing_key("A" * 500 + "\n")
    assert len(str(caught.value)) < 200
    assert "\n" not in str(caught.value)


@pytest.mark.anyio
@pytest.mark.parametrize("access", ["read", "write"])
async def test_only_the_service_creates_the_missing_keys(
    store: FakeStore, clock: FrozenClock, access: Any
) -> None:
    await _load(store, clock)
    del store.keys[(await _stored(store, "RS256")).kid]
    # an admin command (maybe with other settings) adds no key the service does not use
    admin = await KeyRing.load(cast(Store, store), _settings(), clock, access=access)
    assert len(store.keys) == 1
    assert admin.signing_key().alg == "ES256"
    with pytest.raises(KeyRingError, match=r"^there is no active RS256 signing key$"):
        admin.signing_key("RS256")
    pending = None
    if access == "write":  # a rotation by an admin command is published first, as always
        pending = await admin.rotate(activate_after=600, algorithm="RS256")
        assert pending.status == "pending"
        assert _kids(admin, "RS256") == [pending.kid]
    service = await _load(store, clock)  # the service creates the missing key, active at once
    created = service.signing_key("RS256").kid
    assert created not in {None, getattr(pending, "kid", None)}
    if pending is not None:
        clock.advance(600)
        assert service.signing_key("RS256").kid == pending.kid


@pytest.mark.anyio
async def test_keys_of_an_algorithm_no_longer_configured(
    store: FakeStore, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    first = await _load(store, clock)
    old = cast(str, first.signing_key().kid)
    token = _token(first, clock)
    clock.advance(10)
    with caplog.at_level(logging.WARNING, logger="jwtkit.server.keyring"):
        ring = await _load(store, clock, _settings(signing_algorithm="EdDSA"))
    assert (
        f"the signing key {old} is active but its algorithm ES256 is not named by "
        "signing_algorithm, id_token_algorithms or published_algorithms"
    ) in caplog.text
    # the new access tokens' algorithm gets its key at once; the old key signs nothing here
    assert ring.algorithms == ("EdDSA", "RS256")
    assert ring.signing_key().alg == "EdDSA"
    assert (await _stored(store, "EdDSA")).activated_at == T0 + 10
    with pytest.raises(KeyRingError, match="are kept"):
        ring.signing_key("ES256")
    assert _kids(ring) == [old]  # still published, left as it was
    assert store.keys[old].status == "active"
    assert _verifies(ring, token, clock)
    # retiring it stops it, and keeps it published until its tokens have expired
    clock.advance(5)
    retired = await ring.retire(old)
    assert (retired.status, retired.retired_at) == ("retired", T0 + 15)
    assert retired.publish_until == T0 + 15 + RETENTION
    assert _kids(ring) == [old]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="jwtkit.server.keyring"):
        await _load(store, clock, _settings(signing_algorithm="EdDSA"))
    assert "is active but" not in caplog.text
    # retiring it again unpublishes it at once
    again = await ring.retire(old)
    assert again.publish_until == T0 + 15
    assert _kids(ring) == []


# -- rotation --------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_rotation_publishes_before_signing_and_keeps_the_old_key_published(
    store: FakeStore, clock: FrozenClock
) -> None:
    ring = await _load(store, clock)
    old_kid = ring.signing_key().kid
    assert old_kid is not None
    old_token = _token(ring, clock)

    new = await ring.rotate(activate_after=600)
    assert new.status == "pending"
    assert new.activated_at == T0 + 600
    # published at once, but not signing yet
    assert _kids(ring) == [old_kid, new.kid]
    assert ring.signing_key().kid == old_kid

    clock.advance(599)
    assert ring.signing_key().kid == old_kid
    late_token = _token(ring, clock)  # the last token the old key signs: exp T0 + 599 + TTL
    clock.advance(1)
    # the clock passed the activation time: the new key signs, even before a refresh
    assert ring.signing_key().kid == new.kid
    view = {record.kid: record for record in ring.records()}
    assert view[new.kid].status == "active"
    assert view[old_kid].status == "retired"
    assert view[old_kid].retired_at == T0 + 600
    assert view[old_kid].publish_until == T0 + 600 + RETENTION

    await ring.refresh()  # persists the transition
    stored = store.keys[old_kid]
    assert (stored.status, stored.retired_at) == ("retired", T0 + 600)
    assert stored.publish_until == T0 + 600 + RETENTION
    assert store.keys[new.kid].status == "active"

    # every token the old key signed verifies until it expires
    clock.set(T0 + 599 + TTL - 1)
    await ring.refresh()
    assert _verifies(ring, late_token, clock)
    # ... and the key stays published until publish_until, then goes
    clock.set(T0 + 600 + RETENTION - 1)
    assert old_kid in _kids(ring)
    clock.set(T0 + 600 + RETENTION)
    assert _kids(ring) == [new.kid]
    assert not _verifies(ring, old_token, clock)
    await ring.refresh()
    assert old_kid in store.keys  # kept in the store for the record, not published
    assert _kids(ring) == [new.kid]


@pytest.mark.anyio
async def test_old_tokens_verify_until_they_expire(store: FakeStore, clock: FrozenClock) -> None:
    ring = await _load(store, clock)
    clock.advance(100)
    token = _token(ring, clock)  # expires at T0 + 100 + TTL
    await ring.rotate()
    assert ring.signing_key().kid != jwtkit.decode_unverified(token).header["kid"]
    clock.advance(TTL - 1)
    await ring.refresh()
    assert _verifies(ring, token, clock)


@pytest.mark.anyio
async def test_rotate_immediately(store: FakeStore, clock: FrozenClock) -> None:
    ring = await _load(store, clock)
    old_kid = ring.signing_key().kid
    new = await ring.rotate()
    assert (new.status, new.activated_at) == ("active", T0)
    assert ring.signing_key().kid == new.kid
    old = store.keys[cast(str, old_kid)]
    assert (old.status, old.publish_until) == ("retired", T0 + RETENTION)
    assert _kids(ring) == [old_kid, new.kid]


@pytest.mark.anyio
async def test_two_pending_keys_the_latest_activation_wins(
    store: FakeStore, clock: FrozenClock
) -> None:
    ring = await _load(store, clock)
    first = await ring.rotate(activate_after=100)
    clock.advance(1)
    second = await ring.rotate(activate_after=199)
    clock.advance(500)  # both are due; nobody refreshed in between
    await ring.refresh()
    assert ring.signing_key().kid == second.kid
    # the first signed from T0+100 to T0+200 (as far as the clock is concerned)
    retired = store.keys[first.kid]
    assert (retired.status, retired.retired_at) == ("retired", T0 + 200)
    assert retired.publish_until == T0 + 200 + RETENTION


@pytest.mark.anyio
async def test_negative_activation_delay_is_refused(store: FakeStore, clock: FrozenClock) -> None:
    ring = await _load(store, clock)
    with pytest.raises(KeyRingError, match="activate_after"):
        await ring.rotate(activate_after=-1)
    with pytest.raises(KeyRingError, match="activate_after"):
        await ring.rotate(activate_after=float("nan"))


@pytest.mark.anyio
async def test_activate_pending_after_the_publication_time(
    store: FakeStore, clock: FrozenClock
) -> None:
    ring = await _load(store, clock)
    assert await ring.activate_pending() is None
    pending = await ring.rotate(activate_after=10**6)
    clock.advance(100)
    assert await ring.activate_pending(min_publish_seconds=300) is None
    assert ring.signing_key().kid != pending.kid
    clock.advance(200)
    activated = await ring.activate_pending(min_publish_seconds=300)
    assert activated is not None
    assert (activated.kid, activated.status, activated.activated_at) == (
        pending.kid,
        "active",
        T0 + 300,
    )
    assert ring.signing_key().kid == pending.kid
    assert store.keys[pending.kid].status == "active"


# -- retirement ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_active_key_cannot_be_retired(store: FakeStore, clock: FrozenClock) -> None:
    ring = await _load(store, clock)
    kid = cast(str, ring.signing_key().kid)
    with pytest.raises(KeyRingError, match=f"signing key {kid} is the active key"):
        await ring.retire(kid)
    assert ring.signing_key().kid == kid


@pytest.mark.anyio
async def test_retire_unknown_kid(store: FakeStore, clock: FrozenClock) -> None:
    ring = await _load(store, clock)
    with pytest.raises(KeyRingError, match="no signing key with kid 'nope'"):
        await ring.retire("nope")


@pytest.mark.anyio
async def test_retire_a_retired_key_unpublishes_it_at_once(
    store: FakeStore, clock: FrozenClock
) -> None:
    ring = await _load(store, clock)
    old_kid = cast(str, ring.signing_key().kid)
    token = _token(ring, clock)
    await ring.rotate()
    clock.advance(10)
    assert _verifies(ring, token, clock)
    retired = await ring.retire(old_kid)
    assert (retired.status, retired.retired_at, retired.publish_until) == (
        "retired",
        T0,
        T0 + 10,
    )
    assert old_kid not in _kids(ring)
    assert not _verifies(ring, token, clock)
    # retiring it again changes nothing
    updates = store.updates
    assert await ring.retire(old_kid) == retired
    assert store.updates == updates


@pytest.mark.anyio
async def test_retire_a_pending_key_withdraws_it(store: FakeStore, clock: FrozenClock) -> None:
    ring = await _load(store, clock)
    active = ring.signing_key().kid
    pending = await ring.rotate(activate_after=3600)
    withdrawn = await ring.retire(pending.kid)
    assert (withdrawn.status, withdrawn.publish_until) == ("retired", T0)
    assert _kids(ring) == [active]
    clock.advance(7200)
    await ring.refresh()
    assert ring.signing_key().kid == active


# -- several workers -------------------------------------------------------------------------


@pytest.mark.anyio
async def test_refresh_sees_rotations_by_another_process(
    store: FakeStore, clock: FrozenClock
) -> None:
    worker = await _load(store, clock)
    admin = await _load(store, clock)  # e.g. `jwtkit keys rotate`
    old_kid = worker.signing_key().kid
    new = await admin.rotate(activate_after=60)
    assert _kids(worker) == [old_kid]
    await worker.refresh()
    assert _kids(worker) == [old_kid, new.kid]
    clock.advance(60)
    assert worker.signing_key().kid == new.kid
    assert admin.signing_key().kid == new.kid


@pytest.mark.anyio
async def test_workers_apply_the_same_transition(store: FakeStore, clock: FrozenClock) -> None:
    first = await _load(store, clock)
    second = await _load(store, clock)
    new = await first.rotate(activate_after=60)
    await second.refresh()
    clock.advance(3600)
    await first.refresh()
    after_first = dict(store.keys)
    await second.refresh()
    assert store.keys == after_first
    assert first.records() == second.records()
    assert store.keys[new.kid].status == "active"


@pytest.mark.anyio
async def test_an_active_record_without_activation_time_counts_from_creation(
    store: FakeStore, clock: FrozenClock
) -> None:
    await _load(store, clock)
    record = await _stored(store)
    store.keys[record.kid] = dataclasses.replace(record, activated_at=None)
    ring = await _load(store, clock)
    assert ring.signing_key().kid == record.kid
    assert store.keys[record.kid].activated_at == record.created_at


@pytest.mark.anyio
async def test_a_store_with_only_retired_keys_gets_a_new_key(
    store: FakeStore, clock: FrozenClock
) -> None:
    ring = await _load(store, clock)
    record = await _stored(store)
    store.keys[record.kid] = dataclasses.replace(
        record, status="retired", retired_at=T0, publish_until=T0
    )
    clock.advance(1)
    ring = await _load(store, clock)
    assert ring.signing_key().kid != record.kid
    assert len(store.keys) == 3
    assert (await _stored(store, "RS256")).created_at == T0  # its algorithm had an active key


@pytest.mark.anyio
async def test_verification_keys_is_the_same_object_while_unchanged(
    store: FakeStore, clock: FrozenClock
) -> None:
    ring = await _load(store, clock)
    keys = ring.verification_keys()
    await ring.refresh()
    assert ring.verification_keys() is keys
    await ring.rotate(activate_after=60)
    changed = ring.verification_keys()
    assert changed is not keys
    assert len(changed) == 3
    assert all(not key.is_private for key in changed)


@pytest.mark.anyio
async def test_nothing_secret_is_logged(
    store: FakeStore, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        ring = await _load(store, clock)
        await ring.rotate()
    private = ring.signing_key().to_jwk(private=True)
    assert "created the signing key" in caplog.text
    assert private["d"] not in caplog.text
    assert KEK not in caplog.text


@pytest.mark.anyio
async def test_with_the_sqlite_store_keys_survive_a_restart(
    tmp_path: Path, clock: FrozenClock
) -> None:
    from jwtkit.server.storage import SQLiteStore

    path = str(tmp_path / "jwtkit.db")
    store = SQLiteStore(path)
    await store.open()
    try:
        ring = await KeyRing.load(store, _settings(), clock)
        old_kid = ring.signing_key().kid
        rs256 = ring.signing_key("RS256").kid
        new = await ring.rotate(activate_after=30)
    finally:
        await store.close()
    clock.advance(30)
    reopened = SQLiteStore(path)
    await reopened.open()
    try:
        again = await KeyRing.load(reopened, _settings(), clock)
        assert again.signing_key().kid == new.kid
        assert _kids(again) == [old_kid, new.kid]
        assert _kids(again, "RS256") == [rs256]
        statuses = {record.kid: record.status for record in await reopened.signing_keys()}
        assert statuses == {old_kid: "retired", rs256: "active", new.kid: "active"}
    finally:
        await reopened.close()


# -- access: only the service creates the key file or writes on load --------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("access", ["write", "read"])
async def test_admin_access_never_creates_the_key_file(
    store: FakeStore,
    clock: FrozenClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    access: Any,
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        await KeyRing.load(cast(Store, store), Settings(), clock, access=access)
    assert str(caught.value) == (
        f"key file {tmp_path / '.jwtkit' / 'keys.secret'} does not exist: point key_file "
        "(JWTKIT_KEY_FILE, or --config) at the service's key file, or start the service once "
        "with `jwtkit serve` to create it"
    )
    assert list(tmp_path.iterdir()) == []
    assert store.keys == {}
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_key_encryption_key(Settings(), create=False)


@pytest.mark.anyio
async def test_read_access_creates_no_key_and_persists_no_transition(
    store: FakeStore, clock: FrozenClock
) -> None:
    empty = await KeyRing.load(cast(Store, store), _settings(), clock, access="read")
    assert empty.records() == []
    assert store.keys == {}

    ring = await _load(store, clock)
    first, rs256 = ring.records()
    second = await ring.rotate(activate_after=60)
    clock.advance(61)
    updates = store.updates
    reader = await KeyRing.load(cast(Store, store), _settings(), clock, access="read")
    assert {r.kid: r.status for r in reader.records()} == {
        first.kid: "retired",
        rs256.kid: "active",
        second.kid: "active",
    }
    assert store.updates == updates  # shown as of now, left for the service to persist
    assert store.keys[second.kid].status == "pending"
    writer = await KeyRing.load(cast(Store, store), _settings(), clock, access="write")
    assert store.keys[second.kid].status == "active"
    assert writer.records() == reader.records()


@pytest.mark.anyio
async def test_a_key_file_that_does_not_decrypt_the_keys_is_named(
    store: FakeStore, clock: FrozenClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = tmp_path / "service"
    service.mkdir()
    monkeypatch.chdir(service)
    await KeyRing.load(cast(Store, store), Settings(key_file="keys.secret"), clock)
    record = await _stored(store)
    other = tmp_path / "elsewhere" / "keys.secret"
    other.parent.mkdir()
    other.write_text(secrets.token_urlsafe(32) + "\n", encoding="ascii")
    with pytest.raises(ConfigError) as caught:
        await KeyRing.load(cast(Store, store), Settings(key_file=str(other)), clock, access="read")
    assert str(caught.value) == (
        f"cannot decrypt signing key {record.kid} with the key file {other}: it is not the "
        "key file the signing keys were encrypted with (point key_file, JWTKIT_KEY_FILE or "
        "--config at the service's key file)"
    )
    same = await KeyRing.load(
        cast(Store, store), Settings(key_file=str(service / "keys.secret")), clock, access="read"
    )
    assert same.records()[0].kid == record.kid
