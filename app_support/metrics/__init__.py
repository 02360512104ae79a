"""Prometheus metrics for apps on the stack: HTTP, database, Redis, queues, pool, system, business.

Typical wiring (every function takes a ``registry``; tests pass a fresh ``CollectorRegistry``)::

    registry = CollectorRegistry()
    settings = MetricsSettings.from_env()
    http = HttpMetrics(registry=registry)
    on_query = database_query_observer(registry=registry)    # hook for app_support.postgres
    on_command = redis_command_observer(registry=registry)   # hook for app_support.redis
    QueueStatsCollector([import_queue, analytics_queue], registry=registry)
    jobs = JobMetrics(queues=["import", "analytics"], registry=registry)
    JobQueue(client, "import", on_finish=jobs.observe)       # app_support.redis's queue hook
    PoolUsageCollector(pool_usage, registry=registry)
    register_process_metrics(registry=registry, multiprocess_dir=settings.multiprocess_dir)
    SystemUsageCollector(registry=registry)                  # memory and CPU, container-aware
    register_build_info(settings.version, registry=registry)
    endpoint = MetricsEndpoint(registry=registry, settings=settings)
    app = MetricsMiddleware(starlette_app, metrics=http)     # serve MetricsASGIApp(endpoint)

In multiprocess mode ``PROMETHEUS_MULTIPROC_DIR`` must be set before prometheus_client is imported,
and gunicorn should load :mod:`app_support.metrics.gunicorn_hooks`.
"""

from app_support.metrics.asgi import MetricsASGIApp, MetricsMiddleware
from app_support.metrics.business import IMPORT_RESULTS, ImportMetrics
from app_support.metrics.collectors import (
    POOL_FIELDS,
    QUEUE_STATES,
    PoolUsageCollector,
    QueueStatsCollector,
    StatsSource,
    WorkerProcessCollector,
    register_build_info,
    register_process_metrics,
)
from app_support.metrics.endpoint import MetricsEndpoint, MetricsResponse
from app_support.metrics.hooks import (
    CommandHook,
    QueryHook,
    database_query_observer,
    redis_command_observer,
)
from app_support.metrics.http import (
    DEFAULT_EXCLUDED_PATHS,
    KNOWN_METHODS,
    OTHER_METHOD,
    UNMATCHED_ROUTE,
    HttpMetrics,
)
from app_support.metrics.jobs import JOB_RESULTS, JobMetrics
from app_support.metrics.multiprocess import clear_multiprocess_dir, exposition_registry
from app_support.metrics.server import MetricsServer, start_metrics_server
from app_support.metrics.settings import MetricsConfigError, MetricsSettings
from app_support.metrics.system import SystemUsageCollector
from app_support.metrics.wsgi import MetricsWSGIApp, MetricsWSGIMiddleware

__all__ = [
    "DEFAULT_EXCLUDED_PATHS",
    "IMPORT_RESULTS",
    "JOB_RESULTS",
    "KNOWN_METHODS",
    "OTHER_METHOD",
    "POOL_FIELDS",
    "QUEUE_STATES",
    "UNMATCHED_ROUTE",
    "CommandHook",
    "HttpMetrics",
    "ImportMetrics",
    "JobMetrics",
    "MetricsASGIApp",
    "MetricsConfigError",
    "MetricsEndpoint",
    "MetricsMiddleware",
    "MetricsResponse",
    "MetricsServer",
    "MetricsSettings",
    "MetricsWSGIApp",
    "MetricsWSGIMiddleware",
    "PoolUsageCollector",
    "QueryHook",
    "QueueStatsCollector",
    "StatsSource",
    "SystemUsageCollector",
    "WorkerProcessCollector",
    "clear_multiprocess_dir",
    "database_query_observer",
    "exposition_registry",
    "redis_command_observer",
    "register_build_info",
    "register_process_metrics",
    "start_metrics_server",
]
