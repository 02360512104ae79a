"""Issue 13 item 4 over a real socket: while Redis or PostgreSQL is down, readiness answers 503
once the dependency's breaker is open (liveness stays 200), and requests get 503 with
Retry-After in the app's JSON error shape, at once while the breaker is open, instead of a
plain-text 500 after the client's retry deadline.

Private Redis and PostgreSQL servers: the tests take them down.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.reference_app.conftest import eventually
from tests.reference_app.served import ServedApp, served_app
from tests.servers.postgres_server import PostgresServer
from tests.servers.redis_nodes import RedisDeployment, start_standalone

READY = "/api/health/ready"


@pytest.fixture
def private_redis() -> Iterator[RedisDeployment]:
    redis = start_standalone()
    try:
        yield redis
    finally:
        redis.close()


def _environ(redis: RedisDeployment, postgres: PostgresServer) -> dict[str, str]:
    url = postgres.create_database(f"t_outage_{uuid.uuid4().hex[:12]}")
    return {**redis.environ, "DATABASE_URL": url, "APP_ENV": "development"}


def _unavailable(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, object] = response.json()
    assert body["error"] == "dependency_unavailable", body
    assert int(response.headers["retry-after"]) >= 1
    assert body["retry_after"] == int(response.headers["retry-after"])
    return body


async def _breaker_open(app: ServedApp) -> httpx.Response:
    """Probe readiness (each probe is a health check of the dependency) until the breaker of the
    failing dependency is open, checking readiness answers 503 then."""

    async def probe() -> httpx.Response | None:
        response = await app.client.get(READY)
        return response if '"circuit":"open"' in response.text.replace(" ", "") else None

    response: httpx.Response = await eventually(probe, "the breaker to open", within=60)
    assert response.status_code == 503, response.text
    return response


async def test_a_redis_outage_makes_readiness_503_and_requests_503_json(
    private_redis: RedisDeployment, private_postgres: PostgresServer
) -> None:
    async with served_app(_environ(private_redis, private_postgres)) as app:
        await app.add_user()
        assert (await app.sign_in()).status_code == 200
        assert (await app.client.get(READY)).status_code == 200
        private_redis.nodes[0].kill()

        # Before the breaker opens, a request that needs Redis fails after the retry deadline:
        # in the JSON shape, not as a plain-text 500.
        body = _unavailable(await app.client.get("/api/auth/me"))
        assert "Redis" in str(body["detail"])

        ready = await _breaker_open(app)
        assert ready.json()["status"] == "unhealthy"
        assert (await app.client.get("/api/health")).status_code == 200  # liveness holds

        # With the breaker open, requests are answered at once.
        for method, path in [("GET", "/api/auth/me"), ("POST", "/api/auth/sign-in")]:
            started = time.monotonic()
            response = await app.client.request(method, path, json={"username": "alice"})
            took = time.monotonic() - started
            body = _unavailable(response)
            assert "redis" in str(body["detail"]).lower()
            assert took < 2.5, f"{method} {path} took {took:.1f} s (Redis retries take 5 s)"


async def test_a_postgres_outage_makes_readiness_503_and_requests_503_json(
    private_redis: RedisDeployment, private_postgres: PostgresServer
) -> None:
    async with served_app(_environ(private_redis, private_postgres)) as app:
        await app.add_user()
        assert (await app.sign_in()).status_code == 200
        private_postgres.stop()
        try:
            body = _unavailable(await app.client.get("/api/imports"))
            assert "database" in str(body["detail"]).lower()
            ready = await _breaker_open(app)
            assert ready.json()["status"] == "unhealthy"
            assert (await app.client.get("/api/health")).status_code == 200
            started = time.monotonic()
            body = _unavailable(await app.client.get("/api/imports"))
            assert time.monotonic() - started < 2.5
        finally:
            private_postgres.start()
