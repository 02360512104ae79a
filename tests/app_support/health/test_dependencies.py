"""Glue from queue stats and the database health function to report blocks."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from app_support.health import HealthService, pool_threshold, queue_block

from .test_runner import block, detailed


def test_queue_block_and_backlog_threshold() -> None:
    to_block = queue_block(backlog_degraded=3)
    stats = {"waiting": 3, "active": 1, "completed": 7, "failed": 2}
    assert to_block(stats) == {"status": "degraded", **stats}
    assert to_block({**stats, "waiting": 2})["status"] == "healthy"
    assert to_block({"waiting": 0, "active": 0, "completed": 0})["failed"] == 0


def test_queue_block_rejects_bad_stats_and_settings() -> None:
    with pytest.raises(TypeError, match="'active'"):
        queue_block()({"waiting": 1})
    with pytest.raises(TypeError, match="'waiting'"):
        queue_block()({"waiting": "1", "active": 0, "completed": 0})
    with pytest.raises(ValueError, match="backlog_degraded"):
        queue_block(backlog_degraded=0)


def test_pool_threshold_degrades_a_busy_pool_only_when_healthy() -> None:
    def report(used: int, status: str = "healthy") -> Mapping[str, object]:
        return {"status": status, "pool": {"used": used, "available": 10 - used, "max": 10}}

    threshold = pool_threshold(degraded_percent=80)
    assert threshold(report(8))["status"] == "degraded"
    assert threshold(report(7))["status"] == "healthy"
    assert threshold(report(9, "unhealthy"))["status"] == "unhealthy"
    no_pool = {"status": "unhealthy", "pool": None, "error": "down"}
    assert threshold(no_pool) == no_pool
    with pytest.raises(ValueError, match="degraded_percent"):
        pool_threshold(degraded_percent=0)


async def test_glue_applies_to_sync_async_and_coroutine_returning_checks(
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service(pool_degraded_percent=50, queue_backlog_degraded=5)

    async def busy_pool() -> Mapping[str, object]:
        return {"status": "healthy", "pool": {"used": 5, "available": 5, "max": 10}}

    async def stats() -> Mapping[str, int]:
        return {"waiting": 5, "active": 0, "completed": 0, "failed": 0}

    # The reference app's style: a plain lambda returning the coroutine of an async health call.
    service.add_database_check(lambda: busy_pool())
    service.add_database_check(busy_pool, name="replica")
    service.add_queue_check("import", stats)
    service.add_queue_check("analytics", lambda: {"waiting": 1, "active": 0, "completed": 0})
    service.add_queue_check("exports", lambda: {"waiting": "many"})  # type: ignore[dict-item]
    for _ in range(2):  # the second call takes the on-loop path for the lambda
        body = await detailed(service)
        assert block(body, "database")["status"] == "degraded"
        assert block(body, "replica")["status"] == "degraded"
        queues = block(body, "queues")
        assert queues["import"]["status"] == "degraded"  # type: ignore[index]
        assert queues["analytics"]["status"] == "healthy"  # type: ignore[index]
        assert queues["exports"]["status"] == "unhealthy"  # type: ignore[index]
        assert "'waiting' must be an integer" in queues["exports"]["error"]  # type: ignore[index]
        database = service.runner.state(service.checks[0])
        assert database.returns_awaitable
        database.expires_at = 0  # force a refresh
