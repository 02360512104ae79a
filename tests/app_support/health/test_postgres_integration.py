"""The health core against a real PostgreSQL: app_support.postgres's health functions."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import time
from contextlib import ExitStack
from typing import Any

from flask import Flask

from app_support.health import HealthService, HealthSettings
from app_support.health.wsgi import HealthWSGIMiddleware
from app_support.postgres import (
    AsyncDatabasePool,
    DatabasePool,
    DatabaseSettings,
    async_database_health,
    database_health,
)
from tests.servers.postgres_server import PostgresServer

from .conftest import respond


def settings_for(server: PostgresServer, name: str) -> DatabaseSettings:
    settings = DatabaseSettings.from_env(server.environ, application_name=name)
    return dataclasses.replace(
        settings, max_size=3, min_size=1, acquire_timeout=2.0, retry_backoff=0.1
    )


async def detailed(service: HealthService, path: str = "/api/health/detailed") -> tuple[int, Any]:
    response = await respond(service, path)
    assert response is not None
    return response.status_code, json.loads(response.body)


async def test_database_block_and_single_flight(postgres_server: PostgresServer) -> None:
    async with AsyncDatabasePool(settings_for(postgres_server, "health-core")) as pool:
        service = HealthService(HealthSettings(deadline=10, check_timeout=10), system_checks=False)
        service.add_database_check(functools.partial(async_database_health, pool))
        before = pool.get_stats().get("requests_num", 0)
        results = await asyncio.gather(*(detailed(service) for _ in range(30)))
        # Thirty probes, one connection checkout: one SELECT 1 round trip for all of them.
        assert pool.get_stats().get("requests_num", 0) - before == 1
        code, body = results[0]
        database = body["services"]["database"]
        assert (code, database["status"], database["error"]) == (200, "healthy", None)
        assert database["pool"]["max"] == 3
        assert set(database["pool"]) == {"used", "available", "max", "idle"}
        # The plan's meaning of "available": what can still be handed out (5 + 15 = 20 max).
        assert database["pool"]["used"] + database["pool"]["available"] == 3
        assert isinstance(database["latency"], int | float)
        assert database["connections"] >= 1
        service.close()


async def test_busy_pool_turns_degraded(postgres_server: PostgresServer) -> None:
    async with AsyncDatabasePool(settings_for(postgres_server, "health-busy")) as pool:
        service = HealthService(
            HealthSettings(pool_degraded_percent=60, deadline=10, check_timeout=10),
            system_checks=False,
        )
        service.add_database_check(functools.partial(async_database_health, pool))
        async with pool.connection(), pool.connection():  # 2 of 3 in use: 67 %
            code, body = await detailed(service)
        assert (code, body["services"]["database"]["status"]) == (200, "degraded")
        assert body["services"]["database"]["pool"]["used"] == 2
        service.close()


async def test_database_down_fails_readiness_without_leaking_secrets(
    postgres_server: PostgresServer,
) -> None:
    async with AsyncDatabasePool(settings_for(postgres_server, "health-down")) as pool:
        service = HealthService(
            HealthSettings(deadline=10, check_timeout=5, failure_ttl=0.1, breaker_failures=100),
            system_checks=False,
        )
        service.mark_started()
        service.add_database_check(functools.partial(async_database_health, pool))
        postgres_server.stop()
        try:
            response = await respond(service, "/api/health/ready")
            liveness = await respond(service, "/api/health")
        finally:
            postgres_server.start()
        assert response is not None
        assert liveness is not None
        assert (response.status_code, liveness.status_code) == (503, 200)
        assert postgres_server.password.encode() not in response.body
        assert b"postgresql://" not in response.body
        database = json.loads(response.body)["services"]["database"]
        assert database["status"] == "unhealthy"
        assert database["error"]
        deadline = time.monotonic() + 30
        while True:  # the pool heals; the short failure TTL lets the next probe see it
            await asyncio.sleep(0.2)
            code, body = await detailed(service, "/api/health/ready")
            if code == 200 or time.monotonic() > deadline:
                break
        assert body["services"]["database"]["status"] == "healthy"
        service.close()


def test_sync_pool_behind_flask(postgres_server: PostgresServer) -> None:
    with DatabasePool(settings_for(postgres_server, "health-wsgi")) as pool, ExitStack() as stack:
        service = HealthService(HealthSettings(deadline=10, check_timeout=10), system_checks=False)
        service.add_database_check(functools.partial(database_health, pool))
        app = Flask(__name__)
        middleware = HealthWSGIMiddleware(app.wsgi_app, service=service)
        stack.callback(middleware.close)
        app.wsgi_app = middleware  # type: ignore[method-assign]
        http = app.test_client()
        response = http.get("/api/health/detailed")
        assert response.status_code == 200
        body = response.json
        assert body is not None
        assert body["services"]["database"]["pool"]["max"] == 3
        assert http.get("/api/health/ready").status_code == 200
