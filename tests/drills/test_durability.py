"""Durability drills (issue 11): no acknowledged write is lost in a planned switchover, a hand
failover, a network partition, or when a killed master comes back.

Each drill runs a writer through app_support inside an app container (plain SETs and WAIT-confirmed
SETs, every acknowledged key recorded; tests/drills/writers.py) and job enqueues through the app's
HTTP API (ImportLoad), then reads every acknowledged key back from the current master and checks
every accepted import completed exactly once. Figures go to the ``figures`` fixture.

Run against the deployed dev stack (scripts/up dev): pytest tests/drills -m drill. dev has one
replica and min-replicas-to-write 1: whenever the master has no replica (the replica is the new
master and the old one is not back yet) it refuses writes. That is the durability trade-off the
stack makes (README "Durability and failover"), and the drills report the resulting write gaps.
"""

import re
import subprocess
import time

import pytest

from tests.drills.app_client import AppClient, ImportLoad, Probe
from tests.drills.stack_ops import (
    assert_imported_exactly_once,
    kill,
    redis_role,
    start,
    wait_converged,
    wait_new_master,
)
from tests.drills.writers import AppWriter, NodeProbe, NodeWriter, Write, WriteLog, missing_keys
from tests.infra.deployed import REPO_ROOT, DeployedStack, wait_for

pytestmark = [pytest.mark.drill, pytest.mark.timeout(900)]

# Writes before the fault and after the stack serves again, so both sides are covered.
STEADY_S = 3.0


def _replica_of(dev: DeployedStack, service: str, master: str, timeout: float = 90) -> float:
    """Wait until ``service`` replicates from ``master`` (link up); the monotonic time seen."""

    def following() -> float | None:
        try:
            role = redis_role(dev, service)
        except AssertionError:  # not answering yet
            return None
        address = f"{role.get('master_host')}:{role.get('master_port')}"
        up = role.get("role") == "slave" and role.get("master_link_status") == "up"
        return time.monotonic() if up and address == master else None

    return wait_for(f"{service} replicating from {master}", following, timeout, interval=0.2)


def _losses(dev: DeployedStack, *logs: WriteLog) -> tuple[list[Write], list[Write], list[Write]]:
    """(acknowledged writes, lost plain writes, lost WAIT-confirmed writes) over ``logs``."""
    acknowledged = [w for log in logs for w in log.acknowledged()]
    missing = missing_keys(dev, (w.key for w in acknowledged))
    lost = [w for w in acknowledged if w.key in missing]
    return (
        acknowledged,
        [w for w in lost if w.kind == "p"],
        [w for w in lost if w.kind == "c"],
    )


def _span(writes: list[Write]) -> float:
    """Seconds from the first lost write sent to the last one acknowledged (0 with none)."""
    return max(w.done for w in writes) - min(w.sent for w in writes) if writes else 0.0


def _report(
    figures: dict[str, str],
    drill: str,
    acknowledged: list[Write],
    lost_plain: list[Write],
    lost_confirmed: list[Write],
    gap: float,
    rejoin: float,
    extra: str = "",
) -> None:
    plain = sum(1 for w in acknowledged if w.kind == "p")
    confirmed = sum(1 for w in acknowledged if w.kind == "c")
    figures[f"durability {drill}"] = (
        f"acknowledged {plain} plain + {confirmed} confirmed; lost {len(lost_plain)} plain / "
        f"{len(lost_confirmed)} confirmed; write gap {gap:.1f} s; old master a replica after "
        f"{rejoin:.1f} s{extra}"
    )


