"""The user table: accounts with scrypt password hashes (see passwords.py)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection

from reference_app.passwords import hash_password, verify_password

__all__ = ["MAX_USERNAME", "User", "authenticate", "create_user", "usable_username"]

MAX_USERNAME = 150
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str


def usable_username(username: str) -> bool:
    """Whether ``username`` (stripped) can name an account: 1 to MAX_USERNAME characters of text
    without control characters (PostgreSQL refuses NUL, and a lone surrogate is not text)."""
    if not 0 < len(username) <= MAX_USERNAME or _CONTROL.search(username):
        return False
    try:
        username.encode()
    except UnicodeEncodeError:
        return False
    return True


async def create_user(conn: AsyncConnection[Any], username: str, password: str) -> User:
    """Create a user, or reset the password of an existing one (so seeding is repeatable).

    Raises ValueError for an empty or unusable name (see usable_username) or password.
    """
    username = username.strip()
    if not username:
        raise ValueError("username must not be empty, e.g. 'alice'")
    if not usable_username(username):
        raise ValueError(
            f"username must be 1 to {MAX_USERNAME} characters without control characters,"
            " e.g. 'alice'"
        )
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
    """The user when the credentials match, else None (unknown users cost the same time, and a
    name no account can have, see usable_username, is an unknown user: never an error)."""
    row = None
    if usable_username(username.strip()):
        cursor = await conn.execute(
            "SELECT id, password_hash FROM users WHERE username = %s", (username.strip(),)
        )
        row = await cursor.fetchone()
    matches = await asyncio.to_thread(verify_password, password, None if row is None else row[1])
    if not matches or row is None:
        return None
    return User(id=row[0], username=username.strip())
