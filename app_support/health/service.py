"""The framework-free core: the registry of checks, the lifecycle and the evaluation of a view.

The HTTP face (paths, detail hiding, bodies) is `app_support.health.http.HealthHTTP`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from app_support.tokens import bearer_token_matches

from .breaker import BreakerState
from .check import Check, CheckFunc, CheckResult, Section
from .dependencies import QueueStats, Transform, pool_threshold, queue_block
from .report import overall_status
from .runner import CheckRunner
from .settings import HealthSettings
from .status import Status
from .system import cpu_check, disk_check, memory_check

__all__ = ["Evaluation", "HealthService", "Lifecycle", "View"]

# What a caller asks for: liveness (no I/O), readiness (critical checks), detailed (all checks),
# system (the system section only).
View = Literal["liveness", "readiness", "detailed", "system"]


class Lifecycle(StrEnum):
    STARTING = "starting"
    STARTED = "started"
    DRAINING = "draining"


@dataclass(frozen=True)
class Evaluation:
    """The checks a view ran, their results, the combined status and extra report fields."""

    checks: tuple[Check, ...]
    results: Mapping[str, CheckResult]
    status: Status
    extra: Mapping[str, object] = field(default_factory=dict)


class HealthService:
    """The health endpoints of one app, shared by the ASGI and WSGI adapters.

    System checks (memory, CPU, disk) are registered unless `system_checks=False`; add the
    app's dependencies with `add_check` or the `add_*_check` helpers. Readiness is unhealthy until
    `mark_started()` and again after `mark_draining()`. Not thread-safe: call `evaluate` from one
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
        # Per view: the checks it runs (one tuple, so the runner can recognise it), and the last
        # evaluation with the results it was made of (reused while the runner returns them).
        self._view_checks: dict[View, tuple[Check, ...]] = {}
        self._evaluations: dict[View, tuple[Mapping[str, CheckResult], Lifecycle, Evaluation]] = {}
        self._clock = clock
        self._started_at = clock()
        self.runner = CheckRunner(self.settings, clock=clock)
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
        self._view_checks.clear()
        self._evaluations.clear()
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

    @property
    def uptime(self) -> float:
        """Seconds since the service was built."""
        return self._clock() - self._started_at

    async def evaluate(self, view: View) -> Evaluation:
        """Run the checks `view` asks for and combine them (see `View`); never raises for a check.

        Readiness is unhealthy without running anything until `mark_started()` and again after
        `mark_draining()`; otherwise it asks the critical checks only, and is unhealthy while one
        of them has its circuit breaker open.
        """
        if view == "liveness":
            return Evaluation((), {}, Status.HEALTHY)
        if view == "readiness" and self.lifecycle is not Lifecycle.STARTED:
            return Evaluation((), {}, Status.UNHEALTHY, {"lifecycle": self.lifecycle.value})
        checks = self._view_checks.get(view)
        if checks is None:
            checks = self._view_checks[view] = self._checks_of(view)
        results = await self.runner.run(checks)
        last = self._evaluations.get(view)
        if last is not None and last[0] is results and last[1] is self.lifecycle:
            return last[2]  # the same results: the same evaluation, and the same report JSON
        if view == "readiness":
            evaluation = self._readiness(checks, results)
        else:
            evaluation = Evaluation(checks, results, overall_status(checks, results))
        self._evaluations[view] = (results, self.lifecycle, evaluation)
        return evaluation

    def _checks_of(self, view: View) -> tuple[Check, ...]:
        if view == "readiness":
            return tuple(c for c in self._checks if c.critical)
        if view == "system":
            return tuple(c for c in self._checks if c.section == "system")
        return tuple(self._checks)

    def _readiness(
        self, checks: tuple[Check, ...], results: Mapping[str, CheckResult]
    ) -> Evaluation:
        extra = {"lifecycle": self.lifecycle.value}
        status = overall_status(checks, results)
        # The runner reports a dependency behind an open breaker as degraded (the detailed report
        # must not turn red everywhere at once), but a critical one that is down fails every
        # request that needs it: this instance is not ready.
        if any(results[check.name].circuit == BreakerState.OPEN.value for check in checks):
            status = Status.UNHEALTHY
        return Evaluation(checks, results, status, extra)
