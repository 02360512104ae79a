"""The user table: accounts with scrypt password hashes (see passwords.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection

from reference_app.passwords import hash_password, verify_password

__all__ = ["User", "authenticate", "create_user"]


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str


async def create_user(conn: AsyncConnection[Any], username: str, password: str) -> User:
    """Create a user, or reset the password of an existing one (so seeding is repeatable).

    Raises ValueError for an empty name or password.
    """
    username = username.strip()
    if not username:
        raise ValueError("username must not be empty, e.g. 'alice'")
    # scrypt is deliberately slow: keep it off the event loop.
    password_hash = await asyncio.to_thread(hash_password, password)
    cursor = await conn.execute(
        """
        INSERT INTO users (username, password_hash) VALUES (%s, %s)
        ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash
        RETURNING id
        """,
        (username, password_hash),
    )
    row = await cursor.fetchone()
    if row is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    return User(id=row[0], username=username)


async def authenticate(conn: AsyncConnection[Any], username: str, password: str) -> User | None:
    """The user when the credentials match, else None (unknown users cost the same time)."""
    cursor = await conn.execute(
        "SELECT id, password_hash FROM users WHERE username = %s", (username.strip(),)
    )
    row = await cursor.fetchone()
    matches = await asyncio.to_thread(verify_password, password, None if row is None else row[1])
    if not matches or row is None:
        return None
    return User(id=row[0], username=username.strip())
