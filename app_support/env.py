"""The environment layer: every variable of app_support and the reference app is read here.

One reader per kind of value (flag, choice, millisecond duration, count, port, host list, URL),
one wording for every error, whichever package reads:

    REDIS_SOCKET_TIMEOUT: 'inf' is not a finite number of milliseconds; for example
    REDIS_SOCKET_TIMEOUT=2000

The caller passes its own error type (``RedisConfigError``, ``DatabaseConfigError``, ...): any
callable ``(variable, problem, example)`` that returns the exception to raise, such as
:class:`ConfigError` and its subclasses. A variable that is unset or blank counts as unset.
Values are never echoed with credentials: URLs go through :func:`app_support.redact.redact`. The
parsers of single values are in :mod:`app_support.values`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import NoReturn, TypeVar

from app_support.values import (
    DAY_MS,
    Address,
    ConfigError,
    ErrorType,
    check_count,
    check_seconds,
    config_message,
    parse_addresses,
    parse_count,
    parse_duration,
    parse_url,
)

# The value parsers live in app_support.values; they are re-exported so a reader needs one import.
__all__ = [
    "DAY_MS",
    "Address",
    "ConfigError",
    "Env",
    "ErrorType",
    "check_count",
    "check_seconds",
    "config_message",
    "parse_addresses",
    "parse_count",
    "parse_duration",
    "parse_url",
]

C = TypeVar("C", bound=str)
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class Env:
    """Typed reads of one environment (``os.environ`` by default), raising ``error``.

    Every method takes the variable's name and its default, returned when the variable is unset
    or blank; values are stripped.
    """

    def __init__(
        self, environ: Mapping[str, str] | None = None, *, error: ErrorType = ConfigError
    ) -> None:
        self.environ = os.environ if environ is None else environ
        self.error = error

    def raw(self, name: str) -> str | None:
        """The stripped value, or None when unset or blank."""
        return self.environ.get(name, "").strip() or None

    def fail(self, name: str, problem: str, example: object) -> NoReturn:
        """Raise the caller's error for ``name``."""
        raise self.error(name, problem, str(example))

    def text(self, name: str, default: str) -> str:
        return self.raw(name) or default

    def secret(self, name: str) -> str | None:
        """A password or token: taken as set (not stripped); None when unset or empty."""
        return self.environ.get(name) or None

    def flag(self, name: str, default: bool) -> bool:
        """``true``/``false`` (also 1/0, yes/no, on/off), any case."""
        raw = self.raw(name)
        if raw is None:
            return default
        if raw.lower() in _TRUE | _FALSE:
            return raw.lower() in _TRUE
        raise self.error(name, f"{raw!r} is not true or false", "true")

    def choice(self, name: str, choices: Sequence[C], default: C) -> C:
        """One of ``choices``, any case; returned as spelled in ``choices``."""
        raw = self.raw(name)
        if raw is None:
            return default
        for choice in choices:
            if raw.lower() == choice.lower():
                return choice
        raise self.error(name, f"{raw!r} is not one of {', '.join(choices)}", choices[-1])

    def millis(
        self, name: str, default: float, *, minimum: float = 0, maximum: float = DAY_MS
    ) -> float:
        """A duration in milliseconds, returned in seconds (``default`` is in seconds)."""
        raw = self.raw(name)
        if raw is None:
            return default
        return parse_duration(
            name,
            raw,
            example=default * 1000 or 1000,
            error=self.error,
            minimum=minimum,
            maximum=maximum,
        )

    def count(self, name: str, default: int, *, minimum: int = 0, maximum: int = 1_000_000) -> int:
        raw = self.raw(name)
        if raw is None:
            return default
        return parse_count(
            name,
            raw,
            example=default or minimum or 1,
            error=self.error,
            minimum=minimum,
            maximum=maximum,
        )

    def port(self, name: str, default: int | None) -> int | None:
        """A TCP port, 1 to 65535."""
        raw = self.raw(name)
        if raw is None:
            return default
        example = default or 8000
        return parse_count(name, raw, example=example, error=self.error, minimum=1, maximum=65535)

    def addresses(self, name: str, *, example: str) -> tuple[Address, ...]:
        """``host:port,...``; empty when unset."""
        raw = self.raw(name)
        return () if raw is None else parse_addresses(name, raw, example=example, error=self.error)

    def url(self, name: str, default: str, *, schemes: Sequence[str], example: str) -> str:
        """A URL with one of ``schemes`` (checked, also when it is the default)."""
        value = self.raw(name) or default
        parse_url(name, value, schemes=schemes, example=example, error=self.error)
        return value
