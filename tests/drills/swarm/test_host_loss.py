"""Host-loss drill (issue 16): the prod-swarm stack loses the Redis master's whole host.

Two faults, each on the host that holds the master at the time: (a) the host is cut off the
network (its link to the bridge goes down: its containers keep running, unreachable), (b) its
engine stops (its containers stop with it). Under a writer through app_support (plain SETs and
WAIT-confirmed SETs, every acknowledged key read back afterwards) and app traffic from the host to
the surviving hosts' published ports, each drill checks: Sentinel promotes a replica on a
surviving host, the app keeps serving there, no WAIT-confirmed write is lost, Swarm reschedules
the lost host's movable tasks onto the survivors; and after the host returns, the stack converges
(old master a replica of the new one, one address per service name). Waits are bounded; figures
go to build/drills/figures.txt.
"""

import time

import pytest

from tests.drills.swarm.host_ops import (
    HostProbe,
    SwarmAppWriter,
    current_master,
    missing_keys,
    sentinel_tasks,
    wait_new_master,
    wait_stack_converged,
)
from tests.infra.deployed import wait_for
from tests.infra.swarm_stack import SwarmStack

pytestmark = pytest.mark.timeout(1200)

# Writes before the fault and after the stack serves again, so both sides are covered.
STEADY_S = 3.0
# Two surviving Sentinels may split their votes; the retry comes 2 x failover-timeout (60 s) later.
FAILOVER_TIMEOUT_S = 180
RESCHEDULE_TIMEOUT_S = 240
CONVERGE_TIMEOUT_S = 300


def _lose_the_master_host(
    stack: SwarmStack, figures: dict[str, str], name: str, lose: str, restore: str
) -> None:
    """One drill: ``scripts/swarm LOSE N`` on the master's node N, then ``RESTORE N``."""
    cluster = stack.cluster
    old = current_master(stack, sentinel_tasks(stack, cluster.nodes))
    assert old is not None, "Sentinels do not agree on a master before the drill"
    lost = stack.services[old].pinned_node
    assert lost is not None, f"{old} is pinned to no node"
    survivors = [n for n in cluster.nodes if n != lost]
    web = stack.one("web")
    writer_task = stack.tasks(web.name, survivors)[0]
    with (
        SwarmAppWriter(stack, writer_task) as writer,
        HostProbe(stack, survivors, web.host_ports[0], "/api/health") as probe,
    ):
        time.sleep(STEADY_S)
        faulted = time.monotonic()
        cluster.script(lose, str(lost))
        try:
            new = wait_new_master(stack, old, survivors, FAILOVER_TIMEOUT_S)
            promoted = time.monotonic()
            rescheduled = wait_stack_converged(stack, RESCHEDULE_TIMEOUT_S, survivors)
            # The survivors serve again: a steady spell of writes and reads before the heal.
            wait_for("a WAIT-confirmed write after the failover",
                     lambda: True if writer.log.acknowledged("c")
                     and writer.log.acknowledged("c")[-1].done > promoted else None,
                     60, interval=0.5)  # fmt: skip
            time.sleep(STEADY_S)
        finally:
            healed = time.monotonic()
            cluster.script(restore, str(lost), timeout=180)
        converged = wait_stack_converged(stack, CONVERGE_TIMEOUT_S)
        time.sleep(STEADY_S)
    log = writer.log
    acknowledged = log.acknowledged()
    reader = stack.tasks(web.name)[0]  # the writer's task may have been replaced since
    missing = missing_keys(stack, reader, (w.key for w in acknowledged))
    lost_plain = [w for w in acknowledged if w.kind == "p" and w.key in missing]
    lost_confirmed = [w for w in acknowledged if w.kind == "c" and w.key in missing]
    # While the host is lost and Swarm has settled the survivors, the app answers there. Its
    # liveness, not readiness: on a loaded host the readiness checks' 0.5 s bounds time out.
    settled = [o for o in probe.outcomes if rescheduled < o.sent < healed]
    served = [o for o in probe.outcomes if o.status == 200]
    after_heal = [o for o in probe.outcomes if o.sent >= healed]
    old_role = stack.replication(stack.task(old))
    figures[f"swarm host loss {name}"] = (
        f"master {old} on node {lost} -> {new}; failover {promoted - faulted:.1f} s; "
        f"rescheduled on survivors {rescheduled - faulted:.1f} s; converged "
        f"{converged - healed:.1f} s after the host returned; acknowledged "
        f"{len(log.acknowledged('p'))} plain + {len(log.acknowledged('c'))} confirmed, lost "
        f"{len(lost_plain)} plain / {len(lost_confirmed)} confirmed; write gap "
        f"{log.longest_gap(faulted, healed):.1f} s; app requests ok {len(served)}/"
        f"{len(probe.outcomes)} ({sum(o.status != 200 for o in after_heal)} failed after the "
        f"host returned)"
    )
    assert new != old
    assert stack.services[new].pinned_node in survivors
    assert (old_role["role"], old_role["master_host"]) == ("slave", new), old_role
    assert old_role["master_link_status"] == "up", old_role
    assert len(log.acknowledged("c")) > 50
    assert not lost_confirmed, [w.key for w in lost_confirmed[:5]]
    assert settled, "no app request between the reschedule and the host's return"
    assert all(o.status == 200 for o in settled), [o.status for o in settled if o.status != 200]


def test_master_host_cut_off_the_network(swarm_stack: SwarmStack, figures: dict[str, str]) -> None:
    _lose_the_master_host(swarm_stack, figures, "a (host cut off)", "cut", "heal")


def test_master_host_engine_stopped(swarm_stack: SwarmStack, figures: dict[str, str]) -> None:
    _lose_the_master_host(swarm_stack, figures, "b (engine stopped)", "stop-node", "start-node")
