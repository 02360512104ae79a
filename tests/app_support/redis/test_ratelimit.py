"""RateLimiter (limits on the app's client) in every mode, async and sync."""

from __future__ import annotations

import pytest

from app_support.redis import AsyncRedisClient, RateLimiter, SyncRateLimiter, SyncRedisClient


@pytest.mark.parametrize("strategy", ["moving-window", "fixed-window", "sliding-window"])
async def test_allows_up_to_the_limit_then_says_when_to_retry(
    aclient: AsyncRedisClient, strategy: str
) -> None:
    limiter = RateLimiter(aclient, "3/minute", strategy=strategy)  # type: ignore[arg-type]
    decisions = [await limiter.hit("login", "10.0.0.1") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert 0 < decisions[-1].retry_after <= 60
    assert decisions[0].remaining == 2
    assert (await limiter.hit("login", "10.0.0.2")).allowed  # another client, own budget
    await limiter.reset("login", "10.0.0.1")
    assert (await limiter.hit("login", "10.0.0.1")).allowed


def test_sync_limiter(sclient: SyncRedisClient) -> None:
    limiter = SyncRateLimiter(sclient, "2/second")
    assert [limiter.hit("api", "k").allowed for _ in range(3)] == [True, True, False]


def test_bad_limit_is_a_clear_error(sclient: SyncRedisClient) -> None:
    with pytest.raises(ValueError, match="100/minute"):
        SyncRateLimiter(sclient, "lots")
