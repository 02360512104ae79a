"""The Redis containers of each mode: one node, master + replicas + Sentinels, or a cluster."""

from stacks.model.conf.redis import (
    render_cluster_node_conf,
    render_redis_conf,
    render_sentinel_conf,
)
from stacks.model.endpoints import REDIS_PORT, SENTINEL_PORT, cluster_nodes, sentinel_hosts
from stacks.model.layout import Layout, Placement
from stacks.model.spec import ConfigFile, ContainerSpec, Healthcheck, VolumeMount

__all__ = ["redis_containers"]

_NODE_SECRETS = {"REDIS_PASSWORD": "${REDIS_PASSWORD}", "REDISCLI_AUTH": "${REDIS_PASSWORD}"}


def _ping(port: int) -> Healthcheck:
    return Healthcheck(argv=("redis-cli", "-p", str(port), "--no-auth-warning", "ping"))


def _node(
    layout: Layout,
    node: Placement,
    conf: str,
    depends_on: tuple[str, ...],
    sentinel_env: tuple[dict[str, str], dict[str, str]] = ({}, {}),
) -> ContainerSpec:
    env, secret_env = sentinel_env
    return ContainerSpec(
        service=node.service,
        name=layout.container_name(node.service),
        group="redis",
        image=layout.settings.images.name("redis"),
        command=("redis-entrypoint", "server"),
        ip=node.ip,
        user="redis",
        env=env,
        secret_env={**_NODE_SECRETS, **secret_env},
        volumes=(VolumeMount(layout.volume_name(node.service), "/data"),),
        files={"/etc/redis/redis.conf": ConfigFile(f"redis/{node.service}.conf", conf)},
        healthcheck=_ping(REDIS_PORT),
        depends_on=depends_on,
    )


def _sentinel_env(layout: Layout) -> tuple[dict[str, str], dict[str, str]]:
    """What a data node's entrypoint needs to ask the Sentinels for the current master at start.

    A restarted node then rejoins as a replica of that master instead of serving as a second one.
    """
    env = {
        "REDIS_SENTINEL_HOSTS": sentinel_hosts(layout),
        "REDIS_MASTER_NAME": layout.settings.redis.master_name,
    }
    return env, {"REDIS_SENTINEL_PASSWORD": "${REDIS_SENTINEL_PASSWORD}"}


def _replicated(layout: Layout) -> list[ContainerSpec]:
    nodes = layout.redis_nodes()
    master = nodes[0]
    redis = layout.settings.redis
    if redis.mode != "sentinel":  # standalone: one node, no replica to wait for
        conf = render_redis_conf(ip=master.ip, replica_of=None, mode=redis.mode)
        return [_node(layout, master, conf, ())]
    sentinel_env = _sentinel_env(layout)
    specs = [
        _node(
            layout,
            n,
            render_redis_conf(
                ip=n.ip,
                replica_of=None if n is master else master.ip,
                mode=redis.mode,
                settings=redis,
            ),
            () if n is master else (master.service,),
            sentinel_env,
        )
        for n in nodes
    ]
    for sentinel in layout.sentinels():
        conf = render_sentinel_conf(
            ip=sentinel.ip, master_ip=master.ip, settings=redis, hostnames=layout.swarm
        )
        specs.append(
            ContainerSpec(
                service=sentinel.service,
                name=layout.container_name(sentinel.service),
                group="redis",
                image=layout.settings.images.name("redis"),
                command=("redis-entrypoint", "sentinel"),
                ip=sentinel.ip,
                user="redis",
                env={"REDIS_MASTER_NAME": redis.master_name},
                secret_env={
                    "REDIS_PASSWORD": "${REDIS_PASSWORD}",
                    "REDIS_SENTINEL_PASSWORD": "${REDIS_SENTINEL_PASSWORD}",
                    "REDISCLI_AUTH": "${REDIS_SENTINEL_PASSWORD}",
                },
                # Sentinel rewrites its config: the entrypoint copies it into this volume.
                volumes=(VolumeMount(layout.volume_name(sentinel.service), "/data"),),
                files={
                    "/etc/redis/sentinel.conf": ConfigFile(
                        f"sentinel/{sentinel.service}.conf", conf
                    )
                },
                healthcheck=_ping(SENTINEL_PORT),
                depends_on=tuple(n.service for n in nodes),
            )
        )
    return specs


def _cluster(layout: Layout) -> list[ContainerSpec]:
    timeout = layout.settings.redis.cluster_node_timeout_ms
    nodes = layout.redis_nodes()
    specs = [
        _node(layout, n, render_cluster_node_conf(ip=n.ip, node_timeout_ms=timeout), ())
        for n in nodes
    ]
    init = layout.one("redis-cluster-init")
    specs.append(
        ContainerSpec(
            service=init.service,
            name=layout.container_name(init.service),
            group="redis",
            image=layout.settings.images.name("redis"),
            command=("redis-entrypoint", "cluster-init", *cluster_nodes(layout)),
            ip=init.ip,
            user="redis",
            secret_env=_NODE_SECRETS,
            restart="on-failure",
            depends_on=tuple(n.service for n in nodes),
        )
    )
    return specs


def redis_containers(layout: Layout) -> list[ContainerSpec]:
    """Containers for the configured Redis mode, data nodes first."""
    if layout.settings.redis.mode == "cluster":
        return _cluster(layout)
    return _replicated(layout)
