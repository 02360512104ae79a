"""Riding out a failover: which errors are retried, for how long, and the per-command hook.

Why two layers of retry: redis-py retries inside one command on the same connection object, and
for a Sentinel-managed connection that reconnect may reuse the old master's address (redis-py
issue 3874). Large in-command budgets turned a 0.5 s failover into 30-120 s. So the in-command
retry is tiny (``connection_retry``: one quick reconnect for a stale idle socket), and the outer
loop here drops idle connections and tries again until ``deadline`` seconds have passed, so every
outer attempt opens a fresh connection to the master Sentinel names *now*.

Commands retried after a timeout may run twice; every primitive of app_support.redis is written
so a repeat is harmless (idempotent job ids, SET/EXPIRE, counters where one extra hit is fine).

A node that is no longer the master is retried like a connection error: ``READONLY`` (redis-py
turns it into a ConnectionError for Sentinel pools) and ``NOREPLICAS`` (a master whose
``min-replicas-to-write`` is not met, e.g. a demoted master whose replicas left it). The retry
opens a fresh connection, so Sentinel is asked again. A ``NOREPLICAS`` that outlasts the deadline
is raised as WriteRefusedError.

In cluster mode a killed master's slots have no owner until its replica wins the election:
node-timeout, then the failure reports' gossip and the election delay. The client re-reads the slot
map before each retry (app_support.redis.clients), so the deadline must cover that whole time: the
stacks set ``REDIS_RETRY_DEADLINE`` to 2 x cluster-node-timeout + 2 s in cluster mode.

Each client also carries its default :class:`Durability` (``REDIS_WAIT_REPLICAS``), which the job
queues and the session store use unless they are given one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import (
    AuthenticationError,
    ClusterDownError,
    ConnectionError,
    ReadOnlyError,
    ResponseError,
    SlotNotCoveredError,
    TimeoutError,
    TryAgainError,
)
from redis.retry import Retry

from app_support.hooks import CommandHook  # re-exported: the protocol is defined once there
from app_support.redis.errors import WriteRefusedError
from app_support.redis.settings import RedisSettings

__all__ = [
    "PIPELINE",
    "TIME_ONLY",
    "CommandHook",
    "Durability",
    "FailoverPolicy",
    "Instrumented",
    "connection_retry",
    "is_no_replicas",
    "is_retryable",
    "no_retry",
    "run_async",
    "run_sync",
]

T = TypeVar("T")

# Cluster mode: CLUSTERDOWN / MASTERDOWN (a node that knows its slots' master failed), TRYAGAIN and
# a slot the client's map does not cover are all states of a failover in progress.
_RETRYABLE = (
    ConnectionError,
    TimeoutError,
    ReadOnlyError,
    ClusterDownError,
    TryAgainError,
    SlotNotCoveredError,
)
# redis-py prefixes an error inside a pipeline with "Command # n (...) of pipeline caused error: ".
_PIPELINE_PREFIX_END = "caused error: "


def _server_reply(error: ResponseError) -> str:
    return str(error.args[0]).rsplit(_PIPELINE_PREFIX_END, 1)[-1] if error.args else ""


def is_no_replicas(error: BaseException) -> bool:
    """True for a ``NOREPLICAS`` refusal, alone or inside a pipeline's error."""
    return isinstance(error, ResponseError) and _server_reply(error).startswith("NOREPLICAS")


def is_retryable(error: BaseException) -> bool:
    """True for errors a failover causes (never for a wrong password)."""
    if isinstance(error, AuthenticationError):
        return False
    return isinstance(error, _RETRYABLE) or is_no_replicas(error)


def _final_error(error: Exception, name: str) -> Exception | None:
    # What to raise instead of ``error`` when retrying is over; None: ``error`` itself.
    if is_no_replicas(error) and not isinstance(error, WriteRefusedError):
        assert isinstance(error, ResponseError)
        return WriteRefusedError(name, _server_reply(error))
    return None


def connection_retry() -> Retry:
    """The short in-command retry given to every data connection (see the module docstring)."""
    return Retry(ExponentialBackoff(cap=0.05, base=0.01), 1)


