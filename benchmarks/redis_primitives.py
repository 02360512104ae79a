"""Throughput of each Redis primitive through app_support vs the same work with raw redis-py.

Starts a standalone node, a Sentinel group and a 6-node cluster (tests/servers/redis_nodes.py),
then, per mode, runs each operation sequentially through app_support and through a plain redis-py
asyncio client built with redis-py's own constructors, in ``--rounds`` alternating batches
(``--seconds`` per variant in all), and prints the best batch's ops/s of each and the ratio
(app_support / raw). The raw baselines do the minimum: a raw queue is RPUSH + LPOP (no
lease, no status), a raw rate limit is INCR + EXPIRE (fixed window).

    .venv/bin/python -m benchmarks.redis_primitives [--seconds 1.5] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from itertools import count
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.sentinel import Sentinel

from app_support.redis import (
    Cache,
    JobQueue,
    RateLimiter,
    RedisSettings,
    SessionStore,
    create_async_client,
)
from tests.servers.redis_nodes import (
    RedisDeployment,
    start_cluster,
    start_sentinel_group,
    start_standalone,
)

Op = Callable[[int], Awaitable[Any]]


async def batch_rate(op: Op, seconds: float, numbers: Iterator[int]) -> float:
    done = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        await op(next(numbers))
        done += 1
    return done / elapsed


async def compare(mine: Op, theirs: Op, seconds: float, rounds: int) -> tuple[float, float]:
    """Best ops/s of each over ``rounds`` alternating batches (the least disturbed batch)."""
    numbers = count()
    for i in range(50):  # warm up connections and script caches
        await mine(-i - 1)
        await theirs(-i - 1)
    best_mine = best_theirs = 0.0
    for _ in range(rounds):
        best_mine = max(best_mine, await batch_rate(mine, seconds / rounds, numbers))
        best_theirs = max(best_theirs, await batch_rate(theirs, seconds / rounds, numbers))
    return best_mine, best_theirs


def raw_client(settings: RedisSettings) -> Any:
    password = settings.password
    if settings.mode == "standalone":
        return Redis.from_url(settings.url, password=password, decode_responses=True)
    if settings.mode == "sentinel":
        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            list(settings.sentinel_hosts),
            sentinel_kwargs={"password": settings.sentinel_password},
        )
        return sentinel.master_for(settings.master_name, password=password, decode_responses=True)
    nodes = [ClusterNode(host, port) for host, port in settings.cluster_nodes]
    return RedisCluster(startup_nodes=nodes, password=password, decode_responses=True)


async def bench_mode(
    dep: RedisDeployment, seconds: float, rounds: int
) -> list[tuple[str, float, float]]:
    settings = RedisSettings.from_env(dep.environ)
    app = create_async_client(settings)
    raw = raw_client(settings)
    cache, sessions = Cache(app), SessionStore(app)
    queue = JobQueue(app, "import")
    limiter = RateLimiter(app, "1000000/minute", strategy="fixed-window")
    payload = {"user": 42, "name": "ada"}
    text = json.dumps(payload)

    async def app_cache(i: int) -> None:
        await cache.set(f"bench:{i % 1000}", payload)
        await cache.get(f"bench:{i % 1000}")

    async def raw_cache(i: int) -> None:
        await raw.set(f"cache:bench:{i % 1000}", text, px=300_000)
        await raw.get(f"cache:bench:{i % 1000}")

    async def app_queue(i: int) -> None:
        await queue.enqueue(payload)
        job = await queue.reserve()
        assert job is not None
        await queue.complete(job)

    async def raw_queue(i: int) -> None:
        await raw.rpush("rawqueue:{import}", text)
        await raw.lpop("rawqueue:{import}")

    async def app_session(i: int) -> None:
        session_id = await sessions.create(payload)
        await sessions.get(session_id)

    async def raw_session(i: int) -> None:
        await raw.set(f"rawsession:{i}", text, px=1_800_000, nx=True)
        await raw.get(f"rawsession:{i}")

    async def app_limit(i: int) -> None:
        await limiter.hit("bench", str(i % 100))

    async def raw_limit(i: int) -> None:
        key = f"rawlimit:{i % 100}"
        await raw.incr(key)
        await raw.expire(key, 60, nx=True)

    async def app_get(i: int) -> None:
        await app.get("bench:plain")

    async def raw_get(i: int) -> None:
        await raw.get("bench:plain")

    rows = []
    try:
        for name, mine, theirs in (
            ("GET (client only)", app_get, raw_get),
            ("cache set+get", app_cache, raw_cache),
            ("queue enqueue+reserve+ack", app_queue, raw_queue),
            ("session create+get", app_session, raw_session),
            ("rate limit hit", app_limit, raw_limit),
        ):
            rows.append((name, *await compare(mine, theirs, seconds, rounds)))
    finally:
        await app.aclose()
        await raw.aclose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="per operation and variant")
    parser.add_argument("--rounds", type=int, default=5, help="alternating batches")
    args = parser.parse_args()
    print(f"{'mode':<11} {'operation':<27} {'app ops/s':>10} {'raw ops/s':>10} {'ratio':>6}")
    for start in (start_standalone, start_sentinel_group, start_cluster):
        dep = start()
        try:
            for name, mine, theirs in asyncio.run(bench_mode(dep, args.seconds, args.rounds)):
                print(
                    f"{dep.mode:<11} {name:<27} {mine:>10.0f} {theirs:>10.0f} {mine / theirs:>6.2f}"
                )
        finally:
            dep.close()


if __name__ == "__main__":
    main()
