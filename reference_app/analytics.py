"""Analytics served from the Redis cache: read-through on a miss, dropped when an import completes,
and refilled by the ``analytics`` job.

Keys are ``user:<id>:<aggregate>`` in the ``analytics`` cache namespace: one cache group per user,
so one invalidation (an INCR of the user's generation) drops every aggregate of the user. An
aggregate computed by a request racing with an import may be written just after the invalidation;
the analytics job that follows the import overwrites it, and the TTL bounds it in any case.
"""

from __future__ import annotations

from typing import Any

from app_support.postgres import AsyncDatabasePool
from app_support.redis.cache import Cache
from reference_app.aggregates import AGGREGATES, compute, compute_all

__all__ = ["cached_aggregate", "invalidate_user", "refresh_user"]

_MISSING = object()


def _key(user_id: int, name: str) -> str:
    return f"user:{user_id}:{name}"


async def cached_aggregate(
    cache: Cache, database: AsyncDatabasePool, user_id: int, name: str
) -> tuple[dict[str, Any], bool]:
    """The aggregate ``name`` of the user and whether it came from the cache.

    Raises KeyError for a name not in AGGREGATES.
    """
    if name not in AGGREGATES:
        raise KeyError(name)
    cached = await cache.get(_key(user_id, name), _MISSING)
    if cached is not _MISSING:
        return cached, True
    async with database.connection() as conn:
        value = await compute(conn, user_id, name)
    await cache.set(_key(user_id, name), value)
    return value, False


async def invalidate_user(cache: Cache, user_id: int) -> bool:
    """Drop every cached aggregate of the user; whether any may have been cached."""
    return await cache.invalidate_prefix(f"user:{user_id}:")


async def refresh_user(cache: Cache, database: AsyncDatabasePool, user_id: int) -> None:
    """Recompute every aggregate of the user from one snapshot and cache them (analytics job)."""
    async with database.connection() as conn:
        values = await compute_all(conn, user_id)
    for name, value in values.items():
        await cache.set(_key(user_id, name), value)
