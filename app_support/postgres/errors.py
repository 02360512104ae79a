"""The few exceptions app_support.postgres raises, and error text that is safe to show."""

from __future__ import annotations

import psycopg
from psycopg_pool import PoolTimeout

from app_support.env import ConfigError
from app_support.redact import redact

__all__ = ["DatabaseConfigError", "DatabasePoolTimeout", "DatabaseUnavailable", "safe_error_text"]


class DatabaseConfigError(ConfigError):
    """A database setting or variable is missing or invalid; raised before any I/O.

    A ``ValueError``; ``variable`` names the variable (or DatabaseSettings keyword) at fault.
    """


class DatabasePoolTimeout(PoolTimeout):
    """No pooled connection became free within the acquire timeout."""


class DatabaseUnavailable(psycopg.OperationalError):
    """The server could not be reached after every start-up attempt."""


def safe_error_text(exc: BaseException, *secrets: str) -> str:
    """One line naming the error, with URL user-info, ``password=...`` and ``secrets`` redacted.

    For health reports and logs: libpq messages name host and port, never the password, but a
    message built by other code might quote a DSN.
    """
    lines = str(exc).strip().splitlines()
    text = redact(lines[0] if lines else "", *secrets)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
