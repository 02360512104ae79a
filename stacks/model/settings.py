"""The validated settings of one stack (``stacks.model.load.load_settings`` reads them).

Every setting has a default, so an empty config is a valid (small, local) stack; the committed
``Pulumi.<stack>.yaml`` files set them explicitly.
"""

import ipaddress
from dataclasses import dataclass, field
from typing import Final, Literal

from stacks.model.app_version import AppVersion

__all__ = [
    "PLATFORMS",
    "PUBLISHABLE",
    "REDIS_MODES",
    "AlertingSettings",
    "AppSettings",
    "BackupSettings",
    "ImageSettings",
    "Platform",
    "PostgresSettings",
    "PrometheusSettings",
    "PublishSettings",
    "RedisMode",
    "RedisSettings",
    "StackSettings",
    "SwarmSettings",
]

RedisMode = Literal["standalone", "sentinel", "cluster"]
REDIS_MODES: Final[tuple[RedisMode, ...]] = ("standalone", "sentinel", "cluster")
PUBLISHABLE: Final = ("app", "prometheus", "postgres")
# docker: every container on one engine (fixed IPs); swarm: services on a Docker Swarm.
Platform = Literal["docker", "swarm"]
PLATFORMS: Final[tuple[Platform, ...]] = ("docker", "swarm")


@dataclass(frozen=True)
class RedisSettings:
    mode: RedisMode = "sentinel"
    replicas: int = 1
    sentinels: int = 3
    quorum: int = 2
    down_after_ms: int = 5000
    failover_timeout_ms: int = 60000
    parallel_syncs: int = 1
    master_name: str = "mymaster"
    cluster_node_timeout_ms: int = 5000
    # A master refuses writes unless this many replicas acknowledged within the lag (seconds):
    # a write then cannot land on a master that no replica follows (a demoted or cut-off one).
    # Sentinel mode only; rendered into every data node, since any replica may become master.
    min_replicas_to_write: int = 1
    min_replicas_max_lag_s: int = 5
    # Replicas that must confirm the app's durable writes (WAIT) and for how long (ms).
    wait_replicas: int = 1
    wait_timeout_ms: int = 1000

    @property
    def has_replicas(self) -> bool:
        """Whether the mode keeps copies on other nodes (sentinel replicas, cluster replicas)."""
        return self.mode != "standalone"

    @property
    def app_wait_replicas(self) -> int:
        """``REDIS_WAIT_REPLICAS`` for the app: 0 in standalone mode, which has no replica."""
        return self.wait_replicas if self.has_replicas else 0


@dataclass(frozen=True)
class PostgresSettings:
    user: str = "app"
    database: str = "app"
    # Connections beyond the app pools: the exporter, an admin session, migrations.
    headroom: int = 10


@dataclass(frozen=True)
class BackupSettings:
    """PostgreSQL backups with pgBackRest (stacks.model.conf.pgbackrest): base backups on a
    schedule, WAL archived continuously, the newest ``retention_full`` full backups kept."""

    full_every_s: int = 86_400
    # 0: no differential backups, only full ones.
    diff_every_s: int = 3_600
    retention_full: int = 2
    # PostgreSQL switches to a new WAL segment (and so archives it) at least this often while
    # there are writes: the most committed work a lost data volume can take with it.
    archive_timeout_s: int = 60

    @property
    def max_age_s(self) -> int:
        """Age of the newest backup past which the PostgresBackupTooOld alert fires: two of the
        shortest intervals, so one failed or slow run alone does not page."""
        shortest = min(self.full_every_s, self.diff_every_s or self.full_every_s)
        return 2 * shortest


@dataclass(frozen=True)
class AppSettings:
    env: Literal["development", "production"] = "development"
    web_replicas: int = 2
    workers: int = 1
    pool_size: int = 5
    database_timeout_ms: int = 10000
    database_retry_attempts: int = 5

    @property
    def metrics_secured(self) -> bool:
        """Production apps require the bearer token on /metrics."""
        return self.env == "production"


@dataclass(frozen=True)
class PrometheusSettings:
    scrape_interval: str = "15s"
    retention: str = "15d"


@dataclass(frozen=True)
class AlertingSettings:
    """Alertmanager: where notifications go and how it batches them.

    ``webhook_url`` None means the stack's own alert-receiver container, which records what it
    gets (the drills read it); a URL sends them to the user's webhook instead.
    """

    webhook_url: str | None = None
    group_wait: str = "30s"
    group_interval: str = "5m"
    repeat_interval: str = "4h"


@dataclass(frozen=True)
class PublishSettings:
    address: str = "127.0.0.1"
    services: tuple[str, ...] = ("app",)
    app_port: int = 8000
    prometheus_port: int = 9090
    postgres_port: int = 5432


@dataclass(frozen=True)
class ImageSettings:
    base_image: str = "debian:bookworm-slim"
    tag: str = "latest"
    build: bool = True
    # The app's version (appImageTag, appImageTags): its tag may differ from the kit's images'.
    app: AppVersion = field(default_factory=AppVersion)

    def name(self, image: str) -> str:
        """The full reference of one of the kit's images, e.g. ``ha-stack/redis:local``."""
        return f"ha-stack/{image}:{self.tag}"


@dataclass(frozen=True)
class SwarmSettings:
    """Platform swarm: the nodes carry the label ``ha-stack.node=1..nodes`` (placement
    constraints use it); PostgreSQL stays single-node, pinned to the node holding its volume."""

    nodes: int = 3
    postgres_node: int = 1


@dataclass(frozen=True)
class StackSettings:
    stack: str
    subnet: ipaddress.IPv4Network
    redis: RedisSettings
    postgres: PostgresSettings
    app: AppSettings
    prometheus: PrometheusSettings
    publish: PublishSettings
    images: ImageSettings
    protect_data: bool = False
    platform: Platform = "docker"
    swarm: SwarmSettings = SwarmSettings()
    backup: BackupSettings = BackupSettings()
    alerting: AlertingSettings = AlertingSettings()

    @property
    def prefix(self) -> str:
        """Prefix of every Docker object of the stack: ``ha-<stack>``."""
        return f"ha-{self.stack}"

    @property
    def max_connections(self) -> int:
        """PostgreSQL max_connections: every app process's pool plus headroom."""
        processes = self.app.web_replicas + self.app.workers
        return processes * self.app.pool_size + self.postgres.headroom
