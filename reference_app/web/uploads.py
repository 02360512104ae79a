"""CSV upload and import status.

An upload is checked completely before it is accepted (size, content type, header and every row),
so the user learns about a bad file at once. A refused upload is still recorded as a ``failed``
import with its reason, and its id is in the 4xx answer, so every upload has a readable status.
An accepted one is stored as ``waiting`` and its id is the job id on the ``import`` queue.

202 means the job is in Redis as durably as ``REDIS_WAIT_REPLICAS`` asks. When the enqueue is not
confirmed (or fails), the import is withdrawn (``failed``, with the reason) and the answer is 503
with Retry-After: the user retries, and nothing is left half-accepted.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app_support.redis.errors import WriteNotConfirmedError
from reference_app.csv_format import CsvFormatError, parse_sales_csv
from reference_app.imports import (
    create_import,
    fail_import,
    get_import,
    list_imports,
    record_rejected,
)
from reference_app.users import User
from reference_app.web.auth import client_id, current_user, services_of
from reference_app.web.responses import error, rate_limited
from reference_app.web.unavailable import retry_after, unavailable
from reference_app.web.upload_body import DEFAULT_FILENAME, UploadError, read_upload

__all__ = ["import_status", "list_user_imports", "upload"]

log = logging.getLogger(__name__)


def _not_signed_in() -> Response:
    return error(401, "not_signed_in", "sign in first: POST /api/auth/sign-in")


async def upload(request: Request) -> Response:
    """POST a CSV (multipart ``file`` part, or a raw ``text/csv`` body) -> 202 with the import id.

    401 without a session; 429 (Retry-After) beyond the per-client limit; 413 oversized; 415 not a
    CSV content type; 422 bad CSV (the detail names the line and column); 503 (Retry-After) when
    the job could not be enqueued durably. Every 4xx and 503 after sign-in carries ``import_id``,
    whose status reads ``failed`` with the same reason.
    """
    user = await current_user(request)
    if user is None:
        return _not_signed_in()
    services = services_of(request)
    decision = await services.upload_limiter.hit(client_id(request))
    if not decision.allowed:
        return rate_limited(decision.retry_after, "uploads")
    import_id = uuid.uuid4()
    filename = DEFAULT_FILENAME
    try:
        received = await read_upload(request, max_bytes=services.config.max_upload_bytes)
        filename = received.filename
        rows = await asyncio.to_thread(parse_sales_csv, received.data)
    except UploadError as exc:
        return await _reject(request, user, import_id, exc.filename, exc.status, exc.code, str(exc))
    except CsvFormatError as exc:
        return await _reject(request, user, import_id, filename, 422, exc.code, str(exc))
    async with services.database.connection() as conn:
        await create_import(
            conn, import_id=import_id, user_id=user.id, filename=filename, payload=received.data
        )
    try:
        await services.import_queue.enqueue({"import_id": str(import_id)}, job_id=str(import_id))
    except RedisError as exc:
        refused = await _withdraw(request, import_id, exc)
        if refused is not None:
            return refused
    body = {
        "import_id": str(import_id),
        "state": "waiting",
        "rows": len(rows),
        "queued": True,  # always, since a failed enqueue answers 503 (kept for old clients)
        "status_url": f"/api/imports/{import_id}",
    }
    return JSONResponse(body, status_code=202)


async def _withdraw(request: Request, import_id: uuid.UUID, exc: RedisError) -> Response | None:
    """Fail the import whose job was not enqueued durably and answer 503; None when a worker
    already finished it (the job did reach Redis), so the upload stands.

    Why withdraw rather than leave it to the sweep: the user must be able to tell "accepted" from
    "retry". A 503 for an import that is later applied anyway would make the retry import the
    file twice; a failed import is never applied (the worker finds it failed, the transaction
    checks the state under the row lock), even if its job survives in Redis.
    """
    services = services_of(request)
    code, reason = (
        ("write_not_confirmed", "the job queue could not confirm the job in time")
        if isinstance(exc, WriteNotConfirmedError)
        else ("queue_unavailable", "the job queue is unavailable")
    )
    log.warning("import %s not accepted: %s", import_id, exc)
    async with services.database.connection() as conn:
        withdrawn = await fail_import(conn, import_id, f"not accepted: {reason}; upload again")
    if not withdrawn:
        return None
    services.imports.record(success=False)
    detail = f"{reason}; the upload was not accepted, retry it"
    return unavailable(retry_after(services), code, detail, import_id=str(import_id))


async def _reject(
    request: Request,
    user: User,
    import_id: uuid.UUID,
    filename: str,
    status: int,
    code: str,
    reason: str,
) -> Response:
    services = services_of(request)
    async with services.database.connection() as conn:
        await record_rejected(
            conn, import_id=import_id, user_id=user.id, filename=filename, reason=reason
        )
    services.imports.record(success=False)
    return error(status, code, reason, import_id=str(import_id))


async def import_status(request: Request) -> Response:
    """GET -> the import (state waiting | active | completed | failed, reason, rows, attempts)
    and its job as the queue sees it; 404 for an unknown id or another user's import."""
    user = await current_user(request)
    if user is None:
        return _not_signed_in()
    try:
        import_id = uuid.UUID(request.path_params["import_id"])
    except ValueError:
        return error(404, "not_found", "no such import")
    services = services_of(request)
    async with services.database.connection() as conn:
        record = await get_import(conn, import_id, user_id=user.id)
    if record is None:
        return error(404, "not_found", "no such import")
    body = record.as_json()
    job = await services.import_queue.status(str(import_id))
    body["job"] = None if job is None else {
        "state": job.state, "attempts": job.attempts, "reason": job.reason,
    }  # fmt: skip
    return JSONResponse(body)


async def list_user_imports(request: Request) -> Response:
    """GET -> the signed-in user's 50 most recent imports, newest first."""
    user = await current_user(request)
    if user is None:
        return _not_signed_in()
    async with services_of(request).database.connection() as conn:
        records = await list_imports(conn, user_id=user.id, limit=50)
    return JSONResponse({"imports": [record.as_json() for record in records]})
