"""Pool statistics: psycopg_pool's own figures plus the counters app_support keeps itself.

``get_stats()`` / ``pop_stats()`` return psycopg_pool's keys (``pool_max``, ``pool_size``,
``pool_available``, ``requests_waiting``, ``requests_num``, ...) plus:

- ``pool_used``: connections checked out through ``connection()`` right now,
- ``requests_waiting``: callers inside ``connection()`` still waiting for one (psycopg_pool's own
  figure keeps counting requests that already timed out, so this one replaces it),
- ``acquires``, ``acquire_timeouts``, ``acquire_wait_ms`` (total time spent in checkouts, the ones
  that timed out included),
- ``broken_connections`` (found dead at checkout or during use), ``pool_checks``, ``query_errors``.

Keys whose value is zero are left out; ``pop_stats()`` resets every counter (not the gauges).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from psycopg_pool.base import BasePool

    from .timing import QueryObserver

__all__ = [
    "PoolCounters",
    "PoolStatistics",
    "PoolUsage",
    "merge_stats",
    "timeout_message",
    "usage_from",
]


class PoolUsage(TypedDict):
    """What health and metrics read, as the plan counts them (5 used + 15 available = 20 max).

    ``used``: connections lent out; ``available``: how many more can still be handed out
    (``max - used``: idle ones plus those the pool may still open); ``max``: the limit;
    ``waiting``: callers queued for one; ``idle``: open connections sitting in the pool
    (psycopg_pool's ``pool_available``), a subset of ``available``.
    """

    used: int
    available: int
    max: int
    waiting: int
    idle: int


class PoolCounters:
    """Thread-safe counters of one pool; ``used`` is exact because every checkout passes here."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.used = 0
        self.waiting = 0
        self._acquires = 0
        self._wait_s = 0.0
        self._timeouts = 0
        self._broken = 0
        self._checks = 0

    def waiting_started(self) -> None:
        with self._lock:
            self.waiting += 1

    def acquired(self, waited: float) -> None:
        with self._lock:
            self.waiting -= 1
            self.used += 1
            self._acquires += 1
            self._wait_s += waited

    def released(self) -> None:
        with self._lock:
            self.used -= 1

    def gave_up(self) -> None:
        with self._lock:
            self.waiting -= 1

    def timed_out(self, waited: float) -> None:
        with self._lock:
            self.waiting -= 1
            self._timeouts += 1
            self._wait_s += waited

    def connection_lost(self) -> None:
        with self._lock:
            self._broken += 1

    def checked(self) -> None:
        with self._lock:
            self._checks += 1

    def snapshot(self, *, reset: bool) -> dict[str, int]:
        with self._lock:
            figures = {
                "pool_used": self.used,
                "requests_waiting": self.waiting,
                "acquires": self._acquires,
                "acquire_wait_ms": round(self._wait_s * 1000),
                "acquire_timeouts": self._timeouts,
                "broken_connections": self._broken,
                "pool_checks": self._checks,
            }
            if reset:
                self._acquires = self._timeouts = self._broken = self._checks = 0
                self._wait_s = 0.0
        return figures


def merge_stats(
    pool_stats: dict[str, int], own: dict[str, int], query_errors: int
) -> dict[str, int]:
    merged = {**pool_stats, **own, "query_errors": query_errors}
    return {key: value for key, value in merged.items() if value}


def usage_from(pool_stats: dict[str, int], counters: PoolCounters) -> PoolUsage:
    used, limit = counters.used, pool_stats.get("pool_max", 0)
    return PoolUsage(
        used=used,
        # Not psycopg's idle count: a pool of 20 with 5 lent out can hand out 15 more, whether
        # they are open yet or not. Never negative, even if a resize shrank the limit under use.
        available=max(0, limit - used),
        max=limit,
        waiting=counters.waiting,
        idle=pool_stats.get("pool_available", 0),
    )


class PoolStatistics:
    """``usage()``, ``get_stats()`` and ``pop_stats()``, the same for the sync and async pools.

    The subclass sets ``pool`` (the psycopg_pool pool), ``observer`` and ``_counters``.
    """

    pool: BasePool
    observer: QueryObserver
    _counters: PoolCounters

    def usage(self) -> PoolUsage:
        """``{used, available, max, waiting, idle}`` right now, for health and metrics."""
        return usage_from(self.pool.get_stats(), self._counters)

    def get_stats(self) -> dict[str, int]:
        """Gauges and counters (see :mod:`.stats`), zeros omitted."""
        own = self._counters.snapshot(reset=False)
        return merge_stats(self.pool.get_stats(), own, self.observer.errors)

    def pop_stats(self) -> dict[str, int]:
        """Like :meth:`get_stats`, then reset the counters."""
        own = self._counters.snapshot(reset=True)
        return merge_stats(self.pool.pop_stats(), own, self.observer.pop_errors())


def timeout_message(name: str, timeout: float, usage: PoolUsage) -> str:
    """Why an acquire timed out, and which variable to change."""
    if usage["used"] >= usage["max"]:
        cause = (
            f"all {usage['max']} connections in use, {usage['waiting']} other request(s) waiting"
        )
        advice = "raise DATABASE_CONNECTION_LIMIT or hold connections for less time"
    else:
        cause = f"{usage['used']} of {usage['max']} connections in use; new ones failed to connect"
        advice = "check that the server is reachable"
    return (
        f"no connection from pool {name!r} within {timeout:.2f} s (DATABASE_TIMEOUT): {cause}; "
        f"{advice}"
    )
