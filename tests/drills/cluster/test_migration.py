"""Drill: the dev-cluster stack's data moves from Sentinel mode into Cluster mode and back, key by
key (scripts/redis-migrate; docs/migration.md "Into Redis Cluster and back").

The stack is first deployed as its Sentinel variant (scripts/render dev-cluster --set
ha-stack:redisMode=sentinel --out DIR; scripts/up dev-cluster --config-dir DIR, with the stack's
own secrets). Through the app: a user signs in (a session), one import completes (PostgreSQL rows,
cached aggregates), and with the worker stopped two more wait in the import queue. Then:

- into Cluster: every key copied and checked by the migration itself; the session still signs the
  user in, the queued imports complete once the worker runs in cluster mode, the first import's
  rows are there;
- back to Sentinel: the same checks, plus a new import through the app.

Leaves the stack as committed (cluster mode). Key counts and times go to build/drills/figures.txt.
"""

import json
import os
import shutil
import subprocess
import time
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.drills.app_client import AppClient, sales_csv
from tests.drills.cluster.cluster_ops import wait_cluster_converged
from tests.drills.stack_ops import add_user, imports_in_database, wait_converged
from tests.infra.deployed import REPO_ROOT, DeployedStack, wait_for

pytestmark = [pytest.mark.cluster_drill, pytest.mark.timeout(1500)]

SENTINEL = {"ha-stack:redisMode": "sentinel"}
ROWS = 40


def _run(*argv: str) -> tuple[float, str]:
    """Run one of the project's scripts from the repo root; (seconds, stdout)."""
    started = time.monotonic()
    # The compose deployment (CI exports it too): scripts/up would otherwise prefer Pulumi.
    env = {**os.environ, "HA_STACK_DEPLOYER": "compose"}
    result = subprocess.run(
        argv, cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=900, env=env
    )
    assert result.returncode == 0, f"{' '.join(argv)}:\n{result.stdout}\n{result.stderr}"
    return time.monotonic() - started, result.stdout


def _migrate(to_dir: Path | None = None) -> dict[str, Any]:
    extra = [] if to_dir is None else ["--to-dir", str(to_dir)]
    _, out = _run("scripts/redis-migrate", "dev-cluster", *extra)
    last = out.strip().splitlines()[-1]
    assert last.startswith("redis-migrate: {"), out
    summary: dict[str, Any] = json.loads(last.removeprefix("redis-migrate: "))
    return summary


def _completed(client: AppClient, import_id: str) -> bool | None:
    return client.import_status(import_id)["state"] == "completed" or None


def _upload(client: AppClient, seed: int) -> str:
    reply = client.upload(sales_csv(ROWS, seed=seed))
    assert reply.status_code == 202, reply.text
    import_id: str = reply.json()["import_id"]
    return import_id


def _check(stack: DeployedStack, client: AppClient, done: list[str]) -> None:
    """The session still signs the client in, every import completed with its rows, and the app
    reports the stack's Redis mode."""
    assert client.http.get("/api/auth/me").status_code == 200
    for import_id in done:
        wait_for(f"import {import_id} completed", partial(_completed, client, import_id), 180, 1)
    rows = imports_in_database(stack, done)
    got = {i: (r.state, r.sales) for i, r in rows.items()}
    assert got == dict.fromkeys(done, ("completed", ROWS))
    for service in stack.services("app", command="web"):
        report = stack.app_get(service, "/api/health/detailed", token=True).json()
        assert report["services"]["redis"]["mode"] == stack.settings.redis.mode


def test_sentinel_to_cluster_and_back_keeps_every_key(
    cluster: DeployedStack, figures: dict[str, str]
) -> None:
    sentinel_dir = REPO_ROOT / "build" / "drills" / "dev-cluster-sentinel"
    shutil.rmtree(sentinel_dir, ignore_errors=True)
    _run(
        "scripts/render",
        "dev-cluster",
        "--set",
        "ha-stack:redisMode=sentinel",
        "--out",
        str(sentinel_dir),
    )
    sentinel = DeployedStack("dev-cluster", overrides=SENTINEL)
    try:
        _run(
            "scripts/up",
            "dev-cluster",
            "--config-dir",
            str(sentinel_dir),
            "--no-build",
            "--no-install",
        )
        wait_converged(sentinel)
        web = sentinel.services("app", command="web")[0]
        client = AppClient(sentinel.published_port(web, 8000), *add_user(sentinel, web))
        client.sign_in()
        first = _upload(client, seed=1)
        wait_for("the first import completed", lambda: _completed(client, first), 180, 1)
        # Jobs that wait in the queue when the data moves: the worker is stopped.
        worker = sentinel.spec(sentinel.services("app", command="worker")[0]).name
        sentinel.docker("stop", worker)
        queued = [_upload(client, seed=2), _upload(client, seed=3)]

        into = _migrate()
        wait_cluster_converged(cluster)
        _check(cluster, client, [first, *queued])

        back = _migrate(sentinel_dir)
        wait_converged(sentinel)
        _check(sentinel, client, [first, *queued])
        late = _upload(client, seed=4)
        _check(sentinel, client, [first, *queued, late])
        client.close()
    finally:
        restored, _ = _run("scripts/up", "dev-cluster", "--no-build", "--no-install")
        # The Sentinel variant's volumes are drill data: scripts/down --volumes removes only the
        # volumes of the configuration it is given.
        kept = {v.name for v in cluster.topology.volumes}
        leftover = [v.name for v in sentinel.topology.volumes if v.name not in kept]
        subprocess.run(["docker", "volume", "rm", *leftover], capture_output=True, check=False)
    wait_cluster_converged(cluster)
    for name, summary in (("into cluster", into), ("back to sentinel", back)):
        assert summary["keys"] == summary["checked"], summary
        by_type = ", ".join(f"{kind} {count}" for kind, count in summary["by_type"].items())
        figures[f"migration {name}: keys (by type)"] = f"{summary['keys']} ({by_type})"
        figures[f"migration {name}: copy / app down / total"] = (
            f"{summary['copy_seconds']} s / {summary['app_down_seconds']} s / "
            f"{summary['total_seconds']} s"
        )
    figures["migration: redeploy back to cluster mode (fresh cluster)"] = f"{restored:.0f} s"
