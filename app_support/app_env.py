"""The app-wide variables APP_ENV, APP_VERSION and METRICS_TOKEN, read one way for every piece.

Health, metrics and the reference app all read them here, through the environment layer
(app_support.env), so none accepts a value another rejects: APP_ENV in any case, and the same
rules for the token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Literal

from app_support.env import ConfigError, Env, ErrorType

__all__ = [
    "ENVIRONMENTS",
    "MIN_TOKEN_LENGTH",
    "TOKEN_EXAMPLE",
    "AppEnvironment",
    "Environment",
    "check_environment",
    "check_metrics_token",
    "package_version",
    "read_app_env",
]

Environment = Literal["development", "production"]
ENVIRONMENTS: tuple[Environment, ...] = ("development", "production")
# A shell command that makes a token, shown in errors; not a secret.
TOKEN_EXAMPLE = "$(openssl rand -hex 32)"  # noqa: S105
# A bearer token guards /metrics and the health details in production: short ones are guessable.
MIN_TOKEN_LENGTH = 16


def package_version() -> str:
    """The installed kit's version (when APP_VERSION is unset); "0+unknown" if not installed."""
    try:
        return metadata.version("ha-stack-kit")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class AppEnvironment:
    """The three variables; a variable that is unset or blank is None (APP_ENV: development)."""

    environment: Environment = "development"
    version: str | None = None
    metrics_token: str | None = None


def check_environment(value: str, *, error: ErrorType = ConfigError) -> Environment:
    """``value`` as one of :data:`ENVIRONMENTS`, any case; raises ``error`` naming APP_ENV."""
    return Env({"APP_ENV": value}, error=error).choice("APP_ENV", ENVIRONMENTS, "development")


def check_metrics_token(
    token: str | None, *, production: bool, error: ErrorType = ConfigError
) -> None:
    """Raise ``error`` naming METRICS_TOKEN (never quoting it) unless the token is usable.

    Any token must be printable ASCII without spaces (HTTP headers carry nothing else, so another
    token could never match); in production it is required and at least
    :data:`MIN_TOKEN_LENGTH` characters long.
    """
    if token is None:
        if production:
            raise error("METRICS_TOKEN", "is required when APP_ENV=production", TOKEN_EXAMPLE)
        return
    if not (token.isascii() and token.isprintable()) or " " in token or not token:
        raise error(
            "METRICS_TOKEN", "must be printable ASCII without spaces or blanks", TOKEN_EXAMPLE
        )
    if production and len(token) < MIN_TOKEN_LENGTH:
        problem = f"has {len(token)} characters, at least {MIN_TOKEN_LENGTH} in production"
        raise error("METRICS_TOKEN", problem, TOKEN_EXAMPLE)


def read_app_env(
    environ: Mapping[str, str] | None = None, *, error: ErrorType = ConfigError
) -> AppEnvironment:
    """Read APP_ENV (any case), APP_VERSION and METRICS_TOKEN from ``environ`` (``os.environ``).

    Raises ``error`` (the caller's config error) naming the variable and a good value when
    APP_ENV is neither development nor production or METRICS_TOKEN is unusable (see
    :func:`check_metrics_token`; an unset token in production is the caller's to refuse, since
    keyword arguments may supply it).
    """
    env = Env(environ, error=error)
    environment = env.choice("APP_ENV", ENVIRONMENTS, "development")
    token = env.secret("METRICS_TOKEN")
    if token is not None:
        check_metrics_token(token, production=environment == "production", error=error)
    return AppEnvironment(environment, env.raw("APP_VERSION"), token)
