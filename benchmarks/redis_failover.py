"""Failover write gap over repeated master kills (SIGKILL) of a Sentinel-managed master.

Each round starts a fresh group (master + 2 replicas + 3 Sentinels, quorum 2,
down-after-milliseconds 1000), runs the drill writer of tests/app_support/redis/failover_writer.py
(WAIT 1-confirmed writes through app_support), kills the master, and records the time from the
kill to the first acknowledged write started after it, and whether any confirmed write was lost.

    .venv/bin/python -m benchmarks.redis_failover [--rounds 10] [--fault kill|stop]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

from tests.app_support.redis.failover_writer import run_drill
from tests.servers.redis_nodes import start_sentinel_group


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--fault", choices=["kill", "stop"], default="kill")
    args = parser.parse_args()
    gaps: list[float] = []
    lost = 0
    down_after = 0.0
    for round_number in range(1, args.rounds + 1):
        dep = start_sentinel_group()
        try:
            down_after = dep.down_after_ms / 1000
            result = asyncio.run(run_drill(dep, args.fault))
        finally:
            dep.close()
        gaps.append(result.gap)
        lost += len(result.lost)
        print(
            f"round {round_number:>2}: gap {result.gap:.2f} s, {len(result.confirmed)} confirmed,"
            f" {len(result.lost)} lost, {result.failed_writes} failed attempts"
        )
    median, worst = statistics.median(gaps), max(gaps)
    print(
        f"{args.fault} x{args.rounds}: median gap {median:.2f} s ({median / down_after:.2f} x"
        f" down-after {down_after:.1f} s), worst {worst:.2f} s ({worst / down_after:.2f} x),"
        f" confirmed writes lost: {lost}"
    )


if __name__ == "__main__":
    main()
