"""The container's own memory and CPU limits and usage, read from the cgroup filesystem (v1 or v2).

Inside a container psutil sees the whole host; the kernel's cgroup files hold what the container
may use and does use. Every read is a small file; a missing, unreadable or odd file yields None,
which the system checks take as "no container limit here" and report the host instead.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_CGROUP_ROOT", "CgroupMemory", "CgroupReader", "allowed_cpus", "effective_cpus"]

DEFAULT_CGROUP_ROOT = "/sys/fs/cgroup"

# cgroup v1 writes "no limit" as the largest page-aligned counter (9223372036854771712).
_V1_UNLIMITED = 2**62


@dataclass(frozen=True, slots=True)
class CgroupMemory:
    """The container's memory `limit` and the `used` working set, in bytes."""

    limit: int
    used: int

    @property
    def percentage(self) -> float:
        return min(100.0, round(self.used * 100 / self.limit, 1))


class CgroupReader:
    """Reads the cgroup mounted at `root` (the container's own cgroup under Docker).

    v2 when `root` holds cgroup.controllers (one unified tree), else v1 (one directory per
    controller: memory/, cpu/, cpuacct/). Methods never raise: they return None when the file is
    missing or unreadable, holds no limit, or cannot be parsed.
    """

    def __init__(self, root: str | os.PathLike[str] = DEFAULT_CGROUP_ROOT) -> None:
        self.root = Path(root)
        try:
            self.v2 = (self.root / "cgroup.controllers").is_file()
        except OSError:  # e.g. no permission to look: the v1 reads then fail and yield None
            self.v2 = False

    def memory(self) -> CgroupMemory | None:
        """The memory limit and working set; None without a limit.

        The working set is usage less inactive file cache, as `docker stats` and the kubelet count
        it: the kernel reclaims that cache before it would kill for memory.
        """
        if self.v2:
            limit_file, usage_file, stat_file, inactive_key = (
                "memory.max",
                "memory.current",
                "memory.stat",
                "inactive_file",
            )
        else:
            limit_file, usage_file, stat_file, inactive_key = (
                "memory/memory.limit_in_bytes",
                "memory/memory.usage_in_bytes",
                "memory/memory.stat",
                "total_inactive_file",
            )
        limit = self._read_int(limit_file)
        if limit is None or limit <= 0 or limit >= _V1_UNLIMITED:
            return None
        usage = self._read_int(usage_file)
        if usage is None:
            return None
        inactive = self._stat(stat_file, inactive_key) or 0
        return CgroupMemory(limit=limit, used=max(0, usage - inactive))

    def cpu_limit(self) -> float | None:
        """The CPU quota in CPUs (quota / period, e.g. 1.5); None without a quota."""
        if self.v2:
            fields = self._read("cpu.max")
            if fields is None:
                return None
            parts = fields.split()
            if len(parts) != 2 or parts[0] == "max":
                return None
            quota, period = _to_int(parts[0]), _to_int(parts[1])
        else:
            quota = self._read_int("cpu/cpu.cfs_quota_us")
            period = self._read_int("cpu/cpu.cfs_period_us")
        # v1 writes -1 for no quota.
        if quota is None or period is None or quota <= 0 or period <= 0:
            return None
        return quota / period

    def cpu_usage(self) -> float | None:
        """CPU time the cgroup has used since it started, in seconds; None when unreadable."""
        if self.v2:
            usec = self._stat("cpu.stat", "usage_usec")
            return None if usec is None else usec / 1e6
        nsec = self._read_int("cpuacct/cpuacct.usage")
        return None if nsec is None else nsec / 1e9

    def _read(self, name: str) -> str | None:
        try:
            return (self.root / name).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError):
            return None

    def _read_int(self, name: str) -> int | None:
        text = self._read(name)
        # v2 writes "max" for no limit.
        return None if text is None else _to_int(text.strip())

    def _stat(self, name: str, key: str) -> int | None:
        text = self._read(name)
        if text is None:
            return None
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == key:
                return _to_int(parts[1])
        return None


def _to_int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def allowed_cpus() -> int:
    """CPUs this process may run on (its affinity mask, which `docker --cpuset-cpus` narrows)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - macOS has no affinity mask


def effective_cpus(quota: float | None) -> int:
    """Whole CPUs this process may use: the quota rounded up, capped by `allowed_cpus()`."""
    allowed = allowed_cpus()
    if quota is None:
        return allowed
    return max(1, min(allowed, math.ceil(quota)))
