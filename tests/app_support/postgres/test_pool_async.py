"""The async pool: statistics and exhaustion behave like the sync pool's."""

from __future__ import annotations

import time
from contextlib import AsyncExitStack

import pytest

from app_support.postgres import (
    DatabasePoolTimeout,
    DatabaseSettings,
    DatabaseUnavailable,
    open_async_pool,
)
from tests.servers.postgres_server import free_port


async def test_usage_exhaustion_and_recovery(small_settings: DatabaseSettings) -> None:
    pool = await open_async_pool(small_settings)
    try:
        timeout = small_settings.acquire_timeout
        async with AsyncExitStack() as stack:
            for held in range(1, small_settings.max_size + 1):
                conn = await stack.enter_async_context(pool.connection())
                await conn.execute("SELECT 1")
                assert pool.usage()["used"] == held
                assert pool.usage()["available"] == small_settings.max_size - held
            start = time.monotonic()
            with pytest.raises(DatabasePoolTimeout, match="DATABASE_CONNECTION_LIMIT"):
                async with pool.connection():
                    pass
            elapsed = time.monotonic() - start
        print(f"async (max+1)-th acquire failed after {elapsed:.3f} s for a {timeout} s timeout")
        assert timeout <= elapsed <= timeout * 1.1
        stats = pool.pop_stats()
        assert stats["acquires"] == small_settings.max_size
        assert stats["acquire_timeouts"] == 1
        assert "acquire_timeouts" not in pool.get_stats()
        async with pool.connection() as conn:
            cursor = await conn.execute("SELECT current_setting('application_name')")
            assert await cursor.fetchone() == ("pg-tests",)
        assert pool.usage() == {"used": 0, "available": 3, "max": 3, "waiting": 0,
                                "idle": pool.usage()["idle"]}  # fmt: skip
    finally:
        await pool.close()


async def test_start_up_gives_up_after_the_configured_attempts() -> None:
    url = f"postgresql://app:hunter2-pw@127.0.0.1:{free_port()}/app"
    settings = DatabaseSettings(url=url, retry_attempts=2, retry_backoff=0.05)
    with pytest.raises(DatabaseUnavailable, match=r"after 2 attempt\(s\)") as caught:
        await open_async_pool(settings)
    assert "hunter2-pw" not in str(caught.value)
