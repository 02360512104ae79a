"""DatabaseSettings: every pool setting as a keyword with a default, or read from the environment.

``from_env`` takes each setting from the first of these that is set:

1. its ``DATABASE_*`` variable (durations in milliseconds, the plan's unit),
2. its Prisma-style ``DATABASE_URL`` parameter (durations in seconds, as Prisma and libpq count;
   kept for apps configured the old way),
3. the default.

=========================  ============================  ====================  =================
setting                    variable                      URL parameter         kind
=========================  ============================  ====================  =================
``max_size``               DATABASE_CONNECTION_LIMIT     ``connection_limit``  count >= 1
``acquire_timeout``        DATABASE_TIMEOUT              ``pool_timeout``      wait (0: no limit)
``connect_timeout``        DATABASE_CONNECT_TIMEOUT      ``connect_timeout``   duration > 0
``application_name``       DATABASE_APPLICATION_NAME     ``application_name``  name
``retry_attempts``         DATABASE_RETRY_ATTEMPTS       -                     count >= 1
``schema``                 -                             ``schema``            identifier
=========================  ============================  ====================  =================

A variable wins because the URL is usually one shared secret while variables are per-service tuning
the stack sets; a warning is logged when both disagree. Values are read by app_support.env: errors
name the variable (or DATABASE_URL and the parameter), a good value, and never the password.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import psutil
from psycopg import conninfo as pg_conninfo
from psycopg.errors import ProgrammingError

from app_support.env import DAY_MS, Env, ErrorType, check_count, check_seconds, parse_url
from app_support.redact import redact
from app_support.values import parse_count, parse_duration

from .errors import DatabaseConfigError
from .url import EXTRACTED_PARAMS, split_url

__all__ = ["DEFAULT_APPLICATION_NAME", "UNLIMITED_WAIT", "DatabaseSettings", "default_max_size"]

logger = logging.getLogger(__name__)

DEFAULT_APPLICATION_NAME = "ha-stack-app"
# pool_timeout=0 / DATABASE_TIMEOUT=0 mean "wait without limit": psycopg_pool fails every request at
# timeout=0 and the sync pool cannot wait on infinity, so a day stands in for it.
UNLIMITED_WAIT = 86_400.0
_URL_EXAMPLE = "postgresql://app:secret@db:5432/app"
_SCHEMES = ("postgresql", "postgres")
_LOOKS_LIKE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_SCHEMA_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")
_TABLE_RE = re.compile(r"[a-z_][a-z0-9_$]{0,62}")


def default_max_size() -> int:
    """Physical CPUs x 2 + 1 (the familiar pool-size rule); logical CPUs when unknown."""
    cpus = psutil.cpu_count(logical=False) or os.cpu_count() or 1
    return cpus * 2 + 1


def _check_name(name: str, value: object, error: ErrorType) -> str:
    text = value if isinstance(value, str) else ""
    if not (0 < len(text) <= 63 and text.isascii() and text.isprintable()):
        raise error(name, f"{value!r} is not 1-63 printable ASCII characters", "web")
    return text


def _check_schema(name: str, value: str, error: ErrorType) -> str:
    if not _SCHEMA_RE.fullmatch(value):
        raise error(name, f"{value!r} is not an identifier", "app")
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
        error = DatabaseConfigError
        _check_url("url", self.url, error, prisma=False)
        check_count("max_size", self.max_size, example=10, minimum=1, error=error)
        check_count("min_size", self.min_size, example=1, maximum=self.max_size, error=error)
        check_count("retry_attempts", self.retry_attempts, example=3, minimum=1, error=error)
        for name, example in (("acquire_timeout", 10), ("connect_timeout", 5),
                              ("check_interval", 30)):  # fmt: skip
            check_seconds(name, getattr(self, name), example=example, minimum=0.001, error=error)
        check_seconds("retry_backoff", self.retry_backoff, example=0.5, error=error)
        _check_name("application_name", self.application_name, error)
        if self.schema is not None:
            _check_schema("schema", self.schema, error)
        tables = frozenset(t.lower() for t in self.tables)
        bad = sorted(t for t in tables if not _TABLE_RE.fullmatch(t))
        if bad:
            raise error("tables", f"{bad[0]!r} is not a bare table name", "frozenset({'users'})")
        object.__setattr__(self, "tables", tables)

    def __repr__(self) -> str:
        return (
            f"DatabaseSettings(url={redact(self.url)!r}, max_size={self.max_size}, "
            f"min_size={self.min_size}, acquire_timeout={self.acquire_timeout}, "
            f"connect_timeout={self.connect_timeout}, retry_attempts={self.retry_attempts}, "
            f"application_name={self.application_name!r}, schema={self.schema!r})"
        )

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> DatabaseSettings:
        """Settings from a URL that may carry Prisma parameters; keyword ``overrides`` win over it.

        :raises DatabaseConfigError: a URL parameter or keyword is invalid.
        """
        values, _ = _from_url_parameters(url, DatabaseConfigError)
        return cls(**{**values, **overrides})

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
        env = Env(environ, error=DatabaseConfigError)
        url = env.raw("DATABASE_URL")
        if url is None:
            env.fail("DATABASE_URL", "is not set", f"{_URL_EXAMPLE}?connection_limit=10")
        from_url, given = _from_url_parameters(url, DatabaseConfigError)
        values: dict[str, Any] = {"application_name": application_name, **from_url}
        for setting in _SETTINGS:
            raw = env.raw(setting.variable)
            if raw is None:
                continue
            value = _parse(setting, setting.variable, raw, 1000, DatabaseConfigError)
            if setting.param in given and values[setting.field] != value:
                logger.warning(
                    "%s=%s overrides %s in DATABASE_URL", setting.variable, raw, setting.param
                )
            values[setting.field] = value
        return cls(**values, tables=frozenset(tables))

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


Kind = Literal["count", "wait", "duration", "name"]


class _Setting(NamedTuple):
    field: str
    variable: str
    param: str | None
    kind: Kind


# One row per setting that a variable and/or a URL parameter can give (see the module doc).
_SETTINGS = (
    _Setting("max_size", "DATABASE_CONNECTION_LIMIT", "connection_limit", "count"),
    _Setting("acquire_timeout", "DATABASE_TIMEOUT", "pool_timeout", "wait"),
    _Setting("connect_timeout", "DATABASE_CONNECT_TIMEOUT", "connect_timeout", "duration"),
    _Setting("application_name", "DATABASE_APPLICATION_NAME", "application_name", "name"),
    _Setting("retry_attempts", "DATABASE_RETRY_ATTEMPTS", None, "count"),
)
_EXAMPLES = {"max_size": 10, "acquire_timeout": 10, "connect_timeout": 5, "retry_attempts": 3}


def _parse(setting: _Setting, name: str, raw: str, per_second: int, error: ErrorType) -> Any:
    """One value of ``setting`` from ``name`` (a variable, or a URL parameter's name).

    ``per_second`` is the unit of durations: 1000 for variables (ms), 1 for the URL (seconds).
    """
    if setting.kind == "name":
        return _check_name(name, raw, error)
    example = _EXAMPLES[setting.field]
    if setting.kind == "count":
        return parse_count(name, raw, example=example, minimum=1, maximum=10_000, error=error)
    unit = "milliseconds" if per_second == 1000 else "seconds"
    seconds = parse_duration(
        name, raw, example=example * per_second, error=error, unit=unit, per_second=per_second,
        minimum=0 if setting.kind == "wait" else per_second / 1000,
        maximum=DAY_MS * per_second / 1000,
    )  # fmt: skip
    return UNLIMITED_WAIT if seconds == 0 else seconds


def _param_error(param: str) -> ErrorType:
    """Errors of a URL parameter name DATABASE_URL, the parameter and a URL that has it right."""

    def error(variable: str, problem: str, example: str) -> DatabaseConfigError:
        del variable  # the parameter's name, already in the problem
        good = f"{_URL_EXAMPLE}?{param}={example}"
        return DatabaseConfigError("DATABASE_URL", f"parameter {param}={problem}", good)

    return error


def _from_url_parameters(url: str, error: ErrorType) -> tuple[dict[str, Any], frozenset[str]]:
    """``url`` without its Prisma parameters plus the settings those give, and their names."""
    _check_url("DATABASE_URL", url, error, prisma=True)
    conninfo, params = split_url(url)
    values: dict[str, Any] = {"url": conninfo}
    for setting in _SETTINGS:
        if setting.param is not None and setting.param in params:
            raw = params[setting.param]
            values[setting.field] = _parse(
                setting, setting.param, raw, 1, _param_error(setting.param)
            )
    if "schema" in params:
        values["schema"] = _check_schema("schema", params["schema"], _param_error("schema"))
    return values, frozenset(params)


def _check_url(name: str, url: str, error: ErrorType, *, prisma: bool) -> None:
    """Raise ``error`` naming ``name`` unless libpq accepts ``url`` (password never shown).

    With ``prisma`` the Prisma parameters are allowed (they are taken out before libpq sees them).
    """
    if _LOOKS_LIKE_URL.match(url):
        parse_url(name, url, schemes=_SCHEMES, example=_URL_EXAMPLE, error=error)
    conninfo, prisma_params = split_url(url)
    params: dict[str, object] = dict(prisma_params)
    try:
        params.update(pg_conninfo.conninfo_to_dict(conninfo))
    except ProgrammingError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "invalid"
        problem = f"{redact(url)!r} is not valid for libpq ({redact(reason)})"
        raise error(name, problem, _URL_EXAMPLE) from None
    owned = sorted(EXTRACTED_PARAMS.intersection(params))
    if owned and not prisma:
        problem = (
            f"must not carry {owned[0]}: set it as a keyword, or build the settings with "
            "DatabaseSettings.from_url(url)"
        )
        raise error(name, problem, _URL_EXAMPLE)
