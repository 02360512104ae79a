"""Riding out a failover: which errors are retried, for how long, and the per-command hook.

Why two layers of retry: redis-py retries inside one command on the same connection object, and
for a Sentinel-managed connection that reconnect may reuse the old master's address (redis-py
issue 3874). Large in-command budgets turned a 0.5 s failover into 30-120 s. So the in-command
retry is tiny (``connection_retry``: one quick reconnect for a stale idle socket), and the outer
loop here drops idle connections and tries again until ``deadline`` seconds have passed, so every
outer attempt opens a fresh connection to the master Sentinel names *now*.

Commands retried after a timeout may run twice; every primitive of app_support.redis is written
so a repeat is harmless (idempotent job ids, SET/EXPIRE, counters where one extra hit is fine).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import (
    AuthenticationError,
    ClusterDownError,
    ConnectionError,
    ReadOnlyError,
    TimeoutError,
    TryAgainError,
)
from redis.retry import Retry

__all__ = [
    "PIPELINE",
    "TIME_ONLY",
    "CommandHook",
    "FailoverPolicy",
    "Instrumented",
    "connection_retry",
    "is_retryable",
    "no_retry",
    "run_async",
    "run_sync",
]

T = TypeVar("T")

_RETRYABLE = (ConnectionError, TimeoutError, ReadOnlyError, ClusterDownError, TryAgainError)


class CommandHook(Protocol):
    """Called once per command (or once per pipeline, as ``PIPELINE``) after it finished.

    ``seconds`` covers the whole call including failover retries; ``failed`` is True when the
    call raised. An exception raised by the hook propagates to the caller.
    """

    def __call__(self, command: str, seconds: float, failed: bool) -> None: ...


def is_retryable(error: BaseException) -> bool:
    """True for errors a failover causes (never for a wrong password)."""
    return isinstance(error, _RETRYABLE) and not isinstance(error, AuthenticationError)


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


# Pipelines are timed but not retried (a half-applied pipeline cannot be replayed blindly).
TIME_ONLY = FailoverPolicy(deadline=0.0)
# The command name a pipeline reports to the hook, once per execute().
PIPELINE = "PIPELINE"


class Instrumented:
    """Mixin for the client classes: the failover policy and hook the factory configures."""

    hook: CommandHook | None = None
    policy: FailoverPolicy = FailoverPolicy()

    def configure(self, policy: FailoverPolicy, hook: CommandHook | None) -> None:
        self.policy = policy
        self.hook = hook


def command_name(args: tuple[object, ...]) -> str:
    first = args[0] if args else "UNKNOWN"
    text = first.decode() if isinstance(first, bytes) else str(first)
    return text.upper()


def run_sync(
    policy: FailoverPolicy,
    hook: CommandHook | None,
    name: str,
    call: Callable[[], T],
    before_retry: Callable[[], None],
) -> T:
    """Run ``call``; on a retryable error drop idle connections and retry until the deadline.

    Raises the last error once the deadline has passed, and non-retryable errors at once.
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
                    raise
                before_retry()
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
    before_retry: Callable[[], Awaitable[None]],
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
                    raise
                await before_retry()
                await asyncio.sleep(pause)
                pause = policy.next_pause(pause)
            else:
                failed = False
                return result
    finally:
        if hook is not None:
            hook(name, time.perf_counter() - started, failed)
