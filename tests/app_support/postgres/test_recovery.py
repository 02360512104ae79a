"""Recovery after a real server restart, without restarting the app.

Each test restarts the session server (pg_ctl fast shutdown, then start on the same port), so the
pool's connections die under it, as in a database failover or upgrade.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import psycopg
import pytest

from app_support.postgres import AsyncDatabasePool, DatabasePool, DatabaseSettings
from tests.servers.postgres_server import PostgresServer


@pytest.fixture
def full_settings(small_settings: DatabaseSettings) -> DatabaseSettings:
    # Every connection open and idle: all of them are dead after the restart.
    return dataclasses.replace(small_settings, min_size=3, max_size=3)


@pytest.fixture
def restarted(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    try:
        yield postgres_server
    finally:
        if not postgres_server.is_running():
            postgres_server.start()


def test_idle_connections_recover_without_a_failed_request(
    full_settings: DatabaseSettings, restarted: PostgresServer
) -> None:
    with DatabasePool(full_settings) as pool:
        assert pool.usage()["available"] == 3
        restarted.restart()
        back_up = time.monotonic()
        with pool.connection() as conn:  # the first request after the restart succeeds
            pid = conn.execute("SELECT pg_backend_pid()").fetchone()
        recovery = time.monotonic() - back_up
        print(f"sync pool: first query {recovery * 1000:.1f} ms after the server was back up")
        assert pid is not None
        assert recovery < 5.0
        assert pool.get_stats()["broken_connections"] >= 1
        for _ in range(10):
            with pool.connection() as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)


def test_connection_in_use_fails_once_then_the_pool_heals(
    full_settings: DatabaseSettings, restarted: PostgresServer
) -> None:
    with DatabasePool(full_settings) as pool:
        with pool.connection() as conn:
            restarted.restart()
            with pytest.raises(psycopg.OperationalError):
                conn.execute("SELECT 1")
        assert pool.get_stats()["broken_connections"] >= 1
        assert pool.usage()["used"] == 0
        with pool.connection() as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)


def test_periodic_check_replaces_dead_connections_without_traffic(
    full_settings: DatabaseSettings, restarted: PostgresServer
) -> None:
    settings = dataclasses.replace(full_settings, check_interval=0.2)
    with DatabasePool(settings) as pool:
        restarted.restart()
        deadline = time.monotonic() + 10
        while pool.get_stats().get("connections_lost", 0) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        stats = pool.get_stats()
        assert stats["connections_lost"] == 3  # found by pool.check(), not by a request
        assert "broken_connections" not in stats
        assert stats["pool_checks"] >= 1


async def test_async_pool_recovers_after_restart(
    full_settings: DatabaseSettings, restarted: PostgresServer
) -> None:
    async with AsyncDatabasePool(full_settings) as pool:
        restarted.restart()
        back_up = time.monotonic()
        async with pool.connection() as conn:
            cursor = await conn.execute("SELECT 1")
            assert await cursor.fetchone() == (1,)
        recovery = time.monotonic() - back_up
        print(f"async pool: first query {recovery * 1000:.1f} ms after the server was back up")
        assert recovery < 5.0
        assert pool.get_stats()["broken_connections"] >= 1


def test_recovery_after_an_outage_with_traffic(
    full_settings: DatabaseSettings, restarted: PostgresServer
) -> None:
    # psycopg_pool alone would next retry ~7 s after an 8 s outage began (delays 1, 2, 4, 8 s);
    # the pool's reconnect rounds keep attempts about a second apart.
    settings = dataclasses.replace(full_settings, acquire_timeout=0.5)
    with DatabasePool(settings) as pool:
        restarted.stop()
        down_until = time.monotonic() + 8
        while time.monotonic() < down_until:
            with pytest.raises(psycopg.OperationalError), pool.connection() as conn:
                conn.execute("SELECT 1")
            time.sleep(0.2)
        restarted.start()
        back_up = time.monotonic()
        with pool.connection(timeout=30) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        recovery = time.monotonic() - back_up
        print(
            f"after an 8 s outage: first query {recovery * 1000:.0f} ms after the server was back"
        )
        assert recovery < 4.0
