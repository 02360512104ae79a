"""Platform swarm: the stack's containers as Swarm services, for both Swarm deployers.

The containers are the ones platform docker runs, built from a Layout that addresses services
by name; this module adds what a Swarm needs on top, once, so the stack file
(stacks.compose.swarm) and the Pulumi program (stacks.components.service) declare the same:

- placement: Redis data node ``i`` and Sentinel ``i`` on node ``i + 1`` (one of each per node),
  PostgreSQL (and whatever shares its volume) on ``swarmPostgresNode`` (PostgreSQL stays
  single-node), the web replicas one per node (each publishes the app's port in host mode), the
  workers spread with room to reschedule after a node is lost; the rest anywhere;
- secrets as Docker secrets: the images read secrets from the environment, so each service runs
  its command through a rendered launcher (a Docker config) that exports its secret variables
  from ``/run/secrets/<NAME>`` and then ``exec``\\ s the command; its health check too;
- health checks with generous timeouts (Swarm replaces a task whose check fails);
- names of the Docker secrets and configs (a config's name carries a digest of its content:
  Docker configs cannot change, a changed file is a new config).
"""

import hashlib
import math
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Final

from stacks.model.conf import HEADER
from stacks.model.layout import Layout
from stacks.model.spec import ConfigFile, ContainerSpec, Healthcheck, SwarmDeploy

__all__ = [
    "LAUNCHER",
    "MAX_OBJECT_NAME",
    "NODE_LABEL",
    "SECRETS_DIR",
    "config_name",
    "node_constraint",
    "render_launcher",
    "secret_name",
    "swarm_services",
]

NODE_LABEL: Final = "ha-stack.node"
SECRETS_DIR: Final = "/run/secrets"
LAUNCHER: Final = "/etc/ha-stack/secret-env"
MAX_OBJECT_NAME: Final = 64  # Docker's limit on config and secret names


def node_constraint(node: int) -> str:
    """The placement constraint that pins a task to the node labelled ``ha-stack.node=<node>``."""
    return f"node.labels.{NODE_LABEL} == {node}"


def secret_name(prefix: str, secret: str) -> str:
    """The Docker secret holding ``secret`` (e.g. ``ha-prod-swarm-REDIS_PASSWORD``)."""
    return f"{prefix}-{secret}"


def config_name(prefix: str, file: ConfigFile) -> str:
    """The Docker config of ``file``: its path made a name (cut to fit Docker's 64 characters)
    and a digest of its path and content, so a changed file is a new config."""
    slug = re.sub(r"[^A-Za-z0-9_.-]", "-", file.source)
    digest = hashlib.sha256(f"{file.source}\0{file.content}".encode()).hexdigest()[:10]
    room = MAX_OBJECT_NAME - len(prefix) - len(digest) - 2
    return f"{prefix}-{slug[:room].rstrip('-.')}-{digest}"


def _double_quoted(text: str) -> str:
    return re.sub(r'([\\"$`])', r"\\\1", text)


def _shell_value(template: str) -> str:
    """A secret template (``postgresql://app:${POSTGRES_PASSWORD}@...``) as a double-quoted
    shell word that reads each secret from its file."""
    parts, end = [], 0
    for match in string.Template.pattern.finditer(template):
        parts.append(_double_quoted(template[end : match.start()]))
        name = match.group("braced") or match.group("named")
        parts.append(f"$(secret {name})" if name else "\\$")  # ``$$`` is a literal ``$``
        end = match.end()
    parts.append(_double_quoted(template[end:]))
    return '"' + "".join(parts) + '"'


