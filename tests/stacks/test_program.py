"""The Pulumi program under mocks: the exact resource graph of each stack and Redis mode."""

import runpy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import settings as runtime_settings

from stacks.components.images import context_hash
from stacks.model import StackConfigError, stack_topology
from stacks.model.stackfile import REPO_ROOT
from stacks.program import SECRETS_OUTPUT, declare_stack
from tests.stacks.mocked_program import (
    DYNAMIC,
    FAKE_SECRETS,
    REMOTE_IMAGE,
    Declared,
    image_id,
    run_program,
)

Program = Callable[..., Declared]
CONTAINER = "docker:index/container:Container"
VOLUME = "docker:index/volume:Volume"

DEV_CONTAINERS = {
    "ha-dev-redis-0": ("172.28.10.10", "ha-stack/redis:latest"),
    "ha-dev-redis-1": ("172.28.10.11", "ha-stack/redis:latest"),
    "ha-dev-sentinel-0": ("172.28.10.20", "ha-stack/redis:latest"),
    "ha-dev-sentinel-1": ("172.28.10.21", "ha-stack/redis:latest"),
    "ha-dev-sentinel-2": ("172.28.10.22", "ha-stack/redis:latest"),
    "ha-dev-postgres": ("172.28.10.40", "ha-stack/postgres:latest"),
    "ha-dev-postgres-backup": ("172.28.10.41", "ha-stack/postgres:latest"),
    "ha-dev-prometheus": ("172.28.10.50", "ha-stack/prometheus:latest"),
    "ha-dev-redis-exporter": ("172.28.10.51", "ha-stack/redis-exporter:latest"),
    "ha-dev-sentinel-exporter": ("172.28.10.52", "ha-stack/redis-exporter:latest"),
    "ha-dev-postgres-exporter": ("172.28.10.53", "ha-stack/postgres-exporter:latest"),
    "ha-dev-alertmanager": ("172.28.10.54", "ha-stack/alertmanager:latest"),
    "ha-dev-alert-receiver": ("172.28.10.55", "ha-stack/alert-receiver:latest"),
    "ha-dev-app-0": ("172.28.10.100", "ha-stack/app:latest"),
    "ha-dev-app-1": ("172.28.10.101", "ha-stack/app:latest"),
    "ha-dev-worker-0": ("172.28.10.150", "ha-stack/app:latest"),
}
PROD_SERVICES = {
    "redis-0", "redis-1", "redis-2", "sentinel-0", "sentinel-1", "sentinel-2", "postgres",
    "postgres-backup", "prometheus", "redis-exporter", "sentinel-exporter", "postgres-exporter",
    "alertmanager", "alert-receiver", "app-0", "app-1", "app-2", "worker-0", "worker-1",
}  # fmt: skip


def _ip(resource_inputs: dict[str, Any]) -> tuple[str, str]:
    (network,) = resource_inputs["networksAdvanced"]
    return network["name"], network["ipv4Address"]


def test_dev_declares_exactly_its_containers_with_fixed_ips_and_images(program: Program) -> None:
    containers = program("dev").containers
    assert set(containers) == set(DEV_CONTAINERS)
    for name, (ip, image) in DEV_CONTAINERS.items():
        assert _ip(containers[name].inputs) == ("ha-dev", ip), name
        # By the built image's id, not its tag: a rebuilt image (new id) replaces the container.
        directory = image.removeprefix("ha-stack/").removesuffix(":latest")
        assert containers[name].inputs["image"] == image_id(f"ha-dev-images-{directory}"), name
        assert containers[name].inputs["name"] == name


