"""Route labels: full templates for Starlette mounts, FastAPI routers (prefixed, nested, included
twice) and plain routes, so two routes never share a series and no path makes a new one."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from app_support.metrics import UNMATCHED_ROUTE, HttpMetrics, MetricsMiddleware
from tests.app_support.metrics.scrape import label_sets


async def plain(request: Request) -> Response:
    return PlainTextResponse("plain")


async def raw_app(scope: Scope, receive: Receive, send: Send) -> None:
    """An ASGI app with no routes of its own (static files, a proxy)."""
    await PlainTextResponse("raw")(scope, receive, send)


def routes_seen(registry: CollectorRegistry) -> dict[str, set[str]]:
    """route label -> the status codes recorded under it."""
    seen: dict[str, set[str]] = {}
    for labels in label_sets(registry, "http_requests_total"):
        values = dict(labels)
        seen.setdefault(values["route"], set()).add(values["status_code"])
    return seen


async def get_all(app: object, paths: list[str], root_path: str = "") -> list[int]:
    transport = httpx.ASGITransport(app=app, root_path=root_path)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as http:
        return [(await http.get(path)).status_code for path in paths]


def api_router() -> APIRouter:
    """The issue's case: two routers under one API router, both ending in /{id}."""
    items = APIRouter(prefix="/items")

    @items.get("/{id}")
    async def item(id: int) -> dict[str, int]:
        return {"item": id}

    users = APIRouter()

    @users.get("/users/{id}")
    async def user(id: int) -> dict[str, int]:
        return {"user": id}

    api = APIRouter()
    api.include_router(items)
    api.include_router(users)
    return api


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


async def test_include_router_prefixes_label_routes_apart(registry: CollectorRegistry) -> None:
    app = FastAPI()
    app.include_router(api_router(), prefix="/api/v1")
    instrumented = MetricsMiddleware(app, metrics=HttpMetrics(registry=registry))
    codes = await get_all(instrumented, ["/api/v1/items/1", "/api/v1/users/2", "/api/v1/items/x"])
    assert codes == [200, 200, 422]
    assert routes_seen(registry) == {
        "/api/v1/items/{id}": {"200", "422"},
        "/api/v1/users/{id}": {"200"},
    }


async def test_nested_routers_keep_every_outer_prefix(registry: CollectorRegistry) -> None:
    inner = APIRouter(prefix="/inner")

    @inner.get("/{id}")
    async def leaf(id: int) -> dict[str, int]:
        return {"leaf": id}

    middle = APIRouter(prefix="/middle")
    middle.include_router(inner)
    app = FastAPI()
    app.include_router(middle, prefix="/outer")
    # The same router included twice: one APIRoute object, two templates.
    app.include_router(inner, prefix="/v2")

    @app.get("/direct/{q}")
    async def direct(q: int) -> dict[str, int]:
        return {"q": q}

    instrumented = MetricsMiddleware(app, metrics=HttpMetrics(registry=registry))
    paths = ["/outer/middle/inner/1", "/v2/inner/2", "/outer/middle/inner/3", "/direct/4"]
    assert await get_all(instrumented, paths) == [200] * 4
    assert routes_seen(registry) == {
        "/outer/middle/inner/{id}": {"200"},
        "/v2/inner/{id}": {"200"},
        "/direct/{q}": {"200"},
    }


async def test_plain_routes_and_mounts_of_a_fastapi_app(registry: CollectorRegistry) -> None:
    # FastAPI records no scope["route"] for these: they are matched again from the path.
    app = FastAPI()
    app.add_route("/plain/{z}", plain)
    app.mount("/files", app=raw_app)
    app.mount("/sub", Starlette(routes=[Route("/in/{k}", plain)]))
    router = APIRouter()
    router.add_route("/raw/{x}", plain)
    router.routes.append(Mount("/deep", routes=[Route("/{y}", plain)]))
    app.include_router(router, prefix="/r")
    instrumented = MetricsMiddleware(app, metrics=HttpMetrics(registry=registry))
    paths = ["/plain/1", "/files/a/b.txt", "/sub/in/3", "/r/raw/5", "/r/deep/7", "/nope"]
    assert await get_all(instrumented, paths) == [200, 200, 200, 200, 200, 404]
    assert routes_seen(registry) == {
        "/plain/{z}": {"200"},
        "/files/{path}": {"200"},
        "/sub/in/{k}": {"200"},
        "/r/raw/{x}": {"200"},
        "/r/deep/{y}": {"200"},
        UNMATCHED_ROUTE: {"404"},
    }


