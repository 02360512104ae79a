"""Gauges read at scrape time: job queues, the database pool, process resources, build info.

These are collectors rather than metric objects, so their values are read in the process answering
the scrape and never go through multiprocess files (see :mod:`app_support.metrics.multiprocess`).
A source that fails (Redis or the pool unreachable) does not fail the scrape: its ``*_up`` gauge
reads 0 and its other samples are left out.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

import psutil
from prometheus_client import REGISTRY, CollectorRegistry, Gauge, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from app_support.metrics.multiprocess import worker_pids

__all__ = [
    "POOL_FIELDS",
    "QUEUE_STATES",
    "PoolUsageCollector",
    "QueueStatsCollector",
    "StatsSource",
    "WorkerProcessCollector",
    "register_build_info",
    "register_process_metrics",
]

log = logging.getLogger(__name__)

QUEUE_STATES = ("waiting", "active", "completed", "failed")
POOL_FIELDS = ("used", "available", "max", "waiting", "idle")


class StatsSource(Protocol):
    """A job queue as app_support.redis's ``JobQueue`` presents it."""

    @property
    def name(self) -> str: ...

    def stats(self) -> Mapping[str, Any]: ...


class QueueStatsCollector:
    """``queue_jobs{queue, state}`` and ``queue_stats_up{queue}`` from each queue's ``stats()``.

    The queues are read in parallel worker threads, and a scrape waits at most ``timeout`` seconds
    for them: during a Redis outage a stats call may keep retrying for seconds, and the rest of the
    scrape must still reach Prometheus in time. A queue whose read has not finished (or is still
    running from an earlier scrape) counts as down. Raises ``ValueError`` for a ``timeout`` <= 0
    or two queues with the same name.
    """

    def __init__(
        self,
        queues: Iterable[StatsSource],
        *,
        timeout: float = 2.0,
        registry: CollectorRegistry | None = REGISTRY,
    ) -> None:
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds (example: timeout=2.0), got {timeout}")
        self._queues = tuple(queues)
        names = [queue.name for queue in self._queues]
        if len(set(names)) != len(names):
            raise ValueError(
                f"queue names must be unique (example: import, analytics), got {names}"
            )
        self._timeout = timeout
        self._lock = threading.Lock()
        self._pending: dict[str, Future[Mapping[str, Any]]] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._executor_pid = 0
        if registry is not None:
            registry.register(self)

    def _submit(self) -> dict[str, Future[Mapping[str, Any]]]:
        with self._lock:
            if self._executor is None or self._executor_pid != os.getpid():
                # Threads do not survive fork: a worker forked from a preloading master needs its
                # own pool, or its reads would queue forever.
                self._executor = ThreadPoolExecutor(
                    max(1, len(self._queues)), thread_name_prefix="queue-stats"
                )
                self._executor_pid = os.getpid()
                self._pending.clear()
            submitted = {}
            for queue in self._queues:
                previous = self._pending.get(queue.name)
                if previous is None or previous.done():
                    self._pending[queue.name] = self._executor.submit(queue.stats)
                    submitted[queue.name] = self._pending[queue.name]
            return submitted

    def collect(self) -> Iterable[Metric]:
        jobs = GaugeMetricFamily(
            "queue_jobs", "Jobs in each queue by state", labels=["queue", "state"]
        )
        up = GaugeMetricFamily(
            "queue_stats_up", "1 when the queue's stats could be read", labels=["queue"]
        )
        submitted = self._submit()
        deadline = time.monotonic() + self._timeout
        for queue in self._queues:
            future = submitted.get(queue.name)
            try:
                if future is None:
                    raise TimeoutError("the read of an earlier scrape is still running")
                stats = future.result(timeout=max(0.0, deadline - time.monotonic()))
                values = [(state, float(stats[state])) for state in QUEUE_STATES]
            except Exception:
                log.warning("reading stats of queue %s failed", queue.name, exc_info=True)
                up.add_metric([queue.name], 0.0)
                continue
            up.add_metric([queue.name], 1.0)
            for state, value in values:
                jobs.add_metric([queue.name, state], value)
        return [jobs, up]


