"""Queue processing metrics: how long jobs take and how they end, per queue.

``JobMetrics.observe`` is the ``on_finish`` hook of app_support.redis's ``JobQueue`` and
``SyncJobQueue``, called after each ``complete``/``fail`` with the seconds since the job was
leased. An attempt that raises and is left for its lease to run out (the reference worker's
retry) is not finished yet, so it is not counted: its job is counted when a later attempt ends.
How many jobs wait or run right now is ``queue_jobs{queue, state}`` (collectors.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

__all__ = ["JOB_BUCKETS", "JOB_RESULTS", "JobMetrics"]

# completed / failed: acknowledged as such; lost: the lease ran out first (another attempt owns
# the job now), so this attempt's result was not recorded.
JOB_RESULTS = ("completed", "failed", "lost")
# CSV imports run from milliseconds to minutes.
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class JobMetrics:
    """``queue_job_duration_seconds{queue}`` (lease to acknowledgement) and
    ``queue_jobs_processed_total{queue, result}``.

    Every result of each of ``queues`` is present from the start at 0, so ``rate()`` and ratios
    work before the first failure; other queue names are added when first seen. Raises
    ``ValueError`` (from prometheus-client) when ``registry`` already has these metrics.
    """

    def __init__(
        self,
        *,
        queues: Iterable[str] = (),
        registry: CollectorRegistry | None = REGISTRY,
        buckets: Sequence[float] = JOB_BUCKETS,
    ) -> None:
        self._duration = Histogram(
            "queue_job_duration_seconds",
            "Seconds from leasing a job to acknowledging it, per queue",
            ["queue"],
            registry=registry,
            buckets=buckets,
        )
        self._processed = Counter(
            "queue_jobs_processed_total",
            "Jobs finished by this process, per queue and result (completed, failed, lost)",
            ["queue", "result"],
            registry=registry,
        )
        self._children: dict[tuple[str, str], tuple[Any, Any]] = {}
        for queue in queues:
            for result in JOB_RESULTS:
                self._child(queue, result)

    def _child(self, queue: str, result: str) -> tuple[Any, Any]:
        pair = self._children[(queue, result)] = (
            self._duration.labels(queue),
            self._processed.labels(queue, result),
        )
        return pair

    def observe(self, queue: str, result: str, seconds: float) -> None:
        """Record one finished job. Raises ``ValueError`` for a result not in JOB_RESULTS."""
        pair = self._children.get((queue, result))
        if pair is None:
            if result not in JOB_RESULTS:
                raise ValueError(f"result must be one of {JOB_RESULTS}, got {result!r}")
            pair = self._child(queue, result)
        pair[0].observe(seconds)
        pair[1].inc()
