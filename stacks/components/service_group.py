"""Platform swarm: ComponentResources holding some of the stack's Swarm services (the same four
groups as on docker: Redis, PostgreSQL, monitoring, app)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from stacks.components.service import declare_service
from stacks.model.spec import ContainerSpec

__all__ = [
    "AppServices",
    "MonitoringServices",
    "PostgresService",
    "RedisServices",
    "ServiceGroup",
    "ServiceGroupArgs",
]


@dataclass(frozen=True)
class ServiceGroupArgs:
    """What a group needs: its specs and the stack-wide objects they refer to."""

    prefix: str
    specs: Sequence[ContainerSpec]
    network: docker.Network
    secrets: Mapping[str, docker.Secret]
    configs: Mapping[str, docker.ServiceConfig]


class ServiceGroup(pulumi.ComponentResource):
    """Declares one docker.Service per spec; ``services`` maps service name -> Service.

    No depends_on between services: a Swarm restarts a task whose dependency is not up yet (the
    app retries PostgreSQL and Redis at start, a Redis node asks the Sentinels or starts as
    configured), and Pulumi waits for each service to converge.
    """

    services: dict[str, docker.Service]

    def __init__(
        self,
        type_: str,
        name: str,
        args: ServiceGroupArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(type_, name, None, opts)
        self.services = {
            spec.service: declare_service(
                spec,
                prefix=args.prefix,
                network=args.network,
                secrets=args.secrets,
                configs=args.configs,
                parent=self,
            )
            for spec in args.specs
        }
        self.service_names = pulumi.Output.all(*(s.name for s in self.services.values()))
        self.register_outputs({"serviceNames": self.service_names})


class RedisServices(ServiceGroup):
    """Redis data nodes and Sentinels, each pinned to a node of its own."""

    def __init__(
        self, name: str, args: ServiceGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ha-stack:index:RedisServices", name, args, opts)


class PostgresService(ServiceGroup):
    """PostgreSQL (single-node, pinned to the node holding its volume) and what shares it."""

    def __init__(
        self, name: str, args: ServiceGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ha-stack:index:PostgresService", name, args, opts)


class MonitoringServices(ServiceGroup):
    """Prometheus and the exporters (placed anywhere; rescheduled when their node is lost)."""

    def __init__(
        self, name: str, args: ServiceGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ha-stack:index:MonitoringServices", name, args, opts)


class AppServices(ServiceGroup):
    """The app's web service (one task per node) and its workers."""

    def __init__(
        self, name: str, args: ServiceGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ha-stack:index:AppServices", name, args, opts)
