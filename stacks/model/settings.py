"""Validated settings for one stack, read from the raw Pulumi config mapping.

Every setting has a default, so an empty config is a valid (small, local) stack; the committed
``Pulumi.<stack>.yaml`` files set them explicitly. ``load_settings`` fails with StackConfigError
before anything is declared or rendered.
"""

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal, cast

from stacks.model.config import ConfigReader
from stacks.model.errors import StackConfigError

__all__ = [
    "PUBLISHABLE",
    "REDIS_MODES",
    "SECRET_CONFIG_KEYS",
    "AppSettings",
    "ImageSettings",
    "PostgresSettings",
    "PrometheusSettings",
    "PublishSettings",
    "RedisMode",
    "RedisSettings",
    "StackSettings",
    "check_secret_value",
    "load_settings",
]

RedisMode = Literal["standalone", "sentinel", "cluster"]
REDIS_MODES: Final[tuple[RedisMode, ...]] = ("standalone", "sentinel", "cluster")
PUBLISHABLE: Final = ("app", "prometheus", "postgres")
# Secret config keys -> the secret they set. Only the Pulumi program reads them (as Outputs);
# the model never sees a secret value.
SECRET_CONFIG_KEYS: Final = {
    "redisPassword": "REDIS_PASSWORD",
    "redisSentinelPassword": "REDIS_SENTINEL_PASSWORD",
    "postgresPassword": "POSTGRES_PASSWORD",
    "metricsToken": "METRICS_TOKEN",
}
_NAME = r"[A-Za-z][A-Za-z0-9_.-]{0,62}"
# Secrets are embedded unescaped in DATABASE_URL and redis configs: URI-unreserved characters only.
_SECRET_VALUE = re.compile(r"[A-Za-z0-9._~-]{8,}")


def check_secret_value(key: str, value: str) -> str:
    """Return ``value`` if it suits the secret config ``key``; raise StackConfigError if not."""
    if not _SECRET_VALUE.fullmatch(value):
        raise StackConfigError(
            f"ha-stack:{key}",
            "a secret must be at least 8 characters of A-Z a-z 0-9 . _ ~ - (it goes into URLs)",
            "--secret $(openssl rand -hex 24)",
        )
    return value


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

    def name(self, image: str) -> str:
        """The full reference of one of the kit's images, e.g. ``ha-stack/redis:local``."""
        return f"ha-stack/{image}:{self.tag}"


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

    @property
    def prefix(self) -> str:
        """Prefix of every Docker object of the stack: ``ha-<stack>``."""
        return f"ha-{self.stack}"

    @property
    def max_connections(self) -> int:
        """PostgreSQL max_connections: every app process's pool plus headroom."""
        processes = self.app.web_replicas + self.app.workers
        return processes * self.app.pool_size + self.postgres.headroom


_KNOWN_KEYS: Final = (
    "redisMode", "redisReplicas", "sentinelCount", "sentinelQuorum", "sentinelDownAfterMs",
    "sentinelFailoverTimeoutMs", "sentinelParallelSyncs", "redisMasterName",
    "clusterNodeTimeoutMs", "redisMinReplicasToWrite", "redisMinReplicasMaxLagS",
    "redisWaitReplicas", "redisWaitTimeoutMs", "postgresUser", "postgresDatabase",
    "postgresHeadroom", "appEnv",
    "appReplicas", "appWorkers", "databasePoolSize", "databaseTimeoutMs",
    "databaseRetryAttempts", "prometheusScrapeInterval", "prometheusRetention",
    "publishAddress", "publish", "appHostPort", "prometheusHostPort", "postgresHostPort",
    "subnet", "baseImage", "imageTag", "buildImages", "protectData", *SECRET_CONFIG_KEYS,
)  # fmt: skip


