"""The stack model: validated settings and the topology both deployers (Pulumi, compose) consume,
with the config files its containers carry (``conf``) and the environment it gives the app
(``app_contract``).

Pure Python: nothing here imports Pulumi or a deployer (tests/stacks/test_layering.py), so
rendering and validation run anywhere.
"""

from stacks.model.errors import StackConfigError
from stacks.model.load import load_settings
from stacks.model.secret_keys import SECRET_CONFIG_KEYS, check_secret_value
from stacks.model.settings import StackSettings
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
