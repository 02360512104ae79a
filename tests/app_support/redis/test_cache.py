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


async def test_invalidate_a_group_spans_slots(aclient: AsyncRedisClient) -> None:
    cache = Cache(aclient)
    keys = [f"item:{i}" for i in range(20)]
    for key in keys:
        await cache.set(key, key, group="catalog")
    await cache.set("other", 1, group="unrelated")
    assert await cache.invalidate_group("catalog") is True
    assert [await cache.get(key, group="catalog") for key in keys] == [None] * 20
    assert await cache.get("other", group="unrelated") == 1
    await cache.set("item:1", "again", group="catalog")  # written under the new generation
    assert await cache.get("item:1", group="catalog") == "again"
    with pytest.raises(ValueError, match="user:42:"):
        await cache.invalidate_group("")


async def test_invalidate_by_prefix(aclient: AsyncRedisClient) -> None:
    cache = Cache(aclient)
    await cache.set("user:42:name", "ada")
    await cache.set("user:42:email", "a@example.org")
    await cache.set("user:7:name", "bob")
    assert await cache.invalidate_prefix("user:42:") is True
    assert await cache.get("user:42:name") is None
    assert await cache.get("user:42:email") is None
    assert await cache.get("user:7:name") == "bob"
    assert await cache.invalidate_prefix("user:9:") is False  # nothing was cached there
    with pytest.raises(ValueError, match="user:42:"):
        await cache.invalidate_prefix("user:4")


async def test_entries_and_generations_expire_so_memory_is_bounded(
    aclient: AsyncRedisClient,
) -> None:
    """The old design kept every key ever written in one index set with no TTL on its members."""
    cache = Cache(aclient, namespace="bounded")
    for user in range(50):
        await cache.set(f"user:{user}:daily", user, ttl=0.2)
        await cache.invalidate_prefix(f"user:{user}:")
        await cache.set(f"user:{user}:daily", user, ttl=0.2)
    ttls = [await aclient.pttl(f"bounded!gen:{{user:{user}:}}") for user in range(50)]
    assert all(0 < ttl <= 300_000 for ttl in ttls), ttls  # every counter expires
    await asyncio.sleep(0.4)
    assert [await cache.get(f"user:{user}:daily") for user in range(50)] == [None] * 50


async def test_a_value_computed_across_an_invalidation_is_not_cached(
    aclient: AsyncRedisClient,
) -> None:
    cache = Cache(aclient)
    await cache.set("user:5:total", 1)
    await cache.invalidate_prefix("user:5:")

    async def compute_while_an_import_lands() -> int:
        await cache.invalidate_prefix("user:5:")
        return 2

    assert await cache.get_or_compute("user:5:total", compute_while_an_import_lands) == 2
    assert await cache.get("user:5:total", "absent") == "absent"
    assert await cache.get_or_compute("user:5:total", compute_while_an_import_lands) == 2


async def test_a_generation_never_restarts_under_a_live_entry(aclient: AsyncRedisClient) -> None:
    cache = Cache(aclient, default_ttl=0.2)
    await cache.invalidate_prefix("g:")  # counter 1, expiring with the default TTL
    await cache.set("g:old", "stale", ttl=5)  # stretches the counter to this entry's 5 s
    await cache.invalidate_prefix("g:")
    await asyncio.sleep(0.4)  # past the default TTL: the counter must still be there
    assert await cache.get("g:old") is None


def test_bad_arguments(aclient: AsyncRedisClient) -> None:
    with pytest.raises(ValueError, match="default_ttl"):
        Cache(aclient, default_ttl=0)
    with pytest.raises(ValueError, match="braces"):
        Cache(aclient, namespace="a{b}")


async def test_invalidate_one_key(aclient: AsyncRedisClient) -> None:
    cache = Cache(aclient)
    for key in ("k", "user:1:k"):
        await cache.set(key, 1)
        assert await cache.invalidate(key) is True
        assert await cache.invalidate(key) is False
        assert await cache.get(key) is None
