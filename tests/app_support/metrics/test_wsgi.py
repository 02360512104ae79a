"""The WSGI middleware on a real Flask app, driven through Flask's test client."""

from __future__ import annotations

import time
from collections.abc import Iterator

from flask import Flask, Response, stream_with_context
from flask.testing import FlaskClient
from prometheus_client import CollectorRegistry
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from app_support.metrics import (
    OTHER_METHOD,
    UNMATCHED_ROUTE,
    HttpMetrics,
    MetricsEndpoint,
    MetricsSettings,
    MetricsWSGIApp,
    MetricsWSGIMiddleware,
)
from tests.app_support.metrics.scrape import label_sets, value

STREAM_CHUNKS = 3
CHUNK_PAUSE = 0.1


def build_app(registry: CollectorRegistry) -> Flask:
    app = Flask(__name__)

    @app.get("/api/imports/<int:import_id>")
    def show_import(import_id: int) -> str:
        return str(import_id)

    @app.post("/api/imports")
    def create_import() -> tuple[str, int]:
        return "created", 201

    @app.get("/fail")
    def fail() -> str:
        raise RuntimeError("boom")

    @app.get("/stream")
    def stream() -> Response:
        def body() -> Iterator[bytes]:
            for _ in range(STREAM_CHUNKS):
                time.sleep(CHUNK_PAUSE)
                yield b"chunk"

        return Response(stream_with_context(body()))

    @app.get("/api/health")
    def health() -> str:
        return "ok"

    endpoint = MetricsEndpoint(registry=registry, settings=MetricsSettings())
    instrumented = MetricsWSGIMiddleware(app.wsgi_app, metrics=HttpMetrics(registry=registry))
    app.wsgi_app = DispatcherMiddleware(instrumented, {"/metrics": MetricsWSGIApp(endpoint)})  # type: ignore[method-assign]
    return app


def call(http: FlaskClient, path: str, method: str = "GET") -> int:
    """One request, its body read to the end as a WSGI server does (that ends the timing)."""
    response = http.open(path, method=method)
    response.get_data()
    response.close()
    return response.status_code


def test_requests_are_recorded_by_method_route_template_and_status() -> None:
    registry = CollectorRegistry()
    http = build_app(registry).test_client()
    assert call(http, "/api/imports/1") == 200
    assert call(http, "/api/imports/2") == 200
    assert call(http, "/api/imports", "POST") == 201
    assert call(http, "/fail") == 500

    get_import = {"method": "GET", "route": "/api/imports/{import_id}", "status_code": "200"}
    assert value(registry, "http_requests_total", **get_import) == 2
    assert value(registry, "http_request_duration_seconds_count", **get_import) == 2
    created = {"method": "POST", "route": "/api/imports", "status_code": "201"}
    assert value(registry, "http_requests_total", **created) == 1
    failed = {"method": "GET", "route": "/fail", "status_code": "500"}
    assert value(registry, "http_requests_total", **failed) == 1
    assert value(registry, "http_requests_in_progress", method="GET") == 0


def test_unmatched_paths_and_odd_methods_do_not_create_series() -> None:
    registry = CollectorRegistry()
    http = build_app(registry).test_client()
    for n in range(20):
        call(http, f"/wp-login/{n}.php")
        call(http, f"/api/imports/{n}", f"PROPFIND{n}")
    series = label_sets(registry, "http_requests_total")
    call(http, "/yet/another/path")
    call(http, "/api/imports/1", "BREW")
    assert label_sets(registry, "http_requests_total") == series

    unmatched = {"method": "GET", "route": UNMATCHED_ROUTE, "status_code": "404"}
    assert value(registry, "http_requests_total", **unmatched) == 21
    # Flask sets no url_rule when the method is not allowed, so the route is unmatched.
    odd = {"method": OTHER_METHOD, "route": UNMATCHED_ROUTE, "status_code": "405"}
    assert value(registry, "http_requests_total", **odd) == 21
    assert len(series) == 2


def test_streaming_duration_ends_at_the_last_chunk() -> None:
    registry = CollectorRegistry()
    http = build_app(registry).test_client()
    response = http.get("/stream")
    assert response.data == b"chunk" * STREAM_CHUNKS
    labels = {"method": "GET", "route": "/stream", "status_code": "200"}
    seconds = value(registry, "http_request_duration_seconds_sum", **labels)
    assert seconds is not None
    assert seconds >= STREAM_CHUNKS * CHUNK_PAUSE


def test_metrics_and_health_endpoints_are_not_recorded() -> None:
    registry = CollectorRegistry()
    http = build_app(registry).test_client()
    assert call(http, "/api/health") == 200
    scrape = http.get("/metrics")
    assert scrape.status_code == 200
    assert "http_request_duration_seconds" in scrape.text
    assert label_sets(registry, "http_requests_total") == set()
