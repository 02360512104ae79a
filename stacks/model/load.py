"""Read and validate one stack's settings from the raw Pulumi config mapping.

``load_settings`` fails with StackConfigError on the first bad key, before anything is declared
or rendered: each value on its own (stacks.model.config), then across values
(stacks.model.checks).
"""

import ipaddress
import re
import urllib.parse
from collections.abc import Mapping
from typing import Final, Literal, cast

from stacks.model.app_version import TAG_PATTERN, check_app_version, read_app_version
from stacks.model.checks import (
    check_app_ports,
    check_backup_schedule,
    check_max_connections,
    check_subnet_free,
)
from stacks.model.config import ConfigReader
from stacks.model.errors import StackConfigError
from stacks.model.platform import PLATFORM_KEYS, check_platform, read_platform, read_swarm
from stacks.model.secret_keys import SECRET_CONFIG_KEYS
from stacks.model.settings import (
    PUBLISHABLE,
    REDIS_MODES,
    AlertingSettings,
    AppSettings,
    BackupSettings,
    ImageSettings,
    PostgresSettings,
    PrometheusSettings,
    PublishSettings,
    RedisMode,
    RedisSettings,
    StackSettings,
)

__all__ = ["KNOWN_KEYS", "default_subnet", "load_settings", "stack_subnet"]

_NAME = r"[A-Za-z][A-Za-z0-9_.-]{0,62}"
KNOWN_KEYS: Final = (
    "redisMode", "redisReplicas", "sentinelCount", "sentinelQuorum", "sentinelDownAfterMs",
    "sentinelFailoverTimeoutMs", "sentinelParallelSyncs", "redisMasterName",
    "clusterNodeTimeoutMs", "redisMinReplicasToWrite", "redisMinReplicasMaxLagS",
    "redisWaitReplicas", "redisWaitTimeoutMs", "postgresUser", "postgresDatabase",
    "postgresHeadroom", "appEnv",
    "appReplicas", "appWorkers", "databasePoolSize", "databaseTimeoutMs",
    "databaseRetryAttempts", "prometheusScrapeInterval", "prometheusRetention",
    "publishAddress", "publish", "appHostPort", "prometheusHostPort", "postgresHostPort",
    *PLATFORM_KEYS,
    "subnet", "baseImage", "imageTag", "appImageTag", "appImageTags", "buildImages",
    "protectData",
    "postgresBackupFullEvery", "postgresBackupDiffEvery", "postgresBackupRetention",
    "postgresArchiveTimeout", "alertWebhookUrl",
    "alertGroupWait", "alertGroupInterval", "alertRepeatInterval", *SECRET_CONFIG_KEYS,
)  # fmt: skip
_WEBHOOK_EXAMPLE: Final = "https://hooks.example.com/ha-stack"


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


def _webhook_url(read: ConfigReader) -> str | None:
    """``alertWebhookUrl``: an http(s) URL with a host and no user-info (the rendered
    alertmanager.yml is committed, so a password in it would be too); unset or blank: None."""
    key = read.key("alertWebhookUrl")
    text = read.string("alertWebhookUrl", "", pattern=r"\S*", example=_WEBHOOK_EXAMPLE)
    if not text:
        return None
    parsed = urllib.parse.urlsplit(text)
    problem = None
    if parsed.scheme not in ("http", "https"):
        problem = f"{text!r} is not an http:// or https:// URL"
    elif not parsed.hostname:
        problem = f"{text!r} names no host"
    elif parsed.username is not None or parsed.password is not None:
        problem = "the URL carries user-info; the rendered alertmanager.yml is committed"
    else:
        try:
            parsed.port  # noqa: B018 (urllib raises ValueError for a bad port only when read)
        except ValueError:
            problem = f"{text!r} has a bad port"
    if problem:
        raise StackConfigError(key, problem, _WEBHOOK_EXAMPLE)
    return text


