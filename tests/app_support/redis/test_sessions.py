"""SessionStore in every mode; confirmed creation where replicas exist."""

from __future__ import annotations

import asyncio

import pytest

from app_support.redis import (
    AsyncRedisClient,
    Durability,
    SessionStore,
    WriteNotConfirmedError,
)
from tests.servers.redis_nodes import RedisDeployment


async def test_create_get_touch_destroy(aclient: AsyncRedisClient) -> None:
    store = SessionStore(aclient, ttl=0.5)
    session_id = await store.create({"user": 42})
    assert len(session_id) >= 40
    assert await store.get(session_id) == {"user": 42}
    await asyncio.sleep(0.3)
    assert await store.touch(session_id, {"user": 42, "seen": True}) is True
    await asyncio.sleep(0.3)  # alive only because touch restarted the TTL
    assert await store.get(session_id) == {"user": 42, "seen": True}
    assert await store.destroy(session_id) is True
    assert await store.get(session_id) is None
    assert await store.touch(session_id) is False


async def test_expired_session_is_gone(aclient: AsyncRedisClient) -> None:
    store = SessionStore(aclient, ttl=0.1)
    session_id = await store.create({"user": 1})
    await asyncio.sleep(0.3)
    assert await store.get(session_id) is None


async def test_create_confirmed_by_a_replica(
    redis_any: RedisDeployment, aclient: AsyncRedisClient
) -> None:
    store = SessionStore(aclient, durability=Durability(replicas=1, timeout=1.0))
    if redis_any.mode == "standalone":
        # No replica can confirm: the caller learns the write is not durable.
        with pytest.raises(WriteNotConfirmedError):
            await store.create({"user": 1})
    else:
        session_id = await store.create({"user": 1})
        assert await store.get(session_id) == {"user": 1}
