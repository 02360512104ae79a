"""The stack's secret config keys and the rules a configured secret value must meet.

Only the Pulumi program reads secret values (as Outputs); the model never sees one. Secrets are
embedded unescaped in DATABASE_URL and Redis configs, so they must be URL-safe, and the metrics
token must be long enough for the app to accept it in production (app_support's
MIN_TOKEN_LENGTH; tests/stacks/model/test_app_contract.py holds the two together).
"""

import re
from typing import Final

from stacks.model.errors import StackConfigError

__all__ = [
    "MIN_SECRET_LENGTH",
    "SECRET_CONFIG_KEYS",
    "SECRET_EXAMPLE",
    "check_secret_value",
    "plain_secret_error",
    "secret_problem",
]

# Secret config keys -> the secret they set (an environment variable of the containers).
SECRET_CONFIG_KEYS: Final = {
    "redisPassword": "REDIS_PASSWORD",
    "redisSentinelPassword": "REDIS_SENTINEL_PASSWORD",
    "postgresPassword": "POSTGRES_PASSWORD",
    "metricsToken": "METRICS_TOKEN",
}
# Shortest accepted value per secret config key; the app refuses a shorter production token.
MIN_SECRET_LENGTH: Final = {key: 16 if key == "metricsToken" else 8 for key in SECRET_CONFIG_KEYS}
SECRET_EXAMPLE: Final = "--secret $(openssl rand -hex 24)"  # noqa: S105 (a command)
# URI-unreserved characters only: the value goes into URLs without escaping.
_SECRET_VALUE = re.compile(r"[A-Za-z0-9._~-]*")


def secret_problem(key: str, value: str) -> str | None:
    """Why ``value`` does not suit the secret config ``key`` (never quoting it), or None."""
    minimum = MIN_SECRET_LENGTH[key]
    if not _SECRET_VALUE.fullmatch(value) or len(value) < minimum:
        return (
            f"a secret must be at least {minimum} characters of A-Z a-z 0-9 . _ ~ - "
            "(it goes into URLs)"
        )
    return None


def check_secret_value(key: str, value: str) -> str:
    """Return ``value`` if it suits the secret config ``key``; raise StackConfigError if not."""
    problem = secret_problem(key, value)
    if problem is not None:
        raise StackConfigError(f"ha-stack:{key}", problem, SECRET_EXAMPLE)
    return value


def plain_secret_error(key: str, where: str) -> StackConfigError:
    """The error for a secret ``key`` stored unencrypted in ``where`` (a file, Pulumi config)."""
    return StackConfigError(
        f"ha-stack:{key}",
        f"is plain text in {where}: a secret must be set with --secret (stored encrypted)",
        SECRET_EXAMPLE,
    )
