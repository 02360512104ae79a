"""The reference app's own settings.

The environment is the stacks' contract (docs/architecture.md): this module reads only ``APP_ENV``
and ``PORT``; Redis, PostgreSQL, health and metrics settings are read by their app_support pieces.
Everything else is a keyword argument with a default, validated at construction, so tests and
embedding code can tighten limits without new variables.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import limits

from app_support.app_env import check_environment, read_app_env
from app_support.env import ConfigError, Env, check_count

__all__ = ["AppConfig", "AppConfigError"]


class AppConfigError(ConfigError):
    """A setting of the reference app has a bad value; the message names it with an example."""


def _positive(name: str, value: float, example: str) -> None:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not (number and math.isfinite(value) and value > 0):
        raise AppConfigError(name, f"{value!r} is not a finite number above 0", example)


@dataclass(frozen=True, kw_only=True)
class AppConfig:
    """Limits and timings of the web service and the worker.

    - ``max_upload_bytes``: largest CSV accepted (413 beyond it); 100,000 sales rows take ~3.5 MB.
    - ``session_ttl``: seconds a session lives in Redis (and the cookie's max-age).
    - ``sign_in_limit`` / ``upload_limit``: attempts per client, as a ``limits`` rate string.
    - ``analytics_cache_ttl``: seconds a cached aggregate may be served (imports also invalidate).
    - ``job_lease``: seconds a worker holds a job without renewing it; the worker renews it while
      it works, so this is how long a dead worker's job waits before it is handed out again.
    - ``max_attempts``: deliveries of a job before it is marked failed.
    - ``stalled_after``: seconds an unfinished import may sit untouched before the worker enqueues
      it again if its job is gone (lost in a Redis failover); the worker uses at most half of
      ``job_lease``, so a lost job comes back within the lease (reference_app/worker.py).
    - ``environment`` (``APP_ENV``): ``production`` marks the session cookie ``Secure``.
    - ``port`` (``PORT``): where ``python -m reference_app web|worker`` listens.
    """

    environment: str = "development"
    port: int = 8000
    max_upload_bytes: int = 10 * 1024 * 1024
    session_ttl: int = 8 * 3600
    session_cookie: str = "session"
    sign_in_limit: str = "10/minute"
    upload_limit: str = "30/minute"
    analytics_cache_ttl: int = 300
    job_lease: float = 30.0
    max_attempts: int = 5
    stalled_after: float = 300.0

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "environment", check_environment(self.environment, error=AppConfigError)
        )
        check_count("PORT", self.port, example=8000, minimum=1, maximum=65535, error=AppConfigError)
        _positive("max_upload_bytes", self.max_upload_bytes, "10485760")
        _positive("session_ttl", self.session_ttl, "28800")
        for name in ("sign_in_limit", "upload_limit"):
            try:
                limits.parse(getattr(self, name))
            except ValueError:
                problem = f"{getattr(self, name)!r} is not a rate like '10/minute'"
                raise AppConfigError(name, problem, "'10/minute'") from None
        _positive("analytics_cache_ttl", self.analytics_cache_ttl, "300")
        _positive("job_lease", self.job_lease, "30")
        _positive("max_attempts", self.max_attempts, "5")
        _positive("stalled_after", self.stalled_after, "300")
        if not self.session_cookie.isidentifier():
            problem = f"{self.session_cookie!r} is not a plain name"
            raise AppConfigError("session_cookie", problem, "'session'")

    @property
    def secure_cookies(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> AppConfig:
        """``APP_ENV`` (any case) and ``PORT`` from ``environ`` (default ``os.environ``), plus
        ``overrides``, read through the environment layer (app_support.env).

        Raises AppConfigError naming the variable when a value is bad.
        """
        values: dict[str, object] = {
            "environment": read_app_env(environ, error=AppConfigError).environment,
            "port": Env(environ, error=AppConfigError).port("PORT", 8000),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
