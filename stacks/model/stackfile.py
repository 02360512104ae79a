"""Read a stack's raw config from ``Pulumi.<stack>.yaml`` (to render and test without Pulumi).

The file is read strictly: malformed YAML, a key given twice (PyYAML would keep the last one
silently), a config that is not a mapping and a secret stored in plain text are StackConfigErrors
naming the key (or the file and line). Encrypted secrets (``{secure: ...}``) are left out: the
model never reads a secret. Any other mapping value goes on to the model, which refuses it naming
the key and a good value.
"""

import ipaddress
from pathlib import Path
from typing import Any

import yaml

from stacks.model.config import PROJECT
from stacks.model.errors import StackConfigError
from stacks.model.load import load_settings, stack_subnet
from stacks.model.secret_keys import SECRET_CONFIG_KEYS, plain_secret_error
from stacks.model.settings import StackSettings
from stacks.model.spec import Topology
from stacks.model.topology import build_topology

__all__ = [
    "REPO_ROOT",
    "committed_stacks",
    "other_stack_subnets",
    "read_stack_config",
    "stack_settings",
    "stack_topology",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
_FIX_YAML = "one `ha-stack:<name>: <value>` per line under `config:`, e.g. ha-stack:appReplicas: 2"


class _DuplicateKey(yaml.MarkedYAMLError):
    def __init__(self, key: object, lines: tuple[int, int], value: yaml.Node) -> None:
        super().__init__(problem=f"{key!r} given twice", problem_mark=value.start_mark)
        self.key, self.lines = key, lines
        # The last value as written, for the hint (a nested mapping has no one-line form).
        self.value = value.value if isinstance(value, yaml.ScalarNode) else "..."


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping key given twice instead of keeping the last."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[object, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            first = seen.setdefault(key, line)
        except TypeError:  # an unhashable key: construct_mapping reports it below
            continue
        if first != line:
            raise _DuplicateKey(key, (first, line), value_node)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _mapping_without_duplicates,
)


def committed_stacks(root: Path = REPO_ROOT) -> list[str]:
    """The stacks that have a ``Pulumi.<stack>.yaml`` in ``root``, sorted."""
    return sorted(p.name.split(".")[1] for p in root.glob("Pulumi.*.yaml"))


def _load_yaml(path: Path) -> object:
    try:
        return yaml.load(path.read_text(), Loader=_StrictLoader)  # noqa: S506 (a SafeLoader)
    except _DuplicateKey as duplicate:
        key, (first, last) = str(duplicate.key), duplicate.lines
        raise StackConfigError(
            key,
            f"given twice in {path.name} (lines {first} and {last}); YAML would silently keep "
            "only the last",
            duplicate.value,
            fix=f"keep one of the two lines, e.g. `{key}: {duplicate.value}`",
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise StackConfigError(
            path.name, f"is not valid YAML ({where}{problem})", "", fix=_FIX_YAML
        ) from None


def read_stack_config(stack: str, root: Path = REPO_ROOT) -> dict[str, object]:
    """The non-secret ``config:`` of ``Pulumi.<stack>.yaml``; StackConfigError if the file is
    absent, is not valid YAML, gives a key twice, or holds a secret key in plain text."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise StackConfigError(
            "stack", f"{path} does not exist", "", fix=f"known stacks: {committed_stacks(root)}"
        )
    document = _load_yaml(path) or {}
    config = document.get("config") if isinstance(document, dict) else document
    if not isinstance(config, dict | None):
        raise StackConfigError("config", f"{path.name}: config is not a mapping", "", fix=_FIX_YAML)
    raw: dict[str, object] = {}
    for key, value in (config or {}).items():
        name = str(key).removeprefix(f"{PROJECT}:")
        if name in SECRET_CONFIG_KEYS and str(key) == f"{PROJECT}:{name}":
            if not (isinstance(value, dict) and set(value) == {"secure"}):
                raise plain_secret_error(name, path.name)
            continue  # encrypted: for the Pulumi program only
        raw[str(key)] = value
    return raw


def other_stack_subnets(stack: str, root: Path = REPO_ROOT) -> dict[str, ipaddress.IPv4Network]:
    """The subnets of the other committed stacks (``stack`` left out).

    A stack whose own file or subnet is invalid is left out too: rendering or deploying that
    stack reports it.
    """
    subnets = {}
    for other in committed_stacks(root):
        if other == stack:
            continue
        try:
            subnets[other] = stack_subnet(other, read_stack_config(other, root))
        except StackConfigError:
            continue
    return subnets


def stack_settings(
    stack: str, overrides: dict[str, object] | None = None, root: Path = REPO_ROOT
) -> StackSettings:
    """Settings of the committed ``stack`` (with ``overrides``), checked against the other
    committed stacks; StackConfigError for a bad file or value."""
    raw = {**read_stack_config(stack, root), **(overrides or {})}
    return load_settings(stack, raw, other_subnets=other_stack_subnets(stack, root))


def stack_topology(
    stack: str, overrides: dict[str, object] | None = None, root: Path = REPO_ROOT
) -> Topology:
    return build_topology(stack_settings(stack, overrides, root))
