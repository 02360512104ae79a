"""Drill: a master of the dev-cluster stack is stopped (docker stop: SIGTERM, a clean shutdown),
its replica takes over, and the node is started again: it rejoins as a replica of the node now
serving its slots, catches up, and the app's writer fails no call throughout.
"""

import time

import pytest

from tests.drills.cluster.cluster_ops import (
    ClusterWriter,
    master_of_slot,
    wait_cluster_converged,
    wait_promoted,
    wrong_or_missing,
)
from tests.drills.stack_ops import redis_role, start
from tests.infra.cluster_nodes import cluster_nodes, data_nodes
from tests.infra.deployed import DeployedStack, wait_for

pytestmark = [pytest.mark.cluster_drill, pytest.mark.timeout(600)]

SLOT = 16383  # another master than the kill drill's slot 0


def test_restarted_node_rejoins_as_a_replica(
    cluster: DeployedStack, figures: dict[str, str]
) -> None:
    node_timeout = cluster.settings.redis.cluster_node_timeout_ms / 1000
    old = master_of_slot(cluster, SLOT)
    assert old is not None
    via = next(s for s in data_nodes(cluster) if s != old)
    with ClusterWriter(cluster) as writer:
        time.sleep(1.0)
        stopped_at = time.monotonic()
        cluster.docker("stop", cluster.spec(old).name)
        try:
            promotion = wait_promoted(cluster, SLOT, old, via, timeout=10 * node_timeout + 30)
        finally:
            start(cluster, old)
        started_at = time.monotonic()

        def rejoined() -> dict[str, str] | None:
            try:
                role = redis_role(cluster, old)
            except AssertionError:  # still starting
                return None
            up = role.get("role") == "slave" and role.get("master_link_status") == "up"
            return role if up else None

        role = wait_for(f"{old} a linked replica", rejoined, timeout=120, interval=0.2)
        rejoined_at = time.monotonic()
        time.sleep(1.0)
    assert role["master_host"] == cluster.spec(promotion.new_master).ip, role
    # Every node agrees: the restarted node is the new master's replica, with no slot of its own.
    me = next(n for n in cluster_nodes(cluster, via) if n.ip == cluster.spec(old).ip)
    new = next(
        n for n in cluster_nodes(cluster, via) if n.ip == cluster.spec(promotion.new_master).ip
    )
    assert (me.master, me.master_id, me.slots) == (False, new.node_id, ())
    log = writer.log
    failed = [w for w in log.writes if not w.acknowledged]
    figures["cluster node restart: promotion after stop"] = (
        f"{promotion.seen_at - stopped_at:.2f} s"
    )
    figures["cluster node restart: start to linked replica"] = f"{rejoined_at - started_at:.2f} s"
    figures["cluster node restart: calls, failed"] = f"{len(log.writes)}, {len(failed)}"
    assert failed == [], [f"{w.key}: {w.reply}" for w in failed[:5]]
    assert wrong_or_missing(cluster, log.acknowledged()) == set()
    wait_cluster_converged(cluster)
