"""Caching, single flight, timeouts, stale answers and breakers of the check runner."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from app_support.health import HealthService

from .conftest import CountingCheck, CountingSyncCheck, FakeClock, respond

DETAILED = "/api/health/detailed"


async def detailed(service: HealthService) -> dict[str, object]:
    response = await respond(service, DETAILED)
    assert response is not None
    body: dict[str, object] = json.loads(response.body)
    return body


async def until_fresh(service: HealthService) -> dict[str, object]:
    """The first report whose database block is not stale (bounded wait)."""
    for _ in range(200):
        body = await detailed(service)
        if "stale" not in block(body, "database"):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError("the database check never produced a fresh result")


def block(body: dict[str, object], name: str) -> dict[str, object]:
    services = body["services"]
    assert isinstance(services, dict)
    found: dict[str, object] = services[name]
    return found


async def test_results_are_cached_for_the_success_ttl(
    make_service: Callable[..., HealthService], clock: FakeClock
) -> None:
    service = make_service(success_ttl=5, failure_ttl=1)
    check = CountingCheck()
    service.add_check("database", check)
    for _ in range(10):
        await detailed(service)
    assert check.calls == 1
    clock.advance(4.9)
    await detailed(service)
    assert check.calls == 1
    clock.advance(0.2)
    await detailed(service)
    assert check.calls == 2


async def test_failures_are_cached_for_the_shorter_failure_ttl(
    make_service: Callable[..., HealthService], clock: FakeClock
) -> None:
    service = make_service(success_ttl=5, failure_ttl=1, breaker_failures=100)
    check = CountingCheck({"status": "unhealthy", "error": "down"})
    service.add_check("database", check)
    await detailed(service)
    await detailed(service)
    assert check.calls == 1
    clock.advance(1.1)
    await detailed(service)
    assert check.calls == 2


async def test_concurrent_requests_share_one_async_call(
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service()
    check = CountingCheck()
    check.delay = 0.1
    service.add_check("database", check)
    bodies = await asyncio.gather(*(detailed(service) for _ in range(50)))
    assert check.calls == 1
    assert all(block(body, "database")["status"] == "healthy" for body in bodies)


async def test_concurrent_requests_share_one_sync_call(
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service()
    check = CountingSyncCheck(delay=0.1)
    service.add_check("database", check)
    await asyncio.gather(*(detailed(service) for _ in range(50)))
    assert check.calls == 1


async def test_sync_checks_do_not_block_the_event_loop(
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service(check_timeout=5, deadline=5)
    check = CountingSyncCheck()
    check.release.clear()  # the check blocks its thread until the loop has shown it is free
    service.add_check("database", check)

    async def loop_keeps_running() -> None:
        for _ in range(3):
            await asyncio.sleep(0)
        check.release.set()

    body, _ = await asyncio.gather(detailed(service), loop_keeps_running())
    assert block(body, "database")["status"] == "healthy"


async def test_a_check_over_its_timeout_is_unhealthy(
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service()
    check = CountingCheck()
    check.delay = 5
    service.add_check("database", check, critical=True, timeout=0.05)
    response = await respond(service, DETAILED)
    assert response is not None
    assert response.status_code == 503
    database = block(json.loads(response.body), "database")
    assert database["error"] == "timed out after 0.05s"
    assert database["status"] == "unhealthy"


async def test_missing_the_deadline_answers_the_last_result_marked_stale(
    make_service: Callable[..., HealthService], clock: FakeClock
) -> None:
    service = make_service(deadline=0.2, check_timeout=10, success_ttl=5)
    check = CountingCheck({"status": "healthy", "latency": 3, "error": None})
    service.add_check("database", check, critical=True)
    await until_fresh(service)
    clock.advance(6)
    check.delay = 1.0
    check.result = {"status": "degraded", "latency": 1000, "error": None}

    stale = await detailed(service)
    assert block(stale, "database") == {
        "status": "healthy",
        "latency": 3,
        "error": None,
        "stale": True,
    }
    assert check.calls == 2
    # The refresh went on after the deadline; its result is served once it lands.
    fresh = await until_fresh(service)
    assert block(fresh, "database")["status"] == "degraded"
    assert check.calls == 2


async def test_no_result_yet_within_the_deadline_is_unhealthy(
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service(deadline=0.05, check_timeout=5)
    check = CountingCheck()
    check.delay = 0.5
    service.add_check("database", check, critical=True)
    response = await respond(service, DETAILED)
    assert response is not None
    assert response.status_code == 503
    database = block(json.loads(response.body), "database")
    assert database["stale"] is True
    assert "deadline" in str(database["error"])


async def test_raising_is_unhealthy_with_a_sanitised_error(
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service()
    check = CountingCheck()
    check.error = ConnectionError("cannot reach postgresql://app:s3cret@db:5432/app")
    service.add_check("database", check, critical=True)
    service.add_check("redis", lambda: {"status": "healthy", "error": "redis://:pw@x failed"})
    service.add_check("odd", lambda: ["not", "a", "mapping"])  # type: ignore[arg-type, return-value]
    response = await respond(service, DETAILED)
    assert response is not None
    assert b"s3cret" not in response.body
    assert b"db:5432" not in response.body
    assert b":pw@" not in response.body
    body = json.loads(response.body)
    assert block(body, "database")["error"] == "ConnectionError: cannot reach postgresql://***"
    assert block(body, "odd")["status"] == "unhealthy"


async def test_breaker_opens_reports_degraded_and_recovers(
    make_service: Callable[..., HealthService], clock: FakeClock
) -> None:
    service = make_service(breaker_failures=2, breaker_reset=30, failure_ttl=1)
    check = CountingCheck()
    check.error = ConnectionRefusedError("refused")
    service.add_check("redis", check, critical=True)

    first = await respond(service, DETAILED)
    assert first is not None
    assert first.status_code == 503
    clock.advance(1.5)
    await detailed(service)
    assert check.calls == 2  # second consecutive failure: the breaker opens

    clock.advance(1.5)  # past the failure TTL, inside the cool-down: no probe
    response = await respond(service, DETAILED)
    assert response is not None
    redis = block(json.loads(response.body), "redis")
    assert (response.status_code, redis["status"], redis["circuit"]) == (200, "degraded", "open")
    assert "refused" in str(redis["error"])
    assert check.calls == 2
    liveness = await respond(service, "/api/health")
    assert liveness is not None
    assert liveness.status_code == 200

    clock.advance(30)  # cool-down over: one half-open probe, which succeeds
    check.error = None
    results = await asyncio.gather(*(detailed(service) for _ in range(10)))
    assert check.calls == 3
    assert all(block(body, "redis")["status"] == "healthy" for body in results)
    assert "circuit" not in block(results[0], "redis")


async def test_system_checks_have_no_breaker(
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service(system_checks=True)
    assert {c.name: c.breaker for c in service.checks if c.section == "system"} == {
        "memory": False,
        "cpu": False,
        "disk": False,
    }


async def test_a_cancelled_refresh_does_not_poison_the_next_request(
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service(deadline=0.05)
    check = CountingCheck()
    check.delay = 10
    service.add_check("database", check)
    await detailed(service)  # misses the deadline; the refresh keeps running
    refresh = service.runner.state(service.checks[0]).refresh
    assert refresh is not None
    refresh.cancel()  # as at shutdown
    await asyncio.gather(refresh, return_exceptions=True)
    check.delay = 0
    body = await until_fresh(service)
    assert block(body, "database")["status"] == "healthy"
    assert check.calls == 2
