"""Fixtures of the rolling-update drill: the deployed prod stack (3 web replicas, 2 workers), the
drill's app versions built from the running one, a signed-in session, and the rollout scripts.

Run: scripts/up prod; pytest tests/drills/rollout -m rollout_drill. Its own marker (as the
cluster drills): ``-m drill`` selects the dev stack's drills, which run while prod is down. The
drill fails (never skips) when prod is not deployed; it leaves every replica on the declared
version, as scripts/up deployed it.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from stacks.compose.rollout_cli import record_path
from stacks.model.app_version import APP_IMAGE
from tests.drills.stack_ops import add_user, wait_converged
from tests.infra.deployed import REPO_ROOT, DeployedStack

STACK = "prod"
GOOD, BROKEN = "drill-good", "drill-broken"

# Built from the running version with no network: a new image id with the same app (GOOD), and
# one whose app asks the Sentinels for a master they do not monitor, so it never becomes ready
# (BROKEN: start-up retries Redis, then exits and Docker restarts it).
_DOCKERFILES = {
    GOOD: "FROM {base}\nLABEL ha-stack.drill=good\n",
    BROKEN: (
        "FROM {base}\nLABEL ha-stack.drill=broken\nUSER root\n"
        "RUN printf '#!/bin/bash\\nexport REDIS_MASTER_NAME=no-such-master\\n"
        'exec python -m reference_app "$@"\\n\' > /usr/local/bin/app-entrypoint\nUSER app\n'
    ),
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "rollout_drill: the rolling-update drill against the deployed prod stack"
    )


@dataclass(frozen=True)
class ScriptRun:
    """One run of scripts/rollout or scripts/rollback: exit status, output, wall-clock seconds,
    and the events it wrote (JSON lines)."""

    status: int
    stdout: str
    seconds: float
    events: list[dict[str, object]]


def image_id(reference: str) -> str:
    done = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", reference],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return done.stdout.strip()


def running_images(stack: DeployedStack) -> dict[str, str]:
    """app service -> the image id its container runs."""
    return {s: str(stack.inspect(s)["Image"]) for s in stack.services("app")}


@pytest.fixture(scope="session")
def prod() -> DeployedStack:
    stack = DeployedStack(STACK)
    stack.assert_deployed()
    wait_converged(stack, timeout=600)
    return stack


@pytest.fixture(scope="session")
def versions(prod: DeployedStack) -> Iterator[dict[str, str]]:
    """tag -> image id of the declared version, GOOD and BROKEN. Every app container must run
    the declared version (a fresh scripts/up): the rollout record starts afresh from it."""
    declared = prod.settings.images.app.tag
    ids = {declared: image_id(f"{APP_IMAGE}:{declared}")}
    assert set(running_images(prod).values()) == {ids[declared]}, "app not on its declared version"
    for path in (record_path(STACK), record_path(STACK).with_suffix(".compose.yml")):
        path.unlink(missing_ok=True)
    for tag, dockerfile in _DOCKERFILES.items():
        subprocess.run(
            ["docker", "build", "--quiet", "--tag", f"{APP_IMAGE}:{tag}", "-"],
            input=dockerfile.format(base=f"{APP_IMAGE}:{declared}"),
            text=True, capture_output=True, check=True, timeout=300,
        )  # fmt: skip
        ids[tag] = image_id(f"{APP_IMAGE}:{tag}")
    yield ids
    # Only once no container runs them (the drill ends on the declared version).
    if set(running_images(prod).values()) == {ids[declared]}:
        subprocess.run(
            ["docker", "image", "rm", f"{APP_IMAGE}:{GOOD}", f"{APP_IMAGE}:{BROKEN}"],
            capture_output=True, check=False, timeout=120,
        )  # fmt: skip


@pytest.fixture(scope="session")
def session_headers(prod: DeployedStack) -> dict[str, str]:
    """A signed-in session's Cookie header (app-1's port; sessions live in Redis)."""
    username, password = add_user(prod, "app-1")
    port = prod.published_port("app-1", 8000)
    reply = httpx.post(
        f"http://127.0.0.1:{port}/api/auth/sign-in",
        json={"username": username, "password": password}, timeout=10,
    )  # fmt: skip
    assert reply.status_code == 200, reply.text
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in reply.cookies.items())}


@pytest.fixture
def run_rollout(tmp_path: Path) -> Callable[..., ScriptRun]:
    """``run_rollout("rollout", "--tag", T, ...)`` / ``run_rollout("rollback", ...)``."""
    count = [0]

    def run(script: str, *args: str, timeout: float = 900) -> ScriptRun:
        count[0] += 1
        events = tmp_path / f"events-{count[0]}.jsonl"
        started = time.monotonic()
        done = subprocess.run(
            [str(REPO_ROOT / "scripts" / script), STACK, *args, "--events", str(events)],
            capture_output=True, text=True, check=False, timeout=timeout, cwd=REPO_ROOT,
        )  # fmt: skip
        took = time.monotonic() - started
        print(done.stdout, done.stderr, sep="\n")
        lines = events.read_text().splitlines() if events.exists() else []
        return ScriptRun(done.returncode, done.stdout, took, [json.loads(x) for x in lines])

    return run
