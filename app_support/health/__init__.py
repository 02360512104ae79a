"""Health endpoints for ASGI and WSGI apps over one framework-free core.

`HealthService` holds the checks (a check is a sync or async callable with no arguments returning
{"status": "healthy" | "degraded" | "unhealthy", <fields>}; raising means unhealthy) and answers
/api/health, /api/health/ready, /api/health/detailed and /api/system/health through its HTTP face
`HealthHTTP` (app_support.health.http). Adapters:
`app_support.health.asgi.HealthMiddleware` and `app_support.health.wsgi.HealthWSGIMiddleware`.

    health = HealthService.from_env()                  # APP_ENV, APP_VERSION, METRICS_TOKEN
    health.add_database_check(functools.partial(async_database_health, pool))
    health.add_redis_check(functools.partial(redis_health, redis_client))
    health.add_queue_check("import", import_queue.stats)
    app = HealthMiddleware(starlette_app, service=health)   # readiness follows the lifespan
"""

from .breaker import BreakerState, CircuitBreaker
from .check import Check, CheckFunc, CheckResult
from .dependencies import pool_threshold, queue_block
from .http import (
    DETAILED_PATH,
    HEALTH_PATHS,
    LIVENESS_PATH,
    READINESS_PATH,
    SYSTEM_PATH,
    HealthHTTP,
    HealthResponse,
)
from .report import HEALTH_JSON
from .sanitize import sanitize_error
from .service import Evaluation, HealthService, Lifecycle, View
from .settings import HealthConfigError, HealthSettings
from .status import Status, http_status
from .system import cpu_check, disk_check, memory_check

__all__ = [
    "DETAILED_PATH",
    "HEALTH_JSON",
    "HEALTH_PATHS",
    "LIVENESS_PATH",
    "READINESS_PATH",
    "SYSTEM_PATH",
    "BreakerState",
    "Check",
    "CheckFunc",
    "CheckResult",
    "CircuitBreaker",
    "Evaluation",
    "HealthConfigError",
    "HealthHTTP",
    "HealthResponse",
    "HealthService",
    "HealthSettings",
    "Lifecycle",
    "Status",
    "View",
    "cpu_check",
    "disk_check",
    "http_status",
    "memory_check",
    "pool_threshold",
    "queue_block",
    "sanitize_error",
]
