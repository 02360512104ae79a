"""Writes Redis cannot make durable are never a silent success, and a lost job comes back within
the lease (issue 11).

A standalone node has no replica, so ``REDIS_WAIT_REPLICAS=1`` can never be met there: the upload
answers 503 and withdraws its import, sign-in answers 503 without a cookie. The app that signs in
for the upload tests runs with ``REDIS_WAIT_REPLICAS=0`` against the same Redis and database.
"""

from __future__ import annotations

import time
import uuid

from reference_app.config import AppConfig
from tests.reference_app.conftest import (
    RunningApp,
    environ_for,
    eventually,
    running_app,
    running_worker,
    sales_csv,
)
from tests.servers.redis_nodes import RedisDeployment


def _unconfirmed(environ: dict[str, str]) -> dict[str, str]:
    # WAIT 1 with a short timeout, against a node no replica follows.
    return {**environ, "REDIS_WAIT_REPLICAS": "1", "REDIS_WAIT_TIMEOUT": "100"}


async def _upload(app: RunningApp, rows: int) -> tuple[int, dict[str, object], str | None]:
    form = {"file": ("s.csv", sales_csv(rows), "text/csv")}
    response = await app.client.post("/api/imports", files=form)
    return response.status_code, response.json(), response.headers.get("retry-after")


async def test_an_unconfirmed_upload_answers_503_and_leaves_no_accepted_import(
    redis_standalone: RedisDeployment, database_url: str
) -> None:
    redis_standalone.flush()
    environ = environ_for(redis_standalone, database_url)
    async with running_app(environ) as signer, running_app(_unconfirmed(environ)) as app:
        await signer.add_user()
        assert (await signer.sign_in()).status_code == 200
        app.client.cookies.update(signer.client.cookies)

        status, body, retry_after = await _upload(app, 25)

        assert status == 503, body
        assert retry_after is not None
        assert int(retry_after) >= 1
        assert body["error"] == "write_not_confirmed"
        assert body["retry_after"] == int(retry_after)
        import_id = str(body["import_id"])
        # Withdrawn, readable, and without its CSV: nothing the user could take as accepted.
        record = await signer.import_state(import_id)
        assert record["state"] == "failed"
        assert str(record["reason"]).startswith("not accepted")
        assert await app.query("SELECT state, payload IS NULL FROM imports") == [("failed", True)]
        # The job itself reached the node (WAIT only found no replica): running it imports
        # nothing, because the import is failed.
        async with running_worker(environ) as services:

            async def job_finished() -> bool:
                job = await services.import_queue.status(import_id)
                return job is not None and job.state == "failed"

            await eventually(job_finished, "the withdrawn import's job to fail")
        assert await app.query("SELECT count(*) FROM sales") == [(0,)]
        assert (await signer.import_state(import_id))["state"] == "failed"


async def test_an_unconfirmed_session_answers_503_without_a_cookie(
    redis_standalone: RedisDeployment, database_url: str
) -> None:
    redis_standalone.flush()
    environ = _unconfirmed(environ_for(redis_standalone, database_url))
    async with running_app(environ) as app:
        await app.add_user()
        response = await app.sign_in()
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "write_not_confirmed"
        assert int(response.headers["retry-after"]) >= 1
        assert "set-cookie" not in response.headers
        assert (await app.client.get("/api/auth/me")).status_code == 401


async def test_a_master_that_refuses_writes_gets_503_not_500(
    redis_standalone: RedisDeployment, database_url: str
) -> None:
    # min-replicas-to-write unmet (its replica is gone): every write is refused (NOREPLICAS),
    # here the sign-in limiter's counter, until the retry deadline.
    redis_standalone.flush()
    environ = {**environ_for(redis_standalone, database_url), "REDIS_RETRY_DEADLINE": "300"}
    admin = redis_standalone.node("master").client()
    async with running_app(environ) as app:
        await app.add_user()
        admin.config_set("min-replicas-to-write", 5)
        try:
            response = await app.sign_in()
        finally:
            admin.config_set("min-replicas-to-write", 0)
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "write_not_confirmed"
        assert int(response.headers["retry-after"]) >= 1
        assert (await app.sign_in()).status_code == 200


async def test_a_confirmed_upload_is_accepted_where_a_replica_confirms(
    redis_sentinel: RedisDeployment, database_url: str
) -> None:
    redis_sentinel.flush()
    environ = {**environ_for(redis_sentinel, database_url), "REDIS_WAIT_REPLICAS": "1"}
    async with running_app(environ) as app:
        await app.add_user()
        assert (await app.sign_in()).status_code == 200
        status, body, _ = await _upload(app, 10)
        assert status == 202, body


async def test_a_job_lost_from_redis_comes_back_within_the_lease(
    redis_standalone: RedisDeployment, database_url: str
) -> None:
    redis_standalone.flush()
    environ = environ_for(redis_standalone, database_url)
    config = AppConfig(job_lease=8.0)
    async with running_app(environ, config) as app:
        await app.add_user()
        await app.sign_in()
        status, body, _ = await _upload(app, 30)
        uploaded = time.monotonic()
        assert status == 202, body
        import_id = str(body["import_id"])
        # What a failover does to an unreplicated enqueue: the job and its queue entry vanish.
        redis = redis_standalone.node("master").client()
        assert redis.delete(f"queue:{{import}}:job:{import_id}") == 1
        assert redis.lrem("queue:{import}:waiting", 0, import_id) == 1
        async with running_worker(environ, config):
            # The sweep looks after job_lease / 2 and runs every job_lease / 4.
            done = await app.import_completed(import_id, within=config.job_lease)
        elapsed = time.monotonic() - uploaded
    print(f"\nlost job re-enqueued and imported {elapsed:.1f} s after the upload (lease 8 s)")
    assert done["rows"] == 30
    assert done["attempts"] == 1
    assert await app.query("SELECT import_id, count(*) FROM sales GROUP BY 1") == [
        (uuid.UUID(import_id), 30)
    ]
