"""The cached detailed answer's fast path: one results mapping and one evaluation reused while
every result is fresh, a new one as soon as anything can have changed, the same bytes as before."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

from app_support.health import HealthService
from app_support.health.report import PlanRenderer, iso_timestamp
from app_support.health.status import Status

from .conftest import CountingCheck, FakeClock, respond


async def test_one_mapping_and_evaluation_while_every_result_is_fresh(
    make_service: Callable[..., HealthService], clock: FakeClock
) -> None:
    service = make_service(success_ttl=5)
    service.add_check("database", CountingCheck(), critical=True)
    service.add_check("queues.import", CountingCheck({"status": "healthy", "waiting": 0}))
    first = await service.evaluate("detailed")
    again = await service.evaluate("detailed")
    assert again is first
    assert first.results.keys() == {"database", "queues.import"}
    # Each view keeps its own: readiness runs the critical checks only.
    service.mark_started()
    ready = await service.evaluate("readiness")
    assert ready.results.keys() == {"database"}
    assert await service.evaluate("readiness") is ready
    clock.advance(5.1)  # expired: refreshed, so a new mapping and a new evaluation
    fresh = await service.evaluate("detailed")
    assert fresh is not first
    assert fresh.results is not first.results
    assert await service.evaluate("detailed") is fresh


async def test_readiness_follows_the_lifecycle_even_with_cached_results(
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service()
    service.add_check("database", CountingCheck(), critical=True)
    service.mark_started()
    assert (await service.evaluate("readiness")).status is Status.HEALTHY
    service.mark_draining()
    draining = await service.evaluate("readiness")
    assert (draining.status, draining.extra) == (Status.UNHEALTHY, {"lifecycle": "draining"})


async def test_a_check_added_later_is_in_the_next_answer(
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service()
    service.add_check("database", CountingCheck())
    assert (await service.evaluate("detailed")).results.keys() == {"database"}
    service.add_check("redis", CountingCheck())
    assert (await service.evaluate("detailed")).results.keys() == {"database", "redis"}


async def test_an_open_circuit_is_not_kept(
    make_service: Callable[..., HealthService], clock: FakeClock
) -> None:
    service = make_service(breaker_failures=1, breaker_reset=30, failure_ttl=1)
    check = CountingCheck()
    check.error = ConnectionRefusedError("refused")
    service.add_check("redis", check, critical=True)
    await service.evaluate("detailed")  # the failure opens the breaker
    clock.advance(1.5)
    one = await service.evaluate("detailed")
    two = await service.evaluate("detailed")
    # Built per call (degraded, not probed): nothing cached, nothing stale reused.
    assert one.results is not two.results
    assert one.results["redis"].circuit == "open"
    # Readiness is 503 while a critical dependency's breaker is open, call after call.
    service.mark_started()
    for _ in range(3):
        assert (await service.evaluate("readiness")).status is Status.UNHEALTHY
    assert check.calls == 1


async def test_many_check_tuples_do_not_grow_the_runner_without_bound(
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service()
    check = service.add_check("database", CountingCheck())
    for _ in range(20):
        # A caller that builds a new tuple every time (the service keeps one per view).
        await service.runner.run((check,))
    assert len(service.runner._fresh) <= 8


async def test_the_body_is_what_the_json_encoder_would_write(
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service(version='1.0 "quoted" \\ é')
    service.add_check("database", CountingCheck())
    for _ in range(3):
        response = await respond(service, "/api/health/detailed")
        assert response is not None
        body = json.loads(response.body)
        assert body["version"] == '1.0 "quoted" \\ é'
        assert list(body)[:4] == ["timestamp", "status", "version", "uptime"]
        assert body["services"]["database"]["status"] == "healthy"


def test_timestamps_match_iso_timestamp() -> None:
    renderer = PlanRenderer()
    start = datetime(2026, 12, 1, 23, 59, 59, 998_765, tzinfo=UTC)
    for step in range(0, 4000, 7):  # across a second, a minute, an hour and a day boundary
        moment = start + timedelta(microseconds=step * 997)
        assert renderer._timestamp(moment) == iso_timestamp(moment)
    # Another time zone than UTC is written as iso_timestamp writes it.
    elsewhere = datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    assert renderer._timestamp(elsewhere) == iso_timestamp(elsewhere)
