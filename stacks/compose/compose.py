"""docker-compose.yml (file format 2.4, accepted by docker-compose 1.29) from the stack topology.

The compose deployment reads secrets through compose's variable substitution from the git-ignored
``configs/<stack>/.env`` that scripts/gen-env writes; config files are bind-mounted read-only
from the rendered files next to this one, the same bytes Pulumi uploads.
"""

import re
from typing import Any

import yaml

from stacks.model.conf import HEADER
from stacks.model.spec import ContainerSpec, Healthcheck, Topology

__all__ = ["compose_healthcheck", "compose_literal", "compose_services", "render_compose"]

_HEADER = (
    HEADER
    + "# Secrets come from .env next to this file (scripts/gen-env writes it, git ignores it).\n"
)
_SECRET_REF = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


def compose_literal(value: str) -> str:
    """``value`` as a literal in a compose or stack file: both substitute ``${VAR}``, so ``$``
    is written ``$$``."""
    return value.replace("$", "$$")


def _secret(template: str) -> str:
    # ${NAME:?message} makes compose refuse to start without the secret instead of using "".
    return _SECRET_REF.sub(r"${\1:?set \1 in .env (scripts/gen-env)}", template)


def compose_healthcheck(check: Healthcheck) -> dict[str, Any]:
    """A ``healthcheck:`` entry of a compose or stack file."""
    return {
        "test": ["CMD", *(compose_literal(arg) for arg in check.argv)],
        "interval": f"{check.interval_s}s",
        "timeout": f"{check.timeout_s}s",
        "retries": check.retries,
        "start_period": f"{check.start_period_s}s",
    }


def _service(
    spec: ContainerSpec, network: str, by_service: dict[str, ContainerSpec]
) -> dict[str, Any]:
    service: dict[str, Any] = {
        "container_name": spec.name,
        "image": spec.image,
        "command": [compose_literal(arg) for arg in spec.command],
        "user": spec.user,
    }
    environment = {key: compose_literal(value) for key, value in spec.env.items()}
    environment.update({key: _secret(value) for key, value in spec.secret_env.items()})
    if environment:
        service["environment"] = dict(sorted(environment.items()))
    if spec.labels:
        service["labels"] = spec.labels
    service["networks"] = {network: {"ipv4_address": spec.ip}}
    if spec.ports:
        service["ports"] = [
            f"{p.host_address}:{p.host_port}:{p.container_port}" for p in spec.ports
        ]
    volumes = [f"{mount.volume}:{mount.path}" for mount in spec.volumes]
    volumes += [f"./{file.source}:{path}:ro" for path, file in sorted(spec.files.items())]
    if volumes:
        service["volumes"] = volumes
    if spec.healthcheck is not None:
        service["healthcheck"] = compose_healthcheck(spec.healthcheck)
    service["restart"] = spec.restart
    if spec.depends_on:
        service["depends_on"] = {
            name: {
                "condition": "service_healthy"
                if by_service[name].healthcheck is not None
                else "service_started"
            }
            for name in spec.depends_on
        }
    return service


def compose_services(topology: Topology) -> dict[str, Any]:
    """The compose document as a mapping (``render_compose`` serialises it)."""
    by_service = {spec.service: spec for spec in topology.containers}
    network = topology.network
    return {
        "version": "2.4",
        "services": {
            spec.service: _service(spec, network.name, by_service) for spec in topology.containers
        },
        "networks": {
            network.name: {
                "name": network.name,
                "driver": "bridge",
                "ipam": {"config": [{"subnet": network.subnet, "gateway": network.gateway}]},
            }
        },
        "volumes": {volume.name: {"name": volume.name} for volume in topology.volumes},
    }


def render_compose(topology: Topology) -> str:
    return _HEADER + yaml.safe_dump(compose_services(topology), sort_keys=False, width=100)
