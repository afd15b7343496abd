"""Several instances of the service sharing one Redis (the ``redis`` setting).

Two apps made by ``create_app`` with the same Redis and the same SQLite file stand in for two
instances on two hosts. Redis is a real ``redis-server`` (``redis_server.py``), stopped and
started again for the outages. Waiting for a message between instances is a bounded wait on an
event set when the receiving instance has handled it, never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
import redis.asyncio
from click.testing import CliRunner, Result
from conftest import FAST_ARGON2, PASSWORD, TEST_KEK, Harness, RunApp, make_settings
from redis_server import RedisServer, redis_server_fixture, redis_url_fixture  # noqa: F401

from jwtkit import _console
from jwtkit.server import broadcast as broadcast_module
from jwtkit.server import cli as server_cli
from jwtkit.server import redis_link
from jwtkit.server._extras import MissingExtra
from jwtkit.server.access_tokens import VerifiedTokenCache, token_digest
from jwtkit.server.config import ConfigError, Settings, env_var, load_settings
from jwtkit.server.ratelimit import ip_bucket, user_bucket
from jwtkit.server.redis_limits import RedisLimitCounter
from jwtkit.server.redis_link import RedisLink, RedisUnavailable, namespace

pytestmark = pytest.mark.anyio

REDIS_LOGGER = "jwtkit.server.redis"
#: Seconds any wait for another instance may take before the test fails.
WAIT = 10.0


@pytest.fixture
def fast_reconnect(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outages end quickly here: Redis is tried again at once after a failure, and the
    subscription is renewed within a tenth of a second."""
    monkeypatch.setattr(redis_link, "RETRY_INTERVAL", 0.0)
    monkeypatch.setattr(broadcast_module, "RECONNECT_DELAYS", (0.01, 0.1))


@asynccontextmanager
async def two_instances(
    run_app: RunApp, url: str, **overrides: Any
) -> AsyncIterator[tuple[Harness, Harness]]:
    """Two instances on one database and one Redis."""
    async with (
        run_app(redis=url, **overrides) as first,
        run_app(redis=url, **overrides) as second,
    ):
        yield first, second


@asynccontextmanager
async def counter_of(harness: Harness) -> AsyncIterator[RedisLimitCounter]:
    """The instance's limit counts as Redis holds them."""
    assert harness.settings.redis is not None
    link = RedisLink(harness.settings.redis, harness.settings.issuer)
    try:
        yield RedisLimitCounter(link)
    finally:
        await link.aclose()


