"""docker-stack.yml (compose file format 3.8, for ``docker stack deploy``) from a platform swarm
topology: the same services the Pulumi program declares (stacks.components.service).

What a Swarm on one kernel without IPVS needs: ``endpoint_mode: dnsrr`` (no virtual IPs) and
host-mode published ports (no ingress mesh), on an attachable overlay network. Secrets are Docker
secrets read from ``secrets/<NAME>`` next to this file (``python -m stacks.compose.swarm_secrets
<stack>`` writes them, git ignores them); config files are Docker configs of the rendered files,
each named with a digest of its content (a Docker config cannot change: a changed file is a new
config, and the service is updated to it).
"""

from typing import Any, Final

import yaml

from stacks.compose.compose import compose_healthcheck, compose_literal
from stacks.model.conf import HEADER
from stacks.model.spec import ContainerSpec, Topology
from stacks.model.swarm import config_name, secret_name

__all__ = ["SECRETS_DIR", "STACK_FILE", "render_stack_file", "stack_document"]

STACK_FILE: Final = "docker-stack.yml"
SECRETS_DIR: Final = "secrets"  # next to the stack file, git-ignored
_HEADER = (
    HEADER
    + "# docker stack deploy --resolve-image never -c docker-stack.yml ha-<stack>; secrets come\n"
    "# from secrets/<NAME> next to it (python -m stacks.compose.swarm_secrets <stack>).\n"
)


def _deploy(spec: ContainerSpec) -> dict[str, Any]:
    deploy = spec.deploy
    if deploy is None:
        raise ValueError(f"{spec.service}: no Swarm deployment (not a platform swarm topology)")
    placement: dict[str, Any] = {}
    if deploy.constraints:
        placement["constraints"] = list(deploy.constraints)
    if deploy.max_replicas_per_node is not None:
        placement["max_replicas_per_node"] = deploy.max_replicas_per_node
    if deploy.spread is not None:
        placement["preferences"] = [{"spread": deploy.spread}]
    document: dict[str, Any] = {
        "mode": "replicated",
        "replicas": deploy.replicas,
        # No IPVS on the kernels this runs on: the service name resolves to its tasks' addresses.
        "endpoint_mode": "dnsrr",
    }
    if placement:
        document["placement"] = placement
    document["restart_policy"] = {
        "condition": "any" if spec.restart == "unless-stopped" else "on-failure",
        "delay": "1s",
    }
    return document


def _service(spec: ContainerSpec, prefix: str, network: str) -> dict[str, Any]:
    service: dict[str, Any] = {
        "image": spec.image,
        "command": [compose_literal(arg) for arg in spec.command],
        "user": spec.user,
    }
    if spec.env:
        service["environment"] = {k: compose_literal(v) for k, v in sorted(spec.env.items())}
    if spec.labels:
        service["labels"] = spec.labels
    service["networks"] = [network]
    if spec.ports:
        service["ports"] = [
            {
                "target": p.container_port,
                "published": p.host_port,
                "protocol": "tcp",
                "mode": "host",
            }
            for p in spec.ports
        ]
    if spec.volumes:
        service["volumes"] = [
            {"type": "volume", "source": m.volume, "target": m.path} for m in spec.volumes
        ]
    if spec.files:
        service["configs"] = [
            {"source": config_name(prefix, file), "target": path, "mode": 0o444}
            for path, file in sorted(spec.files.items())
        ]
    if spec.deploy is not None and spec.deploy.secrets:
        service["secrets"] = [{"source": s, "target": s} for s in spec.deploy.secrets]
    if spec.healthcheck is not None:
        service["healthcheck"] = compose_healthcheck(spec.healthcheck)
    service["deploy"] = _deploy(spec)
    return service


def stack_document(topology: Topology) -> dict[str, Any]:
    """The stack file as a mapping (``render_stack_file`` serialises it)."""
    if topology.platform != "swarm":
        raise ValueError(f"stack {topology.stack}: platform {topology.platform}, not swarm")
    network, prefix = topology.network, topology.network.name
    files = {
        config_name(prefix, file): {"name": config_name(prefix, file), "file": f"./{file.source}"}
        for spec in topology.containers
        for file in spec.files.values()
    }
    secrets = sorted(
        {s for spec in topology.containers if spec.deploy for s in spec.deploy.secrets}
    )
    return {
        "version": "3.8",
        "services": {
            spec.service: _service(spec, prefix, network.name) for spec in topology.containers
        },
        "networks": {
            network.name: {
                "name": network.name,
                "driver": "overlay",
                "attachable": True,
                "ipam": {"config": [{"subnet": network.subnet}]},
            }
        },
        "volumes": {volume.name: {"name": volume.name} for volume in topology.volumes},
        "configs": dict(sorted(files.items())),
        "secrets": {
            s: {"name": secret_name(prefix, s), "file": f"./{SECRETS_DIR}/{s}"} for s in secrets
        },
    }


def render_stack_file(topology: Topology) -> str:
    return _HEADER + yaml.safe_dump(stack_document(topology), sort_keys=False, width=100)
