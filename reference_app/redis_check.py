"""The start-up check of Redis (issue 13 item 9): as PostgreSQL's, a process whose Redis settings
are wrong (password, database number, address) must not start and then fail every request.

Same retry policy as the database pool's start-up: ``DATABASE_RETRY_ATTEMPTS`` attempts with a
doubling backoff from 0.5 s (app_support.postgres.retry), since both wait for dependencies that
are still booting next to the app. The final error names the variable to fix, and never a
password.
"""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio.sentinel import MasterNotFoundError
from redis.exceptions import AuthenticationError, AuthorizationError, RedisError, ResponseError

from app_support.postgres import DatabaseSettings
from app_support.postgres.retry import backoff_delays
from app_support.redact import redact
from app_support.redis import AsyncRedisClient, RedisSettings

__all__ = ["RedisUnavailable", "check_redis"]

log = logging.getLogger(__name__)


class RedisUnavailable(RuntimeError):
    """Redis refused or could not be reached at start-up; the message names the variable."""


def _where(settings: RedisSettings) -> tuple[str, str]:
    """(what is reached, the variable that says so) for the settings' mode."""
    if settings.mode == "sentinel":
        hosts = ",".join(f"{host}:{port}" for host, port in settings.sentinel_hosts)
        return f"master {settings.master_name!r} via Sentinels {hosts}", "REDIS_SENTINEL_HOSTS"
    if settings.mode == "cluster":
        nodes = ",".join(f"{host}:{port}" for host, port in settings.cluster_nodes)
        return f"cluster nodes {nodes}", "REDIS_CLUSTER_NODES"
    return redact(settings.url), "REDIS_URL"


def _variable(settings: RedisSettings, error: RedisError) -> str:
    """The variable to check for ``error``."""
    text = str(error).lower()
    if isinstance(error, AuthenticationError | AuthorizationError) or any(
        word in text for word in ("wrongpass", "noauth", "authentication", "invalid password")
    ):
        if settings.mode == "sentinel" and "sentinel" in text:
            return "REDIS_SENTINEL_PASSWORD"
        return "REDIS_PASSWORD"
    if isinstance(error, MasterNotFoundError):
        return "REDIS_MASTER_NAME or REDIS_SENTINEL_HOSTS"
    if isinstance(error, ResponseError) and "db index" in text:
        return "REDIS_URL (its database number)"
    return _where(settings)[1]


def _describe(settings: RedisSettings, error: RedisError, attempts: int) -> str:
    where, _ = _where(settings)
    reason = redact(f"{type(error).__name__}: {error}", settings.password or "")
    return (
        f"Redis at {where} refused or unreachable after {attempts} attempt(s)"
        f" (DATABASE_RETRY_ATTEMPTS): {reason}; check {_variable(settings, error)}"
    )


async def check_redis(
    client: AsyncRedisClient, settings: RedisSettings, retry: DatabaseSettings
) -> None:
    """PING Redis through ``client`` until it answers, retrying as the database pool does.

    Raises RedisUnavailable naming the variable to fix once every attempt failed.
    """
    delays = backoff_delays(retry)
    while True:
        try:
            await client.ping()
            return
        except RedisError as exc:
            delay = next(delays, None)
            if delay is None:
                raise RedisUnavailable(_describe(settings, exc, retry.retry_attempts)) from None
            log.warning("Redis not ready (%s); retrying in %.1f s",
                        redact(str(exc), settings.password or ""), delay)  # fmt: skip
            await asyncio.sleep(delay)
