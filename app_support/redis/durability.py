"""Writes confirmed by replicas: the command and ``WAIT n timeout`` on the same connection.

``WAIT`` counts the replicas that acknowledged *this connection's* writes, so both go in one
non-transactional pipeline. In cluster mode the pipeline sends ``WAIT`` to the node that owns the
key (``target_nodes``), which is where the write went. Only idempotent writes use this: a retry
after a failover repeats the whole pipeline.

``Durability`` lives in app_support.redis.failover (every client carries its default, built by
the factory from ``REDIS_WAIT_REPLICAS``); it is re-exported here.
"""

from __future__ import annotations

from typing import Any

from app_support.redis.aclients import AsyncFailoverCluster
from app_support.redis.clients import FailoverCluster
from app_support.redis.errors import WriteNotConfirmedError
from app_support.redis.factory import AsyncRedisClient, SyncRedisClient
from app_support.redis.failover import Durability

__all__ = ["Durability", "confirmed_write", "confirmed_write_sync"]


async def confirmed_write(
    client: AsyncRedisClient, key: str, command: tuple[Any, ...], durability: Durability
) -> Any:
    """Run ``command`` (which writes ``key``); with replicas > 0 require WAIT to confirm it.

    Raises WriteNotConfirmedError when fewer replicas confirm within the timeout, and its
    subclass WriteRefusedError when the master refuses the write (``NOREPLICAS``) until the
    client's deadline; retries failover errors until that deadline.
    """
    if durability.replicas == 0:
        return await client.execute_command(*command)

    async def attempt() -> Any:
        if isinstance(client, AsyncFailoverCluster):
            await client.initialize()  # the slot map, for target_nodes (a no-op once read)
        pipe = client.pipeline(transaction=False)
        pipe.execute_command(*command)
        pipe.execute_command("WAIT", *_wait_args(durability), **_target(client, key))
        result, acknowledged = await pipe.execute()
        _check(command, durability, int(acknowledged))
        return result

    return await client.with_failover(attempt)


def confirmed_write_sync(
    client: SyncRedisClient, key: str, command: tuple[Any, ...], durability: Durability
) -> Any:
    """The sync twin of :func:`confirmed_write`."""
    if durability.replicas == 0:
        return client.execute_command(*command)

    def attempt() -> Any:
        pipe = client.pipeline(transaction=False)
        pipe.execute_command(*command)  # type: ignore[no-untyped-call]
        pipe.execute_command(  # type: ignore[no-untyped-call]
            "WAIT", *_wait_args(durability), **_target(client, key)
        )
        result, acknowledged = pipe.execute()
        _check(command, durability, int(acknowledged))
        return result

    return client.with_failover(attempt)


def _wait_args(durability: Durability) -> tuple[int, int]:
    return durability.replicas, max(1, round(durability.timeout * 1000))


def _target(client: SyncRedisClient | AsyncRedisClient, key: str) -> dict[str, Any]:
    if isinstance(client, FailoverCluster | AsyncFailoverCluster):
        return {"target_nodes": client.get_node_from_key(key)}
    return {}


def _check(command: tuple[Any, ...], durability: Durability, acknowledged: int) -> None:
    if acknowledged < durability.replicas:
        raise WriteNotConfirmedError(str(command[0]), durability.replicas, acknowledged)