def test_dev_network_volumes_images_and_components(program: Program) -> None:
    declared = program("dev")
    (network,) = declared.of_type("docker:index/network:Network").values()
    assert network.inputs["name"] == "ha-dev"
    assert network.inputs["ipamConfigs"] == [{"subnet": "172.28.10.0/24", "gateway": "172.28.10.1"}]
    volumes = declared.of_type(VOLUME)
    assert set(volumes) == {
        f"ha-dev-{s}-data"
        for s in (
            *("redis-0", "redis-1", "sentinel-0", "sentinel-1", "sentinel-2"),
            *("postgres", "postgres-backup", "prometheus"),
        )
    } | {"ha-dev-postgres-socket"}  # shared by PostgreSQL and postgres-backup
    assert not any(v.opts and v.opts.protect for v in volumes.values())
    images = declared.of_type(REMOTE_IMAGE)
    assert {i.inputs["name"] for i in images.values()} == {
        f"ha-stack/{n}:latest"
        for n in (
            *("redis", "postgres", "prometheus", "alertmanager", "alert-receiver"),
            *("redis-exporter", "postgres-exporter", "app"),
        )
    }
    for image in images.values():
        directory = image.name.removeprefix("ha-dev-images-")
        context = REPO_ROOT / ("build/images/app" if directory == "app" else f"images/{directory}")
        assert image.inputs["build"] == {
            "context": str(context),
            "dockerfile": "Dockerfile",
            "buildArgs": {"BASE_IMAGE": "debian:bookworm-slim"},
            # The Dockerfiles run apt-get: without the host network the build has none.
            "networkMode": "host",
            # The legacy builder (there is no buildx here).
            "version": "1",
        }, image.name
        # Rebuilt (and its containers replaced) exactly when its context changes.
        assert image.inputs["triggers"] == {
            "context": context_hash(context),
            "baseImage": "debian:bookworm-slim",
        }
        assert image.inputs["keepLocally"] is True
        assert image.parent_type == "ha-stack:index:Images"
    components = {r.typ for r in declared.resources if r.typ.startswith("ha-stack:index:")}
    assert components == {
        f"ha-stack:index:{c}"
        for c in (
            *("Secrets", "Images", "Network", "RedisGroup", "Postgres", "Monitoring"),
            "AppService",
        )
    }


def test_containers_belong_to_their_component_and_are_replaced_delete_first(
    program: Program,
) -> None:
    parents = {
        "redis-0": "RedisGroup", "sentinel-2": "RedisGroup", "postgres": "Postgres",
        "prometheus": "Monitoring", "postgres-exporter": "Monitoring", "app-1": "AppService",
        "worker-0": "AppService",
    }  # fmt: skip
    containers = program("dev").containers
    for service, component in parents.items():
        container = containers[f"ha-dev-{service}"]
        assert container.parent_type == f"ha-stack:index:{component}"
        assert container.opts is not None
        assert container.opts.delete_before_replace is True


def _names(resources: object) -> set[str]:
    # Resource objects do not expose their name in public: _name is the SDK's own attribute.
    return {r._name for r in resources or []}  # type: ignore[attr-defined]


def test_each_container_waits_for_what_it_depends_on_and_its_volumes(program: Program) -> None:
    for stack, mode in (("dev", None), ("dev", "cluster"), ("prod", None)):
        topology = stack_topology(stack, {"ha-stack:redisMode": mode} if mode else {})
        containers = program(stack, mode).containers
        for spec in topology.containers:
            opts = containers[spec.name].opts
            assert opts is not None
            expected = {topology.container(s).name for s in spec.depends_on}
            expected |= {m.volume for m in spec.volumes}
            assert _names(opts.depends_on) == expected, spec.name
    # Dependencies across components too: the app starts after Redis and PostgreSQL.
    app = program("dev").containers["ha-dev-app-0"].opts
    assert app is not None
    assert {"ha-dev-postgres", "ha-dev-redis-0"} <= _names(app.depends_on)


def test_pulumi_waits_for_each_health_check_long_enough(program: Program) -> None:
    topology = stack_topology("prod")
    containers = program("prod").containers
    for spec in topology.containers:
        inputs = containers[spec.name].inputs
        check = spec.healthcheck
        if check is None:
            assert inputs["wait"] is False, spec.name
            continue
        # Docker declares a container unhealthy after start period + retries x interval; Pulumi
        # waits that long plus a minute, so a slow start is not reported as a failed deployment.
        assert inputs["wait"] is True, spec.name
        budget = check.start_period_s + check.retries * check.interval_s + 60
        assert inputs["waitTimeout"] == budget, spec.name