class Reloads:
    """Counts the key reloads that messages cause on an instance; :meth:`wait` awaits the
    next one."""

    def __init__(self, harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self._event = anyio.Event()
        service = harness.service
        original = service.refresh_keys

        async def refresh_keys(*, force: bool = False) -> None:
            await original(force=force)
            if force:
                self.count += 1
                self._event.set()

        monkeypatch.setattr(service, "refresh_keys", refresh_keys)

    def expect(self) -> Callable[[], Awaitable[None]]:
        """Arm before the action; the returned wait ends at the reload that follows."""
        self._event = anyio.Event()
        event = self._event

        async def wait() -> None:
            with anyio.fail_after(WAIT):
                await event.wait()

        return wait


def hashed_calls(harnesses: tuple[Harness, ...], monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the password checks that reach Argon2 on any of the instances."""
    calls = [0]
    for harness in harnesses:
        original = harness.service.hasher.verify

        def counting(
            original: Callable[[str | None, str], Awaitable[bool]],
        ) -> Callable[[str | None, str], Awaitable[bool]]:
            async def verify(stored_hash: str | None, password: str) -> bool:
                calls[0] += 1
                return await original(stored_hash, password)

            return verify

        monkeypatch.setattr(harness.service.hasher, "verify", counting(original))
    return calls


# -- the setting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "redis://localhost",
        "redis://:hunter2@redis.internal:6379/0",
        "redis://jwtkit:hunter2@10.0.0.5:6380/15",
        "rediss://:hunter2@redis.internal/",
        "redis://[::1]:6379",
        "unix:///run/redis/redis.sock",
        "unix://:hunter2@/run/redis/redis.sock?db=2",
    ],
)
def test_redis_urls_that_are_accepted(url: str) -> None:
    settings = Settings(redis=url)
    assert settings.redis == url
    assert "hunter2" not in repr(settings)
    assert "redis" not in repr(settings)  # the whole URL stays out of repr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "must be a Redis URL"),
        ("redis://:hunter2@host name", "without spaces"),
        ("http://:hunter2@redis.internal", "must be a redis://, rediss:// or unix:// URL"),
        ("hunter2", "must be a redis://, rediss:// or unix:// URL"),
        ("redis://:hunter2@redis.internal:port", "a port that is not a number"),
        ("redis://:hunter2@redis.internal:0", "between 1 and 65535"),
        ("redis://:hun/ter2@redis.internal", "percent-encode"),
        ("redis://:hun?ter2@redis.internal", "percent-encode"),
        ("redis://jwtkit/hunter2@redis.internal", "percent-encode"),
        ("redis://:hunter2@", "names no host"),
        ("redis://:hunter2@redis.internal/zero", "the path is the database number"),
        ("redis://:hunter2@redis.internal?db=1", "takes no options"),
        ("redis://:hunter2@redis.internal/#hunter2", "must not have a fragment"),
        ("unix://:hunter2@host/run/redis.sock", "names the socket's absolute path"),
        ("unix://:hunter2@", "names the socket's absolute path"),
        ("unix:///run/redis.sock?password=hunter2", "takes only the option db=<number>"),
        ("unix:///run/redis.sock?db=one", "takes only the option db=<number>"),
    ],
)
def test_a_bad_redis_url_is_refused_without_showing_its_password(url: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings(redis=url)
    (problem,) = caught.value.problems
    assert problem.startswith("redis (JWTKIT_REDIS): ")
    assert message in problem
    assert "hunter2" not in problem


def test_the_setting_comes_from_the_flag_the_environment_and_the_file(tmp_path: Path) -> None:
    config = tmp_path / "jwtkit.toml"
    config.write_text('redis = "redis://:from-file@redis.internal/1"\n', encoding="utf-8")
    assert load_settings(config_file=str(config), env={}).redis == (
        "redis://:from-file@redis.internal/1"
    )
    env = {"JWTKIT_REDIS": "redis://env.internal"}
    assert load_settings(config_file=str(config), env=env).redis == "redis://env.internal"
    cli = {"redis": "unix:///run/redis.sock"}
    assert load_settings(cli=cli, env=env).redis == "unix:///run/redis.sock"
    # empty: not set
    assert load_settings(env={"JWTKIT_REDIS": ""}).redis is None


def test_a_redis_setting_of_the_wrong_type_is_shown_redacted(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings(redis=6379)  # type: ignore[arg-type]
    assert str(caught.value) == (
        "redis (JWTKIT_REDIS): expected a string or nothing, got a value of type int"
    )
    with pytest.raises(ConfigError) as caught:
        Settings(redis=b"redis://:hunter2@redis.internal")  # type: ignore[arg-type]
    assert "hunter2" not in str(caught.value)
    config = tmp_path / "jwtkit.toml"
    config.write_text("redis = 6379\n", encoding="utf-8")
    expected = r"redis: expected a string, got a value of type int \(from config"
    with pytest.raises(ConfigError, match=expected):
        load_settings(config_file=str(config), env={})


def test_the_banner_names_redis_without_its_password() -> None:
    settings = Settings(redis="redis://:hunter2@redis.internal:6379/0")
    banner = server_cli._banner(settings, "")
    assert "shared through: redis://***@redis.internal:6379/0" in banner
    assert "hunter2" not in banner
    assert "shared through" not in server_cli._banner(Settings(), "")


def test_without_the_extra_the_error_is_the_install_line(monkeypatch: pytest.MonkeyPatch) -> None:
    line = "the redis setting of jwtkit serve needs the 'redis' extra: pip install 'jwtkit[redis]'"
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    monkeypatch.delitem(sys.modules, "jwtkit.server.redis_link")
    with pytest.raises(MissingExtra) as caught:
        importlib.import_module("jwtkit.server.redis_link")
    assert str(caught.value) == line
    monkeypatch.setattr(os, "environ", {"JWTKIT_KEY_ENCRYPTION_KEY": TEST_KEK})
    served = CliRunner().invoke(
        _console.build(), ["serve", "--port", "0", "--redis", "redis://localhost"]
    )
    assert served.exit_code == 2
    assert served.output == f"jwtkit: error: {line}\n"


# -- limits shared by the instances ------------------------------------------------------------


async def test_parallel_guesses_across_instances_reach_the_hasher_at_most_limit_times(
    run_app: RunApp, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """30 wrong guesses at once, half on each instance, against a limit of 5: 5 passwords
    are checked, and the counts are in Redis (the database counted nothing)."""
    async with two_instances(run_app, redis_url, login_max_failures_per_user=5) as (a, b):
        await a.register()
        calls = hashed_calls((a, b), monkeypatch)
        responses = await asyncio.gather(
            *(
                (a if number % 2 else b).login(password=f"wrong guess {number}")
                for number in range(30)
            )
        )
        assert calls[0] == 5
        assert sorted(response.status_code for response in responses) == [400] * 5 + [429] * 25
        assert (await b.login()).status_code == 429
        assert calls[0] == 5
        now = a.clock()
        assert await a.store.failures(user_bucket("alice"), now) == (0, 0.0)
        async with counter_of(a) as counter:
            assert (await counter.failures(user_bucket("alice"), now))[0] == 5


async def test_registrations_are_limited_across_instances(run_app: RunApp, redis_url: str) -> None:
    async with two_instances(run_app, redis_url, registration_max_per_ip=6) as (a, b):
        responses = await asyncio.gather(
            *(
                (a if number % 2 else b).http.post(
                    "/users", json={"username": f"user{number}", "password": PASSWORD}
                )
                for number in range(20)
            )
        )
        assert sorted(response.status_code for response in responses) == [201] * 6 + [429] * 14
        assert len(await a.store.list_users()) == 6
        async with counter_of(a) as counter:
            assert (await counter.failures("register:" + ip_bucket("203.0.113.7"), a.clock()))[
                0
            ] == 20


# -- Redis down: the database counts -----------------------------------------------------------


async def test_an_outage_falls_back_to_the_database_and_ends(
    run_app: RunApp,
    redis_server: RedisServer,
    redis_url: str,
    fast_reconnect: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=REDIS_LOGGER)
    async with run_app(redis=redis_url, login_max_failures_per_user=3) as harness:
        await harness.register()
        assert (await harness.login()).status_code == 200
        redis_server.stop()
        # the service keeps answering, with the database's limits
        assert (await harness.login()).status_code == 200
        for _ in range(3):
            assert (await harness.login(password="wrong password")).status_code == 400
        limited = await harness.login()
        assert limited.status_code == 429
        assert 0 < int(limited.headers["retry-after"]) <= 900
        await harness.register("bob")
        assert (await harness.store.failures(user_bucket("alice"), harness.clock()))[0] == 3
        warnings = [
            record
            for record in caplog.records
            if record.name == REDIS_LOGGER and record.levelno == logging.WARNING
        ]
        assert len(warnings) == 1, warnings  # one per outage, not one per request
        assert "counted in the database" in warnings[0].getMessage()
        redis_server.start()
        # Redis counts again (a restarted Redis without persistence starts from nothing)
        assert (await harness.login()).status_code == 200
        for _ in range(3):
            assert (await harness.login(password="wrong password")).status_code == 400
        async with counter_of(harness) as counter:
            assert (await counter.failures(user_bucket("alice"), harness.clock()))[0] == 3
        assert "answers again" in caplog.text


async def test_an_instance_starts_while_redis_is_down_and_uses_it_once_back(
    run_app: RunApp,
    redis_server: RedisServer,
    redis_url: str,
    fast_reconnect: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    redis_server.stop()
    async with run_app(redis=redis_url) as harness:
        await harness.register()
        assert (await harness.login()).status_code == 200
        reloads = Reloads(harness, monkeypatch)
        resubscribed = reloads.expect()
        redis_server.start()
        await resubscribed()  # subscribed: the keys are reloaded, to catch up
        assert (await harness.login(password="wrong password")).status_code == 400
        async with counter_of(harness) as counter:
            assert (await counter.failures(user_bucket("alice"), harness.clock()))[0] == 1


async def test_redis_is_not_retried_for_a_while_after_a_failure(
    redis_server: RedisServer,
    redis_url: str,
) -> None:
    now = [0.0]
    link = RedisLink(redis_url, "https://id.example.com", clock=lambda: now[0])
    sent = 0

    async def ping() -> object:
        nonlocal sent
        sent += 1
        return await link.client.ping()

    try:
        assert await link.run(ping)
        redis_server.stop()
        with pytest.raises(RedisUnavailable):
            await link.run(ping)
        assert link.down
        with pytest.raises(RedisUnavailable, match="not retried yet"):
            await link.run(ping)
        assert sent == 2  # the second call sent nothing
        redis_server.start()
        now[0] += redis_link.RETRY_INTERVAL
        assert await link.run(ping)
        assert not link.down
    finally:
        await link.aclose()


# -- changes reach every instance at once ------------------------------------------------------


async def test_a_key_rotated_on_one_instance_is_published_by_the_other_at_once(
    run_app: RunApp, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without Redis, B would publish the key at its next periodic reload (its clock is frozen
    here: never)."""
    async with two_instances(run_app, redis_url) as (a, b):
        reloads = Reloads(b, monkeypatch)
        before = {key["kid"] for key in (await b.jwks())["keys"]}
        reloaded = reloads.expect()
        new = await a.service.keyring.rotate(activate_after=600)
        await reloaded()
        assert {key["kid"] for key in (await b.jwks())["keys"]} == before | {new.kid}
        # activated on A: B signs with it too
        reloaded = reloads.expect()
        a.clock.advance(1)
        assert await a.service.keyring.activate_pending(0) is not None
        await reloaded()
        assert b.service.keyring.signing_key().kid == new.kid
        # retired on A: B stops publishing it
        await a.register()
        token = (await a.tokens())["access_token"]
        assert (await b.userinfo(token)).status_code == 200
        reloaded = reloads.expect()
        await a.service.keyring.rotate(activate_after=0)
        await reloaded()
        reloaded = reloads.expect()
        await a.service.keyring.retire(new.kid)
        await reloaded()
        assert new.kid not in {key["kid"] for key in (await b.jwks())["keys"]}
        assert (await b.userinfo(token)).status_code == 401


async def test_a_revoked_access_token_leaves_every_cache(
    run_app: RunApp, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with two_instances(run_app, redis_url) as (a, b):
        await a.register()
        token = (await a.tokens())["access_token"]
        assert (await b.userinfo(token)).status_code == 200
        assert token in b.service.access_tokens.cache
        cache = b.service.access_tokens.cache
        forgotten = anyio.Event()
        original = cache.discard

        def discard(digest: str) -> None:
            original(digest)
            forgotten.set()

        monkeypatch.setattr(cache, "discard", discard)
        revoked = await a.http.post(
            "/revoke",
            data={"token": token, "token_type_hint": "access_token", "client_id": "first-party"},
        )
        assert revoked.status_code == 200, revoked.text
        assert token not in a.service.access_tokens.cache
        with anyio.fail_after(WAIT):
            await forgotten.wait()
        assert token not in cache
        assert (await b.userinfo(token)).status_code == 401


def test_the_cache_forgets_a_token_by_its_digest() -> None:
    cache = VerifiedTokenCache(2)
    claims = {"exp": 2_000_000_000, "iat": 1_000_000_000}
    for token in ("a", "b", "c"):  # "a" is evicted
        cache.remember(token, claims)
    assert list(cache) == ["b", "c"]
    cache.discard(token_digest("a"))  # not cached: nothing to do
    cache.discard(token_digest("b"))
    assert list(cache) == ["c"]
    assert cache.get("c", 2_000_000_000) is None  # expired: dropped
    cache.discard(token_digest("c"))
    assert len(cache) == 0
    assert cache._digests == {}


async def test_the_messages_carry_no_token_and_no_secret(run_app: RunApp, redis_url: str) -> None:
    async with run_app(redis=redis_url) as harness:
        channel = f"jwtkit:{namespace(harness.settings.issuer)}:changes"
        listener = redis.asyncio.Redis.from_url(redis_url)
        pubsub = listener.pubsub()
        try:
            await pubsub.subscribe(channel)
            with anyio.fail_after(WAIT):
                assert (await pubsub.get_message(timeout=WAIT))["type"] == "subscribe"
            await harness.register()
            answer = await harness.tokens()
            token = answer["access_token"]
            rotated = await harness.service.keyring.rotate(activate_after=600)
            await harness.http.post("/revoke", data={"token": token, "client_id": "first-party"})
            messages: list[bytes] = []
            with anyio.fail_after(WAIT):
                while len(messages) < 2:
                    message = await pubsub.get_message(timeout=WAIT)
                    if message is not None and message["type"] == "message":
                        messages.append(message["data"])
        finally:
            await pubsub.aclose()
            await listener.aclose()
    keys, revoked = (json.loads(data) for data in messages)
    origin = keys["from"]
    assert keys == {"event": "keys", "kid": rotated.kid, "from": origin}
    assert revoked == {"event": "revoked", "token_sha256": token_digest(token), "from": origin}
    for data in messages:
        text = data.decode()
        for part in (token, *token.split("."), answer["refresh_token"], PASSWORD):
            assert part not in text
    assert len(origin) == 16


async def test_odd_messages_are_ignored(
    run_app: RunApp,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger=REDIS_LOGGER)
    async with run_app(redis=redis_url) as harness:
        reloads = Reloads(harness, monkeypatch)
        cache = harness.service.access_tokens.cache
        forgotten: list[str] = []
        monkeypatch.setattr(cache, "discard", forgotten.append)
        channel = f"jwtkit:{namespace(harness.settings.issuer)}:changes"
        publisher = redis.asyncio.Redis.from_url(redis_url)
        digest = token_digest("a token")
        try:
            for data in (
                b"\xff not JSON",
                "[1, 2]",
                json.dumps({"event": "later", "from": "x"}),
                json.dumps({"event": "revoked", "token_sha256": "short", "from": "x"}),
                json.dumps({"event": "revoked", "token_sha256": 5, "from": "x"}),
                json.dumps({"event": "revoked", "token_sha256": digest, "from": "x"}),
            ):
                await publisher.publish(channel, data)
            # a key message last: its reload says that every message before it was handled
            reloaded = reloads.expect()
            await publisher.publish(channel, json.dumps({"event": "keys", "kid": 5}))
            await reloaded()
        finally:
            await publisher.aclose()
        assert forgotten == [digest]
        assert reloads.count == 1
        assert "is not JSON" in caplog.text
        assert "event 'later'" in caplog.text


async def test_a_failed_reload_is_logged_and_the_subscription_goes_on(
    run_app: RunApp,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with two_instances(run_app, redis_url) as (a, b):
        broken = anyio.Event()

        async def refresh_keys(*, force: bool = False) -> None:
            broken.set()
            raise RuntimeError("the database is gone")

        original = b.service.refresh_keys
        monkeypatch.setattr(b.service, "refresh_keys", refresh_keys)
        await a.service.keyring.rotate(activate_after=600)
        with anyio.fail_after(WAIT):
            await broken.wait()
        monkeypatch.setattr(b.service, "refresh_keys", original)
        reloads = Reloads(b, monkeypatch)
        reloaded = reloads.expect()
        new = await a.service.keyring.rotate(activate_after=600)
        await reloaded()
        assert new.kid in {key["kid"] for key in (await b.jwks())["keys"]}
    assert "reloading the signing keys failed" in caplog.text


async def test_the_subscription_is_renewed_after_an_outage(
    run_app: RunApp,
    redis_server: RedisServer,
    redis_url: str,
    fast_reconnect: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with two_instances(run_app, redis_url) as (a, b):
        reloads = Reloads(b, monkeypatch)
        redis_server.stop()
        # published while Redis is down: lost; the rotation itself succeeds
        missed = await a.service.keyring.rotate(activate_after=600)
        resubscribed = reloads.expect()
        redis_server.start()
        await resubscribed()  # the reload after subscribing again catches up
        assert missed.kid in {key["kid"] for key in (await b.jwks())["keys"]}
        reloaded = reloads.expect()
        new = await a.service.keyring.rotate(activate_after=600)
        await reloaded()
        assert new.kid in {key["kid"] for key in (await b.jwks())["keys"]}


async def test_a_server_that_stops_answering_is_noticed(
    run_app: RunApp,
    redis_url: str,
    fast_reconnect: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A connection that stays open while Redis answers nothing (paused here; a network
    partition elsewhere) is given up after a PING without answer, and subscribed again."""
    monkeypatch.setattr(broadcast_module, "HEARTBEAT", 0.05)
    async with run_app(redis=redis_url) as harness:
        reloads = Reloads(harness, monkeypatch)
        resubscribed = reloads.expect()
        admin = redis.asyncio.Redis.from_url(redis_url)
        try:
            await admin.client_pause(300)  # every command of every client waits 300 ms
        finally:
            await admin.aclose()
        await resubscribed()
    assert "no answer to PING" in caplog.text


async def test_any_answer_shows_the_connection_alive(redis_url: str) -> None:
    """A PING's answer, like any message, ends the wait for one."""
    link = RedisLink(redis_url, "https://id.example.com")

    async def nothing() -> None:
        return None

    handlers = broadcast_module._Handlers(nothing, print, lambda: None)
    try:
        pong = {"type": "pong", "data": b""}
        assert await broadcast_module.Broadcast(link)._heard(None, pong, True, handlers) is False
    finally:
        await link.aclose()


# -- jwtkit keys rotate|retire tell the running instances --------------------------------------


def _command(tmp_path: Path, url: str, *args: str) -> Result:
    """A ``jwtkit`` command on the instances' database, with their settings."""
    environment = {env_var(name): str(value) for name, value in FAST_ARGON2.items()}
    environment |= {env_var("key_encryption_key"): TEST_KEK, env_var("redis"): url}
    database = make_settings(tmp_path).database
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "environ", environment)
        return CliRunner().invoke(_console.build(), [*args, "--database", database])


async def test_keys_rotate_and_retire_reach_the_running_instances_at_once(
    run_app: RunApp, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with run_app(redis=redis_url) as harness:
        reloads = Reloads(harness, monkeypatch)
        reloaded = reloads.expect()
        rotated = await anyio.to_thread.run_sync(
            _command, tmp_path, redis_url, "keys", "rotate", "--activate-after", "600"
        )
        assert rotated.exit_code == 0, rotated.output
        await reloaded()
        kid = rotated.output.split()[3]
        assert kid in {key["kid"] for key in (await harness.jwks())["keys"]}
        # the command's clock is the real one: the instance's is moved past it, so that the
        # key withdrawn "now" by the command is withdrawn for the instance too
        harness.clock.advance(time.time() + 60 - harness.clock())
        reloaded = reloads.expect()
        retired = await anyio.to_thread.run_sync(
            _command, tmp_path, redis_url, "keys", "retire", kid
        )
        assert retired.exit_code == 0, retired.output
        assert "warning" not in retired.output
        await reloaded()
        assert kid not in {key["kid"] for key in (await harness.jwks())["keys"]}


async def test_keys_rotate_without_redis_warns_and_succeeds(
    run_app: RunApp,
    redis_server: RedisServer,
    redis_url: str,
    tmp_path: Path,
) -> None:
    async with run_app():
        pass  # the database and its keys, as a first start makes them
    redis_server.stop()
    rotated = await anyio.to_thread.run_sync(
        _command, tmp_path, redis_url, "keys", "rotate", "--activate-after", "600"
    )
    assert rotated.exit_code == 0, rotated.output
    assert "new signing key " in rotated.output
    assert "jwtkit: warning: Redis at redis://127.0.0.1:" in rotated.output
    assert (
        "did not answer: the running instances of the service were not told, and pick the "
        "change up within 10 s" in rotated.output
    )
    listed = await anyio.to_thread.run_sync(_command, tmp_path, redis_url, "keys", "list")
    assert listed.exit_code == 0
    assert "warning" not in listed.output


def test_token_service_needs_no_redis(tmp_path: Path) -> None:
    """Without the setting nothing of Redis is imported by the app."""
    code = (
        "import sys; from jwtkit.server.app import create_app; "
        "from jwtkit.server.config import Settings; "
        f"create_app(Settings(database={str(tmp_path / 'x.db')!r})); "
        "print(any(name == 'redis' or name.startswith('redis.') for name in sys.modules))"
    )
    import subprocess

    out = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
