"""The ASGI middleware on real Starlette and FastAPI apps, driven through httpx's ASGITransport."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Mount, Route

from app_support.metrics import (
    OTHER_METHOD,
    UNMATCHED_ROUTE,
    HttpMetrics,
    MetricsASGIApp,
    MetricsEndpoint,
    MetricsMiddleware,
    MetricsSettings,
)
from tests.app_support.metrics.scrape import label_sets, value

STREAM_CHUNKS = 3
CHUNK_PAUSE = 0.1


def build_app(registry: CollectorRegistry, in_flight: list[float | None]) -> Starlette:
    metrics = HttpMetrics(registry=registry)

    async def show_import(request: Request) -> Response:
        in_flight.append(value(registry, "http_requests_in_progress", method="GET"))
        return PlainTextResponse(str(request.path_params))

    async def create_import(request: Request) -> Response:
        return PlainTextResponse("created", status_code=201)

    async def fail(request: Request) -> Response:
        raise RuntimeError("boom")

    async def stream(request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            for _ in range(STREAM_CHUNKS):
                await asyncio.sleep(CHUNK_PAUSE)
                yield b"chunk"

        return StreamingResponse(body())

    async def slow_background(request: Request) -> Response:
        return PlainTextResponse("ok", background=BackgroundTask(asyncio.sleep, 0.5))

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    endpoint = MetricsEndpoint(registry=registry, settings=MetricsSettings())
    return Starlette(
        routes=[
            Route("/api/imports/{id}", show_import),
            Route("/api/imports", create_import, methods=["POST"]),
            Route("/fail", fail),
            Route("/stream", stream),
            Route("/background", slow_background),
            Route("/api/health", health),
            Route("/metrics", MetricsASGIApp(endpoint)),
            Mount("/admin", routes=[Route("/users/{user_id}", show_import)]),
        ],
        middleware=[Middleware(MetricsMiddleware, metrics=metrics)],
    )


def client(app: Starlette | FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://app.test")


async def test_requests_are_recorded_by_method_route_template_and_status() -> None:
    registry = CollectorRegistry()
    async with client(build_app(registry, [])) as http:
        assert (await http.get("/api/imports/1")).status_code == 200
        assert (await http.get("/api/imports/2")).status_code == 200
        assert (await http.post("/api/imports")).status_code == 201
        assert (await http.get("/fail")).status_code == 500
        assert (await http.get("/admin/users/7")).status_code == 200

    get_import = {"method": "GET", "route": "/api/imports/{id}", "status_code": "200"}
    assert value(registry, "http_requests_total", **get_import) == 2
    assert value(registry, "http_request_duration_seconds_count", **get_import) == 2
    assert value(registry, "http_request_duration_seconds_bucket", le="+Inf", **get_import) == 2
    created = {"method": "POST", "route": "/api/imports", "status_code": "201"}
    assert value(registry, "http_requests_total", **created) == 1
    failed = {"method": "GET", "route": "/fail", "status_code": "500"}
    assert value(registry, "http_requests_total", **failed) == 1
    mounted = {"method": "GET", "route": "/admin/users/{user_id}", "status_code": "200"}
    assert value(registry, "http_requests_total", **mounted) == 1
    routes = {dict(labels)["route"] for labels in label_sets(registry, "http_requests_total")}
    assert routes == {"/api/imports/{id}", "/api/imports", "/fail", "/admin/users/{user_id}"}


async def test_unmatched_paths_and_odd_methods_do_not_create_series() -> None:
    registry = CollectorRegistry()
    async with client(build_app(registry, [])) as http:
        for n in range(20):
            await http.get(f"/wp-admin/{n}.php")
            await http.get(f"/admin/nothing/{n}")
            await http.request(f"PROPFIND{n}", "/api/imports/1")
        series = label_sets(registry, "http_requests_total")
        await http.get("/another/random/path")
        await http.request("BREW", "/api/imports/1")
        assert label_sets(registry, "http_requests_total") == series

    unmatched = {"method": "GET", "route": UNMATCHED_ROUTE, "status_code": "404"}
    assert value(registry, "http_requests_total", **unmatched) == 41
    odd = {"method": OTHER_METHOD, "route": "/api/imports/{id}", "status_code": "405"}
    assert value(registry, "http_requests_total", **odd) == 21
    assert len(series) == 2


async def test_streaming_duration_ends_at_the_last_chunk_not_before() -> None:
    registry = CollectorRegistry()
    async with client(build_app(registry, [])) as http:
        response = await http.get("/stream")
    assert response.content == b"chunk" * STREAM_CHUNKS
    labels = {"method": "GET", "route": "/stream", "status_code": "200"}
    seconds = value(registry, "http_request_duration_seconds_sum", **labels)
    assert seconds is not None
    assert seconds >= STREAM_CHUNKS * CHUNK_PAUSE


async def test_background_tasks_after_the_response_are_not_timed() -> None:
    registry = CollectorRegistry()
    async with client(build_app(registry, [])) as http:
        await http.get("/background")
    labels = {"method": "GET", "route": "/background", "status_code": "200"}
    seconds = value(registry, "http_request_duration_seconds_sum", **labels)
    assert seconds is not None
    assert seconds < 0.5  # the background task sleeps 0.5 s after the last body chunk


async def test_in_progress_gauge_counts_the_request_being_served() -> None:
    registry = CollectorRegistry()
    in_flight: list[float | None] = []
    async with client(build_app(registry, in_flight)) as http:
        await http.get("/api/imports/1")
    assert in_flight == [1.0]
    assert value(registry, "http_requests_in_progress", method="GET") == 0


async def test_metrics_and_health_endpoints_are_not_recorded() -> None:
    registry = CollectorRegistry()
    async with client(build_app(registry, [])) as http:
        assert (await http.get("/api/health")).status_code == 200
        scrape = await http.get("/metrics")
    assert scrape.status_code == 200
    assert label_sets(registry, "http_requests_total") == set()
    assert "http_request_duration_seconds" in scrape.text


async def test_fastapi_routes_with_router_prefixes_are_templated() -> None:
    registry = CollectorRegistry()
    app = FastAPI()

    @app.get("/api/imports/{import_id}/rows/{row}")
    async def row(import_id: int, row: int) -> dict[str, int]:
        return {"import": import_id, "row": row}

    instrumented = MetricsMiddleware(app, metrics=HttpMetrics(registry=registry))
    async with client(instrumented) as http:  # type: ignore[arg-type]
        assert (await http.get("/api/imports/3/rows/9")).status_code == 200
        assert (await http.get("/api/imports/x/rows/9")).status_code == 422
    route = "/api/imports/{import_id}/rows/{row}"
    assert value(registry, "http_requests_total", route=route, status_code="200") == 1
    assert value(registry, "http_requests_total", route=route, status_code="422") == 1
