"""A Flask app instrumented in multiprocess mode, served by gunicorn workers in test_multiprocess.

The test sets PROMETHEUS_MULTIPROC_DIR before gunicorn starts, so prometheus_client stores values
in that directory, plus QUEUE_NAMESPACE and the REDIS_* and DATABASE_* variables of the test
servers.
Each worker reads the queue stats from Redis and the pool usage of its own pool at scrape time.
``GET /work/<n>`` sleeps briefly (so concurrent requests land on different sync workers) and
answers with the worker's pid.
"""

from __future__ import annotations

import os

from flask import Flask
from prometheus_client import CollectorRegistry
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from app_support.metrics import (
    HttpMetrics,
    MetricsEndpoint,
    MetricsSettings,
    MetricsWSGIApp,
    MetricsWSGIMiddleware,
    PoolUsageCollector,
    QueueStatsCollector,
    database_query_observer,
    register_build_info,
    register_process_metrics,
)
from app_support.postgres.pool import DatabasePool
from app_support.postgres.settings import DatabaseSettings
from app_support.redis import RedisSettings, SyncJobQueue, create_client

__all__ = ["app"]

settings = MetricsSettings.from_env()
registry = CollectorRegistry()
redis_client = create_client(RedisSettings.from_env())
QueueStatsCollector(
    [SyncJobQueue(redis_client, "import", namespace=os.environ["QUEUE_NAMESPACE"])],
    registry=registry,
)
pool = DatabasePool(
    DatabaseSettings.from_env(), on_query=database_query_observer(registry=registry)
)
pool.open()
PoolUsageCollector(pool.usage, registry=registry)
register_process_metrics(registry=registry, multiprocess_dir=settings.multiprocess_dir)
register_build_info(settings.version, registry=registry)

flask_app = Flask(__name__)


@flask_app.get("/work/<int:n>")
def work(n: int) -> str:
    with pool.connection() as conn:
        conn.execute("SELECT pg_sleep(0.1)")
    return str(os.getpid())


app = DispatcherMiddleware(
    MetricsWSGIMiddleware(flask_app.wsgi_app, metrics=HttpMetrics(registry=registry)),
    {"/metrics": MetricsWSGIApp(MetricsEndpoint(registry=registry, settings=settings))},
)
