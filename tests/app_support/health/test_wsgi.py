"""The WSGI adapter in front of a Flask app: one background loop shared by every thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask

from app_support.health import HEALTH_JSON, HealthService
from app_support.health.wsgi import HealthWSGIMiddleware

from .conftest import CountingCheck, CountingSyncCheck, lifecycle


@pytest.fixture
def flask_app() -> Flask:
    app = Flask(__name__)

    @app.get("/api/ping")
    def ping() -> dict[str, bool]:
        return {"pong": True}

    return app


@pytest.fixture
def wrap(flask_app: Flask) -> Iterator[Callable[[HealthService], HealthWSGIMiddleware]]:
    made: list[HealthWSGIMiddleware] = []

    def build(service: HealthService) -> HealthWSGIMiddleware:
        middleware = HealthWSGIMiddleware(flask_app.wsgi_app, service=service)
        flask_app.wsgi_app = middleware  # type: ignore[method-assign]
        made.append(middleware)
        return middleware

    yield build
    for middleware in made:
        middleware.close()


def test_flask_app_gets_the_endpoints(
    flask_app: Flask,
    wrap: Callable[[HealthService], HealthWSGIMiddleware],
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service(system_checks=True)
    service.add_check("database", CountingCheck(), critical=True)
    service.add_check("redis", CountingSyncCheck({"status": "degraded", "error": None}))
    wrap(service)
    assert lifecycle(service) == "started"
    http = flask_app.test_client()
    assert http.get("/api/ping").json == {"pong": True}
    detailed = http.get("/api/health/detailed")
    assert (detailed.status_code, detailed.content_type) == (200, "application/json")
    body = detailed.json
    assert body is not None
    assert body["status"] == "degraded"
    assert body["services"]["redis"]["status"] == "degraded"
    assert set(body["system"]) == {"memory", "cpu", "disk"}
    assert http.get("/api/health/ready").status_code == 200
    assert http.get("/api/system/health").status_code == 200
    as_health_json = http.get("/api/health/detailed", headers={"Accept": HEALTH_JSON})
    assert as_health_json.content_type == HEALTH_JSON
    assert http.head("/api/health").data == b""
    assert http.post("/api/health").status_code == 405
    assert http.get("/api/missing").status_code == 404


def test_unhealthy_and_draining_answer_503(
    flask_app: Flask,
    wrap: Callable[[HealthService], HealthWSGIMiddleware],
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service()
    service.add_check("database", CountingCheck({"status": "unhealthy"}), critical=True)
    wrap(service)
    http = flask_app.test_client()
    assert http.get("/api/health/detailed").status_code == 503
    assert http.get("/api/health/ready").status_code == 503
    service.mark_draining()
    draining = http.get("/api/health/ready")
    assert (draining.status_code, (draining.json or {})["lifecycle"]) == (503, "draining")
    assert http.get("/api/health").status_code == 200


def test_threads_share_one_dependency_call(
    flask_app: Flask,
    wrap: Callable[[HealthService], HealthWSGIMiddleware],
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service(check_timeout=5, deadline=5)
    check = CountingSyncCheck()
    check.release.clear()
    service.add_check("database", check, critical=True)
    wrap(service)
    barrier = threading.Barrier(20)

    def request(_: int) -> int:
        barrier.wait(10)
        return flask_app.test_client().get("/api/health/detailed").status_code

    with ThreadPoolExecutor(20) as pool:
        futures = [pool.submit(request, i) for i in range(20)]
        # Hold the dependency until the requests are in (late ones would hit the cache anyway).
        for _ in range(1000):
            if check.calls:
                break
            threading.Event().wait(0.01)
        threading.Event().wait(0.2)
        check.release.set()
        codes = [f.result(30) for f in futures]
    assert codes == [200] * 20
    assert check.calls == 1


def test_started_false_waits_for_mark_started(
    flask_app: Flask, make_service: Callable[..., HealthService]
) -> None:
    service = make_service()
    middleware = HealthWSGIMiddleware(flask_app.wsgi_app, service=service, started=False)
    flask_app.wsgi_app = middleware  # type: ignore[method-assign]
    try:
        http = flask_app.test_client()
        assert http.get("/api/health/ready").status_code == 503
        service.mark_started()
        assert http.get("/api/health/ready").status_code == 200
    finally:
        middleware.close()
