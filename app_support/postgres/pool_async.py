"""AsyncDatabasePool: the asyncio twin of :class:`.pool.DatabasePool`, from the same settings.

Same behaviour (start-up retries with a fresh pool per attempt, socket poll at checkout, a
``pool.check()`` on the first broken connection and every ``check_interval``, statistics, query
timing) on psycopg_pool's AsyncConnectionPool; open it inside the event loop that will use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Self

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from .errors import DatabasePoolTimeout
from .liveness import has_pending_input
from .retry import RECONNECT_ROUND, backoff_delays, unavailable
from .settings import DatabaseSettings
from .stats import PoolCounters, PoolStatistics, timeout_message
from .timing import QueryHook, QueryObserver

__all__ = ["AsyncDatabasePool", "open_async_pool"]

logger = logging.getLogger(__name__)


class AsyncDatabasePool(PoolStatistics):
    """An asyncio connection pool built from :class:`DatabaseSettings`; ``await open()`` first."""

    pool: AsyncConnectionPool

    def __init__(self, settings: DatabaseSettings, *, on_query: QueryHook | None = None) -> None:
        self.settings = settings
        self.name = settings.application_name
        self.observer = QueryObserver(settings.tables, on_query)
        self._counters = PoolCounters()
        self._kwargs = {
            **settings.connection_kwargs(),
            "cursor_factory": self.observer.async_cursor_class(),
        }
        self._wake: asyncio.Event | None = None
        self._checker: asyncio.Task[None] | None = None
        self.pool = self._new_pool()

    def _new_pool(self) -> AsyncConnectionPool[psycopg.AsyncConnection[Any]]:
        return AsyncConnectionPool(
            self.settings.url,
            kwargs=self._kwargs,
            min_size=self.settings.min_size,
            max_size=self.settings.max_size,
            timeout=self.settings.acquire_timeout,
            name=self.name,
            open=False,
            reconnect_timeout=RECONNECT_ROUND,
            reconnect_failed=self._reconnect_failed,
        )

    def _reconnect_failed(self, _pool: object) -> None:
        if self._wake is not None:
            self._wake.set()

    async def open(self) -> None:
        """Connect, retrying with backoff, and start the background checker.

        :raises DatabaseUnavailable: every one of ``retry_attempts`` attempts failed; the message
            names host, port, database and the last error, never the password.
        """
        delays = backoff_delays(self.settings)
        while True:
            try:
                await self._open_once()
                break
            except (psycopg.OperationalError, PoolTimeout) as exc:
                delay = next(delays, None)
                if delay is None:
                    raise unavailable(self.settings, exc) from exc
                reason = type(exc).__name__
                logger.warning("database not ready (%s); retrying in %.1f s", reason, delay)
                await asyncio.sleep(delay)
        self._wake = asyncio.Event()
        self._checker = asyncio.create_task(self._check_loop(self._wake))

    async def _open_once(self) -> None:
        # A direct connection first: it fails with libpq's reason, where the pool only times out.
        conn = await psycopg.AsyncConnection.connect(self.settings.url, **self._kwargs)
        await conn.close()
        pool = self._new_pool()
        try:
            await pool.open(wait=True, timeout=self.settings.connect_timeout * 2)
        except BaseException:
            await pool.close()
            raise
        self.pool = pool

    # timeout= mirrors psycopg_pool's own async API.
    async def close(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Stop the checker and close every connection (waiting up to ``timeout`` for workers)."""
        if self._checker is not None:
            self._checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checker
            self._checker = None
        await self.pool.close(timeout)

    async def __aenter__(self) -> Self:
        if self._checker is None:  # open_async_pool() returns an open pool; don't open twice
            await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _check_loop(self, wake: asyncio.Event) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self.settings.check_interval)
            wake.clear()
            try:
                await self.check()
            except Exception:
                logger.exception("pool %r check failed", self.name)

    def _connection_lost(self) -> None:
        self._counters.connection_lost()
        if self._wake is not None:
            self._wake.set()

    async def _acquire(self, limit: float) -> psycopg.AsyncConnection[Any]:
        self._counters.waiting_started()
        start = time.monotonic()
        try:
            conn = await self._live_connection(start + limit)
        except PoolTimeout as exc:
            self._counters.timed_out(time.monotonic() - start)
            message = timeout_message(self.name, limit, self.usage())
            raise DatabasePoolTimeout(message) from exc
        except BaseException:
            self._counters.gave_up()
            raise
        self._counters.acquired(time.monotonic() - start)
        return conn

    async def _live_connection(self, deadline: float) -> psycopg.AsyncConnection[Any]:
        # Each pass discards one dead connection, so max_size + 1 passes end with a live one or a
        # timeout (the last pass hands over what it gets).
        for _ in range(self.settings.max_size):
            conn = await self.pool.getconn(max(deadline - time.monotonic(), 0.001))
            if not has_pending_input(conn):
                return conn
            try:
                await self.pool.check_connection(conn)
                return conn
            except psycopg.Error:
                await self.pool.putconn(conn)
                self._connection_lost()
        return await self.pool.getconn(max(deadline - time.monotonic(), 0.001))

    @asynccontextmanager
    async def connection(
        self,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A live connection for the block; committed on success, rolled back on error.

        :raises DatabasePoolTimeout: none free within ``timeout`` (default ``acquire_timeout``).
        """
        conn = await self._acquire(self.settings.acquire_timeout if timeout is None else timeout)
        try:
            async with conn:
                yield conn
        finally:
            if conn.broken:  # the server went away mid-use: the idle ones are likely dead too
                self._connection_lost()
            self._counters.released()
            await self.pool.putconn(conn)

    async def check(self) -> None:
        """Test every idle connection now, replacing the dead ones."""
        await self.pool.check()
        self._counters.checked()


async def open_async_pool(
    settings: DatabaseSettings, *, on_query: QueryHook | None = None
) -> AsyncDatabasePool:
    """Build and open an :class:`AsyncDatabasePool` (see :meth:`AsyncDatabasePool.open`)."""
    pool = AsyncDatabasePool(settings, on_query=on_query)
    await pool.open()
    return pool
