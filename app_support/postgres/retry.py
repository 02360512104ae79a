"""Backoff between start-up attempts, and the message when every attempt failed."""

from __future__ import annotations

import random
from collections.abc import Iterator

from psycopg import conninfo as pg_conninfo

from .errors import DatabaseUnavailable, safe_error_text
from .settings import DatabaseSettings

__all__ = ["MAX_BACKOFF", "RECONNECT_ROUND", "backoff_delays", "unavailable"]

# Start-up waits for a database that is still booting, not for one that is gone for minutes.
MAX_BACKOFF = 10.0
# psycopg_pool retries a lost connection with an uncapped doubling delay (1, 2, 4, 8 s...), so after
# a 30 s outage the next attempt may come 30 s after the server is back. The pools give up each
# round after this many seconds (psycopg_pool's reconnect_timeout) and their checker starts a new
# one at once, which keeps the gap between attempts near a second.
RECONNECT_ROUND = 2.0


def backoff_delays(settings: DatabaseSettings) -> Iterator[float]:
    """The pause after each failed attempt but the last: doubling, capped, +-20 % jitter."""
    for attempt in range(settings.retry_attempts - 1):
        delay = min(settings.retry_backoff * 2**attempt, MAX_BACKOFF)
        yield delay * random.uniform(0.8, 1.2)


def unavailable(settings: DatabaseSettings, error: BaseException | None) -> DatabaseUnavailable:
    params = pg_conninfo.conninfo_to_dict(settings.url)
    where = (
        f"{params.get('host', 'localhost')}:{params.get('port', 5432)}/{params.get('dbname', '')}"
    )
    reason = safe_error_text(error, str(params.get("password", ""))) if error else "unknown"
    return DatabaseUnavailable(
        f"PostgreSQL at {where} unreachable after {settings.retry_attempts} attempt(s) "
        f"(DATABASE_RETRY_ATTEMPTS): {reason}"
    )
