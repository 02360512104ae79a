"""One factory for sync and asyncio clients in every mode.

``create_client(settings)`` / ``create_async_client(settings)`` return redis-py clients
(``FailoverRedis`` / ``FailoverCluster`` and their asyncio twins) that:

- standalone: connect to ``REDIS_URL``;
- sentinel: ask the Sentinels (with the Sentinel password only) for the current master and ask
  again after every connection error, READONLY or NOREPLICAS answer or timeout; a new master
  connection checks ``ROLE`` (app_support.redis.sentinel_discovery), and a master client follows
  ``+switch-master`` at once (``client.switch_watcher``, app_support.redis.sentinel_watch: one
  Sentinel connection per client, started by the first command, stopped by close/aclose);
- cluster: follow MOVED/ASK and refresh the slot map after a failover (redis-py); before a retry,
  wait out a master the other masters flag as failing and read the slot map again
  (app_support.redis.cluster_follow); the retry deadline must cover the whole failover (the stacks
  set ``REDIS_RETRY_DEADLINE`` to 2 x cluster-node-timeout + 2 s);
- time every command through ``on_command`` and retry failover errors until
  ``settings.retry_deadline`` (app_support.redis.failover);
- carry ``client.durability`` (``Durability.from_settings``: ``REDIS_WAIT_REPLICAS``), the default
  of the job queues and the session store.

No I/O happens here except for the sync cluster client, which redis-py builds by reading the
slot map (so it raises ``RedisClusterException`` when no seed node answers); the others connect
on their first command. ``readonly=True`` returns a client for
read-only calls that uses replicas when ``settings.read_from_replicas`` is set (it has no switch
watcher). ``watch_switches=False`` leaves the watcher out (the client then learns of a switch only
when its node refuses or fails; benchmarks compare the two).
"""

from __future__ import annotations

from typing import Any, cast

from redis.asyncio.cluster import ClusterNode as AsyncClusterNode
from redis.asyncio.sentinel import SentinelConnectionPool as AsyncSentinelConnectionPool
from redis.backoff import ExponentialBackoff
from redis.cluster import ClusterNode, LoadBalancingStrategy
from redis.retry import Retry

from app_support.redis.aclients import AsyncFailoverCluster, AsyncFailoverRedis
from app_support.redis.clients import FailoverCluster, FailoverRedis
from app_support.redis.failover import (
    CommandHook,
    Durability,
    FailoverPolicy,
    connection_retry,
    no_retry,
)
from app_support.redis.sentinel_discovery import (
    AsyncFollowingSentinel,
    AsyncRoleCheckedConnection,
    FollowingSentinel,
    RoleCheckedConnection,
)
from app_support.redis.sentinel_watch import AsyncSwitchWatcher, SwitchWatcher
from app_support.redis.settings import RedisSettings

__all__ = ["AsyncRedisClient", "SyncRedisClient", "create_async_client", "create_client"]

SyncRedisClient = FailoverRedis | FailoverCluster
AsyncRedisClient = AsyncFailoverRedis | AsyncFailoverCluster


def create_client(
    settings: RedisSettings,
    *,
    on_command: CommandHook | None = None,
    readonly: bool = False,
    watch_switches: bool = True,
) -> SyncRedisClient:
    """Build a sync client for ``settings.mode``; close it with ``client.close()``."""
    client: SyncRedisClient
    if settings.mode == "standalone":
        client = cast(FailoverRedis, FailoverRedis.from_url(settings.url, **_data_kwargs(settings)))
    elif settings.mode == "sentinel":
        sentinel = FollowingSentinel(  # type: ignore[no-untyped-call]
            list(settings.sentinel_hosts), sentinel_kwargs=_sentinel_kwargs(settings)
        )
        if _from_replicas(settings, readonly):
            client = sentinel.slave_for(  # type: ignore[no-untyped-call]
                settings.master_name, redis_class=FailoverRedis, **_data_kwargs(settings)
            )
        else:
            master = sentinel.master_for(  # type: ignore[no-untyped-call]
                settings.master_name,
                redis_class=FailoverRedis,
                connection_class=RoleCheckedConnection,
                **_data_kwargs(settings),
            )
            if watch_switches:
                master.switch_watcher = SwitchWatcher(master.connection_pool)
            client = master
    else:
        client = FailoverCluster(
            startup_nodes=[
                ClusterNode(host, port)  # type: ignore[no-untyped-call]
                for host, port in settings.cluster_nodes
            ],
            **_cluster_kwargs(settings, readonly),
        )
    _configure(client, settings, on_command)
    return client


