"""Drill: one of the three masters of the dev-cluster stack is SIGKILLed (docker kill) while the
app's client SETs a key every 20 ms across all slots; its replica is promoted and the writer
goes on. No call may fail (the stack's REDIS_RETRY_DEADLINE, 2 x node-timeout + 2 s, covers the
failover), and every acknowledged write reads back. The killed node is started again and rejoins
as a replica. Figures (write gap vs node-timeout, promotion, slowest call) go to
build/drills/figures.txt.
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
from tests.drills.stack_ops import kill, redis_role, start
from tests.infra.cluster_nodes import data_nodes
from tests.infra.deployed import DeployedStack

pytestmark = [pytest.mark.cluster_drill, pytest.mark.timeout(600)]

SLOT = 0
WARMUP_S = 2.0
# After the promotion the writer goes on this long, so writes reach every slot again.
AFTER_PROMOTION_S = 3.0


def test_master_killed_under_a_writer_fails_no_call_and_loses_no_write(
    cluster: DeployedStack, figures: dict[str, str]
) -> None:
    node_timeout = cluster.settings.redis.cluster_node_timeout_ms / 1000
    old = master_of_slot(cluster, SLOT)
    assert old is not None
    via = next(s for s in data_nodes(cluster) if s != old)
    try:
        with ClusterWriter(cluster) as writer:
            time.sleep(WARMUP_S)
            killed_at = kill(cluster, old)
            promotion = wait_promoted(cluster, SLOT, old, via, timeout=10 * node_timeout + 30)
            time.sleep(AFTER_PROMOTION_S)
            ended = time.monotonic()
    finally:
        # Docker does not restart a killed container: bring it back whatever happened above.
        start(cluster, old)
    log = writer.log
    failed = [w for w in log.writes if not w.acknowledged]
    acked = log.acknowledged()
    slowest = max(w.done - w.sent for w in log.writes)
    gap = log.longest_gap(killed_at, ended)
    figures["cluster master kill: write gap"] = (
        f"{gap:.2f} s ({gap / node_timeout:.2f} x node-timeout {node_timeout:.1f} s)"
    )
    figures["cluster master kill: promotion"] = f"{promotion.seen_at - killed_at:.2f} s"
    figures["cluster master kill: slowest call"] = f"{slowest:.2f} s"
    figures["cluster master kill: calls, failed"] = f"{len(log.writes)}, {len(failed)}"
    assert failed == [], [f"{w.key}: {w.reply}" for w in failed[:5]]
    assert acked, "no write was acknowledged"
    assert any(w.sent > promotion.seen_at for w in acked), "no write after the promotion"
    assert wrong_or_missing(cluster, acked) == set()

    # The killed node (started again above) is back as a replica of the node promoted instead.
    wait_cluster_converged(cluster)
    role = redis_role(cluster, old)
    assert role["role"] == "slave", role
    assert role["master_host"] == cluster.spec(promotion.new_master).ip, role
    assert master_of_slot(cluster, SLOT) == promotion.new_master
