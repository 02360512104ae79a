"""A deployed Redis Cluster as the dev-cluster suite and drills read it: ``CLUSTER NODES`` and
``CLUSTER INFO`` asked inside a node's container (redis-cli, REDISCLI_AUTH from its environment)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.infra.deployed import DeployedStack

__all__ = ["ClusterNodeLine", "cluster_info", "cluster_nodes", "data_nodes", "serving_node"]


@dataclass(frozen=True)
class ClusterNodeLine:
    """One line of ``CLUSTER NODES``."""

    node_id: str
    ip: str
    flags: frozenset[str]
    master_id: str  # "-" for a master
    link: str  # connected | disconnected
    slots: tuple[str, ...]

    @property
    def master(self) -> bool:
        return "master" in self.flags

    @property
    def failing(self) -> bool:
        return bool(self.flags & {"fail", "fail?"})


def data_nodes(stack: DeployedStack) -> list[str]:
    """The cluster's data-node services (``redis-cluster-0`` ...), in model order."""
    return stack.services("redis", command="server")


def cluster_nodes(stack: DeployedStack, service: str) -> list[ClusterNodeLine]:
    """``CLUSTER NODES`` as the node ``service`` sees the cluster."""
    lines = []
    for line in stack.redis_cli(service, "CLUSTER", "NODES").splitlines():
        fields = line.split()
        if len(fields) >= 8:
            lines.append(
                ClusterNodeLine(
                    node_id=fields[0],
                    ip=fields[1].split(":")[0],
                    flags=frozenset(fields[2].split(",")),
                    master_id=fields[3],
                    link=fields[7],
                    slots=tuple(fields[8:]),
                )
            )
    return lines


def cluster_info(stack: DeployedStack, service: str) -> dict[str, str]:
    """``CLUSTER INFO`` of one node as a mapping."""
    info = stack.redis_cli(service, "CLUSTER", "INFO")
    return dict(re.findall(r"^(\w+):(.*?)\r?$", info, re.MULTILINE))


def serving_node(stack: DeployedStack, avoid: str | None = None) -> str:
    """A data node that answers now (not ``avoid``): the first one whose container runs."""
    for service in data_nodes(stack):
        if service != avoid and stack.inspect(service)["State"]["Running"]:
            return service
    raise AssertionError(f"no running data node in stack {stack.name}")
