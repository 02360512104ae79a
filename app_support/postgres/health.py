"""The ``database`` block of the detailed health report, for the sync and the async pool.

``{status, latency, pool: {used, available, max, idle}, connections, error}``: ``latency`` is the
``SELECT 1`` round trip in milliseconds, ``pool`` is read before the check takes its own
connection (``available`` = how many more can be handed out, ``max - used``, as in the plan's
5 used + 15 available = 20 max; ``idle`` = open connections waiting in the pool), and
``connections`` is the server's count of sessions with this pool's ``application_name`` (every
process of the app, when they share the name), from ``pg_stat_activity``. ``status`` is
``degraded`` when requests queue for a connection or the check found none free, ``unhealthy`` when
the server cannot be queried; ``error`` then holds one line with no URL or password. The
functions never raise for a database failure.
"""

from __future__ import annotations

import time
from typing import Any, Literal, TypedDict

from psycopg import conninfo as pg_conninfo

from .errors import DatabasePoolTimeout, safe_error_text
from .pool import DatabasePool
from .pool_async import AsyncDatabasePool
from .stats import PoolUsage

__all__ = ["DatabaseHealth", "PoolBlock", "async_database_health", "database_health"]

_COUNT_SQL = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"


class PoolBlock(TypedDict):
    used: int
    available: int
    max: int
    idle: int


class DatabaseHealth(TypedDict):
    status: Literal["healthy", "degraded", "unhealthy"]
    latency: float | None
    pool: PoolBlock
    connections: int | None
    error: str | None


def _report(
    usage: PoolUsage, latency: float | None, connections: int | None, error: BaseException | None,
    secrets: tuple[str, ...],
) -> DatabaseHealth:  # fmt: skip
    block = PoolBlock(
        used=usage["used"], available=usage["available"], max=usage["max"], idle=usage["idle"]
    )
    if error is not None:
        saturated = isinstance(error, DatabasePoolTimeout) and usage["used"] >= usage["max"]
        return DatabaseHealth(
            status="degraded" if saturated else "unhealthy",
            latency=latency,
            pool=block,
            connections=None,
            error=safe_error_text(error, *secrets),
        )
    return DatabaseHealth(
        status="degraded" if usage["waiting"] else "healthy",
        latency=latency,
        pool=block,
        connections=connections,
        error=None,
    )


def _secrets(url: str) -> tuple[str, ...]:
    password = pg_conninfo.conninfo_to_dict(url).get("password")
    return (url, str(password)) if password else (url,)


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


def database_health(pool: DatabasePool, *, acquire_timeout: float = 3.0) -> DatabaseHealth:
    """Check the sync pool; ``acquire_timeout`` bounds the wait for a pooled connection."""
    usage = pool.usage()
    latency: float | None = None
    try:
        with pool.connection(timeout=acquire_timeout) as conn:
            start = time.perf_counter()
            conn.execute("SELECT 1")
            latency = _ms(start)
            row: Any = conn.execute(_COUNT_SQL, (pool.settings.application_name,)).fetchone()
    except Exception as exc:
        return _report(usage, latency, None, exc, _secrets(pool.settings.url))
    return _report(usage, latency, int(row[0]), None, ())


async def async_database_health(
    pool: AsyncDatabasePool, *, acquire_timeout: float = 3.0
) -> DatabaseHealth:
    """Check the async pool; ``acquire_timeout`` bounds the wait for a pooled connection."""
    usage = pool.usage()
    latency: float | None = None
    try:
        async with pool.connection(timeout=acquire_timeout) as conn:
            start = time.perf_counter()
            await conn.execute("SELECT 1")
            latency = _ms(start)
            cursor = await conn.execute(_COUNT_SQL, (pool.settings.application_name,))
            row: Any = await cursor.fetchone()
    except Exception as exc:
        return _report(usage, latency, None, exc, _secrets(pool.settings.url))
    return _report(usage, latency, int(row[0]), None, ())
