"""A ComponentResource holding some of the stack's containers and the data volumes they mount."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

from stacks.components.container import declare_container
from stacks.model.spec import ContainerSpec, VolumeSpec

__all__ = ["ContainerGroup", "ContainerGroupArgs"]


@dataclass(frozen=True)
class ContainerGroupArgs:
    """What a group needs: its specs and the stack-wide pieces they refer to."""

    specs: Sequence[ContainerSpec]
    volumes: Sequence[VolumeSpec]
    network: docker.Network
    images: Mapping[str, pulumi.Input[str]]  # image reference -> built image (or the reference)
    secrets: Mapping[str, pulumi.Output[str]]
    # Containers declared by earlier groups, by service name, for cross-group depends_on.
    declared: Mapping[str, docker.Container] = field(default_factory=dict)


class ContainerGroup(pulumi.ComponentResource):
    """Declares volumes then containers in spec order; ``containers`` maps service -> Container."""

    containers: dict[str, docker.Container]
    volumes: dict[str, docker.Volume]

    def __init__(
        self,
        type_: str,
        name: str,
        args: ContainerGroupArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(type_, name, None, opts)
        mounted = {m.volume for spec in args.specs for m in spec.volumes}
        self.volumes = {
            v.name: docker.Volume(
                v.name,
                name=v.name,
                opts=pulumi.ResourceOptions(parent=self, protect=v.protect),
            )
            for v in args.volumes
            if v.name in mounted
        }
        self.containers = {}
        known = dict(args.declared)
        for spec in args.specs:
            depends: list[pulumi.Resource] = [known[s] for s in spec.depends_on]
            depends += [self.volumes[m.volume] for m in spec.volumes]
            container = declare_container(
                spec,
                image=args.images[spec.image],
                network=args.network,
                secrets=args.secrets,
                parent=self,
                depends_on=depends,
            )
            self.containers[spec.service] = container
            known[spec.service] = container
        self.container_names = pulumi.Output.all(*(c.name for c in self.containers.values()))
        self.register_outputs({"containerNames": self.container_names})