def no_retry() -> Retry:
    """For Sentinel connections: a dead Sentinel is skipped, not waited for."""
    return Retry(NoBackoff(), 0)


@dataclass(frozen=True)
class FailoverPolicy:
    """Retry retryable errors with growing pauses until ``deadline`` seconds have passed."""

    deadline: float = 5.0
    first_pause: float = 0.05
    max_pause: float = 0.25

    def next_pause(self, pause: float) -> float:
        return min(pause * 2, self.max_pause)


@dataclass(frozen=True)
class Durability:
    """How many replicas must confirm a durable write (0: none, no WAIT) and for how long."""

    replicas: int = 0
    timeout: float = 1.0

    @classmethod
    def from_settings(cls, settings: RedisSettings) -> Durability:
        """``REDIS_WAIT_REPLICAS`` / ``REDIS_WAIT_TIMEOUT`` as a Durability."""
        return cls(settings.wait_replicas, settings.wait_timeout)

    def __post_init__(self) -> None:
        if self.replicas < 0 or self.timeout <= 0:
            raise ValueError(
                "Durability: replicas must be >= 0 and timeout > 0, e.g. Durability(1, 1.0)"
            )


NO_WAIT = Durability()
# Pipelines are timed but not retried (a half-applied pipeline cannot be replayed blindly).
TIME_ONLY = FailoverPolicy(deadline=0.0)
# The command name a pipeline reports to the hook, once per execute().
PIPELINE = "PIPELINE"


class Instrumented:
    """Mixin for the client classes: the failover policy, the hook and the default durability
    the factory configures."""

    hook: CommandHook | None = None
    policy: FailoverPolicy = FailoverPolicy()
    durability: Durability = NO_WAIT

    def configure(
        self, policy: FailoverPolicy, hook: CommandHook | None, durability: Durability = NO_WAIT
    ) -> None:
        self.policy = policy
        self.hook = hook
        self.durability = durability


def command_name(args: tuple[object, ...]) -> str:
    first = args[0] if args else "UNKNOWN"
    text = first.decode() if isinstance(first, bytes) else str(first)
    return text.upper()


def run_sync(
    policy: FailoverPolicy,
    hook: CommandHook | None,
    name: str,
    call: Callable[[], T],
    before_retry: Callable[[], bool | None],
) -> T:
    """Run ``call``; on a retryable error drop idle connections and retry until the deadline.

    ``before_retry`` runs before each pause; when it returns True it has already waited for the
    failover (cluster mode: the failed master's slots moved) and the retry follows at once.

    Raises the last error once the deadline has passed (a ``NOREPLICAS`` refusal as
    WriteRefusedError), and non-retryable errors at once.
    """
    started = time.perf_counter()
    give_up_at = time.monotonic() + policy.deadline
    pause = policy.first_pause
    failed = True
    try:
        while True:
            try:
                result = call()
            except Exception as error:
                if not is_retryable(error) or time.monotonic() + pause > give_up_at:
                    final = _final_error(error, name)
                    if final is None:
                        raise
                    raise final from error
                if before_retry() is not True:
                    time.sleep(pause)
                    pause = policy.next_pause(pause)
            else:
                failed = False
                return result
    finally:
        if hook is not None:
            hook(name, time.perf_counter() - started, failed)


async def run_async(
    policy: FailoverPolicy,
    hook: CommandHook | None,
    name: str,
    call: Callable[[], Awaitable[T]],
    before_retry: Callable[[], Awaitable[bool | None]],
) -> T:
    """The asyncio twin of :func:`run_sync`."""
    started = time.perf_counter()
    give_up_at = time.monotonic() + policy.deadline
    pause = policy.first_pause
    failed = True
    try:
        while True:
            try:
                result = await call()
            except Exception as error:
                if not is_retryable(error) or time.monotonic() + pause > give_up_at:
                    final = _final_error(error, name)
                    if final is None:
                        raise
                    raise final from error
                if await before_retry() is not True:
                    await asyncio.sleep(pause)
                    pause = policy.next_pause(pause)
            else:
                failed = False
                return result
    finally:
        if hook is not None:
            hook(name, time.perf_counter() - started, failed)
