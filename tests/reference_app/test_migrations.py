"""Schema migrations up and down against a real PostgreSQL: data kept, loss refused, run once.

Each test gets an empty database of its own (``database_url`` of conftest). The command-line tests
run ``python -m reference_app migrate`` as the image does; it touches PostgreSQL only, so the Redis
variables just have to be valid.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import subprocess
import sys
import uuid
from typing import Any

import psycopg
import pytest

from reference_app.imports import apply_import, create_import
from reference_app.migrations import DataLossRefused, MigrationError
from reference_app.schema import MIGRATION_LOCK_KEY, MIGRATIONS, NEWEST, migrate
from reference_app.users import create_user
from tests.reference_app.conftest import eventually

CSV = (
    b"date,region,product,quantity,unit_price\n"
    b"2026-01-01,emea,widget,2,10.50\n2026-01-02,apac,gadget,1,3\n"
)
NAME = {m.version: m.name for m in MIGRATIONS}
# What every version keeps (migration 2's columns are the only ones a down step drops).
KEPT = {
    "users": "SELECT id, username, password_hash, created_at FROM users",
    "imports": "SELECT id, user_id, filename, state, reason, attempts, row_count, payload,"
    " created_at, updated_at FROM imports",
    "sales": "SELECT * FROM sales",
}
SCHEMA = """
    SELECT 'column', table_name || '.' || column_name || ' ' || data_type || ' '
        || is_nullable || ' ' || is_identity || ' ' || coalesce(column_default, '')
    FROM information_schema.columns WHERE table_schema = current_schema()
    UNION ALL SELECT 'index', indexdef FROM pg_indexes WHERE schemaname = current_schema()
    UNION ALL SELECT 'constraint', conrelid::regclass || ' ' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
    ORDER BY 1, 2
