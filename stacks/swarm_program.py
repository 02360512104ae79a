"""The Pulumi program for platform swarm: validate the config, build the topology, declare its
Swarm services (with their overlay network, Docker secrets and configs), export the endpoints.

stacks.program.main runs this instead of the single-engine program when the stack sets
``ha-stack:platform: swarm``; the provider must talk to a Swarm manager (DOCKER_HOST).
"""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from stacks.components.overlay import OverlayNetwork, OverlayNetworkArgs
from stacks.components.secrets import StackSecrets
from stacks.components.service_group import (
    AppServices,
    MonitoringServices,
    PostgresService,
    RedisServices,
    ServiceGroupArgs,
)
from stacks.components.swarm_objects import SwarmObjects, SwarmObjectsArgs
from stacks.model import Topology, build_topology, load_settings
from stacks.model.config import PROJECT
from stacks.model.errors import StackConfigError
from stacks.model.spec import Group
from stacks.model.stackfile import other_stack_subnets
from stacks.program import SECRETS_OUTPUT, check_secrets_encrypted

__all__ = ["SwarmStackResources", "declare_swarm_stack"]


@dataclass(frozen=True)
class SwarmStackResources:
    topology: Topology
    secrets: StackSecrets
    objects: SwarmObjects
    network: OverlayNetwork
    redis: RedisServices
    postgres: PostgresService
    monitoring: MonitoringServices
    app: AppServices


def declare_swarm_stack(stack: str, raw: Mapping[str, object]) -> SwarmStackResources:
    """Declare every resource of the platform swarm ``stack``; StackConfigError before any
    resource on bad config (including a stack that is not platform swarm)."""
    check_secrets_encrypted()
    settings = load_settings(stack, raw, other_subnets=other_stack_subnets(stack))
    if settings.platform != "swarm":
        raise StackConfigError(
            f"{PROJECT}:platform", f"{settings.platform}: not a Swarm stack", "swarm"
        )
    topology = build_topology(settings)
    prefix = topology.network.name
    secrets = StackSecrets(f"{prefix}-secrets", pulumi.Config(PROJECT))
    objects = SwarmObjects(
        f"{prefix}-objects", SwarmObjectsArgs(prefix, topology.containers, secrets.values)
    )
    network = OverlayNetwork(prefix, OverlayNetworkArgs(topology.network))

    def args(group: Group) -> ServiceGroupArgs:
        return ServiceGroupArgs(
            prefix=prefix,
            specs=topology.group(group),
            network=network.network,
            secrets=objects.secrets,
            configs=objects.configs,
        )

    redis = RedisServices(f"{prefix}-redis", args("redis"))
    postgres = PostgresService(f"{prefix}-postgres", args("postgres"))
    monitoring = MonitoringServices(f"{prefix}-monitoring", args("monitoring"))
    app = AppServices(f"{prefix}-app", args("app"))
    for key, value in topology.endpoints.items():
        pulumi.export(key, value)
    pulumi.export(SECRETS_OUTPUT, pulumi.Output.secret(pulumi.Output.all(**secrets.values)))
    return SwarmStackResources(
        topology, secrets, objects, network, redis, postgres, monitoring, app
    )
