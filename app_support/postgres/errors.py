"""The few exceptions app_support.postgres raises, and error text that is safe to show."""

from __future__ import annotations

import re

import psycopg
from psycopg_pool import PoolTimeout

__all__ = ["DatabaseConfigError", "DatabasePoolTimeout", "DatabaseUnavailable", "safe_error_text"]


class DatabaseConfigError(ValueError):
    """A database setting or variable is missing or invalid; raised before any I/O.

    ``setting`` names the DatabaseSettings field at fault, when there is one.
    """

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


class DatabasePoolTimeout(PoolTimeout):
    """No pooled connection became free within the acquire timeout."""


class DatabaseUnavailable(psycopg.OperationalError):
    """The server could not be reached after every start-up attempt."""


_URL_RE = re.compile(r"postgres(?:ql)?://\S+", re.IGNORECASE)
_PASSWORD_RE = re.compile(r"password\s*=\s*(?:'(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def safe_error_text(exc: BaseException, *secrets: str) -> str:
    """One line naming the error, with URLs, ``password=...`` and the given secrets removed.

    For health reports and logs: libpq messages name host and port, never the password, but a
    message built by other code might quote a DSN.
    """
    lines = str(exc).strip().splitlines()
    text = _URL_RE.sub("<url>", lines[0] if lines else "")
    text = _PASSWORD_RE.sub("password=***", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
