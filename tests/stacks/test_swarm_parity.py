"""Platform swarm: the Pulumi program and the rendered stack file deploy the same stack. Every
Swarm service the mocked program declares has a stack file service with the same name, image,
command, user, environment, labels, network alias, host-mode ports, volumes, Docker configs (by
content), Docker secrets, health check, replicas, placement, endpoint mode and restart policy,
as ``docker stack config`` itself resolves the committed file."""

import base64
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.components.service import STACK_NAMESPACE_LABEL
from stacks.model import SECRET_CONFIG_KEYS, SECRET_NAMES
from tests.stacks.mocked_program import FAKE_SECRETS, Declared, run_swarm_program

ROOT = Path(__file__).resolve().parents[2]
STACK = "prod-swarm"
PREFIX = f"ha-{STACK}"
CONFIG = "docker:index/serviceConfig:ServiceConfig"
SECRET = "docker:index/secret:Secret"
NETWORK = "docker:index/network:Network"


@pytest.fixture(scope="module")
def declared() -> Declared:
    return run_swarm_program(STACK, None, FAKE_SECRETS)


@pytest.fixture(scope="module")
def stack_config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``docker stack config`` of the committed stack file (with placeholder secret files)."""
    directory = tmp_path_factory.mktemp("stack")
    shutil.copytree(ROOT / "configs" / STACK, directory, dirs_exist_ok=True)
    shutil.rmtree(directory / "secrets", ignore_errors=True)
    (directory / "secrets").mkdir()
    for name in SECRET_NAMES:
        (directory / "secrets" / name).write_text("placeholder")
    result = subprocess.run(
        ["docker", "stack", "config", "-c", str(directory / "docker-stack.yml")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def _seconds(duration: str) -> float:
    """``1m0s``, ``60s``, ``1.5s`` -> seconds (docker stack config writes Go durations)."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(
        float(number) * units[unit] for number, unit in re.findall(r"([\d.]+)(ms|h|m|s)", duration)
    )


def _check(test: list[str], interval: str, timeout: str, retries: int, start: str) -> Any:
    return {
        "test": test,
        "interval": _seconds(interval),
        "timeout": _seconds(timeout),
        "retries": retries,
        "start_period": _seconds(start),
    }


def _pulumi_view(inputs: dict[str, Any], declared: Declared) -> dict[str, Any]:
    task, mode = inputs["taskSpec"], inputs["mode"]
    container = task["containerSpec"]
    config_data = {
        c.inputs["name"]: base64.b64decode(c.inputs["data"]).decode()
        for c in declared.of_type(CONFIG).values()
    }
    networks = {f"{n.name}-id": n.inputs["name"] for n in declared.of_type(NETWORK).values()}
    check = container.get("healthcheck")
    placement = task["placement"]
    labels = {label["label"]: label["value"] for label in container["labels"]}
    assert labels.pop(STACK_NAMESPACE_LABEL) == PREFIX  # docker stack deploy adds it itself
    return {
        "name": inputs["name"],
        "image": container["image"],
        "command": container["args"],
        "user": container["user"],
        "environment": container.get("env", {}),
        "labels": labels,
        "networks": {networks[n["id"]]: n["aliases"] for n in task["networksAdvanceds"]},
        "ports": sorted(
            (int(p["targetPort"]), int(p["publishedPort"]), p["publishMode"], p["protocol"])
            for p in inputs["endpointSpec"]["ports"]
        ),
        "volumes": sorted((m["source"], m["target"]) for m in container["mounts"]),
        "configs": {
            c["fileName"]: (c["configName"], config_data[c["configName"]], int(c["fileMode"]))
            for c in container["configs"]
        },
        "secrets": sorted((s["secretName"], s["fileName"]) for s in container["secrets"]),
        "healthcheck": None
        if check is None
        else _check(
            check["tests"],
            check["interval"],
            check["timeout"],
            int(check["retries"]),
            check["startPeriod"],
        ),
        "replicas": int(mode["replicated"]["replicas"]),
        "endpoint_mode": inputs["endpointSpec"]["mode"],
        "constraints": sorted(placement.get("constraints", [])),
        "max_replicas_per_node": int(placement["maxReplicas"])
        if "maxReplicas" in placement
        else None,
        "preferences": sorted(placement.get("prefs", [])),
        "restart": task["restartPolicy"],
    }


