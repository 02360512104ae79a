"""Everything the web service and the worker share, opened from the environment and closed once.

One place wires app_support into the app: Redis clients (async for requests and jobs, sync for the
metrics collector that runs in the scrape thread), the ``import`` and ``analytics`` queues, the
analytics cache, sessions, rate limiters, the database pool, the schema migration and the metrics
registry. Settings are all read and validated before the first connection is made, so a bad
variable fails start-up with its name, not a timeout.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry

from app_support.metrics import (
    ImportMetrics,
    JobMetrics,
    MetricsSettings,
    PoolUsageCollector,
    QueueStatsCollector,
    SystemUsageCollector,
    database_query_observer,
    redis_command_observer,
    register_build_info,
    register_process_metrics,
)
from app_support.postgres import AsyncDatabasePool, DatabaseSettings
from app_support.redis import (
    AsyncRedisClient,
    RedisSettings,
    SyncRedisClient,
    create_async_client,
    create_client,
)
from app_support.redis.cache import Cache
from app_support.redis.queue import JobQueue, SyncJobQueue
from app_support.redis.ratelimit import RateLimiter
from app_support.redis.sessions import SessionStore
from reference_app.config import AppConfig
from reference_app.redis_check import check_redis
from reference_app.schema import migrate

__all__ = ["ANALYTICS_QUEUE", "IMPORT_QUEUE", "TABLES", "Services", "open_services"]

IMPORT_QUEUE = "import"
ANALYTICS_QUEUE = "analytics"
# Query timing reports these tables by name (anything else as "other").
TABLES = ("users", "imports", "sales", "schema_migrations")


@dataclass
class Services:
    """Open resources of one process; build with :func:`open_services`."""

    config: AppConfig
    registry: CollectorRegistry
    metrics_settings: MetricsSettings
    redis_settings: RedisSettings
    redis: AsyncRedisClient
    redis_sync: SyncRedisClient
    database: AsyncDatabasePool
    import_queue: JobQueue
    analytics_queue: JobQueue
    cache: Cache
    sessions: SessionStore
    sign_in_limiter: RateLimiter
    upload_limiter: RateLimiter
    imports: ImportMetrics


def _queue(redis: AsyncRedisClient, name: str, config: AppConfig, jobs: JobMetrics) -> JobQueue:
    # No durability argument here or for SessionStore: both take the client's
    # (REDIS_WAIT_REPLICAS / REDIS_WAIT_TIMEOUT, recorded by the factory), the one default.
    return JobQueue(
        redis,
        name,
        lease=config.job_lease,
        max_attempts=config.max_attempts,
        on_finish=jobs.observe,  # job duration and result, per queue
    )


@asynccontextmanager
async def open_services(
    config: AppConfig,
    *,
    role: str,
    environ: Mapping[str, str] | None = None,
    registry: CollectorRegistry = REGISTRY,
) -> AsyncIterator[Services]:
    """Open the pool (retrying per DATABASE_RETRY_ATTEMPTS), migrate the schema, yield, close.

    ``role`` (``web`` or ``worker``) names the database sessions (``reference-app-<role>``).
    Raises RedisConfigError, DatabaseConfigError or MetricsConfigError (all ValueError) for a bad
    variable before any I/O, and DatabaseUnavailable when PostgreSQL cannot be reached.
    """
    metrics_settings = MetricsSettings.from_env(environ)
    redis_settings = RedisSettings.from_env(environ)
    db_settings = DatabaseSettings.from_env(
        environ, tables=TABLES, application_name=f"reference-app-{role}"
    )
    on_command = redis_command_observer(registry=registry)
    on_query = database_query_observer(registry=registry)
    redis = create_async_client(redis_settings, on_command=on_command)
    redis_sync = create_client(redis_settings, on_command=on_command)
    database = AsyncDatabasePool(db_settings, on_query=on_query)
    jobs = JobMetrics(queues=[IMPORT_QUEUE, ANALYTICS_QUEUE], registry=registry)
    try:
        await database.open()
        await check_redis(redis, redis_settings, db_settings)  # same retries; names the variable
        async with database.connection() as conn:
            await migrate(conn, schema=db_settings.schema)
        services = Services(
            config=config,
            registry=registry,
            metrics_settings=metrics_settings,
            redis_settings=redis_settings,
            redis=redis,
            redis_sync=redis_sync,
            database=database,
            import_queue=_queue(redis, IMPORT_QUEUE, config, jobs),
            analytics_queue=_queue(redis, ANALYTICS_QUEUE, config, jobs),
            cache=Cache(redis, namespace="analytics", default_ttl=config.analytics_cache_ttl),
            sessions=SessionStore(redis, ttl=config.session_ttl),
            sign_in_limiter=RateLimiter(redis, config.sign_in_limit, key_prefix="limit-sign-in"),
            upload_limiter=RateLimiter(redis, config.upload_limit, key_prefix="limit-upload"),
            imports=ImportMetrics(registry=registry),
        )
        # Collected in the scrape thread, hence the sync twins of the queues.
        QueueStatsCollector(
            [SyncJobQueue(redis_sync, name) for name in (IMPORT_QUEUE, ANALYTICS_QUEUE)],
            registry=registry,
        )
        PoolUsageCollector(database.usage, pool=f"reference-app-{role}", registry=registry)
        register_process_metrics(
            registry=registry, multiprocess_dir=metrics_settings.multiprocess_dir
        )
        SystemUsageCollector(registry=registry)  # memory and CPU, the container's when limited
        register_build_info(metrics_settings.version, registry=registry)
        yield services
    finally:
        await database.close()
        await redis.aclose()
        redis_sync.close()
