"""JobQueue: both queues, leases, acks, status and stats, in every mode."""

from __future__ import annotations

import asyncio

import pytest

from app_support.redis import (
    QUEUE_NAMES,
    AsyncRedisClient,
    Durability,
    JobQueue,
    RedisSettings,
    SyncJobQueue,
    SyncRedisClient,
)
from tests.servers.redis_nodes import RedisDeployment


@pytest.mark.parametrize("name", QUEUE_NAMES)
async def test_enqueue_reserve_complete_fail(aclient: AsyncRedisClient, name: str) -> None:
    queue = JobQueue(aclient, name)
    first = await queue.enqueue({"file": "a.csv"}, job_id="job-a")
    await queue.enqueue({"file": "b.csv"}, job_id="job-b")
    assert await queue.enqueue({"file": "other"}, job_id="job-a") == first  # idempotent
    assert await queue.stats() == {"waiting": 2, "active": 0, "completed": 0, "failed": 0}

    job = await queue.reserve()
    assert job is not None
    assert (job.id, job.payload, job.attempt) == ("job-a", {"file": "a.csv"}, 1)
    assert (await queue.status("job-a")).state == "active"  # type: ignore[union-attr]
    assert await queue.complete(job) is True
    assert await queue.complete(job) is True  # a retried ack is harmless

    second = await queue.reserve()
    assert second is not None
    assert await queue.fail(second, "bad header row") is True
    status = await queue.status("job-b")
    assert status is not None
    assert (status.state, status.reason, status.attempts) == ("failed", "bad header row", 1)
    assert await queue.stats() == {"waiting": 0, "active": 0, "completed": 1, "failed": 1}
    assert await queue.reserve() is None
    assert await queue.status("missing") is None


async def test_job_of_a_dead_worker_is_retried_then_failed(aclient: AsyncRedisClient) -> None:
    queue = JobQueue(aclient, "import", lease=0.1, max_attempts=2)
    await queue.enqueue({"n": 1}, job_id="j")
    lost = await queue.reserve()
    assert lost is not None
    await asyncio.sleep(0.2)  # the worker "died": its lease ran out
    retried = await queue.reserve()
    assert retried is not None
    assert (retried.id, retried.attempt) == ("j", 2)
    assert await queue.complete(lost) is False  # the stale worker cannot ack any more
    await asyncio.sleep(0.2)
    assert await queue.reserve() is None  # second lease expired too: failed for good
    status = await queue.status("j")
    assert status is not None
    assert status.state == "failed"
    assert "lease expired" in (status.reason or "")
    assert await queue.stats() == {"waiting": 0, "active": 0, "completed": 0, "failed": 1}


async def test_extend_keeps_a_long_job(aclient: AsyncRedisClient) -> None:
    queue = JobQueue(aclient, "analytics", lease=0.3)
    await queue.enqueue({}, job_id="long")
    job = await queue.reserve()
    assert job is not None
    for _ in range(3):
        await asyncio.sleep(0.15)
        assert await queue.extend(job) is True
    assert await queue.complete(job) is True


async def test_reserve_waits_for_a_job(aclient: AsyncRedisClient) -> None:
    queue = JobQueue(aclient, "import")

    async def later() -> None:
        await asyncio.sleep(0.1)
        await queue.enqueue({"late": True})

    task = asyncio.create_task(later())
    job = await queue.reserve(wait=5.0)
    await task
    assert job is not None
    assert job.payload == {"late": True}


async def test_enqueue_confirmed_by_a_replica(
    redis_any: RedisDeployment, aclient: AsyncRedisClient
) -> None:
    if redis_any.mode == "standalone":
        return  # no replica to confirm; the session suite covers the refusal
    settings = RedisSettings.from_env({**redis_any.environ, "REDIS_WAIT_REPLICAS": "1"})
    queue = JobQueue(aclient, "import", durability=Durability.from_settings(settings))
    job_id = await queue.enqueue({"durable": True})
    assert (await queue.status(job_id)) is not None


def test_sync_queue_shares_the_async_queue_state(sclient: SyncRedisClient) -> None:
    queue = SyncJobQueue(sclient, "analytics")
    queue.enqueue({"x": 1}, job_id="s1")
    job = queue.reserve()
    assert job is not None
    assert queue.extend(job) is True
    assert queue.stats()["active"] == 1
    assert queue.complete(job) is True
    assert queue.stats() == {"waiting": 0, "active": 0, "completed": 1, "failed": 0}
    assert queue.status("s1").state == "completed"  # type: ignore[union-attr]


def test_bad_queue_name(sclient: SyncRedisClient) -> None:
    with pytest.raises(ValueError, match="import"):
        SyncJobQueue(sclient, "{bad}")