def create_async_client(
    settings: RedisSettings,
    *,
    on_command: CommandHook | None = None,
    readonly: bool = False,
    watch_switches: bool = True,
) -> AsyncRedisClient:
    """Build an asyncio client for ``settings.mode``; close it with ``await client.aclose()``."""
    client: AsyncRedisClient
    if settings.mode == "standalone":
        client = cast(
            AsyncFailoverRedis, AsyncFailoverRedis.from_url(settings.url, **_data_kwargs(settings))
        )
    elif settings.mode == "sentinel":
        sentinel = AsyncFollowingSentinel(  # type: ignore[no-untyped-call]
            list(settings.sentinel_hosts), sentinel_kwargs=_sentinel_kwargs(settings)
        )
        if _from_replicas(settings, readonly):
            client = sentinel.slave_for(
                settings.master_name, redis_class=AsyncFailoverRedis, **_data_kwargs(settings)
            )
        else:
            amaster = cast(
                AsyncFailoverRedis,
                sentinel.master_for(
                    settings.master_name,
                    redis_class=AsyncFailoverRedis,
                    connection_class=AsyncRoleCheckedConnection,
                    **_data_kwargs(settings),
                ),
            )
            if watch_switches:
                amaster.switch_watcher = AsyncSwitchWatcher(
                    cast(AsyncSentinelConnectionPool, amaster.connection_pool)
                )
            client = amaster
    else:
        client = AsyncFailoverCluster(
            startup_nodes=[AsyncClusterNode(host, port) for host, port in settings.cluster_nodes],
            **_cluster_kwargs(settings, readonly),
        )
    _configure(client, settings, on_command)
    return client


def _configure(
    client: SyncRedisClient | AsyncRedisClient,
    settings: RedisSettings,
    on_command: CommandHook | None,
) -> None:
    client.configure(
        FailoverPolicy(settings.retry_deadline), on_command, Durability.from_settings(settings)
    )


def _data_kwargs(settings: RedisSettings) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "socket_timeout": settings.socket_timeout,
        "socket_connect_timeout": settings.connect_timeout,
        "retry": connection_retry(),
        "decode_responses": True,
        "max_connections": settings.max_connections,
    }
    if settings.password is not None:
        kwargs["password"] = settings.password
    return kwargs


def _sentinel_kwargs(settings: RedisSettings) -> dict[str, Any]:
    # Sentinels answer at once or are skipped: a dead Sentinel must not stall discovery.
    kwargs: dict[str, Any] = {
        "socket_timeout": settings.connect_timeout,
        "socket_connect_timeout": settings.connect_timeout,
        "retry": no_retry(),
    }
    if settings.sentinel_password is not None:
        kwargs["password"] = settings.sentinel_password
    return kwargs


def _cluster_kwargs(settings: RedisSettings, readonly: bool) -> dict[str, Any]:
    kwargs = _data_kwargs(settings)
    # redis-py's cluster retry also re-reads the slot map; keep it short, the deadline loop
    # (FailoverPolicy) waits out the rest of a cluster failover.
    kwargs["retry"] = Retry(ExponentialBackoff(cap=0.2, base=0.02), 3)
    if _from_replicas(settings, readonly):
        kwargs["load_balancing_strategy"] = LoadBalancingStrategy.ROUND_ROBIN_REPLICAS
    return kwargs


def _from_replicas(settings: RedisSettings, readonly: bool) -> bool:
    # Replicas serve only clients that asked for read-only use, and only when the stack allows it.
    return readonly and settings.read_from_replicas
