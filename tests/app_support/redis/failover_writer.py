"""A failover drill: a writer loops WAIT-confirmed writes while the master is killed or frozen.

Used by test_failover_drill.py and benchmarks/redis_failover.py. The gap is the time from the
fault to the acknowledgement (by the master and one replica) of the first write started after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Literal

from redis.exceptions import RedisError

from app_support.redis import Durability, RedisSettings, create_async_client
from app_support.redis.durability import confirmed_write
from tests.servers.redis_nodes import RedisDeployment

__all__ = ["DrillResult", "drill_settings", "run_drill"]

Fault = Literal["kill", "stop"]


@dataclass
class DrillResult:
    fault: Fault
    gap: float
    old_master: tuple[str, int]
    new_master: tuple[str, int]
    confirmed: list[str] = field(default_factory=list)
    failed_writes: int = 0
    lost: list[str] = field(default_factory=list)


def drill_settings(dep: RedisDeployment) -> RedisSettings:
    """What a latency-sensitive app would set: short socket timeouts, a 2 s command deadline."""
    return RedisSettings.from_env(
        {
            **dep.environ,
            "REDIS_SOCKET_TIMEOUT": "500",
            "REDIS_CONNECT_TIMEOUT": "300",
            "REDIS_RETRY_DEADLINE": "2000",
        }
    )


async def run_drill(
    dep: RedisDeployment, fault: Fault, *, warmup: float = 0.5, limit: float = 20.0
) -> DrillResult:
    """Write, fault the master, wait for the first acknowledged write, check nothing was lost."""
    client = create_async_client(drill_settings(dep))
    durability = Durability(replicas=1, timeout=0.5)
    acked: list[tuple[str, float, float]] = []  # key, started, acknowledged
    failures = 0
    running = True
    faulted_at = float("inf")
    resumed = asyncio.Event()  # set by the first acknowledged write started after the fault

    async def writer() -> None:
        nonlocal failures
        i = 0
        while running:
            key = f"drill:{i}"
            i += 1
            started = time.monotonic()
            try:
                await confirmed_write(client, key, ("SET", key, str(i)), durability)
            except RedisError:
                failures += 1
                await asyncio.sleep(0.01)
            else:
                acked.append((key, started, time.monotonic()))
                if started > faulted_at:
                    resumed.set()

    task = asyncio.create_task(writer())
    try:
        await asyncio.sleep(warmup)
        old = dep.master_address()
        faulted_at = time.monotonic()
        node = dep.kill("master") if fault == "kill" else dep.stop("master")
        # The first write that started after the fault and was acknowledged ends the gap (an
        # earlier write's reply may be read after the fault but was answered before it).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(resumed.wait(), limit)
        after = [done for _, started, done in acked if started > faulted_at]
        gap = (after[0] if after else time.monotonic()) - faulted_at
        if fault == "stop":
            # The old master wakes up believing it is master until a Sentinel reconfigures it
            # (about 10 s with these settings); confirmed writes must not land there.
            node.cont()
            await asyncio.to_thread(_wait_demoted, node.client(), 30.0)
        await asyncio.sleep(0.3)
    finally:
        running = False
        await task
        await client.aclose()
    new = dep.wait_for_new_master(old)
    master = dep.node("master").client()
    pipe = master.pipeline(transaction=False)
    for key, _, _ in acked:
        pipe.exists(key)
    present = pipe.execute()
    lost = [key for (key, _, _), there in zip(acked, present, strict=True) if not there]
    return DrillResult(fault, gap, old, new, [k for k, _, _ in acked], failures, lost)


def _wait_demoted(client: object, timeout: float) -> None:
    import redis

    assert isinstance(client, redis.Redis)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if client.info("replication")["role"] == "slave":
                return
        except RedisError:
            pass
        time.sleep(0.05)
    raise RuntimeError("the old master was not demoted to a replica")