def test_planned_switchover_loses_no_acknowledged_write(
    dev: DeployedStack, clients: list[AppClient], figures: dict[str, str]
) -> None:
    old = dev.master_address()
    old_service = dev.redis_service_at(old)
    with ImportLoad(clients) as load, AppWriter(dev) as writer:
        time.sleep(STEADY_S)
        started = time.monotonic()
        result = subprocess.run(
            ["scripts/switchover", dev.name],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=180,
        )
        ended = time.monotonic()
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
        time.sleep(STEADY_S)
    new = dev.master_address()
    assert new != old
    role = redis_role(dev, old_service)  # the script made it a replica before unpausing
    assert (role["role"], f"{role['master_host']}:{role['master_port']}") == ("slave", new)
    wait_converged(dev)
    log = writer.log
    acknowledged, lost_plain, lost_confirmed = _losses(dev, log)
    pause = re.search(r"writes paused for (\d+) ms", result.stdout)
    rejoin = re.search(r"link up (\d+) ms after the pause began", result.stdout)
    assert pause, result.stdout
    assert rejoin, result.stdout
    gap = log.longest_gap(started, ended)
    _report(
        figures, "1 planned switchover (scripts/switchover)", acknowledged, lost_plain,
        lost_confirmed, gap, int(rejoin.group(1)) / 1000,
        f"; writes paused {int(pause.group(1)) / 1000:.1f} s; script took {ended - started:.1f} s",
    )  # fmt: skip
    assert len(log.acknowledged("p")) > 100
    assert len(log.acknowledged("c")) > 100
    assert not lost_plain, lost_plain[:5]
    assert not lost_confirmed, lost_confirmed[:5]
    assert_imported_exactly_once(dev, load)
    wait_converged(dev)


def test_hand_failover_loses_no_confirmed_write(
    dev: DeployedStack, clients: list[AppClient], figures: dict[str, str]
) -> None:
    sentinels = dev.services("redis", command="sentinel")
    redis = dev.settings.redis
    old = dev.master_address()
    old_service = dev.redis_service_at(old)
    with ImportLoad(clients) as load, AppWriter(dev) as writer:
        time.sleep(STEADY_S)
        issued = time.monotonic()
        assert dev.redis_cli(sentinels[0], "SENTINEL", "FAILOVER", redis.master_name) == "OK"
        new, _ = wait_new_master(dev, old, sentinels, timeout=60)
        rejoined = _replica_of(dev, old_service, new)
        time.sleep(STEADY_S)
        ended = time.monotonic()
    wait_converged(dev)
    log = writer.log
    acknowledged, lost_plain, lost_confirmed = _losses(dev, log)
    # The old master takes plain writes only while its (promoted) replica's last ack is at most
    # min-replicas-max-lag old; the lag is whole seconds and re-checked once a second.
    bound = redis.min_replicas_max_lag_s + 2
    _report(
        figures, "2 SENTINEL FAILOVER by hand", acknowledged, lost_plain, lost_confirmed,
        log.longest_gap(issued, ended), rejoined - issued,
        f"; lost plain writes span {_span(lost_plain):.1f} s (bound {bound} s)",
    )  # fmt: skip
    assert not lost_confirmed, lost_confirmed[:5]
    assert _span(lost_plain) <= bound, [(w.key, w.sent, w.done) for w in lost_plain[:5]]
    assert_imported_exactly_once(dev, load)
    wait_converged(dev)


