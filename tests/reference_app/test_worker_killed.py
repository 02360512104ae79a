"""A worker SIGKILLed in the middle of an import: the rows it wrote vanish with its transaction,
the job is handed to the next worker when the lease runs out, and the import lands exactly once.

To kill the worker at a known point, the test first inserts, in a transaction it keeps open, a
sales row with the import's LAST line number: the worker's COPY writes every other row, then waits
on the unique index to learn whether that row commits. So all but one row are written
(uncommitted) and the transaction is open when the worker dies.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.reference_app.conftest import environ_for, eventually, running_app, sales_csv
from tests.servers.redis_nodes import RedisDeployment, free_port

ROWS = 20_000
LEASE = "2"


class WorkerProcess:
    """``python -m reference_app worker`` in a subprocess, its output in a log file."""

    def __init__(self, environ: dict[str, str], log: Path) -> None:
        env = {**os.environ, **environ, "PORT": str(free_port())}
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "reference_app", "worker", "--job-lease", LEASE],
                env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop(signal.SIGKILL)


async def _worker_backends(conn: psycopg.AsyncConnection[Any]) -> list[tuple[Any, ...]]:
    cursor = await conn.execute(
        "SELECT pid, wait_event_type, query FROM pg_stat_activity"
        " WHERE application_name = 'reference-app-worker' AND pid <> pg_backend_pid()"
    )
    return await cursor.fetchall()


async def test_worker_killed_mid_import_applies_it_exactly_once(
    redis_standalone: RedisDeployment,
    database_url: str,
    workers: list[WorkerProcess],
    tmp_path: Path,
) -> None:
    redis_standalone.flush()
    environ = environ_for(redis_standalone, database_url)
    log = tmp_path / "workers.log"
    async with running_app(environ) as app:
        user_id = await app.add_user()
        await app.sign_in()
        upload = await app.client.post(
            "/api/imports", files={"file": ("big.csv", sales_csv(ROWS), "text/csv")}
        )
        assert upload.status_code == 202, upload.text
        import_id = upload.json()["import_id"]

        blocker = await psycopg.AsyncConnection.connect(database_url)
        watcher = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
        try:
            await blocker.execute(
                "INSERT INTO sales (import_id, line, user_id, sale_date, region, product,"
                " quantity, unit_price) VALUES (%s, %s, %s, '2026-01-01', 'x', 'x', 1, 1)",
                (import_id, ROWS + 1, user_id),  # line 1 is the header
            )
            workers.append(WorkerProcess(environ, log))

            async def copy_waiting_on_lock() -> bool:
                return any(
                    wait == "Lock" and query.startswith("COPY sales")
                    for _, wait, query in await _worker_backends(watcher)
                )

            await eventually(copy_waiting_on_lock, "the worker's COPY to wait on the test's row")
            cursor = await watcher.execute(
                "SELECT tuples_processed FROM pg_stat_progress_copy WHERE relid = 'sales'::regclass"
            )
            assert await cursor.fetchall() == [(ROWS,)]  # all sent, the last one waits
            workers[0].stop(signal.SIGKILL)
            state = await app.query("SELECT state, attempts FROM imports WHERE id = %s", import_id)
            assert state == [("active", 1)]
        finally:
            await blocker.rollback()  # the dead worker's backend now aborts its transaction
            await blocker.close()

        async def backend_gone() -> bool:
            return not await _worker_backends(watcher)

        await eventually(backend_gone, "the killed worker's backend to end")
        await watcher.close()
        assert await app.query("SELECT count(*) FROM sales") == [(0,)]

        workers.append(WorkerProcess(environ, log))

        body = await app.import_completed(import_id)
        assert body["rows"] == ROWS
        assert body["attempts"] == 2
        assert body["job"]["state"] == "completed"
        assert await app.query("SELECT count(*), count(DISTINCT line) FROM sales") == [(ROWS, ROWS)]
        assert workers[1].stop(signal.SIGTERM) == 0, log.read_text()
        summary = (await app.client.get("/api/analytics/summary")).json()
        assert summary["data"]["sales"] == ROWS
