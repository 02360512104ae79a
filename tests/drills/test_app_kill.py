"""Fault drill: a web replica and the worker die mid-import; the other replica serves and the import
completes exactly once (the job is handed out again when the dead worker's lease runs out).

Run against the deployed dev stack (scripts/up dev): pytest tests/drills -m drill.
"""

import time

import pytest

from tests.drills.app_client import AppClient, sales_csv
from tests.drills.stack_ops import imports_in_database, kill, start, wait_converged
from tests.infra.deployed import DeployedStack, wait_for

pytestmark = [pytest.mark.drill, pytest.mark.timeout(600)]

# ~3.5 MB: big enough that the worker is still writing it when it is killed.
ROWS = 100_000


def test_web_replica_and_worker_killed_mid_import(
    dev: DeployedStack, clients: list[AppClient], figures: dict[str, str]
) -> None:
    first, other = clients[0], clients[-1]
    web = dev.services("app", command="web")
    worker = dev.services("app", command="worker")[0]
    assert len(web) >= 2, "the drill needs a second web replica"
    reply = first.upload(sales_csv(ROWS))
    assert reply.status_code == 202, reply.text
    import_id = reply.json()["import_id"]
    wait_for(
        "the worker taking the import",
        lambda: other.import_status(import_id)["state"] == "active" or None,
        timeout=60,
        interval=0.05,
    )
    killed_at = kill(dev, worker)
    kill(dev, web[0])
    try:
        # The other replica serves, and sees the import unfinished.
        assert other.http.get("/api/health").status_code == 200
        assert other.import_status(import_id)["state"] == "active"
        assert imports_in_database(dev, [import_id])[import_id].sales == 0
    finally:
        start(dev, worker)
        start(dev, web[0])
    done = wait_for(
        "the import completed after the worker came back",
        lambda: other.import_status(import_id)["state"] == "completed" or None,
        timeout=240,
        interval=1,
    )
    completed_after = time.monotonic() - killed_at
    row = imports_in_database(dev, [import_id])[import_id]
    figures["worker killed mid-import: completed after"] = (
        f"{completed_after:.0f} s ({ROWS} rows; includes the job lease running out)"
    )
    assert done
    assert row.row_count == ROWS
    assert row.sales == ROWS
    attempts = other.import_status(import_id)["attempts"]
    assert isinstance(attempts, int)
    assert attempts >= 2, "the job was not handed out again"
    wait_converged(dev)