def test_partitioned_master_loses_no_confirmed_write(
    dev: DeployedStack, clients: list[AppClient], figures: dict[str, str]
) -> None:
    sentinels = dev.services("redis", command="sentinel")
    old = dev.master_address()
    old_service = dev.redis_service_at(old)
    spec = dev.spec(old_service)
    network = dev.topology.network.name
    down_after = dev.settings.redis.down_after_ms / 1000
    reader, uploaders = clients[-1], clients[:-1] or clients
    with (
        ImportLoad(uploaders) as load,
        AppWriter(dev) as writer,
        NodeWriter(dev, old_service) as node_writer,
        Probe(reader, "/api/auth/me", pace=0.25) as reads,
    ):
        time.sleep(STEADY_S)
        cut = time.monotonic()
        dev.docker("network", "disconnect", network, spec.name)
        try:
            new, promoted = wait_new_master(dev, old, sentinels, timeout=60)
            # Past down-after for certain, and long enough to see the majority side serve.
            time.sleep(max(3.0, 2 * down_after - (time.monotonic() - cut)))
        finally:
            healed = time.monotonic()
            dev.docker(
                "network", "connect", "--ip", spec.ip, "--alias", old_service, network, spec.name
            )
        rejoined = _replica_of(dev, old_service, new)
        time.sleep(STEADY_S)
        ended = time.monotonic()
    wait_converged(dev)
    app_log, node_log = writer.log, node_writer.log
    acknowledged, lost_plain, lost_confirmed = _losses(dev, app_log, node_log)
    node_lost = [w for w in lost_plain if w.key.startswith(node_writer.prefix)]
    # The majority side kept serving reads: every session read after the promotion answered.
    after = [o for o in reads.outcomes if promoted + 1 <= o.sent and o.answered <= healed]
    refused_writes = sum(1 for w in app_log.writes if not w.acknowledged and cut <= w.sent)
    _report(
        figures, "3 network partition of the master", acknowledged, lost_plain, lost_confirmed,
        app_log.longest_gap(cut, ended), rejoined - healed,
        f" after the heal; cut off {healed - cut:.1f} s; {len(node_lost)} of the lost plain "
        f"writes taken by the cut-off master in {_span(node_lost):.1f} s; app writes refused "
        f"while the new master had no replica: {refused_writes}; session reads after the "
        f"promotion: {sum(o.status == 200 for o in after)} of {len(after)} answered 200",
    )  # fmt: skip
    assert not lost_confirmed, lost_confirmed[:5]
    assert len(node_log.acknowledged("c")) > 10, node_log.writes[:5]
    assert after
    assert all(o.status == 200 for o in after), [o.status for o in after]
    assert_imported_exactly_once(dev, load)
    wait_converged(dev)


def test_restarted_old_master_accepts_no_write_as_master(
    dev: DeployedStack, clients: list[AppClient], figures: dict[str, str]
) -> None:
    sentinels = dev.services("redis", command="sentinel")
    old = dev.master_address()
    old_service = dev.redis_service_at(old)
    via = sentinels[-1]
    with ImportLoad(clients) as load, AppWriter(dev) as writer:
        time.sleep(STEADY_S)
        killed = kill(dev, old_service)
        try:
            new, promoted = wait_new_master(dev, old, sentinels, timeout=60)
            # Hammer the old master's address from before it starts to after it rejoined.
            with NodeProbe(dev, old_service, via) as probe:
                started = time.monotonic()
                start(dev, old_service)
                rejoined = _replica_of(dev, old_service, new)
                time.sleep(STEADY_S)
        finally:
            start(dev, old_service)
        ended = time.monotonic()
    wait_converged(dev)
    answers = [a for a in probe.answers if a.role != "-"]
    accepted = [a for a in probe.answers if a.set_reply == "OK"]
    as_master = [a for a in answers if a.role == "master"]
    log = writer.log
    acknowledged, lost_plain, lost_confirmed = _losses(dev, log)
    first = answers[0] if answers else None
    _report(
        figures, "4 killed master restarted", acknowledged, lost_plain, lost_confirmed,
        log.longest_gap(killed, ended), rejoined - started,
        f" after docker start; promotion {promoted - killed:.1f} s; first answer "
        f"{(first.at - started) if first else float('nan'):.1f} s after start as "
        f"{first.role if first else '?'}; {len(answers)} probes answered, {len(as_master)} as "
        f"master, {len(accepted)} SETs accepted",
    )  # fmt: skip
    assert answers, probe.lines[-5:]
    assert not as_master, as_master[:3]
    assert not accepted, accepted[:3]
    assert not lost_confirmed, lost_confirmed[:5]
    assert_imported_exactly_once(dev, load)
    wait_converged(dev)
