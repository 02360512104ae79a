"""Pulumi and compose deploy the same stack: every container the mocked program declares has a
compose service with the same image, command, environment, labels, network and IP, ports, volumes,
config file contents and health check, as docker-compose itself resolves the rendered file."""

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.compose.files import write_rendered_files
from stacks.model import SECRET_CONFIG_KEYS, stack_topology
from tests.stacks.mocked_program import FAKE_SECRETS, Declared, image_ref

Program = Callable[..., Declared]
ROOT = Path(__file__).resolve().parents[2]


def _compose_config(stack: str, mode: str | None, tmp_path: Path) -> dict[str, Any]:
    """``docker-compose config`` of the committed file (or of a fresh render for another mode)."""
    if mode is None:
        shutil.copytree(ROOT / "configs" / stack, tmp_path, dirs_exist_ok=True)
        (tmp_path / ".env").unlink(missing_ok=True)
    else:
        write_rendered_files(stack_topology(stack, {"ha-stack:redisMode": mode}), tmp_path)
    env_lines = [
        f"{SECRET_CONFIG_KEYS[key.split(':', 1)[1]]}={value}" for key, value in FAKE_SECRETS.items()
    ]
    (tmp_path / ".env").write_text("\n".join(env_lines) + "\n")
    result = subprocess.run(
        ["docker-compose", "-f", str(tmp_path / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def _pulumi_view(inputs: dict[str, Any], envs: list[str]) -> dict[str, Any]:
    check = inputs.get("healthcheck")
    return {
        "image": image_ref(inputs["image"]),
        "command": inputs["command"],
        "user": inputs["user"],
        "restart": inputs["restart"],
        "environment": dict(e.split("=", 1) for e in envs),
        "labels": {label["label"]: label["value"] for label in inputs["labels"]},
        "network": {n["name"]: n["ipv4Address"] for n in inputs["networksAdvanced"]},
        "ports": sorted((p["ip"], int(p["external"]), int(p["internal"])) for p in inputs["ports"]),
        "volumes": sorted((v["volumeName"], v["containerPath"]) for v in inputs["volumes"]),
        "files": {u["file"]: u["content"] for u in inputs["uploads"]},
        "healthcheck": None
        if check is None
        else {
            "test": check["tests"],
            "interval": check["interval"],
            "timeout": check["timeout"],
            "retries": int(check["retries"]),
            "start_period": check["startPeriod"],
        },
    }


def _compose_view(service: dict[str, Any]) -> dict[str, Any]:
    volumes, files = [], {}
    for entry in service.get("volumes", []):
        source, target, mode = entry.rsplit(":", 2)
        if source.startswith("/"):
            assert mode == "ro", entry
            files[target] = Path(source).read_text()
        else:
            volumes.append((source, target))
    ports = []
    for entry in service.get("ports", []):
        address, host_port, container = entry.split(":")
        port, _, protocol = container.partition("/")
        assert protocol == "tcp"
        ports.append((address, int(host_port), int(port)))
    return {
        "image": service["image"],
        "command": service["command"],
        "user": service["user"],
        "restart": service["restart"],
        "environment": {k: str(v) for k, v in service.get("environment", {}).items()},
        "labels": service.get("labels", {}),
        "network": {name: net["ipv4_address"] for name, net in service["networks"].items()},
        "ports": sorted(ports),
        "volumes": sorted(volumes),
        "files": files,
        "healthcheck": service.get("healthcheck"),
    }


@pytest.mark.parametrize(
    ("stack", "mode"), [("dev", None), ("prod", None), ("dev", "standalone"), ("dev", "cluster")]
)
def test_compose_file_matches_the_pulumi_program(
    program: Program, stack: str, mode: str | None, tmp_path: Path
) -> None:
    declared = program(stack, mode)
    compose = _compose_config(stack, mode, tmp_path)
    services = {s["container_name"]: s for s in compose["services"].values()}
    assert set(services) == set(declared.containers)
    for name, container in declared.containers.items():
        pulumi_view = _pulumi_view(container.inputs, container.plain("envs"))
        assert pulumi_view == _compose_view(services[name]), name

    (network,) = declared.of_type("docker:index/network:Network").values()
    (compose_network,) = compose["networks"].values()
    assert compose_network["name"] == network.inputs["name"]
    assert compose_network["ipam"]["config"] == network.inputs["ipamConfigs"]
    volumes = declared.of_type("docker:index/volume:Volume")
    assert {v["name"] for v in compose["volumes"].values()} == set(volumes)


def test_compose_refuses_to_start_without_the_secrets(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "configs" / "dev", tmp_path, dirs_exist_ok=True)
    (tmp_path / ".env").unlink(missing_ok=True)
    result = subprocess.run(
        ["docker-compose", "-f", str(tmp_path / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0
    assert "scripts/gen-env" in result.stderr
