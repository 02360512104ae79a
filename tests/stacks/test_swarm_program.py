"""The platform swarm Pulumi program (stacks.swarm_program) under Pulumi's mocks: Swarm services
in their components, an overlay network, Docker secrets and configs, nothing of the single-engine
program (no containers, volumes or image builds), and stacks/__main__.py picking it by platform."""

from typing import Any

import pulumi
import pytest
from pulumi.runtime import settings as runtime_settings

from stacks.model import StackConfigError, stack_topology
from stacks.program import main
from tests.stacks.mocked_program import (
    DYNAMIC,
    FAKE_SECRETS,
    Declared,
    pulumi_config,
    run_swarm_program,
)

STACK = "prod-swarm"
GROUPS = {
    "ha-stack:index:RedisServices",
    "ha-stack:index:PostgresService",
    "ha-stack:index:MonitoringServices",
    "ha-stack:index:AppServices",
}


@pytest.fixture(scope="module")
def declared() -> Declared:
    return run_swarm_program(STACK, None, FAKE_SECRETS)


def test_one_service_per_model_service_and_nothing_single_engine(declared: Declared) -> None:
    topology = stack_topology(STACK)
    assert set(declared.services) == {spec.name for spec in topology.containers}
    types = {r.typ for r in declared.resources}
    for single_engine in ("container:Container", "volume:Volume", "remoteImage:RemoteImage"):
        assert f"docker:index/{single_engine}" not in types


def test_resources_sit_in_their_components(declared: Declared) -> None:
    for service in declared.services.values():
        assert service.parent_type in GROUPS, service.name
    for typ in ("docker:index/secret:Secret", "docker:index/serviceConfig:ServiceConfig"):
        for resource in declared.of_type(typ).values():
            assert resource.parent_type == "ha-stack:index:SwarmObjects", resource.name
    (network,) = declared.of_type("docker:index/network:Network").values()
    assert network.parent_type == "ha-stack:index:OverlayNetwork"
    assert (network.inputs["driver"], network.inputs["attachable"]) == ("overlay", True)


def _placement(service: Any) -> dict[str, Any]:
    placement: dict[str, Any] = service.inputs["taskSpec"]["placement"]
    return placement


def test_services_run_without_vips_with_host_ports_and_placement(declared: Declared) -> None:
    services = declared.services
    for name, service in services.items():
        endpoint = service.inputs["endpointSpec"]
        assert endpoint["mode"] == "dnsrr", name
        assert all(p["publishMode"] == "host" for p in endpoint["ports"]), name
        (network,) = service.inputs["taskSpec"]["networksAdvanceds"]
        assert network["aliases"] == [name.split("_", 1)[1]]
        assert service.inputs["convergeConfig"]["timeout"] == "10m"
    for i in range(3):
        for role in ("redis", "sentinel"):
            placement = _placement(services[f"ha-prod-swarm_{role}-{i}"])
            assert placement["constraints"] == [f"node.labels.ha-stack.node == {i + 1}"]
    app = services["ha-prod-swarm_app"]
    assert int(app.inputs["mode"]["replicated"]["replicas"]) == 3
    assert int(_placement(app)["maxReplicas"]) == 1
    assert _placement(app)["prefs"] == ["spread=node.labels.ha-stack.node"]
    ports = app.inputs["endpointSpec"]["ports"]
    assert [(int(p["publishedPort"]), int(p["targetPort"])) for p in ports] == [(8080, 8000)]
    assert _placement(services["ha-prod-swarm_postgres"])["constraints"] == [
        "node.labels.ha-stack.node == 1"
    ]


def test_no_secret_value_is_in_a_service_definition(declared: Declared) -> None:
    for name, service in declared.services.items():
        text = repr(service.inputs)
        for value in FAKE_SECRETS.values():
            assert value not in text, name


def test_outputs_name_the_services_by_dns_name(declared: Declared) -> None:
    outputs = declared.outputs
    assert outputs["redisSentinelHosts"] == "sentinel-0:26379,sentinel-1:26379,sentinel-2:26379"
    assert outputs["postgresAddress"] == "postgres:5432"
    assert outputs["network"] == "ha-prod-swarm"
    assert declared.secret_outputs["secrets"] is True


def test_bad_swarm_config_fails_before_any_resource() -> None:
    with pytest.raises(StackConfigError, match=r"ha-stack:buildImages"):
        run_swarm_program(STACK, {"ha-stack:buildImages": True}, FAKE_SECRETS)
    with pytest.raises(StackConfigError, match=r"ha-stack:platform"):
        run_swarm_program("prod", None, FAKE_SECRETS)


def test_main_declares_the_swarm_program_for_platform_swarm() -> None:
    recorded: list[str] = []

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(
            self, args: pulumi.runtime.MockResourceArgs
        ) -> tuple[str, dict[str, object]]:
            recorded.append(args.typ)
            generated = {"value": "generated-secret"} if args.typ == DYNAMIC else {}
            return f"{args.name}-id", {**args.inputs, **generated}

        def call(
            self, args: pulumi.runtime.MockCallArgs
        ) -> tuple[dict[str, object], list[tuple[str, str]] | None]:
            return {}, None

    runtime_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(Mocks(), project="ha-stack", stack=STACK, preview=False)
    pulumi.runtime.set_all_config(pulumi_config(STACK))

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run() -> None:
        main()

    run()
    assert "docker:index/service:Service" in recorded
    assert "docker:index/container:Container" not in recorded
