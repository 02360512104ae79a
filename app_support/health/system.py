"""System checks (memory, CPU, disk); a threshold turns each one degraded.

Memory and CPU report the container's limits and use when its cgroup sets them, else the host's
as psutil sees it; the "source" field says which. `MemoryReader` and `CpuMeter` take the readings;
the health checks here and the metrics gauges (app_support.metrics.system) both use them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import psutil

from .cgroup import DEFAULT_CGROUP_ROOT, CgroupReader, allowed_cpus, effective_cpus
from .status import Status

__all__ = [
    "CpuMeter",
    "CpuUsage",
    "MemoryReader",
    "MemoryUsage",
    "cpu_check",
    "disk_check",
    "format_bytes",
    "memory_check",
]

SystemCheck = Callable[[], Mapping[str, object]]
_MIB = 1024 * 1024


def format_bytes(n: float) -> str:
    """Whole mebibytes in the plan's style: 134217728 -> "128MB"."""
    return f"{round(n / _MIB)}MB"


def _status(percentage: float, degraded_percent: float) -> str:
    # Strictly above: a threshold of 100 never degrades.
    return (Status.DEGRADED if percentage > degraded_percent else Status.HEALTHY).value


@dataclass(frozen=True, slots=True)
class MemoryUsage:
    """Memory `used` and `total` in bytes, `percentage` used, and `source` ("cgroup" or "host")."""

    used: int
    total: int
    percentage: float
    source: str


class MemoryReader:
    """The container's memory when its cgroup sets a limit, else the host's; never raises.

    One reading for the health report and the metrics gauges (app_support.metrics.system).
    """

    def __init__(self, cgroup_root: str | os.PathLike[str] = DEFAULT_CGROUP_ROOT) -> None:
        self._cgroup = CgroupReader(cgroup_root)

    def read(self) -> MemoryUsage:
        """In a container with a memory limit (source "cgroup"): the limit and the working set
        (usage less inactive file cache, as `docker stats` counts it). Otherwise (source "host"):
        the machine, "used" being what is not available (total - available), as `free -m` does.
        A missing or odd cgroup file reports the host.
        """
        vm = psutil.virtual_memory()
        limited = self._cgroup.memory()
        # A limit at or above the machine's RAM never binds: the host runs out first.
        if limited is not None and limited.limit < vm.total:
            return MemoryUsage(limited.used, limited.limit, limited.percentage, "cgroup")
        return MemoryUsage(vm.total - vm.available, vm.total, round(vm.percent, 1), "host")


def memory_check(
    *,
    degraded_percent: float = 90.0,
    cgroup_root: str | os.PathLike[str] = DEFAULT_CGROUP_ROOT,
) -> SystemCheck:
    """{status, used, total, percentage, process, source}; degraded above `degraded_percent`.

    The figures of :meth:`MemoryReader.read`, in the plan's "128MB" style. Never raises for a
    missing or odd cgroup file: it reports the host.
    """
    reader = MemoryReader(cgroup_root)

    def memory() -> Mapping[str, object]:
        usage = reader.read()
        return {
            "status": _status(usage.percentage, degraded_percent),
            "used": format_bytes(usage.used),
            "total": format_bytes(usage.total),
            "percentage": usage.percentage,
            "process": format_bytes(psutil.Process().memory_info().rss),
            "source": usage.source,
        }

    return memory


class _CgroupCpuMeter:
    """CPU use of the cgroup, in percent of its quota, between one reading and the next."""

    def __init__(self, cgroup: CgroupReader, clock: Callable[[], float]) -> None:
        self._cgroup = cgroup
        self._clock = clock
        self._last: tuple[float, float] | None = None
        self._usage = 0.0
        self.read()

    def read(self) -> tuple[float, float] | None:
        """(usage percent, quota in CPUs), or None without a quota or a usage reading."""
        quota = self._cgroup.cpu_limit()
        used = self._cgroup.cpu_usage()
        now = self._clock()
        last, self._last = self._last, (None if used is None else (used, now))
        if quota is None or used is None:
            return None
        if last is not None and now > last[1]:
            # The quota caps use in CPUs; so does the affinity mask when it is the smaller.
            capacity = min(quota, float(allowed_cpus()))
            share = (used - last[0]) / (now - last[1]) / capacity
            self._usage = round(min(100.0, max(0.0, share * 100)), 1)
        return self._usage, quota


