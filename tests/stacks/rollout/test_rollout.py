"""The rollout's decisions (stacks.compose.rollout) against fake replicas: order, stop, restore."""

from collections.abc import Iterator
from typing import Any

import pytest

from stacks.compose.rollout import (
    DeployError,
    Event,
    RolloutResult,
    Step,
    plan_rollout,
    roll_out,
    wait_until,
)


class FakeReplicas:
    """Each service becomes ready on a tag unless that tag is ``broken``; deploys can fail."""

    def __init__(self, tags: dict[str, str], *, failing_deploys: int = 0) -> None:
        self.tags = dict(tags)
        self.calls: list[tuple[str, str]] = []
        self.failing_deploys = failing_deploys
        self.unready_old = False

    def deploy(self, service: str, tag: str) -> None:
        self.calls.append(("deploy", service + ":" + tag))
        if self.failing_deploys:
            self.failing_deploys -= 1
            raise DeployError(f"{service}: the engine said no")
        self.tags[service] = tag

    def wait_ready(self, service: str, timeout: float) -> bool:
        self.calls.append(("wait", f"{service}/{timeout:.0f}"))
        return self.tags[service] != "broken" and not (
            self.unready_old and self.tags[service] == "v1"
        )


SERVICES = ["app-0", "app-1", "app-2", "worker-0"]
TIMEOUT, RESTORE_TIMEOUT = 60.0, 300.0


def roll_out_(steps: list[Step], replicas: FakeReplicas, **kwargs: Any) -> RolloutResult:
    return roll_out(steps, replicas, timeout=TIMEOUT, restore_timeout=RESTORE_TIMEOUT, **kwargs)


def _steps(replicas: FakeReplicas, target: str) -> list[Step]:
    return plan_rollout(SERVICES, lambda s: replicas.tags[s], target)


def test_plan_takes_services_in_order_and_skips_those_on_the_target() -> None:
    running = {"app-0": "v2", "app-1": "v1", "app-2": "v1", "worker-0": "v1"}
    steps = plan_rollout(SERVICES, running.__getitem__, "v2")
    assert steps == [
        Step("app-1", "v1", "v2"),
        Step("app-2", "v1", "v2"),
        Step("worker-0", "v1", "v2"),
    ]
    assert plan_rollout(SERVICES, running.__getitem__, "v2")[0].service == "app-1"
    assert plan_rollout(SERVICES, dict.fromkeys(SERVICES, "v2").__getitem__, "v2") == []


def test_a_good_version_replaces_every_replica_one_at_a_time_each_waiting_for_readiness() -> None:
    replicas = FakeReplicas(dict.fromkeys(SERVICES, "v1"))
    recorded: list[tuple[str, str]] = []
    result = roll_out_(
        _steps(replicas, "v2"), replicas, record=lambda s, t: recorded.append((s, t))
    )
    assert result.completed
    assert result.replaced == SERVICES
    # Strictly alternating: never a second deploy before the previous replica was ready.
    assert replicas.calls == [
        c for s in SERVICES for c in (("deploy", f"{s}:v2"), ("wait", f"{s}/60"))
    ]
    assert recorded == [(s, "v2") for s in SERVICES]
    assert [e.kind for e in result.events] == ["replacing", "ready"] * len(SERVICES)


def test_a_replica_that_is_not_ready_stops_the_rollout_and_goes_back() -> None:
    replicas = FakeReplicas(dict.fromkeys(SERVICES, "v1"))
    recorded: list[tuple[str, str]] = []
    result = roll_out_(
        _steps(replicas, "broken"), replicas, record=lambda s, t: recorded.append((s, t))
    )
    assert not result.completed
    assert (result.failed, result.restored, result.replaced) == ("app-0", True, [])
    # The untouched replicas never changed; app-0 is back on v1.
    assert replicas.tags == dict.fromkeys(SERVICES, "v1")
    assert replicas.calls == [
        ("deploy", "app-0:broken"), ("wait", "app-0/60"),
        ("deploy", "app-0:v1"), ("wait", "app-0/300"),  # the old version gets the restore bound
    ]  # fmt: skip
    assert recorded == [("app-0", "broken"), ("app-0", "v1")]
    kinds = [e.kind for e in result.events]
    assert kinds == ["replacing", "not-ready", "restoring", "restored"]


def test_the_stop_comes_at_the_first_bad_replica_after_good_ones() -> None:
    replicas = FakeReplicas({"app-0": "v2", "app-1": "v1", "app-2": "v1", "worker-0": "v1"})

    def broken_on_app_2(service: str, timeout: float) -> bool:
        return service != "app-2"

    replicas.wait_ready = broken_on_app_2  # type: ignore[method-assign]
    result = roll_out_(_steps(replicas, "v2"), replicas)
    assert (result.replaced, result.failed, result.restored) == (["app-1"], "app-2", False)
    assert replicas.tags == {"app-0": "v2", "app-1": "v2", "app-2": "v1", "worker-0": "v1"}


def test_a_failed_deploy_counts_as_not_ready_and_its_message_is_kept() -> None:
    replicas = FakeReplicas(dict.fromkeys(SERVICES, "v1"), failing_deploys=1)
    result = roll_out_(_steps(replicas, "v2"), replicas)
    assert (result.failed, result.restored) == ("app-0", True)
    not_ready = next(e for e in result.events if e.kind == "not-ready")
    assert "the engine said no" in not_ready.detail


def test_a_replica_that_is_not_ready_on_its_old_version_either_is_reported() -> None:
    replicas = FakeReplicas(dict.fromkeys(SERVICES, "v1"))
    replicas.unready_old = True
    result = roll_out_(_steps(replicas, "broken"), replicas)
    assert (result.failed, result.restored) == ("app-0", False)
    assert result.events[-1].kind == "not-restored"


def test_events_carry_the_clock_and_reach_the_listener() -> None:
    replicas = FakeReplicas(dict.fromkeys(SERVICES, "v1"))
    ticks: Iterator[float] = iter(range(100))
    heard: list[Event] = []
    result = roll_out_(
        _steps(replicas, "v2")[:1], replicas, notify=heard.append, clock=lambda: float(next(ticks))
    )
    assert heard == result.events
    assert [(e.at, e.service, e.kind) for e in heard] == [
        (0.0, "app-0", "replacing"),
        (1.0, "app-0", "ready"),
    ]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(
    ("answers", "consecutive", "expected", "probes"),
    [
        ([True], 1, True, 1),
        ([False, False, True], 1, True, 3),
        ([True, False, True, True], 2, True, 4),
        ([False] * 20, 1, False, 11),  # 10 s at 1 s: probes at 0..10
        ([True, False] * 10, 2, False, 11),
    ],
)
def test_wait_until_needs_consecutive_answers_within_the_bound(
    answers: list[bool], consecutive: int, expected: bool, probes: int
) -> None:
    clock = FakeClock()
    given = iter(answers)
    asked = []

    def probe() -> bool:
        asked.append(clock.now)
        return next(given)

    ok = wait_until(
        probe, timeout=10, interval=1, consecutive=consecutive, clock=lambda: clock.now,
        sleep=clock.sleep,
    )  # fmt: skip
    assert (ok, len(asked)) == (expected, probes)
    assert all(t <= 10 for t in asked)


def test_a_probe_that_raises_is_not_ready_yet() -> None:
    clock = FakeClock()
    answers: Iterator[Exception | bool] = iter([RuntimeError("connection refused"), True])

    def probe() -> bool:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait_until(probe, timeout=5, interval=1, clock=lambda: clock.now, sleep=clock.sleep)
    assert clock.sleeps == [1]
