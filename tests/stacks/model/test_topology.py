"""The topology both deployers consume: addresses, names, dependencies, secret templates."""

import ipaddress

import pytest

from stacks.model import StackConfigError, build_topology, load_settings, stack_topology
from stacks.model.spec import CONFIG_DIGEST_LABEL, SECRET_NAMES, ContainerSpec, secret_references


@pytest.mark.parametrize("mode", ["standalone", "sentinel", "cluster"])
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_container_has_a_unique_fixed_ip_inside_the_subnet(stack: str, mode: str) -> None:
    topology = stack_topology(stack, {"ha-stack:redisMode": mode})
    subnet = ipaddress.IPv4Network(topology.network.subnet)
    ips = [spec.ip for spec in topology.containers]
    assert len(set(ips)) == len(ips)
    assert all(ipaddress.IPv4Address(ip) in subnet for ip in ips)
    assert topology.network.gateway not in ips
    names = [spec.name for spec in topology.containers]
    assert len(set(names)) == len(names)
    assert all(name.startswith(f"ha-{stack}-") for name in names)


def test_a_larger_subnet_is_used_as_configured() -> None:
    topology = build_topology(load_settings("dev", {"ha-stack:subnet": "10.77.0.0/16"}))
    assert topology.container("redis-0").ip == "10.77.0.10"
    assert topology.network.gateway == "10.77.0.1"


def test_dependencies_point_at_earlier_containers() -> None:
    for mode in ("standalone", "sentinel", "cluster"):
        seen: set[str] = set()
        for spec in stack_topology("dev", {"ha-stack:redisMode": mode}).containers:
            assert set(spec.depends_on) <= seen, spec.name
            seen.add(spec.service)


def test_secret_templates_reference_only_stack_secrets() -> None:
    topology = stack_topology("prod")
    used = set().union(
        *(secret_references(t) for c in topology.containers for t in c.secret_env.values())
    )
    assert used == set(SECRET_NAMES)
    with pytest.raises(ValueError, match="unknown secrets"):
        secret_references("${DB_PASSWORD}")


def test_a_secret_cannot_slip_into_plain_env() -> None:
    with pytest.raises(ValueError, match="looks like a secret"):
        ContainerSpec(
            service="x", name="ha-dev-x", group="app", image="i", command=("c",), ip="1.2.3.4",
            user="app", env={"DATABASE_URL": "postgresql://app:${POSTGRES_PASSWORD}@db/app"},
        )  # fmt: skip


def test_clashing_host_ports_are_a_config_error() -> None:
    with pytest.raises(StackConfigError, match="ha-stack:appHostPort"):
        build_topology(
            load_settings(
                "dev",
                {"ha-stack:publish": '["app","prometheus"]', "ha-stack:appHostPort": "9089"},
            )
        )


def test_images_are_the_kit_images() -> None:
    topology = stack_topology("dev")
    assert dict(topology.images) == {
        name: f"ha-stack/{name}:latest"
        for name in (
            "redis",
            "postgres",
            "prometheus",
            "alertmanager",
            "alert-receiver",
            "redis-exporter",
            "postgres-exporter",
            "app",
        )
    }
    assert {c.image for c in topology.containers} == set(topology.images.values())


def test_redis_0_config_changes_with_the_mode_so_its_writable_copy_is_remade() -> None:
    # The entrypoint keeps /data/redis.conf (Sentinel may have added replicaof) until the source
    # changes; switching sentinel -> standalone must therefore change the source.
    def conf(mode: str) -> str:
        spec = stack_topology("dev", {"ha-stack:redisMode": mode}).container("redis-0")
        return spec.files["/etc/redis/redis.conf"].content

    assert conf("standalone") != conf("sentinel")
    assert "replicaof" not in conf("standalone")
    assert "replicaof" not in conf("sentinel")


def test_config_digest_label_follows_the_config_files() -> None:
    """Compose recreates a container only when its service changes: the label carries the files."""
    dev = stack_topology("dev")
    sentinel = dev.container("sentinel-0")
    assert set(sentinel.labels) == {CONFIG_DIGEST_LABEL}
    assert dev.container("postgres-exporter").labels == {}  # no config file, no label
    again = stack_topology("dev").container("sentinel-0")
    assert again.labels == sentinel.labels
    changed = stack_topology("dev", {"ha-stack:sentinelDownAfterMs": 3000}).container("sentinel-0")
    assert changed.labels != sentinel.labels


def test_sentinel_data_nodes_refuse_writes_no_replica_follows() -> None:
    # Every data node, replicas too: a replica becomes master in a failover.
    topology = stack_topology("prod")
    for service in ("redis-0", "redis-1", "redis-2"):
        spec = topology.container(service)
        conf = spec.files["/etc/redis/redis.conf"].content
        assert "\nmin-replicas-to-write 1\n" in conf
        assert "\nmin-replicas-max-lag 5\n" in conf
        # The entrypoint asks the Sentinels for the current master before it starts.
        assert spec.env["REDIS_SENTINEL_HOSTS"] == topology.endpoints["redisSentinelHosts"]
        assert spec.env["REDIS_MASTER_NAME"] == "mymaster"
        assert spec.secret_env["REDIS_SENTINEL_PASSWORD"] == "${REDIS_SENTINEL_PASSWORD}"
    standalone = stack_topology("prod", {"ha-stack:redisMode": "standalone"}).container("redis-0")
    assert "min-replicas" not in standalone.files["/etc/redis/redis.conf"].content
    assert "REDIS_SENTINEL_HOSTS" not in standalone.env


@pytest.mark.parametrize(
    ("mode", "wait"), [("sentinel", "1"), ("cluster", "1"), ("standalone", "0")]
)
def test_app_waits_for_a_replica_where_one_exists(mode: str, wait: str) -> None:
    app = stack_topology("dev", {"ha-stack:redisMode": mode}).container("app-0")
    assert (app.env["REDIS_WAIT_REPLICAS"], app.env["REDIS_WAIT_TIMEOUT"]) == (wait, "1000")
