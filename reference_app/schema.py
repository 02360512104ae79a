"""The app's tables and their migrations, applied at start-up by every replica.

Several web and worker replicas start at once, so :func:`migrate` takes a transaction-scoped
PostgreSQL advisory lock first: one replica applies the pending migrations, the others wait on the
lock, then find nothing left to do. Each migration runs in that same transaction, so a replica that
dies half-way leaves the schema as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection, sql

__all__ = ["MIGRATIONS", "MIGRATION_LOCK_KEY", "Migration", "migrate"]

# An arbitrary constant shared by every replica: the advisory lock's identity.
MIGRATION_LOCK_KEY = 0x7265665F617070  # "ref_app"


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


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
    ),
)


async def migrate(conn: AsyncConnection[Any], *, schema: str | None = None) -> list[int]:
    """Apply the pending migrations; return the versions this call applied (often none).

    ``schema`` (DATABASE_URL's ``?schema=``, already on the connection's search_path) is created
    when missing.

    Blocks while another replica migrates. Raises psycopg.Error when the database refuses (the
    transaction is rolled back, so a retry starts clean).
    """
    applied_now: list[int] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
        if schema is not None:
            await conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
            )
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        cursor = await conn.execute("SELECT version FROM schema_migrations")
        done = {row[0] for row in await cursor.fetchall()}
        for migration in MIGRATIONS:
            if migration.version in done:
                continue
            await conn.execute(migration.sql.encode())
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied_now.append(migration.version)
    return applied_now
