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
    assert result.returncode != 0
    assert "PORT must be a number (example: PORT=8000), got 'eighty'" in result.stderr


def test_sample_csv_is_valid() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reference_app", "sample-csv", "25"],
        capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    assert len(parse_sales_csv(result.stdout)) == 25


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"environment": "staging"}, "APP_ENV must be one of development, production"),
        ({"port": 0}, "PORT must be a TCP port 1-65535"),
        ({"upload_limit": "lots"}, "upload_limit must be a rate like '10/minute'"),
        ({"job_lease": 0}, "job_lease must be more than 0 (example: job_lease=30)"),
        ({"session_cookie": "a b"}, "session_cookie must be a plain name"),
    ],
)
def test_settings_name_the_bad_value(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(AppConfigError, match=re.escape(message)):
        AppConfig(**kwargs)  # type: ignore[arg-type]


def test_from_env_reads_only_app_env_and_port() -> None:
    config = AppConfig.from_env({"APP_ENV": "production", "PORT": "9000"}, session_ttl=60)
    assert (config.environment, config.port, config.session_ttl) == ("production", 9000, 60)
    assert config.secure_cookies
