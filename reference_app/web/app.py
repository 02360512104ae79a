"""The ASGI app: Starlette routes behind app_support's metrics and health middleware.

    app = create_app()        # everything from the environment (docs/architecture.md)

Request flow: HealthMiddleware answers /api/health, /api/health/ready, /api/health/detailed and
/api/system/health (readiness follows the lifespan); MetricsMiddleware times every other request by
route template; Starlette routes the rest. Start-up opens the services (pool, Redis clients) and
migrates the schema before readiness passes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from prometheus_client import REGISTRY, CollectorRegistry
from starlette.applications import Starlette
from starlette.routing import Route

from app_support.health import HealthService
from app_support.health.asgi import ASGIApp, HealthMiddleware
from app_support.metrics import (
    HttpMetrics,
    MetricsASGIApp,
    MetricsEndpoint,
    MetricsMiddleware,
    MetricsSettings,
)
from app_support.postgres import async_database_health
from app_support.redis.errors import WriteNotConfirmedError
from app_support.redis.health import redis_health
from reference_app.config import AppConfig
from reference_app.services import ANALYTICS_QUEUE, IMPORT_QUEUE, Services, open_services
from reference_app.web.analytics import analytics
from reference_app.web.auth import me, sign_in, sign_out
from reference_app.web.limits import RequestLimits
from reference_app.web.outage import OutageGate, dependency_handlers
from reference_app.web.unavailable import not_confirmed, retry_after_of
from reference_app.web.uploads import import_status, list_user_imports, upload

__all__ = ["create_app"]


def _add_checks(health: HealthService, services: Services) -> None:
    health.add_database_check(lambda: async_database_health(services.database))
    health.add_redis_check(lambda: redis_health(services.redis))
    health.add_queue_check(IMPORT_QUEUE, services.import_queue.stats)
    health.add_queue_check(ANALYTICS_QUEUE, services.analytics_queue.stats)


def create_app(
    config: AppConfig | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    registry: CollectorRegistry = REGISTRY,
    limits: RequestLimits | None = None,
) -> ASGIApp:
    """The web service as an ASGI app; run its lifespan (uvicorn does) before serving requests.

    ``environ`` defaults to ``os.environ``; ``registry`` to prometheus-client's default (tests pass
    a fresh one); ``limits`` bound request bodies (see RequestLimits). Raises a ValueError
    subclass naming the variable when the environment is bad (checked here, before any
    connection; Redis and database variables at start-up).
    """
    config = AppConfig.from_env(environ) if config is None else config
    health = HealthService.from_env(environ)
    endpoint = MetricsEndpoint(registry=registry, settings=MetricsSettings.from_env(environ))
    http_metrics = HttpMetrics(registry=registry)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_services(config, role="web", environ=environ, registry=registry) as svc:
            _add_checks(health, svc)
            app.state.services = svc
            app.state.limits = limits or RequestLimits()
            yield

    routes = [
        Route("/api/auth/sign-in", sign_in, methods=["POST"]),
        Route("/api/auth/sign-out", sign_out, methods=["POST"]),
        Route("/api/auth/me", me, methods=["GET"]),
        Route("/api/imports", upload, methods=["POST"]),
        Route("/api/imports", list_user_imports, methods=["GET"]),
        Route("/api/imports/{import_id}", import_status, methods=["GET"]),
        Route("/api/analytics/{name}", analytics, methods=["GET"]),
        Route("/metrics", MetricsASGIApp(endpoint), methods=["GET", "HEAD"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            WriteNotConfirmedError: not_confirmed,  # 503, not 500 (issue 11)
            **dependency_handlers(),  # Redis or PostgreSQL down: 503 JSON (issue 13)
        },
    )
    # While a critical dependency's breaker is open, API requests get 503 at once.
    gate = OutageGate(app, health, retry_after=lambda: retry_after_of(app.state))
    return HealthMiddleware(MetricsMiddleware(gate, metrics=http_metrics), service=health)
