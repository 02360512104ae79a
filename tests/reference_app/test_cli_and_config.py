"""The command line (as the image runs it) and the settings' error messages."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from reference_app.config import AppConfig, AppConfigError
from reference_app.csv_format import parse_sales_csv
from tests.reference_app.conftest import environ_for, running_app
from tests.servers.redis_nodes import RedisDeployment


def _cli(*args: str, environ: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reference_app", *args],
        env={**os.environ, **environ}, input=stdin, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip


async def test_add_user_then_sign_in(redis_standalone: RedisDeployment, database_url: str) -> None:
    environ = environ_for(redis_standalone, database_url)
    result = _cli("add-user", "carol", environ=environ, stdin="s3cret pass\n")
    assert result.returncode == 0, result.stderr
    assert "user carol (id 1) is ready" in result.stderr
    async with running_app(environ) as app:
        assert (await app.sign_in("carol", "s3cret pass")).status_code == 200


def test_bad_environment_fails_naming_the_variable() -> None:
    result = _cli("migrate", environ={"DATABASE_URL": "", "PORT": "eighty"})
    assert result.returncode == 78
    assert result.stderr == (
        "python -m reference_app migrate: PORT: 'eighty' is not a whole number; "
        "for example PORT=8000\n"
    )


GOOD = {
    "DATABASE_URL": "postgresql://app:pw@127.0.0.1:1/app",
    "REDIS_URL": "redis://127.0.0.1:1/0",
    "APP_ENV": "development",
    "PORT": "8000",
}


# Issue 13.11: these printed a traceback (or a message without the variable's name).
@pytest.mark.parametrize(
    ("command", "variable", "value"),
    [
        ("web", "PORT", "\u00b2"),
        ("worker", "PORT", "99999"),
        ("migrate", "REDIS_URL", "redis://[::1:6379/0"),
        ("web", "DATABASE_URL", "postgresql://app:pw@[::1/app"),
        ("worker", "REDIS_SOCKET_TIMEOUT", "inf"),
        ("web", "REDIS_RETRY_DEADLINE", "nan"),
        ("web", "DATABASE_CONNECTION_LIMIT", "\u00b2"),
        ("web", "METRICS_PORT", "99999"),
        ("web", "APP_ENV", "staging"),
        ("add-user", "REDIS_MODE", "sharded"),
    ],
)
def test_every_command_names_a_bad_variable_in_one_line(
    command: str, variable: str, value: str
) -> None:
    args = (command, "alice") if command == "add-user" else (command,)
    result = _cli(*args, environ={**GOOD, variable: value})
    assert result.returncode == 78, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"python -m reference_app {command}: {variable}: ")
    assert f"; for example {variable}=" in lines[0]
    assert "Traceback" not in result.stderr


# Issue 13.5: start-up errors printed the password of URLs with other schemes.
@pytest.mark.parametrize(
    ("variable", "url"),
    [
        ("DATABASE_URL", "mysql://app:hunter2@db/app"),
        ("DATABASE_URL", "postgresql+psycopg://app:hunter2@db/app"),
        ("DATABASE_URL", "postgresql:/app:hunter2@db/app"),
        ("DATABASE_URL", "postgresql://app:hunter2@[::1/app"),
        ("DATABASE_URL", "postgresql://app:hun@ter2@db:99999/app"),
        ("REDIS_URL", "redis+sentinel://:hunter2@s1:26379/mymaster"),
        ("REDIS_URL", "http://:hunter2@redis:6379"),
    ],
)
def test_start_up_errors_never_print_a_password(variable: str, url: str) -> None:
    result = _cli("migrate", environ={**GOOD, variable: url})
    assert result.returncode == 78, result.stderr
    assert result.stderr.startswith(f"python -m reference_app migrate: {variable}: ")
    assert "hunter2" not in result.stderr
    assert "ter2" not in result.stderr


def test_sample_csv_is_valid() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reference_app", "sample-csv", "25"],
        capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    assert len(parse_sales_csv(result.stdout)) == 25


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"environment": "staging"}, "APP_ENV: 'staging' is not one of development, production"),
        ({"port": 0}, "PORT: '0' is out of range (1 to 65535); for example PORT=8000"),
        ({"upload_limit": "lots"}, "upload_limit: 'lots' is not a rate like '10/minute'"),
        ({"job_lease": 0}, "job_lease: 0 is not a finite number above 0; for example job_lease=30"),
        ({"job_lease": float("inf")}, "job_lease: inf is not a finite number above 0"),
        ({"session_cookie": "a b"}, "session_cookie: 'a b' is not a plain name"),
    ],
)
def test_settings_name_the_bad_value(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(AppConfigError, match=re.escape(message)):
        AppConfig(**kwargs)  # type: ignore[arg-type]


def test_from_env_reads_only_app_env_and_port() -> None:
    config = AppConfig.from_env({"APP_ENV": "Production", "PORT": "9000"}, session_ttl=60)
    assert (config.environment, config.port, config.session_ttl) == ("production", 9000, 60)
    assert config.secure_cookies
