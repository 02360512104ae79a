"""One value at a time, in the one wording of app_support's configuration errors.

The parsers behind :class:`app_support.env.Env` (durations, counts, ports, host lists, URLs) and the
checks of keyword arguments, for code that has a value rather than an environment (URL parameters,
``Settings(...)`` keywords). Each raises the caller's error type (see :class:`ErrorType`) with
:func:`config_message`'s wording.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import NoReturn, Protocol
from urllib.parse import SplitResult, urlsplit

from app_support.redact import redact

__all__ = [
    "DAY_MS",
    "Address",
    "ConfigError",
    "ErrorType",
    "check_count",
    "check_seconds",
    "config_message",
    "parse_addresses",
    "parse_count",
    "parse_duration",
    "parse_url",
]

Address = tuple[str, int]

# The largest duration any variable accepts: bigger values are typos (or "inf" in disguise), and
# asyncio, libpq and socket timeouts overflow on absurd ones.
DAY_MS = 86_400_000
_INTEGER = re.compile(r"[+-]?[0-9]+")  # ASCII digits only: "²".isdigit() is True


def config_message(variable: str, problem: str, example: str) -> str:
    """The one wording: ``VARIABLE: problem; for example VARIABLE=example``."""
    return f"{variable}: {problem}; for example {variable}={example}"


class ErrorType(Protocol):
    """What a reader raises: built from the variable, the problem and a good value."""

    def __call__(self, variable: str, problem: str, example: str) -> Exception: ...


class ConfigError(ValueError):
    """A setting has a bad value; the base of the packages' own config errors.

    ``variable`` names the environment variable (or keyword) at fault, ``example`` a good value.
    """

    def __init__(self, variable: str, problem: str, example: str) -> None:
        self.variable = variable
        self.problem = problem
        self.example = example
        super().__init__(config_message(variable, problem, example))


def _plain(number: float) -> str:
    """600000 rather than 6e+05: numbers in messages are copied into environment files."""
    return str(int(number)) if float(number).is_integer() else str(number)


def _fail(error: ErrorType, variable: str, problem: str, example: object) -> NoReturn:
    raise error(variable, problem, str(example))


def parse_duration(
    variable: str,
    raw: str,
    *,
    example: float,
    error: ErrorType = ConfigError,
    unit: str = "milliseconds",
    per_second: int = 1000,
    minimum: float = 0,
    maximum: float = DAY_MS,
) -> float:
    """``raw`` (in ``unit``; ``per_second`` of them make a second) as seconds.

    Raises ``error`` unless ``raw`` is a finite number within [minimum, maximum] (in ``unit``):
    ``inf``, ``nan``, negative and absurd values never reach a timeout.
    """
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        _fail(error, variable, f"{raw!r} is not a finite number of {unit}", _plain(example))
    if not minimum <= value <= maximum:
        problem = f"{raw!r} is out of range ({_plain(minimum)} to {_plain(maximum)} {unit})"
        _fail(error, variable, problem, _plain(example))
    return value / per_second


def parse_count(
    variable: str,
    raw: str,
    *,
    example: int,
    error: ErrorType = ConfigError,
    minimum: int = 0,
    maximum: int = 1_000_000,
) -> int:
    """``raw`` as a whole number within [minimum, maximum]; raises ``error`` otherwise."""
    text = raw.strip()
    if not _INTEGER.fullmatch(text):
        _fail(error, variable, f"{raw!r} is not a whole number", example)
    value = int(text)
    if not minimum <= value <= maximum:
        _fail(error, variable, f"{raw!r} is out of range ({minimum} to {maximum})", example)
    return value


def check_seconds(
    name: str,
    value: object,
    *,
    example: float,
    error: ErrorType = ConfigError,
    minimum: float = 0,
    maximum: float = DAY_MS / 1000,
) -> float:
    """A keyword argument in seconds (a number, not a bool) held to :func:`parse_duration`."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return parse_duration(
        name,
        str(value) if number else repr(value),
        example=example,
        error=error,
        unit="seconds",
        per_second=1,
        minimum=minimum,
        maximum=maximum,
    )


def check_count(
    name: str,
    value: object,
    *,
    example: int,
    error: ErrorType = ConfigError,
    minimum: int = 0,
    maximum: int = 1_000_000,
) -> int:
    """A keyword argument that must be a whole number (not a bool) within [minimum, maximum]."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else repr(value)
    return parse_count(name, text, example=example, error=error, minimum=minimum, maximum=maximum)


def _port(variable: str, raw: str, item: str, example: object, error: ErrorType) -> int:
    if not _INTEGER.fullmatch(raw) or not 0 < int(raw) < 65536:
        _fail(error, variable, f"{item!r} has no TCP port (1 to 65535)", example)
    return int(raw)


def parse_addresses(
    variable: str, raw: str, *, example: str, error: ErrorType = ConfigError
) -> tuple[Address, ...]:
    """``host:port,host:port`` (IPv6 hosts in brackets) as (host, port) pairs; at least one."""
    addresses: list[Address] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        if not sep or not host:
            _fail(error, variable, f"{item!r} has no port", example)
        if host.startswith("[") != host.endswith("]"):
            _fail(error, variable, f"{item!r} has an unclosed IPv6 bracket", example)
        addresses.append((host.strip("[]"), _port(variable, port, item, example, error)))
    if not addresses:
        _fail(error, variable, "no host:port given", example)
    return tuple(addresses)


def parse_url(
    variable: str,
    raw: str,
    *,
    schemes: Sequence[str],
    example: str,
    error: ErrorType = ConfigError,
) -> SplitResult:
    """``raw`` split as a URL whose scheme is one of ``schemes`` and whose port, if any, is valid.

    Raises ``error`` naming ``variable`` (with credentials redacted) otherwise, e.g. for ``[::1``.
    """
    shown = repr(redact(raw))
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - urllib checks the port only when asked for it
    except ValueError as exc:
        _fail(error, variable, f"{shown} is not a valid URL ({exc})", example)
    if parts.scheme.lower() not in schemes:
        wanted = " or ".join(f"{scheme}://" for scheme in schemes)
        _fail(error, variable, f"{shown} is not a {wanted} URL", example)
    return parts
