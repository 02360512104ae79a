"""A cluster failover drill: a writer SETs a key every 20 ms across all slots while one of the three
masters is SIGKILLed.

Used by test_cluster_failover.py and benchmarks/redis_cluster_failover.py, sync (the writer in a
thread) and asyncio. Figures: the write gap (the longest time between two acknowledged writes
around the kill), the slowest call, failed calls, and whether every acknowledged write reads back.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from dataclasses import dataclass, field

from redis.cluster import RedisCluster
from redis.exceptions import RedisError

from app_support.redis import RedisSettings, create_async_client, create_client
from stacks.model.app_contract import cluster_retry_deadline_ms
from tests.servers.redis_nodes import HOST, RedisDeployment

__all__ = ["ClusterDrillResult", "cluster_drill_settings", "run_async_drill", "run_sync_drill"]

PAUSE = 0.02  # between two SETs
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


def cluster_drill_settings(dep: RedisDeployment) -> RedisSettings:
    """The app's settings with the stacks' cluster-mode deadline (2 x node-timeout + 2 s)."""
    deadline = cluster_retry_deadline_ms(dep.node_timeout_ms)
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


def _kill(dep: RedisDeployment, log: _Log) -> tuple[str, int]:
    """SIGKILL the master of slot 0; the writer's next writes to its slots end the drill."""
    node = dep.node("master")
    log.dead_slots = _master_slots(dep, node.port)
    log.killed_at = time.monotonic()
    node.kill()
    return node.address


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
    result.missing = _missing(dep, result.acked)
    result.resumed = log.resumed.is_set()
    return result


def _missing(dep: RedisDeployment, acked: dict[str, str]) -> list[str]:
    """Keys whose acknowledged value the cluster does not return (a plain redis-py client)."""
    live = next(n for n in dep.nodes if n.alive)
    reader = RedisCluster(host=HOST, port=live.port, password=dep.password, decode_responses=True)
    try:
        keys = list(acked)
        values: list[str | None] = []
        for i in range(0, len(keys), 500):
            values.extend(reader.mget_nonatomic(keys[i : i + 500]))
    finally:
        reader.close()
    return [k for k, v in zip(keys, values, strict=True) if v != acked[k]]


def run_sync_drill(dep: RedisDeployment, *, warmup: float = 0.5) -> ClusterDrillResult:
    """The sync client writes from a thread while the master of slot 0 is SIGKILLed."""
    client = create_client(cluster_drill_settings(dep))
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
        time.sleep(warmup)
        old = _kill(dep, log)
        log.resumed.wait(_limit(dep))
        time.sleep(0.5)
    finally:
        running.clear()
        thread.join()
        client.close()
    return _finish(dep, log, old)


async def run_async_drill(dep: RedisDeployment, *, warmup: float = 0.5) -> ClusterDrillResult:
    """The asyncio client writes in a task while the master of slot 0 is SIGKILLed."""
    client = create_async_client(cluster_drill_settings(dep))
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
        await asyncio.sleep(warmup)
        old = await asyncio.to_thread(_kill, dep, log)
        await asyncio.to_thread(log.resumed.wait, _limit(dep))
        await asyncio.sleep(0.5)
    finally:
        running = False
        await task
        await client.aclose()
    return _finish(dep, log, old)
