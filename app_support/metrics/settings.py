"""Settings of the metrics piece, read from the environment variables in docs/architecture.md."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from app_support.app_env import ENVIRONMENTS, TOKEN_EXAMPLE, package_version, read_app_env

__all__ = ["ENVIRONMENTS", "MetricsConfigError", "MetricsSettings", "package_version"]


class MetricsConfigError(ValueError):
    """A metrics setting or environment variable has a bad value."""


@dataclass(frozen=True, kw_only=True)
class MetricsSettings:
    """How the /metrics endpoint is served and secured.

    ``environment`` is ``APP_ENV``: in ``production`` the endpoint requires ``token``
    (``METRICS_TOKEN``) as a bearer token; in ``development`` it is open. ``multiprocess_dir`` is
    ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client multiprocess mode); ``port`` is
    ``METRICS_PORT``, an optional separate port for the endpoint.

    Raises :class:`MetricsConfigError` (a ``ValueError``) naming the bad setting, before any I/O.
    """

    environment: str = "development"
    token: str | None = None
    version: str = ""
    multiprocess_dir: str | None = None
    port: int | None = None

    def __post_init__(self) -> None:
        if self.environment not in ENVIRONMENTS:
            raise MetricsConfigError(
                f"APP_ENV must be one of {', '.join(ENVIRONMENTS)} (example: APP_ENV=production), "
                f"got {self.environment!r}"
            )
        if self.token is not None and (not self.token or self.token != self.token.strip()):
            raise MetricsConfigError(
                f"METRICS_TOKEN must be non-empty without surrounding whitespace "
                f"(example: {TOKEN_EXAMPLE})"
            )
        if self.environment == "production" and self.token is None:
            raise MetricsConfigError(
                f"METRICS_TOKEN is required when APP_ENV=production (example: {TOKEN_EXAMPLE})"
            )
        if self.multiprocess_dir is not None and not os.path.isdir(self.multiprocess_dir):
            raise MetricsConfigError(
                "PROMETHEUS_MULTIPROC_DIR must name an existing directory "
                f"(example: PROMETHEUS_MULTIPROC_DIR=/tmp/metrics), got {self.multiprocess_dir!r}"
            )
        if self.port is not None and not 1 <= self.port <= 65535:
            raise MetricsConfigError(
                "METRICS_PORT must be a TCP port 1-65535 (example: METRICS_PORT=9100), "
                f"got {self.port}"
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
        env = os.environ if environ is None else environ
        app = read_app_env(env, error=MetricsConfigError)

        def get(name: str) -> str | None:
            value = env.get(name, "")
            return value or None

        port_text = get("METRICS_PORT")
        port: int | None = None
        if port_text is not None:
            try:
                port = int(port_text)
            except ValueError:
                raise MetricsConfigError(
                    "METRICS_PORT must be an integer (example: METRICS_PORT=9100), "
                    f"got {port_text!r}"
                ) from None
        return cls(
            environment=app.environment,
            token=app.metrics_token,
            version=app.version or "",
            multiprocess_dir=get("PROMETHEUS_MULTIPROC_DIR"),
            port=port,
        )
