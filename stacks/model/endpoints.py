"""How a stack's services are reached: the address strings that the app, the containers and the
stack outputs use, each built once from the Layout."""

from collections.abc import Sequence
from typing import Final
from urllib.parse import urlencode

from stacks.model.layout import Layout
from stacks.model.spec import ContainerSpec

__all__ = [
    "APP_PORT",
    "POSTGRES_PORT",
    "PROMETHEUS_PORT",
    "REDIS_PORT",
    "SENTINEL_PORT",
    "cluster_nodes",
    "postgres_address",
    "postgres_dsn",
    "redis_url",
    "sentinel_hosts",
    "stack_outputs",
]

REDIS_PORT: Final = 6379
SENTINEL_PORT: Final = 26379
POSTGRES_PORT: Final = 5432
APP_PORT: Final = 8000
PROMETHEUS_PORT: Final = 9090


def redis_url(layout: Layout) -> str:
    """Standalone mode's URL: the first data node, database 0."""
    return f"redis://{layout.redis_nodes()[0].ip}:{REDIS_PORT}/0"


def sentinel_hosts(layout: Layout) -> str:
    """``ip:port,ip:port`` of the Sentinels (empty outside sentinel mode)."""
    return ",".join(f"{s.ip}:{SENTINEL_PORT}" for s in layout.sentinels())


def cluster_nodes(layout: Layout) -> tuple[str, ...]:
    """``ip:port`` of every data node (the cluster's nodes in cluster mode)."""
    return tuple(f"{n.ip}:{REDIS_PORT}" for n in layout.redis_nodes())


def postgres_address(layout: Layout) -> str:
    return f"{layout.one('postgres').ip}:{POSTGRES_PORT}"


def postgres_dsn(layout: Layout, **params: str) -> str:
    """The database URL with the password as the ``${POSTGRES_PASSWORD}`` secret template."""
    pg = layout.settings.postgres
    query = f"?{urlencode(params)}" if params else ""
    return (
        f"postgresql://{pg.user}:${{POSTGRES_PASSWORD}}@{postgres_address(layout)}/"
        f"{pg.database}{query}"
    )


def stack_outputs(layout: Layout, containers: Sequence[ContainerSpec]) -> dict[str, str]:
    """The stack's exported endpoints: addresses inside the network, then published ones."""
    settings = layout.settings
    web = [c for c in containers if c.command == ("app-entrypoint", "web")]
    outputs = {
        "network": settings.prefix,
        "subnet": str(settings.subnet),
        "redisMode": settings.redis.mode,
        "postgresAddress": postgres_address(layout),
        "prometheusUrl": f"http://{layout.one('prometheus').ip}:{PROMETHEUS_PORT}",
        "appUrls": ",".join(f"http://{c.ip}:{APP_PORT}" for c in web),
    }
    if settings.redis.mode == "standalone":
        outputs["redisUrl"] = redis_url(layout)
    elif settings.redis.mode == "sentinel":
        outputs["redisSentinelHosts"] = sentinel_hosts(layout)
        outputs["redisMasterName"] = settings.redis.master_name
    else:
        outputs["redisClusterNodes"] = ",".join(cluster_nodes(layout))
    published = {
        "app": "appPublishedUrls",
        "prometheus": "prometheusPublishedUrl",
        "postgres": "postgresPublishedAddress",
    }
    for service, key in published.items():
        ports = [
            p for c in containers if c.group == service or c.service == service for p in c.ports
        ]
        if ports:
            scheme = "" if service == "postgres" else "http://"
            outputs[key] = ",".join(f"{scheme}{p.host_address}:{p.host_port}" for p in ports)
    return outputs
