"""The stack's user-defined bridge network with a fixed subnet (every container has a fixed IP)."""

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from stacks.model.spec import NetworkSpec

__all__ = ["StackNetwork", "StackNetworkArgs"]


@dataclass(frozen=True)
class StackNetworkArgs:
    spec: NetworkSpec


class StackNetwork(pulumi.ComponentResource):
    network: docker.Network

    def __init__(
        self, name: str, args: StackNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ha-stack:index:Network", name, None, opts)
        spec = args.spec
        self.network = docker.Network(
            spec.name,
            name=spec.name,
            driver="bridge",
            ipam_configs=[docker.NetworkIpamConfigArgs(subnet=spec.subnet, gateway=spec.gateway)],
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        self.register_outputs({"name": self.network.name, "subnet": spec.subnet})
