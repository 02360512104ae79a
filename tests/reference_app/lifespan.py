"""Run an ASGI app's lifespan around a block, as a server would (httpx's transport does not)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

__all__ = ["lifespan"]

Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[Message]],
        Callable[[Message], Awaitable[None]],
    ],
    Awaitable[None],
]


@asynccontextmanager
async def lifespan(app: ASGIApp, *, wait: float = 60.0) -> AsyncIterator[None]:
    """Send startup, yield, send shutdown; raise RuntimeError when the app reports a failure."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}

    async def send(message: Message) -> None:
        await outbox.put(message)

    async def run() -> None:
        await app(scope, inbox.get, send)

    task = asyncio.create_task(run())
    try:
        await inbox.put({"type": "lifespan.startup"})
        reply = await asyncio.wait_for(outbox.get(), wait)
        if reply["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"start-up failed: {reply.get('message', reply)}")
        yield
        await inbox.put({"type": "lifespan.shutdown"})
        reply = await asyncio.wait_for(outbox.get(), wait)
        if reply["type"] != "lifespan.shutdown.complete":
            raise RuntimeError(f"shutdown failed: {reply.get('message', reply)}")
    finally:
        if not task.done():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
