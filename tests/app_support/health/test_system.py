"""System checks read the real machine: its cgroup files where they set limits, else psutil."""

from __future__ import annotations

import re
from pathlib import Path

import psutil
import pytest

from app_support.health import cpu_check, disk_check, memory_check
from app_support.health.system import format_bytes


def test_memory_cpu_disk_blocks() -> None:
    memory = memory_check()()
    assert memory["status"] == "healthy" or memory["percentage"] > 90  # type: ignore[operator]
    assert re.fullmatch(r"\d+MB", str(memory["used"]))
    assert re.fullmatch(r"\d+MB", str(memory["total"]))
    cpu = cpu_check(degraded_percent=100)()
    assert 0 <= cpu["usage"] <= 100  # type: ignore[operator]
    disk = disk_check(path="/", degraded_percent=0.001)()
    assert disk["status"] == "degraded"
    assert 0 < disk["percentage"] <= 100  # type: ignore[operator]


def test_real_cgroup_of_this_machine_gives_sane_figures() -> None:
    memory = memory_check()()
    assert memory["source"] in {"cgroup", "host"}
    assert int(str(memory["total"]).removesuffix("MB")) > 0
    assert 0 <= memory["percentage"] <= 100  # type: ignore[operator]
    cpu = cpu_check()()
    assert cpu["source"] in {"cgroup", "host"}
    assert 0 <= cpu["usage"] <= 100  # type: ignore[operator]
    assert 1 <= cpu["cores"] <= (psutil.cpu_count() or 1)  # type: ignore[operator]


def test_disk_check_of_a_missing_path_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        disk_check(path=str(tmp_path / "missing"))()


def test_format_bytes() -> None:
    assert format_bytes(128 * 1024 * 1024) == "128MB"
    assert format_bytes(0) == "0MB"
