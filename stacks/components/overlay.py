"""Platform swarm: the stack's attachable overlay network (no fixed addresses in it)."""

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from stacks.model.spec import NetworkSpec

__all__ = ["OverlayNetwork", "OverlayNetworkArgs"]


@dataclass(frozen=True)
class OverlayNetworkArgs:
    spec: NetworkSpec


class OverlayNetwork(pulumi.ComponentResource):
    """An overlay network spanning the Swarm's nodes; attachable, so ``docker run --network``
    (the testinfra suites, a one-off migration) can join it next to the services."""

    network: docker.Network

    def __init__(
        self, name: str, args: OverlayNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ha-stack:index:OverlayNetwork", name, None, opts)
        spec = args.spec
        self.network = docker.Network(
            spec.name,
            name=spec.name,
            driver="overlay",
            attachable=True,
            ipam_configs=[docker.NetworkIpamConfigArgs(subnet=spec.subnet)],
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        self.register_outputs({"name": self.network.name, "subnet": spec.subnet})
