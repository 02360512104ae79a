"""A rolling app update: replace the app's replicas one at a time, each waiting for readiness.

The decision logic only, with what it does to the world passed in (``Replicas``): deploying one
service on one tag and waiting, bounded, for it to be ready. scripts/rollout and scripts/rollback
pass the Docker, docker-compose and Pulumi implementations (stacks.compose.rollout_docker); the
tests pass fakes.

A rollout walks the services in order (web replicas, then workers), skipping those already on
the target tag. It stops at the first replica that does not become ready in time: that replica
goes back to the tag it ran, and the replicas not yet touched never change, so they serve the
old version throughout. A rollback is a rollout to the previous version (stacks.compose.
rollout_state keeps it).
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

__all__ = [
    "DeployError",
    "Event",
    "Replicas",
    "RolloutResult",
    "Step",
    "plan_rollout",
    "roll_out",
    "wait_until",
]

EventKind = Literal["replacing", "ready", "not-ready", "restoring", "restored", "not-restored"]


class DeployError(RuntimeError):
    """Deploying one service on one tag failed (the deployer's message says why)."""


class Replicas(Protocol):
    """What a rollout does to the stack; a fake in the tests."""

    def deploy(self, service: str, tag: str) -> None:
        """Replace ``service``'s container with one running ``tag``; DeployError on failure."""

    def wait_ready(self, service: str, timeout: float) -> bool:
        """Whether ``service`` became ready within ``timeout`` seconds."""


@dataclass(frozen=True)
class Step:
    """One replacement: ``service`` from tag ``old`` to ``new``."""

    service: str
    old: str
    new: str


@dataclass(frozen=True)
class Event:
    """What happened to one service, and when (``time.time()``: the drills compare it with the
    wall-clock times of their requests)."""

    at: float
    service: str
    kind: EventKind
    detail: str = ""


@dataclass
class RolloutResult:
    """``replaced``: services now on the new tag; ``failed``: the one that was not ready (the
    rollout stopped there); ``restored``: whether it is back on its old tag and ready."""

    replaced: list[str] = field(default_factory=list)
    failed: str | None = None
    restored: bool = True
    events: list[Event] = field(default_factory=list)

    @property
    def completed(self) -> bool:
        return self.failed is None


def plan_rollout(services: Sequence[str], running: Callable[[str], str], target: str) -> list[Step]:
    """The steps that take ``services`` (in order) to ``target``: those not on it already."""
    return [Step(s, running(s), target) for s in services if running(s) != target]


def roll_out(
    steps: Sequence[Step],
    replicas: Replicas,
    *,
    timeout: float,
    restore_timeout: float,
    record: Callable[[str, str], None] = lambda service, tag: None,
    notify: Callable[[Event], None] = lambda event: None,
    clock: Callable[[], float] = time.time,
) -> RolloutResult:
    """Take the steps in order; stop at the first service that fails to deploy or to become
    ready within ``timeout`` seconds, put it back on its old tag and wait for it again, up to
    ``restore_timeout`` (the old version is known to start: a busy host gets more time).

    ``record(service, tag)`` is called whenever a service changes tag (before and after the
    change is known to have worked), so a durable record follows the deployment even when the
    rollout itself is killed. ``notify`` sees each event as it happens.
    """
    result = RolloutResult()

    def event(service: str, kind: EventKind, detail: str = "") -> None:
        happened = Event(clock(), service, kind, detail)
        result.events.append(happened)
        notify(happened)

    def deployed_and_ready(service: str, tag: str, bound: float) -> tuple[bool, str]:
        try:
            replicas.deploy(service, tag)
        except DeployError as error:
            return False, str(error)
        if replicas.wait_ready(service, bound):
            return True, ""
        return False, f"not ready within {bound:.0f} s"

    for step in steps:
        event(step.service, "replacing", f"{step.old} -> {step.new}")
        record(step.service, step.new)
        ok, why = deployed_and_ready(step.service, step.new, timeout)
        if ok:
            event(step.service, "ready", step.new)
            result.replaced.append(step.service)
            continue
        event(step.service, "not-ready", why)
        result.failed = step.service
        event(step.service, "restoring", step.old)
        record(step.service, step.old)
        result.restored, why = deployed_and_ready(step.service, step.old, restore_timeout)
        event(step.service, "restored" if result.restored else "not-restored", why or step.old)
        break
    return result


def wait_until(
    probe: Callable[[], bool],
    *,
    timeout: float,
    interval: float,
    consecutive: int = 1,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Whether ``probe`` answered True ``consecutive`` times in a row before ``timeout`` seconds
    passed (probed every ``interval`` seconds; a probe that raises counts as False)."""
    deadline = clock() + timeout
    streak = 0
    while True:
        try:
            ok = probe()
        except Exception:  # a probe failing in any way means "not ready yet"
            ok = False
        streak = streak + 1 if ok else 0
        if streak >= consecutive:
            return True
        if clock() + interval > deadline:
            return False
        sleep(interval)
