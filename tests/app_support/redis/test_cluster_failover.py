"""Cluster failover under a writer: one of the three masters of a private 6-node cluster
(cluster-node-timeout 2000 ms) is SIGKILLed while the app's client SETs a key every 20 ms across
all slots, with the retry deadline the stacks give cluster mode (2 x node-timeout + 2 s).

No call may fail and every acknowledged write must read back from the cluster afterwards. The
gap and the slowest call are printed (``pytest -s``); benchmarks/redis_cluster_failover.py records
them at the stacks' node-timeout (5000 ms) in benchmarks/RESULTS.md.
"""

from __future__ import annotations

from app_support.redis import RedisSettings
from tests.app_support.redis.cluster_writer import (
    ClusterDrillResult,
    run_async_drill,
    run_sync_drill,
)
from tests.servers.redis_nodes import RedisDeployment


def _check(dep: RedisDeployment, result: ClusterDrillResult, kind: str) -> None:
    print(
        f"\n{kind}: gap {result.gap:.2f} s, slowest call {result.slowest:.2f} s "
        f"(node-timeout {result.node_timeout:.1f} s), {result.calls} calls, "
        f"{len(result.failed)} failed"
    )
    assert result.failed == []
    assert result.resumed, "no write reached the killed master's slots after the kill"
    assert result.missing == []
    assert len(result.acked) == result.calls
    assert dep.master_address() != result.old_master  # slot 0 has a new owner


def test_sync_writer_loses_no_call_when_a_master_is_killed(
    redis_drill_cluster: RedisDeployment,
) -> None:
    _check(redis_drill_cluster, run_sync_drill(redis_drill_cluster), "sync")


async def test_async_writer_loses_no_call_when_a_master_is_killed(
    redis_drill_cluster: RedisDeployment,
) -> None:
    _check(redis_drill_cluster, await run_async_drill(redis_drill_cluster), "async")


def _default_settings(dep: RedisDeployment) -> RedisSettings:
    """An app outside the stacks: no REDIS_RETRY_DEADLINE, only the cluster's node-timeout
    (app_support.redis.cluster_deadline derives 2 x node-timeout + 2 s from it)."""
    environ = {**dep.environ, "REDIS_CLUSTER_NODE_TIMEOUT": str(dep.node_timeout_ms)}
    assert "REDIS_RETRY_DEADLINE" not in environ
    settings = RedisSettings.from_env(environ)
    assert settings.retry_deadline == 2 * dep.node_timeout_ms / 1000 + 2
    return settings


def test_sync_writer_with_the_default_cluster_deadline_loses_no_call(
    redis_drill_cluster: RedisDeployment,
) -> None:
    dep = redis_drill_cluster
    _check(dep, run_sync_drill(dep, settings=_default_settings(dep)), "sync, default deadline")


async def test_async_writer_with_the_default_cluster_deadline_loses_no_call(
    redis_drill_cluster: RedisDeployment,
) -> None:
    dep = redis_drill_cluster
    result = await run_async_drill(dep, settings=_default_settings(dep))
    _check(dep, result, "async, default deadline")
