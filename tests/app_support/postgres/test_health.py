"""The database block of the detailed health report, against the real server."""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack

import psycopg

from app_support.postgres import (
    AsyncDatabasePool,
    DatabasePool,
    DatabaseSettings,
    async_database_health,
    database_health,
)
from tests.servers.postgres_server import PostgresServer


def server_count(server: PostgresServer, application_name: str) -> int:
    with psycopg.connect(server.superuser_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_healthy_report(small_settings: DatabaseSettings, postgres_server: PostgresServer) -> None:
    settings = dataclasses.replace(small_settings, application_name="health-sync", min_size=2)
    with DatabasePool(settings) as pool, pool.connection():
        report = database_health(pool)
        assert report["status"] == "healthy"
        assert report["error"] is None
        assert report["latency"] is not None
        assert 0 < report["latency"] < 5000
        # The check's own connection is taken after the pool is read: 1 used, 2 more available.
        pool_block = report["pool"]
        assert (pool_block["used"], pool_block["available"], pool_block["max"]) == (1, 2, 3)
        assert pool_block["idle"] <= 2  # min_size 2, one of them lent out, maybe a spare opened
        assert report["connections"] == server_count(postgres_server, "health-sync")
        assert report["connections"] == pool.get_stats()["pool_size"]


def test_exhausted_pool_is_degraded(small_settings: DatabaseSettings) -> None:
    with DatabasePool(small_settings) as pool, ExitStack() as stack:
        for _ in range(small_settings.max_size):
            stack.enter_context(pool.connection())
        report = database_health(pool, acquire_timeout=0.2)
    assert report["status"] == "degraded"
    assert report["pool"] == {"used": 3, "available": 0, "max": 3, "idle": 0}
    assert report["error"] is not None
    assert "all 3 connections in use" in report["error"]


def test_server_down_is_unhealthy_without_secrets(
    small_settings: DatabaseSettings, postgres_server: PostgresServer
) -> None:
    with DatabasePool(small_settings) as pool:
        postgres_server.stop()
        try:
            report = database_health(pool, acquire_timeout=1.0)
        finally:
            postgres_server.start()
        assert report["status"] == "unhealthy"
        assert report["connections"] is None
        error = report["error"]
        assert error is not None
        assert postgres_server.password not in error
        assert "postgresql://" not in error
        assert database_health(pool)["status"] == "healthy"


async def test_async_report(
    small_settings: DatabaseSettings, postgres_server: PostgresServer
) -> None:
    settings = dataclasses.replace(small_settings, application_name="health-async")
    async with AsyncDatabasePool(settings) as pool:
        report = await async_database_health(pool)
        assert report["status"] == "healthy"
        assert report["pool"]["max"] == 3
        assert report["connections"] == server_count(postgres_server, "health-async") >= 1
