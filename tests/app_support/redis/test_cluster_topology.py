"""The cluster's shape from CLUSTER NODES (what the health report shows): parsed from raw text and
from redis-py's mapping, failed and joining nodes left out; and, on a real cluster, a replica
that stops serving shows in the health report without the client having seen an error."""

from __future__ import annotations

import time
from typing import Any

from app_support.redis import RedisSettings, create_client, redis_health_sync
from app_support.redis.cluster_topology import ClusterShape, cluster_shape, parse_cluster_nodes
from tests.servers.redis_nodes import RedisDeployment

RAW = """\
a1 10.0.0.1:6379@16379 myself,master - 0 0 1 connected 0-5460
a2 10.0.0.2:6379@16379 master - 0 0 2 connected 5461-10922
a3 10.0.0.3:6379@16379,node-3 master - 0 0 3 connected 10923-16383
b1 10.0.0.4:6379@16379 slave a1 0 0 1 connected
b2 10.0.0.5:6379@16379 slave,fail a2 0 0 2 disconnected
b3 10.0.0.6:6379@16379 slave a3 0 0 3 connected
"""


def test_raw_text_gives_the_serving_nodes() -> None:
    assert cluster_shape(RAW) == ClusterShape(
        nodes=5, masters=("10.0.0.1:6379", "10.0.0.2:6379", "10.0.0.3:6379"), replicas=2
    )
    assert cluster_shape(RAW.encode()) == cluster_shape(RAW)


def test_a_failed_master_and_a_master_without_slots_are_not_masters() -> None:
    text = RAW.replace("slave,fail a2", "slave a2").replace(
        "master - 0 0 2", "master,fail? - 0 0 2"
    )
    text += "c1 10.0.0.7:6379@16379 master - 0 0 0 connected\n"
    text += "c2 10.0.0.8:6379@16379 handshake - 0 0 0 connected\n"
    shape = cluster_shape(text)
    assert shape.masters == ("10.0.0.1:6379", "10.0.0.3:6379")
    assert (shape.nodes, shape.replicas) == (6, 3)  # c1 serves, without slots


def test_redis_py_parsed_mapping_gives_the_same_shape() -> None:
    mapping = {
        node.address: {"flags": ",".join(sorted(node.flags)), "slots": list(node.slots)}
        for node in parse_cluster_nodes(RAW)
    }
    assert cluster_shape(mapping) == cluster_shape(RAW)


def test_lines_it_cannot_read_are_left_out() -> None:
    assert parse_cluster_nodes("garbage\n\n") == []
    assert cluster_shape("") == ClusterShape(0, (), 0)


def test_health_reports_a_killed_replica_from_the_cluster_itself(
    redis_drill_cluster: RedisDeployment,
) -> None:
    dep = redis_drill_cluster
    client = create_client(RedisSettings.from_env(dep.environ))
    try:
        assert redis_health_sync(client)["replicas"] == 3
        dep.kill("replica")
        # The node the report asks flags it after node-timeout; this client saw no error. A
        # bound to catch a hang, not a timing assertion: 10 x node-timeout.
        give_up = time.monotonic() + 10 * dep.node_timeout_ms / 1000
        report: dict[str, Any] = redis_health_sync(client)
        while report["replicas"] != 2 and time.monotonic() < give_up:
            time.sleep(0.1)
            report = redis_health_sync(client)
        assert report["replicas"] == 2, report
        assert report["status"] == "degraded"
        assert report["error"] == "a master has no replica"
        assert len(report["masters"]) == 3
    finally:
        client.close()
