"""A cluster failover drill: a writer SETs a key every 20 ms across all slots while one of the three
masters is SIGKILLed.

Used by test_cluster_failover.py and benchmarks/redis_cluster_failover.py, sync (the writer in a
thread) and asyncio. Figures: the write gap (the longest time between two acknowledged writes
around the kill), the slowest call, failed calls, and whether every acknowledged write reads back.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

from redis.cluster import RedisCluster
from redis.exceptions import RedisError

from app_support.redis import RedisSettings, create_async_client, create_client
from stacks.model.app_contract import cluster_retry_deadline_ms
from tests.servers.redis_nodes import HOST, RedisDeployment, RedisNode

__all__ = [
    "ClusterDrillResult",
    "Fault",
    "cluster_drill_settings",
    "run_async_drill",
    "run_sync_drill",
]

PAUSE = 0.02  # between two SETs
WARMUP = 0.5  # writing before the fault
Fault = Literal["kill", "stop"]  # SIGKILL, or SIGSTOP: a node that stops answering
KEY_PREFIX = "cw:"


@dataclass
class ClusterDrillResult:
    """What one drill saw; ``acked`` maps key -> value of every acknowledged SET."""

    node_timeout: float
    gap: float = 0.0
    slowest: float = 0.0
    calls: int = 0
    failed: list[str] = field(default_factory=list)
    acked: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    old_master: tuple[str, int] = ("", 0)
    resumed: bool = False  # a write to the killed master's slots was acknowledged after the kill
    promotion: float = 0.0  # kill -> its replica answers ROLE as master (0.0: not seen)


def cluster_drill_settings(dep: RedisDeployment, deadline_ms: int | None = None) -> RedisSettings:
    """The app's settings with the stacks' cluster-mode deadline (2 x node-timeout + 2 s), or
    ``deadline_ms`` (the benchmark's "before" runs)."""
    deadline = (
        cluster_retry_deadline_ms(dep.node_timeout_ms) if deadline_ms is None else deadline_ms
    )
    return RedisSettings.from_env({**dep.environ, "REDIS_RETRY_DEADLINE": str(deadline)})


class _Log:
    """Per-call records shared by the writer and the drill (appends only: thread-safe enough)."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, float, bool]] = []  # started, finished, ok
        self.acked: dict[str, str] = {}
        self.failed: list[str] = []
        self.killed_at = float("inf")
        self.resumed = threading.Event()  # a write to the killed master's slots, after the kill
        self.dead_slots: frozenset[int] = frozenset()
        self.promoted_at = 0.0
        self.watcher: threading.Thread | None = None  # notes promoted_at

    def record(self, key: str, value: str, started: float, error: Exception | None) -> None:
        finished = time.monotonic()
        self.calls.append((started, finished, error is None))
        if error is not None:
            self.failed.append(f"{key}: {type(error).__name__}: {error}")
            return
        self.acked[key] = value
        if started > self.killed_at and _slot(key) in self.dead_slots:
            self.resumed.set()


def _slot(key: str) -> int:
    from redis.crc import key_slot

    return int(key_slot(key.encode()))


def _master_slots(dep: RedisDeployment, port: int) -> frozenset[int]:
    slots: set[int] = set()
    for start, end, primary, *_ in dep.node("master").client().cluster("slots"):
        if int(primary[1]) == port:
            slots.update(range(int(start), int(end) + 1))
    return frozenset(slots)


def _kill(dep: RedisDeployment, log: _Log, fault: Fault) -> tuple[str, int]:
    """SIGKILL (or SIGSTOP) the master of slot 0 and note when its replica becomes master."""
    node = dep.node("master")
    replica = dep.node("replica")
    log.dead_slots = _master_slots(dep, node.port)
    log.killed_at = time.monotonic()
    if fault == "kill":
        node.kill()
    else:
        node.stop()
    log.watcher = threading.Thread(
        target=_watch_promotion, args=(replica, log, _limit(dep)), daemon=True
    )
    log.watcher.start()
    return node.address


def _watch_promotion(replica: RedisNode, log: _Log, limit: float) -> None:
    client = replica.client(timeout=0.5)
    give_up = time.monotonic() + limit
    while time.monotonic() < give_up:
        with contextlib.suppress(RedisError):
            if client.execute_command("ROLE")[0] == "master":  # type: ignore[no-untyped-call]
                log.promoted_at = time.monotonic()
                break
        time.sleep(0.01)
    client.close()


def _limit(dep: RedisDeployment) -> float:
    return dep.node_timeout_ms / 1000 * 3 + 15


def _finish(dep: RedisDeployment, log: _Log, old: tuple[str, int]) -> ClusterDrillResult:
    result = ClusterDrillResult(node_timeout=dep.node_timeout_ms / 1000, old_master=old)
    result.calls = len(log.calls)
    result.failed = list(log.failed)
    result.acked = dict(log.acked)
    result.slowest = max((done - started for started, done, _ in log.calls), default=0.0)
    acks = sorted(done for _, done, ok in log.calls if ok)
    result.gap = max((b - a for a, b in itertools.pairwise(acks)), default=0.0)
    result.missing = _missing(dep, result.acked, old)
    result.resumed = log.resumed.is_set()
    if log.watcher is not None:
        log.watcher.join(_limit(dep))
    if log.promoted_at:
        result.promotion = log.promoted_at - log.killed_at
    return result


def _missing(dep: RedisDeployment, acked: dict[str, str], old: tuple[str, int]) -> list[str]:
    """Keys whose acknowledged value the cluster does not return (a plain redis-py client)."""
    live = next(n for n in dep.nodes if n.alive and n.address != old)
    reader = RedisCluster(host=HOST, port=live.port, password=dep.password, decode_responses=True)
    try:
        keys = list(acked)
        values: list[str | None] = []
        for i in range(0, len(keys), 500):
            values.extend(reader.mget_nonatomic(keys[i : i + 500]))
    finally:
        reader.close()
    return [k for k, v in zip(keys, values, strict=True) if v != acked[k]]


def run_sync_drill(
    dep: RedisDeployment,
    *,
    fault: Fault = "kill",
    deadline_ms: int | None = None,
    settings: RedisSettings | None = None,
) -> ClusterDrillResult:
    """The sync client writes from a thread while the master of slot 0 is SIGKILLed (with
    ``settings`` when given, else the stacks' deadline or ``deadline_ms``)."""
    client = create_client(settings or cluster_drill_settings(dep, deadline_ms))
    log = _Log()
    running = threading.Event()
    running.set()

    def writer() -> None:
        i = 0
        while running.is_set():
            key, value = f"{KEY_PREFIX}{i}", str(i)
            i += 1
            started = time.monotonic()
            error: Exception | None = None
            try:
                client.set(key, value)
            except RedisError as caught:
                error = caught
            log.record(key, value, started, error)
            time.sleep(PAUSE)

    thread = threading.Thread(target=writer, name="cluster-writer")
    thread.start()
    try:
        time.sleep(WARMUP)
        old = _kill(dep, log, fault)
        log.resumed.wait(_limit(dep))
        time.sleep(0.5)
    finally:
        running.clear()
        thread.join()
        client.close()
    return _finish(dep, log, old)


async def run_async_drill(
    dep: RedisDeployment,
    *,
    fault: Fault = "kill",
    deadline_ms: int | None = None,
    settings: RedisSettings | None = None,
) -> ClusterDrillResult:
    """The asyncio client writes in a task while the master of slot 0 is SIGKILLed (with
    ``settings`` when given, else the stacks' deadline or ``deadline_ms``)."""
    client = create_async_client(settings or cluster_drill_settings(dep, deadline_ms))
    log = _Log()
    running = True

    async def writer() -> None:
        i = 0
        while running:
            key, value = f"{KEY_PREFIX}{i}", str(i)
            i += 1
            started = time.monotonic()
            error: Exception | None = None
            try:
                await client.set(key, value)
            except RedisError as caught:
                error = caught
            log.record(key, value, started, error)
            await asyncio.sleep(PAUSE)

    task = asyncio.create_task(writer())
    try:
        await asyncio.sleep(WARMUP)
        old = await asyncio.to_thread(_kill, dep, log, fault)
        await asyncio.to_thread(log.resumed.wait, _limit(dep))
        await asyncio.sleep(0.5)
    finally:
        running = False
        await task
        await client.aclose()
    return _finish(dep, log, old)
