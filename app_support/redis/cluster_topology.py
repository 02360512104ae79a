"""Cluster mode: the cluster's shape as the cluster itself reports it now (``CLUSTER NODES``).

redis-py's cluster client keeps the node list it read at start and re-reads it only after an error
or a MOVED. The health report asks the cluster instead, so a replica that joined after the client
started, or a master that failed, shows at once. Pure parsing; the caller sends the command.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["ClusterNode", "ClusterShape", "cluster_shape", "parse_cluster_nodes"]

# Flags of a node that does not serve: failed (or suspected), still joining, or without address.
_DOWN_FLAGS = frozenset({"fail", "fail?", "handshake", "noaddr"})


@dataclass(frozen=True)
class ClusterNode:
    address: str  # host:port
    flags: frozenset[str]
    slots: tuple[object, ...]

    @property
    def up(self) -> bool:
        return not self.flags & _DOWN_FLAGS

    @property
    def master(self) -> bool:
        return "master" in self.flags


@dataclass(frozen=True)
class ClusterShape:
    """Nodes that serve, the masters among them holding slots, and the replicas among them."""

    nodes: int
    masters: tuple[str, ...]
    replicas: int


def parse_cluster_nodes(reply: object) -> list[ClusterNode]:
    """The nodes of a ``CLUSTER NODES`` reply: raw text (bytes or str) or redis-py's parsed
    mapping (``{"host:port": {"flags": ..., "slots": [...]}}``). Unreadable lines are left out."""
    if isinstance(reply, Mapping):
        return [
            ClusterNode(
                str(address), frozenset(str(info["flags"]).split(",")), tuple(info["slots"])
            )
            for address, info in reply.items()
        ]
    text = reply.decode() if isinstance(reply, bytes) else str(reply)
    nodes = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 8:
            # <id> <ip:port@cport[,host]> <flags> <master> <ping> <pong> <epoch> <link> <slot>...
            address = fields[1].split("@", 1)[0]
            nodes.append(ClusterNode(address, frozenset(fields[2].split(",")), tuple(fields[8:])))
    return nodes


def cluster_shape(reply: object) -> ClusterShape:
    """What a ``CLUSTER NODES`` reply says serves now (failed and joining nodes left out)."""
    up = [node for node in parse_cluster_nodes(reply) if node.up]
    return ClusterShape(
        nodes=len(up),
        masters=tuple(sorted(n.address for n in up if n.master and n.slots)),
        replicas=sum(not n.master for n in up),
    )
