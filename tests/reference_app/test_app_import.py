"""The happy path end to end, in every Redis mode: sign in, upload, the worker imports, analytics
are computed, cached, invalidated by the next import and refilled by the analytics job."""

from __future__ import annotations

from decimal import Decimal

from prometheus_client import CollectorRegistry

from tests.reference_app.conftest import (
    RunningApp,
    eventually,
    running_app,
    running_worker,
    sales_csv,
)


def _expected_revenue(data: bytes) -> Decimal:
    total = Decimal(0)
    for line in data.decode().splitlines()[1:]:
        *_, quantity, price = line.split(",")
        total += int(quantity) * Decimal(price)
    return total


async def _upload(app: RunningApp, data: bytes, name: str) -> str:
    response = await app.client.post("/api/imports", files={"file": (name, data, "text/csv")})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["state"] == "waiting"
    assert body["queued"] is True
    return str(body["import_id"])


def _sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


async def test_upload_import_and_cached_analytics(app_environ: dict[str, str]) -> None:
    first, second = sales_csv(300), sales_csv(200, start=300)
    async with running_app(app_environ) as app, running_worker(app_environ) as worker:
        user_id = await app.add_user()
        assert (await app.sign_in()).status_code == 200

        first_id = await _upload(app, first, "january.csv")
        done = await app.import_completed(first_id)
        assert done["rows"] == 300
        assert done["reason"] is None
        assert done["attempts"] == 1
        assert done["filename"] == "january.csv"
        assert done["job"]["state"] == "completed"

        # The analytics job refills the cache after the import; wait for it, then read.
        async def refreshed() -> bool:
            status = await worker.analytics_queue.status(f"after-{first_id}")
            return status is not None and status.state == "completed"

        await eventually(refreshed, "the analytics job")
        summary = (await app.client.get("/api/analytics/summary")).json()
        assert summary["cached"] is True
        assert summary["data"]["sales"] == 300
        assert Decimal(summary["data"]["revenue"]) == _expected_revenue(first)

        regions = (await app.client.get("/api/analytics/regions")).json()["data"]["groups"]
        assert [group["region"] for group in regions] == ["amer", "apac", "emea"]
        assert sum(group["sales"] for group in regions) == 300

        # A second import invalidates the cached aggregates of this user.
        second_id = await _upload(app, second, "february.csv")
        await app.import_completed(second_id)
        summary = (await app.client.get("/api/analytics/summary")).json()
        assert summary["data"]["sales"] == 500
        assert summary["data"]["imports"] == 2
        assert Decimal(summary["data"]["revenue"]) == _expected_revenue(first) + _expected_revenue(
            second
        )
        again = (await app.client.get("/api/analytics/summary")).json()
        assert again["cached"] is True
        assert again["data"] == summary["data"]

        listing = (await app.client.get("/api/imports")).json()["imports"]
        assert [item["id"] for item in listing] == [second_id, first_id]
        rows = await app.query("SELECT count(*) FROM sales WHERE user_id = %s", user_id)
        assert rows == [(500,)]

        # Business counters: the worker counted both imports and their rows.
        assert _sample(worker.registry, "imports_total", result="success") == 2
        assert _sample(worker.registry, "import_rows_total") == 500
        # Queue processing: both import jobs finished and were timed (issue 14).
        processed = {"queue": "import", "result": "completed"}
        assert _sample(worker.registry, "queue_jobs_processed_total", **processed) == 2
        assert _sample(worker.registry, "queue_job_duration_seconds_count", queue="import") == 2
        metrics = await app.client.get("/metrics")
        assert metrics.status_code == 200
        assert 'queue_jobs{queue="import",state="completed"}' in metrics.text
        assert "system_memory_used_bytes{source=" in metrics.text
        assert "system_cpu_usage_percent{source=" in metrics.text
        assert 'http_requests_total{method="POST",route="/api/imports",status_code="202"}' in (
            metrics.text
        )


async def test_health_reports_every_dependency(app_environ: dict[str, str]) -> None:
    async with running_app(app_environ) as app:
        assert (await app.client.get("/api/health/ready")).status_code == 200
        detailed = await app.client.get("/api/health/detailed")
        assert detailed.status_code == 200, detailed.text
        services = detailed.json()["services"]
        assert services["database"]["status"] == "healthy"
        assert services["redis"]["status"] == "healthy"
        assert set(services["queues"]) == {"import", "analytics"}


async def test_unknown_aggregate_and_import(app_environ: dict[str, str]) -> None:
    async with running_app(app_environ) as app:
        await app.add_user()
        assert (await app.client.get("/api/analytics/summary")).status_code == 401
        await app.sign_in()
        missing = await app.client.get("/api/analytics/nope")
        assert missing.status_code == 404
        assert missing.json()["error"] == "unknown_aggregate"
        empty = (await app.client.get("/api/analytics/summary")).json()
        assert empty == {"name": "summary", "cached": False, "data": {
            "sales": 0, "quantity": 0, "revenue": "0", "first_date": None, "last_date": None,
            "imports": 0,
        }}  # fmt: skip
        unknown = await app.client.get("/api/imports/00000000-0000-0000-0000-000000000000")
        assert unknown.status_code == 404
