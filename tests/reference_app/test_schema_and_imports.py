"""The exactly-once import transaction, against a real PostgreSQL (migrations: test_migrations)."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from reference_app.imports import ImportState, apply_import, create_import, get_import, mark_active
from reference_app.schema import migrate
from reference_app.users import authenticate, create_user
from tests.servers.postgres_server import PostgresServer

CSV = (
    b"date,region,product,quantity,unit_price\n"
    b"2026-01-01,emea,widget,2,10.50\n2026-01-02,apac,gadget,1,3\n"
)


@pytest.fixture
def database_url(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> str:
    return postgres_server.create_database(f"t_schema_{request.node.name[:30].lower()}")


async def _connect(url: str) -> psycopg.AsyncConnection[Any]:
    return await psycopg.AsyncConnection.connect(url, autocommit=True)


async def test_import_is_applied_exactly_once(database_url: str) -> None:
    async with await _connect(database_url) as conn:
        await migrate(conn)
        user = await create_user(conn, "alice", "pw")
        assert await authenticate(conn, "alice", "pw") == user
        assert await authenticate(conn, "alice", "nope") is None
        assert await authenticate(conn, "bob", "pw") is None
        import_id = uuid.uuid4()
        await create_import(
            conn, import_id=import_id, user_id=user.id, filename="s.csv", payload=CSV
        )
        active = await mark_active(conn, import_id)
        assert active is not None
        assert active.state is ImportState.ACTIVE
        assert active.attempts == 1
        first = await apply_import(conn, import_id)
        again = await apply_import(conn, import_id)
        assert (first.state, first.row_count) == (ImportState.COMPLETED, 2)
        assert again == first
        assert await mark_active(conn, import_id) is None
        cursor = await conn.execute("SELECT count(*), sum(quantity) FROM sales")
        assert await cursor.fetchone() == (2, 3)


async def test_bad_payload_fails_the_import_without_rows(database_url: str) -> None:
    async with await _connect(database_url) as conn:
        await migrate(conn)
        user = await create_user(conn, "carol", "pw")
        import_id = uuid.uuid4()
        bad = CSV + b"2026-01-03,emea,widget,many,1\n"
        await create_import(
            conn, import_id=import_id, user_id=user.id, filename="b.csv", payload=bad
        )
        record = await apply_import(conn, import_id)
        assert record.state is ImportState.FAILED
        assert (
            record.reason
            == "line 4, column 'quantity': 'many' is not a whole number from 1 to 1000000"
        )
        cursor = await conn.execute("SELECT count(*) FROM sales")
        assert await cursor.fetchone() == (0,)
        assert await get_import(conn, import_id, user_id=user.id + 1) is None
