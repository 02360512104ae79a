"""Idempotent uploads: the ``Idempotency-Key`` header (issue 13 item 17).

A client that did not get the answer to an upload (a timeout, a dropped connection, a 503) sends
it again with the same key; the app finds the import the first attempt made and answers with it
instead of importing the file a second time. Keys are per user, stored with the import along with
the SHA-256 of the file, so the same key with another file is refused (409) rather than silently
answered with the wrong import. A failed import gives its key up (it imported nothing), so
retrying a refused or withdrawn upload with the same key works.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection

from reference_app.imports import ImportState

__all__ = [
    "HEADER",
    "MAX_KEY",
    "Prior",
    "create_keyed_import",
    "digest_of",
    "find_prior",
    "parse_key",
]

HEADER = "idempotency-key"
MAX_KEY = 255
_KEY = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY}}}")  # visible ASCII, as header values should be


@dataclass(frozen=True, slots=True)
class Prior:
    """The import an earlier request with the same key made."""

    import_id: uuid.UUID
    digest: bytes | None


def parse_key(raw: str | None) -> str | None:
    """The key of a header value, None without one. Raises ValueError for a malformed key."""
    if raw is None:
        return None
    if not _KEY.fullmatch(raw):
        raise ValueError(
            f"the {HEADER.title()} header must be 1 to {MAX_KEY} visible ASCII characters,"
            " e.g. a UUID"
        )
    return raw


def digest_of(payload: bytes) -> bytes:
    return hashlib.sha256(payload).digest()


async def find_prior(conn: AsyncConnection[Any], *, user_id: int, key: str) -> Prior | None:
    """The user's unfailed import made with ``key``, or None."""
    cursor = await conn.execute(
        "SELECT id, payload_digest FROM imports"
        " WHERE user_id = %s AND idempotency_key = %s AND state <> %s",
        (user_id, key, ImportState.FAILED.value),
    )
    row = await cursor.fetchone()
    return None if row is None else Prior(row[0], None if row[1] is None else bytes(row[1]))


async def create_keyed_import(
    conn: AsyncConnection[Any],
    *,
    import_id: uuid.UUID,
    user_id: int,
    filename: str,
    payload: bytes,
    key: str,
) -> Prior | None:
    """Store the upload as ``waiting`` with its key (as imports.create_import does without one).

    Returns None when stored, or the import that holds the key already (a concurrent retry won
    the race).
    """
    # The holder may fail between the INSERT and the SELECT (its key is free again): try again.
    for _ in range(3):
        cursor = await conn.execute(
            """
            INSERT INTO imports (id, user_id, filename, state, payload, idempotency_key,
                                 payload_digest)
            VALUES (%s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (user_id, idempotency_key)
                WHERE idempotency_key IS NOT NULL AND state <> 'failed' DO NOTHING
            RETURNING id
            """,
            (import_id, user_id, filename, ImportState.WAITING.value, payload, key,
             digest_of(payload)),
        )  # fmt: skip
        if await cursor.fetchone() is not None:
            return None
        prior = await find_prior(conn, user_id=user_id, key=key)
        if prior is not None:
            return prior
    raise RuntimeError(f"idempotency key {key!r} keeps changing hands; retry the upload")
