"""Endpoints of the core: liveness without I/O, readiness lifecycle, detail hiding, thresholds."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from app_support.health import HealthService

from .conftest import CountingCheck, respond


async def get(
    service: HealthService,
    path: str,
    *,
    accept: str | None = None,
    authorization: str | None = None,
) -> tuple[int, dict[str, Any]]:
    response = await respond(service, path, accept=accept, authorization=authorization)
    assert response is not None
    body: dict[str, Any] = json.loads(response.body) if response.body else {}
    return response.status_code, body


async def test_liveness_never_calls_a_check(make_service: Callable[..., HealthService]) -> None:
    service = make_service()
    check = CountingCheck({"status": "unhealthy"})
    service.add_check("database", check, critical=True)
    service.mark_draining()
    code, body = await get(service, "/api/health")
    assert (code, body["status"]) == (200, "healthy")
    assert set(body) == {"timestamp", "status", "version", "uptime"}
    assert check.calls == 0


async def test_readiness_follows_the_lifecycle_and_critical_checks(
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service()
    database = CountingCheck()
    queue = CountingCheck({"status": "unhealthy"})
    service.add_check("database", database, critical=True)
    service.add_check("queues.import", queue)

    code, body = await get(service, "/api/health/ready")
    assert (code, body["status"], body["lifecycle"]) == (503, "unhealthy", "starting")
    assert database.calls == 0  # nothing is probed before start-up is done

    service.mark_started()
    code, body = await get(service, "/api/health/ready")
    assert (code, body["status"], body["lifecycle"]) == (200, "healthy", "started")
    assert body["services"] == {
        "database": {
            "status": "healthy",
            "error": None,
            "latency": body["services"]["database"]["latency"],
        }
    }
    assert queue.calls == 0  # readiness asks critical dependencies only

    service.mark_draining()
    code, body = await get(service, "/api/health/ready")
    assert (code, body["lifecycle"]) == (503, "draining")


async def test_production_hides_details_from_anonymous_callers(
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service(environment="production", metrics_token="s3cret-token-0123456")
    service.mark_started()
    check = CountingCheck({"status": "degraded", "error": "slow"})
    service.add_check("database", check, critical=True)
    for path in ("/api/health", "/api/health/ready", "/api/health/detailed", "/api/system/health"):
        for authorization in (None, "Bearer wrong", "s3cret-token-0123456"):
            code, body = await get(service, path, authorization=authorization)
            assert body in ({"status": "healthy"}, {"status": "degraded"}), (path, body)
            assert code == 200
    code, body = await get(
        service, "/api/health/detailed", authorization="Bearer s3cret-token-0123456"
    )
    assert body["services"]["database"]["error"] == "slow"
    code, body = await get(service, "/api/health/detailed", accept="application/health+json")
    assert body == {"status": "warn"}


async def test_development_shows_details_to_everyone(
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service()
    service.add_check("database", CountingCheck())
    _, body = await get(service, "/api/health/detailed")
    assert "services" in body


async def test_routing(make_service: Callable[..., HealthService]) -> None:
    service = make_service()
    assert await respond(service, "/api/other") is None
    assert await respond(service, "/") is None
    trailing = await respond(service, "/api/health/")
    assert trailing is not None
    assert trailing.status_code == 200
    post = await respond(service, "/api/health", method="POST")
    assert post is not None
    assert (post.status_code, dict(post.headers)["allow"]) == (405, "GET, HEAD")


async def test_system_endpoint_and_thresholds(make_service: Callable[..., HealthService]) -> None:
    service = make_service(
        system_checks=True,
        memory_degraded_percent=0.001,
        cpu_degraded_percent=100,
        pool_degraded_percent=50,
        queue_backlog_degraded=10,
    )
    service.add_check("database", CountingCheck())
    code, body = await get(service, "/api/system/health")
    assert (code, body["status"]) == (200, "degraded")
    assert "services" not in body
    system = body["system"]
    assert isinstance(system, dict)
    assert set(system) == {"memory", "cpu", "disk"}
    assert system["memory"]["status"] == "degraded"
    assert system["cpu"]["status"] == "healthy"

    service.add_database_check(
        lambda: {
            "status": "healthy",
            "pool": {"used": 5, "available": 5, "max": 10},
            "error": None,
        },
        name="replica",
    )
    service.add_queue_check("import", lambda: {"waiting": 10, "active": 0, "completed": 0})
    service.add_queue_check("analytics", lambda: {"waiting": 9, "active": 0, "completed": 0})
    _, body = await get(service, "/api/health/detailed")
    services = body["services"]
    assert isinstance(services, dict)
    assert services["replica"]["status"] == "degraded"
    assert services["queues"]["import"]["status"] == "degraded"
    assert services["queues"]["analytics"]["status"] == "healthy"
    assert services["queues"]["analytics"]["failed"] == 0
