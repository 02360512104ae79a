"""Every knob of the health endpoints, validated before any check runs."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app_support.app_env import ENVIRONMENTS, TOKEN_EXAMPLE, package_version, read_app_env

__all__ = ["ENVIRONMENTS", "HealthConfigError", "HealthSettings", "default_version"]

# The kit's version when APP_VERSION is not set (kept under its first name).
default_version = package_version


class HealthConfigError(ValueError):
    """A health setting or environment variable has an invalid value."""


def _seconds(name: str, value: float, *, upper: float, example: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise HealthConfigError(f"{name} must be a number of seconds, e.g. {name}={example}")
    if not 0 < value <= upper:
        raise HealthConfigError(
            f"{name} must be in (0, {upper}] seconds, e.g. {name}={example}; got {value!r}"
        )


def _percent(name: str, value: float) -> None:
    ok = not isinstance(value, bool) and isinstance(value, int | float) and 0 < value <= 100
    if not ok:
        raise HealthConfigError(f"{name} must be a percentage in (0, 100], e.g. {name}=90")


def _count(name: str, value: int, *, example: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise HealthConfigError(f"{name} must be an integer >= 1, e.g. {name}={example}")


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
        if self.environment not in ENVIRONMENTS:
            raise HealthConfigError(
                f"environment must be 'development' or 'production', e.g. "
                f"environment='production'; got {self.environment!r}"
            )
        if not isinstance(self.version, str) or not self.version:
            raise HealthConfigError("version must be a non-empty string, e.g. version='1.0.0'")
        if self.metrics_token is not None and not self.metrics_token.strip():
            raise HealthConfigError("metrics_token must not be blank, e.g. a 32-byte hex string")
        if self.production and self.metrics_token is None:
            raise HealthConfigError(
                "metrics_token is required when environment='production' (METRICS_TOKEN), "
                f"e.g. {TOKEN_EXAMPLE}"
            )
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
            raise HealthConfigError("disk_path must be a directory path, e.g. disk_path='/'")

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
        if values.get("environment") == "production" and not values.get("metrics_token"):
            raise HealthConfigError(
                f"METRICS_TOKEN is required when APP_ENV=production, e.g. {TOKEN_EXAMPLE}"
            )
        return cls(**values)