async def test_a_known_path_with_another_method_keeps_its_template(
    registry: CollectorRegistry,
) -> None:
    app = FastAPI()
    app.add_route("/plain/{z}", plain, methods=["POST"])
    instrumented = MetricsMiddleware(app, metrics=HttpMetrics(registry=registry))
    assert await get_all(instrumented, ["/plain/1"]) == [405]
    assert routes_seen(registry) == {"/plain/{z}": {"405"}}


async def test_a_server_root_path_is_not_part_of_the_template(
    registry: CollectorRegistry,
) -> None:
    app = FastAPI()
    app.add_route("/plain/{z}", plain)
    app.include_router(api_router(), prefix="/api/v1")
    instrumented = MetricsMiddleware(app, metrics=HttpMetrics(registry=registry))
    paths = ["/prefix/plain/1", "/prefix/api/v1/items/2"]
    assert await get_all(instrumented, paths, root_path="/prefix") == [200, 200]
    assert set(routes_seen(registry)) == {"/plain/{z}", "/api/v1/items/{id}"}


async def test_a_fastapi_app_mounted_in_starlette(registry: CollectorRegistry) -> None:
    api = FastAPI()
    api.include_router(api_router(), prefix="/v1")
    api.add_route("/plain/{z}", plain)
    app = Starlette(routes=[Mount("/svc", app=api), Route("/top/{t}", plain)])
    instrumented = MetricsMiddleware(app, metrics=HttpMetrics(registry=registry))
    paths = ["/svc/v1/items/1", "/svc/v1/users/2", "/svc/plain/3", "/top/4", "/svc/none"]
    assert await get_all(instrumented, paths) == [200, 200, 200, 200, 404]
    assert routes_seen(registry) == {
        "/svc/v1/items/{id}": {"200"},
        "/svc/v1/users/{id}": {"200"},
        "/svc/plain/{z}": {"200"},
        "/top/{t}": {"200"},
        UNMATCHED_ROUTE: {"404"},
    }


async def test_starlette_nested_mounts_and_plain_routes(registry: CollectorRegistry) -> None:
    app = Starlette(
        routes=[
            Route("/items/{id}", plain),
            Mount("/a", routes=[Mount("/b/{tenant}", routes=[Route("/items/{id}", plain)])]),
            Mount("/static", app=raw_app),
        ]
    )
    instrumented = MetricsMiddleware(app, metrics=HttpMetrics(registry=registry))
    paths = ["/items/1", "/a/b/acme/items/2", "/static/x.css", "/a/b/acme/none"]
    assert await get_all(instrumented, paths) == [200, 200, 200, 404]
    assert routes_seen(registry) == {
        "/items/{id}": {"200"},
        "/a/b/{tenant}/items/{id}": {"200"},
        "/static/{path}": {"200"},
        UNMATCHED_ROUTE: {"404"},
    }


async def test_an_app_without_a_router_is_unmatched(registry: CollectorRegistry) -> None:
    instrumented = MetricsMiddleware(raw_app, metrics=HttpMetrics(registry=registry))
    assert await get_all(instrumented, ["/anything/1", "/anything/2"]) == [200, 200]
    assert routes_seen(registry) == {UNMATCHED_ROUTE: {"200"}}


async def test_a_route_outside_any_router_is_labelled_by_its_path(
    registry: CollectorRegistry,
) -> None:
    # An app that routes by itself and only records the route it picked.
    route = Route("/jobs/{id}", plain)

    async def routed(scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = route
        await raw_app(scope, receive, send)

    instrumented = MetricsMiddleware(routed, metrics=HttpMetrics(registry=registry))
    assert await get_all(instrumented, ["/jobs/1", "/jobs/2"]) == [200, 200]
    assert routes_seen(registry) == {"/jobs/{id}": {"200"}}
