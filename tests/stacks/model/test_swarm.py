"""Platform swarm in the model (issue 16): services addressed by name, placed one Redis data node
and one Sentinel per node, PostgreSQL pinned, the web replicas one per node, and every secret
read from a Docker secret by the rendered launcher (run here with bash on real files)."""

import re
import subprocess
from pathlib import Path

import pytest

from stacks.model import stack_topology
from stacks.model.spec import ConfigFile, Topology, resolve_env
from stacks.model.swarm import (
    LAUNCHER,
    config_name,
    node_constraint,
    render_launcher,
    secret_name,
)


@pytest.fixture(scope="module")
def topology() -> Topology:
    return stack_topology("prod-swarm")


def _node(topology: Topology, service: str) -> str:
    deploy = topology.container(service).deploy
    assert deploy is not None
    (constraint,) = deploy.constraints
    return constraint


def test_each_redis_data_node_and_sentinel_has_a_node_of_its_own(topology: Topology) -> None:
    for role in ("redis", "sentinel"):
        nodes = [_node(topology, f"{role}-{i}") for i in range(3)]
        assert nodes == [node_constraint(n) for n in (1, 2, 3)]


def test_postgres_and_what_mounts_its_volume_stay_on_one_node(topology: Topology) -> None:
    postgres = topology.container("postgres")
    assert _node(topology, "postgres") == node_constraint(1)
    volumes = {m.volume for m in postgres.volumes}
    for spec in topology.containers:
        if volumes & {m.volume for m in spec.volumes}:
            assert _node(topology, spec.service) == node_constraint(1), spec.service


def test_web_replicas_are_one_service_one_task_per_node(topology: Topology) -> None:
    app, worker = topology.container("app"), topology.container("worker")
    assert app.deploy is not None
    assert worker.deploy is not None
    assert (app.deploy.replicas, app.deploy.max_replicas_per_node) == (3, 1)
    assert app.deploy.spread == "node.labels.ha-stack.node"
    assert [(p.host_port, p.container_port) for p in app.ports] == [(8080, 8000)]
    # Two workers fit on the two nodes left after one is lost.
    assert (worker.deploy.replicas, worker.deploy.max_replicas_per_node) == (2, 1)
    assert not [s for s in topology.containers if s.service.startswith(("app-", "worker-"))]


def test_services_are_named_as_docker_stack_deploy_names_them(topology: Topology) -> None:
    for spec in topology.containers:
        assert spec.name == f"ha-prod-swarm_{spec.service}"
        assert spec.ip == spec.service  # its address: the name, no fixed IP


def test_sentinel_and_redis_use_hostnames_on_swarm_and_ips_on_docker(topology: Topology) -> None:
    sentinel = topology.container("sentinel-1").files["/etc/redis/sentinel.conf"].content
    assert "sentinel resolve-hostnames yes\n" in sentinel
    assert "sentinel announce-hostnames yes\n" in sentinel
    assert "sentinel announce-ip sentinel-1\n" in sentinel
    assert "sentinel monitor mymaster redis-0 6379 2\n" in sentinel
    replica = topology.container("redis-2").files["/etc/redis/redis.conf"].content
    assert "replica-announce-ip redis-2\n" in replica
    assert "replicaof redis-0 6379\n" in replica
    prod = stack_topology("prod").container("sentinel-1").files["/etc/redis/sentinel.conf"].content
    assert "sentinel resolve-hostnames no\n" in prod
    assert "sentinel monitor mymaster 172.28.20.10 6379 2\n" in prod


def test_the_app_and_prometheus_address_services_by_name(topology: Topology) -> None:
    env = topology.container("app").env
    assert env["REDIS_SENTINEL_HOSTS"] == "sentinel-0:26379,sentinel-1:26379,sentinel-2:26379"
    assert "@postgres:5432/" in topology.container("app").secret_env["DATABASE_URL"]
    prometheus = topology.container("prometheus").files["/etc/prometheus/prometheus.yml"].content
    assert "- tasks.app\n" in prometheus
    assert "- tasks.worker\n" in prometheus
    assert "redis://redis-0:6379" in prometheus
    assert topology.endpoints["redisSentinelHosts"] == env["REDIS_SENTINEL_HOSTS"]


