"""The plan's memory and CPU usage gauges, container-aware like the health report.

The readings are app_support.health's (:class:`~app_support.health.system.MemoryReader` and
:class:`~app_support.health.system.CpuMeter`): inside a container with a cgroup limit they are the
container's (limit, working set, share of the CPU quota), else the host's; the ``source`` label
says which. Read at scrape time in the process answering the scrape, so they need no multiprocess
files: every worker would report the same machine or container anyway.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from app_support.health.cgroup import DEFAULT_CGROUP_ROOT
from app_support.health.system import CpuMeter, MemoryReader

__all__ = ["SystemUsageCollector"]

_FAMILIES = (
    (
        "system_memory_used_bytes",
        "Memory in use: the container's working set when its cgroup sets a limit, else the "
        "host's total - available",
    ),
    (
        "system_memory_total_bytes",
        "Memory limit: the container's when its cgroup sets one, else the host's RAM",
    ),
    (
        "system_cpu_usage_percent",
        "CPU used since the previous scrape, in percent of the container's CPU quota when it has "
        "one, else of the machine",
    ),
    (
        "system_cpu_cores",
        "Whole CPUs the process may use: the quota rounded up, capped by the affinity mask",
    ),
)


class SystemUsageCollector:
    """``system_memory_used_bytes``, ``system_memory_total_bytes``, ``system_cpu_usage_percent``
    and ``system_cpu_cores``, each labelled ``source`` ("cgroup" or "host").

    CPU use is the share used since the previous scrape (of the CPU quota in a container that
    has one, else of the machine); the first scrape covers the time since construction. Reading
    never fails a scrape: a missing or odd cgroup file reports the host. Raises ``ValueError``
    (from prometheus-client) when ``registry`` already has these metrics.
    """

    def __init__(
        self,
        *,
        cgroup_root: str | os.PathLike[str] = DEFAULT_CGROUP_ROOT,
        clock: Callable[[], float] = time.monotonic,
        registry: CollectorRegistry | None = REGISTRY,
    ) -> None:
        self._memory = MemoryReader(cgroup_root)
        self._cpu = CpuMeter(cgroup_root, clock)
        # Scrapes may run at once (one thread per connection); a meter's interval is one state.
        self._lock = threading.Lock()
        if registry is not None:
            registry.register(self)

    def describe(self) -> Iterable[Metric]:
        """The families without samples: lets the registry refuse a second collector."""
        return [GaugeMetricFamily(name, text, labels=["source"]) for name, text in _FAMILIES]

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            memory = self._memory.read()
            cpu = self._cpu.read()
        readings = (
            (memory.source, memory.used),
            (memory.source, memory.total),
            (cpu.source, cpu.percent),
            (cpu.source, cpu.cores),
        )
        metrics = []
        for (name, text), (source, value) in zip(_FAMILIES, readings, strict=True):
            family = GaugeMetricFamily(name, text, labels=["source"])
            family.add_metric([source], float(value))
            metrics.append(family)
        return metrics
