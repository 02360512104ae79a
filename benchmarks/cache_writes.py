"""What one analytics-cache write costs next to a plain SET, and what the cache leaves in memory.

Starts a standalone node and a 6-node cluster (tests/servers/redis_nodes.py) and, per mode, writes
``user:<n>:daily`` entries (the reference app's keys) three ways through the app's own client:

- ``SET``: a plain ``SET key value PX ttl``, the floor;
- ``index sets``: the cache as it was before issue 12 (one pipeline of SADD + 2 PEXPIRE per
  prefix index, then SET: 7 commands per write, every key added to the global ``user:`` index);
- ``generations``: app_support.redis.Cache now (one script: the entry tagged with its user's
  generation counter).

in ``--rounds`` alternating batches, and prints the best batch's microseconds per write, the ratio
to SET, the round trips and the server-side commands per write (INFO commandstats, which counts
the commands a script runs). Then it writes ``--users`` distinct users for ``--seconds`` with a
1 s TTL, as the issue measured, and counts what is left in Redis (standalone: one SCAN).

    .venv/bin/python -m benchmarks.cache_writes [--rounds 5] [--batch 2000] [--seconds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from app_support.redis import RedisSettings, create_async_client
from app_support.redis.cache import Cache
from app_support.redis.factory import AsyncRedisClient
from tests.servers.redis_nodes import RedisDeployment, start_cluster, start_standalone

PAYLOAD = {"total": 1234.5, "rows": 321, "by_day": [["2024-01-01", 17.5]] * 8}
Write = Callable[[int, float], Awaitable[Any]]


class IndexSetCache:
    """The write path of app_support.redis.cache before issue 12, kept here to compare against."""

    def __init__(self, client: AsyncRedisClient, namespace: str) -> None:
        self._client = client
        self._namespace = namespace

    async def set(self, key: str, value: Any, ttl: float) -> None:
        millis = max(1, round(ttl * 1000))
        full_key = f"{self._namespace}:{key}"
        parts = key.split(":")[:-1]
        indexes = [
            f"{self._namespace}!prefix:{':'.join(parts[: i + 1])}:" for i in range(len(parts))
        ]
        pipe = self._client.pipeline(transaction=False)
        for index in indexes:
            pipe.sadd(index, full_key)
            pipe.pexpire(index, millis, nx=True)
            pipe.pexpire(index, millis, gt=True)
        pipe.set(full_key, json.dumps(value), px=millis)
        await pipe.execute()


def writers(client: AsyncRedisClient) -> dict[str, Write]:
    legacy = IndexSetCache(client, "legacy")
    cache = Cache(client, namespace="analytics")

    async def plain(n: int, ttl: float) -> None:
        await client.set(f"plain:user:{n}:daily", json.dumps(PAYLOAD), px=round(ttl * 1000))

    async def index_sets(n: int, ttl: float) -> None:
        await legacy.set(f"user:{n}:daily", PAYLOAD, ttl)

    async def generations(n: int, ttl: float) -> None:
        await cache.set(f"user:{n}:daily", PAYLOAD, ttl)

    return {"SET": plain, "index sets": index_sets, "generations": generations}


async def server_commands(client: AsyncRedisClient) -> int:
    """Commands the server(s) ran so far but INFO itself (every primary in cluster mode)."""
    stats: Any = (
        await client.info("commandstats", target_nodes="primaries")
        if hasattr(client, "get_nodes")
        else await client.info("commandstats")
    )
    nodes = [stats] if any(str(k).startswith("cmdstat_") for k in stats) else stats.values()
    return sum(
        int(value["calls"])
        for node in nodes
        for key, value in node.items()
        if str(key).startswith("cmdstat_") and str(key) != "cmdstat_info"
    )


async def cost_per_write(deployment: RedisDeployment, rounds: int, batch: int) -> None:
    trips = {"n": 0}

    def on_command(command: str, seconds: float, failed: bool) -> None:
        trips["n"] += 1

    client = create_async_client(RedisSettings.from_env(deployment.environ), on_command=on_command)
    try:
        ops = writers(client)
        for write in ops.values():  # warm up connections and the script cache
            for n in range(200):
                await write(n, 60.0)
        best = dict.fromkeys(ops, float("inf"))
        per_write: dict[str, tuple[float, float]] = {}
        for round_ in range(rounds):
            for name, write in ops.items():
                before_trips, before_cmds = trips["n"], await server_commands(client)
                started = time.perf_counter()
                for n in range(batch):
                    await write(round_ * batch + n, 60.0)
                best[name] = min(best[name], (time.perf_counter() - started) / batch)
                trips_after = trips["n"] - 1  # the INFO call below is not a write
                commands = await server_commands(client) - before_cmds
                per_write[name] = ((trips_after - before_trips) / batch, commands / batch)
        floor = best["SET"]
        print(f"\n{deployment.mode}: best of {rounds} batches of {batch} writes")
        print("| write | us/write | x SET | round trips/write | server commands/write |")
        print("|---|---|---|---|---|")
        for name in ops:
            round_trips, per_command = per_write[name]
            print(
                f"| {name} | {best[name] * 1e6:.0f} | {best[name] / floor:.2f} | "
                f"{round_trips:.2f} | {per_command:.2f} |"
            )
    finally:
        await client.aclose()


async def memory_left(deployment: RedisDeployment, seconds: float) -> None:
    client = create_async_client(RedisSettings.from_env(deployment.environ))
    try:
        ops = writers(client)
        print(f"\n{deployment.mode}: {seconds:g} s of writes per design, a new user each, TTL 1 s")
        print("| design | users written | live entries | index members / counters | keys |")
        print("|---|---|---|---|---|")
        for name, prefix in (("index sets", "legacy"), ("generations", "analytics")):
            deployment.flush()
            write, users = ops[name], 0
            started = time.perf_counter()
            while time.perf_counter() - started < seconds:
                await write(users, 1.0)
                users += 1
            keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
            texts = [k.decode() if isinstance(k, bytes) else str(k) for k in keys]
            if name == "index sets":
                held = int(await client.scard("legacy!prefix:user:"))
                live = sum(1 for k in texts if k.startswith("legacy:"))
            else:
                held = sum(1 for k in texts if k.startswith("analytics!gen:"))
                live = sum(1 for k in texts if k.startswith("analytics:"))
            print(f"| {name} | {users} | {live} | {held} | {len(texts)} |")
    finally:
        await client.aclose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    standalone = start_standalone()
    try:
        await cost_per_write(standalone, args.rounds, args.batch)
        await memory_left(standalone, args.seconds)
    finally:
        standalone.close()
    cluster = start_cluster()
    try:
        await cost_per_write(cluster, args.rounds, args.batch)
    finally:
        cluster.close()


if __name__ == "__main__":
    asyncio.run(main())
