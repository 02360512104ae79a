"""Query timing through the on_query hook, sync and async, on real tables."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from app_support.postgres import (
    AsyncDatabasePool,
    DatabasePool,
    DatabaseSettings,
    classify,
)
from tests.servers.postgres_server import PostgresDatabase

Call = tuple[str, str, float, bool]


@pytest.fixture(scope="module")
def tables(postgres_database: PostgresDatabase) -> PostgresDatabase:
    with psycopg.connect(postgres_database.url) as conn:
        conn.execute("CREATE TABLE users (id int PRIMARY KEY, name text)")
        conn.execute("CREATE TABLE audit (id serial PRIMARY KEY, note text)")
    return postgres_database


@pytest.fixture
def settings(tables: PostgresDatabase) -> DatabaseSettings:
    base = DatabaseSettings.from_env(tables.environ, tables=["users"])
    return dataclasses.replace(base, max_size=2)


@pytest.fixture
def calls() -> list[Call]:
    return []


@pytest.fixture
def pool(settings: DatabaseSettings, calls: list[Call]) -> Iterator[DatabasePool]:
    with DatabasePool(settings, on_query=lambda *call: calls.append(call)) as opened:
        yield opened


@pytest.mark.parametrize(
    ("query", "labels"),
    [
        ("SELECT 1", ("select", "other")),
        ("select * from users where id = %s", ("select", "users")),
        ("INSERT INTO public.users (id) VALUES (1)", ("insert", "users")),
        ('UPDATE "users" SET name = %s', ("update", "users")),
        ("  /* app */ DELETE FROM users", ("delete", "users")),
        ("WITH u AS (SELECT * FROM users) SELECT * FROM u", ("with", "users")),
        ("SELECT * FROM audit JOIN users USING (id)", ("select", "other")),
        ("COPY users FROM STDIN", ("copy", "users")),
        ("TRUNCATE TABLE users", ("truncate", "users")),
        ("VACUUM users", ("other", "other")),
    ],
)
def test_classify(query: str, labels: tuple[str, str]) -> None:
    assert classify(query, frozenset({"users"})) == labels


def test_every_execute_is_timed_by_operation_and_table(
    pool: DatabasePool, calls: list[Call]
) -> None:
    with pool.connection() as conn:
        conn.execute("DELETE FROM users")
        conn.execute("INSERT INTO users (id, name) VALUES (%s, %s)", (1, "ada"))
        conn.cursor().executemany("INSERT INTO users (id) VALUES (%s)", [(2,), (3,)])
        conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("users")))
        conn.execute("INSERT INTO audit (note) VALUES ('x')")
    labels = [(operation, table, failed) for operation, table, _, failed in calls]
    assert labels == [
        ("delete", "users", False),
        ("insert", "users", False),
        ("insert", "users", False),
        ("select", "users", False),
        ("insert", "other", False),
    ]
    assert all(0 < seconds < 5 for _, _, seconds, _ in calls)


def test_failed_queries_are_reported_and_counted(pool: DatabasePool, calls: list[Call]) -> None:
    with pytest.raises(psycopg.errors.UndefinedColumn), pool.connection() as conn:
        conn.execute("SELECT nosuch FROM users")
    assert calls[-1][:2] == ("select", "users")
    assert calls[-1][3] is True
    assert pool.get_stats()["query_errors"] == 1
    assert pool.pop_stats()["query_errors"] == 1
    assert "query_errors" not in pool.get_stats()


def test_a_failing_hook_does_not_fail_the_query(settings: DatabaseSettings) -> None:
    def broken_hook(operation: str, table: str, seconds: float, failed: bool) -> None:
        raise RuntimeError("metrics backend down")

    with DatabasePool(settings, on_query=broken_hook) as pool, pool.connection() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


async def test_async_pool_times_queries(settings: DatabaseSettings) -> None:
    calls: list[Call] = []
    async with AsyncDatabasePool(settings, on_query=lambda *c: calls.append(c)) as pool:
        async with pool.connection() as conn:
            await conn.execute("SELECT count(*) FROM users")
            await conn.cursor().executemany("INSERT INTO audit (note) VALUES (%s)", [("a",)])
        with pytest.raises(psycopg.errors.UndefinedTable):
            async with pool.connection() as conn:
                await conn.execute("SELECT * FROM missing")
        assert [(o, t, f) for o, t, _, f in calls] == [
            ("select", "users", False),
            ("insert", "other", False),
            ("select", "other", True),
        ]
        assert pool.get_stats()["query_errors"] == 1
