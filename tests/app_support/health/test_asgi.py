"""The ASGI adapter in front of Starlette and FastAPI apps, as middleware and as a mounted app."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable

import httpx
import uvicorn
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from app_support.health import HEALTH_JSON, HealthService
from app_support.health.asgi import ASGIApp, HealthMiddleware

from .conftest import CountingCheck, lifecycle


async def ping(request: Request) -> JSONResponse:
    return JSONResponse({"pong": True})


def client(app: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_wraps_a_starlette_app(make_service: Callable[..., HealthService]) -> None:
    service = make_service()
    check = CountingCheck()
    check.delay = 0.05
    service.add_check("database", check, critical=True)
    app = HealthMiddleware(Starlette(routes=[Route("/api/ping", ping)]), service=service)
    async with client(app) as http:
        assert (await http.get("/api/ping")).json() == {"pong": True}
        responses = await asyncio.gather(*(http.get("/api/health/detailed") for _ in range(30)))
        assert {r.status_code for r in responses} == {200}
        assert check.calls == 1
        detailed = responses[0]
        assert detailed.headers["content-type"] == "application/json"
        assert detailed.headers["cache-control"] == "no-store"
        assert detailed.json()["services"]["database"]["status"] == "healthy"

        health_json = await http.get("/api/health/detailed", headers={"accept": HEALTH_JSON})
        assert health_json.headers["content-type"] == HEALTH_JSON
        assert health_json.json()["status"] == "pass"

        head = await http.head("/api/health")
        assert (head.status_code, head.content) == (200, b"")
        assert (await http.get("/api/missing")).status_code == 404  # Starlette's own 404


async def test_unhealthy_answers_503(make_service: Callable[..., HealthService]) -> None:
    service = make_service()
    service.add_check("database", CountingCheck({"status": "unhealthy"}), critical=True)
    async with client(HealthMiddleware(service=service)) as http:
        response = await http.get("/api/health/detailed")
        assert response.status_code == 503
        assert (await http.get("/api/health")).status_code == 200
        assert (await http.get("/elsewhere")).status_code == 404


@contextlib.asynccontextmanager
async def serve(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    """`app` under a real uvicorn server on a free loopback port, with its lifespan."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.025)
        assert server.started, "uvicorn did not start"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            yield http
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def test_lifespan_drives_readiness_under_uvicorn(
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service()
    app = HealthMiddleware(Starlette(routes=[Route("/api/ping", ping)]), service=service)
    assert lifecycle(service) == "starting"
    async with serve(app) as http:
        assert lifecycle(service) == "started"
        assert (await http.get("/api/health/ready")).status_code == 200
        assert (await http.get("/api/ping")).json() == {"pong": True}
    assert lifecycle(service) == "draining"


async def test_standalone_app_handles_its_own_lifespan(
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service()
    async with serve(HealthMiddleware(service=service)) as http:
        assert (await http.get("/api/health/ready")).json()["lifecycle"] == "started"
    assert lifecycle(service) == "draining"


async def test_fastapi_add_middleware(make_service: Callable[..., HealthService]) -> None:
    service = make_service(environment="production", metrics_token="tok-0123456789abcdef")
    service.add_check("database", CountingCheck(), critical=True)
    api = FastAPI()

    @api.get("/api/ping")
    def fastapi_ping() -> dict[str, bool]:
        return {"pong": True}

    api.add_middleware(HealthMiddleware, service=service)
    async with serve(api) as http:
        assert (await http.get("/api/ping")).json() == {"pong": True}
        assert (await http.get("/api/health/detailed")).json() == {"status": "healthy"}
        authorised = await http.get(
            "/api/health/detailed", headers={"authorization": "Bearer tok-0123456789abcdef"}
        )
        assert authorised.json()["services"]["database"]["status"] == "healthy"
        assert (await http.get("/api/health/ready")).status_code == 200


async def test_mounted_in_a_starlette_router(
    make_service: Callable[..., HealthService],
) -> None:
    service = make_service()
    app = Starlette(
        routes=[Route("/api/ping", ping), Mount("/", app=HealthMiddleware(service=service))]
    )
    async with client(app) as http:
        assert (await http.get("/api/ping")).json() == {"pong": True}
        assert (await http.get("/api/system/health")).json()["status"] == "healthy"
        assert (await http.get("/api/nothing")).status_code == 404


async def test_root_path_is_stripped(make_service: Callable[..., HealthService]) -> None:
    service = make_service()
    transport = httpx.ASGITransport(app=HealthMiddleware(service=service), root_path="/app")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        assert (await http.get("/app/api/health")).status_code == 200
