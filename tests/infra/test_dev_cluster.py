"""testinfra suite of the deployed dev-cluster stack (Redis Cluster mode):
scripts/up dev-cluster; pytest tests/infra/test_dev_cluster.py.

The checks every stack passes come from StackChecks; the Sentinel ones are replaced by the
cluster's: every slot served, one replica per master, masters on distinct containers, every node
scraped by Prometheus, and the app in cluster mode with a retry deadline that covers a failover.
The one-shot ``redis-cluster-init`` container is checked as done (exited 0), not as running.
"""

from typing import Any

import pytest

from stacks.model import ContainerSpec
from stacks.model.app_contract import cluster_retry_deadline_ms
from tests.infra.checks import StackChecks, service_blocks
from tests.infra.cluster_nodes import cluster_info, cluster_nodes, data_nodes
from tests.infra.deployed import DeployedStack, wait_for

pytestmark = pytest.mark.infra

SLOTS = 16384
INIT = "redis-cluster-init"


def _one_shot(container: ContainerSpec) -> bool:
    return container.service == INIT


class TestDevClusterStack(StackChecks):
    STACK = "dev-cluster"

    # -- containers: the init job is done, not running ----------------------------------------
    def test_container_runs_its_image_command_and_address(
        self, deployed: DeployedStack, container: ContainerSpec
    ) -> None:
        if not _one_shot(container):
            super().test_container_runs_its_image_command_and_address(deployed, container)
            return
        info = deployed.inspect(container.service)
        assert (info["State"]["Status"], info["State"]["ExitCode"]) == ("exited", 0)
        assert tuple(info["Config"]["Cmd"]) == container.command
        assert info["HostConfig"]["RestartPolicy"]["Name"] == "on-failure"

    def test_container_runs_as_its_non_root_user(
        self, deployed: DeployedStack, container: ContainerSpec
    ) -> None:
        if not _one_shot(container):
            super().test_container_runs_as_its_non_root_user(deployed, container)
            return
        # It has exited: nothing to exec into; the user it ran as is in its config.
        assert deployed.inspect(container.service)["Config"]["User"] == container.user

    # -- Redis Cluster (instead of the Sentinel checks) ----------------------------------------
    def test_redis_master_has_its_replicas_online(self, deployed: DeployedStack) -> None:
        """One replica per master, linked, and every node agrees on the shape."""
        for service in data_nodes(deployed):
            nodes = cluster_nodes(deployed, service)
            assert len(nodes) == 6, service
            assert all(n.link == "connected" and not n.failing for n in nodes), nodes
            masters = [n for n in nodes if n.master and n.slots]
            assert len(masters) == 3, nodes
            for master in masters:
                replicas = [n for n in nodes if n.master_id == master.node_id]
                assert len(replicas) == 1, (master, nodes)
                assert replicas[0].ip != master.ip
            for replica in (n for n in nodes if not n.master):
                role = deployed.redis_cli(deployed.redis_service_at(replica.ip), "ROLE")
                assert role.splitlines()[0] == "slave"
                assert "connected" in role, role

    def test_sentinels_agree_on_the_master_and_have_quorum(self, deployed: DeployedStack) -> None:
        """Cluster mode has no Sentinel: every slot is served, as every node reports."""
        assert deployed.services("redis", command="sentinel") == []
        for service in data_nodes(deployed):
            info = cluster_info(deployed, service)
            assert info["cluster_state"] == "ok", (service, info)
            assert info["cluster_slots_assigned"] == str(SLOTS), (service, info)
            assert info["cluster_slots_ok"] == str(SLOTS), (service, info)
            assert info["cluster_known_nodes"] == "6", (service, info)
            assert info["cluster_size"] == "3", (service, info)

    def test_redis_nodes_refuse_writes_no_replica_follows(self, deployed: DeployedStack) -> None:
        """Masters sit on three distinct containers whose slots together cover every slot; the
        app waits for a replica and retries through a failover (2 x node-timeout + 2 s)."""
        nodes = cluster_nodes(deployed, data_nodes(deployed)[0])
        masters = [n for n in nodes if n.master and n.slots]
        services = {deployed.redis_service_at(m.ip) for m in masters}
        assert len(services) == 3, masters
        assert len({deployed.inspect(s)["Id"] for s in services}) == 3
        covered: set[int] = set()
        for master in masters:
            for span in master.slots:
                low, _, high = span.partition("-")
                covered |= set(range(int(low), int(high or low) + 1))
        assert covered == set(range(SLOTS))
        redis = deployed.settings.redis
        for service in deployed.services("app"):
            env = dict(e.split("=", 1) for e in deployed.inspect(service)["Config"]["Env"])
            assert env["REDIS_MODE"] == "cluster", service
            assert env["REDIS_WAIT_REPLICAS"] == str(redis.app_wait_replicas), service
            deadline = cluster_retry_deadline_ms(redis.cluster_node_timeout_ms)
            assert env["REDIS_RETRY_DEADLINE"] == str(deadline), service

    def test_a_key_in_every_masters_slots_reads_back_from_its_replica(
        self, deployed: DeployedStack
    ) -> None:
        """Writes land on the slot's master (redis-cli -c follows MOVED) and replicate."""
        first = data_nodes(deployed)[0]
        nodes = cluster_nodes(deployed, first)
        by_id = {n.node_id: n for n in nodes}
        for tag in ("a", "b", "c", "d", "e", "f"):
            key = f"infra:{{{tag}}}:probe"

            def written(key: str = key, tag: str = tag) -> bool | None:
                # A loaded host can make a node miss node-timeout and the cluster fail over:
                # CLUSTERDOWN for that moment. The write must succeed, not at the first try.
                out = deployed.sh(first, "redis-cli -c --no-auth-warning SET %s %s", key, tag)
                return True if out.strip() == "OK" else None

            wait_for(f"SET {key} acknowledged", written, timeout=60)
            slot = int(deployed.redis_cli(first, "CLUSTER", "KEYSLOT", key))
            master = next(n for n in nodes if n.master and _holds(n, slot))
            replica = next(n for n in nodes if by_id.get(n.master_id) == master)
            replica_service = deployed.redis_service_at(replica.ip)

            def replicated(
                service: str = replica_service, key: str = key, tag: str = tag
            ) -> bool | None:
                # READONLY: a replica answers reads of its master's slots instead of MOVED.
                got = deployed.sh(
                    service,
                    "printf 'READONLY\\nGET %%s\\n' %s | redis-cli --no-auth-warning",
                    key,
                )
                return True if got.split()[-1:] == [tag] else None

            wait_for(f"{key} on the replica {replica_service}", replicated, timeout=30)

    # -- Prometheus: every node scraped --------------------------------------------------------
    def test_prometheus_scrapes_every_cluster_node(self, deployed: DeployedStack) -> None:
        expected = set(data_nodes(deployed))

        def every_node_up() -> list[dict[str, Any]] | None:
            series = deployed.promql('up{job="redis"}')
            up = {s["metric"]["service"] for s in series if s["value"][1] == "1"}
            return series if up == expected else None

        wait_for("every cluster node scraped and up", every_node_up, timeout=60, interval=2)
        # The exporter reaches each node as a cluster member (its INFO says cluster_enabled).
        enabled = deployed.promql('redis_cluster_enabled{job="redis"} == 1')
        assert {s["metric"]["service"] for s in enabled} == expected

    # -- the app ------------------------------------------------------------------------------
    def test_app_reports_the_cluster_healthy(self, deployed: DeployedStack) -> None:
        for service in deployed.services("app", command="web"):

            def healthy(service: str = service) -> dict[str, Any] | None:
                report: dict[str, Any] = deployed.app_get(
                    service, "/api/health/detailed", token=True
                ).json()
                statuses = set(service_blocks(report).values())
                return report if statuses == {"healthy"} else None

            report = wait_for(f"{service} healthy", healthy, timeout=60, interval=2)
            redis = report["services"]["redis"]
            assert redis["mode"] == "cluster"
            assert redis["cluster_state"] == "ok"
            assert (redis["nodes"], redis["replicas"], len(redis["masters"])) == (6, 3, 3)


def _holds(node: Any, slot: int) -> bool:
    for span in node.slots:
        if span.startswith("["):  # a slot being migrated or imported
            continue
        low, _, high = span.partition("-")
        if int(low) <= slot <= int(high or low):
            return True
    return False
