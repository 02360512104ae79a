"""DatabaseSettings: every pool setting as a keyword with a default, or read from the environment.

Precedence, highest first (``from_env``):

1. the ``DATABASE_*`` variable (``DATABASE_CONNECTION_LIMIT``, ``DATABASE_TIMEOUT``,
   ``DATABASE_CONNECT_TIMEOUT``, ``DATABASE_APPLICATION_NAME``),
2. the matching ``DATABASE_URL`` parameter (``connection_limit``, ``pool_timeout``,
   ``connect_timeout``, ``application_name``),
3. the default.

A variable wins because the URL is usually one shared secret while variables are per-service tuning
the stack sets; a warning is logged when both are set and disagree.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psutil
from psycopg import conninfo as pg_conninfo
from psycopg.errors import ProgrammingError

from .errors import DatabaseConfigError
from .url import EXTRACTED_PARAMS, redact_url, split_url

__all__ = ["DEFAULT_APPLICATION_NAME", "UNLIMITED_WAIT", "DatabaseSettings", "default_max_size"]

logger = logging.getLogger(__name__)

DEFAULT_APPLICATION_NAME = "ha-stack-app"
# pool_timeout=0 / DATABASE_TIMEOUT=0 mean "wait without limit": psycopg_pool fails every request at
# timeout=0 and the sync pool cannot wait on infinity, so a day stands in for it.
UNLIMITED_WAIT = 86_400.0
_URL_EXAMPLE = "postgresql://app:secret@db:5432/app?connection_limit=10&pool_timeout=10"
_SCHEMA_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")
_TABLE_RE = re.compile(r"[a-z_][a-z0-9_$]{0,62}")


def default_max_size() -> int:
    """Physical CPUs x 2 + 1 (the familiar pool-size rule); logical CPUs when unknown."""
    cpus = psutil.cpu_count(logical=False) or os.cpu_count() or 1
    return cpus * 2 + 1


def _fail(setting: str, problem: str, value: object) -> None:
    raise DatabaseConfigError(f"{setting}={value!r} {problem}", setting=setting)


def _number(raw: str, source: str, example: str, *, integer: bool, minimum: float) -> float:
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= minimum):
        kind = "a whole number" if integer else "a number"
        raise DatabaseConfigError(f"{source}={raw!r} must be {kind} >= {minimum:g}, e.g. {example}")
    return value


@dataclass(frozen=True, kw_only=True)
class DatabaseSettings:
    """Settings for the sync and async pools; validated on construction, before any I/O.

    Times are in seconds. ``url`` is a libpq URL or conninfo without the Prisma parameters (use
    :meth:`from_url` or :meth:`from_env` for URLs that carry them). ``tables`` is the allow-list of
    table names that query timing reports by name; any other table is reported as ``other``.

    :raises DatabaseConfigError: a setting is out of range, naming it and giving a good value.
    """

    url: str = field(default="", repr=False)
    max_size: int = field(default_factory=default_max_size)
    min_size: int = 1
    acquire_timeout: float = 10.0
    connect_timeout: float = 5.0
    retry_attempts: int = 3
    retry_backoff: float = 0.5
    check_interval: float = 30.0
    application_name: str = DEFAULT_APPLICATION_NAME
    schema: str | None = None
    tables: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self._check_url()
        for name, minimum, example in (
            ("max_size", 1, "max_size=10"),
            ("min_size", 0, "min_size=1"),
            ("retry_attempts", 1, "retry_attempts=3"),
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < minimum:
                _fail(name, f"must be an int >= {minimum}, e.g. {example}", value)
        if self.min_size > self.max_size:
            _fail("min_size", f"exceeds max_size={self.max_size}; e.g. min_size=1", self.min_size)
        for name, example in (
            ("acquire_timeout", "acquire_timeout=10.0"),
            ("connect_timeout", "connect_timeout=5.0"),
            ("check_interval", "check_interval=30.0"),
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                _fail(name, f"must be > 0 and finite, e.g. {example}", value)
        if not (math.isfinite(self.retry_backoff) and self.retry_backoff >= 0):
            _fail("retry_backoff", "must be >= 0, e.g. retry_backoff=0.5", self.retry_backoff)
        name = self.application_name
        if not (0 < len(name) <= 63 and name.isascii() and name.isprintable()):
            _fail("application_name", "must be 1-63 printable ASCII characters, e.g. 'web'", name)
        if self.schema is not None and not _SCHEMA_RE.fullmatch(self.schema):
            _fail("schema", "must be an identifier, e.g. 'app'", self.schema)
        tables = frozenset(t.lower() for t in self.tables)
        bad = sorted(t for t in tables if not _TABLE_RE.fullmatch(t))
        if bad:
            _fail("tables", "must hold bare table names, e.g. frozenset({'users'})", bad[0])
        object.__setattr__(self, "tables", tables)

    def _check_url(self) -> None:
        params: dict[str, Any] = dict(split_url(self.url).params)
        try:
            params.update(pg_conninfo.conninfo_to_dict(split_url(self.url).conninfo))
        except ProgrammingError as exc:
            message = str(exc).splitlines()[0] if str(exc) else "invalid"
            _fail(
                "url",
                f"is not valid for libpq ({message}); e.g. {_URL_EXAMPLE}",
                redact_url(self.url),
            )
        owned = sorted(EXTRACTED_PARAMS.intersection(params))
        if owned:
            _fail(
                "url",
                f"must not carry {owned[0]}: set it as a keyword (e.g. max_size=10), or build "
                f"the settings with DatabaseSettings.from_url(url)",
                redact_url(self.url),
            )

    def __repr__(self) -> str:
        return (
            f"DatabaseSettings(url={redact_url(self.url)!r}, max_size={self.max_size}, "
            f"min_size={self.min_size}, acquire_timeout={self.acquire_timeout}, "
            f"connect_timeout={self.connect_timeout}, retry_attempts={self.retry_attempts}, "
            f"application_name={self.application_name!r}, schema={self.schema!r})"
        )

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> DatabaseSettings:
        """Settings from a URL that may carry Prisma parameters; keyword ``overrides`` win over it.

        :raises DatabaseConfigError: a URL parameter or keyword is invalid.
        """
        return cls._build(url, {}, overrides)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        tables: Iterable[str] = (),
        application_name: str = DEFAULT_APPLICATION_NAME,
    ) -> DatabaseSettings:
        """Settings from ``DATABASE_*`` variables (``os.environ`` by default); see the module doc.

        ``application_name`` is the code's own default, used when neither
        ``DATABASE_APPLICATION_NAME`` nor the URL names the application.

        :raises DatabaseConfigError: ``DATABASE_URL`` is missing, or a variable or URL parameter is
            invalid; the message names it and shows a good value.
        """
        env = os.environ if environ is None else environ
        url = env.get("DATABASE_URL", "").strip()
        if not url:
            raise DatabaseConfigError(f"DATABASE_URL is not set; e.g. DATABASE_URL={_URL_EXAMPLE}")
        variables = {key: env[key].strip() for key in _VARIABLES if env.get(key, "").strip()}
        overrides = {"tables": frozenset(tables), "application_name": application_name}
        return cls._build(url, variables, overrides, weak={"application_name"})

    @classmethod
    def _build(
        cls,
        url: str,
        variables: Mapping[str, str],
        overrides: Mapping[str, Any],
        weak: frozenset[str] | set[str] = frozenset(),
    ) -> DatabaseSettings:
        conninfo, params = split_url(url)
        values: dict[str, Any] = {}
        origins = {"url": "DATABASE_URL"}
        for param, (variable, setting, parse) in _MAPPING.items():
            from_url = params.get(param)
            if from_url is not None:
                origins[setting] = f"DATABASE_URL parameter {param}"
                values[setting] = parse(from_url, origins[setting], f"?{param}=", 1)
            raw = variables.get(variable)
            if raw is not None:
                value = parse(raw, variable, f"{variable}=", 1000)
                if setting in values and values[setting] != value:
                    logger.warning("%s=%s overrides %s=%s in DATABASE_URL", variable, raw, param,
                                   from_url)  # fmt: skip
                values[setting] = value
                origins[setting] = variable
        if "schema" in params:
            values["schema"] = params["schema"]
            origins["schema"] = "DATABASE_URL parameter schema"
        if "DATABASE_RETRY_ATTEMPTS" in variables:
            raw = variables["DATABASE_RETRY_ATTEMPTS"]
            example = "DATABASE_RETRY_ATTEMPTS=3"
            values["retry_attempts"] = int(
                _number(raw, "DATABASE_RETRY_ATTEMPTS", example, integer=True, minimum=1)
            )
        for key, value in overrides.items():
            if key not in weak or key not in values:
                values[key] = value
                origins.pop(key, None)
        try:
            return cls(url=conninfo, **values)
        except DatabaseConfigError as exc:
            origin = origins.get(exc.setting or "")
            if origin is None:
                raise
            raise DatabaseConfigError(f"{origin}: {exc}", setting=exc.setting) from None

    def connection_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for every pooled connection; they override the same URL parameters.

        libpq counts ``connect_timeout`` in whole seconds, at least 2, so it is rounded up.
        """
        kwargs: dict[str, Any] = {
            "application_name": self.application_name,
            "connect_timeout": max(2, math.ceil(self.connect_timeout)),
        }
        if self.schema is not None:
            url_options = pg_conninfo.conninfo_to_dict(self.url).get("options")
            search_path = f'-csearch_path="{self.schema}"'
            kwargs["options"] = f"{url_options} {search_path}" if url_options else search_path
        return kwargs


