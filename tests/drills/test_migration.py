"""Drill: migrate the dev stack standalone -> sentinel -> standalone (docs/migration.md) and keep
the data (PostgreSQL imports, Redis sessions); the app follows each switch.

Run against the deployed dev stack (scripts/up dev): pytest tests/drills -m drill. Redeploys the
stack three times and leaves it as committed (sentinel mode).
"""

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.drills.app_client import AppClient, sales_csv
from tests.drills.stack_ops import add_user, imports_in_database, wait_converged
from tests.infra.deployed import REPO_ROOT, DeployedStack, wait_for

pytestmark = [pytest.mark.drill, pytest.mark.timeout(1200)]

STANDALONE = {"ha-stack:redisMode": "standalone"}
ROWS = 50


def _run(*argv: str) -> float:
    """Run one of the project's scripts from the repo root; its duration in seconds."""
    started = time.monotonic()
    result = subprocess.run(
        argv, cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=600
    )
    assert result.returncode == 0, f"{' '.join(argv)}:\n{result.stdout}\n{result.stderr}"
    return time.monotonic() - started


def _deploy(config_dir: Path | None = None) -> float:
    extra = [] if config_dir is None else ["--config-dir", str(config_dir)]
    return _run("scripts/up", "dev", *extra, "--no-build", "--no-install")


def _assert_data_kept_and_app_follows(
    stack: DeployedStack, client: AppClient, import_id: str
) -> None:
    wait_converged(stack)
    # PostgreSQL: the import and its rows.
    status = client.import_status(import_id)
    assert status["state"] == "completed"
    assert status["rows"] == ROWS
    assert imports_in_database(stack, [import_id])[import_id].sales == ROWS
    # Redis: the session made before the switch still signs the client in.
    assert client.http.get("/api/auth/me").status_code == 200
    for service in stack.services("app", command="web"):
        report = stack.app_get(service, "/api/health/detailed", token=True).json()
        assert report["services"]["redis"]["mode"] == stack.settings.redis.mode
    # And the app keeps working in the new mode: a new import goes all the way through.
    reply = client.upload(sales_csv(ROWS, seed=7))
    assert reply.status_code == 202, reply.text
    new_id = reply.json()["import_id"]
    wait_for(
        f"import {new_id} completed",
        lambda: client.import_status(new_id)["state"] == "completed" or None,
        timeout=120,
        interval=1,
    )


def test_standalone_to_sentinel_and_back_keeps_the_data(
    dev: DeployedStack, figures: dict[str, str]
) -> None:
    standalone_dir = REPO_ROOT / "build" / "drills" / "dev-standalone"
    shutil.rmtree(standalone_dir, ignore_errors=True)
    _run(
        "scripts/render",
        "dev",
        "--set",
        "ha-stack:redisMode=standalone",
        "--out",
        str(standalone_dir),
    )
    # The same secrets: the PostgreSQL volume was initialised with this password.
    shutil.copy2(REPO_ROOT / "configs" / "dev" / ".env", standalone_dir / ".env")
    standalone = DeployedStack("dev", overrides=STANDALONE)
    try:
        to_standalone = _deploy(standalone_dir)
        wait_converged(standalone)
        web = standalone.services("app", command="web")[0]
        client = AppClient(standalone.published_port(web, 8000), *add_user(standalone, web))
        client.sign_in()
        reply = client.upload(sales_csv(ROWS))
        assert reply.status_code == 202, reply.text
        import_id = reply.json()["import_id"]
        wait_for(
            "the first import completed",
            lambda: client.import_status(import_id)["state"] == "completed" or None,
            timeout=120,
            interval=1,
        )

        to_sentinel = _deploy()
        _assert_data_kept_and_app_follows(dev, client, import_id)

        back_to_standalone = _deploy(standalone_dir)
        _assert_data_kept_and_app_follows(standalone, client, import_id)
        client.close()
    finally:
        restore = _deploy()
    wait_converged(dev)
    durations = (to_standalone, to_sentinel, back_to_standalone, restore)
    figures["migration: redeploys standalone / sentinel / standalone / sentinel"] = " / ".join(
        f"{seconds:.0f} s" for seconds in durations
    )
