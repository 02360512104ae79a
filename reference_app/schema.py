"""The app's tables: their migrations, up and down, applied at start-up by every replica.

Several web and worker replicas start at once; :func:`migrate` (see reference_app.migrations)
applies each pending migration once, in its own transaction under a PostgreSQL advisory lock.
``python -m reference_app migrate --to N`` moves the schema up or down to version N; a down step
that would drop data is refused unless it is allowed (docs/recovery.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psycopg import AsyncConnection

from reference_app.migrations import (
    MIGRATION_LOCK_KEY,
    Drop,
    Migration,
    MigrationResult,
    Step,
    migrate_schema,
)

__all__ = ["MIGRATIONS", "MIGRATION_LOCK_KEY", "NEWEST", "migrate"]

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "users, imports and sales",
        """
        CREATE TABLE users (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            username text NOT NULL UNIQUE,
            password_hash text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        -- One row per upload, keyed by the job id: the state flips to completed in the same
        -- transaction that writes the rows, which is what makes a redelivered job a no-op.
        CREATE TABLE imports (
            id uuid PRIMARY KEY,
            user_id bigint NOT NULL REFERENCES users (id),
            filename text NOT NULL,
            state text NOT NULL
                CHECK (state IN ('waiting', 'active', 'completed', 'failed')),
            reason text,
            attempts integer NOT NULL DEFAULT 0,
            row_count integer,
            payload bytea,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX imports_user_created ON imports (user_id, created_at DESC);
        CREATE INDEX imports_unfinished ON imports (updated_at)
            WHERE state IN ('waiting', 'active');
        -- The primary key (import, line) makes a double application fail loudly instead of
        -- duplicating rows. No foreign keys here on purpose: rows are written only by the import
        -- transaction, under the lock of their imports row (whose user_id is checked), and a
        -- per-row check would double the import time of a 100,000-row file.
        CREATE TABLE sales (
            import_id uuid NOT NULL,
            line integer NOT NULL,
            user_id bigint NOT NULL,
            sale_date date NOT NULL,
            region text NOT NULL,
            product text NOT NULL,
            quantity integer NOT NULL CHECK (quantity > 0),
            unit_price numeric(12, 2) NOT NULL CHECK (unit_price >= 0),
            PRIMARY KEY (import_id, line)
        );
        CREATE INDEX sales_user_date ON sales (user_id, sale_date);
        """,
        """
        DROP TABLE sales;
        DROP TABLE imports;
        DROP TABLE users;
        """,
        drops=(Drop("sales"), Drop("imports"), Drop("users")),
    ),
    Migration(
        2,
        "idempotency keys of uploads; bounded reasons",
        """
        -- An upload sent with an Idempotency-Key header is stored with it (and the SHA-256 of
        -- its file): a retry finds the import instead of making a second one. A failed import
        -- imported nothing, so it gives its key up and the key can be used again.
        ALTER TABLE imports ADD COLUMN idempotency_key text, ADD COLUMN payload_digest bytea;
        CREATE UNIQUE INDEX imports_idempotency ON imports (user_id, idempotency_key)
            WHERE idempotency_key IS NOT NULL AND state <> 'failed';
        -- A refused upload could store its whole CSV header as the reason (issue 13): cut the
        -- ones stored before reasons were bounded.
        UPDATE imports SET reason = left(reason, 1000) || '...' WHERE length(reason) > 1000;
        """,
        # The cut reasons stay cut: the rest of them is gone.
        """
        DROP INDEX imports_idempotency;
        ALTER TABLE imports DROP COLUMN idempotency_key, DROP COLUMN payload_digest;
        """,
        drops=(Drop("imports", "idempotency_key"), Drop("imports", "payload_digest")),
    ),
)

NEWEST = MIGRATIONS[-1].version


async def migrate(
    conn: AsyncConnection[Any],
    *,
    to: int | None = None,
    schema: str | None = None,
    allow_data_loss: bool = False,
    on_step: Callable[[Step], None] | None = None,
) -> MigrationResult:
    """Move the app's schema to version ``to`` (None: apply what is missing; start-up does that).

    See :func:`reference_app.migrations.migrate_schema`, which raises MigrationError,
    DataLossRefused or psycopg.Error.
    """
    return await migrate_schema(
        conn,
        MIGRATIONS,
        to=to,
        schema=schema,
        allow_data_loss=allow_data_loss,
        on_step=on_step,
    )
