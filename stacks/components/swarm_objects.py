"""Platform swarm: the Docker secrets and Docker configs the stack's services mount.

One Docker secret per stack secret a service uses (``ha-<stack>-<NAME>``), from the same values
the docker platform puts into the environment (StackSecrets); one Docker config per rendered file,
named with a digest of its content (stacks.model.swarm.config_name): Docker refuses to change a
config, so a changed file is a new config and the services using it are updated to it.
"""

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from stacks.model.spec import ContainerSpec
from stacks.model.swarm import config_name, secret_name

__all__ = ["SwarmObjects", "SwarmObjectsArgs"]


@dataclass(frozen=True)
class SwarmObjectsArgs:
    prefix: str  # ha-<stack>
    specs: Sequence[ContainerSpec]
    secrets: Mapping[str, pulumi.Output[str]]  # REDIS_PASSWORD -> value (secret Outputs)


def _base64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


class SwarmObjects(pulumi.ComponentResource):
    """``secrets``: secret name -> docker.Secret; ``configs``: config name -> ServiceConfig."""

    secrets: dict[str, docker.Secret]
    configs: dict[str, docker.ServiceConfig]

    def __init__(
        self, name: str, args: SwarmObjectsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ha-stack:index:SwarmObjects", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        used = sorted({s for spec in args.specs if spec.deploy for s in spec.deploy.secrets})
        self.secrets = {
            secret: docker.Secret(
                secret_name(args.prefix, secret),
                name=secret_name(args.prefix, secret),
                # Secret Outputs stay secret through apply: never in clear text in the state.
                data=args.secrets[secret].apply(_base64),
                opts=child,
            )
            for secret in used
        }
        self.configs = {}
        for spec in args.specs:
            for file in spec.files.values():
                config = config_name(args.prefix, file)
                if config not in self.configs:
                    self.configs[config] = docker.ServiceConfig(
                        config, name=config, data=_base64(file.content), opts=child
                    )
        self.register_outputs({"secrets": used, "configs": sorted(self.configs)})
