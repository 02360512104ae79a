"""Lost, duplicated and failed-over jobs: every import still lands exactly once.

A Redis failover can lose an unreplicated write (the job of a fresh upload) or an acknowledgement
(so the job runs again). The sweep enqueues again imports whose job is gone; the import
transaction makes a second run a no-op.
"""

from __future__ import annotations

import uuid

from prometheus_client import CollectorRegistry

from reference_app.config import AppConfig
from reference_app.services import open_services
from reference_app.worker import Worker
from tests.reference_app.conftest import (
    RunningApp,
    environ_for,
    eventually,
    running_app,
    running_worker,
    sales_csv,
)
from tests.servers.redis_nodes import RedisDeployment


async def _upload(app: RunningApp, rows: int, start: int = 0) -> str:
    form = {"file": ("s.csv", sales_csv(rows, start=start), "text/csv")}
    response = await app.client.post("/api/imports", files=form)
    assert response.status_code == 202, response.text
    return str(response.json()["import_id"])


async def test_sweep_requeues_lost_jobs_and_fails_abandoned_ones(
    redis_standalone: RedisDeployment, database_url: str
) -> None:
    redis_standalone.flush()
    environ = environ_for(redis_standalone, database_url)
    async with running_app(environ) as app:
        await app.add_user()
        await app.sign_in()
        lost, abandoned = await _upload(app, 30), await _upload(app, 20, start=30)
        config = AppConfig(stalled_after=60)
        async with open_services(
            config, role="worker", environ=environ, registry=CollectorRegistry()
        ) as services:
            # The queue gave up on one job (as after max_attempts); the other job vanished.
            job = await services.import_queue.reserve(wait=5)
            assert job is not None
            assert job.id == lost
            await services.import_queue.complete(job)  # finish the lease before dropping it
            await services.redis.delete(f"queue:{{import}}:job:{lost}")
            job = await services.import_queue.reserve(wait=5)
            assert job is not None
            assert job.id == abandoned
            await services.import_queue.fail(job, "gave up after 5 attempts")
            await app.query("UPDATE imports SET updated_at = now() - interval '1 hour'")
            assert await Worker(services).sweep() == 2
            assert await Worker(services).sweep() == 0
        async with running_worker(environ, config):
            await app.import_completed(lost)
        failed = await app.import_state(abandoned)
        assert (failed["state"], failed["reason"]) == ("failed", "gave up after 5 attempts")
        assert await app.query("SELECT import_id, count(*) FROM sales GROUP BY 1") == [
            (uuid.UUID(lost), 30)
        ]


async def test_a_job_delivered_twice_writes_its_rows_once(
    redis_standalone: RedisDeployment, database_url: str
) -> None:
    redis_standalone.flush()
    environ = environ_for(redis_standalone, database_url)
    async with running_app(environ) as app, running_worker(environ) as services:
        await app.add_user()
        await app.sign_in()
        import_id = await _upload(app, 50)
        await app.import_completed(import_id)
        # The same import again under another job id, as the sweep would after a lost ack.
        await services.import_queue.enqueue({"import_id": import_id}, job_id="again")

        async def second_done() -> bool:
            status = await services.import_queue.status("again")
            return status is not None and status.state == "completed"

        await eventually(second_done, "the duplicate job")
        assert await app.query("SELECT count(*) FROM sales") == [(50,)]
        assert (await app.import_state(import_id))["attempts"] == 1


async def test_imports_survive_a_sentinel_failover(
    redis_drill_sentinel: RedisDeployment, database_url: str
) -> None:
    environ = environ_for(redis_drill_sentinel, database_url)
    config = AppConfig(stalled_after=2)
    async with running_app(environ, config) as app, running_worker(environ, config):
        await app.add_user()
        await app.sign_in()
        before = [await _upload(app, 40, start=40 * i) for i in range(3)]
        old = redis_drill_sentinel.master_address()
        redis_drill_sentinel.kill("master")
        redis_drill_sentinel.wait_for_new_master(old, timeout=30)
        if (await app.client.get("/api/auth/me")).status_code == 401:
            await app.sign_in()  # the session write may not have reached a replica
        after = [await _upload(app, 40, start=40 * i) for i in range(3, 5)]
        for import_id in before + after:
            assert (await app.import_completed(import_id))["rows"] == 40
        assert await app.query("SELECT count(*), count(DISTINCT (import_id, line)) FROM sales") == [
            (200, 200)
        ]
        summary = (await app.client.get("/api/analytics/summary")).json()
        assert summary["data"]["sales"] == 200
