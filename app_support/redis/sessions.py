"""Server-side sessions with a TTL: create (optionally confirmed by replicas), get, touch, destroy.

Written here: it is four commands on one key per session (no multi-key operation, so nothing
special in cluster mode), and the web frameworks' session middlewares keep data in cookies.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from app_support.redis.durability import Durability, confirmed_write
from app_support.redis.factory import AsyncRedisClient

__all__ = ["SessionStore"]


class SessionStore:
    """Asyncio session store; ids are 256-bit random URL-safe tokens. No I/O at construction.

    ``durability`` (how ``create`` is confirmed) defaults to the client's ``durability``.
    """

    def __init__(
        self,
        client: AsyncRedisClient,
        *,
        ttl: float = 1800.0,
        namespace: str = "session",
        durability: Durability | None = None,
    ) -> None:
        if ttl <= 0:
            raise ValueError(f"ttl must be > 0 seconds, e.g. 1800.0, not {ttl!r}")
        self._client = client
        self._namespace = namespace
        self._durability = client.durability if durability is None else durability
        self.ttl = ttl

    def _key(self, session_id: str) -> str:
        return f"{self._namespace}:{session_id}"

    async def create(self, data: Mapping[str, Any], ttl: float | None = None) -> str:
        """Store ``data`` (JSON-serialisable) under a new id and return the id.

        Raises WriteNotConfirmedError when the durability asks for replicas that do not confirm
        (WriteRefusedError when the master refuses the write: ``NOREPLICAS``).
        """
        session_id = secrets.token_urlsafe(32)
        key = self._key(session_id)
        command = ("SET", key, json.dumps(dict(data)), "PX", _ms(ttl or self.ttl), "NX")
        await confirmed_write(self._client, key, command, self._durability)
        return session_id

    async def get(self, session_id: str) -> dict[str, Any] | None:
        raw = await self._client.get(self._key(session_id))
        return None if raw is None else dict(json.loads(raw))

    async def touch(
        self, session_id: str, data: Mapping[str, Any] | None = None, ttl: float | None = None
    ) -> bool:
        """Restart the session's TTL (and replace its data if given); False if it is gone."""
        key = self._key(session_id)
        millis = _ms(ttl or self.ttl)
        if data is None:
            return bool(await self._client.pexpire(key, millis))
        return bool(await self._client.set(key, json.dumps(dict(data)), px=millis, xx=True))

    async def destroy(self, session_id: str) -> bool:
        return bool(await self._client.delete(self._key(session_id)))


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
