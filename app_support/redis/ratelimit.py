"""Rate limiting through the ``limits`` library, on the app's own Redis client.

``limits`` ships redis, redis+sentinel and redis+cluster storages; they build their own
connections, which would bypass the failover policy and the per-command hook. The two storage
subclasses below hand it the client from ``create_client``/``create_async_client`` instead (the
storages' logic is the same in every mode: limits' cluster storage only changes construction).
Its sliding-window keys carry hash tags, so every strategy works in cluster mode.

The sliding window's stats are computed here (:func:`_sliding_stats`): limits' own formula says
"retry now" for a counter read in the millisecond it was created (see there).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Literal

from limits import RateLimitItem, WindowStats, parse
from limits import strategies as sync_strategies
from limits.aio import strategies as async_strategies
from limits.aio.storage import RedisStorage as AsyncLimitsRedisStorage
from limits.storage import RedisStorage as LimitsRedisStorage

from app_support.redis.factory import AsyncRedisClient, SyncRedisClient

__all__ = ["RateLimitDecision", "RateLimiter", "Strategy", "SyncRateLimiter"]

Strategy = Literal["moving-window", "fixed-window", "sliding-window"]


def _sliding_stats(item: RateLimitItem, window: tuple[int, float, int, float]) -> WindowStats:
    """The stats of a sliding window from (previous count, its TTL, current count, its TTL).

    As limits computes them, but for the wait: limits takes ``current_ttl % expiry``, and a
    counter read in the millisecond it was created has exactly 2 x expiry left (limits sets it
    with PX 2 x expiry), so the wait came out as 0 for a denied hit: the flaky
    ``retry_after == 0.0`` (about 1 read in 4 on a fast loopback). A wait that is a whole period
    by the modulo is a whole period.
    """
    previous_count, previous_ttl, current_count, current_ttl = window
    expiry = item.get_expiry()
    weighted = previous_count * previous_ttl / expiry + current_count
    remaining = max(0, item.amount - math.floor(weighted))
    waits = []
    if previous_count:
        step = expiry / previous_count  # the previous window frees one hit per step
        waits.append(previous_ttl % step or step)
    if current_count:
        waits.append(current_ttl % expiry or expiry)
    return WindowStats(time.time() + min(waits, default=0.0), remaining)


class _SlidingWindow(sync_strategies.SlidingWindowCounterRateLimiter):
    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        storage: Any = self.storage
        return _sliding_stats(
            item, storage.get_sliding_window(item.key_for(*identifiers), item.get_expiry())
        )


class _AsyncSlidingWindow(async_strategies.SlidingWindowCounterRateLimiter):
    async def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        storage: Any = self.storage
        window = await storage.get_sliding_window(item.key_for(*identifiers), item.get_expiry())
        return _sliding_stats(item, window)


_SYNC: dict[str, Any] = {
    "moving-window": sync_strategies.MovingWindowRateLimiter,
    "fixed-window": sync_strategies.FixedWindowRateLimiter,
    "sliding-window": _SlidingWindow,
}
_ASYNC: dict[str, Any] = {
    "moving-window": async_strategies.MovingWindowRateLimiter,
    "fixed-window": async_strategies.FixedWindowRateLimiter,
    "sliding-window": _AsyncSlidingWindow,
}


@dataclass(frozen=True)
class RateLimitDecision:
    """``allowed``; when not, ``retry_after`` seconds until a hit can succeed (else 0)."""

    allowed: bool
    retry_after: float
    remaining: int


class _ClientStorage(LimitsRedisStorage):
    def __init__(self, client: SyncRedisClient, key_prefix: str) -> None:
        self._client = client
        super().__init__("redis://", key_prefix=key_prefix)

    def initialize_storage(self, uri: str) -> None:
        self.storage = self._client
        super().initialize_storage(uri)


class _AsyncClientStorage(AsyncLimitsRedisStorage):
    def __init__(self, client: AsyncRedisClient, key_prefix: str) -> None:
        self._client = client
        super().__init__("async+redis://", implementation="redispy", key_prefix=key_prefix)

    def configure_bridge(self) -> None:
        bridge: Any = self.bridge  # the redis-py bridge: set its client instead of building one
        bridge.storage = self._client
        bridge.connection_getter = lambda _readonly: self._client


def _limit(limit: str | RateLimitItem) -> RateLimitItem:
    if isinstance(limit, str):
        try:
            return parse(limit)
        except ValueError:
            raise ValueError(f"limit {limit!r} is invalid; for example '100/minute'") from None
    return limit


def _decision(allowed: bool, stats: Any) -> RateLimitDecision:
    retry_after = 0.0 if allowed else max(0.0, float(stats.reset_time) - time.time())
    return RateLimitDecision(allowed, retry_after, int(stats.remaining))


class RateLimiter:
    """Asyncio rate limiter: ``await limiter.hit("login", client_ip)``. No I/O at construction.

    Raises ValueError for a malformed ``limit`` (e.g. use ``"100/minute"``) or strategy.
    """

    def __init__(
        self,
        client: AsyncRedisClient,
        limit: str | RateLimitItem,
        *,
        strategy: Strategy = "moving-window",
        key_prefix: str = "ratelimit",
    ) -> None:
        if strategy not in _ASYNC:
            raise ValueError(f"strategy {strategy!r} is unknown; for example 'moving-window'")
        self.limit = _limit(limit)
        self._limiter = _ASYNC[strategy](_AsyncClientStorage(client, key_prefix))

    async def hit(self, *identifiers: str, cost: int = 1) -> RateLimitDecision:
        allowed = await self._limiter.hit(self.limit, *identifiers, cost=cost)
        stats = await self._limiter.get_window_stats(self.limit, *identifiers)
        return _decision(bool(allowed), stats)

    async def reset(self, *identifiers: str) -> None:
        await self._limiter.clear(self.limit, *identifiers)


class SyncRateLimiter:
    """The sync twin of :class:`RateLimiter`."""

    def __init__(
        self,
        client: SyncRedisClient,
        limit: str | RateLimitItem,
        *,
        strategy: Strategy = "moving-window",
        key_prefix: str = "ratelimit",
    ) -> None:
        if strategy not in _SYNC:
            raise ValueError(f"strategy {strategy!r} is unknown; for example 'moving-window'")
        self.limit = _limit(limit)
        self._limiter = _SYNC[strategy](_ClientStorage(client, key_prefix))

    def hit(self, *identifiers: str, cost: int = 1) -> RateLimitDecision:
        allowed = self._limiter.hit(self.limit, *identifiers, cost=cost)
        stats = self._limiter.get_window_stats(self.limit, *identifiers)
        return _decision(bool(allowed), stats)

    def reset(self, *identifiers: str) -> None:
        self._limiter.clear(self.limit, *identifiers)