def test_network_is_deleted_before_its_replacement_and_volumes_sit_in_their_component(
    program: Program,
) -> None:
    declared = program("dev", "cluster")
    (network,) = declared.of_type("docker:index/network:Network").values()
    # A fixed name and subnet: two networks cannot exist side by side.
    assert network.opts is not None
    assert network.opts.delete_before_replace is True
    assert network.parent_type == "ha-stack:index:Network"
    for stack in ("dev", "prod"):
        for name, volume in program(stack).of_type(VOLUME).items():
            service = name.removeprefix(f"ha-{stack}-").removesuffix("-data")
            component = declared_component(service)
            assert volume.parent_type == f"ha-stack:index:{component}", name


def declared_component(service: str) -> str:
    if service.startswith(("redis", "sentinel")):
        return "RedisGroup"
    if service.startswith("postgres"):  # its data, its socket, its backup repository
        return "Postgres"
    return {"prometheus": "Monitoring"}[service]


def test_prod_stack_shape_protection_and_publication(program: Program) -> None:
    declared = program("prod")
    assert set(declared.containers) == {f"ha-prod-{s}" for s in PROD_SERVICES}
    volumes = declared.of_type(VOLUME)
    assert len(volumes) == 10
    assert all(v.opts is not None and v.opts.protect for v in volumes.values())
    published = {
        name: c.inputs["ports"] for name, c in declared.containers.items() if c.inputs.get("ports")
    }
    assert published == {
        f"ha-prod-app-{i}": [
            {"internal": 8000, "external": 8080 + i, "ip": "0.0.0.0", "protocol": "tcp"}
        ]
        for i in range(3)
    }
    for container in declared.containers.values():
        assert _ip(container.inputs)[1].startswith("172.28.20.")


def test_dev_publishes_only_on_loopback(program: Program) -> None:
    ports = {
        name: [(p["ip"], p["external"], p["internal"]) for p in c.inputs.get("ports", [])]
        for name, c in program("dev").containers.items()
        if c.inputs.get("ports")
    }
    assert ports == {
        "ha-dev-app-0": [("127.0.0.1", 8000, 8000)],
        "ha-dev-app-1": [("127.0.0.1", 8001, 8000)],
        "ha-dev-prometheus": [("127.0.0.1", 9090, 9090)],
        "ha-dev-postgres": [("127.0.0.1", 55432, 5432)],
    }


def test_standalone_mode_keeps_redis_0_address_and_volume(program: Program) -> None:
    standalone, sentinel = program("dev", "standalone"), program("dev")
    redis = {n for n in standalone.containers if "redis" in n or "sentinel" in n}
    assert redis == {"ha-dev-redis-0", "ha-dev-redis-exporter"}
    for declared in (standalone, sentinel):
        node = declared.containers["ha-dev-redis-0"].inputs
        assert _ip(node) == ("ha-dev", "172.28.10.10")
        assert node["volumes"] == [{"volumeName": "ha-dev-redis-0-data", "containerPath": "/data"}]


def test_cluster_mode_declares_six_nodes_and_a_one_shot_init(program: Program) -> None:
    containers = program("dev", "cluster").containers
    nodes = {f"ha-dev-redis-cluster-{i}" for i in range(6)}
    redis = {n for n in containers if n.startswith(("ha-dev-redis", "ha-dev-sentinel"))}
    assert redis == nodes | {"ha-dev-redis-cluster-init", "ha-dev-redis-exporter"}
    init = containers["ha-dev-redis-cluster-init"].inputs
    assert init["command"] == [
        "redis-entrypoint", "cluster-init", *(f"172.28.10.{30 + i}:6379" for i in range(6))
    ]  # fmt: skip
    assert init["mustRun"] is False
    assert init["restart"] == "on-failure"
    for i in range(6):
        conf = containers[f"ha-dev-redis-cluster-{i}"].inputs["uploads"][0]["content"]
        assert "cluster-enabled yes\n" in conf
        assert f"cluster-announce-ip 172.28.10.{30 + i}\n" in conf


