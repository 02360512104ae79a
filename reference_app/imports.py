"""The imports table and the one transaction that applies an import exactly once.

An import row is created by the upload (state ``waiting``, the CSV kept in ``payload``), and the
job on the ``import`` queue carries only its id. :func:`apply_import` locks the row, and in ONE
transaction writes every sale and flips the state to ``completed``. So whatever happens around it
(the worker killed mid-job, the job redelivered after a Redis failover, two workers racing for a
duplicated job) the rows are written once: a second application finds ``completed`` and does
nothing, and a killed one rolls back with its connection.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import uuid
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection

from reference_app.csv_format import CsvFormatError, parse_sales_csv

__all__ = [
    "ImportRecord",
    "ImportState",
    "apply_import",
    "create_import",
    "fail_import",
    "get_import",
    "list_imports",
    "mark_active",
    "record_rejected",
    "stalled_imports",
]


class ImportState(enum.StrEnum):
    WAITING = "waiting"
    ACTIVE = "active"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ImportRecord:
    id: uuid.UUID
    user_id: int
    filename: str
    state: ImportState
    reason: str | None
    attempts: int
    row_count: int | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def finished(self) -> bool:
        return self.state in (ImportState.COMPLETED, ImportState.FAILED)

    def as_json(self) -> dict[str, object]:
        return {
            "id": str(self.id),
            "filename": self.filename,
            "state": self.state.value,
            "reason": self.reason,
            "attempts": self.attempts,
            "rows": self.row_count,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


_COLUMNS = "id, user_id, filename, state, reason, attempts, row_count, created_at, updated_at"


def _record(row: tuple[Any, ...]) -> ImportRecord:
    return ImportRecord(
        id=row[0],
        user_id=row[1],
        filename=row[2],
        state=ImportState(row[3]),
        reason=row[4],
        attempts=row[5],
        row_count=row[6],
        created_at=row[7],
        updated_at=row[8],
    )


async def create_import(
    conn: AsyncConnection[Any], *, import_id: uuid.UUID, user_id: int, filename: str, payload: bytes
) -> None:
    """Record an accepted upload as ``waiting``, with its CSV, before its job is enqueued."""
    await conn.execute(
        "INSERT INTO imports (id, user_id, filename, state, payload) VALUES (%s, %s, %s, %s, %s)",
        (import_id, user_id, filename, ImportState.WAITING.value, payload),
    )


async def record_rejected(
    conn: AsyncConnection[Any], *, import_id: uuid.UUID, user_id: int, filename: str, reason: str
) -> None:
    """Record a refused upload as ``failed`` with its reason, so its status can be read back."""
    await conn.execute(
        "INSERT INTO imports (id, user_id, filename, state, reason) VALUES (%s, %s, %s, %s, %s)",
        (import_id, user_id, filename, ImportState.FAILED.value, reason),
    )


async def get_import(
    conn: AsyncConnection[Any], import_id: uuid.UUID, *, user_id: int | None = None
) -> ImportRecord | None:
    """The import, or None when it does not exist (or belongs to another user than ``user_id``)."""
    cursor = await conn.execute(
        f"SELECT {_COLUMNS} FROM imports WHERE id = %s AND (%s::bigint IS NULL OR user_id = %s)",  # noqa: S608
        (import_id, user_id, user_id),
    )
    row = await cursor.fetchone()
    return None if row is None else _record(row)


async def list_imports(
    conn: AsyncConnection[Any], *, user_id: int, limit: int = 50
) -> list[ImportRecord]:
    """The user's most recent imports, newest first."""
    cursor = await conn.execute(
        f"SELECT {_COLUMNS} FROM imports WHERE user_id = %s"  # noqa: S608
        " ORDER BY created_at DESC LIMIT %s",
        (user_id, limit),
    )
    return [_record(row) for row in await cursor.fetchall()]


async def mark_active(conn: AsyncConnection[Any], import_id: uuid.UUID) -> ImportRecord | None:
    """Count one more attempt and show the import as ``active``; None when it is already finished
    (or unknown), in which case the job only needs acknowledging.

    Committed on its own, before the import transaction: the attempt count survives a crash.
    """
    async with conn.transaction():
        cursor = await conn.execute(
            f"""
            UPDATE imports SET state = %s, attempts = attempts + 1, updated_at = now()
            WHERE id = %s AND state IN (%s, %s) RETURNING {_COLUMNS}
            """,  # noqa: S608
            (
                ImportState.ACTIVE.value,
                import_id,
                ImportState.WAITING.value,
                ImportState.ACTIVE.value,
            ),
        )
        row = await cursor.fetchone()
    return None if row is None else _record(row)


