"""A JSON cache with TTL, get-or-compute and invalidation by tag or key prefix, in every mode.

Written here: the candidate libraries (aiocache, cashews, dogpile.cache) either lack Redis
Cluster support or invalidate by SCAN, which in cluster mode means scanning every node.

Invalidation uses index sets instead of SCAN. ``set(key, value, tags=...)`` adds the key to one
set per tag and one per ``:``-delimited prefix of the key (``user:42:name`` is indexed under
``user:`` and ``user:42:``). Each index set is a single key, so it lives in one slot; the entries
it names may live anywhere and are deleted slot by slot. Index sets expire with their longest-lived
entry. Entries written concurrently with an invalidation may survive it; the TTL bounds that.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from app_support.redis.factory import AsyncRedisClient

__all__ = ["Cache"]

T = TypeVar("T")
_MISSING = object()


class Cache:
    """Asyncio cache over a client from ``create_async_client``; construction does no I/O."""

    def __init__(
        self, client: AsyncRedisClient, *, namespace: str = "cache", default_ttl: float = 300.0
    ) -> None:
        if default_ttl <= 0:
            raise ValueError(f"default_ttl must be > 0 seconds, e.g. 300.0, not {default_ttl!r}")
        self._client = client
        self._namespace = namespace
        self.default_ttl = default_ttl

    def _key(self, key: str) -> str:
        return f"{self._namespace}:{key}"

    def _index(self, kind: str, name: str) -> str:
        return f"{self._namespace}!{kind}:{name}"

    async def get(self, key: str, default: Any = None) -> Any:
        """The cached value, or ``default`` when absent or expired."""
        raw = await self._client.get(self._key(key))
        return default if raw is None else json.loads(raw)

    async def set(
        self, key: str, value: Any, ttl: float | None = None, tags: Iterable[str] = ()
    ) -> None:
        """Store a JSON-serialisable ``value`` for ``ttl`` seconds (default_ttl)."""
        millis = max(1, round((ttl or self.default_ttl) * 1000))
        payload = json.dumps(value)
        full_key = self._key(key)
        indexes = [self._index("tag", tag) for tag in tags]
        indexes += [self._index("prefix", prefix) for prefix in _prefixes(key)]

        async def write() -> None:
            pipe = self._client.pipeline(transaction=False)
            for index in indexes:
                pipe.sadd(index, full_key)
                pipe.pexpire(index, millis, nx=True)
                pipe.pexpire(index, millis, gt=True)
            pipe.set(full_key, payload, px=millis)
            await pipe.execute()

        await self._client.with_failover(write)

    async def get_or_compute(
        self,
        key: str,
        compute: Callable[[], Awaitable[T]],
        ttl: float | None = None,
        tags: Iterable[str] = (),
    ) -> T:
        """Return the cached value, or await ``compute()``, cache and return its result.

        Concurrent misses may all compute; the last write wins.
        """
        cached = await self.get(key, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[no-any-return]
        value = await compute()
        await self.set(key, value, ttl, tags)
        return value

    async def invalidate(self, key: str) -> bool:
        return bool(await self._client.delete(self._key(key)))

    async def invalidate_tag(self, tag: str) -> int:
        """Delete every entry set with ``tag``; returns how many existed."""
        return await self._drop_index(self._index("tag", tag))

    async def invalidate_prefix(self, prefix: str) -> int:
        """Delete every entry whose key starts with ``prefix``, which must end with ``:``.

        Raises ValueError for a prefix that does not end at a ``:`` boundary.
        """
        if not prefix.endswith(":"):
            raise ValueError(f"prefix must end with ':', e.g. 'user:42:', not {prefix!r}")
        return await self._drop_index(self._index("prefix", prefix))

    async def _drop_index(self, index: str) -> int:
        members = list(await self._client.smembers(index))
        deleted = int(await self._client.delete(*members)) if members else 0
        await self._client.delete(index)
        return deleted


def _prefixes(key: str) -> list[str]:
    parts = key.split(":")[:-1]
    return [":".join(parts[: i + 1]) + ":" for i in range(len(parts))]
