"""503 + Retry-After in the app's JSON error shape while Redis or PostgreSQL is down (issue 13
item 4), instead of a plain-text 500 after the client's retry deadline.

Two halves:

- :func:`dependency_handlers`: Starlette exception handlers turning a dependency's connection
  error (Redis connection/timeout errors after REDIS_RETRY_DEADLINE, no pooled PostgreSQL
  connection within DATABASE_TIMEOUT, a lost PostgreSQL connection) into 503
  ``dependency_unavailable``;
- :class:`OutageGate`: while a critical dependency's circuit breaker is open (the health checks
  saw it fail ``breaker_failures`` times in a row), API requests are answered 503 at once rather
  than each waiting out the retry deadline. It asks the health service's readiness evaluation,
  which is cached (no I/O while fresh) and keeps the breaker probing, so the gate reopens by
  itself once the dependency answers again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import psycopg
from psycopg_pool import PoolTimeout
from redis.exceptions import ClusterDownError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.requests import Request
from starlette.responses import Response

from app_support.health import HealthService
from app_support.health.asgi import ASGIApp, Receive, Scope, Send
from reference_app.web.unavailable import retry_after_of, unavailable

__all__ = ["OutageGate", "dependency_handlers"]

Handler = Callable[[Request, Exception], Any]

_REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, ClusterDownError)
_DATABASE_DOWN = (psycopg.OperationalError, PoolTimeout)
_NAMES = {"redis": "Redis", "database": "the database"}


def _retry_after(request: Request) -> int:
    return retry_after_of(request.app.state)


async def _redis_down(request: Request, exc: Exception) -> Response:
    seconds = _retry_after(request)
    detail = f"Redis is unavailable ({type(exc).__name__}); retry in {seconds} s"
    return unavailable(seconds, "dependency_unavailable", detail)


async def _database_down(request: Request, exc: Exception) -> Response:
    seconds = _retry_after(request)
    detail = f"the database is unavailable ({type(exc).__name__}); retry in {seconds} s"
    return unavailable(seconds, "dependency_unavailable", detail)


def dependency_handlers() -> Mapping[type[Exception], Handler]:
    """Exception handlers for ``Starlette(exception_handlers=...)``."""
    handlers: dict[type[Exception], Handler] = dict.fromkeys(_REDIS_DOWN, _redis_down)
    handlers.update(dict.fromkeys(_DATABASE_DOWN, _database_down))
    return handlers


class OutageGate:
    """ASGI middleware: 503 for ``/api/`` requests while a critical dependency's breaker is open
    (health endpoints are answered before it, by HealthMiddleware)."""

    def __init__(
        self, app: ASGIApp, health: HealthService, *, retry_after: Callable[[], int]
    ) -> None:
        self.app = app
        self.health = health
        self.retry_after = retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            down = await self._open_circuits()
            if down:
                seconds = self.retry_after()
                names = " and ".join(_NAMES.get(name, name) for name in down)
                detail = f"{names} unavailable (circuit breaker open); retry in {seconds} s"
                response = unavailable(seconds, "dependency_unavailable", detail)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _open_circuits(self) -> list[str]:
        evaluation = await self.health.evaluate("readiness")
        return [
            check.name
            for check in evaluation.checks
            if (result := evaluation.results.get(check.name)) is not None
            and result.circuit == "open"
        ]
