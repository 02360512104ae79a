"""Cluster failover under a writer: one of the three masters is SIGKILLed (or SIGSTOPped: a node
that stops answering, as a vanished container does) while app_support's client SETs a key every
20 ms across all slots.

Each round starts a fresh 6-node cluster (``cluster-node-timeout`` as given; the stacks use 5000)
and runs the drill of tests/app_support/redis/cluster_writer.py with the sync client (a thread)
and the asyncio client. Per round: the write gap (longest time between two acknowledged writes),
the slowest call, failed calls, the replica's promotion (kill -> ROLE master) and acknowledged
writes that do not read back. The retry deadline is the stacks' cluster one (2 x node-timeout +
2 s) unless ``--deadline-ms`` gives another (5000 = the app's default, the issue's setup).

    .venv/bin/python -m benchmarks.redis_cluster_failover [--rounds 3] [--node-timeout-ms 5000]
        [--fault kill|stop] [--deadline-ms MS] [--client sync|async|both]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

from stacks.model.app_contract import cluster_retry_deadline_ms
from tests.app_support.redis.cluster_writer import (
    ClusterDrillResult,
    run_async_drill,
    run_sync_drill,
)
from tests.servers.redis_nodes import start_cluster


def _round(client: str, args: argparse.Namespace) -> ClusterDrillResult:
    dep = start_cluster(args.node_timeout_ms)
    try:
        if client == "sync":
            return run_sync_drill(dep, fault=args.fault, deadline_ms=args.deadline_ms)
        return asyncio.run(run_async_drill(dep, fault=args.fault, deadline_ms=args.deadline_ms))
    finally:
        dep.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--node-timeout-ms", type=int, default=5000)
    parser.add_argument("--fault", choices=["kill", "stop"], default="kill")
    parser.add_argument("--deadline-ms", type=int, default=None)
    parser.add_argument("--client", choices=["sync", "async", "both"], default="both")
    args = parser.parse_args()
    node_timeout = args.node_timeout_ms / 1000
    deadline = args.deadline_ms or cluster_retry_deadline_ms(args.node_timeout_ms)
    clients = ["sync", "async"] if args.client == "both" else [args.client]
    print(
        f"{args.fault}, cluster-node-timeout {args.node_timeout_ms} ms, "
        f"REDIS_RETRY_DEADLINE {deadline} ms"
    )
    for client in clients:
        results = []
        for number in range(1, args.rounds + 1):
            result = _round(client, args)
            results.append(result)
            print(
                f"{client} round {number}: gap {result.gap:.2f} s "
                f"({result.gap / node_timeout:.2f} x node-timeout), promotion "
                f"{result.promotion:.2f} s, slowest call {result.slowest:.2f} s, "
                f"{result.calls} calls, {len(result.failed)} failed, "
                f"{len(result.missing)} acknowledged writes missing"
                + (f" (first failure: {result.failed[0]})" if result.failed else "")
            )
        gaps = [r.gap for r in results]
        print(
            f"{client} x{args.rounds}: median gap {statistics.median(gaps):.2f} s, worst "
            f"{max(gaps):.2f} s (node-timeout {node_timeout:.1f} s), slowest call "
            f"{max(r.slowest for r in results):.2f} s, median gap after promotion "
            f"{statistics.median(r.gap - r.promotion for r in results):.2f} s, failed calls "
            f"{sum(len(r.failed) for r in results)}, missing writes "
            f"{sum(len(r.missing) for r in results)}"
        )


if __name__ == "__main__":
    main()