def test_stack_outputs_name_every_endpoint(program: Program) -> None:
    declared = program("dev")
    assert declared.secret_outputs == {SECRETS_OUTPUT: True}
    outputs = dict(declared.outputs)
    assert outputs.pop(SECRETS_OUTPUT) == {
        "REDIS_PASSWORD": "redis-pw-1",
        "REDIS_SENTINEL_PASSWORD": "sentinel-pw-2",
        "POSTGRES_PASSWORD": "postgres-pw-3",
        "METRICS_TOKEN": "metrics-token-4-0123",
    }
    assert outputs == {
        "network": "ha-dev",
        "subnet": "172.28.10.0/24",
        "redisMode": "sentinel",
        "redisSentinelHosts": "172.28.10.20:26379,172.28.10.21:26379,172.28.10.22:26379",
        "redisMasterName": "mymaster",
        "postgresAddress": "172.28.10.40:5432",
        "prometheusUrl": "http://172.28.10.50:9090",
        "appUrls": "http://172.28.10.100:8000,http://172.28.10.101:8000",
        "appPublishedUrls": "http://127.0.0.1:8000,http://127.0.0.1:8001",
        "prometheusPublishedUrl": "http://127.0.0.1:9090",
        "postgresPublishedAddress": "127.0.0.1:55432",
    }
    assert program("prod").outputs["appPublishedUrls"] == ",".join(
        f"http://0.0.0.0:{8080 + i}" for i in range(3)
    )


def test_unset_secrets_are_generated_and_stay_secret(program: Program) -> None:
    declared = program("dev", secrets=False)
    generated = declared.of_type(DYNAMIC)
    assert set(generated) == {
        f"ha-dev-secrets-{key}"
        for key in ("redisPassword", "redisSentinelPassword", "postgresPassword", "metricsToken")
    }
    for resource in generated.values():
        assert resource.inputs["length"] == 32
        assert resource.parent_type == "ha-stack:index:Secrets"
        # Encrypted in the state (the provider's output is plain until marked).
        assert resource.opts is not None
        assert resource.opts.additional_secret_outputs == ["value"]
    env = dict(e.split("=", 1) for e in declared.containers["ha-dev-app-0"].plain("envs"))
    assert env["REDIS_PASSWORD"] == "generated-ha-dev-secrets-redisPassword"
    # The mocked provider returns plain values: the component itself must make them secret.
    assert declared.secret_values == dict.fromkeys(
        ("REDIS_PASSWORD", "REDIS_SENTINEL_PASSWORD", "POSTGRES_PASSWORD", "METRICS_TOKEN"), True
    )
    assert all(declared.env_secret.values())
    assert len(declared.env_secret) == 16
    assert all(c.is_secret("envs") for c in declared.containers.values())


def test_invalid_config_fails_before_any_resource_is_declared() -> None:
    with pytest.raises(StackConfigError, match=r"ha-stack:sentinelQuorum.*pulumi config set"):
        run_program("dev", {"ha-stack:sentinelQuorum": 4})
    with pytest.raises(StackConfigError, match="ha-stack:redisMode"):
        declare_stack("dev", {"ha-stack:redisMode": "replicated"})


def test_a_configured_secret_that_is_not_url_safe_fails_naming_its_key() -> None:
    secrets = {**FAKE_SECRETS, "ha-stack:postgresPassword": "p@ss/word"}
    # Pulumi wraps the error of the resource input that carried the value; the message stays.
    with pytest.raises(ValueError, match=r"ha-stack:postgresPassword: a secret must be"):
        run_program("dev", None, secrets)


def test_main_file_runs_the_program_from_the_stacks_directory() -> None:
    recorded: list[str] = []

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(
            self, args: pulumi.runtime.MockResourceArgs
        ) -> tuple[str, dict[str, object]]:
            recorded.append(args.name)
            return f"{args.name}-id", dict(args.inputs)

        def call(
            self, args: pulumi.runtime.MockCallArgs
        ) -> tuple[dict[str, object], list[tuple[str, str]] | None]:
            return {}, None

    runtime_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(Mocks(), project="ha-stack", stack="prod", preview=False)
    pulumi.runtime.set_all_config({"ha-stack:appReplicas": "1", "ha-stack:appWorkers": "0"})
    main_file = Path(__file__).resolve().parents[2] / "stacks" / "__main__.py"

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run() -> None:
        runpy.run_path(str(main_file), run_name="__main__")

    run()
    assert "ha-prod-app-0" in recorded
    assert not any(name.startswith(("ha-prod-app-1", "ha-prod-worker")) for name in recorded)
