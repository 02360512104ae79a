"""Read a stack's raw config from ``Pulumi.<stack>.yaml`` (to render and test without Pulumi)."""

from pathlib import Path

import yaml

from stacks.model.errors import StackConfigError
from stacks.model.settings import StackSettings, load_settings
from stacks.model.spec import Topology
from stacks.model.topology import build_topology

__all__ = [
    "REPO_ROOT",
    "committed_stacks",
    "read_stack_config",
    "stack_settings",
    "stack_topology",
]

REPO_ROOT = Path(__file__).resolve().parents[2]


def committed_stacks(root: Path = REPO_ROOT) -> list[str]:
    """The stacks that have a ``Pulumi.<stack>.yaml`` in ``root``, sorted."""
    return sorted(p.name.split(".")[1] for p in root.glob("Pulumi.*.yaml"))


def read_stack_config(stack: str, root: Path = REPO_ROOT) -> dict[str, object]:
    """The ``config:`` of ``Pulumi.<stack>.yaml``; StackConfigError if the file is absent."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise StackConfigError("stack", f"{path} does not exist", "dev")
    document = yaml.safe_load(path.read_text()) or {}
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise StackConfigError("config", f"{path}: config is not a mapping", "ha-stack:redisMode")
    # Secure values ({secure: ...}) are secrets; the model never reads them.
    return {str(k): v for k, v in config.items() if not isinstance(v, dict)}


def stack_settings(
    stack: str, overrides: dict[str, object] | None = None, root: Path = REPO_ROOT
) -> StackSettings:
    return load_settings(stack, {**read_stack_config(stack, root), **(overrides or {})})


def stack_topology(
    stack: str, overrides: dict[str, object] | None = None, root: Path = REPO_ROOT
) -> Topology:
    return build_topology(stack_settings(stack, overrides, root))
