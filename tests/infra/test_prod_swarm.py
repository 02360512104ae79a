"""testinfra suite of the prod-swarm stack on the 3-node test cluster (issue 16).

Run by scripts/test-swarm (cluster up, images loaded, stack deployed): or by hand after
``scripts/swarm up && scripts/swarm load-images --from configs/prod-swarm/docker-stack.yml &&
scripts/swarm deploy configs/prod-swarm/docker-stack.yml ha-prod-swarm``:
``pytest tests/infra/test_prod_swarm.py -m infra``. Fails (never skips) when the cluster or the
stack is not there.
"""

from collections import Counter
from typing import Any

import pytest
import yaml

from tests.infra.checks import service_blocks
from tests.infra.deployed import HttpReply, wait_for
from tests.infra.swarm_cluster import SwarmCluster
from tests.infra.swarm_stack import SwarmStack

pytestmark = pytest.mark.infra

# Generous: a loaded 2-core host starts ~17 tasks and runs their health checks slowly.
CONVERGE_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def stack() -> SwarmStack:
    """The deployed stack, every service's tasks running and healthy (bounded wait)."""
    deployed = SwarmStack(SwarmCluster())
    wait_for(
        "every service of the Swarm stack running and healthy",
        lambda: None if deployed.converged() else True,
        timeout=CONVERGE_TIMEOUT_S,
        interval=2,
    )
    return deployed


def test_every_service_runs_its_replicas_healthy(stack: SwarmStack) -> None:
    assert stack.converged() == []


def test_the_cluster_has_three_ready_managers_with_their_labels(stack: SwarmStack) -> None:
    cluster = stack.cluster
    manager = cluster.manager()
    listed = cluster.docker(manager, "node", "ls", "--format", "{{.Hostname}} {{.Status}}")
    assert sorted(listed.split("\n")[:-1]) == sorted(
        f"{node.hostname} Ready" for node in cluster.nodes.values()
    )
    for number, node in cluster.nodes.items():
        label = cluster.docker(
            manager, "node", "inspect", "-f",
            '{{index .Spec.Labels "ha-stack.node"}} {{.Spec.Role}}', node.hostname,
        ).strip()  # fmt: skip
        assert label == f"{number} manager"


def test_redis_data_nodes_and_sentinels_each_on_their_own_node(stack: SwarmStack) -> None:
    for role in ("data", "sentinel"):
        services = stack.of_role(role)
        assert len(services) == 3, services
        placed = {s.name: stack.task(s.name).node for s in services}
        assert len(set(placed.values())) == len(services), f"{role}: {placed}"
        assert placed == {s.name: s.pinned_node for s in services}, placed


def test_app_replicas_are_spread_one_per_node(stack: SwarmStack) -> None:
    web = stack.one("web")
    nodes = Counter(task.node for task in stack.tasks(web.name))
    assert sum(nodes.values()) == web.replicas
    assert max(nodes.values()) == 1, nodes


def test_postgres_runs_on_its_labelled_node(stack: SwarmStack) -> None:
    postgres = stack.one("postgres")
    assert postgres.pinned_node is not None, "postgres must be pinned to the node with its volume"
    assert stack.task(postgres.name).node == postgres.pinned_node


def test_redis_master_has_every_replica_online(stack: SwarmStack) -> None:
    sentinel = stack.task(stack.of_role("sentinel")[0].name)
    master = stack.master(sentinel)
    info = stack.replication(stack.task(master))
    replicas = [v for k, v in info.items() if k.startswith("slave") and k[5:].isdigit()]
    assert info["role"] == "master"
    assert len(replicas) == len(stack.of_role("data")) - 1, info
    assert all("state=online" in r for r in replicas), replicas
    # Replicas announce their service name: what Sentinel and the app connect to.
    names = {r.split(",")[0].removeprefix("ip=") for r in replicas}
    assert names == {s.name for s in stack.of_role("data")} - {master}


def test_sentinels_agree_on_the_master_and_have_quorum(stack: SwarmStack) -> None:
    sentinels = [stack.task(s.name) for s in stack.of_role("sentinel")]
    assert len({stack.master(task) for task in sentinels}) == 1
    for task in sentinels:
        assert stack.redis_cli(task, "SENTINEL", "CKQUORUM", "mymaster").startswith("OK ")


def test_every_service_name_resolves_to_its_tasks_only(stack: SwarmStack) -> None:
    """dnsrr: a name is the addresses of its running tasks, one per single-replica service."""
    probe = stack.task(stack.of_role("sentinel")[0].name)
    for service in stack.services.values():
        addresses = stack.resolve(probe, service.name)
        assert len(addresses) == len(stack.tasks(service.name)), (service.name, addresses)


def _expected_targets(stack: SwarmStack) -> int:
    """Targets the rendered prometheus.yml gives: its static ones plus, for a job that finds a
    service's tasks by DNS (``tasks.<service>``), that service's replicas."""
    prometheus = stack.one("prometheus").name
    config = yaml.safe_load(
        (stack.config_file(prometheus, "/etc/prometheus/prometheus.yml")).read_text()
    )
    expected = 0
    for job in config["scrape_configs"]:
        expected += sum(len(group["targets"]) for group in job.get("static_configs", []))
        for group in job.get("dns_sd_configs", []):
            for name in group["names"]:
                expected += stack.services[name.removeprefix("tasks.")].replicas
    return expected


def test_prometheus_scrapes_every_target(stack: SwarmStack) -> None:
    expected = _expected_targets(stack)

    def all_up() -> list[dict[str, Any]] | None:
        series = stack.promql("up")
        healthy = len(series) == expected and all(s["value"][1] == "1" for s in series)
        return series if healthy else None

    try:
        wait_for(f"{expected} Prometheus targets up", all_up, timeout=120, interval=3)
    except AssertionError as error:
        seen = [
            (s["metric"]["job"], s["metric"]["instance"], s["value"][1]) for s in stack.promql("up")
        ]
        raise AssertionError(f"{error}: {seen}") from None


def _healthy_report(reply: HttpReply) -> dict[str, Any] | None:
    """The detailed report when it says every dependency is healthy, else None. A loaded host
    may mark the system block (cpu) degraded: that is not the stack."""
    report: dict[str, Any] = reply.json()
    if reply.status != 200 or "services" not in report:
        return None
    if set(service_blocks(report).values()) != {"healthy"}:
        return None
    return report if report["status"] in ("healthy", "degraded") else None


def test_every_app_replica_reports_its_dependencies_healthy_through_its_host(
    stack: SwarmStack,
) -> None:
    web = stack.one("web")
    assert web.host_ports, f"{web.name} publishes no host-mode port"
    sentinel = stack.task(stack.of_role("sentinel")[0].name)
    master = stack.master(sentinel)
    token = stack.secret(
        "METRICS_TOKEN", web.name
    )  # the detailed report's sections need it in prod
    for task in stack.tasks(web.name):
        replies: list[HttpReply] = []

        def ask(node: int = task.node, seen: list[HttpReply] = replies) -> dict[str, Any] | None:
            # Checks time out on a host loaded by other stacks: ask again, bounded.
            seen.append(
                stack.http_get(node, web.host_ports[0], "/api/health/detailed", token=token)
            )
            return _healthy_report(seen[-1])

        try:
            report = wait_for(f"node {task.node}: app healthy", ask, timeout=90, interval=2)
        except AssertionError as error:
            raise AssertionError(f"{error}: {replies[-1].body}") from None
        redis = report["services"]["redis"]
        assert redis["mode"] == "sentinel"
        assert redis["master"].split(":")[0] == master
