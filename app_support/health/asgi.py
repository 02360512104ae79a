"""ASGI adapter: the health endpoints in front of any ASGI app (Starlette, FastAPI) or alone.

    app = HealthMiddleware(app, service=health)              # pure ASGI, wraps the whole app
    starlette_app.add_middleware(HealthMiddleware, service=health)
    Mount("/", app=HealthMiddleware(service=health))          # as a routed sub-app (last route)

Wrapping the app also wires readiness to the lifespan: started once the app's start-up has
completed, draining as soon as shutdown begins. A sub-app under `Mount` sees no lifespan events:
call `health.mark_started()` / `mark_draining()` from the app's own lifespan then.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .http import HealthHTTP
from .service import HealthService

__all__ = ["ASGIApp", "HealthMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _route_path(scope: Scope) -> str:
    # Servers and routers differ on whether "path" includes "root_path": accept both.
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) :].startswith("/api/"):
        return path[len(root) :]
    return path


def _request_headers(scope: Scope) -> tuple[str | None, str | None]:
    """The Accept and Authorization headers (the first of each), in one pass."""
    accept = authorization = None
    for key, value in scope.get("headers", ()):
        name = key.lower()
        if name == b"accept" and accept is None:
            accept = bytes(value).decode("latin-1")
        elif name == b"authorization" and authorization is None:
            authorization = bytes(value).decode("latin-1")
    return accept, authorization


class HealthMiddleware:
    """Answers the four health paths itself and passes everything else to `app` (404 alone)."""

    def __init__(self, app: ASGIApp | None = None, *, service: HealthService) -> None:
        self.app = app
        self.service = service
        self.http = HealthHTTP(service)
        # Encoded response headers (all but the length) by content type and extra headers:
        # a handful of combinations, encoded once.
        self._headers: dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[bytes, bytes]]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        path = _route_path(scope) if scope["type"] == "http" else ""
        if path and self.http.handles(path):
            accept, authorization = _request_headers(scope)
            response = await self.http.respond(
                path,
                method=scope.get("method", "GET"),
                accept=accept,
                authorization=authorization,
            )
            if response is not None:
                key = (response.content_type, response.headers)
                encoded = self._headers.get(key)
                if encoded is None:
                    encoded = self._headers[key] = [
                        (b"content-type", response.content_type.encode()),
                        *((k.encode(), v.encode()) for k, v in response.headers),
                    ]
                headers = [*encoded, (b"content-length", b"%d" % len(response.body))]
                await send(
                    {
                        "type": "http.response.start",
                        "status": response.status_code,
                        "headers": headers,
                    }
                )
                body = b"" if scope.get("method") == "HEAD" else response.body
                await send({"type": "http.response.body", "body": body})
                return
        if self.app is not None:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await send(
                {
                    "type": "http.response.start",
                    "status": 404,
                    "headers": [(b"content-type", b"text/plain")],
                }
            )
            await send({"type": "http.response.body", "body": b"Not Found"})

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        service = self.service
        if self.app is None:
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    service.mark_started()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    service.mark_draining()
                    service.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return

        async def watch_receive() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                service.mark_draining()
            return message

        async def watch_send(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                service.mark_started()
            elif message["type"] == "lifespan.shutdown.complete":
                service.close()
            await send(message)

        await self.app(scope, watch_receive, watch_send)
