"""ASGI adapter: pure ASGI middleware recording HTTP metrics, and the /metrics endpoint as an app.

Pure ASGI rather than Starlette's ``BaseHTTPMiddleware``, which runs each request through extra
tasks and memory streams (tens of microseconds). The middleware reads the route template after the
inner app has routed the request (see :mod:`app_support.metrics.routes`) and stops the clock when
the last body chunk has been sent, so a streaming response is timed to its end and background tasks
that run after the response are not.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from app_support.metrics.endpoint import MetricsEndpoint
from app_support.metrics.http import HttpMetrics
from app_support.metrics.routes import StarletteRouteTemplates

__all__ = ["ASGIApp", "MetricsASGIApp", "MetricsMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class MetricsMiddleware:
    """Records every HTTP request of ``app`` into ``metrics``, except its ``excluded_paths``.

    ``route_template`` maps a routed scope to its template (None when nothing matched); the default
    reads Starlette/FastAPI's ``scope["route"]``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: HttpMetrics,
        route_template: Callable[[Scope], str | None] | None = None,
    ) -> None:
        self.app = app
        self._metrics = metrics
        self._excluded = metrics.excluded_paths
        self._route_template = route_template or StarletteRouteTemplates()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._excluded:
            await self.app(scope, receive, send)
            return
        metrics = self._metrics
        method = metrics.fold_method(scope["method"])
        in_progress = metrics.in_progress(method)
        in_progress.inc()
        status = 500
        finished: float | None = None
        start = time.perf_counter()

        async def send_and_time(message: Message) -> None:
            nonlocal status, finished
            if message["type"] == "http.response.start":
                status = message["status"]
                await send(message)
                return
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                finished = time.perf_counter()

        try:
            await self.app(scope, receive, send_and_time)
        finally:
            end = time.perf_counter() if finished is None else finished
            in_progress.dec()
            metrics.observe(method, self._route_template(scope), status, end - start)


class MetricsASGIApp:
    """The /metrics endpoint as an ASGI app: ``Route("/metrics", MetricsASGIApp(endpoint))``.

    Metrics are collected in a worker thread: scrape-time collectors may wait on Redis or the pool.
    """

    def __init__(self, endpoint: MetricsEndpoint) -> None:
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise RuntimeError(f"the metrics endpoint serves HTTP only, got {scope['type']!r}")
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", ())
        }
        response = await asyncio.to_thread(
            self.endpoint.respond,
            scope["method"],
            headers.get("authorization"),
            headers.get("accept"),
            headers.get("accept-encoding"),
        )
        raw_headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in response.headers
        ]
        raw_headers.append((b"content-length", str(len(response.body)).encode()))
        await send(
            {"type": "http.response.start", "status": response.status, "headers": raw_headers}
        )
        await send({"type": "http.response.body", "body": response.body})
