"""The health block in every mode, and what it says when things break."""

from __future__ import annotations

import time

from app_support.redis import (
    AsyncRedisClient,
    RedisSettings,
    SyncRedisClient,
    create_client,
    redis_health,
    redis_health_sync,
)
from tests.servers.redis_nodes import RedisDeployment


async def test_async_health_in_every_mode(
    redis_any: RedisDeployment, aclient: AsyncRedisClient
) -> None:
    report = await redis_health(aclient)
    assert report["status"] == "healthy", report
    assert report["mode"] == redis_any.mode
    assert report["error"] is None
    assert report["latency"] >= 0
    if redis_any.mode == "standalone":
        assert (report["nodes"], report["replicas"]) == (1, 0)
        assert report["master"] == f"127.0.0.1:{redis_any.master_address()[1]}"
    elif redis_any.mode == "sentinel":
        assert (report["nodes"], report["replicas"], report["quorum"]) == (3, 2, True)
        assert report["master"] == f"127.0.0.1:{redis_any.master_address()[1]}"
    else:
        assert (report["nodes"], report["replicas"]) == (6, 3)
        assert report["cluster_state"] == "ok"
        assert len(report["masters"]) == 3


def test_sync_health_matches(redis_any: RedisDeployment, sclient: SyncRedisClient) -> None:
    report = redis_health_sync(sclient)
    assert report["status"] == "healthy", report
    assert report["mode"] == redis_any.mode


def test_unreachable_redis_is_unhealthy_not_an_exception() -> None:
    settings = RedisSettings(url="redis://127.0.0.1:1/0", retry_deadline=0.2)
    client = create_client(settings)
    try:
        report = redis_health_sync(client)
    finally:
        client.close()
    assert report["status"] == "unhealthy"
    assert "ConnectionError" in report["error"]


def test_lost_sentinel_quorum_is_degraded(redis_sentinel: RedisDeployment) -> None:
    client = create_client(RedisSettings.from_env(redis_sentinel.environ))
    stopped = [redis_sentinel.stop("sentinel-1"), redis_sentinel.stop("sentinel-2")]
    try:
        # Sentinel-0 notices its peers are gone after down-after-milliseconds.
        deadline = time.monotonic() + 10 * redis_sentinel.down_after_ms / 1000
        report = redis_health_sync(client)
        while report["status"] == "healthy" and time.monotonic() < deadline:
            time.sleep(0.1)
            report = redis_health_sync(client)
    finally:
        for node in stopped:
            node.cont()
        # Leave the shared group as found: wait until Sentinel-0 sees its peers again.
        deadline = time.monotonic() + 10 * redis_sentinel.down_after_ms / 1000
        while redis_health_sync(client)["status"] != "healthy" and time.monotonic() < deadline:
            time.sleep(0.1)
        client.close()
    assert report["status"] == "degraded"
    assert report["quorum"] is False
    assert "quorum" in report["error"]
