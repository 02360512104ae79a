"""Clients on the flushed deployment of each mode (``redis_any``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from app_support.redis import (
    AsyncRedisClient,
    RedisSettings,
    SyncRedisClient,
    create_async_client,
    create_client,
)
from tests.servers.redis_nodes import RedisDeployment


@pytest.fixture
async def aclient(redis_any: RedisDeployment) -> AsyncIterator[AsyncRedisClient]:
    client = create_async_client(RedisSettings.from_env(redis_any.environ))
    yield client
    await client.aclose()


@pytest.fixture
def sclient(redis_any: RedisDeployment) -> Iterator[SyncRedisClient]:
    client = create_client(RedisSettings.from_env(redis_any.environ))
    yield client
    client.close()
