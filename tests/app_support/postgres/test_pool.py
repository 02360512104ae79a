"""The sync pool on a real server: connection settings, statistics, exhaustion, start-up retries."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack

import psycopg
import pytest
from psycopg_pool import PoolTimeout

from app_support.postgres import (
    DatabasePool,
    DatabasePoolTimeout,
    DatabaseSettings,
    DatabaseUnavailable,
    open_pool,
)
from tests.servers.postgres_server import PostgresDatabase, PostgresServer, free_port


@pytest.fixture
def pool(small_settings: DatabaseSettings) -> Iterator[DatabasePool]:
    with DatabasePool(small_settings) as opened:
        yield opened


def test_connections_carry_application_name_and_schema(postgres_database: PostgresDatabase) -> None:
    with psycopg.connect(postgres_database.url) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS sales")
    environ = {"DATABASE_URL": f"{postgres_database.url}?schema=sales&connection_limit=2"}
    settings = DatabaseSettings.from_env(environ, application_name="schema-test")
    with open_pool(settings) as pool, pool.connection() as conn:
        row = conn.execute(
            "SELECT application_name, current_setting('search_path') FROM pg_stat_activity"
            " WHERE pid = pg_backend_pid()"
        ).fetchone()
        assert row == ("schema-test", '"sales"')
        assert pool.usage()["max"] == 2


def test_usage_matches_the_connections_held(pool: DatabasePool) -> None:
    maximum = pool.settings.max_size
    with ExitStack() as stack:
        for held in range(maximum + 1):
            usage = pool.usage()
            assert usage["used"] == held
            assert usage["max"] == maximum
            assert usage["waiting"] == 0
            # The plan's meaning: how many more can be handed out (5 used + 15 available = 20).
            assert usage["available"] == maximum - held
            assert usage["used"] + usage["available"] == usage["max"]
            # Idle (open, in the pool) is psycopg's count: at most what can still be handed out.
            assert 0 <= usage["idle"] <= usage["available"]
            assert pool.get_stats().get("pool_used", 0) == held
            if held < maximum:
                stack.enter_context(pool.connection()).execute("SELECT 1")
    assert pool.usage()["used"] == 0
    assert pool.usage()["available"] == maximum
    assert pool.usage()["idle"] >= 1  # the connections just given back stay open in the pool


def test_available_counts_connections_not_yet_opened(postgres_database: PostgresDatabase) -> None:
    # min_size 1 of max 4: one connection open and idle, three more the pool may still open.
    # psycopg's own "pool_available" (our "idle") says 1 here; the plan's "available" says 4.
    base = DatabaseSettings.from_env(postgres_database.environ)
    settings = dataclasses.replace(base, min_size=1, max_size=4, acquire_timeout=5.0)
    with DatabasePool(settings) as pool:
        usage = pool.usage()
        assert (usage["used"], usage["available"], usage["max"], usage["idle"]) == (0, 4, 4, 1)
        with pool.connection() as conn:
            conn.execute("SELECT 1")
            usage = pool.usage()
            assert (usage["used"], usage["available"], usage["max"]) == (1, 3, 4)
            # 0, or 1 once psycopg_pool has opened a spare in the background (it grows an empty
            # pool by one): either way not the 3 that can still be handed out.
            assert usage["idle"] <= 1


def test_waiting_counts_a_queued_request(pool: DatabasePool) -> None:
    got: list[int] = []
    with ExitStack() as stack:
        for _ in range(pool.settings.max_size):
            stack.enter_context(pool.connection())

        def wait_for_one() -> None:
            with pool.connection(timeout=10) as conn:
                got.append(conn.execute("SELECT 1").fetchone()[0])  # type: ignore[index]

        waiter = threading.Thread(target=wait_for_one)
        waiter.start()
        deadline = time.monotonic() + 5
        while pool.usage()["waiting"] != 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pool.usage()["waiting"] == 1
    waiter.join(10)
    assert got == [1]
    assert pool.usage()["waiting"] == 0


def test_exhausted_pool_times_out_clearly_and_recovers(pool: DatabasePool) -> None:
    timeout = pool.settings.acquire_timeout
    with ExitStack() as stack:
        for _ in range(pool.settings.max_size):
            stack.enter_context(pool.connection())
        start = time.monotonic()
        with pytest.raises(DatabasePoolTimeout) as caught, pool.connection():
            pass
        elapsed = time.monotonic() - start
    print(f"(max+1)-th acquire failed after {elapsed:.3f} s for a {timeout} s timeout")
    assert timeout <= elapsed <= timeout * 1.1
    assert isinstance(caught.value, PoolTimeout)
    message = str(caught.value)
    assert f"all {pool.settings.max_size} connections in use" in message
    assert "DATABASE_CONNECTION_LIMIT" in message
    assert pool.get_stats()["acquire_timeouts"] == 1
    with pool.connection() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert pool.usage()["used"] == 0


def test_pop_stats_resets_counters_and_get_stats_omits_zeros(pool: DatabasePool) -> None:
    for _ in range(3):
        with pool.connection() as conn:
            conn.execute("SELECT 1")
    stats = pool.pop_stats()
    assert stats["acquires"] == 3
    assert "acquire_wait_ms" in stats or stats["acquires"]  # sub-millisecond waits round to 0
    after = pool.get_stats()
    assert "acquires" not in after
    assert "requests_num" not in after
    assert after["pool_max"] == pool.settings.max_size
    assert all(value != 0 for value in after.values())


def test_start_up_gives_up_after_the_configured_attempts(caplog: pytest.LogCaptureFixture) -> None:
    url = f"postgresql://app:hunter2-pw@127.0.0.1:{free_port()}/app"
    settings = DatabaseSettings(url=url, retry_attempts=3, retry_backoff=0.05, connect_timeout=2)
    with caplog.at_level(logging.WARNING), pytest.raises(DatabaseUnavailable) as caught:
        open_pool(settings)
    message = str(caught.value)
    assert "after 3 attempt(s)" in message
    assert "127.0.0.1" in message
    assert "hunter2-pw" not in message
    assert caplog.text.count("retrying in") == 2


def test_wrong_password_is_reported_without_it(postgres_server: PostgresServer) -> None:
    url = postgres_server.url.replace(postgres_server.password, "not-the-pw-42")
    settings = DatabaseSettings(url=url, retry_attempts=1)
    with pytest.raises(DatabaseUnavailable, match="password authentication failed") as caught:
        open_pool(settings)
    assert "not-the-pw-42" not in str(caught.value)


def test_start_up_waits_for_a_server_that_comes_up(
    postgres_server: PostgresServer, small_settings: DatabaseSettings
) -> None:
    settings = dataclasses.replace(small_settings, retry_attempts=8, retry_backoff=0.2)
    postgres_server.stop()
    starter = threading.Timer(1.0, postgres_server.start)
    try:
        starter.start()
        with open_pool(settings) as pool, pool.connection() as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        starter.join(60)
        if not postgres_server.is_running():
            postgres_server.start()
