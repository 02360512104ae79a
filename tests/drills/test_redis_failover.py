"""Fault drills: the Redis master dies (with all Sentinels, then with one Sentinel down).

dev has one replica and min-replicas-to-write 1, so the promoted replica refuses writes until the
old master is back as its replica: the first drill restarts the old master right after the
promotion (and checks RedisMasterChanged), the second keeps it down until RedisMasterDown fires,
and proves Alertmanager delivered that alert to the stack's alert-receiver and, once the old master
is back, its resolution.

Run against the deployed dev stack (scripts/up dev): pytest tests/drills -m drill.
"""

import time
from collections.abc import Callable

import pytest

from tests.drills.app_client import LOAD_PACE_S, AppClient, ImportLoad, longest_gap
from tests.drills.stack_ops import (
    assert_imported_exactly_once,
    kill,
    redis_role,
    start,
    wait_converged,
    wait_new_master,
)
from tests.infra.deployed import DeployedStack, wait_for
from tests.infra.monitoring import notified

pytestmark = [pytest.mark.drill, pytest.mark.timeout(900)]


def _promotion_bound(dev: DeployedStack) -> float:
    return dev.settings.redis.down_after_ms / 1000 + 3


def _election_retries_bound(dev: DeployedStack) -> float:
    """With two Sentinels left, both ask for votes at once and often split; a failed election is
    retried after 2 x failover-timeout. Allow four rounds: this drill checks that it fails over."""
    redis = dev.settings.redis
    return redis.down_after_ms / 1000 + 4 * 2 * redis.failover_timeout_ms / 1000 + 5


def _redis_block_status(dev: DeployedStack, service: str) -> str:
    report = dev.app_get(service, "/api/health/detailed", token=True).json()
    return str(report["services"]["redis"]["status"])


def _alert_firing(dev: DeployedStack, alert: str) -> Callable[[], list[object] | None]:
    def firing() -> list[object] | None:
        found = dev.promql(f'ALERTS{{alertname="{alert}",alertstate="firing"}}')
        return list(found) or None

    return firing


def _rejoined_as_replica(dev: DeployedStack, service: str, master: str) -> None:
    def replica_of_master() -> bool | None:
        try:
            role = redis_role(dev, service)
        except AssertionError:  # still starting
            return None
        following = f"{role.get('master_host')}:{role.get('master_port')}" == master
        ok = role.get("role") == "slave" and following and role.get("master_link_status") == "up"
        return True if ok else None

    wait_for(f"{service} replicating from {master}", replica_of_master, timeout=90, interval=1)


def test_master_kill_promotes_a_replica_while_imports_go_on(
    dev: DeployedStack, clients: list[AppClient], figures: dict[str, str]
) -> None:
    sentinels = dev.services("redis", command="sentinel")
    old_address = dev.master_address()
    old_master = dev.redis_service_at(old_address)
    web = dev.services("app", command="web")
    seen_redis_status: set[str] = set()

    with ImportLoad(clients) as load:
        time.sleep(2 * LOAD_PACE_S)  # accepted uploads before the fault
        killed_at = kill(dev, old_master)
        try:
            new_address, promoted_at = wait_new_master(dev, old_address, sentinels, timeout=60)

            def redis_not_healthy() -> str | None:
                status = _redis_block_status(dev, web[0])
                seen_redis_status.add(status)
                return status if status != "healthy" else None

            # With its only peer dead, the new master has no replica: the app says degraded.
            wait_for("the app's redis health not healthy", redis_not_healthy, timeout=60)
        finally:
            # dev's new master has no replica until the old one is back, and min-replicas-to-write
            # 1 makes it refuse writes until then: restart the old master right after the
            # promotion (its entrypoint asks the Sentinels and starts as the new master's replica).
            start(dev, old_master)
        restarted = time.monotonic()
        firing = _alert_firing(dev, "RedisMasterChanged")
        wait_for("the RedisMasterChanged alert firing", firing, timeout=120, interval=2)
        wait_for(
            "an upload accepted after the old master's restart",
            lambda: any(o.status == 202 and o.sent > restarted for o in load.outcomes) or None,
            timeout=90,
        )
        _rejoined_as_replica(dev, old_master, new_address)
        wait_for(
            "the app's redis health healthy again",
            lambda: _redis_block_status(dev, web[0]) == "healthy" or None,
            timeout=90,
            interval=1,
        )
        time.sleep(LOAD_PACE_S)
    gap = longest_gap(load.outcomes, killed_at, load.outcomes[-1].answered)
    promotion = promoted_at - killed_at
    refused = sum(1 for o in load.outcomes if o.status != 202)
    figures["redis failover: promotion after master kill"] = (
        f"{promotion:.1f} s (bound {_promotion_bound(dev):.0f} s)"
    )
    figures["redis failover: longest gap between accepted imports"] = (
        f"{gap:.1f} s (uploads every {LOAD_PACE_S} s; {refused} of {len(load.outcomes)} refused)"
    )
    assert promotion <= _promotion_bound(dev)
    assert seen_redis_status - {"healthy"}, seen_redis_status
    assert_imported_exactly_once(dev, load)
    wait_converged(dev)


