"""The client factory against real servers in all three modes, sync and asyncio."""

from __future__ import annotations

import time

import pytest
from redis.exceptions import AuthenticationError, RedisClusterException, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError

from app_support.redis import RedisSettings, create_async_client, create_client
from tests.servers.redis_nodes import RedisDeployment


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, float, bool]] = []

    def __call__(self, command: str, seconds: float, failed: bool) -> None:
        self.calls.append((command, seconds, failed))


def test_sync_client_round_trip_and_hook(redis_any: RedisDeployment) -> None:
    hook = Recorder()
    client = create_client(RedisSettings.from_env(redis_any.environ), on_command=hook)
    try:
        assert client.set("factory:sync", "1") is True
        assert client.get("factory:sync") == "1"
        with pytest.raises(ResponseError):
            client.incr("factory:sync", "not-a-number")  # type: ignore[arg-type]
    finally:
        client.close()
    commands = [(name, failed) for name, _, failed in hook.calls]
    assert commands == [("SET", False), ("GET", False), ("INCRBY", True)]
    assert all(seconds >= 0 for _, seconds, _ in hook.calls)


async def test_async_client_round_trip_and_pipeline_hook(redis_any: RedisDeployment) -> None:
    hook = Recorder()
    client = create_async_client(RedisSettings.from_env(redis_any.environ), on_command=hook)
    try:
        await client.set("factory:{async}:a", "1")
        pipe = client.pipeline(transaction=False)
        pipe.incr("factory:{async}:a")
        pipe.get("factory:{async}:a")
        assert await pipe.execute() == [2, "2"]
    finally:
        await client.aclose()
    assert [name for name, _, _ in hook.calls] == ["SET", "PIPELINE"]


def test_sync_pipeline_reports_once(redis_any: RedisDeployment) -> None:
    hook = Recorder()
    client = create_client(RedisSettings.from_env(redis_any.environ), on_command=hook)
    try:
        pipe = client.pipeline(transaction=False)
        pipe.set("factory:{pipe}:a", "x")
        pipe.get("factory:{pipe}:a")
        assert pipe.execute() == [True, "x"]
    finally:
        client.close()
    assert [(name, failed) for name, _, failed in hook.calls] == [("PIPELINE", False)]


def test_wrong_password_fails_at_once_without_retrying(redis_any: RedisDeployment) -> None:
    settings = RedisSettings.from_env({**redis_any.environ, "REDIS_PASSWORD": "wrong"})

    def connect() -> None:
        # The sync cluster client reads the slot map while it is built, so it fails there.
        client = create_client(settings)
        try:
            client.ping()
        finally:
            client.close()

    started = time.monotonic()
    with pytest.raises((AuthenticationError, ResponseError, RedisClusterException)):
        connect()
    # A retried auth error would take the whole 5 s deadline.
    assert time.monotonic() - started < settings.retry_deadline


def test_sentinel_password_goes_only_to_sentinels(redis_sentinel: RedisDeployment) -> None:
    # The two passwords differ, so a mix-up fails authentication on one side.
    assert redis_sentinel.password != redis_sentinel.sentinel_password
    client = create_client(RedisSettings.from_env(redis_sentinel.environ))
    try:
        assert client.ping() is True
        host, port = client.connection_pool.get_master_address()  # type: ignore[union-attr]
    finally:
        client.close()
    assert (host, port) == redis_sentinel.master_address()


def test_readonly_client_reads_from_a_replica(redis_sentinel: RedisDeployment) -> None:
    settings = RedisSettings.from_env(
        {**redis_sentinel.environ, "REDIS_READ_FROM_REPLICAS": "true"}
    )
    writer = create_client(settings)
    reader = create_client(settings, readonly=True)
    try:
        writer.set("factory:replica", "v")
        writer.execute_command("WAIT", 2, 2000)
        assert reader.get("factory:replica") == "v"
        assert reader.info("replication")["role"] == "slave"
    finally:
        writer.close()
        reader.close()


def test_unreachable_master_is_retried_until_the_deadline_not_forever() -> None:
    hook = Recorder()
    settings = RedisSettings(url="redis://127.0.0.1:1/0", retry_deadline=0.3)
    client = create_client(settings, on_command=hook)
    started = time.monotonic()
    try:
        with pytest.raises(RedisConnectionError):
            client.get("k")
    finally:
        client.close()
    elapsed = time.monotonic() - started
    # It retried (pauses 0.05 + 0.1 s) and gave up rather than sleep past the deadline.
    assert elapsed >= 0.15
    assert hook.calls[0][0] == "GET"
    assert hook.calls[0][2] is True
    assert len(hook.calls) == 1  # one logical command, however many attempts
