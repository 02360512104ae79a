"""Job queues (``import`` and ``analytics``) that work unchanged in all three modes.

Written here rather than taken from a library: RQ, Celery and arq have no Redis Cluster support,
and taskiq-redis's Cluster broker has no leases, job status or waiting/active/completed/failed
counts, which health and metrics read. The whole design is four Lua scripts (queue_scripts.py):

- ``enqueue(payload, job_id)`` is idempotent on the job id, so it is retried safely through a
  failover and may be confirmed by replicas (``Durability``, WAIT; by default the client's
  ``durability``, i.e. ``REDIS_WAIT_REPLICAS``).
- ``reserve()`` leases a job for ``lease`` seconds; a job whose worker died (lease ran out) is
  handed out again, up to ``max_attempts``, then marked failed.
- ``complete(job)`` / ``fail(job, reason)`` acknowledge one attempt; they return False when the
  lease was lost (the job went to another worker), so a slow worker cannot overwrite a result.
- ``status(job_id)`` and ``stats()`` -> ``{waiting, active, completed, failed}`` (completed and
  failed are totals since the queue was created; finished jobs' details expire after
  ``result_ttl``).
- ``on_finish(queue, result, seconds)``, optional, is called after each ``complete``/``fail`` with
  ``result`` "completed", "failed" or "lost" (the lease was lost) and the seconds since the job
  was leased (app_support.metrics' ``JobMetrics.observe`` records them).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from app_support.redis.durability import Durability, confirmed_write, confirmed_write_sync
from app_support.redis.factory import AsyncRedisClient, SyncRedisClient
from app_support.redis.queue_scripts import ACK, ENQUEUE, EXTEND, RESERVE

__all__ = ["QUEUE_NAMES", "Job", "JobHook", "JobQueue", "JobState", "JobStatus", "SyncJobQueue"]

QUEUE_NAMES = ("import", "analytics")
JobState = Literal["waiting", "active", "completed", "failed"]
JobHook = Callable[[str, str, float], None]  # (queue, result, seconds since the lease)


@dataclass(frozen=True)
class Job:
    """A leased job; pass it back to ``complete``/``fail``/``extend``."""

    queue: str
    id: str
    payload: dict[str, Any]
    attempt: int
    leased_at: float | None = field(default=None, compare=False, repr=False)  # time.monotonic()


@dataclass(frozen=True)
class JobStatus:
    id: str
    state: JobState
    attempts: int
    reason: str | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class _Options:
    name: str
    lease: float
    max_attempts: int
    result_ttl: float
    durability: Durability
    namespace: str
    on_finish: JobHook | None = None

    def __post_init__(self) -> None:
        if not self.name or "{" in self.name or "}" in self.name:
            raise ValueError(f"queue name {self.name!r} is invalid; for example 'import'")
        if self.lease <= 0 or self.max_attempts < 1 or self.result_ttl <= 0:
            raise ValueError("lease > 0, max_attempts >= 1 and result_ttl > 0, e.g. lease=60.0")

    @property
    def prefix(self) -> str:
        return f"{self.namespace}:{{{self.name}}}:"

    def key(self, part: str) -> str:
        return self.prefix + part

    def job_key(self, job_id: str) -> str:
        return f"{self.prefix}job:{job_id}"

    def reserve_args(self) -> tuple[list[str], list[Any]]:
        keys = [self.key("waiting"), self.key("active"), self.key("stats")]
        return keys, [self.prefix + "job:", _ms(self.lease), self.max_attempts, _s(self.result_ttl)]

    def enqueue_command(self, job_id: str, payload: Mapping[str, Any]) -> tuple[Any, ...]:
        keys = (self.key("waiting"), self.job_key(job_id))
        return ("EVAL", ENQUEUE, 2, *keys, job_id, json.dumps(payload))

    def ack_args(self, job: Job, state: JobState, reason: str) -> tuple[list[str], list[Any]]:
        keys = [self.key("active"), self.key("stats"), self.job_key(job.id)]
        return keys, [job.id, job.attempt, state, reason, _s(self.result_ttl)]

    def extend_args(self, job: Job, lease: float | None) -> tuple[list[str], list[Any]]:
        keys = [self.key("active"), self.job_key(job.id)]
        return keys, [job.id, job.attempt, _ms(lease or self.lease)]

    def add_stats_reads(self, pipe: Any) -> None:
        # Queuing commands is sync on both sync and asyncio pipelines; only execute() differs.
        pipe.llen(self.key("waiting"))
        pipe.zcard(self.key("active"))
        pipe.hmget(self.key("stats"), ["completed", "failed"])

    def job(self, raw: Any) -> Job | None:
        if not raw:
            return None
        job_id, payload, attempt = raw
        return Job(self.name, str(job_id), json.loads(payload), int(attempt), time.monotonic())

    def finished(self, job: Job, state: JobState, acknowledged: bool) -> bool:
        if self.on_finish is not None and job.leased_at is not None:
            result = state if acknowledged else "lost"
            self.on_finish(self.name, result, time.monotonic() - job.leased_at)
        return acknowledged


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _s(seconds: float) -> int:
    return max(1, round(seconds))


def _status(raw: Mapping[str, str]) -> JobStatus | None:
    if not raw:
        return None
    state: Any = raw["state"]
    return JobStatus(
        id=raw["id"],
        state=state,
        attempts=int(raw.get("attempts", 0)),
        reason=raw.get("reason") or None,
        payload=json.loads(raw["payload"]),
    )


def _stats(waiting: Any, active: Any, counters: list[Any]) -> dict[str, int]:
    completed, failed = (int(value or 0) for value in counters)
    return {
        "waiting": int(waiting),
        "active": int(active),
        "completed": completed,
        "failed": failed,
    }


class JobQueue:
    """The asyncio job queue (see the module docstring). Construction does no I/O.

    ``durability`` defaults to the client's (``client.durability``, from the settings).
    """

    def __init__(
        self,
        client: AsyncRedisClient,
        name: str,
        *,
        lease: float = 60.0,
        max_attempts: int = 3,
        result_ttl: float = 86400.0,
        durability: Durability | None = None,
        namespace: str = "queue",
        on_finish: JobHook | None = None,
    ) -> None:
        if durability is None:
            durability = client.durability
        self.options = _Options(
            name, lease, max_attempts, result_ttl, durability, namespace, on_finish
        )
        self.name = name
        self._client = client
        self._reserve = client.register_script(RESERVE)
        self._ack = client.register_script(ACK)
        self._extend = client.register_script(EXTEND)

    async def enqueue(self, payload: Mapping[str, Any], job_id: str | None = None) -> str:
        """Add a job; an existing ``job_id`` is left as it is. Returns the job id.

        Raises WriteNotConfirmedError when durability asks for replicas that do not confirm
        (WriteRefusedError when the master refuses it: ``NOREPLICAS``).
        """
        job_id = job_id or uuid.uuid4().hex
        opts = self.options
        command = opts.enqueue_command(job_id, payload)
        await confirmed_write(self._client, opts.key("waiting"), command, opts.durability)
        return job_id

    async def reserve(self, wait: float = 0.0) -> Job | None:
        """Lease the next job, polling up to ``wait`` seconds; None when the queue stays empty."""
        give_up_at = time.monotonic() + wait
        pause = 0.02
        while True:
            keys, args = self.options.reserve_args()
            job = self.options.job(await self._reserve(keys, args))
            if job is not None or time.monotonic() + pause > give_up_at:
                return job
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.5)

    async def extend(self, job: Job, lease: float | None = None) -> bool:
        """Renew the lease of a long job; False when it was lost."""
        return bool(await self._extend(*self.options.extend_args(job, lease)))

    async def complete(self, job: Job) -> bool:
        """Mark this attempt completed; False when its lease was lost."""
        acknowledged = bool(await self._ack(*self.options.ack_args(job, "completed", "")))
        return self.options.finished(job, "completed", acknowledged)

    async def fail(self, job: Job, reason: str) -> bool:
        """Mark this attempt failed for good with ``reason``; False when its lease was lost."""
        acknowledged = bool(await self._ack(*self.options.ack_args(job, "failed", reason)))
        return self.options.finished(job, "failed", acknowledged)

    async def status(self, job_id: str) -> JobStatus | None:
        return _status(await self._client.hgetall(self.options.job_key(job_id)))  # type: ignore[arg-type]

    async def stats(self) -> dict[str, int]:
        """``{waiting, active, completed, failed}`` in one round trip (one slot)."""

        async def read() -> list[Any]:
            pipe = self._client.pipeline(transaction=False)
            self.options.add_stats_reads(pipe)
            return list(await pipe.execute())

        waiting, active, counters = await self._client.with_failover(read)
        return _stats(waiting, active, counters)


class SyncJobQueue:
    """The sync twin of :class:`JobQueue` (same keys, same scripts), e.g. for WSGI or metrics."""

    def __init__(
        self,
        client: SyncRedisClient,
        name: str,
        *,
        lease: float = 60.0,
        max_attempts: int = 3,
        result_ttl: float = 86400.0,
        durability: Durability | None = None,
        namespace: str = "queue",
        on_finish: JobHook | None = None,
    ) -> None:
        if durability is None:
            durability = client.durability
        self.options = _Options(
            name, lease, max_attempts, result_ttl, durability, namespace, on_finish
        )
        self.name = name
        self._client = client
        self._reserve = client.register_script(RESERVE)
        self._ack = client.register_script(ACK)
        self._extend = client.register_script(EXTEND)

    def enqueue(self, payload: Mapping[str, Any], job_id: str | None = None) -> str:
        job_id = job_id or uuid.uuid4().hex
        opts = self.options
        command = opts.enqueue_command(job_id, payload)
        confirmed_write_sync(self._client, opts.key("waiting"), command, opts.durability)
        return job_id

    def reserve(self, wait: float = 0.0) -> Job | None:
        give_up_at = time.monotonic() + wait
        pause = 0.02
        while True:
            keys, args = self.options.reserve_args()
            job = self.options.job(self._reserve(keys, args))
            if job is not None or time.monotonic() + pause > give_up_at:
                return job
            time.sleep(pause)
            pause = min(pause * 2, 0.5)

    def extend(self, job: Job, lease: float | None = None) -> bool:
        return bool(self._extend(*self.options.extend_args(job, lease)))

    def complete(self, job: Job) -> bool:
        acknowledged = bool(self._ack(*self.options.ack_args(job, "completed", "")))
        return self.options.finished(job, "completed", acknowledged)

    def fail(self, job: Job, reason: str) -> bool:
        acknowledged = bool(self._ack(*self.options.ack_args(job, "failed", reason)))
        return self.options.finished(job, "failed", acknowledged)

    def status(self, job_id: str) -> JobStatus | None:
        return _status(self._client.hgetall(self.options.job_key(job_id)))  # type: ignore[arg-type]

    def stats(self) -> dict[str, int]:
        def read() -> list[Any]:
            pipe = self._client.pipeline(transaction=False)
            self.options.add_stats_reads(pipe)
            return list(pipe.execute())

        waiting, active, counters = self._client.with_failover(read)
        return _stats(waiting, active, counters)
