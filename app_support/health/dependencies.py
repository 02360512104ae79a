"""Glue from the Redis and PostgreSQL pieces to report blocks, with their degraded thresholds.

Each is a transform of what a dependency returned, applied by the runner after the call, so it
works the same whether the dependency's function is sync, async, or a lambda returning a coroutine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from functools import partial

from .status import Status, parse_status

__all__ = ["QueueStats", "Transform", "pool_threshold", "queue_block"]

QueueStats = Callable[[], Mapping[str, int] | Awaitable[Mapping[str, int]]]
"""`JobQueue.stats` of app_support.redis: returns {waiting, active, completed, failed}."""

Transform = Callable[[Mapping[str, object]], Mapping[str, object]]


def _counter(stats: Mapping[str, object], key: str) -> int:
    value = stats.get(key, 0 if key == "failed" else None)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"queue stats field {key!r} must be an integer; got {value!r}")
    return value


def _queue_block(stats: Mapping[str, object], *, backlog_degraded: int) -> Mapping[str, object]:
    counts = {key: _counter(stats, key) for key in ("waiting", "active", "completed", "failed")}
    status = Status.DEGRADED if counts["waiting"] >= backlog_degraded else Status.HEALTHY
    return {"status": status.value, **counts}


def queue_block(*, backlog_degraded: int = 1000) -> Transform:
    """Queue `stats()` -> {status, waiting, active, completed, failed}, degraded once `waiting`
    reaches `backlog_degraded`.

    Raises `ValueError` for a bad threshold; the transform raises `TypeError` (the check is then
    unhealthy) when a counter is missing or not an integer.
    """
    if isinstance(backlog_degraded, bool) or backlog_degraded < 1:
        raise ValueError(f"backlog_degraded must be >= 1, e.g. 1000; got {backlog_degraded!r}")
    return partial(_queue_block, backlog_degraded=backlog_degraded)


def _pool_threshold(
    report: Mapping[str, object], *, degraded_percent: float
) -> Mapping[str, object]:
    pool = report.get("pool")
    if not isinstance(pool, Mapping) or parse_status(report.get("status")) is not Status.HEALTHY:
        return report
    used, size = pool.get("used"), pool.get("max")
    numbers = isinstance(used, int | float) and isinstance(size, int | float) and size > 0
    if numbers and used * 100 / size >= degraded_percent:  # type: ignore[operator]
        return {**report, "status": Status.DEGRADED.value}
    return report


def pool_threshold(*, degraded_percent: float = 90.0) -> Transform:
    """The database report turned degraded when healthy and `pool.used / pool.max` reaches
    `degraded_percent`; anything else passes unchanged. Raises `ValueError` for a bad threshold.
    """
    if not 0 < degraded_percent <= 100:
        raise ValueError(f"degraded_percent must be in (0, 100], e.g. 90; got {degraded_percent!r}")
    return partial(_pool_threshold, degraded_percent=degraded_percent)
