"""Queue processing metrics: JobMetrics as the on_finish hook of real queues on a real Redis."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from prometheus_client import CollectorRegistry

from app_support.metrics import JOB_RESULTS, JobMetrics
from app_support.redis import (
    AsyncRedisClient,
    RedisSettings,
    SyncJobQueue,
    SyncRedisClient,
    create_async_client,
    create_client,
)
from app_support.redis.queue import Job, JobQueue
from tests.app_support.metrics.scrape import value
from tests.servers.redis_nodes import RedisDeployment

PROCESSED = "queue_jobs_processed_total"
DURATION = "queue_job_duration_seconds"


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def client(redis_standalone: RedisDeployment) -> Iterator[SyncRedisClient]:
    client = create_client(RedisSettings.from_env(redis_standalone.environ))
    yield client
    client.close()


@pytest.fixture
async def aclient(redis_standalone: RedisDeployment) -> AsyncIterator[AsyncRedisClient]:
    client = create_async_client(RedisSettings.from_env(redis_standalone.environ))
    yield client
    await client.aclose()


def namespace() -> str:
    # The Redis server is shared by the whole test session.
    return f"job-metrics-{uuid.uuid4().hex}"


def test_every_result_starts_at_zero(registry: CollectorRegistry) -> None:
    JobMetrics(queues=["import", "analytics"], registry=registry)
    for queue in ("import", "analytics"):
        for result in JOB_RESULTS:
            assert value(registry, PROCESSED, queue=queue, result=result) == 0
        assert value(registry, f"{DURATION}_count", queue=queue) == 0


def test_sync_queue_records_completed_and_failed_with_durations(
    client: SyncRedisClient, registry: CollectorRegistry
) -> None:
    metrics = JobMetrics(queues=["import"], registry=registry)
    queue = SyncJobQueue(client, "import", namespace=namespace(), on_finish=metrics.observe)
    for n in range(3):
        queue.enqueue({"file": f"f{n}.csv"})
    first, second = queue.reserve(), queue.reserve()
    assert first is not None
    assert second is not None
    time.sleep(0.05)  # both jobs take at least this long
    assert queue.complete(first)
    assert queue.fail(second, "bad header")
    assert value(registry, PROCESSED, queue="import", result="completed") == 1
    assert value(registry, PROCESSED, queue="import", result="failed") == 1
    assert value(registry, PROCESSED, queue="import", result="lost") == 0
    assert value(registry, f"{DURATION}_count", queue="import") == 2
    total = value(registry, f"{DURATION}_sum", queue="import")
    assert total is not None
    assert total >= 0.1


def test_an_attempt_whose_lease_ran_out_counts_as_lost(
    client: SyncRedisClient, registry: CollectorRegistry
) -> None:
    metrics = JobMetrics(registry=registry)
    ns = namespace()
    slow = SyncJobQueue(client, "analytics", lease=0.05, namespace=ns, on_finish=metrics.observe)
    slow.enqueue({"report": "daily"})
    job = slow.reserve()
    assert job is not None
    time.sleep(0.1)
    again = slow.reserve()  # the lease ran out: the job is handed out again
    assert again is not None
    assert again.id == job.id
    assert not slow.complete(job)
    assert value(registry, PROCESSED, queue="analytics", result="lost") == 1
    assert value(registry, PROCESSED, queue="analytics", result="completed") is None
    assert slow.complete(again)
    assert value(registry, PROCESSED, queue="analytics", result="completed") == 1


def test_a_job_not_leased_by_this_process_is_not_timed(
    client: SyncRedisClient, registry: CollectorRegistry
) -> None:
    metrics = JobMetrics(queues=["import"], registry=registry)
    queue = SyncJobQueue(client, "import", namespace=namespace(), on_finish=metrics.observe)
    # A Job rebuilt by hand (no lease time): acknowledged or not, there is no duration to record.
    assert not queue.complete(Job("import", "unknown", {}, 1))
    assert value(registry, f"{DURATION}_count", queue="import") == 0


async def test_async_queue_records_through_the_same_hook(
    aclient: AsyncRedisClient, registry: CollectorRegistry
) -> None:
    metrics = JobMetrics(queues=["import"], registry=registry)
    queue = JobQueue(aclient, "import", namespace=namespace(), on_finish=metrics.observe)
    await queue.enqueue({"file": "a.csv"})
    await queue.enqueue({"file": "b.csv"})
    done, bad = await queue.reserve(), await queue.reserve()
    assert done is not None
    assert bad is not None
    assert await queue.complete(done)
    assert await queue.fail(bad, "not a CSV file")
    assert value(registry, PROCESSED, queue="import", result="completed") == 1
    assert value(registry, PROCESSED, queue="import", result="failed") == 1
    assert value(registry, f"{DURATION}_count", queue="import") == 2


def test_an_unknown_result_is_refused(registry: CollectorRegistry) -> None:
    metrics = JobMetrics(registry=registry)
    with pytest.raises(ValueError, match="result must be one of"):
        metrics.observe("import", "exploded", 1.0)