async def apply_import(conn: AsyncConnection[Any], import_id: uuid.UUID) -> ImportRecord:
    """Write the import's rows and mark it completed, in one transaction; idempotent.

    A file that does not parse marks the import failed with the parser's message, and writes
    nothing. An import already finished is returned unchanged. Raises LookupError for an unknown
    id, and psycopg.Error when the database fails (then nothing was committed: retry the job).
    """
    async with conn.transaction():
        cursor = await conn.execute(
            "SELECT user_id, state, payload FROM imports WHERE id = %s FOR NO KEY UPDATE",
            (import_id,),
        )
        found = await cursor.fetchone()
        if found is None:
            raise LookupError(f"no import {import_id}")
        user_id, state, payload = found
        if state in (ImportState.COMPLETED.value, ImportState.FAILED.value):
            return await _require(conn, import_id)
        try:
            # Parsing 100,000 rows takes a while: keep the event loop (and heartbeats) running.
            rows = await asyncio.to_thread(parse_sales_csv, bytes(payload or b""))
        except CsvFormatError as exc:
            await _finish(conn, import_id, ImportState.FAILED, reason=str(exc))
            return await _require(conn, import_id)
        async with conn.cursor().copy(
            "COPY sales (import_id, line, user_id, sale_date, region, product, quantity,"
            " unit_price) FROM STDIN"
        ) as copy:
            for sale in rows:
                await copy.write_row(
                    (import_id, sale.line, user_id, sale.date, sale.region, sale.product,
                     sale.quantity, sale.unit_price)
                )  # fmt: skip
        await _finish(conn, import_id, ImportState.COMPLETED, row_count=len(rows))
        return await _require(conn, import_id)


async def fail_import(conn: AsyncConnection[Any], import_id: uuid.UUID, reason: str) -> bool:
    """Give up on an unfinished import (e.g. after too many attempts, or an upload whose job
    could not be confirmed); finished ones are kept. True when this call failed it.

    A worker applying the import holds its row lock: this waits for that transaction and then
    finds the import completed (False), so an import is never both failed here and applied.
    """
    async with conn.transaction():
        cursor = await conn.execute(
            "UPDATE imports SET state = %s, reason = %s, payload = NULL, updated_at = now()"
            " WHERE id = %s AND state IN (%s, %s)",
            (
                ImportState.FAILED.value,
                reason,
                import_id,
                ImportState.WAITING.value,
                ImportState.ACTIVE.value,
            ),
        )
    return cursor.rowcount == 1


async def stalled_imports(
    conn: AsyncConnection[Any], *, older_than: dt.timedelta, limit: int = 100
) -> list[uuid.UUID]:
    """Unfinished imports untouched for ``older_than``: their job may have been lost (e.g. a Redis
    failover dropped an unreplicated write), so the worker enqueues them again."""
    cursor = await conn.execute(
        "SELECT id FROM imports WHERE state IN (%s, %s) AND updated_at < now() - %s"
        " ORDER BY updated_at LIMIT %s",
        (ImportState.WAITING.value, ImportState.ACTIVE.value, older_than, limit),
    )
    return [row[0] for row in await cursor.fetchall()]


async def _finish(
    conn: AsyncConnection[Any],
    import_id: uuid.UUID,
    state: ImportState,
    *,
    reason: str | None = None,
    row_count: int | None = None,
) -> None:
    # The CSV is only needed until the import is applied: do not keep megabytes per import.
    await conn.execute(
        "UPDATE imports SET state = %s, reason = %s, row_count = %s, payload = NULL,"
        " updated_at = now() WHERE id = %s",
        (state.value, reason, row_count, import_id),
    )


async def _require(conn: AsyncConnection[Any], import_id: uuid.UUID) -> ImportRecord:
    record = await get_import(conn, import_id)
    if record is None:
        raise LookupError(f"no import {import_id}")
    return record
