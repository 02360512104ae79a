"""Status parsing, combination, and the HTTP status each endpoint answers with."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app_support.health import HealthService, Status, http_status
from app_support.health.status import parse_status, worst

from .conftest import CountingCheck, respond


def test_parse_status_accepts_the_three_names() -> None:
    assert parse_status("healthy") is Status.HEALTHY
    assert parse_status("DEGRADED") is Status.DEGRADED
    assert parse_status(Status.UNHEALTHY) is Status.UNHEALTHY


@pytest.mark.parametrize("value", ["ok", None, 1, ""])
def test_parse_status_rejects_anything_else(value: object) -> None:
    with pytest.raises(ValueError, match="'healthy', 'degraded' or 'unhealthy'"):
        parse_status(value)


def test_worst_and_http_status() -> None:
    assert worst([]) is Status.HEALTHY
    assert worst([Status.HEALTHY, Status.DEGRADED]) is Status.DEGRADED
    assert worst([Status.UNHEALTHY, Status.DEGRADED, Status.HEALTHY]) is Status.UNHEALTHY
    assert [http_status(s) for s in Status] == [200, 200, 503]


@pytest.mark.parametrize(
    ("critical_status", "optional_status", "expected", "code"),
    [
        ("healthy", "healthy", "healthy", 200),
        ("degraded", "healthy", "degraded", 200),
        ("unhealthy", "healthy", "unhealthy", 503),
        # A non-critical dependency (a queue) failing degrades the app, it does not take it down.
        ("healthy", "unhealthy", "degraded", 200),
    ],
)
async def test_detailed_status_and_code(
    make_service: Callable[..., HealthService],
    critical_status: str,
    optional_status: str,
    expected: str,
    code: int,
) -> None:
    service = make_service()
    service.add_check("database", CountingCheck({"status": critical_status}), critical=True)
    service.add_check("queues.import", CountingCheck({"status": optional_status}))
    response = await respond(service, "/api/health/detailed")
    assert response is not None
    assert response.status_code == code
    assert f'"status":"{expected}"'.encode() in response.body
