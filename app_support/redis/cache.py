"""A JSON cache with TTL, get-or-compute and invalidation by group, in every mode.

Written here: the candidate libraries (aiocache, cashews, dogpile.cache) either lack Redis
Cluster support or invalidate by SCAN, which in cluster mode means scanning every node.

Invalidation uses one generation counter per *group* instead of an index of keys. A key's group
is its prefix up to the last ``:`` (``user:42:daily`` is in ``user:42:``), or one given with
``group=``. Every entry is stored with the generation of its group at write time; a read returns
it only while the generation is unchanged, so invalidating a group is one ``INCR`` and the old
entries simply expire. Memory is bounded by the live entries: a generation key is given the TTL of
the longest-lived entry written under it (so a counter never restarts under a live entry) and
expires with it. An entry and its group's counter share the hash tag ``{group}``: each write and
read is one script on one slot, and the keys of different groups (users) spread over the cluster
instead of meeting in one hot index key. A key without ``:`` and no ``group=`` has no group and can
only be invalidated by itself.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from app_support.redis.factory import AsyncRedisClient

__all__ = ["Cache"]

T = TypeVar("T")
_MISSING = object()

# KEYS: entry, generation. Returns {payload or false, generation}: payload only when the entry was
# written under the current generation.
_READ = """
local gen = redis.call('GET', KEYS[2]) or '0'
local entry = redis.call('GET', KEYS[1])
if not entry then return {false, gen} end
local sep = string.find(entry, ':', 1, true)
if string.sub(entry, 1, sep - 1) ~= gen then return {false, gen} end
return {string.sub(entry, sep + 1), gen}
"""
# KEYS: entry, generation. ARGV: payload, ttl ms, expected generation ('' for any). Writes the
# entry tagged with the current generation unless it moved on since the caller read it (the value
# was computed from data an invalidation has since declared stale). Returns 1 if written.
_WRITE = """
local gen = redis.call('GET', KEYS[2])
if gen then
  redis.call('PEXPIRE', KEYS[2], ARGV[2], 'GT')
else
  gen = '0'
  redis.call('SET', KEYS[2], gen, 'PX', ARGV[2])
end
if ARGV[3] ~= '' and ARGV[3] ~= gen then return 0 end
redis.call('SET', KEYS[1], gen .. ':' .. ARGV[1], 'PX', ARGV[2])
return 1
"""
# KEYS: generation. ARGV: ttl ms for a counter that did not exist. INCR keeps an existing TTL.
_INVALIDATE = """
local existed = redis.call('EXISTS', KEYS[1])
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1], 'NX')
return existed
"""


def _group_of(key: str) -> str:
    return key[: key.rfind(":") + 1]


class Cache:
    """Asyncio cache over a client from ``create_async_client``; construction does no I/O.

    Raises ValueError for a ``default_ttl`` that is not above 0 or a namespace holding ``{``/``}``
    (it would break the hash tag that keeps an entry next to its group's counter).
    """

    def __init__(
        self, client: AsyncRedisClient, *, namespace: str = "cache", default_ttl: float = 300.0
    ) -> None:
        if not default_ttl > 0:
            raise ValueError(f"default_ttl must be > 0 seconds, e.g. 300.0, not {default_ttl!r}")
        if "{" in namespace or "}" in namespace:
            raise ValueError(f"namespace must not contain braces, e.g. 'cache', not {namespace!r}")
        self._client = client
        self._namespace = namespace
        self.default_ttl = default_ttl
        self._read = client.register_script(_READ)
        self._write = client.register_script(_WRITE)
        self._invalidate = client.register_script(_INVALIDATE)

    def _keys(self, key: str, group: str | None) -> tuple[str, str | None]:
        """(entry key, generation key or None when the key has no group)."""
        group = _group_of(key) if group is None else group
        if not group:
            return f"{self._namespace}:{key}", None
        return f"{self._namespace}:{{{group}}}{key}", self._generation(group)

    def _generation(self, group: str) -> str:
        return f"{self._namespace}!gen:{{{group}}}"

    async def _lookup(self, key: str, group: str | None) -> tuple[Any, str]:
        entry, generation = self._keys(key, group)
        if generation is None:
            raw = await self._client.get(entry)
            return (_MISSING if raw is None else json.loads(raw)), ""
        raw, current = await self._read(keys=[entry, generation])
        return (_MISSING if raw is None else json.loads(raw)), _text(current)

    async def get(self, key: str, default: Any = None, *, group: str | None = None) -> Any:
        """The cached value, or ``default`` when absent, expired or invalidated."""
        value, _ = await self._lookup(key, group)
        return default if value is _MISSING else value

    async def set(
        self, key: str, value: Any, ttl: float | None = None, *, group: str | None = None
    ) -> None:
        """Store a JSON-serialisable ``value`` for ``ttl`` seconds (default_ttl): one round trip."""
        await self._store(key, value, ttl, group, "")

    async def _store(
        self, key: str, value: Any, ttl: float | None, group: str | None, expected: str
    ) -> bool:
        millis = max(1, round((ttl or self.default_ttl) * 1000))
        payload = json.dumps(value)
        entry, generation = self._keys(key, group)
        if generation is None:
            return bool(await self._client.set(entry, payload, px=millis))
        return bool(await self._write(keys=[entry, generation], args=[payload, millis, expected]))

    async def get_or_compute(
        self,
        key: str,
        compute: Callable[[], Awaitable[T]],
        ttl: float | None = None,
        *,
        group: str | None = None,
    ) -> T:
        """Return the cached value, or await ``compute()``, cache and return its result.

        Concurrent misses may all compute; the last write wins. A result computed while the
        group was invalidated is returned but not cached.
        """
        cached, generation = await self._lookup(key, group)
        if cached is not _MISSING:
            return cached  # type: ignore[no-any-return]
        value = await compute()
        await self._store(key, value, ttl, group, generation)
        return value

    async def invalidate(self, key: str, *, group: str | None = None) -> bool:
        """Delete one entry; whether it existed."""
        return bool(await self._client.delete(self._keys(key, group)[0]))

    async def invalidate_group(self, group: str) -> bool:
        """Invalidate every entry of ``group`` with one INCR; whether the group had a counter
        (that is, entries may have been cached). The entries expire on their own.

        Raises ValueError for an empty group.
        """
        if not group:
            raise ValueError("group must not be empty, e.g. 'user:42:'")
        millis = max(1, round(self.default_ttl * 1000))
        return bool(await self._invalidate(keys=[self._generation(group)], args=[millis]))

    async def invalidate_prefix(self, prefix: str) -> bool:
        """Invalidate the keys directly under ``prefix`` (``user:42:`` covers ``user:42:daily``,
        not ``user:42:x:y``, which is in group ``user:42:x:``): the group ``prefix``.

        Raises ValueError for a prefix that does not end at a ``:`` boundary.
        """
        if not prefix.endswith(":"):
            raise ValueError(f"prefix must end with ':', e.g. 'user:42:', not {prefix!r}")
        return await self.invalidate_group(prefix)


def _text(value: bytes | str | int) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
