"""RateLimiter (limits on the app's client) in every mode, async and sync."""

from __future__ import annotations

import time

import pytest
from limits import parse

from app_support.redis import AsyncRedisClient, RateLimiter, SyncRateLimiter, SyncRedisClient
from app_support.redis.ratelimit import _sliding_stats


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


def test_a_counter_read_in_the_millisecond_it_was_made_still_says_wait() -> None:
    """The cause of the flaky ``retry_after == 0.0``: limits sets the current counter with
    PX 2 x expiry, so a read in the same millisecond sees exactly 120 s left on a 60 s window and
    limits' ``120 % 60`` said "retry now"."""
    item = parse("3/minute")
    stats = _sliding_stats(item, (0, 0.0, 3, 120.0))
    assert stats.remaining == 0
    assert 59 < stats.reset_time - time.time() <= 60
    previous = _sliding_stats(item, (3, 60.0, 0, 0.0))  # previous window frees a hit every 20 s
    assert 19 < previous.reset_time - time.time() <= 20
    assert _sliding_stats(item, (0, 0.0, 0, 0.0)).remaining == 3


async def test_sliding_window_never_denies_with_a_zero_wait(aclient: AsyncRedisClient) -> None:
    """Before the fix about 1 limiter in 4 answered retry_after == 0.0 here (all hits in ~1 ms)."""
    for attempt in range(40):
        limiter = RateLimiter(
            aclient, "3/minute", strategy="sliding-window", key_prefix=f"z{attempt}"
        )
        denied = [d for d in [await limiter.hit("k") for _ in range(4)] if not d.allowed]
        assert len(denied) == 1
        assert 0 < denied[0].retry_after <= 60, attempt


def test_sync_sliding_window_never_denies_with_a_zero_wait(sclient: SyncRedisClient) -> None:
    for attempt in range(40):
        limiter = SyncRateLimiter(
            sclient, "3/minute", strategy="sliding-window", key_prefix=f"y{attempt}"
        )
        decisions = [limiter.hit("k") for _ in range(4)]
        assert [d.allowed for d in decisions] == [True, True, True, False]
        assert 0 < decisions[-1].retry_after <= 60, attempt
