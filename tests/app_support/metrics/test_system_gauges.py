"""The plan's memory and CPU usage gauges: the same readings as the health report's blocks."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from app_support.health import cpu_check, memory_check
from app_support.health.cgroup import allowed_cpus
from app_support.health.system import format_bytes
from app_support.metrics import SystemUsageCollector
from tests.app_support.health.conftest import FakeClock
from tests.app_support.metrics.scrape import Source, samples

MIB = 1024 * 1024


def cgroup_v2(root: Path) -> Path:
    """A container limited to 512 MiB and half a CPU, with a 128 MiB working set."""
    files = {
        "cgroup.controllers": "cpu memory",
        "memory.max": str(512 * MIB),
        "memory.current": str(200 * MIB),
        "memory.stat": f"anon 1\ninactive_file {72 * MIB}",
        "cpu.max": "50000 100000",
        "cpu.stat": "usage_usec 1000000",
    }
    for name, text in files.items():
        (root / name).write_text(text + "\n")
    return root


def value(scraped: Source, name: str, *, source: str) -> float | None:
    """The sample ``name{source=...}`` (scrape.value's first parameter is also named source)."""
    for sample in samples(scraped):
        if sample.name == name and sample.labels.get("source") == source:
            return sample.value
    return None


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


def test_container_figures_from_the_cgroup(tmp_path: Path, registry: CollectorRegistry) -> None:
    root, clock = cgroup_v2(tmp_path), FakeClock()
    SystemUsageCollector(cgroup_root=root, clock=clock, registry=registry)
    # 0.25 CPU-seconds over 1 s against a quota of half a CPU: 50 %.
    (root / "cpu.stat").write_text("usage_usec 1250000\n")
    clock.advance(1.0)
    scrape = generate_latest(registry).decode()
    assert value(scrape, "system_memory_used_bytes", source="cgroup") == 128 * MIB
    assert value(scrape, "system_memory_total_bytes", source="cgroup") == 512 * MIB
    assert value(scrape, "system_cpu_usage_percent", source="cgroup") == 50.0
    assert value(scrape, "system_cpu_cores", source="cgroup") == 1
    # The next scrape measures from this one: no CPU time used since.
    clock.advance(1.0)
    assert value(registry, "system_cpu_usage_percent", source="cgroup") == 0.0


def test_gauges_and_health_blocks_agree(tmp_path: Path, registry: CollectorRegistry) -> None:
    root = cgroup_v2(tmp_path)
    SystemUsageCollector(cgroup_root=root, registry=registry)
    memory = memory_check(cgroup_root=root)()
    used = value(registry, "system_memory_used_bytes", source="cgroup")
    total = value(registry, "system_memory_total_bytes", source="cgroup")
    assert used is not None
    assert total is not None
    assert (memory["used"], memory["total"]) == (format_bytes(used), format_bytes(total))
    assert cpu_check(cgroup_root=root)()["cores"] == value(
        registry, "system_cpu_cores", source="cgroup"
    )


def test_host_figures_without_a_cgroup_limit(tmp_path: Path, registry: CollectorRegistry) -> None:
    SystemUsageCollector(cgroup_root=tmp_path / "missing", registry=registry)
    assert value(registry, "system_memory_total_bytes", source="host") == float(
        psutil.virtual_memory().total
    )
    used = value(registry, "system_memory_used_bytes", source="host")
    assert used is not None
    assert 0 < used < psutil.virtual_memory().total
    percent = value(registry, "system_cpu_usage_percent", source="host")
    assert percent is not None
    assert 0 <= percent <= 100
    assert value(registry, "system_cpu_cores", source="host") == allowed_cpus()


def test_this_machine_reports_one_source_per_gauge(registry: CollectorRegistry) -> None:
    SystemUsageCollector(registry=registry)
    scrape = generate_latest(registry).decode()
    for name in ("system_memory_used_bytes", "system_cpu_usage_percent"):
        sources = [s for s in ("cgroup", "host") if value(scrape, name, source=s) is not None]
        assert len(sources) == 1


def test_registering_twice_fails(registry: CollectorRegistry) -> None:
    SystemUsageCollector(registry=registry)
    with pytest.raises(ValueError, match="system_memory_used_bytes"):
        SystemUsageCollector(registry=registry)


def test_an_unregistered_collector_can_be_collected_directly(tmp_path: Path) -> None:
    collector = SystemUsageCollector(cgroup_root=cgroup_v2(tmp_path), registry=None)
    families = list(collector.collect())
    assert value(families, "system_memory_total_bytes", source="cgroup") == 512 * MIB