def test_with_one_sentinel_down_a_second_master_kill_still_fails_over(
    dev: DeployedStack, clients: list[AppClient], figures: dict[str, str]
) -> None:
    sentinels = dev.services("redis", command="sentinel")
    old_address = dev.master_address()
    old_master = dev.redis_service_at(old_address)
    down_sentinel, *alive = sentinels
    kill(dev, down_sentinel)
    try:
        with ImportLoad(clients) as load:
            time.sleep(LOAD_PACE_S)
            killed_wall = time.time()
            killed_at = kill(dev, old_master)
            try:
                new_address, promoted_at = wait_new_master(
                    dev, old_address, alive, timeout=_election_retries_bound(dev)
                )
                # The old master stays down until the alert fires and Alertmanager has delivered
                # it (the first drill restarts it at once); uploads are refused meanwhile, dev's
                # new master having no replica.
                down = _alert_firing(dev, "RedisMasterDown")
                wait_for("the RedisMasterDown alert firing", down, timeout=120, interval=2)
                delivered = wait_for(
                    "RedisMasterDown delivered to the alert-receiver",
                    lambda: notified(dev, "RedisMasterDown", "firing", killed_wall),
                    timeout=60,
                    interval=1,
                )
            finally:
                restarted_wall = time.time()
                start(dev, old_master)
            _rejoined_as_replica(dev, old_master, new_address)
            # Prometheus resolves the alert once it scrapes the node up again; Alertmanager
            # sends the resolution at the group's next interval (dev: 10 s).
            resolved = wait_for(
                "RedisMasterDown resolved at the alert-receiver",
                lambda: notified(dev, "RedisMasterDown", "resolved", restarted_wall),
                timeout=90,
                interval=1,
            )
            time.sleep(2 * LOAD_PACE_S)
    finally:
        start(dev, down_sentinel)
    figures["redis failover with one Sentinel down: promotion"] = (
        f"{promoted_at - killed_at:.1f} s (split votes retried every 2 x failover-timeout)"
    )
    figures["redis failover: RedisMasterDown delivered to the alert-receiver after the kill"] = (
        f"{delivered['received'] - killed_wall:.1f} s"
    )
    figures["redis failover: its resolution delivered after the old master's restart"] = (
        f"{resolved['received'] - restarted_wall:.1f} s"
    )

    def following_new_master() -> bool | None:
        try:
            return dev.master_address(down_sentinel) == new_address or None
        except AssertionError:  # still starting: connection refused
            return None

    # The restarted Sentinel learns the new master from its peers.
    wait_for(f"{down_sentinel} following {new_address}", following_new_master, timeout=60)
    assert_imported_exactly_once(dev, load)
    wait_converged(dev)
