"""Pool gauges and query metrics against a real PostgreSQL server, through app_support.postgres."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from app_support.metrics import PoolUsageCollector, database_query_observer
from app_support.postgres.pool import DatabasePool
from app_support.postgres.settings import DatabaseSettings
from tests.app_support.metrics.scrape import value
from tests.servers.postgres_server import PostgresDatabase

MAX_SIZE = 3


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def pool(
    postgres_database: PostgresDatabase, registry: CollectorRegistry
) -> Iterator[DatabasePool]:
    settings = DatabaseSettings.from_env(postgres_database.environ, tables=["imports"])
    settings = DatabaseSettings(
        url=settings.url, max_size=MAX_SIZE, min_size=1, acquire_timeout=5, tables=settings.tables
    )
    pool = DatabasePool(settings, on_query=database_query_observer(registry=registry))
    pool.open()
    yield pool
    pool.close()


def test_pool_gauges_are_read_at_scrape_time(
    pool: DatabasePool, registry: CollectorRegistry
) -> None:
    PoolUsageCollector(pool.usage, pool="app", registry=registry)
    assert value(registry, "database_pool_up", pool="app") == 1
    assert value(registry, "database_pool_connections_max", pool="app") == MAX_SIZE
    assert value(registry, "database_pool_connections_used", pool="app") == 0

    held = threading.Event()
    release = threading.Event()

    def hold_connection() -> None:
        with pool.connection():
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold_connection)
    holder.start()
    try:
        assert held.wait(10)
        assert value(registry, "database_pool_connections_used", pool="app") == 1
        # The plan's "available": what can still be handed out, not psycopg's idle count.
        assert value(registry, "database_pool_connections_available", pool="app") == MAX_SIZE - 1
        idle = value(registry, "database_pool_connections_idle", pool="app")
        assert idle is not None
        assert 0 <= idle <= MAX_SIZE - 1
        assert value(registry, "database_pool_requests_waiting", pool="app") == 0
    finally:
        release.set()
        holder.join(10)
    assert value(registry, "database_pool_connections_used", pool="app") == 0


def test_unreadable_pool_reports_down_without_failing_the_scrape(
    registry: CollectorRegistry,
) -> None:
    def broken() -> dict[str, int]:
        raise ConnectionError("pool closed")

    PoolUsageCollector(broken, pool="app", registry=registry)
    assert value(registry, "database_pool_up", pool="app") == 0
    assert value(registry, "database_pool_connections_used", pool="app") is None


def test_usage_without_idle_leaves_only_that_gauge_out(registry: CollectorRegistry) -> None:
    usage = {"used": 5, "available": 15, "max": 20, "waiting": 0}
    PoolUsageCollector(lambda: usage, pool="other", registry=registry)
    assert value(registry, "database_pool_up", pool="other") == 1
    assert value(registry, "database_pool_connections_available", pool="other") == 15
    assert value(registry, "database_pool_connections_idle", pool="other") is None


def test_queries_through_the_pool_hook_record_operation_and_table(
    pool: DatabasePool, registry: CollectorRegistry
) -> None:
    with pool.connection() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS imports (id int)")
        conn.execute("INSERT INTO imports VALUES (1)")
        conn.execute("SELECT * FROM imports").fetchall()
        with pytest.raises(Exception, match="nonexistent_column"):
            conn.execute("SELECT nonexistent_column FROM imports")
        conn.rollback()
    assert value(registry, "database_query_duration_seconds_count", operation="insert") == 1
    select = {"operation": "select", "table": "imports"}
    assert value(registry, "database_query_duration_seconds_count", **select) == 2
    assert value(registry, "database_query_errors_total", **select) == 1
