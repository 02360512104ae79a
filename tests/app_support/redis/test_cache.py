"""Cache: the same suite in standalone, sentinel and cluster mode (``redis_any``)."""

from __future__ import annotations

import asyncio

import pytest

from app_support.redis import AsyncRedisClient, Cache


async def test_set_get_and_ttl(aclient: AsyncRedisClient) -> None:
    cache = Cache(aclient)
    await cache.set("user:1", {"name": "ada"}, ttl=0.2)
    assert await cache.get("user:1") == {"name": "ada"}
    await asyncio.sleep(0.4)
    assert await cache.get("user:1", "gone") == "gone"


async def test_get_or_compute_computes_once(aclient: AsyncRedisClient) -> None:
    cache = Cache(aclient)
    calls: list[int] = []

    async def compute() -> list[int]:
        calls.append(1)
        return [1, 2]

    assert await cache.get_or_compute("report:7", compute) == [1, 2]
    assert await cache.get_or_compute("report:7", compute) == [1, 2]

    async def nothing() -> int | None:
        calls.append(2)
        return None

    assert await cache.get_or_compute("plain", nothing) is None
    assert await cache.get_or_compute("plain", nothing) is None  # a cached None is a hit
    assert calls == [1, 2]


async def test_invalidate_by_tag_spans_slots(aclient: AsyncRedisClient) -> None:
    cache = Cache(aclient)
    keys = [f"item:{i}" for i in range(20)]  # spread over many cluster slots
    for key in keys:
        await cache.set(key, key, tags=["catalog"])
    await cache.set("other", 1, tags=["unrelated"])
    assert await cache.invalidate_tag("catalog") == 20
    assert [await cache.get(key) for key in keys] == [None] * 20
    assert await cache.get("other") == 1


async def test_invalidate_by_prefix(aclient: AsyncRedisClient) -> None:
    cache = Cache(aclient)
    await cache.set("user:42:name", "ada")
    await cache.set("user:42:email", "a@example.org")
    await cache.set("user:7:name", "bob")
    assert await cache.invalidate_prefix("user:42:") == 2
    assert await cache.get("user:42:name") is None
    assert await cache.get("user:7:name") == "bob"
    assert await cache.invalidate_prefix("user:") == 1
    with pytest.raises(ValueError, match="user:42:"):
        await cache.invalidate_prefix("user:4")


async def test_invalidate_one_key(aclient: AsyncRedisClient) -> None:
    cache = Cache(aclient)
    await cache.set("k", 1)
    assert await cache.invalidate("k") is True
    assert await cache.invalidate("k") is False