def render_launcher(secret_env: Mapping[str, str], secrets_dir: str = SECRETS_DIR) -> str:
    """The launcher script: export each secret variable from the Docker secrets (files in
    ``secrets_dir``), then run the command given as arguments. Only secret names appear in it,
    never a value; a missing secret file stops it before the command runs."""
    lines = [
        "#!/bin/bash",
        HEADER.rstrip("\n"),
        "# Exports the service's secret variables from its Docker secrets, then runs its command.",
        "set -euo pipefail",
        f'secret() {{ cat "{secrets_dir}/$1"; }}',
        # Assigned, then exported: `export X="$(...)"` would hide a failed read from set -e.
        *(f"{key}={_shell_value(value)}" for key, value in sorted(secret_env.items())),
        f"export {' '.join(sorted(secret_env))}",
        'exec "$@"',
    ]
    return "\n".join(lines) + "\n"


def _placements(layout: Layout, containers: Sequence[ContainerSpec]) -> dict[str, SwarmDeploy]:
    settings = layout.settings
    nodes = settings.swarm.nodes
    deploy: dict[str, SwarmDeploy] = {}
    for places in (layout.redis_nodes(), layout.sentinels()):
        for i, place in enumerate(places):
            deploy[place.service] = SwarmDeploy(constraints=(node_constraint(i % nodes + 1),))
    # PostgreSQL's volume lives on one node: pin it, and every service mounting that volume.
    pinned = SwarmDeploy(constraints=(node_constraint(settings.swarm.postgres_node),))
    postgres_volumes = {m.volume for c in containers if c.service == "postgres" for m in c.volumes}
    for container in containers:
        if postgres_volumes & {m.volume for m in container.volumes}:
            deploy[container.service] = pinned
    spread = f"node.labels.{NODE_LABEL}"
    for place in layout.web_replicas():
        # One per node: each task publishes appHostPort on its node (host mode).
        deploy[place.service] = SwarmDeploy(
            replicas=settings.app.web_replicas, max_replicas_per_node=1, spread=spread
        )
    for place in layout.workers():
        # Room for every worker on the nodes left when one is lost, so its tasks reschedule.
        workers = settings.app.workers
        deploy[place.service] = SwarmDeploy(
            replicas=workers,
            max_replicas_per_node=math.ceil(workers / max(1, nodes - 1)),
            spread=spread,
        )
    return deploy


def _patient(check: Healthcheck | None) -> Healthcheck | None:
    """A health check a loaded Swarm node can pass: Swarm kills a task whose check fails (one
    engine only marks the container unhealthy), and on a busy node ``docker exec`` alone can
    take seconds, so the timeouts are generous and the start period covers a slow start."""
    if check is None:
        return None
    return replace(
        check,
        interval_s=max(check.interval_s, 10),
        timeout_s=max(check.timeout_s, 10),
        retries=max(check.retries, 6),
        start_period_s=max(check.start_period_s, 60),
    )


def _launched(spec: ContainerSpec, deploy: SwarmDeploy) -> ContainerSpec:
    spec = replace(spec, healthcheck=_patient(spec.healthcheck))
    if not spec.secret_env:
        return replace(spec, deploy=deploy)
    secrets = sorted(
        {
            match.group("braced") or match.group("named")
            for template in spec.secret_env.values()
            for match in string.Template.pattern.finditer(template)
            if match.group("braced") or match.group("named")
        }
    )
    prefix = ("bash", LAUNCHER)
    check = spec.healthcheck
    launcher = ConfigFile(f"secret-env/{spec.service}.sh", render_launcher(spec.secret_env))
    return replace(
        spec,
        command=(*prefix, *spec.command),
        # A health check runs outside the command's process: it gets the variables the same way.
        healthcheck=None if check is None else replace(check, argv=(*prefix, *check.argv)),
        files={**spec.files, LAUNCHER: launcher},
        deploy=replace(deploy, secrets=tuple(secrets)),
    )


def swarm_services(layout: Layout, containers: Sequence[ContainerSpec]) -> list[ContainerSpec]:
    """The containers as Swarm services: placement, replicas, secrets through the launcher."""
    placements = _placements(layout, containers)
    return [_launched(c, placements.get(c.service, SwarmDeploy())) for c in containers]
