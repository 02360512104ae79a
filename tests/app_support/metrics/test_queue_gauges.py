"""Queue gauges and Redis command metrics against a real Redis server, through app_support.redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from app_support.metrics import QUEUE_STATES, QueueStatsCollector, redis_command_observer
from app_support.redis import RedisSettings, SyncJobQueue, SyncRedisClient, create_client
from tests.app_support.metrics.scrape import value
from tests.servers.redis_nodes import RedisDeployment


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def client(
    redis_standalone: RedisDeployment, registry: CollectorRegistry
) -> Iterator[SyncRedisClient]:
    settings = RedisSettings.from_env(redis_standalone.environ)
    client = create_client(settings, on_command=redis_command_observer(registry=registry))
    yield client
    client.close()


def queue(client: SyncRedisClient, name: str) -> SyncJobQueue:
    # A namespace of its own: the Redis server is shared by the whole test session.
    return SyncJobQueue(client, name, namespace=f"metrics-test-{uuid.uuid4().hex}")


def test_queue_gauges_are_read_from_redis_at_scrape_time(
    client: SyncRedisClient, registry: CollectorRegistry
) -> None:
    imports, analytics = queue(client, "import"), queue(client, "analytics")
    QueueStatsCollector([imports, analytics], registry=registry)
    for state in QUEUE_STATES:
        assert value(registry, "queue_jobs", queue="import", state=state) == 0

    for n in range(4):
        imports.enqueue({"file": f"f{n}.csv"})
    done, failed, _ = (imports.reserve(), imports.reserve(), imports.reserve())
    assert done is not None
    assert failed is not None
    assert imports.complete(done)
    assert imports.fail(failed, "bad header")
    analytics.enqueue({"report": "daily"})

    expected = {"waiting": 1, "active": 1, "completed": 1, "failed": 1}
    for state, jobs in expected.items():
        assert value(registry, "queue_jobs", queue="import", state=state) == jobs
    assert value(registry, "queue_jobs", queue="analytics", state="waiting") == 1
    assert value(registry, "queue_stats_up", queue="import") == 1


def test_redis_commands_are_timed_by_command(
    client: SyncRedisClient, registry: CollectorRegistry
) -> None:
    key = f"metrics-test-{uuid.uuid4().hex}"
    client.set(key, "1")
    client.get(key)
    client.get(key)
    with pytest.raises(Exception, match="WRONGTYPE"):
        client.lpush(key, "x")
    client.delete(key)
    count = "redis_command_duration_seconds_count"
    assert value(registry, count, command="SET") == 1
    assert value(registry, count, command="GET") == 2
    assert value(registry, "redis_command_errors_total", command="LPUSH") == 1
    assert value(registry, "redis_command_errors_total", command="GET") == 0


def test_unreachable_queue_reports_down_without_holding_up_the_scrape(
    client: SyncRedisClient, registry: CollectorRegistry
) -> None:
    # Nothing listens on port 1; the client keeps retrying for REDIS_RETRY_DEADLINE (5 s).
    settings = RedisSettings.from_env({"REDIS_URL": "redis://127.0.0.1:1/0"})
    unreachable = create_client(settings)
    try:
        QueueStatsCollector(
            [queue(unreachable, "import"), queue(client, "analytics")],
            timeout=0.5,
            registry=registry,
        )
        scrape = list(registry.collect())
        assert value(scrape, "queue_stats_up", queue="import") == 0
        assert value(scrape, "queue_jobs", queue="import", state="waiting") is None
        assert value(scrape, "queue_stats_up", queue="analytics") == 1
        # While the first read still retries, the next scrape reports the queue down too.
        assert value(registry, "queue_stats_up", queue="import") == 0
    finally:
        unreachable.close()
