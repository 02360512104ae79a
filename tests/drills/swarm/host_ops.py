"""What the host-loss drill does to the Swarm stack and how it reads the stack's state back.

Faults are scripts/swarm operations on a whole node (cut its link, stop its engine); state is read
from the surviving nodes' daemons and inside their task containers (tests.infra.swarm_stack).
"""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections.abc import Iterable, Sequence

import httpx

from tests.drills.app_client import Outcome, _Looper
from tests.drills.writers import (
    _APP_WRITER,
    _READ_BACK,
    MAX_WRITER_SECONDS,
    AppWriter,
    Write,
    WriteLog,
    _ContainerLoop,
)
from tests.infra.deployed import wait_for
from tests.infra.swarm_stack import LAUNCHER, SwarmStack, Task

_WRITE_LINE = re.compile(r"([AE]) ([pc]) (\S+) (\d+\.\d+) (\d+\.\d+)")

__all__ = [
    "HostProbe",
    "SwarmAppWriter",
    "current_master",
    "missing_keys",
    "replication_converged",
    "sentinel_tasks",
    "wait_new_master",
    "wait_stack_converged",
]


class SwarmAppWriter(AppWriter):
    """tests/drills/writers.py's app writer (plain and WAIT-confirmed SETs through app_support)
    in an app task container, reached through its node's daemon, secrets from the launcher."""

    def __init__(self, stack: SwarmStack, task: Task) -> None:
        self.prefix = f"drill:{uuid.uuid4().hex[:8]}"
        socket = stack.cluster.nodes[task.node].socket
        script = ("python3", "-c", _APP_WRITER, self.prefix, str(MAX_WRITER_SECONDS))
        argv = ["docker", "-H", f"unix://{socket}", "exec", "-i", task.container, *LAUNCHER]
        _ContainerLoop.__init__(self, [*argv, *script])

    @property
    def log(self) -> WriteLog:
        """The writes, parsed by their fixed fields only: the writer's stdout and stderr share a
        pipe, and a client log line may land inside a write's line (seen: ``12792.4264lost``)."""
        log = WriteLog()
        for line in list(self.lines):
            match = _WRITE_LINE.match(line)
            if match:
                verdict, kind, key, sent, done = match.groups()
                log.writes.append(Write(kind, key, float(sent), float(done), verdict == "A"))
        return log


class HostProbe(_Looper):
    """GETs ``path`` from the host on the app's published port of each of ``nodes`` in turn,
    every ``pace`` seconds: app traffic through the surviving hosts."""

    def __init__(
        self, stack: SwarmStack, nodes: Sequence[int], port: int, path: str, pace: float = 0.2
    ) -> None:
        super().__init__()
        self.urls = [f"http://{stack.cluster.nodes[n].address}:{port}{path}" for n in nodes]
        self.pace = pace
        self.http = httpx.Client(timeout=10.0)

    def step(self, turn: int, sent: float) -> Outcome:
        try:
            status = self.http.get(self.urls[turn % len(self.urls)]).status_code
        except httpx.HTTPError:
            status = 0
        return Outcome(sent, time.monotonic(), status, None, 0)

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self.http.close()


def missing_keys(stack: SwarmStack, task: Task, keys: Iterable[str]) -> set[str]:
    """The keys the current master does not hold, read through app_support in app task ``task``."""
    wanted = list(keys)
    if not wanted:
        return set()
    result = stack.exec_run(task, "python3", "-c", _READ_BACK, stdin="\n".join(wanted), timeout=300)
    assert result.returncode == 0, f"read-back failed: {result.stderr[-2000:]}"
    return set(result.stdout.split())


def sentinel_tasks(stack: SwarmStack, nodes: Iterable[int]) -> list[Task]:
    """The running Sentinel tasks on ``nodes``."""
    return [t for s in stack.of_role("sentinel") for t in stack.tasks(s.name, list(nodes))]


def current_master(stack: SwarmStack, sentinels: Sequence[Task]) -> str | None:
    """The master every answering Sentinel of ``sentinels`` names, or None while they differ
    or none answers."""
    named = set()
    for task in sentinels:
        try:
            named.add(stack.master(task))
        except (AssertionError, IndexError, subprocess.TimeoutExpired):
            continue
    return named.pop() if len(named) == 1 else None


def wait_new_master(stack: SwarmStack, old: str, nodes: Sequence[int], timeout: float) -> str:
    """Wait until the Sentinels on ``nodes`` agree on a master other than ``old``; its name."""
    sentinels = sentinel_tasks(stack, nodes)
    assert sentinels, f"no Sentinel runs on nodes {list(nodes)}"

    def moved() -> str | None:
        master = current_master(stack, sentinels)
        return master if master not in (None, old) else None

    return wait_for(f"Sentinels on nodes {list(nodes)} promoting a node other than {old}",
                    moved, timeout, interval=0.2)  # fmt: skip


def replication_converged(stack: SwarmStack) -> str | None:
    """None when the Sentinels agree on a master that has every other data node as an online
    replica; otherwise what is still missing."""
    master = current_master(stack, sentinel_tasks(stack, stack.cluster.nodes))
    if master is None:
        return "Sentinels do not agree on a master"
    try:
        info = stack.replication(stack.task(master))
    except (AssertionError, subprocess.TimeoutExpired) as error:
        return f"{master}: {error}"
    online = [v for k, v in info.items() if k.startswith("slave") and "state=online" in v]
    others = len(stack.of_role("data")) - 1
    if info.get("role") != "master" or len(online) != others:
        return f"{master}: role {info.get('role')}, {len(online)}/{others} replicas online"
    return None


def _names_resolve_once(stack: SwarmStack) -> str | None:
    """None when every single-replica service name resolves to exactly one address (a stale
    task of a returned node no longer answers for it); otherwise the first that does not."""
    probe = stack.task(stack.of_role("sentinel")[0].name)
    for service in stack.services.values():
        if service.replicas != 1:
            continue
        addresses = stack.resolve(probe, service.name)
        if len(addresses) != 1:
            return f"{service.name} resolves to {addresses}"
    return None


def wait_stack_converged(
    stack: SwarmStack, timeout: float, nodes: Sequence[int] | None = None
) -> float:
    """Wait until the stack is converged: on ``nodes`` (the survivors) every service that may
    run there has its tasks running and healthy; on the whole cluster (``nodes`` None) also
    replication settled (one master, every replica online) and one address per single-replica
    service name. The monotonic time it was first seen converged."""

    def converged() -> float | None:
        if stack.converged(nodes):
            return None
        if nodes is None and (replication_converged(stack) or _names_resolve_once(stack)):
            return None
        return time.monotonic()

    where = f"nodes {list(nodes)}" if nodes else "the whole cluster"
    try:
        return wait_for(f"stack converged on {where}", converged, timeout, interval=1)
    except AssertionError as error:
        state = stack.converged(nodes) or replication_converged(stack) or _names_resolve_once(stack)
        raise AssertionError(f"{error}; still: {state}") from None
