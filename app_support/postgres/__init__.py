"""PostgreSQL for apps: psycopg 3 + psycopg_pool configured from the environment.

``DatabaseSettings.from_env()`` reads ``DATABASE_URL`` (Prisma-style ``connection_limit``,
``pool_timeout`` and ``schema`` parameters included) and the ``DATABASE_*`` variables;
``open_pool`` / ``open_async_pool`` build a pool that retries start-up, heals after a server
restart, keeps real statistics (``usage()``, ``get_stats()``, ``pop_stats()``) and times every query
through an ``on_query(operation, table, seconds, failed)`` hook; ``database_health`` /
``async_database_health`` give the ``database`` block of the detailed health report.
"""

from .errors import DatabaseConfigError, DatabasePoolTimeout, DatabaseUnavailable
from .health import DatabaseHealth, async_database_health, database_health
from .pool import DatabasePool, open_pool
from .pool_async import AsyncDatabasePool, open_async_pool
from .settings import UNLIMITED_WAIT, DatabaseSettings, default_max_size
from .stats import PoolUsage
from .timing import OTHER, QueryHook, classify

__all__ = [
    "OTHER",
    "UNLIMITED_WAIT",
    "AsyncDatabasePool",
    "DatabaseConfigError",
    "DatabaseHealth",
    "DatabasePool",
    "DatabasePoolTimeout",
    "DatabaseSettings",
    "DatabaseUnavailable",
    "PoolUsage",
    "QueryHook",
    "async_database_health",
    "classify",
    "database_health",
    "default_max_size",
    "open_async_pool",
    "open_pool",
]
