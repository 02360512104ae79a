"""The analytics the app serves: aggregates of one user's imported sales, computed in SQL.

Money is summed as numeric in PostgreSQL and returned as a string (``"1234.50"``), so no float
rounding creeps into totals.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from psycopg import AsyncConnection

__all__ = ["AGGREGATES", "compute", "compute_all"]

Aggregate = Callable[[AsyncConnection[Any], int], Awaitable[dict[str, object]]]


async def _summary(conn: AsyncConnection[Any], user_id: int) -> dict[str, object]:
    cursor = await conn.execute(
        """
        SELECT count(*), coalesce(sum(quantity), 0), coalesce(sum(quantity * unit_price), 0),
               min(sale_date), max(sale_date), count(DISTINCT import_id)
        FROM sales WHERE user_id = %s
        """,
        (user_id,),
    )
    row = await cursor.fetchone()
    assert row is not None  # an aggregate without GROUP BY always returns one row
    sales, quantity, revenue, first, last, imports = row
    return {
        "sales": sales,
        "quantity": quantity,
        "revenue": str(revenue),
        "first_date": None if first is None else first.isoformat(),
        "last_date": None if last is None else last.isoformat(),
        "imports": imports,
    }


async def _grouped(
    conn: AsyncConnection[Any], user_id: int, key_sql: bytes, key_name: str
) -> dict[str, object]:
    cursor = await conn.execute(
        b"SELECT "
        + key_sql
        + b""" AS key, count(*), sum(quantity), sum(quantity * unit_price)
        FROM sales WHERE user_id = %s GROUP BY key ORDER BY key""",
        (user_id,),
    )
    return {
        "groups": [
            {key_name: key, "sales": count, "quantity": quantity, "revenue": str(revenue)}
            for key, count, quantity, revenue in await cursor.fetchall()
        ]
    }


async def _by_region(conn: AsyncConnection[Any], user_id: int) -> dict[str, object]:
    return await _grouped(conn, user_id, b"region", "region")


async def _by_product(conn: AsyncConnection[Any], user_id: int) -> dict[str, object]:
    return await _grouped(conn, user_id, b"product", "product")


async def _monthly(conn: AsyncConnection[Any], user_id: int) -> dict[str, object]:
    return await _grouped(conn, user_id, b"to_char(sale_date, 'YYYY-MM')", "month")


AGGREGATES: Final[dict[str, Aggregate]] = {
    "summary": _summary,
    "regions": _by_region,
    "products": _by_product,
    "monthly": _monthly,
}


async def compute(conn: AsyncConnection[Any], user_id: int, name: str) -> dict[str, object]:
    """One aggregate by name (a key of AGGREGATES); raises KeyError for an unknown name."""
    return await AGGREGATES[name](conn, user_id)


async def compute_all(conn: AsyncConnection[Any], user_id: int) -> dict[str, dict[str, object]]:
    """Every aggregate, from one consistent snapshot (a REPEATABLE READ read-only transaction)."""
    async with conn.transaction():
        await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return {name: await aggregate(conn, user_id) for name, aggregate in AGGREGATES.items()}
