"""A hand ``SENTINEL FAILOVER`` under a writer, with and without the switch watcher (issue 11).

Part 1 (``--rounds`` per variant, fresh Sentinel group per round: master + 2 replicas + 3
Sentinels, quorum 2): two asyncio writer tasks loop plain writes through app_support, each
reporting the port of the node that ran it (tests/app_support/redis/switch_writer.py); an
operator's ``SENTINEL FAILOVER`` is issued; the run waits until Sentinel has turned the old master
into a replica and it has resynced, then checks every acknowledged write on the new master.
Variants: watcher on/off x ``min-replicas-to-write`` 0/1 (set on every node, as the stacks render
it). Per round it prints:

- ``to new``: FAILOVER command -> first write acknowledged by the new master;
- ``after switch``: writes acknowledged by the old master that started after the watcher acted on
  ``+switch-master`` (must be 0 with the watcher);
- ``gap``: longest time without an acknowledged write, from the FAILOVER command on;
- ``lost``: acknowledged writes missing once the old master resynced (wiped by the resync);
- ``failed``: calls that raised (retry deadline 5 s).

Part 2: per-command cost of following switches: sequential GETs through an asyncio client with
the watcher vs one without it vs raw redis-py, alternating batches, best batch (as
benchmarks/redis_primitives.py does), and the same for the sync client.

    .venv/bin/python -m benchmarks.redis_switchover [--rounds 3] [--seconds 3] [--rounds-cost 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app_support.redis import RedisSettings, create_async_client, create_client
from app_support.redis.aclients import AsyncFailoverRedis
from benchmarks.redis_primitives import compare, raw_client
from tests.app_support.redis.switch_writer import AsyncWriter
from tests.servers.redis_nodes import RedisDeployment, start_sentinel_group


@dataclass
class Round:
    to_new: float
    after_switch: int | None  # None without a watcher
    gap: float
    lost: int
    acknowledged: int
    failed: int


def _wait(predicate: Callable[[], Any], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _resynced(dep: RedisDeployment, old: tuple[str, int]) -> bool:
    info = dep.node_at(old).client().info("replication")
    return bool(info["role"] == "slave" and info.get("master_link_status") == "up")


async def one_round(dep: RedisDeployment, watcher: bool, min_replicas: int) -> Round:
    for node in dep.nodes:
        node.client().config_set("min-replicas-to-write", min_replicas)
    client = create_async_client(RedisSettings.from_env(dep.environ), watch_switches=watcher)
    assert isinstance(client, AsyncFailoverRedis)
    try:
        await client.ping()
        watcher_ = client.switch_watcher
        if watcher_ is not None:
            await asyncio.to_thread(
                _wait, lambda: watcher_.listening_to is not None, "the watcher to subscribe"
            )
        writer = AsyncWriter(client, prefix="s", tasks=2).start()
        await asyncio.sleep(1.0)
        failover_at = time.monotonic()
        old = await asyncio.to_thread(dep.sentinel_failover)
        new = await asyncio.to_thread(dep.wait_for_new_master, old, 30.0)
        # Keep writing until the old master was converted and resynced (~10 s), then 0.5 s more.
        await asyncio.to_thread(_wait, lambda: _resynced(dep, old), "the old master to resync")
        await asyncio.sleep(0.5)
        log = await writer.stop()
        switched_at = (
            client.switch_watcher.switches[0].at
            if client.switch_watcher is not None and client.switch_watcher.switches
            else float("inf")
        )
    finally:
        await client.aclose()
    on_new = [w.finished for w in log.acknowledged if w.port == new[1]]
    to_new = (min(on_new) - failover_at) if on_new else float("inf")
    after_switch = (
        None
        if switched_at == float("inf")
        else sum(1 for w in log.started_after(switched_at) if w.port == old[1])
    )
    checker = dep.node_at(new).client()
    keys = [w.key for w in log.acknowledged]
    present = 0
    for start in range(0, len(keys), 1000):
        pipe = checker.pipeline(transaction=False)
        for key in keys[start : start + 1000]:
            pipe.exists(key)
        present += sum(pipe.execute())
    return Round(
        to_new=to_new,
        after_switch=after_switch,
        gap=log.longest_gap(failover_at),
        lost=len(keys) - present,
        acknowledged=len(keys),
        failed=log.failed,
    )


def part_one(rounds: int) -> None:
    print(
        f"{'watcher':<8} {'min-repl':>8} {'round':>5} {'to new':>7} {'after switch':>12}"
        f" {'gap':>6} {'lost':>6} {'acked':>7} {'failed':>6}"
    )
    for watcher in (False, True):
        for min_replicas in (0, 1):
            results: list[Round] = []
            for number in range(1, rounds + 1):
                dep = start_sentinel_group()
                try:
                    result = asyncio.run(one_round(dep, watcher, min_replicas))
                finally:
                    dep.close()
                results.append(result)
                after = "-" if result.after_switch is None else str(result.after_switch)
                print(
                    f"{'on' if watcher else 'off':<8} {min_replicas:>8} {number:>5}"
                    f" {result.to_new:>6.2f}s {after:>12} {result.gap:>5.2f}s"
                    f" {result.lost:>6} {result.acknowledged:>7} {result.failed:>6}"
                )
            afters = [r.after_switch for r in results if r.after_switch is not None]
            print(
                f"{'on' if watcher else 'off':<8} {min_replicas:>8} {'med':>5}"
                f" {statistics.median(r.to_new for r in results):>6.2f}s"
                f" {(str(max(afters)) if afters else '-'):>12}"
                f" {statistics.median(r.gap for r in results):>5.2f}s"
                f" {statistics.median(r.lost for r in results):>6.0f}"
            )


async def async_cost(dep: RedisDeployment, seconds: float, rounds: int) -> list[str]:
    settings = RedisSettings.from_env(dep.environ)
    watched = create_async_client(settings)
    plain = create_async_client(settings, watch_switches=False)
    raw = raw_client(settings)
    await watched.set("cost:key", "v")
    lines = []
    try:

        async def with_watcher(i: int) -> None:
            await watched.get("cost:key")

        async def without(i: int) -> None:
            await plain.get("cost:key")

        async def bare(i: int) -> None:
            await raw.get("cost:key")

        on, off = await compare(with_watcher, without, seconds, rounds)
        lines.append(f"async GET  watcher on {on:>8.0f}  off {off:>8.0f}  ratio {on / off:.3f}")
        on, raw_rate = await compare(with_watcher, bare, seconds, rounds)
        lines.append(
            f"async GET  watcher on {on:>8.0f}  raw {raw_rate:>8.0f}  ratio {on / raw_rate:.3f}"
        )
    finally:
        await watched.aclose()
        await plain.aclose()
        await raw.aclose()
    return lines


def sync_cost(dep: RedisDeployment, seconds: float, rounds: int) -> str:
    settings = RedisSettings.from_env(dep.environ)
    watched = create_client(settings)
    plain = create_client(settings, watch_switches=False)
    watched.set("cost:key", "v")
    best = {"on": 0.0, "off": 0.0}
    try:
        for _ in range(50):
            watched.get("cost:key")
            plain.get("cost:key")
        for _ in range(rounds):
            for name, client in (("on", watched), ("off", plain)):
                done, started = 0, time.perf_counter()
                while (elapsed := time.perf_counter() - started) < seconds / rounds:
                    client.get("cost:key")
                    done += 1
                best[name] = max(best[name], done / elapsed)
    finally:
        watched.close()
        plain.close()
    on, off = best["on"], best["off"]
    return f"sync GET   watcher on {on:>8.0f}  off {off:>8.0f}  ratio {on / off:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="failovers per variant")
    parser.add_argument("--seconds", type=float, default=3.0, help="per variant, cost part")
    parser.add_argument("--rounds-cost", type=int, default=5, help="alternating batches")
    parser.add_argument("--skip-failover", action="store_true")
    args = parser.parse_args()
    if not args.skip_failover:
        part_one(args.rounds)
    dep = start_sentinel_group()
    try:
        for line in asyncio.run(async_cost(dep, args.seconds, args.rounds_cost)):
            print(line)
        print(sync_cost(dep, args.seconds, args.rounds_cost))
    finally:
        dep.close()


if __name__ == "__main__":
    main()
