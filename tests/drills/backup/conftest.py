"""Fixtures of the backup drills: the deployed prod stack (not dev, as the other drills), a
signed-in user of its app, and shell access to the kit's backup scripts.

Run: scripts/up prod; pytest tests/drills/backup -m backup_drill. Their own marker and conftest:
tests/drills/conftest.py and ``-m drill`` are the dev stack's. The drills fail (never skip) when
prod is not deployed, and each leaves the stack ready (Sentinels agreeing, the app's
dependencies healthy) for the next.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.drills.app_client import AppClient
from tests.drills.stack_ops import add_user, wait_converged
from tests.infra.deployed import REPO_ROOT, DeployedStack

STACK = "prod"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "backup_drill: backup and restore drills against the deployed prod stack"
    )


@dataclass(frozen=True)
class ScriptRun:
    """One run of a script of the kit: its output and how long it took (wall clock)."""

    stdout: str
    seconds: float


def run_script(*argv: str, timeout: float = 600) -> ScriptRun:
    """Run ``scripts/<argv[0]> argv[1:]`` from the repository; AssertionError with its output
    when it exits non-zero."""
    started = time.monotonic()
    done = subprocess.run(
        [str(REPO_ROOT / "scripts" / argv[0]), *argv[1:]],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        cwd=REPO_ROOT,
    )
    took = time.monotonic() - started
    print(done.stdout, done.stderr, sep="\n")
    assert done.returncode == 0, f"scripts/{' '.join(argv)} -> {done.returncode}:\n{done.stderr}"
    return ScriptRun(done.stdout, took)


def wait_ready(stack: DeployedStack, timeout: float = 300) -> None:
    """Wait until every container runs, the Sentinels agree on a master with every replica
    online, and each web replica reports its dependencies (PostgreSQL, Redis, queues) healthy:
    what the app reports, not Docker's health status (its docker-exec checks time out on a
    loaded host without saying anything about the data path)."""
    wait_converged(stack, timeout=timeout, docker_health=False)


@pytest.fixture(scope="session")
def prod() -> DeployedStack:
    stack = DeployedStack(STACK)
    stack.assert_deployed()
    wait_ready(stack)
    return stack


@pytest.fixture
def client(prod: DeployedStack) -> Iterator[AppClient]:
    """A signed-in user of the app behind app-0's published port."""
    username, password = add_user(prod, "app-0")
    made = AppClient(prod.published_port("app-0", 8000), username, password, timeout=30)
    made.sign_in()
    # A production app marks its session cookie Secure (it expects TLS in front of it); the
    # drill talks plain HTTP to the published port, so the client sends the cookie anyway.
    for cookie in made.http.cookies.jar:
        cookie.secure = False
    yield made
    made.close()
