"""Settings of the metrics piece, read from the environment variables in docs/architecture.md."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from app_support.app_env import (
    ENVIRONMENTS,
    check_environment,
    check_metrics_token,
    package_version,
    read_app_env,
)
from app_support.env import ConfigError, Env, check_count

__all__ = ["ENVIRONMENTS", "MetricsConfigError", "MetricsSettings", "package_version"]


class MetricsConfigError(ConfigError):
    """A metrics setting or environment variable has a bad value (a ``ValueError``)."""


@dataclass(frozen=True, kw_only=True)
class MetricsSettings:
    """How the /metrics endpoint is served and secured.

    ``environment`` is ``APP_ENV`` (any case): in ``production`` the endpoint requires ``token``
    (``METRICS_TOKEN``, at least 16 ASCII characters) as a bearer token; in ``development`` it is
    open. ``multiprocess_dir`` is ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client multiprocess
    mode); ``port`` is ``METRICS_PORT``, an optional separate port for the endpoint.

    Raises :class:`MetricsConfigError` (a ``ValueError``) naming the bad setting, before any I/O.
    """

    environment: str = "development"
    token: str | None = None
    version: str = ""
    multiprocess_dir: str | None = None
    port: int | None = None

    def __post_init__(self) -> None:
        environment = check_environment(self.environment, error=MetricsConfigError)
        object.__setattr__(self, "environment", environment)
        check_metrics_token(self.token, production=self.secured, error=MetricsConfigError)
        if self.multiprocess_dir is not None and not os.path.isdir(self.multiprocess_dir):
            raise MetricsConfigError(
                "PROMETHEUS_MULTIPROC_DIR",
                f"{self.multiprocess_dir!r} is not an existing directory",
                "/tmp/metrics",  # noqa: S108 - an example in a message
            )
        if self.port is not None:
            check_count(
                "METRICS_PORT",
                self.port,
                example=9100,
                minimum=1,
                maximum=65535,
                error=MetricsConfigError,
            )
        if not self.version:
            object.__setattr__(self, "version", package_version())

    @property
    def secured(self) -> bool:
        """Whether the endpoint demands the bearer token."""
        return self.environment == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MetricsSettings:
        """Settings from ``environ`` (default ``os.environ``); empty variables count as unset.

        APP_ENV, APP_VERSION and METRICS_TOKEN are read by :func:`app_support.app_env.read_app_env`.

        Raises :class:`MetricsConfigError` when a variable has a bad value.
        """
        app = read_app_env(environ, error=MetricsConfigError)
        env = Env(environ, error=MetricsConfigError)
        return cls(
            environment=app.environment,
            token=app.metrics_token,
            version=app.version or "",
            multiprocess_dir=env.raw("PROMETHEUS_MULTIPROC_DIR"),
            port=env.port("METRICS_PORT", None),
        )
