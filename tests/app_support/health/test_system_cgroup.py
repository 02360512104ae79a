"""Container-aware memory and CPU checks over fake cgroup v1 and v2 trees built in tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from app_support.health import cpu_check, memory_check
from app_support.health.cgroup import CgroupMemory, CgroupReader, allowed_cpus
from app_support.health.system import format_bytes

from .conftest import FakeClock

MIB = 1024 * 1024
V1_UNLIMITED = "9223372036854771712"
Tree = Callable[..., Path]


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return root


def v2_tree(root: Path, overrides: dict[str, str] | None = None) -> Path:
    """A cgroup v2 mount: one unified directory with cgroup.controllers."""
    defaults = {
        "cgroup.controllers": "cpuset cpu io memory pids",
        "memory.max": str(512 * MIB),
        "memory.current": str(200 * MIB),
        # "active_file" precedes to prove the exact key is picked.
        "memory.stat": f"anon 1000\nactive_file 5\ninactive_file {72 * MIB}\nfile 9",
        "cpu.max": "50000 100000",
        "cpu.stat": "usage_usec 1000000\nuser_usec 600000\nsystem_usec 400000",
    }
    return write(root, {**defaults, **(overrides or {})})


def v1_tree(root: Path, overrides: dict[str, str] | None = None) -> Path:
    """A cgroup v1 mount: one directory per controller."""
    defaults = {
        "memory/memory.limit_in_bytes": str(512 * MIB),
        "memory/memory.usage_in_bytes": str(200 * MIB),
        # v1 lists the cgroup's own inactive_file and the hierarchy's total_inactive_file.
        "memory/memory.stat": f"inactive_file {1 * MIB}\ntotal_inactive_file {72 * MIB}",
        "cpu/cpu.cfs_quota_us": "50000",
        "cpu/cpu.cfs_period_us": "100000",
        "cpuacct/cpuacct.usage": "1000000000",
    }
    return write(root, {**defaults, **(overrides or {})})


@pytest.mark.parametrize("tree", [v1_tree, v2_tree])
def test_memory_reports_the_limit_and_the_working_set(tree: Tree, tmp_path: Path) -> None:
    root = tree(tmp_path)
    assert CgroupReader(root).memory() == CgroupMemory(limit=512 * MIB, used=128 * MIB)
    memory = memory_check(cgroup_root=root)()
    assert memory["used"] == "128MB"
    assert memory["total"] == "512MB"
    assert memory["percentage"] == 25.0
    assert memory["status"] == "healthy"
    assert memory["source"] == "cgroup"
    assert memory_check(degraded_percent=20, cgroup_root=root)()["status"] == "degraded"


def host_memory_total() -> str:
    return format_bytes(psutil.virtual_memory().total)


@pytest.mark.parametrize(
    ("tree", "files"),
    [
        (v2_tree, {"memory.max": "max"}),
        (v1_tree, {"memory/memory.limit_in_bytes": V1_UNLIMITED}),
        # A limit above the machine's RAM never binds.
        (v2_tree, {"memory.max": str(psutil.virtual_memory().total + MIB)}),
        (v2_tree, {"memory.max": "lots"}),
        (v2_tree, {"memory.current": ""}),
        (v1_tree, {"memory/memory.usage_in_bytes": "12 MB"}),
    ],
)
def test_memory_without_a_usable_limit_reports_the_host(
    tree: Tree,
    files: dict[str, str],
    tmp_path: Path,
) -> None:
    memory = memory_check(cgroup_root=tree(tmp_path, files))()
    assert memory["source"] == "host"
    assert memory["total"] == host_memory_total()
    assert 0 <= memory["percentage"] <= 100  # type: ignore[operator]


def test_memory_of_a_missing_or_empty_tree_reports_the_host(tmp_path: Path) -> None:
    for root in (tmp_path / "missing", tmp_path):
        assert CgroupReader(root).memory() is None
        assert memory_check(cgroup_root=root)()["source"] == "host"


def test_memory_stat_is_optional_and_used_never_goes_negative(tmp_path: Path) -> None:
    root = v2_tree(tmp_path)
    (root / "memory.stat").unlink()
    assert CgroupReader(root).memory() == CgroupMemory(limit=512 * MIB, used=200 * MIB)
    (root / "memory.stat").write_text(f"inactive_file {300 * MIB}\n")
    assert memory_check(cgroup_root=root)()["used"] == "0MB"


@pytest.mark.parametrize(
    ("tree", "usage_file", "half_a_cpu_second"),
    [
        (v2_tree, "cpu.stat", "usage_usec 1500000"),
        (v1_tree, "cpuacct/cpuacct.usage", "1500000000"),
    ],
)
def test_cpu_is_the_share_of_the_quota_used_between_calls(
    tree: Tree,
    usage_file: str,
    half_a_cpu_second: str,
    tmp_path: Path,
) -> None:
    root, clock = tree(tmp_path), FakeClock()
    assert CgroupReader(root).cpu_limit() == 0.5
    check = cpu_check(cgroup_root=root, clock=clock)
    # 0.5 CPU-seconds over 2 s is 0.25 CPU: half of a 0.5 CPU quota.
    (root / usage_file).write_text(half_a_cpu_second + "\n")
    clock.advance(2.0)
    cpu = check()
    assert cpu == {"status": "healthy", "usage": 50.0, "cores": 1, "source": "cgroup"}
    # No CPU time used over the next second; a call at the same instant repeats the last figure.
    clock.advance(1.0)
    assert check()["usage"] == 0.0
    assert check()["usage"] == 0.0


def test_cpu_usage_is_capped_at_the_quota_and_degrades(tmp_path: Path) -> None:
    root, clock = v2_tree(tmp_path), FakeClock()
    check = cpu_check(degraded_percent=80, cgroup_root=root, clock=clock)
    # Bursts inside one period can use more than the quota's average.
    (root / "cpu.stat").write_text("usage_usec 3000000\n")
    clock.advance(1.0)
    assert check() == {"status": "degraded", "usage": 100.0, "cores": 1, "source": "cgroup"}


def test_cores_are_the_quota_rounded_up_within_the_affinity_mask(tmp_path: Path) -> None:
    root, clock = v1_tree(tmp_path, {"cpu/cpu.cfs_quota_us": "150000"}), FakeClock()
    assert CgroupReader(root).cpu_limit() == 1.5
    assert cpu_check(cgroup_root=root, clock=clock)()["cores"] == min(2, allowed_cpus())


@pytest.mark.parametrize(
    ("tree", "files"),
    [
        (v2_tree, {"cpu.max": "max 100000"}),
        (v1_tree, {"cpu/cpu.cfs_quota_us": "-1"}),
        (v2_tree, {"cpu.max": "50000"}),
        (v2_tree, {"cpu.stat": "user_usec 5"}),
        (v1_tree, {"cpuacct/cpuacct.usage": "n/a"}),
    ],
)
def test_cpu_without_a_quota_or_usage_reports_the_host(
    tree: Tree,
    files: dict[str, str],
    tmp_path: Path,
) -> None:
    cpu = cpu_check(cgroup_root=tree(tmp_path, files), clock=FakeClock())()
    assert cpu["source"] == "host"
    assert cpu["cores"] == allowed_cpus()
    assert 0 <= cpu["usage"] <= 100  # type: ignore[operator]


def test_cpu_measures_from_the_last_reading_when_a_quota_appears(tmp_path: Path) -> None:
    root, clock = v2_tree(tmp_path, {"cpu.max": "max 100000"}), FakeClock()
    check = cpu_check(cgroup_root=root, clock=clock)
    clock.advance(1.0)
    assert check()["source"] == "host"
    (root / "cpu.max").write_text("100000 100000\n")  # `docker update --cpus 1`
    (root / "cpu.stat").write_text("usage_usec 1250000\n")
    clock.advance(1.0)
    assert check() == {"status": "healthy", "usage": 25.0, "cores": 1, "source": "cgroup"}
