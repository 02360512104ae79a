"""The health core against real Redis: app_support.redis's health function and job queues."""

from __future__ import annotations

import asyncio
import functools
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from flask import Flask

from app_support.health import HealthService, HealthSettings
from app_support.health.wsgi import HealthWSGIMiddleware
from app_support.redis import (
    AsyncRedisClient,
    JobQueue,
    RedisSettings,
    SyncJobQueue,
    create_async_client,
    create_client,
    redis_health,
    redis_health_sync,
)
from tests.servers.redis_nodes import RedisDeployment

from .conftest import respond


@pytest.fixture
async def client(redis_standalone: RedisDeployment) -> AsyncIterator[AsyncRedisClient]:
    client = create_async_client(RedisSettings.from_env(redis_standalone.environ))
    yield client
    await client.aclose()


async def detailed(service: HealthService) -> tuple[int, dict[str, Any]]:
    response = await respond(service, "/api/health/detailed")
    assert response is not None
    body: dict[str, Any] = json.loads(response.body)
    return response.status_code, body


class Counted:
    """Counts calls of a real dependency check, passing its result through."""

    def __init__(self, client: AsyncRedisClient) -> None:
        self.client = client
        self.calls = 0

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        return await redis_health(self.client)


async def test_redis_block_and_queues_from_real_redis(client: AsyncRedisClient) -> None:
    service = HealthService(
        HealthSettings(queue_backlog_degraded=3, deadline=10, check_timeout=10),
        system_checks=False,
    )
    check = Counted(client)
    service.add_redis_check(check)
    imports = JobQueue(client, f"import-{uuid.uuid4().hex}")
    analytics = JobQueue(client, f"analytics-{uuid.uuid4().hex}")
    service.add_queue_check("import", imports.stats)
    service.add_queue_check("analytics", analytics.stats)
    for n in range(3):
        await imports.enqueue({"n": n})
    await analytics.enqueue({"n": 0})
    job = await analytics.reserve()
    assert job is not None
    await analytics.complete(job)

    results = await asyncio.gather(*(detailed(service) for _ in range(30)))
    assert check.calls == 1  # thirty probes, one round of Redis commands
    code, body = results[0]
    redis = body["services"]["redis"]
    assert (code, body["status"]) == (200, "degraded")  # the import backlog reached 3
    assert redis["status"] == "healthy"
    assert (redis["mode"], redis["nodes"], redis["error"]) == ("standalone", 1, None)
    assert isinstance(redis["latency"], int | float)
    queues = body["services"]["queues"]
    assert queues["import"] | {"latency": 0} == {
        "status": "degraded", "waiting": 3, "active": 0, "completed": 0, "failed": 0,
        "latency": 0, "error": None,
    }  # fmt: skip
    assert queues["analytics"]["status"] == "healthy"
    assert (queues["analytics"]["waiting"], queues["analytics"]["completed"]) == (0, 1)
    service.close()


@pytest.mark.parametrize("redis_any", ["standalone", "sentinel", "cluster"], indirect=True)
async def test_every_redis_mode_fills_the_plan_fields(redis_any: RedisDeployment) -> None:
    client = create_async_client(RedisSettings.from_env(redis_any.environ))
    try:
        service = HealthService(HealthSettings(deadline=10, check_timeout=10), system_checks=False)
        service.add_redis_check(functools.partial(redis_health, client))
        code, body = await detailed(service)
        redis = body["services"]["redis"]
        assert (code, redis["status"], redis["mode"]) == (200, "healthy", redis_any.mode)
        assert redis["nodes"] >= 1
        assert redis["error"] is None
        service.close()
    finally:
        await client.aclose()


async def test_a_hung_redis_times_out_then_opens_the_breaker(
    redis_standalone: RedisDeployment, client: AsyncRedisClient
) -> None:
    settings = HealthSettings(
        check_timeout=0.3, deadline=5, failure_ttl=0.05, breaker_failures=2, breaker_reset=0.5
    )
    service = HealthService(settings, system_checks=False)
    service.mark_started()
    check = Counted(client)
    service.add_redis_check(check)
    node = redis_standalone.node("master")
    node.stop()  # SIGSTOP: the socket stays open, nothing answers
    try:
        code, body = await detailed(service)
        assert (code, body["services"]["redis"]["error"]) == (503, "timed out after 0.3s")
        await asyncio.sleep(0.1)
        code, body = await detailed(service)  # second failure: the breaker opens
        assert code == 503
        await asyncio.sleep(0.1)
        code, body = await detailed(service)
        redis = body["services"]["redis"]
        assert (code, redis["status"], redis["circuit"]) == (200, "degraded", "open")
        assert check.calls == 2
        liveness = await respond(service, "/api/health")
        assert liveness is not None
        assert liveness.status_code == 200
    finally:
        node.cont()
    deadline = time.monotonic() + 30
    while True:  # half-open probes after each cool-down until Redis answers again
        await asyncio.sleep(0.2)
        code, body = await detailed(service)
        if body["services"]["redis"]["status"] == "healthy" or time.monotonic() > deadline:
            break
    assert (code, body["services"]["redis"]["status"]) == (200, "healthy")
    ready = await respond(service, "/api/health/ready")
    assert ready is not None
    assert ready.status_code == 200
    service.close()


@pytest.fixture
def flask_with_sync_redis(redis_standalone: RedisDeployment) -> Iterator[Flask]:
    sync_client = create_client(RedisSettings.from_env(redis_standalone.environ))
    service = HealthService(HealthSettings(deadline=10, check_timeout=10), system_checks=False)
    service.add_redis_check(functools.partial(redis_health_sync, sync_client))
    service.add_queue_check("import", SyncJobQueue(sync_client, f"import-{uuid.uuid4().hex}").stats)
    app = Flask(__name__)
    middleware = HealthWSGIMiddleware(app.wsgi_app, service=service)
    app.wsgi_app = middleware  # type: ignore[method-assign]
    yield app
    middleware.close()
    sync_client.close()


def test_sync_redis_check_behind_flask(flask_with_sync_redis: Flask) -> None:
    http = flask_with_sync_redis.test_client()
    response = http.get("/api/health/detailed")
    assert response.status_code == 200
    body = response.json
    assert body is not None
    assert body["services"]["redis"]["mode"] == "standalone"
    assert body["services"]["queues"]["import"]["waiting"] == 0
    assert http.get("/api/health/ready").status_code == 200
