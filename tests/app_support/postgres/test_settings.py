"""DatabaseSettings from keywords, DATABASE_URL and DATABASE_* variables; precedence and errors."""

from __future__ import annotations

import logging

import psutil
import pytest
from psycopg import ProgrammingError
from psycopg.conninfo import conninfo_to_dict

from app_support.postgres import (
    UNLIMITED_WAIT,
    DatabaseConfigError,
    DatabaseSettings,
    default_max_size,
)

URL = "postgresql://app:s3cret-pw@db.internal:5433/shop"


def env(url: str = URL, **variables: str) -> dict[str, str]:
    return {"DATABASE_URL": url, **variables}


def test_libpq_rejects_prisma_parameters_so_they_must_be_stripped() -> None:
    with pytest.raises(ProgrammingError, match="connection_limit"):
        conninfo_to_dict(f"{URL}?connection_limit=5")


def test_defaults() -> None:
    settings = DatabaseSettings(url=URL)
    cpus = psutil.cpu_count(logical=False)
    assert cpus is not None
    assert settings.max_size == default_max_size() == cpus * 2 + 1
    assert settings.acquire_timeout == 10.0
    assert settings.connect_timeout == 5.0
    assert settings.min_size == 1
    assert settings.retry_attempts >= 1
    assert settings.application_name == "ha-stack-app"
    assert DatabaseSettings.from_env(env()).max_size == default_max_size()


def test_default_pool_size_falls_back_to_logical_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("psutil.cpu_count", lambda logical=True: None)
    monkeypatch.setattr("os.cpu_count", lambda: 3)
    assert default_max_size() == 7


def test_url_parameters_are_stripped_and_mapped() -> None:
    url = (
        f"{URL}?sslmode=disable&connection_limit=7&pool_timeout=2.5&schema=Sales&connect_timeout=9"
    )
    settings = DatabaseSettings.from_env(env(url))
    assert settings.url == f"{URL}?sslmode=disable"
    assert (settings.max_size, settings.acquire_timeout, settings.connect_timeout) == (7, 2.5, 9.0)
    assert settings.schema == "Sales"
    kwargs = settings.connection_kwargs()
    assert kwargs["options"] == '-csearch_path="Sales"'
    assert kwargs["connect_timeout"] == 9
    assert conninfo_to_dict(settings.url, **kwargs)["sslmode"] == "disable"


def test_schema_keeps_options_already_in_the_url() -> None:
    settings = DatabaseSettings.from_url(f"{URL}?options=-cstatement_timeout%3D5000&schema=app")
    assert settings.connection_kwargs()["options"] == '-cstatement_timeout=5000 -csearch_path="app"'


def test_variables_are_milliseconds() -> None:
    settings = DatabaseSettings.from_env(
        env(
            DATABASE_CONNECTION_LIMIT="4",
            DATABASE_TIMEOUT="1500",
            DATABASE_CONNECT_TIMEOUT="2500",
            DATABASE_RETRY_ATTEMPTS="6",
            DATABASE_APPLICATION_NAME="worker",
        )
    )
    assert settings.max_size == 4
    assert settings.acquire_timeout == 1.5
    assert settings.connect_timeout == 2.5
    assert settings.connection_kwargs()["connect_timeout"] == 3  # libpq: whole seconds
    assert settings.retry_attempts == 6
    assert settings.application_name == "worker"


@pytest.mark.parametrize("source", ["url", "variable"])
def test_zero_wait_means_without_limit_but_finite(source: str) -> None:
    environ = env(f"{URL}?pool_timeout=0") if source == "url" else env(DATABASE_TIMEOUT="0")
    assert DatabaseSettings.from_env(environ).acquire_timeout == UNLIMITED_WAIT < float("inf")


