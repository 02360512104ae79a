"""Cluster mode follows MOVED after the slot owner changes (a manual CLUSTER FAILOVER)."""

from __future__ import annotations

import time

from app_support.redis import RedisSettings, create_async_client, create_client
from app_support.redis.clients import FailoverCluster
from tests.servers.redis_nodes import RedisDeployment, RedisNode

KEY = "{moved}:counter"


def _fail_over_slot_owner(dep: RedisDeployment, key: str, port: int) -> RedisNode:
    """Promote the replica of the master on ``port``; return the new master."""
    master = next(n for n in dep.nodes if n.port == port)
    replica_port = int(master.client().info("replication")["slave0"]["port"])
    replica = next(n for n in dep.nodes if n.port == replica_port)
    replica.client().execute_command("CLUSTER", "FAILOVER")  # type: ignore[no-untyped-call]
    deadline = time.monotonic() + 15
    while replica.client().info("replication")["role"] != "master":
        assert time.monotonic() < deadline, "manual failover did not finish"
        time.sleep(0.05)
    return replica


async def test_clients_follow_moved_after_the_master_changes(
    redis_cluster: RedisDeployment,
) -> None:
    settings = RedisSettings.from_env(redis_cluster.environ)
    sync_client = create_client(settings)
    async_client = create_async_client(settings)
    try:
        sync_client.set(KEY, "0")
        assert await async_client.get(KEY) == "0"
        assert isinstance(sync_client, FailoverCluster)
        old = sync_client.get_node_from_key(KEY)  # type: ignore[no-untyped-call]
        assert old is not None
        new_master = _fail_over_slot_owner(redis_cluster, KEY, int(old.port))
        # Both clients still hold the old slot map: the old master answers MOVED.
        for i in range(1, 21):
            sync_client.set(KEY, str(i))
            await async_client.incr(KEY)
        assert sync_client.get(KEY) == "21"  # the last SET (20) plus the last INCR
        assert new_master.client().get(KEY) == "21"
        owner = sync_client.get_node_from_key(KEY)  # type: ignore[no-untyped-call]
        assert owner.port == new_master.port
    finally:
        sync_client.close()
        await async_client.aclose()
