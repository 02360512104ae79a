"""The fixed IPv4 plan of a stack's network.

Sentinels and cluster nodes must reach each other by IP: a Sentinel that monitors a Docker hostname
loses it from Docker's DNS when the master container stops and never fails over. Every container
therefore gets a fixed address at a fixed offset inside the stack's subnet (a /24 or larger).
"""

import ipaddress
from dataclasses import dataclass
from typing import Final

__all__ = ["OFFSETS", "AddressPlan"]

# Offsets inside the subnet; the gateway takes .1. Ranges leave room for the maximum counts the
# settings allow (9 Redis nodes, 9 Sentinels, 50 web replicas, 50 workers).
OFFSETS: Final = {
    "redis": 10,
    "sentinel": 20,
    "redis-cluster": 30,
    "redis-cluster-init": 39,
    "postgres": 40,
    "postgres-backup": 41,
    "prometheus": 50,
    "redis-exporter": 51,
    "sentinel-exporter": 52,
    "postgres-exporter": 53,
    "alertmanager": 54,
    "alert-receiver": 55,
    "app": 100,
    "worker": 150,
}


@dataclass(frozen=True)
class AddressPlan:
    subnet: ipaddress.IPv4Network

    def ip(self, role: str, index: int = 0) -> str:
        """The address of the ``index``-th container of ``role``; KeyError for an unknown role."""
        return str(self.subnet.network_address + OFFSETS[role] + index)

    @property
    def gateway(self) -> str:
        return str(self.subnet.network_address + 1)
