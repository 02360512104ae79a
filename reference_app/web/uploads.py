"""CSV upload and import status.

An upload is checked completely before it is accepted (size, content type, header and every row),
so the user learns about a bad file at once. A refused upload is still recorded as a ``failed``
import with its reason, and its id is in the 4xx answer, so every upload has a readable status.
An accepted one is stored as ``waiting`` and its id is the job id on the ``import`` queue.

An upload sent with an ``Idempotency-Key`` header is stored with the key; a retry with the same
key and file answers 200 with that import (``"replayed": true``) instead of importing it twice,
the same key with another file 409 (see idempotency.py). Every reason stored or answered is
bounded (MAX_REASON characters), whatever the request held.

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
from reference_app.csv_format import CsvFormatError, excerpt, parse_sales_csv
from reference_app.idempotency import HEADER as KEY_HEADER
from reference_app.idempotency import Prior, create_keyed_import, digest_of, find_prior, parse_key
from reference_app.imports import (
    create_import,
    fail_import,
    get_import,
    list_imports,
    record_rejected,
)
from reference_app.users import User
from reference_app.web.auth import client_id, current_user, limits_of, services_of
from reference_app.web.responses import error, rate_limited
from reference_app.web.unavailable import retry_after, unavailable
from reference_app.web.upload_body import DEFAULT_FILENAME, UploadError, read_upload

__all__ = ["import_status", "list_user_imports", "upload"]

log = logging.getLogger(__name__)

# The parser's messages are far shorter; this bounds whatever else might end up in a reason.
MAX_REASON = 1000


def _not_signed_in() -> Response:
    return error(401, "not_signed_in", "sign in first: POST /api/auth/sign-in")


async def upload(request: Request) -> Response:
    """POST a CSV (multipart ``file`` part, or a raw ``text/csv`` body) -> 202 with the import id.

    401 without a session; 429 (Retry-After) beyond the per-client limit; 413 oversized; 408 body
    not received within ``RequestLimits.body_timeout``; 415 not a CSV content type; 400 a form
    that cannot be parsed, a file name that cannot be stored, a malformed Idempotency-Key; 422 bad
    CSV (the detail names the line and column); 200 (``replayed``) a retry of an upload with the
    same Idempotency-Key, 409 that key with another file; 503 (Retry-After) when the job could
    not be enqueued durably. Every 4xx and 503 after sign-in carries ``import_id``, whose status
    reads ``failed`` with the same reason.
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
        key = parse_key(request.headers.get(KEY_HEADER))
    except ValueError as exc:
        bad_key = await _reject(request, user, import_id, filename, 400, "invalid_idempotency_key",
                                str(exc))  # fmt: skip
        bad_key.headers["Connection"] = "close"  # the body was not read
        return bad_key
    limits = limits_of(request)
    try:
        received = await read_upload(
            request, max_bytes=services.config.max_upload_bytes, deadline=limits.body_timeout
        )
        filename = received.filename
        if key is not None:
            async with services.database.connection() as conn:
                prior = await find_prior(conn, user_id=user.id, key=key)
            if prior is not None:
                return await _replay(request, user, prior, key, received.data, filename)
        rows = await asyncio.to_thread(parse_sales_csv, received.data)
    except UploadError as exc:
        response = await _reject(request, user, import_id, exc.filename, exc.status, exc.code,
                                 str(exc))  # fmt: skip
        if exc.status in (408, 413):  # the rest of the body was not read: do not wait for it
            response.headers["Connection"] = "close"
        return response
    except CsvFormatError as exc:
        return await _reject(request, user, import_id, filename, 422, exc.code, str(exc))
    async with services.database.connection() as conn:
        if key is None:
            await create_import(
                conn, import_id=import_id, user_id=user.id, filename=filename,
                payload=received.data,
            )  # fmt: skip
        else:
            prior = await create_keyed_import(
                conn, import_id=import_id, user_id=user.id, filename=filename,
                payload=received.data, key=key,
            )  # fmt: skip
            if prior is not None:  # a concurrent retry with the same key stored it first
                return await _replay(request, user, prior, key, received.data, filename)
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


async def _replay(
    request: Request, user: User, prior: Prior, key: str, payload: bytes, filename: str
) -> Response:
    """The answer to a retry: 200 with the import the key made, or 409 when it was made for
    another file."""
    if prior.digest != digest_of(payload):
        return await _reject(
            request, user, uuid.uuid4(), filename, 409, "idempotency_key_reused",
            f"Idempotency-Key {excerpt(key)} was used for another file (import {prior.import_id});"
            " use a new key for a new file",
        )  # fmt: skip
    async with services_of(request).database.connection() as conn:
        record = await get_import(conn, prior.import_id, user_id=user.id)
    if record is None:  # deleted in between: nothing to replay
        return error(409, "idempotency_key_reused", "the import of this key is gone; use a new key")
    body = {
        "import_id": str(record.id),
        "state": record.state.value,
        "rows": record.row_count,
        "queued": True,
        "status_url": f"/api/imports/{record.id}",
        "replayed": True,
    }
    return JSONResponse(body, status_code=200)


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
    if len(reason) > MAX_REASON:
        reason = reason[: MAX_REASON - 3] + "..."
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
    body = _bounded(record.as_json())
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
    return JSONResponse({"imports": [_bounded(record.as_json()) for record in records]})


def _bounded(body: dict[str, object]) -> dict[str, object]:
    reason = body.get("reason")
    if isinstance(reason, str) and len(reason) > MAX_REASON:
        body["reason"] = reason[: MAX_REASON - 3] + "..."
    return body
