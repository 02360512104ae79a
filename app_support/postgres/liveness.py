"""A free test of an idle pooled connection: is anything waiting on its socket?

An idle connection has nothing to read unless the server said something unprompted: after a
restart or ``pg_terminate_backend`` that is the FATAL message and the end of the stream. One
poll costs microseconds, against a round trip for psycopg_pool's ``check_connection``, so it runs
on every checkout and the round-trip check runs only when it fires. It cannot see a peer that
vanished silently (a network partition); the periodic ``pool.check()`` covers that.
"""

from __future__ import annotations

import select
from typing import Any

import psycopg

__all__ = ["has_pending_input"]


def has_pending_input(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
    """True when the idle connection's socket is readable or closed (so it needs a real check)."""
    try:
        fd = conn.fileno()
    except psycopg.Error:
        return True
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    readable, _, _ = select.select([fd], [], [], 0)  # Windows has no poll()
    return bool(readable)
