"""Metrics behind the per-call hooks of app_support.postgres and app_support.redis.

The hook signatures are the contract in docs/architecture.md:
``on_query(operation, table, seconds, failed)`` and ``on_command(command, seconds, failed)``.
Each factory creates its metrics on ``registry`` and returns the hook; label children are cached,
so a call costs one dict lookup plus the observation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

# Re-exported: the protocols are defined once, in app_support.hooks.
from app_support.hooks import CommandHook, QueryHook

__all__ = [
    "DATABASE_BUCKETS",
    "REDIS_BUCKETS",
    "CommandHook",
    "QueryHook",
    "database_query_observer",
    "redis_command_observer",
]


DATABASE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REDIS_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0)


def database_query_observer(
    *, registry: CollectorRegistry | None = REGISTRY, buckets: Sequence[float] = DATABASE_BUCKETS
) -> QueryHook:
    """``on_query`` recording ``database_query_duration_seconds{operation, table}`` and
    ``database_query_errors_total{operation, table}``.

    Raises ``ValueError`` (from prometheus-client) when ``registry`` already has these metrics.
    """
    duration = Histogram(
        "database_query_duration_seconds",
        "Duration of database queries in seconds",
        ["operation", "table"],
        registry=registry,
        buckets=buckets,
    )
    errors = Counter(
        "database_query_errors_total",
        "Database queries that raised",
        ["operation", "table"],
        registry=registry,
    )
    children: dict[tuple[str, str], tuple[Any, Any]] = {}

    def on_query(operation: str, table: str, seconds: float, failed: bool) -> None:
        key = (operation, table)
        pair = children.get(key)
        if pair is None:
            pair = children[key] = (duration.labels(*key), errors.labels(*key))
        pair[0].observe(seconds)
        if failed:
            pair[1].inc()

    return on_query


def redis_command_observer(
    *, registry: CollectorRegistry | None = REGISTRY, buckets: Sequence[float] = REDIS_BUCKETS
) -> CommandHook:
    """``on_command`` recording ``redis_command_duration_seconds{command}`` and
    ``redis_command_errors_total{command}``.

    Raises ``ValueError`` (from prometheus-client) when ``registry`` already has these metrics.
    """
    duration = Histogram(
        "redis_command_duration_seconds",
        "Duration of Redis commands in seconds",
        ["command"],
        registry=registry,
        buckets=buckets,
    )
    errors = Counter(
        "redis_command_errors_total", "Redis commands that raised", ["command"], registry=registry
    )
    children: dict[str, tuple[Any, Any]] = {}

    def on_command(command: str, seconds: float, failed: bool) -> None:
        pair = children.get(command)
        if pair is None:
            pair = children[command] = (duration.labels(command), errors.labels(command))
        pair[0].observe(seconds)
        if failed:
            pair[1].inc()

    return on_command
