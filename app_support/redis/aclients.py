"""The asyncio twins of app_support.redis.clients (same behaviour, same hook contract).

A sentinel-mode master client's ``switch_watcher`` is a task started by the first command or
pipeline in the running loop and stopped (by a flag, not by cancellation) in ``aclose()``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterPipeline, RedisCluster
from redis.exceptions import RedisClusterException, RedisError

from app_support.redis.cluster_follow import FOLLOW_POLL, FailedNode, failing_with_slots
from app_support.redis.failover import (
    PIPELINE,
    TIME_ONLY,
    CommandHook,
    Instrumented,
    command_name,
    run_async,
)
from app_support.redis.sentinel_discovery import AsyncFollowingSentinel
from app_support.redis.sentinel_watch import AsyncSwitchWatcher

__all__ = [
    "AsyncFailoverCluster",
    "AsyncFailoverRedis",
    "AsyncTimedClusterPipeline",
    "AsyncTimedPipeline",
]

T = TypeVar("T")


class AsyncTimedPipeline(Pipeline):
    """A pipeline that reports its ``execute()`` to the hook as ``PIPELINE`` (not retried)."""

    hook: CommandHook | None = None

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        return await _timed(self.hook, lambda: Pipeline.execute(self, raise_on_error))


# The ignore[misc]: redis-py's asyncio command mixins disagree on command_info, which mypy
# reports on any subclass that adds a second base.
class AsyncFailoverRedis(Redis, Instrumented):  # type: ignore[misc]
    """``redis.asyncio.Redis`` for standalone and Sentinel mode."""

    switch_watcher: AsyncSwitchWatcher | None = None

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        watcher = self.switch_watcher
        if watcher is not None and not watcher.started:
            watcher.start()
        return await run_async(
            self.policy,
            self.hook,
            command_name(args),
            lambda: Redis.execute_command(self, *args, **options),  # type: ignore[no-untyped-call]
            self._drop_idle_connections,
        )

    async def with_failover(self, call: Callable[[], Awaitable[T]]) -> T:
        """Run an idempotent multi-command ``call`` (a pipeline) under the failover policy."""
        return await run_async(self.policy, None, PIPELINE, call, self._drop_idle_connections)

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Any:
        watcher = self.switch_watcher
        if watcher is not None and not watcher.started:
            watcher.start()  # a pipeline is queued in a coroutine, so a loop is running
        pipe = AsyncTimedPipeline(
            self.connection_pool, self.response_callbacks, transaction, shard_hint
        )
        pipe.hook = self.hook
        return pipe

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        """Stop the switch watcher (bounded wait), close as ``redis.asyncio.Redis`` does, then
        close the connections to the Sentinels (the factory made that manager for this client)."""
        if self.switch_watcher is not None:
            await self.switch_watcher.aclose()
        await super().aclose(close_connection_pool)
        manager = getattr(self.connection_pool, "sentinel_manager", None)
        if isinstance(manager, AsyncFollowingSentinel):
            with contextlib.suppress(RedisError, OSError):
                await manager.aclose()

    async def _drop_idle_connections(self) -> None:
        # Idle sockets may still point at the old master; new ones ask Sentinel again.
        await self.connection_pool.disconnect(inuse_connections=False)


class AsyncTimedClusterPipeline(ClusterPipeline):
    """A cluster pipeline that reports its ``execute()`` to the hook as ``PIPELINE``."""

    hook: CommandHook | None = None

    async def execute(
        self, raise_on_error: bool = True, allow_redirections: bool = True
    ) -> list[Any]:
        return await _timed(
            self.hook, lambda: ClusterPipeline.execute(self, raise_on_error, allow_redirections)
        )


class AsyncFailoverCluster(RedisCluster, Instrumented):  # type: ignore[misc]
    """``redis.asyncio.cluster.RedisCluster`` with the failover policy and hook; before a retry
    it waits out a master the cluster flags as failing and reads the slot map again."""

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        failed = FailedNode.for_deadline(self.policy.deadline)

        async def call() -> Any:
            try:
                return await RedisCluster.execute_command(self, *args, **kwargs)
            except Exception as error:
                failed.note(error)
                raise

        return await run_async(
            self.policy, self.hook, command_name(args), call, lambda: self._follow(failed)
        )

    async def with_failover(self, call: Callable[[], Awaitable[T]]) -> T:
        """Run an idempotent multi-command ``call`` (a pipeline) under the failover policy."""
        return await run_async(self.policy, None, PIPELINE, call, self._refresh_slot_map)

    async def _follow(self, failed: FailedNode) -> bool:
        # As the sync client's. Polling: the condition is another node's view (no Event to set).
        waited = False
        while failed.waiting() and await self._failing_with_slots(str(failed.name)):
            await asyncio.sleep(FOLLOW_POLL)
            waited = True
        await self._refresh_slot_map(failed.name)
        return waited

    async def _failing_with_slots(self, name: str) -> bool:
        # Asked of the first other master that answers; none answering: retry the node itself.
        for node in self.get_primaries():
            if node.name == name:
                continue
            try:
                reply = await node.execute_command("CLUSTER NODES")
            except (RedisError, OSError):
                continue
            return failing_with_slots(reply, name)
        return False

    async def _refresh_slot_map(self, last_failed: str | None = None) -> None:
        # As the sync client's, the failed node asked last. If no node answers, the flag stays
        # set: the next attempt reads the map first (redis-py), or fails and is retried.
        self._initialize = True
        with contextlib.suppress(RedisError, RedisClusterException, OSError):
            await self.initialize(last_failed_node_name=last_failed)

    def pipeline(self, transaction: Any = None, shard_hint: Any = None) -> Any:
        if shard_hint:
            raise ValueError("shard_hint is not supported in cluster mode")
        pipe = AsyncTimedClusterPipeline(self, transaction)  # type: ignore[abstract]
        pipe.hook = self.hook
        return pipe


async def _timed(
    hook: CommandHook | None, execute: Callable[[], Awaitable[list[Any]]]
) -> list[Any]:
    return await run_async(TIME_ONLY, hook, PIPELINE, execute, _nothing)


async def _nothing() -> None:
    return None
