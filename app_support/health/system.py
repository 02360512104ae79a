"""System checks (memory, CPU, disk); a threshold turns each one degraded.

Memory and CPU report the container's limits and use when its cgroup sets them, else the host's
as psutil sees it; the "source" field says which.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping

import psutil

from .cgroup import DEFAULT_CGROUP_ROOT, CgroupReader, allowed_cpus, effective_cpus
from .status import Status

__all__ = ["cpu_check", "disk_check", "format_bytes", "memory_check"]

SystemCheck = Callable[[], Mapping[str, object]]
_MIB = 1024 * 1024


def format_bytes(n: float) -> str:
    """Whole mebibytes in the plan's style: 134217728 -> "128MB"."""
    return f"{round(n / _MIB)}MB"


def _status(percentage: float, degraded_percent: float) -> str:
    # Strictly above: a threshold of 100 never degrades.
    return (Status.DEGRADED if percentage > degraded_percent else Status.HEALTHY).value


def memory_check(
    *,
    degraded_percent: float = 90.0,
    cgroup_root: str | os.PathLike[str] = DEFAULT_CGROUP_ROOT,
) -> SystemCheck:
    """{status, used, total, percentage, process, source}; degraded above `degraded_percent`.

    In a container with a memory limit (source "cgroup"): the limit and the working set (usage
    less inactive file cache, as `docker stats` counts it). Otherwise (source "host"): the
    machine, "used" being what is not available (total - available), as `free -m` does. Never
    raises for a missing or odd cgroup file: it reports the host.
    """
    cgroup = CgroupReader(cgroup_root)

    def memory() -> Mapping[str, object]:
        vm = psutil.virtual_memory()
        limited = cgroup.memory()
        # A limit at or above the machine's RAM never binds: the host runs out first.
        if limited is not None and limited.limit < vm.total:
            used, total, percentage, source = (
                limited.used,
                limited.limit,
                limited.percentage,
                "cgroup",
            )
        else:
            used, total, percentage, source = (
                vm.total - vm.available,
                vm.total,
                round(vm.percent, 1),
                "host",
            )
        return {
            "status": _status(percentage, degraded_percent),
            "used": format_bytes(used),
            "total": format_bytes(total),
            "percentage": percentage,
            "process": format_bytes(psutil.Process().memory_info().rss),
            "source": source,
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


def cpu_check(
    *,
    degraded_percent: float = 90.0,
    cgroup_root: str | os.PathLike[str] = DEFAULT_CGROUP_ROOT,
    clock: Callable[[], float] = time.monotonic,
) -> SystemCheck:
    """{status, usage, cores, source}: CPU use in percent since the previous call, never blocking.

    In a container with a CPU quota (source "cgroup"): the cgroup's CPU time over `clock` time,
    in percent of the quota, and `cores` the quota rounded up. Otherwise (source "host"):
    psutil's machine-wide figure and `cores` the CPUs this process may run on. Never raises for a
    missing or odd cgroup file: it reports the host. Both readings are primed here, so the
    first report is not a meaningless 0.
    """
    meter = _CgroupCpuMeter(CgroupReader(cgroup_root), clock)
    psutil.cpu_percent(interval=None)

    def cpu() -> Mapping[str, object]:
        # Both are read on every call so either can take over when a quota comes or goes.
        host_usage = round(psutil.cpu_percent(interval=None), 1)
        reading = meter.read()
        if reading is None:
            usage, cores, source = host_usage, effective_cpus(None), "host"
        else:
            usage, cores, source = reading[0], effective_cpus(reading[1]), "cgroup"
        return {
            "status": _status(usage, degraded_percent),
            "usage": usage,
            "cores": cores,
            "source": source,
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
