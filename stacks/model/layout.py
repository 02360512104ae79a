"""Which containers a stack has and where they sit: the one place that counts nodes and replicas.

build_topology makes one per stack and hands it to every container builder and config renderer
(prometheus.yml's targets included), so a scrape target exists exactly when its container does.
"""

from dataclasses import dataclass

from stacks.model.addressing import AddressPlan
from stacks.model.settings import StackSettings

__all__ = ["Layout", "Placement"]

CLUSTER_NODES = 6  # three masters, three replicas (--cluster-replicas 1)


@dataclass(frozen=True)
class Placement:
    service: str
    ip: str


class Layout:
    """Service names and fixed IPs of every role for one stack's settings."""

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.plan = AddressPlan(settings.subnet)

    def _many(self, role: str, count: int) -> list[Placement]:
        return [Placement(f"{role}-{i}", self.plan.ip(role, i)) for i in range(count)]

    def one(self, role: str) -> Placement:
        return Placement(role, self.plan.ip(role))

    def redis_nodes(self) -> list[Placement]:
        """Data nodes; ``redis-0`` keeps its address in standalone and sentinel modes."""
        redis = self.settings.redis
        if redis.mode == "cluster":
            return self._many("redis-cluster", CLUSTER_NODES)
        return self._many("redis", 1 + (redis.replicas if redis.mode == "sentinel" else 0))

    def sentinels(self) -> list[Placement]:
        redis = self.settings.redis
        return self._many("sentinel", redis.sentinels if redis.mode == "sentinel" else 0)

    def web_replicas(self) -> list[Placement]:
        return self._many("app", self.settings.app.web_replicas)

    def workers(self) -> list[Placement]:
        return self._many("worker", self.settings.app.workers)

    def container_name(self, service: str) -> str:
        return f"{self.settings.prefix}-{service}"

    def volume_name(self, service: str) -> str:
        return f"{self.settings.prefix}-{service}-data"
