"""The stack model: validated settings and the topology both deployers (Pulumi, compose) consume.

Pure Python: nothing here imports Pulumi, so rendering and validation run anywhere.
"""

from stacks.model.errors import StackConfigError
from stacks.model.settings import (
    SECRET_CONFIG_KEYS,
    StackSettings,
    check_secret_value,
    load_settings,
)
from stacks.model.spec import (
    SECRET_NAMES,
    ConfigFile,
    ContainerSpec,
    Healthcheck,
    NetworkSpec,
    PortSpec,
    Topology,
    VolumeMount,
    VolumeSpec,
)
from stacks.model.stackfile import read_stack_config, stack_settings, stack_topology
from stacks.model.topology import IMAGES, build_topology

__all__ = [
    "IMAGES",
    "SECRET_CONFIG_KEYS",
    "SECRET_NAMES",
    "ConfigFile",
    "ContainerSpec",
    "Healthcheck",
    "NetworkSpec",
    "PortSpec",
    "StackConfigError",
    "StackSettings",
    "Topology",
    "VolumeMount",
    "VolumeSpec",
    "build_topology",
    "check_secret_value",
    "load_settings",
    "read_stack_config",
    "stack_settings",
    "stack_topology",
]