def test_secrets_reach_the_processes_through_the_launcher_only(topology: Topology) -> None:
    for spec in topology.containers:
        deploy = spec.deploy
        assert deploy is not None
        if not spec.secret_env:
            assert deploy.secrets == ()
            assert LAUNCHER not in spec.files
            continue
        assert spec.command[:2] == ("bash", LAUNCHER), spec.service
        if spec.healthcheck is not None:
            assert spec.healthcheck.argv[:2] == ("bash", LAUNCHER), spec.service
        launcher = spec.files[LAUNCHER].content
        for name in deploy.secrets:
            assert f"$(secret {name})" in launcher
        # No secret is a plain variable: docker inspect shows none.
        assert not set(spec.env) & set(spec.secret_env)


def test_the_launcher_exports_what_the_docker_platform_puts_in_the_environment(
    topology: Topology, tmp_path: Path
) -> None:
    secrets = {
        "REDIS_PASSWORD": "redis-pw-1",
        "REDIS_SENTINEL_PASSWORD": "sentinel-pw-2",
        "POSTGRES_PASSWORD": "postgres.pw_3~x",
        "METRICS_TOKEN": "metrics-token-4-0123",
    }
    for name, value in secrets.items():
        (tmp_path / name).write_text(value)
    spec = topology.container("app")
    script = tmp_path / "launcher"
    script.write_text(render_launcher(spec.secret_env, secrets_dir=str(tmp_path)))
    result = subprocess.run(
        ["bash", str(script), "env"], capture_output=True, text=True, check=True, env={}
    )
    exported = dict(line.split("=", 1) for line in result.stdout.splitlines())
    expected = resolve_env({}, spec.secret_env, secrets)
    assert {key: exported[key] for key in expected} == expected


def test_the_launcher_stops_before_the_command_when_a_secret_is_missing(tmp_path: Path) -> None:
    script = tmp_path / "launcher"
    script.write_text(render_launcher({"X": "a${REDIS_PASSWORD}b"}, secrets_dir=str(tmp_path)))
    result = subprocess.run(
        ["bash", str(script), "echo", "ran"], capture_output=True, text=True, env={}
    )
    assert result.returncode != 0
    assert "ran" not in result.stdout


def test_shell_special_characters_in_templates_stay_literal(tmp_path: Path) -> None:
    (tmp_path / "REDIS_PASSWORD").write_text("pw")
    script = tmp_path / "launcher"
    template = 'a"b\\c`d$$e ${REDIS_PASSWORD}'
    script.write_text(render_launcher({"X": template}, secrets_dir=str(tmp_path)))
    result = subprocess.run(
        ["bash", str(script), "bash", "-c", 'printf %s "$X"'],
        capture_output=True,
        text=True,
        check=True,
        env={},
    )
    assert result.stdout == 'a"b\\c`d$e pw'


def test_health_checks_are_patient_since_swarm_replaces_failing_tasks(topology: Topology) -> None:
    prod = stack_topology("prod")
    for spec in topology.containers:
        check = spec.healthcheck
        if check is None:
            continue
        assert check.timeout_s >= 10, spec.service
        assert check.start_period_s >= 60, spec.service
    # The single-engine stacks keep their own timing.
    docker_check = prod.container("redis-0").healthcheck
    assert docker_check is not None
    assert docker_check.timeout_s == 3


def test_docker_config_and_secret_names_fit_dockers_limit() -> None:
    # The longest stack name the settings allow, and a long rendered path.
    long_file = ConfigFile("grafana/provisioning/datasources/" + "x" * 80 + ".yml", "a")
    prefix = "ha-" + "s" * 31
    names = [config_name(prefix, long_file), secret_name(prefix, "REDIS_SENTINEL_PASSWORD")]
    topology = stack_topology("prod-swarm")
    for spec in topology.containers:
        names += [config_name("ha-prod-swarm", file) for file in spec.files.values()]
    for name in names:
        assert re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}", name), name
    # A changed file is a new config; the same file keeps its name.
    changed = ConfigFile(long_file.source, "b")
    assert config_name(prefix, changed) != config_name(prefix, long_file)
    assert config_name(prefix, long_file) == config_name(prefix, ConfigFile(long_file.source, "a"))
