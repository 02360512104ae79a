"""DatabasePool: a psycopg_pool ConnectionPool that retries start-up, heals and counts.

- ``open()`` tries ``retry_attempts`` times with backoff; a psycopg_pool pool that failed to open
  cannot be reopened, so each attempt builds a fresh one.
- Every checkout polls the connection's socket (see :mod:`.liveness`) and swaps a dead
  connection for a live one; a dead connection, at checkout or during use, wakes a background
  ``pool.check()``, which also runs every ``check_interval`` seconds.
- ``connection()`` counts checkouts, wait time and timeouts; every query is timed (:mod:`.timing`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from .errors import DatabasePoolTimeout
from .liveness import has_pending_input
from .retry import RECONNECT_ROUND, backoff_delays, unavailable
from .settings import DatabaseSettings
from .stats import PoolCounters, PoolStatistics, timeout_message
from .timing import QueryHook, QueryObserver

__all__ = ["DatabasePool", "open_pool"]

logger = logging.getLogger(__name__)


class DatabasePool(PoolStatistics):
    """A sync connection pool built from :class:`DatabaseSettings`; open it before use.

    ``on_query(operation, table, seconds, failed)`` is called after every query (see
    :mod:`.timing`). ``pool`` is the underlying psycopg_pool ``ConnectionPool``; take connections
    through :meth:`connection` so that statistics and healing see them.
    """

    pool: ConnectionPool

    def __init__(self, settings: DatabaseSettings, *, on_query: QueryHook | None = None) -> None:
        self.settings = settings
        self.name = settings.application_name
        self.observer = QueryObserver(settings.tables, on_query)
        self._counters = PoolCounters()
        self._kwargs = {
            **settings.connection_kwargs(),
            "cursor_factory": self.observer.cursor_class(),
        }
        self._wake = threading.Event()
        self._closing = threading.Event()
        self.pool = self._new_pool()
        self._checker: threading.Thread | None = None

    def _new_pool(self) -> ConnectionPool[psycopg.Connection[Any]]:
        return ConnectionPool(
            self.settings.url,
            kwargs=self._kwargs,
            min_size=self.settings.min_size,
            max_size=self.settings.max_size,
            timeout=self.settings.acquire_timeout,
            name=self.name,
            open=False,
            reconnect_timeout=RECONNECT_ROUND,
            reconnect_failed=lambda _pool: self._wake.set(),
        )

    def open(self) -> None:
        """Connect, retrying with backoff, and start the background checker.

        :raises DatabaseUnavailable: every one of ``retry_attempts`` attempts failed; the message
            names host, port, database and the last error, never the password.
        """
        delays = backoff_delays(self.settings)
        while True:
            try:
                self._open_once()
                break
            except (psycopg.OperationalError, PoolTimeout) as exc:
                delay = next(delays, None)
                if delay is None:
                    raise unavailable(self.settings, exc) from exc
                logger.warning(
                    "database not ready (%s); retrying in %.1f s", type(exc).__name__, delay
                )
                time.sleep(delay)
        self._checker = threading.Thread(
            target=self._check_loop, name=f"{self.name}-check", daemon=True
        )
        self._checker.start()

    def _open_once(self) -> None:
        # A direct connection first: it fails with libpq's reason, where the pool only times out.
        psycopg.Connection.connect(self.settings.url, **self._kwargs).close()
        pool = self._new_pool()
        try:
            pool.open(wait=True, timeout=self.settings.connect_timeout * 2)
        except BaseException:
            pool.close()
            raise
        self.pool = pool

    def close(self, timeout: float = 5.0) -> None:
        """Stop the checker and close every connection (waiting up to ``timeout`` for workers)."""
        self._closing.set()
        self._wake.set()
        if self._checker is not None:
            self._checker.join(timeout)
        self.pool.close(timeout)

    def __enter__(self) -> Self:
        if self._checker is None:  # open_pool() returns an open pool; don't open twice
            self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _check_loop(self) -> None:
        while not self._closing.is_set():
            self._wake.wait(self.settings.check_interval)
            self._wake.clear()
            if self._closing.is_set():
                return
            try:
                self.pool.check()
                self._counters.checked()
            except Exception:
                logger.exception("pool %r check failed", self.name)

    def _connection_lost(self) -> None:
        self._counters.connection_lost()
        self._wake.set()

    def _acquire(self, timeout: float) -> psycopg.Connection[Any]:
        self._counters.waiting_started()
        start = time.monotonic()
        try:
            conn = self._live_connection(start + timeout)
        except PoolTimeout as exc:
            self._counters.timed_out(time.monotonic() - start)
            message = timeout_message(self.name, timeout, self.usage())
            raise DatabasePoolTimeout(message) from exc
        except BaseException:
            self._counters.gave_up()
            raise
        self._counters.acquired(time.monotonic() - start)
        return conn

    def _live_connection(self, deadline: float) -> psycopg.Connection[Any]:
        # Each pass discards one dead connection, so max_size + 1 passes end with a live one or a
        # timeout (the last pass hands over what it gets).
        for _ in range(self.settings.max_size):
            conn = self.pool.getconn(max(deadline - time.monotonic(), 0.001))
            if not has_pending_input(conn):
                return conn
            try:
                self.pool.check_connection(conn)
                return conn
            except psycopg.Error:
                self.pool.putconn(conn)
                self._connection_lost()
        return self.pool.getconn(max(deadline - time.monotonic(), 0.001))

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection[Any]]:
        """A live connection for the block; committed on success, rolled back on error.

        :raises DatabasePoolTimeout: none free within ``timeout`` (default ``acquire_timeout``).
        """
        conn = self._acquire(self.settings.acquire_timeout if timeout is None else timeout)
        try:
            with conn:
                yield conn
        finally:
            if conn.broken:  # the server went away mid-use: the idle ones are likely dead too
                self._connection_lost()
            self._counters.released()
            self.pool.putconn(conn)

    def check(self) -> None:
        """Test every idle connection now, replacing the dead ones."""
        self.pool.check()
        self._counters.checked()


def open_pool(settings: DatabaseSettings, *, on_query: QueryHook | None = None) -> DatabasePool:
    """Build and open a :class:`DatabasePool` (see :meth:`DatabasePool.open` for failures)."""
    pool = DatabasePool(settings, on_query=on_query)
    pool.open()
    return pool