def _limit(raw: str, source: str, prefix: str, _scale: int) -> int:
    return int(_number(raw, source, f"{prefix}10", integer=True, minimum=1))


def _seconds(raw: str, source: str, prefix: str, per_second: int) -> float:
    # 0 means "no limit" only for the acquire timeout; _connect_seconds rejects it.
    example = f"{prefix}{10 * per_second}"
    value = _number(raw, source, example, integer=False, minimum=0) / per_second
    return UNLIMITED_WAIT if value == 0 else value


def _connect_seconds(raw: str, source: str, prefix: str, per_second: int) -> float:
    example = f"{prefix}{5 * per_second}"
    minimum = 1 / per_second
    return _number(raw, source, example, integer=False, minimum=minimum) / per_second


def _name(raw: str, _source: str, _prefix: str, _scale: int) -> str:
    return raw


# URL parameter -> (variable, setting, parser); parsers take (raw, source, example prefix, units
# per second): the URL counts seconds (Prisma, libpq), the variables milliseconds (the plan).
_MAPPING = {
    "connection_limit": ("DATABASE_CONNECTION_LIMIT", "max_size", _limit),
    "pool_timeout": ("DATABASE_TIMEOUT", "acquire_timeout", _seconds),
    "connect_timeout": ("DATABASE_CONNECT_TIMEOUT", "connect_timeout", _connect_seconds),
    "application_name": ("DATABASE_APPLICATION_NAME", "application_name", _name),
}
_VARIABLES = (*(variable for variable, _, _ in _MAPPING.values()), "DATABASE_RETRY_ATTEMPTS")
