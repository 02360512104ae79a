"""Issue 13 item 9: bad Redis settings stop start-up, as bad PostgreSQL settings do, with the same
retry policy (DATABASE_RETRY_ATTEMPTS, doubling backoff) and a message naming the variable.

The real entry points (``python -m reference_app web`` and ``worker``) against a real,
password-protected Redis and PostgreSQL: before the check, both logged "startup complete" or
"worker ready" and then failed every request or job.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.reference_app.conftest import environ_for
from tests.servers.redis_nodes import RedisDeployment, free_port


def _bad(redis: RedisDeployment, case: str) -> dict[str, str]:
    port = redis.nodes[0].port
    if case == "wrong-password":
        return {"REDIS_PASSWORD": "not-the-password"}
    if case == "no-password":
        return {"REDIS_PASSWORD": ""}
    if case == "database-99":
        return {"REDIS_URL": f"redis://127.0.0.1:{port}/99"}
    return {"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}  # nothing listens there


CASES = [
    ("wrong-password", "REDIS_PASSWORD"),
    ("no-password", "REDIS_PASSWORD"),
    ("database-99", "REDIS_URL"),
    ("unreachable", "REDIS_URL"),
]


@pytest.mark.parametrize("role", ["web", "worker"])
@pytest.mark.parametrize(("case", "variable"), CASES, ids=[case for case, _ in CASES])
def test_bad_redis_settings_stop_start_up_naming_the_variable(
    redis_standalone: RedisDeployment, database_url: str, role: str, case: str, variable: str
) -> None:
    env = {
        **os.environ,
        **environ_for(redis_standalone, database_url),
        "PORT": str(free_port()),
        "DATABASE_RETRY_ATTEMPTS": "2",
        "REDIS_RETRY_DEADLINE": "500",
        **_bad(redis_standalone, case),
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", "reference_app", role],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        output = (exc.stderr or b"").decode() if isinstance(exc.stderr, bytes) else exc.stderr
        raise AssertionError(f"{role} kept running with bad Redis settings:\n{output}") from None
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    # uvicorn follows the error with "Application startup failed. Exiting.": look for the line.
    named = [line for line in output.splitlines() if "Redis at" in line and "attempt(s)" in line]
    assert named, output
    assert variable in named[-1], output
    assert "not-the-password" not in output
    # The same retry policy as PostgreSQL's: DATABASE_RETRY_ATTEMPTS=2 is one retry.
    assert output.count("Redis not ready") == 1, output
    assert "startup complete" not in output.lower()
    assert "worker ready" not in output
