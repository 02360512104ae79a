"""The readers behind the memory and CPU checks and gauges: the host CPU meter's own interval."""

from __future__ import annotations

from collections import namedtuple

import psutil
import pytest

from app_support.health.system import CpuMeter, MemoryReader

Times = namedtuple("Times", "user system idle iowait guest guest_nice")


class FakeCpuTimes:
    """psutil.cpu_times() of a machine whose counters the test advances."""

    def __init__(self) -> None:
        self.times = Times(100.0, 50.0, 800.0, 50.0, 10.0, 0.0)

    def __call__(self) -> Times:
        return self.times

    def spend(self, *, busy: float, idle: float, iowait: float = 0.0, guest: float = 0.0) -> None:
        t = self.times
        # Guest time is also counted in user time, as Linux does.
        self.times = t._replace(
            user=t.user + busy + guest, idle=t.idle + idle, iowait=t.iowait + iowait,
            guest=t.guest + guest,
        )  # fmt: skip


@pytest.fixture
def cpu_times(monkeypatch: pytest.MonkeyPatch) -> FakeCpuTimes:
    fake = FakeCpuTimes()
    monkeypatch.setattr(psutil, "cpu_times", fake)
    return fake


def test_host_cpu_is_the_busy_share_since_the_previous_read(cpu_times: FakeCpuTimes) -> None:
    meter = CpuMeter(cgroup_root="/nonexistent-cgroup")
    # 1 s busy, 2 s idle, 1 s waiting on I/O (idle, as psutil counts it), 1 s of guest time
    # (already inside user time, so not counted twice): 2 busy of 5.
    cpu_times.spend(busy=1.0, idle=2.0, iowait=1.0, guest=1.0)
    reading = meter.read()
    assert (reading.percent, reading.source) == (40.0, "host")
    # No time passed: the last figure stands rather than a division by zero.
    assert meter.read().percent == 40.0
    cpu_times.spend(busy=0.0, idle=3.0)
    assert meter.read().percent == 0.0


def test_two_meters_measure_their_own_intervals(cpu_times: FakeCpuTimes) -> None:
    # psutil.cpu_percent(interval=None) keeps one sample per process: the health check and the
    # metrics gauge would shorten each other's interval. Each meter keeps its own.
    health, gauge = CpuMeter("/nonexistent-cgroup"), CpuMeter("/nonexistent-cgroup")
    cpu_times.spend(busy=3.0, idle=1.0)
    assert health.read().percent == 75.0
    cpu_times.spend(busy=0.0, idle=4.0)
    assert health.read().percent == 0.0
    # The gauge's interval spans both: 3 busy of 8.
    assert gauge.read().percent == 37.5


def test_memory_reader_of_the_host_matches_psutil() -> None:
    usage = MemoryReader("/nonexistent-cgroup").read()
    assert usage.source == "host"
    assert usage.total == psutil.virtual_memory().total
    assert 0 < usage.used < usage.total
    assert 0 < usage.percentage <= 100
