"""The ``platform`` setting: one Docker engine (``docker``) or a Docker Swarm (``swarm``).

Read and checked here, before anything is declared or rendered: what a Swarm needs that one
engine does not (a node of its own for each Redis data node and each Sentinel, one web replica
per node since each publishes the app's port in host mode, images present on every node).
"""

from typing import Final, cast

from stacks.model.config import ConfigReader
from stacks.model.errors import StackConfigError
from stacks.model.settings import PLATFORMS, Platform, StackSettings, SwarmSettings

__all__ = ["MAX_SWARM_NODES", "PLATFORM_KEYS", "check_platform", "read_platform", "read_swarm"]

PLATFORM_KEYS: Final = ("platform", "swarmNodes", "swarmPostgresNode")
MAX_SWARM_NODES: Final = 9


def read_platform(read: ConfigReader) -> Platform:
    """``platform``: docker (default) or swarm; StackConfigError naming the key otherwise."""
    return cast(Platform, read.choice("platform", "docker", PLATFORMS))


def read_swarm(read: ConfigReader) -> SwarmSettings:
    """``swarmNodes`` (nodes labelled ``ha-stack.node=1..N``) and ``swarmPostgresNode``."""
    nodes = read.integer("swarmNodes", 3, minimum=1, maximum=MAX_SWARM_NODES)
    postgres_node = read.integer("swarmPostgresNode", 1, minimum=1, maximum=MAX_SWARM_NODES)
    if postgres_node > nodes:
        raise StackConfigError(
            read.key("swarmPostgresNode"), f"node {postgres_node} is past swarmNodes {nodes}", "1"
        )
    return SwarmSettings(nodes=nodes, postgres_node=postgres_node)


def _key(name: str) -> str:
    return ConfigReader.key(name)


def _check_one_per_node(settings: StackSettings) -> None:
    """Each Redis data node, each Sentinel and each web replica needs a node of its own."""
    redis, nodes = settings.redis, settings.swarm.nodes
    data_nodes = 1 + (redis.replicas if redis.mode == "sentinel" else 0)
    if data_nodes > nodes:
        raise StackConfigError(
            _key("redisReplicas"),
            f"1 master + {redis.replicas} replicas need {data_nodes} nodes, swarmNodes is {nodes}"
            " (each Redis data node runs on a node of its own)",
            str(max(1, nodes - 1)),
        )
    sentinels = redis.sentinels if redis.mode == "sentinel" else 0
    if sentinels > nodes:
        raise StackConfigError(
            _key("sentinelCount"),
            f"{sentinels} Sentinels need {sentinels} nodes, swarmNodes is {nodes}"
            " (each Sentinel runs on a node of its own)",
            str(nodes),
        )
    if settings.app.web_replicas > nodes:
        raise StackConfigError(
            _key("appReplicas"),
            f"{settings.app.web_replicas} web replicas need {settings.app.web_replicas} nodes,"
            f" swarmNodes is {nodes} (each publishes appHostPort in host mode, one per node)",
            str(nodes),
        )


def check_platform(settings: StackSettings) -> None:
    """StackConfigError for settings platform swarm cannot honour (nothing to check on docker)."""
    if settings.platform != "swarm":
        return
    if settings.redis.mode == "cluster":
        raise StackConfigError(
            _key("redisMode"),
            "cluster mode is not supported on platform swarm (Redis Cluster nodes announce"
            " addresses Swarm does not keep fixed)",
            "sentinel",
        )
    _check_one_per_node(settings)
    every_address = "0.0.0.0"  # noqa: S104 (what Swarm binds host-mode ports to)
    if settings.publish.address != every_address:
        raise StackConfigError(
            _key("publishAddress"),
            f"{settings.publish.address}: Swarm publishes host-mode ports on every address of"
            " the node",
            every_address,
        )
    if settings.images.build:
        raise StackConfigError(
            _key("buildImages"),
            "a Swarm runs tasks on every node, and Pulumi would build the images on one engine"
            " only: build them (scripts/build-images) and load them on each node, or push them"
            " to a registry",
            "false",
        )
    if settings.protect_data:
        raise StackConfigError(
            _key("protectData"),
            "on a Swarm each node's engine creates the data volumes its tasks mount; they are"
            " not Pulumi resources and cannot be protected",
            "false",
        )
