"""Every knob of the health endpoints, validated before any check runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app_support.app_env import (
    ENVIRONMENTS,
    check_environment,
    check_metrics_token,
    package_version,
    read_app_env,
)
from app_support.env import ConfigError, check_count, check_seconds

__all__ = ["ENVIRONMENTS", "HealthConfigError", "HealthSettings", "default_version"]

# The kit's version when APP_VERSION is not set (kept under its first name).
default_version = package_version


class HealthConfigError(ConfigError):
    """A health setting or environment variable has an invalid value (a ``ValueError``)."""


def _seconds(name: str, value: object, *, upper: float, example: float) -> None:
    check_seconds(
        name, value, example=example, minimum=0.001, maximum=upper, error=HealthConfigError
    )


def _percent(name: str, value: object) -> None:
    ok = not isinstance(value, bool) and isinstance(value, int | float) and 0 < value <= 100
    if not ok:
        raise HealthConfigError(name, f"{value!r} is not a percentage in (0, 100]", "90")


def _count(name: str, value: object, *, example: int) -> None:
    check_count(name, value, example=example, minimum=1, error=HealthConfigError)


@dataclass(frozen=True, kw_only=True)
class HealthSettings:
    """Settings of a `HealthService`.

    `deadline` bounds a whole request and stays below the 1 s default probe timeout; a check that
    misses it answers with its last result marked stale while its refresh goes on. `check_timeout`
    bounds one check call (a check may override it). Results are cached for `success_ttl` seconds
    (healthy or degraded) or `failure_ttl` seconds (unhealthy). After `breaker_failures`
    consecutive failures a dependency's breaker opens for `breaker_reset` seconds and the
    dependency is reported degraded without being probed. A system check turns degraded above
    its `*_percent` threshold (100: never), the database at `pool_degraded_percent` pool use, a
    queue at `queue_backlog_degraded` waiting jobs. In production, details go only to callers
    presenting `metrics_token` as a bearer token.

    Raises `HealthConfigError` (a `ValueError`) naming the setting and a good value.
    """

    environment: str = "development"
    version: str = field(default_factory=default_version)
    metrics_token: str | None = None
    deadline: float = 0.8
    check_timeout: float = 0.5
    success_ttl: float = 5.0
    failure_ttl: float = 1.0
    breaker_failures: int = 3
    breaker_reset: float = 30.0
    memory_degraded_percent: float = 90.0
    cpu_degraded_percent: float = 90.0
    disk_degraded_percent: float = 90.0
    disk_path: str = "/"
    pool_degraded_percent: float = 90.0
    queue_backlog_degraded: int = 1000
    check_threads: int = 4

    def __post_init__(self) -> None:
        environment = check_environment(self.environment, error=HealthConfigError)
        object.__setattr__(self, "environment", environment)
        if not isinstance(self.version, str) or not self.version:
            raise HealthConfigError("APP_VERSION", f"{self.version!r} is not a version", "1.0.0")
        check_metrics_token(self.metrics_token, production=self.production, error=HealthConfigError)
        _seconds("deadline", self.deadline, upper=30, example=0.8)
        _seconds("check_timeout", self.check_timeout, upper=30, example=0.5)
        _seconds("success_ttl", self.success_ttl, upper=3600, example=5)
        _seconds("failure_ttl", self.failure_ttl, upper=3600, example=1)
        _seconds("breaker_reset", self.breaker_reset, upper=3600, example=30)
        _count("breaker_failures", self.breaker_failures, example=3)
        _count("queue_backlog_degraded", self.queue_backlog_degraded, example=1000)
        _count("check_threads", self.check_threads, example=4)
        for name in ("memory", "cpu", "disk", "pool"):
            _percent(f"{name}_degraded_percent", getattr(self, f"{name}_degraded_percent"))
        if not isinstance(self.disk_path, str) or not self.disk_path:
            raise HealthConfigError("disk_path", f"{self.disk_path!r} is not a path", "'/'")

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> HealthSettings:
        """Settings from APP_ENV, APP_VERSION and METRICS_TOKEN; keyword arguments win.

        Raises `HealthConfigError` naming the variable when one is invalid or METRICS_TOKEN is
        missing with APP_ENV=production.
        """
        app = read_app_env(environ, error=HealthConfigError)
        values: dict[str, Any] = {"environment": app.environment}
        if app.version:
            values["version"] = app.version
        if app.metrics_token:
            values["metrics_token"] = app.metrics_token
        values.update(overrides)
        return cls(**values)
