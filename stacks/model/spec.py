"""What the stack consists of, independent of how it is deployed (Pulumi or compose).

A ContainerSpec holds everything both deployers need. Secret environment values are templates over
the stack's secret names (``postgresql://app:${POSTGRES_PASSWORD}@...``): compose leaves them for
its variable substitution, Pulumi substitutes secret Outputs.
"""

import hashlib
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from stacks.model.settings import Platform

__all__ = [
    "CONFIG_DIGEST_LABEL",
    "SECRET_NAMES",
    "ConfigFile",
    "ContainerSpec",
    "Group",
    "Healthcheck",
    "NetworkSpec",
    "PortSpec",
    "SwarmDeploy",
    "Topology",
    "VolumeMount",
    "VolumeSpec",
    "resolve_env",
    "secret_references",
]

SECRET_NAMES: Final = (
    "REDIS_PASSWORD",
    "REDIS_SENTINEL_PASSWORD",
    "POSTGRES_PASSWORD",
    "METRICS_TOKEN",
)
Group = Literal["redis", "postgres", "monitoring", "app"]
CONFIG_DIGEST_LABEL: Final = "ha-stack.config-digest"


def secret_references(template: str) -> set[str]:
    """The secret names a template refers to; ValueError for a name that is not a stack secret."""
    names = {
        match.group("braced") or match.group("named")
        for match in string.Template.pattern.finditer(template)
        if match.group("braced") or match.group("named")
    }
    unknown = names - set(SECRET_NAMES)
    if unknown:
        raise ValueError(f"unknown secrets {sorted(unknown)} in template; known: {SECRET_NAMES}")
    return names


def resolve_env(
    env: Mapping[str, str], secret_env: Mapping[str, str], secrets: Mapping[str, str]
) -> dict[str, str]:
    """Plain ``env`` plus ``secret_env`` with its templates filled from ``secrets``, sorted by
    name; KeyError for a template's secret that ``secrets`` lacks."""
    resolved = dict(env)
    resolved.update({key: string.Template(t).substitute(secrets) for key, t in secret_env.items()})
    return dict(sorted(resolved.items()))


@dataclass(frozen=True)
class PortSpec:
    host_address: str
    host_port: int
    container_port: int


@dataclass(frozen=True)
class VolumeMount:
    volume: str
    path: str


@dataclass(frozen=True)
class ConfigFile:
    """A rendered file delivered read-only into a container.

    ``source`` is its path relative to ``configs/<stack>/``.
    """

    source: str
    content: str


@dataclass(frozen=True)
class Healthcheck:
    argv: tuple[str, ...]
    interval_s: int = 5
    timeout_s: int = 3
    retries: int = 5
    start_period_s: int = 5


@dataclass(frozen=True)
class SwarmDeploy:
    """How a Swarm runs one service (platform swarm only; stacks.model.swarm sets it).

    ``constraints`` are placement constraints on node labels, ``spread`` a node label the tasks
    spread over, ``secrets`` the Docker secrets mounted at ``/run/secrets/<NAME>`` (the service's
    launcher turns them into its secret environment).
    """

    replicas: int = 1
    constraints: tuple[str, ...] = ()
    max_replicas_per_node: int | None = None
    spread: str | None = None
    secrets: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContainerSpec:
    service: str
    name: str
    group: Group
    image: str
    command: tuple[str, ...]
    ip: str
    user: str
    env: Mapping[str, str] = field(default_factory=dict)
    secret_env: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[PortSpec, ...] = ()
    volumes: tuple[VolumeMount, ...] = ()
    files: Mapping[str, ConfigFile] = field(default_factory=dict)
    healthcheck: Healthcheck | None = None
    restart: Literal["unless-stopped", "on-failure"] = "unless-stopped"
    depends_on: tuple[str, ...] = ()
    # Platform swarm: replicas and placement (a service, not a container; ``ip`` is its name).
    deploy: SwarmDeploy | None = None

    def __post_init__(self) -> None:
        overlap = set(self.env) & set(self.secret_env)
        if overlap:
            raise ValueError(f"{self.name}: {sorted(overlap)} both plain and secret")
        for value in self.env.values():
            if re.search(r"\$\{?[A-Z_]", value):
                raise ValueError(f"{self.name}: plain env value {value!r} looks like a secret")
        for template in self.secret_env.values():
            secret_references(template)

    @property
    def labels(self) -> dict[str, str]:
        """Docker labels: a digest of the config files, so a changed file recreates the container.

        Pulumi replaces a container whose uploads change; compose compares only the service
        definition, not the content of bind-mounted files, and would keep the old one running.
        """
        if not self.files:
            return {}
        digest = hashlib.sha256()
        for path, file in sorted(self.files.items()):
            digest.update(f"{path}\0{file.content}\0".encode())
        return {CONFIG_DIGEST_LABEL: digest.hexdigest()[:16]}


@dataclass(frozen=True)
class VolumeSpec:
    name: str
    protect: bool


@dataclass(frozen=True)
class NetworkSpec:
    name: str
    subnet: str
    gateway: str


@dataclass(frozen=True)
class Topology:
    """The whole stack: one network, its data volumes and containers, the images they run."""

    stack: str
    network: NetworkSpec
    volumes: tuple[VolumeSpec, ...]
    containers: tuple[ContainerSpec, ...]
    images: Mapping[str, str]  # image directory under images/ -> full image reference
    base_image: str
    build_images: bool
    endpoints: Mapping[str, str]
    platform: Platform = "docker"

    def group(self, group: Group) -> tuple[ContainerSpec, ...]:
        return tuple(spec for spec in self.containers if spec.group == group)

    def container(self, service: str) -> ContainerSpec:
        """The container of ``service``; KeyError if the stack has none."""
        for spec in self.containers:
            if spec.service == service:
                return spec
        raise KeyError(service)