class PoolUsageCollector:
    """Pool gauges labelled ``pool`` from ``usage()`` -> ``{used, available, max, waiting, idle}``.

    ``database_pool_connections_{used,available,max,idle}``, ``database_pool_requests_waiting``
    and ``database_pool_up``. ``available`` is what app_support.postgres's ``usage()`` means by
    it, as in the plan (5 used + 15 available = 20 max): connections that can still be handed
    out; ``idle`` is the open ones waiting in the pool. A ``usage()`` without ``idle`` (an older
    or other pool) leaves that gauge out rather than failing the pool's gauges.
    """

    def __init__(
        self,
        usage: Callable[[], Mapping[str, Any]],
        *,
        pool: str = "default",
        registry: CollectorRegistry | None = REGISTRY,
    ) -> None:
        self._usage = usage
        self._pool = pool
        if registry is not None:
            registry.register(self)

    def collect(self) -> Iterable[Metric]:
        families = {
            "used": GaugeMetricFamily(
                "database_pool_connections_used", "Pool connections lent out", labels=["pool"]
            ),
            "available": GaugeMetricFamily(
                "database_pool_connections_available",
                "Pool connections that can still be handed out (max - used)",
                labels=["pool"],
            ),
            "max": GaugeMetricFamily(
                "database_pool_connections_max", "Pool size limit", labels=["pool"]
            ),
            "waiting": GaugeMetricFamily(
                "database_pool_requests_waiting",
                "Callers waiting for a connection",
                labels=["pool"],
            ),
            "idle": GaugeMetricFamily(
                "database_pool_connections_idle",
                "Open pool connections waiting to be handed out",
                labels=["pool"],
            ),
        }
        up = GaugeMetricFamily(
            "database_pool_up", "1 when pool usage could be read", labels=["pool"]
        )
        try:
            usage = self._usage()
            values = {field: float(usage[field]) for field in POOL_FIELDS if field != "idle"}
            if "idle" in usage:
                values["idle"] = float(usage["idle"])
        except Exception:
            log.warning("reading usage of pool %s failed", self._pool, exc_info=True)
            up.add_metric([self._pool], 0.0)
            return [up]
        up.add_metric([self._pool], 1.0)
        for field, value in values.items():
            families[field].add_metric([self._pool], value)
        return [*(families[field] for field in values), up]


class WorkerProcessCollector:
    """``process_resident_memory_bytes{pid}`` and ``process_cpu_seconds_total{pid}`` of every live
    worker that has written metric files to the multiprocess directory ``path``.
    """

    def __init__(self, path: str, *, registry: CollectorRegistry | None = REGISTRY) -> None:
        self._path = path
        if registry is not None:
            registry.register(self)

    def collect(self) -> Iterable[Metric]:
        memory = GaugeMetricFamily(
            "process_resident_memory_bytes", "Resident memory of each worker", labels=["pid"]
        )
        cpu = CounterMetricFamily(
            "process_cpu_seconds", "User and system CPU time of each worker", labels=["pid"]
        )
        for pid in sorted(worker_pids(self._path)):
            try:
                process = psutil.Process(pid)
                with process.oneshot():
                    rss = process.memory_info().rss
                    times = process.cpu_times()
            except psutil.Error:
                continue  # exited, or not ours to inspect
            memory.add_metric([str(pid)], float(rss))
            cpu.add_metric([str(pid)], times.user + times.system)
        return [memory, cpu]


def register_process_metrics(
    *, registry: CollectorRegistry = REGISTRY, multiprocess_dir: str | None = None
) -> None:
    """Process memory and CPU: this process's, or each worker's in multiprocess mode.

    prometheus-client's default ``REGISTRY`` already holds the single-process collector, so nothing
    is added to it then. Raises ``ValueError`` when ``registry`` already has process metrics.
    """
    if multiprocess_dir is not None:
        WorkerProcessCollector(multiprocess_dir, registry=registry)
    elif registry is not REGISTRY:
        ProcessCollector(registry=registry)


def register_build_info(version: str, *, registry: CollectorRegistry | None = REGISTRY) -> Gauge:
    """``build_info{version}`` = 1. Raises ``ValueError`` when ``version`` is empty."""
    if not version:
        raise ValueError("version must be non-empty (example: version='1.4.2')")
    gauge = Gauge(
        "build_info",
        "Always 1; the version of the running app is in the label",
        ["version"],
        registry=registry,
        multiprocess_mode="livemax",
    )
    gauge.labels(version).set(1)
    return gauge
