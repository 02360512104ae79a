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
    """A service and the address the others reach it by: its fixed IPv4 on platform docker, its
    name (the overlay network's DNS answers it) on platform swarm, which fixes no addresses."""

    service: str
    ip: str


class Layout:
    """Service names and addresses of every role for one stack's settings.

    On platform swarm each web replica and worker is a task of one replicated service (``app``,
    ``worker``), so those roles have one placement each; everything else is one service per
    placement, as on docker.
    """

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.plan = AddressPlan(settings.subnet)

    @property
    def swarm(self) -> bool:
        return self.settings.platform == "swarm"

    def _place(self, service: str, role: str, index: int = 0) -> Placement:
        return Placement(service, service if self.swarm else self.plan.ip(role, index))

    def _many(self, role: str, count: int) -> list[Placement]:
        return [self._place(f"{role}-{i}", role, i) for i in range(count)]

    def one(self, role: str) -> Placement:
        return self._place(role, role)

    def _replicated(self, role: str, count: int) -> list[Placement]:
        if self.swarm:  # one service, ``count`` tasks (stacks.model.swarm sets the count)
            return [self.one(role)] if count else []
        return self._many(role, count)

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
        return self._replicated("app", self.settings.app.web_replicas)

    def workers(self) -> list[Placement]:
        return self._replicated("worker", self.settings.app.workers)

    def container_name(self, service: str) -> str:
        """``ha-<stack>-<service>``; on swarm ``ha-<stack>_<service>``, the name
        ``docker stack deploy ha-<stack>`` gives the service, so both deployers name it alike."""
        separator = "_" if self.swarm else "-"
        return f"{self.settings.prefix}{separator}{service}"

    def volume_name(self, service: str) -> str:
        return f"{self.settings.prefix}-{service}-data"
