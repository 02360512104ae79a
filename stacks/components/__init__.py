"""Pulumi ComponentResources (pulumi-docker 5) declaring the stack model's topology."""

from stacks.components.group import ContainerGroup, ContainerGroupArgs
from stacks.components.groups import AppService, Monitoring, Postgres, RedisGroup
from stacks.components.images import StackImages, StackImagesArgs
from stacks.components.network import StackNetwork, StackNetworkArgs
from stacks.components.secrets import StackSecrets

__all__ = [
    "AppService",
    "ContainerGroup",
    "ContainerGroupArgs",
    "Monitoring",
    "Postgres",
    "RedisGroup",
    "StackImages",
    "StackImagesArgs",
    "StackNetwork",
    "StackNetworkArgs",
    "StackSecrets",
]