@pytest.mark.parametrize(
    ("param", "variable", "setting", "expected"),
    [
        ("connection_limit=20", ("DATABASE_CONNECTION_LIMIT", "6"), "max_size", 6),
        ("pool_timeout=30", ("DATABASE_TIMEOUT", "4000"), "acquire_timeout", 4.0),
        ("connect_timeout=10", ("DATABASE_CONNECT_TIMEOUT", "3000"), "connect_timeout", 3.0),
        ("application_name=url-app", ("DATABASE_APPLICATION_NAME", "env-app"), "application_name",
         "env-app"),
    ],
)  # fmt: skip
def test_variable_wins_over_url_and_says_so(
    param: str,
    variable: tuple[str, str],
    setting: str,
    expected: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        settings = DatabaseSettings.from_env(env(f"{URL}?{param}", **dict([variable])))
    assert getattr(settings, setting) == expected
    assert variable[0] in caplog.text
    assert "s3cret-pw" not in caplog.text


def test_url_wins_over_default_and_application_name_order() -> None:
    assert DatabaseSettings.from_env(env(f"{URL}?connection_limit=9")).max_size == 9
    named = DatabaseSettings.from_env(env(f"{URL}?application_name=url-app"), application_name="c")
    assert named.application_name == "url-app"
    assert DatabaseSettings.from_env(env(), application_name="code").application_name == "code"


def test_from_url_keywords_win_and_tables_are_normalised() -> None:
    settings = DatabaseSettings.from_url(
        f"{URL}?connection_limit=9", max_size=2, tables=["Users", "orders"]
    )
    assert settings.max_size == 2
    assert settings.tables == frozenset({"users", "orders"})


def test_repr_hides_the_password() -> None:
    text = repr(DatabaseSettings.from_env(env()))
    assert "s3cret-pw" not in text
    assert "db.internal" in text


def test_missing_url() -> None:
    with pytest.raises(
        DatabaseConfigError, match=r"^DATABASE_URL: is not set; for example DATABASE_URL="
    ):
        DatabaseSettings.from_env({})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_CONNECTION_LIMIT", "0"),
        ("DATABASE_CONNECTION_LIMIT", "ten"),
        ("DATABASE_CONNECTION_LIMIT", "2.5"),
        ("DATABASE_TIMEOUT", "-1"),
        ("DATABASE_TIMEOUT", "soon"),
        ("DATABASE_TIMEOUT", "nan"),
        ("DATABASE_TIMEOUT", "inf"),
        ("DATABASE_TIMEOUT", "1e300"),
        ("DATABASE_CONNECT_TIMEOUT", "-inf"),
        ("DATABASE_CONNECTION_LIMIT", "\u00b2"),
        ("DATABASE_CONNECT_TIMEOUT", "0"),
        ("DATABASE_RETRY_ATTEMPTS", "0"),
        ("DATABASE_APPLICATION_NAME", "x" * 64),
        ("DATABASE_APPLICATION_NAME", "caf\u00e9"),
    ],
)
def test_bad_variable_is_named_with_an_example(variable: str, value: str) -> None:
    with pytest.raises(DatabaseConfigError) as caught:
        DatabaseSettings.from_env(env(**{variable: value}))
    message = str(caught.value)
    assert message.startswith(f"{variable}: {value!r} is")
    assert f"; for example {variable}=" in message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("connection_limit=lots", "DATABASE_URL: parameter connection_limit='lots'"),
        ("pool_timeout=-3", "DATABASE_URL: parameter pool_timeout='-3' is out of range"),
        ("pool_timeout=inf", "DATABASE_URL: parameter pool_timeout='inf' is not a finite"),
        ("schema=a%20b", "DATABASE_URL: parameter schema='a b'"),
        ("pgbouncer=true", "DATABASE_URL: 'postgresql://app:***@db.internal:5433/shop?pgb"),
    ],
)
def test_bad_url_parameter_is_named_without_the_password(query: str, named: str) -> None:
    with pytest.raises(DatabaseConfigError) as caught:
        DatabaseSettings.from_env(env(f"{URL}?{query}"))
    assert str(caught.value).startswith(named)
    assert "; for example DATABASE_URL=postgresql://" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)


# Issue 13.5 and 13.11: other schemes printed the password; a bad port or bracket was not named.
@pytest.mark.parametrize(
    "url",
    [
        "mysql://app:s3cret-pw@db/app",
        "postgresql+psycopg://app:s3cret-pw@db/app",
        "postgresql:/app:s3cret-pw@db/app",
        "postgresql://app:s3cret-pw@[::1/app",
        "postgresql://app:s3cret-pw@db:99999/app",
        "postgresql://app:s3c@ret-pw@db:99999/app",
        "postgres://app:s3cret-pw@db/app?connection_limit=0",
        "host=db password=s3cret-pw dbname=app port=x y",
    ],
)
def test_url_errors_name_the_variable_and_hide_the_password(url: str) -> None:
    with pytest.raises(DatabaseConfigError) as caught:
        DatabaseSettings.from_env(env(url))
    message = str(caught.value)
    assert message.startswith("DATABASE_URL: ")
    assert "s3cret" not in message
    assert "ret-pw" not in message


def test_prisma_parameters_stay_supported_and_variables_win() -> None:
    """Apps configured the old way: every Prisma parameter is read, each variable overrides it."""
    url = f"{URL}?connection_limit=7&pool_timeout=2&connect_timeout=3&application_name=a&schema=s"
    old = DatabaseSettings.from_env(env(url))
    assert (old.max_size, old.acquire_timeout, old.connect_timeout) == (7, 2.0, 3.0)
    assert (old.application_name, old.schema, old.url) == ("a", "s", URL)
    new = DatabaseSettings.from_env(
        env(url, DATABASE_CONNECTION_LIMIT="4", DATABASE_TIMEOUT="500",
            DATABASE_CONNECT_TIMEOUT="1500", DATABASE_APPLICATION_NAME="b")
    )  # fmt: skip
    assert (new.max_size, new.acquire_timeout, new.connect_timeout) == (4, 0.5, 1.5)
    assert (new.application_name, new.schema) == ("b", "s")


@pytest.mark.parametrize(
    ("keywords", "named"),
    [
        ({"max_size": 0}, "max_size: '0' is out of range"),
        ({"min_size": 5, "max_size": 2}, "min_size: '5' is out of range (0 to 2)"),
        ({"acquire_timeout": float("inf")}, "acquire_timeout: 'inf' is not a finite number"),
        ({"connect_timeout": 0}, "connect_timeout: '0' is out of range"),
        ({"retry_attempts": 0}, "retry_attempts: '0' is out of range"),
        ({"check_interval": -1.0}, "check_interval: '-1.0' is out of range"),
        ({"retry_backoff": float("nan")}, "retry_backoff: 'nan' is not a finite"),
        ({"schema": "x;drop"}, "schema: 'x;drop' is not an identifier"),
        ({"tables": frozenset({"public.users"})}, "tables: 'public.users' is not a bare"),
        ({"url": f"{URL}?connection_limit=3"}, "url: must not carry connection_limit"),
    ],
)
def test_bad_keyword_is_named(keywords: dict[str, object], named: str) -> None:
    with pytest.raises(DatabaseConfigError) as caught:
        DatabaseSettings(**{"url": URL, **keywords})  # type: ignore[arg-type]
    assert str(caught.value).startswith(named)
    assert "; for example " in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)
