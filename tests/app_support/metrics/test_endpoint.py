"""The /metrics endpoint: token check in production, format negotiation, gzip, separate port."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter
from starlette.applications import Starlette
from starlette.routing import Route

from app_support.metrics import (
    MetricsASGIApp,
    MetricsEndpoint,
    MetricsServer,
    MetricsSettings,
    start_metrics_server,
)
from tests.app_support.metrics.scrape import value

TOKEN = "s3cret-token-for-tests"
PRODUCTION = MetricsSettings(environment="production", token=TOKEN)


def registry_with_a_counter() -> CollectorRegistry:
    registry = CollectorRegistry()
    Counter("widgets_total", "Widgets", registry=registry).inc(3)
    return registry


def asgi_client(settings: MetricsSettings) -> httpx.AsyncClient:
    endpoint = MetricsEndpoint(registry=registry_with_a_counter(), settings=settings)
    app = Starlette(routes=[Route("/metrics", MetricsASGIApp(endpoint))])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app.test")


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", TOKEN],
)
async def test_production_refuses_requests_without_the_token(authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with asgi_client(PRODUCTION) as http:
        response = await http.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "widgets_total" not in response.text


async def test_production_serves_the_bearer_token() -> None:
    async with asgi_client(PRODUCTION) as http:
        response = await http.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 200
    assert value(response.text, "widgets_total") == 3


async def test_development_is_open() -> None:
    async with asgi_client(MetricsSettings(environment="development")) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")


async def test_openmetrics_is_negotiated_and_gzip_applied() -> None:
    async with asgi_client(MetricsSettings()) as http:
        response = await http.get(
            "/metrics",
            headers={
                "Accept": "application/openmetrics-text; version=1.0.0",
                "Accept-Encoding": "gzip",
            },
        )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.headers["content-encoding"] == "gzip"
    assert response.text.endswith("# EOF\n")  # httpx has already gunzipped the body
    assert "widgets_total 3.0" in response.text


def test_uncompressed_unless_asked_and_other_methods_refused() -> None:
    endpoint = MetricsEndpoint(registry=registry_with_a_counter(), settings=MetricsSettings())
    plain = endpoint.respond("GET", None, None, None)
    assert b"widgets_total 3.0" in plain.body
    assert ("Content-Encoding", "gzip") not in plain.headers
    zipped = endpoint.respond("GET", None, None, "br, gzip;q=0.8")
    assert gzip.decompress(zipped.body) == plain.body
    assert endpoint.respond("HEAD", None, None, None).body == b""
    assert endpoint.respond("POST", None, None, None).status == 405


@pytest.fixture
def metrics_server() -> Iterator[MetricsServer]:
    endpoint = MetricsEndpoint(registry=registry_with_a_counter(), settings=PRODUCTION)
    server = start_metrics_server(endpoint, host="127.0.0.1", port=0)
    yield server
    server.close()


def test_separate_port_serves_the_endpoint_with_the_same_check(
    metrics_server: MetricsServer,
) -> None:
    url = f"http://127.0.0.1:{metrics_server.port}/metrics"
    assert httpx.get(url, timeout=10).status_code == 401
    response = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert response.status_code == 200
    assert value(response.text, "widgets_total") == 3