"""


async def _connect(url: str) -> psycopg.AsyncConnection[Any]:
    return await psycopg.AsyncConnection.connect(url, autocommit=True)


async def _rows(conn: psycopg.AsyncConnection[Any], query: str) -> list[tuple[Any, ...]]:
    cursor = await conn.execute(query.encode())
    return await cursor.fetchall()


async def _kept(conn: psycopg.AsyncConnection[Any]) -> dict[str, list[tuple[Any, ...]]]:
    return {table: sorted(await _rows(conn, query)) for table, query in KEPT.items()}


async def _versions(conn: psycopg.AsyncConnection[Any]) -> list[int]:
    return [row[0] for row in await _rows(conn, "SELECT version FROM schema_migrations ORDER BY 1")]


async def _tables(conn: psycopg.AsyncConnection[Any]) -> list[str]:
    query = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
    return [row[0] for row in await _rows(conn, query)]


async def _add_import(conn: psycopg.AsyncConnection[Any], user_id: int) -> uuid.UUID:
    import_id = uuid.uuid4()
    await create_import(conn, import_id=import_id, user_id=user_id, filename="s.csv", payload=CSV)
    await apply_import(conn, import_id)
    return import_id


def test_every_migration_can_be_reverted_and_declares_what_down_drops() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, NEWEST + 1))
    for migration in MIGRATIONS:
        assert migration.down.strip(), f"migration {migration.version} has no down step"
        tables = re.findall(r"DROP TABLE (?:IF EXISTS )?(\w+)", migration.down)
        columns = [
            (table, column)
            for table, drops in re.findall(
                r"ALTER TABLE (\w+)((?:[^;]*DROP COLUMN)[^;]*);", migration.down
            )
            for column in re.findall(r"DROP COLUMN (?:IF EXISTS )?(\w+)", drops)
        ]
        declared = {(drop.table, drop.column) for drop in migration.drops}
        assert declared == {(t, None) for t in tables} | set(columns), migration.version


async def test_each_down_step_restores_the_schema_its_up_step_started_from(
    database_url: str,
) -> None:
    async with await _connect(database_url) as conn:
        going_up = {}
        for version in range(NEWEST + 1):
            result = await migrate(conn, to=version)
            assert result.version == version
            going_up[version] = await _rows(conn, SCHEMA)
        for version in reversed(range(NEWEST + 1)):
            result = await migrate(conn, to=version)
            assert result.version == version
            assert await _rows(conn, SCHEMA) == going_up[version], f"version {version}"
        result = await migrate(conn)
        assert [(s.migration.version, s.direction) for s in result.steps] == [
            (v, "up") for v in range(1, NEWEST + 1)
        ]
        assert await _rows(conn, SCHEMA) == going_up[NEWEST]


async def test_up_down_up_keeps_data_and_refuses_to_drop_it_unless_allowed(
    database_url: str,
) -> None:
    async with await _connect(database_url) as conn:
        await migrate(conn)
        user = await create_user(conn, "alice", "pw")
        await _add_import(conn, user.id)
        data = await _kept(conn)
        assert len(data["sales"]) == 2

        # No import has an idempotency key: reverting migration 2 loses nothing, so it is not asked.
        result = await migrate(conn, to=1)
        assert [str(step) for step in result.steps] == [f"migration 2 ({NAME[2]}) reverted"]
        assert (result.version, await _versions(conn), await _kept(conn)) == (1, [1], data)
        result = await migrate(conn)
        assert [str(step) for step in result.steps] == [f"migration 2 ({NAME[2]}) applied"]
        assert await _kept(conn) == data

        keyed = await _add_import(conn, user.id)
        await conn.execute(
            "UPDATE imports SET idempotency_key = 'k-1', payload_digest = %s WHERE id = %s",
            (hashlib.sha256(CSV).digest(), keyed),
        )
        data = await _kept(conn)
        # Every down step of the walk is checked before the first one runs: nothing changes.
        with pytest.raises(DataLossRefused) as refused:
            await migrate(conn, to=0)
        assert str(refused.value) == (
            f"reverting migration 2 ({NAME[2]}) would drop column imports.idempotency_key holding"
            " 1 value and column imports.payload_digest holding 1 value; reverting migration 1"
            f" ({NAME[1]}) would drop table sales holding 4 rows, table imports holding 2 rows"
            " and table users holding 1 row; refused, the database stays at version 2"
        )
        with pytest.raises(DataLossRefused, match=r"^reverting migration 2 \(.*version 2$"):
            await migrate(conn, to=1)
        assert await _versions(conn) == [1, 2]
        assert await _rows(conn, "SELECT count(idempotency_key) FROM imports") == [(1,)]

        result = await migrate(conn, to=1, allow_data_loss=True)
        assert [str(step) for step in result.steps] == [
            f"migration 2 ({NAME[2]}) reverted; dropped column imports.idempotency_key holding"
            " 1 value and column imports.payload_digest holding 1 value"
        ]
        assert (result.version, await _kept(conn)) == (1, data)
        await migrate(conn)
        assert await _kept(conn) == data
        assert await _rows(conn, "SELECT count(idempotency_key) FROM imports") == [(0,)]

        result = await migrate(conn, to=0, allow_data_loss=True)
        assert [str(step) for step in result.steps] == [
            f"migration 2 ({NAME[2]}) reverted",
            f"migration 1 ({NAME[1]}) reverted; dropped table sales holding 4 rows,"
            " table imports holding 2 rows and table users holding 1 row",
        ]
        assert (result.version, await _tables(conn)) == (0, ["schema_migrations"])
        await migrate(conn)
        assert await _kept(conn) == {"users": [], "imports": [], "sales": []}


async def test_a_value_written_while_the_down_step_waits_is_not_dropped(database_url: str) -> None:
    """The step locks the table before counting: a write in flight is counted once committed."""
    async with await _connect(database_url) as conn, await _connect(database_url) as writer:
        await migrate(conn)
        user = await create_user(conn, "alice", "pw")
        import_id = await _add_import(conn, user.id)
        async with writer.transaction():
            await writer.execute(
                "UPDATE imports SET idempotency_key = 'late' WHERE id = %s", (import_id,)
            )
            down = asyncio.create_task(migrate(conn, to=1))

            async def waiting() -> bool:
                query = "SELECT count(*) FROM pg_locks WHERE locktype = 'relation' AND NOT granted"
                blocked: int = (await _rows(writer, query))[0][0]
                return blocked > 0

            await eventually(waiting, "the down step to wait for the table lock")
        with pytest.raises(DataLossRefused, match=r"idempotency_key holding 1 value; refused"):
            await down
        assert await _versions(conn) == [1, 2]


async def test_a_version_this_release_does_not_know_is_left_alone_going_up(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with await _connect(database_url) as conn:
        await migrate(conn)
        await conn.execute("INSERT INTO schema_migrations (version, name) VALUES (9, 'later')")
        with caplog.at_level(logging.WARNING, logger="reference_app.migrations"):
            result = await migrate(conn)
        assert (result.version, result.steps) == (9, [])
        assert "the database has migrations [9], which this release does not know" in caplog.text
        with pytest.raises(MigrationError, match="has migration 9, which this release does not"):
            await migrate(conn, to=1)
        assert await _versions(conn) == [1, 2, 9]


async def test_a_schema_of_its_own_is_created_and_each_step_reported(database_url: str) -> None:
    conn = await psycopg.AsyncConnection.connect(
        database_url, autocommit=True, options='-csearch_path="tenant_a"'
    )
    async with conn:
        seen: list[str] = []
        await migrate(conn, schema="tenant_a", on_step=lambda step: seen.append(str(step)))
        await migrate(conn, to=1, schema="tenant_a", on_step=lambda step: seen.append(str(step)))
        assert seen == [_applied(1), _applied(2), _applied(2, "reverted")]
        query = "SELECT table_schema, count(*) FROM information_schema.tables"
        counts = await _rows(conn, f"{query} WHERE table_name = 'imports' GROUP BY 1")
        assert counts == [("tenant_a", 1)]


@pytest.mark.parametrize("to", [NEWEST + 1, -1])
async def test_a_target_out_of_range_is_refused_before_anything(database_url: str, to: int) -> None:
    async with await _connect(database_url) as conn:
        with pytest.raises(MigrationError) as error:
            await migrate(conn, to=to)
        assert str(error.value) == (
            f"no schema version {to}; versions go from 0 (no tables) to {NEWEST} ({NAME[NEWEST]})"
        )
        assert await _tables(conn) == []


async def test_replicas_migrating_together_apply_each_step_once(database_url: str) -> None:
    conns = [await _connect(database_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrate(conn) for conn in conns))
        applied = sorted(step.migration.version for r in results for step in r.steps)
        assert applied == [m.version for m in MIGRATIONS]
        assert {r.version for r in results} == {NEWEST}
    finally:
        for conn in conns:
            await conn.close()


# ---- the command line -------------------------------------------------------------------------


def _environ(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": "redis://127.0.0.1:1/0",  # checked, never connected to
        "APP_ENV": "development",
    }


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reference_app", "migrate", *args],
        env=_environ(database_url), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _applied(version: int, done: str = "applied") -> str:
    return f"migration {version} ({NAME[version]}) {done}"


async def test_command_moves_the_schema_and_prints_each_step(database_url: str) -> None:
    result = _cli(database_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [_applied(1), _applied(2), "schema at version 2"]
    assert _cli(database_url).stdout == "schema at version 2; nothing to do\n"

    async with await _connect(database_url) as conn:
        user = await create_user(conn, "alice", "pw")
        keyed = await _add_import(conn, user.id)
        await conn.execute("UPDATE imports SET idempotency_key = 'k' WHERE id = %s", (keyed,))
    refused = _cli(database_url, "--to", "1")
    assert refused.returncode == 1
    assert (refused.stdout, refused.stderr.splitlines()[-1]) == (
        "",
        f"python -m reference_app migrate: reverting migration 2 ({NAME[2]}) would drop column"
        " imports.idempotency_key holding 1 value; refused, the database stays at version 2;"
        " to drop it anyway, rerun with --allow-data-loss",
    )
    result = _cli(database_url, "--to", "1", "--allow-data-loss")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        _applied(2, "reverted; dropped column imports.idempotency_key holding 1 value"),
        "schema at version 1",
    ]
    async with await _connect(database_url) as conn:
        assert await _rows(conn, "SELECT count(*) FROM sales") == [(2,)]


@pytest.mark.parametrize("to", [str(NEWEST + 1), "-1"])
def test_command_names_a_target_out_of_range(database_url: str, to: str) -> None:
    result = _cli(database_url, "--to", to)
    assert result.returncode == 64
    assert result.stderr == (
        f"python -m reference_app migrate: --to: no schema version {to}; versions go from 0"
        f" (no tables) to {NEWEST} ({NAME[NEWEST]})\n"
    )


def test_command_names_an_unreachable_database() -> None:
    url = "postgresql://app:hunter2@127.0.0.1:1/app?connection_limit=1"
    result = subprocess.run(
        [sys.executable, "-m", "reference_app", "migrate"],
        env={**_environ(url), "DATABASE_RETRY_ATTEMPTS": "1"},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 69
    last = result.stderr.splitlines()[-1]
    assert last.startswith("python -m reference_app migrate: "), result.stderr
    assert "127.0.0.1" in last
    assert "hunter2" not in result.stderr


@pytest.mark.parametrize("args", [(), ("--to", "0", "--allow-data-loss")])
async def test_two_migrators_started_together_apply_each_step_once(
    database_url: str, args: tuple[str, ...]
) -> None:
    """Both processes are made to queue on the lock, then race for every step."""
    async with await _connect(database_url) as conn:
        if args:  # the walk down starts from the newest version, holding data
            await migrate(conn)
            await create_user(conn, "alice", "pw")
        await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            procs = [
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "reference_app",
                    "migrate",
                    *args,
                    env=_environ(database_url),
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                for _ in range(2)
            ]

            async def both_waiting() -> bool:
                cursor = await conn.execute(
                    "SELECT count(*) = 2 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                )
                return (await cursor.fetchone() or (False,))[0] is True

            await eventually(both_waiting, "both migrators to wait on the lock")
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
        outputs = [await asyncio.wait_for(proc.communicate(), 120) for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0], outputs
        lines = [line for out, _ in outputs for line in out.decode().splitlines()]
        steps = sorted(line for line in lines if line.startswith("migration "))
        assert steps == (
            [_applied(1, "reverted; dropped table users holding 1 row"), _applied(2, "reverted")]
            if args
            else [_applied(1), _applied(2)]
        )
        assert await _versions(conn) == ([] if args else [1, 2])
