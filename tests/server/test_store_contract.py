"""The storage contract: every backend of :class:`jwtkit.server.storage.Store` passes this suite.

A backend is a context manager that yields a factory of new, unopened stores sharing one fresh
database, so a test can open a second store as a second process would: SQLite in a temporary
file, PostgreSQL in a new database of the session's server (``tests/server/servers.py``). Redis
joins by adding an entry to ``BACKENDS``.

Refresh-token rules come from RFC 9700 §4.14.2 (rotation, reuse detection, family revocation).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from pathlib import Path

import anyio
import anyio.to_thread
import pytest

from jwtkit.server.models import (
    AuthorizationCode,
    Client,
    Consent,
    KeyStatus,
    LoginSession,
    RefreshToken,
    SigningKeyRecord,
    User,
)
from jwtkit.server.storage import Conflict, SQLiteStore, Store, StoreError, open_store

pytestmark = pytest.mark.anyio

StoreFactory = Callable[[], Store]

T0 = 1_700_000_000.0
IDLE = 3600.0
ABSOLUTE = 86400.0


@contextmanager
def _sqlite(request: pytest.FixtureRequest) -> Iterator[StoreFactory]:
    tmp_path: Path = request.getfixturevalue("tmp_path")
    path = tmp_path / "contract.db"
    yield lambda: SQLiteStore(path)


@contextmanager
def _postgresql(request: pytest.FixtureRequest) -> Iterator[StoreFactory]:
    url: str = request.getfixturevalue("postgres_url")
    yield lambda: open_store(url)


#: backend name -> context manager yielding a factory of stores on one fresh database (the
#: fixtures it needs come from ``request``).
BACKENDS: dict[str, Callable[[pytest.FixtureRequest], AbstractContextManager[StoreFactory]]] = {
    "sqlite": _sqlite,
    "postgresql": _postgresql,
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=sorted(BACKENDS))
def new_store(request: pytest.FixtureRequest) -> Iterator[StoreFactory]:
    with BACKENDS[request.param](request) as factory:
        yield factory


@pytest.fixture
async def store(new_store: StoreFactory) -> AsyncIterator[Store]:
    opened = new_store()
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


# records ------------------------------------------------------------------------------------
def make_user(user_id: str = "u1", username: str = "alice", **changes: object) -> User:
    user = User(id=user_id, username=username, password_hash="$argon2id$old", created_at=T0)
    return replace(user, **changes)  # type: ignore[arg-type]


def make_client(client_id: str = "app", **changes: object) -> Client:
    client = Client(
        id=client_id,
        secret_hash="$argon2id$secret",
        grant_types=("password", "refresh_token"),
        scopes=("openid", "profile"),
        created_at=T0,
        name="The app",
    )
    return replace(client, **changes)  # type: ignore[arg-type]


def token_hash(name: str) -> bytes:
    """A distinct 32-byte value standing for the SHA-256 of a refresh token."""
    return name.encode().ljust(32, b".")


def make_token(
    name: str,
    *,
    family: str = "fam1",
    user_id: str | None = "u1",
    client_id: str = "app",
    issued_at: float = T0,
    family_expires_at: float = T0 + ABSOLUTE,
) -> RefreshToken:
    return RefreshToken(
        token_hash=token_hash(name),
        family_id=family,
        user_id=user_id,
        client_id=client_id,
        scope="openid profile",
        issued_at=issued_at,
        expires_at=issued_at + IDLE,
        family_expires_at=family_expires_at,
    )


def make_key(kid: str, created_at: float = T0, status: KeyStatus = "active") -> SigningKeyRecord:
    return SigningKeyRecord(
        kid=kid,
        algorithm="ES256",
        public_jwk='{"kty":"EC"}',
        encrypted_private=b"\x00ciphertext\xff" + kid.encode(),
        status=status,
        created_at=created_at,
    )


async def with_family(store: Store, name: str = "a", family: str = "fam1") -> RefreshToken:
    """A user, a client and the first token of a family."""
    if await store.user_by_id("u1") is None:
        await store.add_user(make_user())
    if await store.client_by_id("app") is None:
        await store.add_client(make_client())
    first = make_token(name, family=family)
    await store.add_refresh_token(first)
    return first


# lifecycle ----------------------------------------------------------------------------------
async def test_open_twice_is_harmless_and_closed_store_refuses_work(
    new_store: StoreFactory,
) -> None:
    opened = new_store()
    await opened.open()
    await opened.open()
    await opened.add_user(make_user())
    await opened.close()
    await opened.close()
    with pytest.raises(StoreError):
        await opened.user_by_id("u1")


async def test_ping_answers_while_open_and_fails_once_closed(new_store: StoreFactory) -> None:
    opened = new_store()
    await opened.open()
    await opened.ping()  # answers
    await opened.close()
    with pytest.raises(StoreError):
        await opened.ping()


async def test_second_store_on_the_same_database_sees_committed_data(
    store: Store, new_store: StoreFactory
) -> None:
    await store.add_user(make_user())
    other = new_store()
    await other.open()
    try:
        assert await other.user_by_name("alice") == make_user()
    finally:
        await other.close()


# users --------------------------------------------------------------------------------------
async def test_user_round_trips_by_id_and_name(store: Store) -> None:
    user = make_user(disabled=True, tokens_valid_after=T0 + 5.5, token_generation=7)
    await store.add_user(user)
    assert await store.user_by_id("u1") == user
    assert await store.user_by_name("alice") == user


async def test_unknown_user_is_none_and_names_ignore_case(store: Store) -> None:
    """``alice`` and ``ALICE`` are one username; the name is kept as registered."""
    await store.add_user(make_user(username="Alice"))
    assert await store.user_by_id("nobody") is None
    assert await store.user_by_name("bob") is None
    for variant in ("alice", "ALICE", "Alice", "aLICE"):
        found = await store.user_by_name(variant)
        assert found is not None
        assert (found.id, found.username) == ("u1", "Alice")


async def test_a_username_differing_only_in_case_is_a_conflict(store: Store) -> None:
    await store.add_user(make_user("u1", "alice.smith@example.com"))
    for number, variant in enumerate(("ALICE.SMITH@EXAMPLE.COM", "Alice.Smith@example.com")):
        with pytest.raises(Conflict):
            await store.add_user(make_user(f"u{number + 2}", variant))
    await store.add_user(make_user("u9", "alice.smith2@example.com"))
    assert sorted(u.id for u in await store.list_users()) == ["u1", "u9"]


async def test_parallel_registrations_of_one_name_in_two_cases_have_one_winner(
    store: Store,
) -> None:
    async def add(number: int, name: str) -> bool:
        try:
            await store.add_user(make_user(f"u{number}", name))
        except Conflict:
            return False
        return True

    names = ["alice", "ALICE", "Alice", "aLiCe"] * 5
    results = await asyncio.gather(*(add(n, name) for n, name in enumerate(names)))
    assert sum(results) == 1
    assert len(await store.list_users()) == 1


async def test_list_users_is_ordered_by_username(store: Store) -> None:
    assert await store.list_users() == []
    await store.add_user(make_user("u1", "carol"))
    await store.add_user(make_user("u2", "alice"))
    await store.add_user(make_user("u3", "bob"))
    assert [u.username for u in await store.list_users()] == ["alice", "bob", "carol"]


async def test_add_user_with_existing_id_or_username_is_a_conflict(store: Store) -> None:
    await store.add_user(make_user("u1", "alice"))
    with pytest.raises(Conflict):
        await store.add_user(make_user("u1", "bob"))
    with pytest.raises(Conflict):
        await store.add_user(make_user("u2", "alice"))
    assert issubclass(Conflict, StoreError)
    assert [u.id for u in await store.list_users()] == ["u1"]


async def test_set_password_stores_hash_and_tokens_valid_after(store: Store) -> None:
    await store.add_user(make_user())
    assert await store.set_password("u1", "$argon2id$new", T0 + 60) is True
    user = await store.user_by_id("u1")
    assert user is not None
    assert (user.password_hash, user.tokens_valid_after) == ("$argon2id$new", T0 + 60)
    assert await store.set_password("nobody", "$argon2id$new", T0) is False


async def test_set_password_moves_the_user_to_the_next_token_generation(
    store: Store, new_store: StoreFactory
) -> None:
    """A password change revokes the access tokens of the previous generation: every change,
    concurrent ones included (two stores, as two processes), counts once; nothing else does."""
    await store.add_user(make_user())
    assert await store.set_password("u1", "$argon2id$new", T0 + 1) is True
    user = await store.user_by_id("u1")
    assert user is not None
    assert user.token_generation == 1
    other = new_store()
    await other.open()
    try:
        changes = [
            other.set_password("u1", "$argon2id$a", T0 + 2),
            store.set_password("u1", "$argon2id$b", T0 + 2),
        ]
        assert await asyncio.gather(*changes) == [True, True]
    finally:
        await other.close()
    changed = await store.user_by_id("u1")
    assert changed is not None
    # Either concurrent change may commit last: rehash whichever hash is current.
    assert changed.password_hash in {"$argon2id$a", "$argon2id$b"}
    assert await store.rehash_password("u1", changed.password_hash, "$argon2id$rehash")
    assert await store.set_disabled("u1", True)
    user = await store.user_by_id("u1")
    assert user is not None
    assert user.token_generation == 3
    assert [u.token_generation for u in await store.list_users()] == [3]


async def test_rehash_password_is_a_compare_and_set(store: Store) -> None:
    await store.add_user(make_user())
    assert await store.rehash_password("u1", "$argon2id$stale", "$argon2id$rehash") is False
    assert await store.rehash_password("u1", "$argon2id$old", "$argon2id$rehash") is True
    assert await store.rehash_password("u1", "$argon2id$old", "$argon2id$again") is False
    user = await store.user_by_id("u1")
    assert user is not None
    assert user.password_hash == "$argon2id$rehash"
    assert user.tokens_valid_after == 0.0  # a rehash is not a password change
    assert user.token_generation == 0
    assert await store.rehash_password("nobody", "x", "y") is False


async def test_rehash_client_secret_is_a_compare_and_set(store: Store) -> None:
    await store.add_client(make_client())
    assert await store.rehash_client_secret("app", "$argon2id$stale", "sha256$new") is False
    assert await store.rehash_client_secret("app", "$argon2id$secret", "sha256$new") is True
    assert await store.rehash_client_secret("app", "$argon2id$secret", "sha256$again") is False
    client = await store.client_by_id("app")
    assert client is not None
    assert client.secret_hash == "sha256$new"
    assert await store.rehash_client_secret("nobody", "x", "y") is False


async def test_set_disabled_flips_the_flag(store: Store) -> None:
    await store.add_user(make_user())
    assert await store.set_disabled("u1", True) is True
    assert await store.set_disabled("u1", True) is True
    assert (await store.user_by_id("u1")) == make_user(disabled=True)
    assert await store.set_disabled("u1", False) is True
    assert (await store.user_by_id("u1")) == make_user()
    assert await store.set_disabled("nobody", True) is False


async def test_a_user_has_no_profile_unless_given_one(store: Store) -> None:
    await store.add_user(make_user())
    user = await store.user_by_id("u1")
    assert user is not None
    assert (user.email, user.email_verified, user.name) == (None, False, None)


async def test_the_profile_round_trips_through_add_read_and_list(store: Store) -> None:
    """OpenID Connect Core §5.1 ``email``, ``email_verified``, ``name``: stored as given
    (a name in any script, an address in its case)."""
    alice = make_user(email="Alice@Example.com", email_verified=True, name="Alice Ångström 李")
    bob = make_user("u2", "bob", email="bob@example.com")
    await store.add_user(alice)
    await store.add_user(bob)
    assert await store.user_by_id("u1") == alice
    assert await store.user_by_name("ALICE") == alice
    assert await store.list_users() == [alice, bob]
    assert (bob.email_verified, bob.name) == (False, None)


async def test_set_profile_replaces_all_three_fields(store: Store) -> None:
    await store.add_user(make_user(token_generation=2, disabled=True))
    assert await store.set_profile("u1", email="a@example.com", email_verified=True, name="Alice")
    expected = make_user(
        token_generation=2, disabled=True, email="a@example.com", email_verified=True, name="Alice"
    )
    assert await store.user_by_id("u1") == expected
    assert await store.list_users() == [expected]
    assert await store.set_profile("u1", email=None, email_verified=False, name="A.") is True
    assert await store.user_by_name("alice") == make_user(
        token_generation=2, disabled=True, name="A."
    )
    assert await store.set_profile("nobody", email=None, email_verified=False, name=None) is False


async def test_a_second_store_sees_a_profile_change(store: Store, new_store: StoreFactory) -> None:
    await store.add_user(make_user())
    other = new_store()
    await other.open()
    try:
        assert await other.user_by_id("u1") == make_user()  # read before the change
        await store.set_profile("u1", email="a@example.com", email_verified=False, name=None)
        assert await other.user_by_id("u1") == make_user(email="a@example.com")
    finally:
        await other.close()


# clients ------------------------------------------------------------------------------------
async def test_client_round_trips_and_lists_by_id(store: Store) -> None:
    public = make_client("zeta", secret_hash=None, grant_types=(), scopes=(), name="")
    confidential = make_client("alpha", grant_types=("client_credentials",), scopes=("a b",))
    resource_server = make_client("api", audiences=("jwtkit", "https://api.example.com"))
    await store.add_client(public)
    await store.add_client(confidential)
    await store.add_client(resource_server)
    assert await store.client_by_id("zeta") == public
    assert await store.client_by_id("alpha") == confidential
    assert await store.client_by_id("api") == resource_server
    assert resource_server.resource_server
    assert not confidential.resource_server
    assert await store.client_by_id("nobody") is None
    assert await store.list_clients() == [confidential, resource_server, public]


async def test_client_redirect_uris_and_first_party_round_trip(store: Store) -> None:
    """Redirect URIs come back in their registration order and exactly as spelled (matching is
    a string comparison: nothing may be normalised), with the first-party flag."""
    uris = (
        "https://app.example.com/cb?x=1&y=%2F",
        "http://127.0.0.1/callback",
        "com.example.App:/oauth2redirect",
        "HTTPS://APP.example.com:443/cb/",
    )
    native = make_client(
        "native",
        secret_hash=None,
        grant_types=("authorization_code", "refresh_token"),
        redirect_uris=uris,
    )
    own = make_client(
        "own",
        grant_types=("authorization_code",),
        redirect_uris=("https://own.example.com/cb",),
        first_party=True,
    )
    await store.add_client(native)
    await store.add_client(own)
    await store.add_client(make_client("plain"))
    found = await store.client_by_id("native")
    assert found == native
    assert found is not None
    assert (found.redirect_uris, found.first_party) == (uris, False)
    assert await store.client_by_id("own") == own
    listed = {c.id: (c.redirect_uris, c.first_party) for c in await store.list_clients()}
    assert listed == {
        "native": (uris, False),
        "own": (own.redirect_uris, True),
        "plain": ((), False),
    }


async def test_client_jwks_round_trip_exactly_as_registered(store: Store) -> None:
    """A client's JWK Set comes back character for character (spacing, member order, a
    trailing newline: nothing is re-serialised); a client with keys and no secret is
    confidential, one with neither is public."""
    jwks = (
        '{ "keys" : [ {"kty":"OKP","crv":"Ed25519",'
        '"x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"} ] }\n'
    )
    keyed = make_client("svc", secret_hash=None, grant_types=("client_credentials",), jwks=jwks)
    both = make_client("both", jwks='{"keys":[]}')
    public = make_client("spa", secret_hash=None)
    for client in (keyed, both, public):
        await store.add_client(client)
    found = await store.client_by_id("svc")
    assert found == keyed
    assert found is not None
    assert found.jwks == jwks
    assert not found.public
    assert await store.client_by_id("both") == both
    spa = await store.client_by_id("spa")
    assert spa is not None
    assert (spa.jwks, spa.public) == (None, True)
    assert {c.id: c.jwks for c in await store.list_clients()} == {
        "both": '{"keys":[]}',
        "spa": None,
        "svc": jwks,
    }
    assert not make_client().public


async def test_add_client_with_existing_id_is_a_conflict(store: Store) -> None:
    await store.add_client(make_client())
    with pytest.raises(Conflict):
        await store.add_client(make_client(name="other"))


async def test_remove_client_deletes_it_and_revokes_its_families(store: Store) -> None:
    first = await with_family(store)
    await store.add_client(make_client("other"))
    kept = make_token("other", family="fam2", client_id="other")
    await store.add_refresh_token(kept)

    assert await store.remove_client("app") is True
    assert await store.client_by_id("app") is None
    stored = await store.refresh_token(first.token_hash)
    assert stored is not None
    assert stored.revoked_at is not None
    outcome = await store.rotate_refresh_token(first.token_hash, make_token("b"), T0 + 1, 0)
    assert outcome.status == "revoked"
    assert await store.refresh_token(kept.token_hash) == kept
    assert await store.remove_client("app") is False


# refresh tokens -----------------------------------------------------------------------------
async def test_refresh_token_round_trips(store: Store) -> None:
    first = await with_family(store)
    assert await store.refresh_token(first.token_hash) == first
    assert await store.refresh_token(token_hash("unknown")) is None


async def test_refresh_token_without_user_round_trips(store: Store) -> None:
    await store.add_client(make_client())
    token = make_token("machine", user_id=None)
    await store.add_refresh_token(token)
    assert await store.refresh_token(token.token_hash) == token


async def test_add_refresh_token_with_existing_hash_is_a_conflict(store: Store) -> None:
    first = await with_family(store)
    with pytest.raises(Conflict):
        await store.add_refresh_token(replace(first, family_id="fam9"))


async def test_rotation_marks_the_old_token_and_stores_the_new_one(store: Store) -> None:
    first = await with_family(store)
    second = make_token("b", issued_at=T0 + 10)
    outcome = await store.rotate_refresh_token(first.token_hash, second, T0 + 10, 0)
    assert outcome.status == "rotated"
    assert outcome.token == replace(first, rotated_at=T0 + 10, successor_hash=second.token_hash)
    assert await store.refresh_token(first.token_hash) == outcome.token
    assert await store.refresh_token(second.token_hash) == second


async def test_presenting_a_rotated_token_again_is_reuse(store: Store) -> None:
    first = await with_family(store)
    await store.rotate_refresh_token(first.token_hash, make_token("b"), T0 + 10, 0)
    outcome = await store.rotate_refresh_token(first.token_hash, make_token("c"), T0 + 20, 0)
    assert outcome.status == "reused"
    assert outcome.token is not None
    assert outcome.token.family_id == "fam1"
    assert outcome.successor_hash is None
    assert await store.refresh_token(token_hash("c")) is None  # nothing stored


async def test_unknown_token_rotation_stores_nothing(store: Store) -> None:
    await with_family(store)
    outcome = await store.rotate_refresh_token(token_hash("x"), make_token("b"), T0 + 1, 30)
    assert outcome.status == "unknown"
    assert outcome.token is None
    assert await store.refresh_token(token_hash("b")) is None


async def test_grace_period_returns_the_same_successor(store: Store) -> None:
    first = await with_family(store)
    second = make_token("b", issued_at=T0 + 10)
    await store.rotate_refresh_token(first.token_hash, second, T0 + 10, 30)
    for attempt in ("c", "d"):
        outcome = await store.rotate_refresh_token(
            first.token_hash, make_token(attempt), T0 + 39.9, 30
        )
        assert outcome.status == "grace"
        assert outcome.successor_hash == second.token_hash
        assert await store.refresh_token(token_hash(attempt)) is None
    late = await store.rotate_refresh_token(first.token_hash, make_token("e"), T0 + 40, 30)
    assert late.status == "reused"


async def test_grace_covers_only_the_immediate_predecessor(store: Store) -> None:
    first = await with_family(store)
    await store.rotate_refresh_token(first.token_hash, make_token("b"), T0 + 10, 30)
    await store.rotate_refresh_token(token_hash("b"), make_token("c"), T0 + 11, 30)
    outcome = await store.rotate_refresh_token(first.token_hash, make_token("d"), T0 + 12, 30)
    assert outcome.status == "reused"


async def test_no_grace_when_the_successor_is_no_longer_active(store: Store) -> None:
    first = await with_family(store)
    short = replace(make_token("b"), expires_at=T0 + 15)
    await store.rotate_refresh_token(first.token_hash, short, T0 + 10, 30)
    outcome = await store.rotate_refresh_token(first.token_hash, make_token("c"), T0 + 15, 30)
    assert outcome.status == "reused"


async def test_zero_grace_period_means_immediate_reuse(store: Store) -> None:
    first = await with_family(store)
    await store.rotate_refresh_token(first.token_hash, make_token("b"), T0 + 10, 0)
    outcome = await store.rotate_refresh_token(first.token_hash, make_token("c"), T0 + 10, 0)
    assert outcome.status == "reused"


async def test_idle_expiry(store: Store) -> None:
    first = await with_family(store)
    alive = await store.rotate_refresh_token(
        first.token_hash, make_token("b"), first.expires_at - 0.001, 0
    )
    assert alive.status == "rotated"
    second = await store.refresh_token(token_hash("b"))
    assert second is not None
    outcome = await store.rotate_refresh_token(
        second.token_hash, make_token("c"), second.expires_at, 0
    )
    assert outcome.status == "expired"
    assert outcome.token == second
    assert await store.refresh_token(token_hash("c")) is None


async def test_absolute_expiry_of_the_family(store: Store) -> None:
    await store.add_user(make_user())
    await store.add_client(make_client())
    first = make_token("a", family_expires_at=T0 + 100)
    await store.add_refresh_token(first)
    assert first.expires_at > T0 + 100
    outcome = await store.rotate_refresh_token(first.token_hash, make_token("b"), T0 + 100, 0)
    assert outcome.status == "expired"


async def test_revoke_family_revokes_every_token_of_the_family(store: Store) -> None:
    first = await with_family(store)
    other = await with_family(store, "x", family="fam2")
    await store.rotate_refresh_token(first.token_hash, make_token("b"), T0 + 10, 0)

    assert await store.revoke_family("fam1", T0 + 20) == 1
    for name in ("a", "b"):
        stored = await store.refresh_token(token_hash(name))
        assert stored is not None
        assert stored.revoked_at == T0 + 20
    assert await store.refresh_token(other.token_hash) == other
    outcome = await store.rotate_refresh_token(token_hash("b"), make_token("c"), T0 + 30, 60)
    assert outcome.status == "revoked"
    reuse = await store.rotate_refresh_token(first.token_hash, make_token("c"), T0 + 30, 60)
    assert reuse.status == "revoked"
    assert await store.revoke_family("fam1", T0 + 40) == 0
    again = await store.refresh_token(token_hash("b"))
    assert again is not None
    assert again.revoked_at == T0 + 20  # the first revocation time is kept
    assert await store.revoke_family("no-such-family", T0) == 0


async def test_revoke_user_families_revokes_only_that_user(store: Store) -> None:
    await with_family(store, "a", family="fam1")
    await with_family(store, "b", family="fam2")
    await store.add_user(make_user("u2", "bob"))
    bob = make_token("bob", family="fam3", user_id="u2")
    await store.add_refresh_token(bob)

    assert await store.revoke_user_families("u1", T0 + 5) == 2
    for name, family in (("a", "fam1"), ("b", "fam2")):
        outcome = await store.rotate_refresh_token(
            token_hash(name), make_token("new", family=family), T0 + 6, 0
        )
        assert outcome.status == "revoked"
    assert await store.refresh_token(bob.token_hash) == bob
    assert await store.revoke_user_families("u1", T0 + 7) == 0


async def test_is_family_revoked_follows_every_revocation(store: Store) -> None:
    # Read on every request with an access token of a family (RFC 7009 §2.1): rotated, expired
    # by idleness or not, a family counts as revoked only once revoked, or once not stored.
    first = await with_family(store, "a", family="fam1")
    await with_family(store, "b", family="fam2")
    await store.add_user(make_user("u2", "bob"))
    await store.add_refresh_token(make_token("c", family="fam3", user_id="u2"))
    await store.add_client(make_client("other"))
    await store.add_refresh_token(make_token("d", family="fam4", client_id="other"))
    await store.rotate_refresh_token(first.token_hash, make_token("a2"), T0 + 10, 0)
    for family in ("fam1", "fam2", "fam3", "fam4"):
        assert await store.is_family_revoked(family) is False
    assert await store.is_family_revoked("no-such-family") is True

    await store.revoke_family("fam1", T0 + 20)
    assert await store.is_family_revoked("fam1") is True
    assert await store.is_family_revoked("fam2") is False
    await store.revoke_user_families("u2", T0 + 20)
    assert await store.is_family_revoked("fam3") is True
    await store.remove_client("other")
    assert await store.is_family_revoked("fam4") is True
    assert await store.is_family_revoked("fam2") is False
    # Purged once the family has expired: no longer stored, so revoked.
    await store.purge(T0 + ABSOLUTE)
    assert await store.is_family_revoked("fam2") is True


async def test_rotation_to_another_family_is_refused(store: Store) -> None:
    first = await with_family(store)
    with pytest.raises(ValueError, match="family"):
        await store.rotate_refresh_token(
            first.token_hash, make_token("b", family="elsewhere"), T0 + 1, 0
        )
    assert await store.refresh_token(first.token_hash) == first
    assert await store.refresh_token(token_hash("b")) is None


async def test_failed_rotation_leaves_the_old_token_active(store: Store) -> None:
    first = await with_family(store)
    clash = await with_family(store, "taken", family="fam2")
    with pytest.raises(Conflict):
        await store.rotate_refresh_token(
            first.token_hash, replace(clash, family_id="fam1"), T0 + 1, 0
        )
    assert await store.refresh_token(first.token_hash) == first
    outcome = await store.rotate_refresh_token(first.token_hash, make_token("b"), T0 + 2, 0)
    assert outcome.status == "rotated"


# concurrency --------------------------------------------------------------------------------
async def test_concurrent_rotations_have_exactly_one_winner(store: Store) -> None:
    first = await with_family(store)
    outcomes = await asyncio.gather(
        *(
            store.rotate_refresh_token(first.token_hash, make_token(f"n{i}"), T0 + 1, 0)
            for i in range(20)
        )
    )
    statuses = sorted(o.status for o in outcomes)
    assert statuses == ["reused"] * 19 + ["rotated"]
    stored = [await store.refresh_token(token_hash(f"n{i}")) for i in range(20)]
    assert sum(token is not None for token in stored) == 1


async def test_concurrent_rotations_in_grace_name_the_same_successor(store: Store) -> None:
    first = await with_family(store)
    outcomes = await asyncio.gather(
        *(
            store.rotate_refresh_token(first.token_hash, make_token(f"n{i}"), T0 + 1, 30)
            for i in range(20)
        )
    )
    winners = [o for o in outcomes if o.status == "rotated"]
    assert len(winners) == 1
    assert winners[0].token is not None
    successor = winners[0].token.successor_hash
    graced = [o for o in outcomes if o.status == "grace"]
    assert len(graced) == 19
    assert {o.successor_hash for o in graced} == {successor}


async def test_rotations_from_separate_stores_in_threads_have_one_winner(
    store: Store, new_store: StoreFactory
) -> None:
    first = await with_family(store)
    threads = 20
    barrier = threading.Barrier(threads)
    statuses: list[str] = []
    errors: list[BaseException] = []

    async def contender(index: int) -> None:
        own = new_store()
        await own.open()
        try:
            barrier.wait(timeout=30)
            outcome = await own.rotate_refresh_token(
                first.token_hash, make_token(f"t{index}"), T0 + 1, 0
            )
            statuses.append(outcome.status)
        finally:
            await own.close()

    def run(index: int) -> None:
        try:
            anyio.run(contender, index)
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    def run_all() -> None:
        workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    await anyio.to_thread.run_sync(run_all)
    assert errors == []
    assert sorted(statuses) == ["reused"] * (threads - 1) + ["rotated"]


# revoked access tokens ----------------------------------------------------------------------
async def test_revoked_jti_is_remembered_until_its_exp(store: Store) -> None:
    assert await store.is_jti_revoked("j1", T0) is False
    await store.revoke_jti("j1", T0 + 900)
    assert await store.is_jti_revoked("j1", T0) is True
    assert await store.is_jti_revoked("j1", T0 + 899.9) is True
    assert await store.is_jti_revoked("j1", T0 + 900) is False
    assert await store.is_jti_revoked("j2", T0) is False


async def test_revoking_a_jti_twice_keeps_the_later_exp(store: Store) -> None:
    await store.revoke_jti("j1", T0 + 900)
    await store.revoke_jti("j1", T0 + 100)
    assert await store.is_jti_revoked("j1", T0 + 500) is True
    await store.revoke_jti("j1", T0 + 2000)
    assert await store.is_jti_revoked("j1", T0 + 1500) is True


# signing keys -------------------------------------------------------------------------------
async def test_signing_keys_are_listed_oldest_first(store: Store) -> None:
    assert await store.signing_keys() == []
    newer = make_key("k2", created_at=T0 + 100)
    older = make_key("k1", created_at=T0)
    tie = make_key("k0", created_at=T0 + 100)
    for record in (newer, older, tie):
        await store.add_signing_key(record)
    assert await store.signing_keys() == [older, newer, tie]


async def test_add_signing_key_with_existing_kid_is_a_conflict(store: Store) -> None:
    await store.add_signing_key(make_key("k1"))
    with pytest.raises(Conflict):
        await store.add_signing_key(make_key("k1", status="pending"))


async def test_update_signing_key_replaces_the_record(store: Store) -> None:
    await store.add_signing_key(make_key("k1", status="pending"))
    await store.add_signing_key(make_key("k2", created_at=T0 + 1))
    retired = replace(
        make_key("k1"),
        status="retired",
        activated_at=T0 + 10,
        retired_at=T0 + 20,
        publish_until=T0 + 920,
        encrypted_private=b"rewrapped",
    )
    await store.update_signing_key(retired)
    assert await store.signing_keys() == [retired, make_key("k2", created_at=T0 + 1)]


async def test_update_of_an_unknown_signing_key_fails(store: Store) -> None:
    with pytest.raises(StoreError) as caught:
        await store.update_signing_key(make_key("missing"))
    assert not isinstance(caught.value, Conflict)
    assert await store.signing_keys() == []


# rate limits: tests/server/test_limit_counters.py runs them on every backend of BACKENDS


# values used once ---------------------------------------------------------------------------
async def test_use_once_answers_true_only_the_first_time_until_the_record_expires(
    store: Store,
) -> None:
    assert await store.use_once("a", T0 + 60, T0) is True
    assert await store.use_once("a", T0 + 60, T0) is False
    assert await store.use_once("a", T0 + 600, T0 + 59.9) is False
    assert await store.use_once("b", T0 + 60, T0) is True  # another key
    # Expired at T0 + 60: recorded anew, until the new expiry.
    assert await store.use_once("a", T0 + 120, T0 + 60) is True
    assert await store.use_once("a", T0 + 120, T0 + 100) is False
    assert await store.use_once("a", T0 + 200, T0 + 120) is True


async def test_a_refused_use_keeps_the_first_expiry(store: Store) -> None:
    """A second call does not extend (nor shorten) the record it was refused by."""
    assert await store.use_once("a", T0 + 60, T0) is True
    assert await store.use_once("a", T0 + 10, T0 + 1) is False
    assert await store.use_once("a", T0 + 600, T0 + 30) is False
    assert await store.use_once("a", T0 + 600, T0 + 60) is True


async def test_a_second_store_sees_a_key_used_once(store: Store, new_store: StoreFactory) -> None:
    other = new_store()
    await other.open()
    try:
        assert await store.use_once("a", T0 + 60, T0) is True
        assert await other.use_once("a", T0 + 60, T0) is False
    finally:
        await other.close()


async def test_concurrent_uses_of_one_key_have_exactly_one_winner(store: Store) -> None:
    results = await asyncio.gather(*(store.use_once("jti-1", T0 + 60, T0) for _ in range(30)))
    assert sorted(results) == [False] * 29 + [True]
    others = await asyncio.gather(*(store.use_once(f"k{i}", T0 + 60, T0) for i in range(10)))
    assert all(others)


async def test_uses_from_separate_stores_in_threads_have_one_winner(
    store: Store, new_store: StoreFactory
) -> None:
    threads = 20
    barrier = threading.Barrier(threads)
    answers: list[bool] = []
    errors: list[BaseException] = []

    async def contender() -> None:
        own = new_store()
        await own.open()
        try:
            barrier.wait(timeout=30)
            answers.append(await own.use_once("jti-1", T0 + 60, T0))
        finally:
            await own.close()

    def run() -> None:
        try:
            anyio.run(contender)
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    def run_all() -> None:
        workers = [threading.Thread(target=run) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    await anyio.to_thread.run_sync(run_all)
    assert errors == []
    assert sorted(answers) == [False] * (threads - 1) + [True]


async def test_purge_deletes_expired_uses_only(store: Store) -> None:
    assert await store.use_once("gone", T0 + 50, T0) is True
    assert await store.use_once("kept", T0 + 500, T0) is True
    assert await store.purge(T0 + 200) == 1
    assert await store.purge(T0 + 200) == 0
    assert await store.use_once("kept", T0 + 500, T0 + 200) is False
    assert await store.use_once("gone", T0 + 500, T0 + 200) is True


# housekeeping -------------------------------------------------------------------------------
async def test_purge_deletes_only_what_has_expired(store: Store) -> None:
    await store.add_user(make_user())
    await store.add_client(make_client())
    old_family = make_token("old", family="old", family_expires_at=T0 + 100)
    live_family = make_token("live", family="live")
    await store.add_refresh_token(old_family)
    await store.add_refresh_token(live_family)
    await store.rotate_refresh_token(
        old_family.token_hash,
        make_token("old2", family="old", family_expires_at=T0 + 100),
        T0 + 1,
        0,
    )
    await store.revoke_jti("gone", T0 + 50)
    await store.revoke_jti("kept", T0 + 500)
    await store.record_failure("stale", T0, 60)
    await store.record_failure("fresh", T0 + 150, 60)

    assert await store.purge(T0 + 200) == 4  # 2 tokens of "old", 1 jti, 1 window
    assert await store.refresh_token(old_family.token_hash) is None
    assert await store.refresh_token(token_hash("old2")) is None
    assert await store.refresh_token(live_family.token_hash) == live_family
    assert await store.is_jti_revoked("kept", T0 + 200) is True
    assert await store.failures("fresh", T0 + 200) == (1, 10.0)
    assert await store.purge(T0 + 200) == 0
    assert await store.user_by_id("u1") is not None


# login sessions -----------------------------------------------------------------------------
def make_session(sid: str = "s1", **changes: object) -> LoginSession:
    session = LoginSession(
        sid=sid,
        cookie_hash=sid.encode().ljust(32, b"#"),
        user_id="u1",
        auth_time=T0,
        created_at=T0,
        idle_expires_at=T0 + 600,
        expires_at=T0 + 3600,
    )
    return replace(session, **changes)  # type: ignore[arg-type]


async def test_a_session_is_found_by_cookie_and_by_sid(store: Store) -> None:
    await store.add_user(make_user())
    session = make_session()
    await store.add_session(session)
    assert await store.session_by_cookie(session.cookie_hash) == session
    assert await store.session_by_sid("s1") == session
    assert await store.session_by_cookie(b"x" * 32) is None
    assert await store.session_by_sid("other") is None
    with pytest.raises(Conflict):
        await store.add_session(replace(session, sid="s2"))  # the same cookie
    with pytest.raises(Conflict):
        await store.add_session(replace(session, cookie_hash=b"y" * 32))  # the same sid


async def test_touching_a_session_moves_its_idle_expiry_forward_up_to_the_absolute_one(
    store: Store,
) -> None:
    await store.add_user(make_user())
    await store.add_session(make_session())
    await store.touch_session("s1", T0 + 900)
    found = await store.session_by_sid("s1")
    assert found is not None
    assert found.idle_expires_at == T0 + 900
    await store.touch_session("s1", T0 + 700)  # never backwards
    found = await store.session_by_sid("s1")
    assert found is not None
    assert found.idle_expires_at == T0 + 900
    await store.touch_session("s1", T0 + 99_999)  # capped at the absolute expiry
    found = await store.session_by_sid("s1")
    assert found is not None
    assert found.idle_expires_at == T0 + 3600
    assert found.is_active(T0 + 3599)
    assert not found.is_active(T0 + 3600)


async def test_an_ended_session_stays_ended(store: Store) -> None:
    await store.add_user(make_user())
    await store.add_session(make_session())
    assert await store.end_session("s1", T0 + 5) is True
    assert await store.end_session("s1", T0 + 6) is False
    assert await store.end_session("unknown", T0 + 6) is False
    await store.touch_session("s1", T0 + 900)
    ended = await store.session_by_sid("s1")
    assert ended is not None
    assert (ended.ended_at, ended.idle_expires_at) == (T0 + 5, T0 + 600)
    assert not ended.is_active(T0 + 10)


async def test_ending_a_users_sessions_ends_only_theirs(store: Store) -> None:
    await store.add_user(make_user())
    await store.add_user(make_user("u2", "bob"))
    await store.add_session(make_session("a"))
    await store.add_session(make_session("b"))
    await store.add_session(make_session("c", user_id="u2"))
    await store.end_session("b", T0)
    assert await store.end_user_sessions("u1", T0 + 1) == 1
    assert await store.end_user_sessions("u1", T0 + 2) == 0
    bob = await store.session_by_sid("c")
    assert bob is not None
    assert bob.ended_at is None


# consents -----------------------------------------------------------------------------------
async def test_a_consent_is_stored_and_replaced(store: Store) -> None:
    await store.add_user(make_user())
    assert await store.consent("u1", "app") is None
    first = Consent("u1", "app", ("openid", "email"), T0)
    await store.grant_consent(first)
    assert await store.consent("u1", "app") == first
    second = Consent("u1", "app", ("openid",), T0 + 1)
    await store.grant_consent(second)
    assert await store.consent("u1", "app") == second
    assert await store.consent("u1", "other") is None


# authorization codes ------------------------------------------------------------------------
def make_code(name: str = "c1", **changes: object) -> AuthorizationCode:
    code = AuthorizationCode(
        code_hash=name.encode().ljust(32, b"!"),
        client_id="app",
        user_id="u1",
        redirect_uri="https://app.example/cb",
        scope="openid profile",
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        nonce="n-0S6_WzA2Mj",
        sid="s1",
        auth_time=T0 - 5,
        issued_at=T0,
        expires_at=T0 + 60,
        purge_after=T0 + 1000,
        resource=("https://api.example/", "https://b.example/"),
    )
    return replace(code, **changes)  # type: ignore[arg-type]


async def test_a_code_is_redeemed_once_then_reused(store: Store) -> None:
    code = make_code()
    await store.add_code(code)
    with pytest.raises(Conflict):
        await store.add_code(code)
    won = await store.redeem_code(code.code_hash, T0 + 1)
    assert won.status == "redeemed"
    assert won.code == replace(code, redeemed_at=T0 + 1)
    assert await store.record_code_grant(code.code_hash, "fam", "jti1", T0 + 900) is True
    again = await store.redeem_code(code.code_hash, T0 + 2)
    assert again.status == "reused"
    assert again.code is not None
    assert (again.code.family_id, again.code.access_jti, again.code.access_expires_at) == (
        "fam",
        "jti1",
        T0 + 900,
    )
    # Reuse after expiry is still reuse; the first reuse time is kept.
    late = await store.redeem_code(code.code_hash, T0 + 500)
    assert late.status == "reused"
    assert late.code is not None
    assert late.code.reused_at == T0 + 2


async def test_an_unredeemed_code_expires(store: Store) -> None:
    code = make_code(nonce=None, redirect_uri=None, resource=())
    await store.add_code(code)
    expired = await store.redeem_code(code.code_hash, T0 + 60)
    assert expired.status == "expired"
    assert expired.code == code
    assert (await store.redeem_code(b"?" * 32, T0)).status == "unknown"
    assert await store.record_code_grant(code.code_hash, None, "j", T0 + 9) is False


async def test_a_grant_recorded_after_a_reuse_is_refused(store: Store) -> None:
    code = make_code()
    await store.add_code(code)
    assert (await store.redeem_code(code.code_hash, T0 + 1)).status == "redeemed"
    reuse = await store.redeem_code(code.code_hash, T0 + 1)
    assert reuse.status == "reused"
    assert reuse.code is not None
    assert reuse.code.access_jti is None
    assert await store.record_code_grant(code.code_hash, "fam", "jti1", T0 + 900) is False


async def test_concurrent_redemptions_of_a_code_have_exactly_one_winner(store: Store) -> None:
    code = make_code()
    await store.add_code(code)
    outcomes = await asyncio.gather(*(store.redeem_code(code.code_hash, T0 + 1) for _ in range(20)))
    statuses = sorted(outcome.status for outcome in outcomes)
    assert statuses == ["redeemed"] + ["reused"] * 19


async def test_redemptions_from_separate_stores_in_threads_have_one_winner(
    new_store: StoreFactory,
) -> None:
    first = new_store()
    await first.open()
    code = make_code()
    await first.add_code(code)
    await first.close()
    stores = [new_store() for _ in range(4)]
    for each in stores:
        await each.open()
    try:
        outcomes = await asyncio.gather(
            *(each.redeem_code(code.code_hash, T0 + 1) for each in stores for _ in range(3))
        )
    finally:
        for each in stores:
            await each.close()
    assert sorted(outcome.status for outcome in outcomes).count("redeemed") == 1


# what the browser login added to clients and refresh tokens ---------------------------------
async def test_logout_uris_id_token_algorithm_and_resources_round_trip(store: Store) -> None:
    client = make_client(
        post_logout_redirect_uris=("https://b.example/bye", "https://a.example/bye"),
        id_token_signed_response_alg="ES256",
    )
    await store.add_client(client)
    assert await store.client_by_id("app") == client
    assert await store.list_clients() == [client]
    await store.add_user(make_user())
    token = replace(make_token("r"), resource=("https://z.example/", "https://a.example/"))
    await store.add_refresh_token(token)
    assert await store.refresh_token(token.token_hash) == token


# DPoP key bindings (RFC 9449 §5.8, §10) -------------------------------------------------------
JKT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


async def test_a_refresh_family_bound_to_a_dpop_key_keeps_it_through_rotation(
    store: Store,
) -> None:
    await store.add_user(make_user())
    await store.add_client(make_client())
    first = replace(make_token("bound"), dpop_jkt=JKT)
    await store.add_refresh_token(first)
    assert await store.refresh_token(first.token_hash) == first
    second = replace(make_token("bound2", issued_at=T0 + 10), dpop_jkt=JKT)
    outcome = await store.rotate_refresh_token(first.token_hash, second, T0 + 10, 0)
    assert outcome.status == "rotated"
    assert outcome.token is not None
    assert outcome.token.dpop_jkt == JKT
    assert await store.refresh_token(second.token_hash) == second
    unbound = make_token("plain", family="fam2")
    await store.add_refresh_token(unbound)
    stored = await store.refresh_token(unbound.token_hash)
    assert stored is not None
    assert stored.dpop_jkt is None


async def test_a_code_bound_to_a_dpop_key_is_read_back_with_it(store: Store) -> None:
    code = make_code(dpop_jkt=JKT)
    await store.add_code(code)
    won = await store.redeem_code(code.code_hash, T0 + 1)
    assert won.code == replace(code, redeemed_at=T0 + 1)
    again = await store.redeem_code(code.code_hash, T0 + 2)
    assert again.code is not None
    assert again.code.dpop_jkt == JKT
    expired = make_code("c2", dpop_jkt=JKT)
    await store.add_code(expired)
    late = await store.redeem_code(expired.code_hash, T0 + 100)
    assert late.status == "expired"
    assert late.code == expired


async def test_purge_deletes_ended_and_expired_sessions_and_old_codes(store: Store) -> None:
    await store.add_user(make_user())
    await store.add_session(make_session("live"))
    await store.add_session(make_session("ended"))
    await store.end_session("ended", T0)
    await store.add_session(make_session("idle", idle_expires_at=T0 + 10))
    await store.add_session(make_session("old", expires_at=T0 + 10, idle_expires_at=T0 + 10))
    await store.add_code(make_code("kept", purge_after=T0 + 100))
    await store.add_code(make_code("gone", purge_after=T0 + 20))
    assert await store.purge(T0 + 20) == 4
    assert await store.session_by_sid("live") is not None
    assert [await store.session_by_sid(sid) for sid in ("ended", "idle", "old")] == [None] * 3
    assert (await store.redeem_code(make_code("gone").code_hash, T0 + 30)).status == "unknown"
    assert (await store.redeem_code(make_code("kept").code_hash, T0 + 70)).status == "expired"