def _alerting(read: ConfigReader) -> AlertingSettings:
    return AlertingSettings(
        webhook_url=_webhook_url(read),
        group_wait=read.duration("alertGroupWait", "30s", example="30s"),
        group_interval=read.duration("alertGroupInterval", "5m", example="5m"),
        repeat_interval=read.duration("alertRepeatInterval", "4h", example="4h"),
    )


_SECONDS_PER: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(
    read: ConfigReader, name: str, default: str, *, minimum: int, maximum: int, off: bool = False
) -> int:
    """A duration such as ``90s``, ``15m``, ``6h`` or ``1d`` in seconds (``off``: 0 when allowed);
    StackConfigError naming the key and the allowed range otherwise."""
    value = read.string(
        name, default, pattern=r"(off|[1-9][0-9]*[smhd])" if off else r"[1-9][0-9]*[smhd]",
        example=default,
    )  # fmt: skip
    if value == "off":
        return 0
    seconds = int(value[:-1]) * _SECONDS_PER[value[-1]]
    if not minimum <= seconds <= maximum:
        raise StackConfigError(
            read.key(name),
            f"{value} is {seconds} s, outside {minimum} s..{maximum} s ({maximum // 86400} d)",
            default,
        )
    return seconds


def _backup(read: ConfigReader) -> BackupSettings:
    return BackupSettings(
        full_every_s=_seconds(
            read, "postgresBackupFullEvery", "1d", minimum=60, maximum=90 * 86400
        ),
        diff_every_s=_seconds(
            read, "postgresBackupDiffEvery", "1h", minimum=60, maximum=90 * 86400, off=True
        ),
        retention_full=read.integer("postgresBackupRetention", 2, minimum=1, maximum=100),
        archive_timeout_s=_seconds(read, "postgresArchiveTimeout", "60s", minimum=5, maximum=86400),
    )


def default_subnet(stack: str) -> str:
    """The subnet of a stack that sets none: prod's, or the one every other stack shares."""
    return "172.28.20.0/24" if stack == "prod" else "172.28.10.0/24"


def stack_subnet(stack: str, raw: Mapping[str, object]) -> ipaddress.IPv4Network:
    """The subnet the raw config of ``stack`` asks for; StackConfigError for a bad one."""
    return ConfigReader(raw).ipv4_network("subnet", default_subnet(stack), max_prefix=24)


def load_settings(
    stack: str,
    raw: Mapping[str, object],
    *,
    other_subnets: Mapping[str, ipaddress.IPv4Network] | None = None,
) -> StackSettings:
    """Validate the raw config of ``stack``; raises StackConfigError on the first bad key.

    ``other_subnets`` (stack -> subnet) are the other stacks' networks on this host, which the
    stack's subnet must not overlap (stacks.model.stackfile.other_stack_subnets reads them).
    """
    read = ConfigReader(raw)
    unknown = read.unknown_keys(KNOWN_KEYS)
    if unknown:
        raise StackConfigError(
            unknown[0], f"unknown setting (known: {', '.join(KNOWN_KEYS)})", "<a known key>"
        )
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", stack):
        raise StackConfigError("stack", f"{stack!r} is not a valid stack name", "dev")
    settings = StackSettings(
        stack=stack,
        subnet=stack_subnet(stack, raw),
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
            tag=(tag := read.string("imageTag", "latest", pattern=TAG_PATTERN, example="latest")),
            build=read.boolean("buildImages", True),
            app=read_app_version(raw, tag),
        ),
        protect_data=read.boolean("protectData", False),
        platform=read_platform(read),
        swarm=read_swarm(read),
        backup=_backup(read),
        alerting=_alerting(read),
    )  # fmt: skip
    check_app_ports(settings)
    check_app_version(settings.images.app, settings.app.web_replicas, settings.app.workers)
    check_max_connections(settings)
    check_backup_schedule(settings)
    check_subnet_free(settings, other_subnets or {})
    check_platform(settings)
    return settings
