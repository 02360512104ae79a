"""Every bad upload gets a 4xx naming the problem, writes no row, and reads back as a failed
import with the same reason. Redis mode does not matter here: standalone only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from reference_app.config import AppConfig
from tests.reference_app.conftest import (
    HEADER,
    RunningApp,
    environ_for,
    eventually,
    running_app,
    running_worker,
    sales_csv,
)
from tests.servers.redis_nodes import RedisDeployment

LIMIT = 4096


@pytest.fixture
async def app(redis_standalone: RedisDeployment, database_url: str) -> AsyncIterator[RunningApp]:
    redis_standalone.flush()
    environ = environ_for(redis_standalone, database_url)
    async with running_app(environ, AppConfig(max_upload_bytes=LIMIT)) as running:
        await running.add_user()
        assert (await running.sign_in()).status_code == 200
        yield running


def _form(data: bytes, content_type: str = "text/csv") -> dict[str, Any]:
    return {"files": {"file": ("bad.csv", data, content_type)}}


CASES = [
    pytest.param(_form(sales_csv(2), "application/pdf"), 415, "unsupported_content_type",
                 "'application/pdf' is not a CSV type", id="wrong-content-type"),
    pytest.param({"content": sales_csv(2), "headers": {"content-type": "image/png"}}, 415,
                 "unsupported_content_type", "'image/png' is not a CSV type", id="raw-wrong-type"),
    pytest.param(_form(sales_csv(200)), 413, "file_too_large", f"limit of {LIMIT} bytes",
                 id="oversized-form"),
    pytest.param({"content": sales_csv(200), "headers": {"content-type": "text/csv"}}, 413,
                 "file_too_large", f"limit of {LIMIT} bytes", id="oversized-raw"),
    pytest.param(_form(b"when,where,what,how_many,price\n2026-01-01,emea,w,1,1\n"), 422,
                 "invalid_header", "expected 'date,region,product,quantity,unit_price'",
                 id="wrong-header"),
    pytest.param(_form(sales_csv(3) + b"2026-01-05,emea,widget,lots,1.00\n"), 422,
                 "invalid_value", "line 5, column 'quantity': 'lots'", id="bad-quantity"),
    pytest.param(_form(sales_csv(1) + b"2026-02-30,emea,widget,1,1.00\n"), 422,
                 "invalid_value", "line 3, column 'date'", id="bad-date"),
    pytest.param(_form(sales_csv(1) + b"2026-01-05,emea,widget\n"), 422, "malformed_row",
                 "line 3: expected 5 fields", id="short-row"),
    pytest.param(_form(sales_csv(1) + b'2026-01-05,"emea,widget,1,1\n'), 422, "malformed_csv",
                 "line 3: malformed CSV", id="unterminated-quote"),
    pytest.param(_form(b""), 422, "empty_file", "the file is empty", id="empty"),
    pytest.param(_form(HEADER.encode()), 422, "no_rows", "no data rows", id="header-only"),
    pytest.param(_form(sales_csv(1) + b"2026-01-05,\xe9mea,widget,1,1\n"), 422,
                 "invalid_encoding", "line 3: the file is not valid UTF-8", id="not-utf8"),
    pytest.param({"data": {"note": "no file"}, "files": {"other": ("x.csv", b"x", "text/csv")}},
                 400, "missing_file", "no file part named 'file'", id="no-file-part"),
]  # fmt: skip


@pytest.mark.parametrize(("request_kwargs", "status", "code", "detail"), CASES)
async def test_bad_upload_is_refused_and_recorded_as_failed(
    app: RunningApp, request_kwargs: dict[str, Any], status: int, code: str, detail: str
) -> None:
    response = await app.client.post("/api/imports", **request_kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code
    assert detail in body["detail"]
    record = (await app.client.get(f"/api/imports/{body['import_id']}")).json()
    assert record["state"] == "failed"
    assert record["reason"] == body["detail"]
    assert record["job"] is None  # never enqueued
    assert await app.query("SELECT count(*) FROM sales") == [(0,)]
    assert app.registry.get_sample_value("imports_total", {"result": "failure"}) == 1


async def test_file_that_turns_bad_in_the_worker_fails_the_job_with_its_reason(
    redis_standalone: RedisDeployment, database_url: str
) -> None:
    """The worker parses again (the stored CSV is not trusted): a bad file fails the job."""
    redis_standalone.flush()
    environ = environ_for(redis_standalone, database_url)
    async with running_app(environ) as app, running_worker(environ) as worker:
        await app.add_user()
        await app.sign_in()
        accepted = await app.client.post(
            "/api/imports", files={"file": ("s.csv", b"x", "text/csv")}
        )
        assert accepted.status_code == 422  # refused at upload; now forge a stored bad payload
        import_id = "6d1f1d4e-8b4f-4d35-9a57-8a8f7f2a3c11"
        await app.query(
            "INSERT INTO imports (id, user_id, filename, state, payload)"
            " SELECT %s, id, 'forged.csv', 'waiting', %s FROM users RETURNING id",
            import_id, sales_csv(2) + b"2026-01-01,emea,widget,0,1\n",
        )  # fmt: skip
        await worker.import_queue.enqueue({"import_id": import_id}, job_id=import_id)

        async def failed() -> dict[str, Any] | None:
            body: dict[str, Any] = (await app.client.get(f"/api/imports/{import_id}")).json()
            return body if body["job"] and body["job"]["state"] == "failed" else None

        body = await eventually(failed, "the job to fail")
        reason = "line 4, column 'quantity': '0' is not a whole number from 1 to 1000000"
        assert body["state"] == "failed"
        assert body["reason"] == reason
        assert body["job"]["reason"] == reason
        assert await app.query("SELECT count(*) FROM sales") == [(0,)]