class _HostCpuMeter:
    """Machine-wide CPU use in percent between one reading and the next, as psutil.cpu_percent
    computes it, but with this meter's own previous sample: psutil.cpu_percent(interval=None)
    keeps one sample per process, so two readers (the health check and the metrics gauge) would
    each shorten the other's interval."""

    def __init__(self) -> None:
        self._last = self._sample()
        self._usage = 0.0

    @staticmethod
    def _sample() -> tuple[float, float]:
        times = psutil.cpu_times()
        # Guest time is already counted in user time on Linux; iowait is idle (psutil's rule).
        total = sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
        idle = times.idle + getattr(times, "iowait", 0.0)
        return total, total - idle

    def read(self) -> float:
        total, busy = self._sample()
        last_total, last_busy = self._last
        if total > last_total:
            self._last = (total, busy)
            share = (busy - last_busy) / (total - last_total)
            self._usage = round(min(100.0, max(0.0, share * 100)), 1)
        return self._usage


@dataclass(frozen=True, slots=True)
class CpuUsage:
    """CPU use in `percent` (of the quota, or of the machine), whole `cores` the process may use,
    and `source` ("cgroup" or "host")."""

    percent: float
    cores: int
    source: str


class CpuMeter:
    """CPU use since the previous :meth:`read`, container-aware; never blocks and never raises.

    In a container with a CPU quota (source "cgroup"): the cgroup's CPU time over `clock` time,
    in percent of the quota, and `cores` the quota rounded up. Otherwise (source "host"): the
    machine's busy share and `cores` the CPUs this process may run on. A missing or odd cgroup
    file reports the host. Both readings are primed here, so the first read is not a meaningless
    0. Each meter measures its own interval: the health check and the metrics gauge (one per
    scrape) have one each.
    """

    def __init__(
        self,
        cgroup_root: str | os.PathLike[str] = DEFAULT_CGROUP_ROOT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cgroup = _CgroupCpuMeter(CgroupReader(cgroup_root), clock)
        self._host = _HostCpuMeter()

    def read(self) -> CpuUsage:
        # Both are read on every call so either can take over when a quota comes or goes.
        host_usage = self._host.read()
        reading = self._cgroup.read()
        if reading is None:
            return CpuUsage(host_usage, effective_cpus(None), "host")
        return CpuUsage(reading[0], effective_cpus(reading[1]), "cgroup")


def cpu_check(
    *,
    degraded_percent: float = 90.0,
    cgroup_root: str | os.PathLike[str] = DEFAULT_CGROUP_ROOT,
    clock: Callable[[], float] = time.monotonic,
) -> SystemCheck:
    """{status, usage, cores, source}: :class:`CpuMeter`'s reading since the previous call.

    Never raises for a missing or odd cgroup file: it reports the host.
    """
    meter = CpuMeter(cgroup_root, clock)

    def cpu() -> Mapping[str, object]:
        usage = meter.read()
        return {
            "status": _status(usage.percent, degraded_percent),
            "usage": usage.percent,
            "cores": usage.cores,
            "source": usage.source,
        }

    return cpu


def disk_check(*, path: str = "/", degraded_percent: float = 90.0) -> SystemCheck:
    """{status, path, used, total, percentage} of the filesystem holding `path`.

    Raises (making the check unhealthy) when `path` does not exist.
    """

    def disk() -> Mapping[str, object]:
        usage = psutil.disk_usage(path)
        percentage = round(usage.percent, 1)
        return {
            "status": _status(percentage, degraded_percent),
            "path": path,
            "used": format_bytes(usage.used),
            "total": format_bytes(usage.total),
            "percentage": percentage,
        }

    return disk
