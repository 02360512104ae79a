"""redis-py client classes that time every command and ride out a failover (sync).

The factory (app_support.redis.factory) builds these; they are ordinary ``redis.Redis`` /
``redis.cluster.RedisCluster`` objects, so every redis-py API and library (``limits``) works.

- ``execute_command`` runs inside :func:`app_support.redis.failover.run_sync`: retryable errors
  are retried until the deadline, the hook sees one call per command.
- Pipelines report once per ``execute()`` as command ``PIPELINE`` and are *not* retried (a
  half-applied pipeline cannot be replayed blindly); primitives whose pipelines are idempotent
  wrap them in :meth:`FailoverRedis.with_failover`.
- In sentinel mode a master client has a ``switch_watcher`` (app_support.redis.sentinel_watch)
  that drops the old master's connections on ``+switch-master``; it starts with the first
  command or pipeline and stops in ``close()``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any, TypeVar

from redis import Redis
from redis.client import Pipeline
from redis.cluster import ClusterPipeline, RedisCluster
from redis.exceptions import RedisClusterException, RedisError

from app_support.redis.cluster_follow import FOLLOW_POLL, FailedNode, failing_with_slots
from app_support.redis.failover import (
    PIPELINE,
    TIME_ONLY,
    CommandHook,
    Instrumented,
    command_name,
    run_sync,
)
from app_support.redis.sentinel_discovery import FollowingSentinel
from app_support.redis.sentinel_watch import SwitchWatcher

__all__ = ["FailoverCluster", "FailoverRedis", "TimedClusterPipeline", "TimedPipeline"]

T = TypeVar("T")


class TimedPipeline(Pipeline):
    """A pipeline that reports its ``execute()`` to the hook as ``PIPELINE``."""

    hook: CommandHook | None = None

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        return _timed(self.hook, lambda: Pipeline.execute(self, raise_on_error))


class FailoverRedis(Redis, Instrumented):
    """``redis.Redis`` for standalone and Sentinel mode (see the module docstring)."""

    switch_watcher: SwitchWatcher | None = None

    def execute_command(self, *args: Any, **options: Any) -> Any:
        watcher = self.switch_watcher
        if watcher is not None and not watcher.started:
            watcher.start()
        return run_sync(
            self.policy,
            self.hook,
            command_name(args),
            lambda: Redis.execute_command(self, *args, **options),  # type: ignore[no-untyped-call]
            self._drop_idle_connections,
        )

    def with_failover(self, call: Callable[[], T]) -> T:
        """Run an idempotent multi-command ``call`` (a pipeline) under the failover policy."""
        return run_sync(self.policy, None, PIPELINE, call, self._drop_idle_connections)

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> TimedPipeline:
        watcher = self.switch_watcher
        if watcher is not None and not watcher.started:
            watcher.start()
        pipe = TimedPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)
        pipe.hook = self.hook
        return pipe

    def close(self) -> None:
        """Stop the switch watcher (bounded wait), close as ``redis.Redis`` does, then close the
        connections to the Sentinels (the factory made that Sentinel manager for this client)."""
        if self.switch_watcher is not None:
            self.switch_watcher.close()
        super().close()
        manager = getattr(self.connection_pool, "sentinel_manager", None)
        if isinstance(manager, FollowingSentinel):
            with contextlib.suppress(RedisError, OSError):
                manager.close()

    def __del__(self) -> None:
        # Garbage collection must not wait for the watcher thread: only flag it.
        if self.switch_watcher is not None:
            self.switch_watcher.stop()
            self.switch_watcher = None
        super().__del__()  # type: ignore[no-untyped-call]

    def _drop_idle_connections(self) -> None:
        # Idle sockets may still point at the old master; new ones ask Sentinel again.
        self.connection_pool.disconnect(inuse_connections=False)


class TimedClusterPipeline(ClusterPipeline):
    """A cluster pipeline that reports its ``execute()`` to the hook as ``PIPELINE``."""

    hook: CommandHook | None = None

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        return _timed(self.hook, lambda: ClusterPipeline.execute(self, raise_on_error))


class FailoverCluster(RedisCluster, Instrumented):
    """``redis.cluster.RedisCluster`` (MOVED/ASK handled by redis-py) with the same policy; before
    a retry it waits out a master the cluster flags as failing (app_support.redis.cluster_follow)
    and reads the slot map again (a killed master's slots move to its replica)."""

    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        failed = FailedNode.for_deadline(self.policy.deadline)

        def call() -> Any:
            try:
                return RedisCluster.execute_command(self, *args, **kwargs)  # type: ignore[no-untyped-call]
            except Exception as error:
                failed.note(error)
                raise

        return run_sync(
            self.policy, self.hook, command_name(args), call, lambda: self._follow(failed)
        )

    def with_failover(self, call: Callable[[], T]) -> T:
        """Run an idempotent multi-command ``call`` (a pipeline) under the failover policy."""
        return run_sync(self.policy, None, PIPELINE, call, self._refresh_slot_map)

    def _follow(self, failed: FailedNode) -> bool:
        # True once it has waited: the failover it waited for is over, retry without a pause.
        waited = False
        while failed.waiting() and self._failing_with_slots(str(failed.name)):
            time.sleep(FOLLOW_POLL)
            waited = True
        self._refresh_slot_map(failed.name)
        return waited

    def _failing_with_slots(self, name: str) -> bool:
        # Asked of the first other master that answers; none answering: retry the node itself.
        for node in self.get_primaries():  # type: ignore[no-untyped-call]
            if node.name == name:
                continue
            try:
                reply = self.get_redis_connection(node).execute_command("CLUSTER NODES")  # type: ignore[no-untyped-call]
            except (RedisError, OSError):
                continue
            return failing_with_slots(reply, name)
        return False

    def _refresh_slot_map(self, last_failed: str | None = None) -> None:
        # redis-py re-reads the slot map after a connection error, a timeout and CLUSTERDOWN, and
        # follows MOVED; an error that outlasted its few quick attempts (a node that stopped
        # answering, TRYAGAIN, a pipeline's error) gets one more read here, the failed node asked
        # last, so the next attempt goes to the slot's owner *now*. If no node answers, the next
        # attempt fails and is retried.
        with contextlib.suppress(RedisError, RedisClusterException, OSError):
            self.nodes_manager.initialize(last_failed_node_name=last_failed)

    def pipeline(self, transaction: Any = None, shard_hint: Any = None) -> TimedClusterPipeline:
        if shard_hint:
            raise ValueError("shard_hint is not supported in cluster mode")
        pipe = TimedClusterPipeline(
            nodes_manager=self.nodes_manager,
            commands_parser=self.commands_parser,
            startup_nodes=self.nodes_manager.startup_nodes,  # type: ignore[arg-type]
            result_callbacks=self.result_callbacks,
            cluster_response_callbacks=self.cluster_response_callbacks,
            read_from_replicas=self.read_from_replicas,
            load_balancing_strategy=self.load_balancing_strategy,
            reinitialize_steps=self.reinitialize_steps,
            retry=self.retry,
            lock=self._lock,
            transaction=transaction,
            event_dispatcher=self._event_dispatcher,
        )
        pipe.hook = self.hook
        return pipe


def _timed(hook: CommandHook | None, execute: Callable[[], list[Any]]) -> list[Any]:
    return run_sync(TIME_ONLY, hook, PIPELINE, execute, _nothing)


def _nothing() -> None:
    return None
