"""The detailed report against the plan's "Enhanced Health Check Response", field by field,
and the application/health+json variant."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable

import pytest

from app_support.health import HEALTH_JSON, HealthService
from app_support.health.request import bearer_token_matches, prefers_health_json

from .conftest import respond

# Copied from ../shared/plan/infrastructure-plan.md, "Enhanced Health Check Response".
PLAN_EXAMPLE = json.loads("""
{
  "timestamp": "2023-01-01T0:00:00.000Z",
  "status": "healthy",
  "version": "1.0.0",
  "uptime": 3600,
  "services": {
    "database": {"status": "healthy", "latency": 5,
                 "pool": {"used": 5, "available": 15, "max": 20}, "error": null},
    "redis": {"status": "healthy", "latency": 2, "mode": "cluster", "nodes": 3, "error": null},
    "queues": {
      "import": {"status": "healthy", "waiting": 0, "active": 2, "completed": 100},
      "analytics": {"status": "healthy", "waiting": 5, "active": 0, "completed": 50}
    }
  },
  "system": {
    "memory": {"used": "128MB", "total": "512MB", "percentage": 25},
    "cpu": {"usage": 15}
  }
}
""")


def plan_service(make_service: Callable[..., HealthService]) -> HealthService:
    """The plan example's dependencies, as the Redis and PostgreSQL pieces report them."""
    # Thresholds of 100 never degrade: the plan example is healthy whatever the machine's load.
    service = make_service(
        system_checks=True,
        version="1.0.0",
        memory_degraded_percent=100,
        cpu_degraded_percent=100,
        disk_degraded_percent=100,
    )
    service.add_database_check(
        lambda: {
            "status": "healthy",
            "latency": 5,
            "pool": {"used": 5, "available": 15, "max": 20},
            "connections": 5,
            "error": None,
        }
    )
    service.add_redis_check(
        lambda: {
            "status": "healthy",
            "latency": 2,
            "mode": "cluster",
            "nodes": 3,
            "master": None,
            "replicas": 0,
            "cluster_state": "ok",
            "error": None,
        }
    )
    service.add_queue_check(
        "import", lambda: {"waiting": 0, "active": 2, "completed": 100, "failed": 0}
    )
    service.add_queue_check(
        "analytics", lambda: {"waiting": 5, "active": 0, "completed": 50, "failed": 1}
    )
    return service


def leaves(tree: object, prefix: str = "") -> dict[str, object]:
    if not isinstance(tree, dict):
        return {prefix: tree}
    out: dict[str, object] = {}
    for key, value in tree.items():
        out.update(leaves(value, f"{prefix}.{key}" if prefix else key))
    return out


def json_type(value: object) -> str:
    return {bool: "bool", str: "str", type(None): "null"}.get(
        type(value), "number" if isinstance(value, int | float) else type(value).__name__
    )


async def test_every_plan_field_is_there_with_the_plan_type(
    make_service: Callable[..., HealthService],
) -> None:
    service = plan_service(make_service)
    response = await respond(service, "/api/health/detailed")
    assert response is not None
    assert (response.status_code, response.content_type) == (200, "application/json")
    report = json.loads(response.body)
    got, want = leaves(report), leaves(PLAN_EXAMPLE)
    for field, example in want.items():
        assert field in got, f"plan field {field} missing"
        # A field that is null in the example (error) may only be null or text.
        allowed = {"null", "str"} if example is None else {json_type(example)}
        assert json_type(got[field]) in allowed, f"{field}: {got[field]!r} vs plan {example!r}"
    # The values the dependencies reported reach the report unchanged.
    for field, example in want.items():
        if field.startswith("services.") or field in ("status", "version"):
            assert got[field] == example, field
    assert list(report) == ["timestamp", "status", "version", "uptime", "services", "system"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", report["timestamp"])
    assert re.fullmatch(r"\d+MB", report["system"]["memory"]["used"])
    assert 0 <= report["system"]["memory"]["percentage"] <= 100
    # Beyond the plan: disk, per-check latency.
    assert set(report["system"]["disk"]) >= {"status", "used", "total", "percentage"}
    assert all("latency" in b for b in report["system"].values())
    assert all("latency" in b for b in report["services"]["queues"].values())


async def test_health_json_when_the_client_asks_for_it(
    make_service: Callable[..., HealthService],
) -> None:
    service = plan_service(make_service)
    service.add_check("search", lambda: {"status": "unhealthy", "error": "index missing"})
    response = await respond(
        service, "/api/health/detailed", accept="application/health+json, application/json;q=0.5"
    )
    assert response is not None
    assert response.content_type == HEALTH_JSON
    body = json.loads(response.body)
    assert (body["status"], body["releaseId"], body["version"]) == ("warn", "1.0.0", "1")
    checks = body["checks"]
    assert set(checks) >= {
        "database:responseTime",
        "redis:responseTime",
        "queues.import:backlog",
        "memory:utilization",
        "cpu:utilization",
        "disk:utilization",
        "uptime",
        "search:responseTime",
    }
    for entries in checks.values():
        for entry in entries:
            assert {"observedValue", "observedUnit", "status", "time"} <= set(entry)
            assert entry["status"] in ("pass", "warn", "fail")
    assert checks["database:responseTime"][0]["observedValue"] == 5
    assert checks["database:responseTime"][0]["observedUnit"] == "ms"
    assert checks["queues.analytics:backlog"][0]["observedValue"] == 5
    assert checks["search:responseTime"][0] | {"time": None} == {
        "componentId": "search",
        "componentType": "datastore",
        "observedValue": checks["search:responseTime"][0]["observedValue"],
        "observedUnit": "ms",
        "status": "fail",
        "output": "index missing",
        "time": None,
    }


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, False),
        ("*/*", False),
        ("application/json", False),
        ("application/health+json", True),
        ("application/json;q=0.9, application/health+json", True),
        ("application/health+json;q=0.5, application/json", False),
        ("application/health+json;q=0", False),
    ],
)
def test_accept_negotiation(accept: str | None, expected: bool) -> None:
    assert prefers_health_json(accept) is expected


def test_bearer_token_matching() -> None:
    assert bearer_token_matches("Bearer tok", "tok")
    assert bearer_token_matches("bearer  tok ", "tok")
    assert not bearer_token_matches("Bearer tok2", "tok")
    assert not bearer_token_matches("Basic tok", "tok")
    assert not bearer_token_matches(None, "tok")
    assert not bearer_token_matches("Bearer tok", None)


async def test_cached_sections_keep_a_current_timestamp(
    make_service: Callable[..., HealthService],
) -> None:
    service = plan_service(make_service)
    first = await respond(service, "/api/health/detailed")
    await asyncio.sleep(0.01)
    second = await respond(service, "/api/health/detailed")
    assert first is not None
    assert second is not None
    one, two = json.loads(first.body), json.loads(second.body)
    assert two["timestamp"] > one["timestamp"]
    assert (one["services"], one["system"]) == (two["services"], two["system"])