def _stack_view(key: str, service: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    deploy = service["deploy"]
    placement = deploy.get("placement", {})
    check = service.get("healthcheck")
    if check is not None:
        check = dict(check)
        check["start"] = check.pop("start_period")
    configs = {}
    for mounted in service.get("configs", []):
        top = config["configs"][mounted["source"]]
        configs[mounted["target"]] = (top["name"], Path(top["file"]).read_text(), mounted["mode"])
    secrets = sorted(
        (config["secrets"][s["source"]]["name"], s["target"]) for s in service.get("secrets", [])
    )
    networks = {config["networks"][name]["name"]: [key] for name in service["networks"]}
    return {
        "name": f"{PREFIX}_{key}",
        "image": service["image"],
        "command": service["command"],
        "user": service["user"],
        "environment": {k: str(v) for k, v in service.get("environment", {}).items()},
        "labels": service.get("labels", {}),
        # docker stack deploy gives each service its key as its alias on every network.
        "networks": networks,
        "ports": sorted(
            (p["target"], p["published"], p["mode"], p["protocol"])
            for p in service.get("ports", [])
        ),
        "volumes": sorted(
            (config["volumes"][v["source"]]["name"], v["target"])
            for v in service.get("volumes", [])
        ),
        "configs": configs,
        "secrets": secrets,
        "healthcheck": None if check is None else _check(**check),
        "replicas": deploy["replicas"],
        "endpoint_mode": deploy["endpoint_mode"],
        "constraints": sorted(placement.get("constraints", [])),
        "max_replicas_per_node": placement.get("max_replicas_per_node"),
        "preferences": sorted(f"spread={p['spread']}" for p in placement.get("preferences", [])),
        "restart": deploy["restart_policy"],
    }


def test_stack_file_matches_the_pulumi_program(
    declared: Declared, stack_config: dict[str, Any]
) -> None:
    services = stack_config["services"]
    assert {f"{PREFIX}_{key}" for key in services} == set(declared.services)
    for key, service in services.items():
        pulumi = declared.services[f"{PREFIX}_{key}"]
        assert _pulumi_view(pulumi.inputs, declared) == _stack_view(key, service, stack_config), key


def test_network_secrets_and_configs_are_the_same_objects(
    declared: Declared, stack_config: dict[str, Any]
) -> None:
    (network,) = declared.of_type(NETWORK).values()
    (stack_network,) = stack_config["networks"].values()
    assert stack_network["name"] == network.inputs["name"] == PREFIX
    assert stack_network["driver"] == network.inputs["driver"] == "overlay"
    assert stack_network["attachable"] is network.inputs["attachable"] is True
    assert stack_network["ipam"]["config"] == network.inputs["ipamConfigs"]
    secrets = {s["name"] for s in stack_config["secrets"].values()}
    assert secrets == {r.inputs["name"] for r in declared.of_type(SECRET).values()}
    assert secrets == {f"{PREFIX}-{name}" for name in SECRET_NAMES}
    configs = {c["name"] for c in stack_config["configs"].values()}
    assert configs == {r.inputs["name"] for r in declared.of_type(CONFIG).values()}


def test_docker_secrets_carry_the_stack_secrets_and_stay_secret(declared: Declared) -> None:
    by_name = {r.inputs["name"]: r for r in declared.of_type(SECRET).values()}
    for key, value in FAKE_SECRETS.items():
        variable = SECRET_CONFIG_KEYS[key.split(":", 1)[1]]
        secret = by_name[f"{PREFIX}-{variable}"]
        assert secret.is_secret("data"), variable
        assert base64.b64decode(secret.plain("data")).decode() == value
