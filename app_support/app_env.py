"""The app-wide variables APP_ENV, APP_VERSION and METRICS_TOKEN, read one way for every piece.

Health and metrics both read them (docs/architecture.md); one reader keeps the two from disagreeing
about the same environment, e.g. one accepting a value the other rejects.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata

__all__ = ["ENVIRONMENTS", "TOKEN_EXAMPLE", "AppEnvironment", "package_version", "read_app_env"]

ENVIRONMENTS = ("development", "production")
# A shell command that makes a token, shown in errors; not a secret.
TOKEN_EXAMPLE = "METRICS_TOKEN=$(openssl rand -hex 32)"  # noqa: S105


def package_version() -> str:
    """The installed kit's version (when APP_VERSION is unset); "0+unknown" if not installed."""
    try:
        return metadata.version("ha-stack-kit")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class AppEnvironment:
    """The three variables; a variable that is unset or blank is None (APP_ENV: development)."""

    environment: str = "development"
    version: str | None = None
    metrics_token: str | None = None


def read_app_env(
    environ: Mapping[str, str] | None = None, *, error: type[ValueError] = ValueError
) -> AppEnvironment:
    """Read APP_ENV (case-insensitive), APP_VERSION and METRICS_TOKEN from ``environ``.

    ``environ`` defaults to ``os.environ``. Whether production requires the token is left to the
    caller, whose keyword arguments may supply it.

    Raises ``error`` (the caller's config error, a ``ValueError``) naming the variable and a good
    value when APP_ENV is neither development nor production, or METRICS_TOKEN has whitespace
    around it.
    """
    env = os.environ if environ is None else environ
    raw_env = env.get("APP_ENV", "")
    environment = raw_env.strip().lower() or "development"
    if environment not in ENVIRONMENTS:
        raise error(
            f"APP_ENV must be one of {', '.join(ENVIRONMENTS)} (example: APP_ENV=production), "
            f"got {raw_env!r}"
        )
    token = env.get("METRICS_TOKEN", "")
    if token != token.strip():
        raise error(
            f"METRICS_TOKEN must be non-empty without surrounding whitespace (example: "
            f"{TOKEN_EXAMPLE})"
        )
    version = env.get("APP_VERSION", "").strip()
    return AppEnvironment(environment, version or None, token or None)
