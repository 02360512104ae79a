"""The Pulumi program under mocks for the dev-cluster stack (Pulumi.dev-cluster.yaml): six cluster
nodes and a one-shot init on their own subnet, published next to dev and prod, the app in cluster
mode with the stack's short node-timeout behind its retry deadline."""

from collections.abc import Callable

from tests.stacks.mocked_program import Declared

Program = Callable[..., Declared]
NODES = [f"172.28.30.{30 + i}:6379" for i in range(6)]


def test_dev_cluster_declares_six_nodes_an_init_job_and_no_sentinel(program: Program) -> None:
    containers = program("dev-cluster").containers
    assert {n for n in containers if "sentinel" in n} == set()
    for i, address in enumerate(NODES):
        node = containers[f"ha-dev-cluster-redis-cluster-{i}"].inputs
        assert node["networksAdvanced"][0]["ipv4Address"] == address.split(":")[0]
        conf = node["uploads"][0]["content"]
        assert "cluster-node-timeout 3000\n" in conf
    init = containers["ha-dev-cluster-redis-cluster-init"].inputs
    assert init["command"] == ["redis-entrypoint", "cluster-init", *NODES]
    # One-shot: Pulumi neither waits for it to be healthy nor keeps it running.
    assert init["mustRun"] is False
    assert init["wait"] is False


def test_dev_cluster_app_runs_in_cluster_mode_with_the_node_timeout_deadline(
    program: Program,
) -> None:
    containers = program("dev-cluster").containers
    for name in ("ha-dev-cluster-app-0", "ha-dev-cluster-worker-0"):
        env = dict(e.split("=", 1) for e in containers[name].plain("envs"))
        assert env["REDIS_MODE"] == "cluster"
        assert env["REDIS_CLUSTER_NODES"] == ",".join(NODES)
        # 2 x node-timeout (3000 ms) + 2 s (stacks.model.app_contract.cluster_retry_deadline_ms).
        assert env["REDIS_RETRY_DEADLINE"] == "8000"


def test_dev_cluster_publishes_beside_dev_and_prod(program: Program) -> None:
    outputs = program("dev-cluster").outputs
    assert outputs["network"] == "ha-dev-cluster"
    assert outputs["subnet"] == "172.28.30.0/24"
    assert outputs["redisMode"] == "cluster"
    assert outputs["appPublishedUrls"] == "http://127.0.0.1:8100"
    assert outputs["prometheusPublishedUrl"] == "http://127.0.0.1:9190"
    assert outputs["postgresPublishedAddress"] == "127.0.0.1:55532"
    dev = program("dev").outputs
    for key in ("appPublishedUrls", "prometheusPublishedUrl", "postgresPublishedAddress"):
        assert set(str(outputs[key]).split(",")).isdisjoint(str(dev[key]).split(","))
