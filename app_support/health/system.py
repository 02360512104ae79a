"""System checks (memory, CPU, disk) read with psutil; a threshold turns each one degraded."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import psutil

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


def memory_check(*, degraded_percent: float = 90.0) -> SystemCheck:
    """{status, used, total, percentage} of the machine's memory; degraded above `degraded_percent`.

    "used" counts what is not available (total - available), as `free -m` does.
    """

    def memory() -> Mapping[str, object]:
        vm = psutil.virtual_memory()
        percentage = round(vm.percent, 1)
        return {
            "status": _status(percentage, degraded_percent),
            "used": format_bytes(vm.total - vm.available),
            "total": format_bytes(vm.total),
            "percentage": percentage,
            "process": format_bytes(psutil.Process().memory_info().rss),
        }

    return memory


def cpu_check(*, degraded_percent: float = 90.0) -> SystemCheck:
    """{status, usage, cores}: CPU use in percent since the previous call, never blocking.

    The first reading is primed here, so the first report is not a meaningless 0.
    """
    psutil.cpu_percent(interval=None)

    def cpu() -> Mapping[str, object]:
        usage = round(psutil.cpu_percent(interval=None), 1)
        return {
            "status": _status(usage, degraded_percent),
            "usage": usage,
            "cores": psutil.cpu_count() or 1,
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