def _redis(read: ConfigReader) -> RedisSettings:
    mode = cast(RedisMode, read.choice("redisMode", "sentinel", REDIS_MODES))
    sentinels = read.integer("sentinelCount", 3, minimum=1, maximum=9)
    replicas = read.integer("redisReplicas", 1, minimum=0, maximum=8)
    # Durability first: with a replica, a master refuses writes no replica follows and the app
    # waits for one replica to confirm its durable writes (README "Durability and failover").
    durable_default = 1 if replicas >= 1 else 0
    settings = RedisSettings(
        mode=mode,
        replicas=replicas,
        sentinels=sentinels,
        quorum=read.integer("sentinelQuorum", 2, minimum=1, maximum=9),
        down_after_ms=read.integer("sentinelDownAfterMs", 5000, minimum=100, maximum=600_000),
        failover_timeout_ms=read.integer(
            "sentinelFailoverTimeoutMs", 60000, minimum=1000, maximum=3_600_000
        ),
        parallel_syncs=read.integer("sentinelParallelSyncs", 1, minimum=1, maximum=8),
        master_name=read.string("redisMasterName", "mymaster", pattern=_NAME, example="mymaster"),
        cluster_node_timeout_ms=read.integer(
            "clusterNodeTimeoutMs", 5000, minimum=500, maximum=600_000
        ),
        min_replicas_to_write=read.integer(
            "redisMinReplicasToWrite", durable_default, minimum=0, maximum=8
        ),
        min_replicas_max_lag_s=read.integer("redisMinReplicasMaxLagS", 5, minimum=1, maximum=600),
        wait_replicas=read.integer("redisWaitReplicas", durable_default, minimum=0, maximum=8),
        wait_timeout_ms=read.integer("redisWaitTimeoutMs", 1000, minimum=10, maximum=60_000),
    )
    if mode == "sentinel":
        # Replica and Sentinel settings only shape sentinel mode; the other modes ignore them,
        # so switching redisMode back and forth needs no other change.
        if settings.quorum > settings.sentinels:
            raise StackConfigError(
                read.key("sentinelQuorum"),
                f"quorum {settings.quorum} exceeds sentinelCount {settings.sentinels}",
                str(settings.sentinels // 2 + 1),
            )
        if settings.replicas < 1:
            raise StackConfigError(
                read.key("redisReplicas"), "sentinel mode needs a replica to fail over to", "2"
            )
        # More than there are replicas and a master refuses every write (or WAIT always fails).
        for key, value in (
            ("redisMinReplicasToWrite", settings.min_replicas_to_write),
            ("redisWaitReplicas", settings.wait_replicas),
        ):
            if value > settings.replicas:
                raise StackConfigError(
                    read.key(key),
                    f"{value} exceeds redisReplicas {settings.replicas}",
                    str(min(1, settings.replicas)),
                )
    elif mode == "cluster" and settings.wait_replicas > 1:
        # The cluster has one replica per master (--cluster-replicas 1).
        raise StackConfigError(
            read.key("redisWaitReplicas"),
            f"{settings.wait_replicas} exceeds the cluster's 1 replica per master",
            "1",
        )
    return settings


def _app(read: ConfigReader) -> AppSettings:
    env = read.choice("appEnv", "development", ("development", "production"))
    return AppSettings(
        env=cast(Literal["development", "production"], env),
        web_replicas=read.integer("appReplicas", 2, minimum=1, maximum=50),
        workers=read.integer("appWorkers", 1, minimum=0, maximum=50),
        pool_size=read.integer("databasePoolSize", 5, minimum=1, maximum=200),
        database_timeout_ms=read.integer("databaseTimeoutMs", 10000, minimum=100, maximum=600_000),
        database_retry_attempts=read.integer("databaseRetryAttempts", 5, minimum=1, maximum=100),
    )


def _publish(read: ConfigReader) -> PublishSettings:
    ports = {
        name: read.integer(name, default, minimum=1, maximum=65535)
        for name, default in (("appHostPort", 8000), ("prometheusHostPort", 9090))
    }
    return PublishSettings(
        address=read.ipv4_address("publishAddress", "127.0.0.1"),
        services=tuple(read.string_list("publish", ("app",), PUBLISHABLE)),
        app_port=ports["appHostPort"],
        prometheus_port=ports["prometheusHostPort"],
        postgres_port=read.integer("postgresHostPort", 5432, minimum=1, maximum=65535),
    )


def load_settings(stack: str, raw: Mapping[str, object]) -> StackSettings:
    """Validate the raw config of ``stack``; raises StackConfigError on the first bad key."""
    read = ConfigReader(raw)
    unknown = read.unknown_keys(_KNOWN_KEYS)
    if unknown:
        raise StackConfigError(
            unknown[0], f"unknown setting (known: {', '.join(_KNOWN_KEYS)})", "<a known key>"
        )
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", stack):
        raise StackConfigError("stack", f"{stack!r} is not a valid stack name", "dev")
    default_subnet = "172.28.20.0/24" if stack == "prod" else "172.28.10.0/24"
    return StackSettings(
        stack=stack,
        subnet=read.ipv4_network("subnet", default_subnet, max_prefix=24),
        redis=_redis(read),
        postgres=PostgresSettings(
            user=read.string("postgresUser", "app", pattern=_NAME, example="app"),
            database=read.string("postgresDatabase", "app", pattern=_NAME, example="app"),
            headroom=read.integer("postgresHeadroom", 10, minimum=3, maximum=1000),
        ),
        app=_app(read),
        prometheus=PrometheusSettings(
            scrape_interval=read.duration("prometheusScrapeInterval", "15s", example="15s"),
            retention=read.duration("prometheusRetention", "15d", example="15d"),
        ),
        publish=_publish(read),
        images=ImageSettings(
            base_image=read.string(
                "baseImage", "debian:bookworm-slim", pattern=r"[a-z0-9][\w./:@-]*",
                example="debian:bookworm-slim",
            ),
            tag=read.string("imageTag", "latest", pattern=r"[\w][\w.-]{0,127}", example="latest"),
            build=read.boolean("buildImages", True),
        ),
        protect_data=read.boolean("protectData", False),
    )  # fmt: skip
