"""Issue 13 item 1: the worker recovers by itself from a PostgreSQL crash, and SIGTERM stops it
within a bound whatever its job is doing.

The wedge seen in production: PostgreSQL crashed (``pg_ctl stop -m immediate``) during an import;
while it was down, each redelivery of the job failed after ``DATABASE_TIMEOUT`` (= lease / 3), at
the very moment the lease keeper woke up to renew the lease, so the keeper was cancelled inside
redis-py's ``extend()``. redis-py 8.1 on Python 3.11 swallows a cancellation that lands there
(its ``asyncio.wait_for`` around the socket write), so the keeper kept renewing the lease forever,
the consumer waited for it forever, new jobs stayed waiting and SIGTERM did nothing.

The drill reproduces that timing with a short lease (3 s, ``DATABASE_TIMEOUT`` 1 s) against a
private PostgreSQL (so crashing it harms no other test) and a real Redis, and requires that the
worker, untouched, finishes the interrupted import exactly once, takes a new job, and exits on
SIGTERM within a bound. Run it repeatedly with ``--count`` style loops (see benchmarks/RESULTS.md).
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.reference_app.conftest import RunningApp, environ_for, eventually, running_app
from tests.reference_app.conftest import sales_csv as make_csv
from tests.reference_app.worker_process import WorkerProcess
from tests.servers.postgres_server import PostgresServer
from tests.servers.redis_nodes import RedisDeployment

LEASE = 3.0
ROWS = 100_000
OUTAGE = 5.0
# Docker stops a container with SIGKILL 10 s after SIGTERM: the worker must be gone before.
STOP_BOUND = 10.0


@pytest.fixture
async def drill_app(
    redis_standalone: RedisDeployment, private_postgres: PostgresServer
) -> AsyncIterator[tuple[RunningApp, dict[str, str]]]:
    redis_standalone.flush()
    name = f"t_wedge_{uuid.uuid4().hex[:12]}"
    url = private_postgres.create_database(name)
    # The test servers commit asynchronously (fast, but a crash loses the last commits, as
    # documented); a real server does not, and the drill crashes this one.
    with psycopg.connect(private_postgres.superuser_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET synchronous_commit = on").format(sql.Identifier(name))
        )
    # DATABASE_TIMEOUT = lease / 3: a redelivered job fails waiting for a connection exactly when
    # its lease keeper wakes up to renew the lease, the timing that wedged the worker.
    environ = {**environ_for(redis_standalone, url), "DATABASE_TIMEOUT": str(int(LEASE * 1000 / 3))}
    async with running_app(environ) as app:
        await app.add_user()
        assert (await app.sign_in()).status_code == 200
        yield app, environ


async def _state(url: str, import_id: str) -> tuple[str, int, int | None]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cursor = await conn.execute(
            "SELECT state, attempts, row_count FROM imports WHERE id = %s", (import_id,)
        )
        row = await cursor.fetchone()
    assert row is not None
    return row[0], row[1], row[2]


async def _upload(app: RunningApp, rows: int, start: int = 0) -> str:
    response = await app.client.post(
        "/api/imports", files={"file": ("s.csv", make_csv(rows, start=start), "text/csv")}
    )
    assert response.status_code == 202, response.text
    return str(response.json()["import_id"])


async def _reachable(url: str) -> bool:
    try:
        async with await psycopg.AsyncConnection.connect(url, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


async def test_worker_recovers_by_itself_after_a_postgres_crash(
    drill_app: tuple[RunningApp, dict[str, str]],
    private_postgres: PostgresServer,
    tmp_path: Path,
) -> None:
    app, environ = drill_app
    url = environ["DATABASE_URL"]
    worker = WorkerProcess(environ, tmp_path / "worker.log", lease=LEASE)
    try:
        first = await _upload(app, ROWS)

        async def copying() -> bool:
            rows = await app.query(
                "SELECT tuples_processed FROM pg_stat_progress_copy"
                " WHERE relid = 'sales'::regclass AND tuples_processed > 0"
            )
            return bool(rows)

        await eventually(copying, "the worker's COPY of the import", within=60)
        private_postgres.stop("immediate")
        try:
            await asyncio.sleep(OUTAGE)
        finally:
            private_postgres.start()
        await eventually(lambda: _reachable(url), "PostgreSQL to accept connections again")

        async def finished(import_id: str) -> tuple[str, int, int | None] | None:
            state = await _state(url, import_id)
            return state if state[0] in ("completed", "failed") else None

        try:
            state, attempts, rows = await eventually(
                lambda: finished(first), "the interrupted import to finish", within=90
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{worker.output()[-6000:]}") from None
        assert (state, rows) == ("completed", ROWS), worker.output()[-4000:]
        assert attempts >= 2  # the crash rolled the first attempt back
        # The worker takes new jobs again (a wedged one leaves them waiting).
        second = await _upload(app, 10, start=ROWS)
        new = await eventually(lambda: finished(second), "a new import", within=30)
        assert new[0] == "completed", worker.output()[-4000:]
        counts = await app.query("SELECT import_id::text, count(*) FROM sales GROUP BY 1")
        assert sorted(counts) == sorted([(second, 10), (first, ROWS)])
        worker.signal(signal.SIGTERM)
        code, took = worker.wait(STOP_BOUND + 20)
        assert code == 0, f"exit {code} after {took:.1f} s\n{worker.output()[-4000:]}"
        assert took < STOP_BOUND, worker.output()[-4000:]
    finally:
        worker.kill()


async def test_sigterm_releases_a_job_stuck_in_the_database_within_a_bound(
    drill_app: tuple[RunningApp, dict[str, str]], tmp_path: Path
) -> None:
    """The import's COPY waits on a row lock the test holds: the job can neither finish nor
    fail. SIGTERM must still stop the worker within the bound, and give the job back at once
    (not after its lease), so the next worker applies it exactly once."""
    app, environ = drill_app
    url = environ["DATABASE_URL"]
    lease = 60.0  # long: a job handed back early must not be waiting for its lease to run out
    log = tmp_path / "worker.log"
    import_id = await _upload(app, 200)
    user_id = (await app.query("SELECT id FROM users"))[0][0]
    blocker = await psycopg.AsyncConnection.connect(url)
    worker = WorkerProcess(environ, log, lease=lease)
    try:
        await blocker.execute(
            "INSERT INTO sales (import_id, line, user_id, sale_date, region, product, quantity,"
            " unit_price) VALUES (%s, 201, %s, '2026-01-01', 'x', 'x', 1, 1)",
            (import_id, user_id),
        )

        async def copy_waiting() -> bool:
            rows: list[Any] = await app.query(
                "SELECT 1 FROM pg_stat_activity WHERE application_name = 'reference-app-worker'"
                " AND wait_event_type = 'Lock' AND query LIKE 'COPY sales%%'"
            )
            return bool(rows)

        await eventually(copy_waiting, "the worker's COPY to wait on the test's lock")
        worker.signal(signal.SIGTERM)
        code, took = worker.wait(STOP_BOUND + 20)
        assert code == 0, f"exit {code} after {took:.1f} s\n{worker.output()[-4000:]}"
        assert took < STOP_BOUND, worker.output()[-4000:]
    finally:
        await blocker.rollback()
        await blocker.close()
        worker.kill()
    second = WorkerProcess(environ, log, lease=lease)
    try:
        # Well before the 60 s lease would have run out.
        body = await app.import_completed(import_id, within=30)
        assert body["rows"] == 200
        assert await app.query("SELECT count(*) FROM sales") == [(200,)]
    finally:
        second.kill()
