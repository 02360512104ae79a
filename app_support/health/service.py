"""The framework-free core: checks, lifecycle and the four endpoints as (status, type, body)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from app_support.tokens import bearer_token_matches

from .check import Check, CheckFunc, CheckResult, Section
from .dependencies import QueueStats, Transform, pool_threshold, queue_block
from .report import (
    HEALTH_JSON,
    IETF_STATUS,
    PlanRenderer,
    compact_json,
    health_json_report,
    overall_status,
)
from .request import prefers_health_json
from .runner import CheckRunner
from .settings import HealthSettings
from .status import Status, http_status
from .system import cpu_check, disk_check, memory_check

__all__ = [
    "DETAILED_PATH",
    "HEALTH_PATHS",
    "LIVENESS_PATH",
    "READINESS_PATH",
    "SYSTEM_PATH",
    "HealthResponse",
    "HealthService",
    "Lifecycle",
]

LIVENESS_PATH = "/api/health"
READINESS_PATH = "/api/health/ready"
DETAILED_PATH = "/api/health/detailed"
SYSTEM_PATH = "/api/system/health"
HEALTH_PATHS = frozenset({LIVENESS_PATH, READINESS_PATH, DETAILED_PATH, SYSTEM_PATH})


class Lifecycle(StrEnum):
    STARTING = "starting"
    STARTED = "started"
    DRAINING = "draining"


@dataclass(frozen=True)
class HealthResponse:
    """What an adapter sends: HTTP status, content type and body bytes."""

    status_code: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = field(default=(("cache-control", "no-store"),))


def _json(status_code: int, payload: Mapping[str, object], content_type: str) -> HealthResponse:
    return HealthResponse(status_code, content_type, compact_json(payload).encode())


class HealthService:
    """The health endpoints of one app, shared by the ASGI and WSGI adapters.

    System checks (memory, CPU, disk) are registered unless `system_checks=False`; add the
    app's dependencies with `add_check` or the `add_*_check` helpers. Readiness answers 503 until
    `mark_started()` and again after `mark_draining()`. Not thread-safe: call `respond` from one
    event loop (the WSGI adapter runs it on a background loop for that reason).
    """

    def __init__(
        self,
        settings: HealthSettings | None = None,
        *,
        system_checks: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings if settings is not None else HealthSettings()
        self.lifecycle = Lifecycle.STARTING
        self._checks: list[Check] = []
        self._clock = clock
        self._started_at = clock()
        self.runner = CheckRunner(self.settings, clock=clock)
        self._renderers: dict[str, PlanRenderer] = {}
        if system_checks:
            s = self.settings
            self.add_check(
                "memory",
                memory_check(degraded_percent=s.memory_degraded_percent),
                section="system",
                breaker=False,
            )
            self.add_check(
                "cpu",
                cpu_check(degraded_percent=s.cpu_degraded_percent),
                section="system",
                breaker=False,
            )
            self.add_check(
                "disk",
                disk_check(path=s.disk_path, degraded_percent=s.disk_degraded_percent),
                section="system",
                breaker=False,
            )

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        system_checks: bool = True,
        **settings: Any,
    ) -> HealthService:
        """A service configured from APP_ENV, APP_VERSION, METRICS_TOKEN plus `settings`.

        Raises `HealthConfigError` as `HealthSettings.from_env` does.
        """
        return cls(HealthSettings.from_env(environ, **settings), system_checks=system_checks)

    @property
    def checks(self) -> tuple[Check, ...]:
        return tuple(self._checks)

    def add_check(
        self,
        name: str,
        func: CheckFunc,
        *,
        section: Section = "services",
        critical: bool = False,
        breaker: bool = True,
        timeout: float | None = None,
        transform: Transform | None = None,
    ) -> Check:
        """Registers `func` as report block `section.name` ("queues.import" nests).

        Sync functions run in the health thread pool, async ones on the loop. Raises `ValueError`
        for a malformed or already used name and an invalid timeout.
        """
        for other in self._checks:
            clash = (
                other.name == name
                or name.startswith(other.name + ".")
                or other.name.startswith(name + ".")
            )
            if clash:  # names key the cache and breakers, in either section
                raise ValueError(
                    f"check name {name!r} clashes with registered check {other.name!r}"
                )
        check = Check(
            name=name,
            func=func,
            section=section,
            critical=critical,
            breaker=breaker,
            timeout=self.settings.check_timeout if timeout is None else timeout,
            transform=transform,
        )
        self._checks.append(check)
        return check

    def add_database_check(
        self, health: CheckFunc, *, name: str = "database", critical: bool = True
    ) -> Check:
        """app_support.postgres's health function, degraded at `pool_degraded_percent` use."""
        threshold = pool_threshold(degraded_percent=self.settings.pool_degraded_percent)
        return self.add_check(name, health, critical=critical, transform=threshold)

    def add_redis_check(
        self, health: CheckFunc, *, name: str = "redis", critical: bool = True
    ) -> Check:
        """app_support.redis's health function as the `services.redis` block."""
        return self.add_check(name, health, critical=critical)

    def add_queue_check(self, queue: str, stats: QueueStats, *, critical: bool = False) -> Check:
        """A job queue's `stats()` as `services.queues.<queue>`, degraded at the backlog limit."""
        block = queue_block(backlog_degraded=self.settings.queue_backlog_degraded)
        return self.add_check(f"queues.{queue}", stats, critical=critical, transform=block)

    def mark_started(self) -> None:
        """Readiness may pass from now on (call when start-up work is done)."""
        if self.lifecycle is Lifecycle.STARTING:
            self.lifecycle = Lifecycle.STARTED

    def mark_draining(self) -> None:
        """Readiness fails from now on so the load balancer stops routing here; liveness holds."""
        self.lifecycle = Lifecycle.DRAINING

    def close(self) -> None:
        self.runner.close()

    def authorised(self, authorization: str | None) -> bool:
        """Whether a caller may see details: always outside production, else with the token."""
        if not self.settings.production:
            return True
        return bearer_token_matches(authorization, self.settings.metrics_token)

    @staticmethod
    def handles(path: str) -> bool:
        """Whether `path` is one of the four health endpoints (a trailing slash is accepted)."""
        return (path.rstrip("/") or "/") in HEALTH_PATHS

    async def respond(
        self,
        path: str,
        *,
        method: str = "GET",
        accept: str | None = None,
        authorization: str | None = None,
    ) -> HealthResponse | None:
        """The response for `path`, or None when `path` is not a health endpoint."""
        if not self.handles(path):
            return None
        path = path.rstrip("/")
        if method not in ("GET", "HEAD"):
            return HealthResponse(
                405,
                "text/plain",
                b"Method Not Allowed",
                (("allow", "GET, HEAD"), ("cache-control", "no-store")),
            )
        # Decided before any check runs: an anonymous caller cannot learn from timing either.
        details = self.authorised(authorization)
        health_json = prefers_health_json(accept)
        if path == LIVENESS_PATH:
            return self._render(path, [], {}, Status.HEALTHY, details, health_json)
        if path == READINESS_PATH:
            return await self._readiness(details, health_json)
        section = "system" if path == SYSTEM_PATH else None
        checks = [c for c in self._checks if section is None or c.section == section]
        results = await self.runner.run(checks)
        status = overall_status(checks, results)
        return self._render(path, checks, results, status, details, health_json)

    async def _readiness(self, details: bool, health_json: bool) -> HealthResponse:
        extra = {"lifecycle": self.lifecycle.value} if details else {}
        if self.lifecycle is not Lifecycle.STARTED:
            return self._render(
                READINESS_PATH, [], {}, Status.UNHEALTHY, details, health_json, extra
            )
        checks = [c for c in self._checks if c.critical]
        results = await self.runner.run(checks)
        status = overall_status(checks, results)
        return self._render(READINESS_PATH, checks, results, status, details, health_json, extra)

    def _render(
        self,
        path: str,
        checks: list[Check],
        results: Mapping[str, CheckResult],
        status: Status,
        details: bool,
        health_json: bool,
        extra: Mapping[str, object] | None = None,
    ) -> HealthResponse:
        code = http_status(status)
        if not details:
            short = IETF_STATUS[status] if health_json else status.value
            return _json(
                code, {"status": short}, HEALTH_JSON if health_json else "application/json"
            )
        now, uptime = datetime.now(UTC), self._clock() - self._started_at
        version = self.settings.version
        if health_json:
            payload = health_json_report(
                checks=checks, results=results, status=status, now=now, version=version,
                uptime=uptime,
            )  # fmt: skip
            payload.update(extra or {})
            return _json(code, payload, HEALTH_JSON)
        renderer = self._renderers.setdefault(path, PlanRenderer())
        body = renderer.render(
            checks=checks, results=results, status=status, now=now, version=version,
            uptime=uptime, extra=extra,
        )  # fmt: skip
        return HealthResponse(code, "application/json", body)
