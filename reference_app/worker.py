"""The worker: import jobs, analytics jobs and a sweep that re-enqueues imports whose job was lost.

Delivery is at-least-once (the queue hands a job out again when its worker's lease runs out);
exactly-once comes from the import transaction (see imports.py). So the rules here are simple:

- a job is acknowledged (``complete``/``fail``) only after its effect is committed;
- a bad file fails the import and the job for good, with the parser's reason;
- any other error leaves the job leased, so it is redelivered when the lease ends (up to the
  queue's ``max_attempts``);
- the lease is renewed while a job runs, so a long import is not handed to a second worker.

Stopping never relies on cancellation reaching a task inside a redis-py call (redis-py 8.1 on
Python 3.11 can swallow it; see stoppable.py): every loop checks a flag, and every wait on a task
is bounded. When ``stop`` is set, the job in hand gets ``stop_grace`` seconds to finish; after that
it is cancelled (best effort: psycopg honours it) and handed back to the queue at once, so
``run`` returns within about ``stop_grace + 3 * settle`` seconds whatever Redis and PostgreSQL do
(Docker's SIGKILL comes 10 s after SIGTERM).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from redis.exceptions import RedisError

from app_support.redis.queue import Job, JobQueue
from reference_app.analytics import invalidate_user, refresh_user
from reference_app.imports import (
    ImportState,
    apply_import,
    fail_import,
    get_import,
    mark_active,
    stalled_imports,
)
from reference_app.services import Services
from reference_app.stoppable import Abandoned, finished_unless, sleep_unless

__all__ = ["JobFailed", "Worker"]

log = logging.getLogger(__name__)

Handler = Callable[[Job], Awaitable[None]]


class JobFailed(Exception):
    """The job cannot succeed (its input is bad): fail it for good with this reason."""


class Worker:
    """Runs both queues and the sweep until ``stop`` is set.

    ``reserve_wait`` bounds how long an idle queue polls before it looks at the flag again;
    ``stop_grace`` is how long the job in hand may still run once ``stop`` is set; ``settle`` how
    long a call in flight is waited for once its result no longer matters (then it is abandoned:
    it ends on its own Redis or database timeouts, unawaited).
    """

    def __init__(
        self,
        services: Services,
        *,
        reserve_wait: float = 1.0,
        stop_grace: float = 4.0,
        settle: float = 1.0,
    ) -> None:
        self.services = services
        self.reserve_wait = reserve_wait
        self.stop_grace = stop_grace
        self.settle = settle
        self.abandoned = Abandoned()

    async def run(self, stop: asyncio.Event) -> None:
        """Process jobs until ``stop`` is set, then return within a bound (see the module doc).

        Re-raises the error of a loop that failed unexpectedly, after stopping the others.
        """
        services = self.services
        halt = asyncio.Event()  # ``stop``, or one of the loops failed
        loops = [
            self._start(self._consume(services.import_queue, self.handle_import, halt)),
            self._start(self._consume(services.analytics_queue, self.handle_analytics, halt)),
            self._start(self._sweep_forever(halt)),
        ]
        relay = asyncio.ensure_future(stop.wait())
        try:
            pending: set[asyncio.Future[Any]] = {relay, *loops}
            while not relay.done():
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                if any(loop in done for loop in loops):
                    break  # a loop ended without being asked to: it failed
        finally:
            relay.cancel()
            halt.set()
        await asyncio.wait(loops, timeout=self.stop_grace + 4 * self.settle)
        for loop in loops:
            if not loop.done():
                self.abandoned.add(loop, f"worker loop {loop.get_name()}")
        for loop in loops:
            error = loop.exception() if loop.done() and not loop.cancelled() else None
            if error is not None:
                raise error

    @staticmethod
    def _start(coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        return asyncio.create_task(coroutine, name=getattr(coroutine, "__qualname__", None))

    async def _consume(self, queue: JobQueue, handler: Handler, halt: asyncio.Event) -> None:
        pause = 0.1
        while not halt.is_set():
            reserving = asyncio.ensure_future(queue.reserve(wait=self.reserve_wait))
            if not await finished_unless(reserving, halt, then=self.settle):
                # A job it leases later comes back when that lease runs out.
                self.abandoned.add(reserving, f"reserving from {queue.name}")
                return
            try:
                job = reserving.result()
            except RedisError:
                log.warning("reserving from %s failed; retrying in %.1f s", queue.name, pause)
                await sleep_unless(halt, pause)
                pause = min(pause * 2, 5.0)
                continue
            pause = 0.1
            if job is not None and halt.is_set():
                await self._hand_back(queue, job)  # leased while stopping: not started
            elif job is not None:
                await self._run(queue, job, handler, halt)

    async def _run(self, queue: JobQueue, job: Job, handler: Handler, halt: asyncio.Event) -> None:
        done = asyncio.Event()  # the keeper's stop flag: it is never cancelled
        keeper = asyncio.ensure_future(self._keep_lease(queue, job, done))
        work = asyncio.ensure_future(self._work(queue, job, handler))
        given_up = not await finished_unless(work, halt, then=self.stop_grace)
        if given_up:
            log.warning("stopping: %s job %s did not finish within %.1f s; handing it back",
                        queue.name, job.id, self.stop_grace)  # fmt: skip
            work.cancel()  # best effort (psycopg honours it, redis-py may not): not relied on
            await asyncio.wait({work}, timeout=self.settle)
            if not work.done():
                self.abandoned.add(work, f"{queue.name} job {job.id}")
        done.set()
        await asyncio.wait({keeper}, timeout=self.settle)
        if not keeper.done():
            self.abandoned.add(keeper, f"renewing the lease of {queue.name} job {job.id}")
        if given_up:
            await self._hand_back(queue, job)

    async def _work(self, queue: JobQueue, job: Job, handler: Handler) -> None:
        try:
            await handler(job)
        except JobFailed as exc:
            await self._acknowledge(queue.fail(job, str(exc)), queue, job)
        except Exception:
            # Not acknowledged: the queue hands the job out again once the lease runs out.
            log.exception("%s job %s (attempt %d) failed; it will be retried",
                          queue.name, job.id, job.attempt)  # fmt: skip
        else:
            await self._acknowledge(queue.complete(job), queue, job)

    async def _hand_back(self, queue: JobQueue, job: Job) -> None:
        # A lease of 1 ms: the next reserve (of any worker) puts the job back at the head of the
        # queue. It counts as an attempt; the import transaction keeps the effect exactly once.
        releasing = asyncio.ensure_future(queue.extend(job, lease=0.001))
        await asyncio.wait({releasing}, timeout=self.settle)
        if not releasing.done():
            self.abandoned.add(releasing, f"handing back {queue.name} job {job.id}")
        elif releasing.cancelled() or releasing.exception() is not None:
            log.warning("handing back %s job %s failed; it returns when its lease runs out",
                        queue.name, job.id)  # fmt: skip

    @staticmethod
    async def _acknowledge(ack: Awaitable[bool], queue: JobQueue, job: Job) -> None:
        # The effect is committed; a lost acknowledgement only means a redelivery, which finds
        # the import finished. So an error here must not stop the worker.
        try:
            if not await ack:
                log.warning("%s job %s: lease lost before acknowledgement", queue.name, job.id)
        except RedisError:
            log.warning("acknowledging %s job %s failed; it will be redelivered", queue.name,
                        job.id, exc_info=True)  # fmt: skip

    async def _keep_lease(self, queue: JobQueue, job: Job, done: asyncio.Event) -> None:
        # Stops by flag only: an extend() in flight ends on Redis's own timeouts, then the flag
        # is seen. Cancelling it there could be swallowed and leave this loop renewing forever.
        interval = queue.options.lease / 3
        while not await sleep_unless(done, interval):
            try:
                if not await queue.extend(job):
                    log.warning("lost the lease of %s job %s", queue.name, job.id)
                    return
            except RedisError:
                log.warning("renewing the lease of %s job %s failed", queue.name, job.id)

    async def handle_import(self, job: Job) -> None:
        """Apply the import exactly once, then drop the user's cached analytics and enqueue
        their recomputation. Raises JobFailed when the file is bad."""
        services = self.services
        import_id = uuid.UUID(str(job.payload["import_id"]))
        async with services.database.connection() as conn:
            started = await mark_active(conn, import_id)
            if started is None:  # already finished (a redelivery) or unknown
                record = await get_import(conn, import_id)
                if record is None:
                    raise JobFailed(f"no import {import_id}")
            else:
                record = await apply_import(conn, import_id)
                services.imports.record(
                    success=record.state is ImportState.COMPLETED, rows=record.row_count or 0
                )
        if record.state is ImportState.FAILED:
            raise JobFailed(record.reason or "failed")
        await invalidate_user(services.cache, record.user_id)
        # Keyed by the import, so a redelivered import job does not enqueue a second refresh.
        await services.analytics_queue.enqueue(
            {"user_id": record.user_id, "import_id": str(import_id)}, job_id=f"after-{import_id}"
        )

    async def handle_analytics(self, job: Job) -> None:
        """Recompute and cache every aggregate of the job's user."""
        await refresh_user(self.services.cache, self.services.database, int(job.payload["user_id"]))

    @property
    def stalled_after(self) -> float:
        """Seconds an unfinished import stays untouched before the sweep looks at its job: at most
        half the job lease, so with the sweep every quarter lease a job lost in a Redis failover
        is enqueued again within 3/4 of a lease of the import's last change (``stalled_after``
        can only shorten it). Looking early is harmless: a job that exists is left alone, and
        enqueueing a missing one again uses the import id as job id (idempotent)."""
        config = self.services.config
        return min(config.stalled_after, config.job_lease / 2)

    async def sweep(self) -> int:
        """Reconcile unfinished imports untouched for :attr:`stalled_after` with the queue:
        enqueue again those whose job is gone (same job id), fail those the queue gave up on.
        Returns how many changed. Exactly once still holds: the import transaction (row lock and
        state flip) makes a second run of the same import a no-op.
        """
        services = self.services
        older_than = dt.timedelta(seconds=self.stalled_after)
        changed = 0
        async with services.database.connection() as conn:
            for import_id in await stalled_imports(conn, older_than=older_than):
                status = await services.import_queue.status(str(import_id))
                if status is None:
                    await services.import_queue.enqueue(
                        {"import_id": str(import_id)}, job_id=str(import_id)
                    )
                    changed += 1
                elif status.state == "failed":
                    await fail_import(conn, import_id, status.reason or "the job failed")
                    services.imports.record(success=False)
                    changed += 1
        return changed

    async def _sweep_forever(self, stop: asyncio.Event) -> None:
        interval = min(self.stalled_after / 2, 60.0)  # a quarter lease by default
        while not await sleep_unless(stop, interval):
            sweeping = asyncio.ensure_future(self.sweep())
            if not await finished_unless(sweeping, stop, then=self.settle):
                self.abandoned.add(sweeping, "the sweep of stalled imports")
                return
            try:
                changed = sweeping.result()
            except Exception:
                log.exception("sweeping stalled imports failed")
                continue
            if changed:
                log.info("sweep re-enqueued or failed %d stalled imports", changed)
