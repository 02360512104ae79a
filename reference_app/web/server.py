"""The web service's HTTP server: uvicorn with the request bounds of :class:`RequestLimits`.

    serve(config)                      # what ``python -m reference_app web`` runs

uvicorn bounds the size of a request head (``h11_max_incomplete_event_size``) and the idle time
between requests (``timeout_keep_alive``), but not the time a client takes to send a head: a
connection that never finishes its headers, or sends them a byte at a time, is kept forever
(each byte even restarts the keep-alive timer). :class:`BoundedH11Protocol` adds that deadline;
the body's deadline is the app's (reference_app.web.body). Tests build the same server around
their own app with :func:`server_config`.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from app_support.health.asgi import ASGIApp
from reference_app.config import AppConfig
from reference_app.web.app import create_app
from reference_app.web.limits import RequestLimits

__all__ = ["BoundedH11Protocol", "serve", "server_config"]


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol where a request head must be complete within ``header_timeout``
    seconds of the connection opening, or of its first byte after the previous response;
    otherwise the connection is closed (no answer: nothing was asked yet)."""

    header_timeout: ClassVar[float] = RequestLimits().header_timeout

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._awaiting_head():
            self._arm()  # no-op when already armed: bytes do not buy more time
        else:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _awaiting_head(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        if self._head_deadline is None:
            self._head_deadline = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _expired(self) -> None:
        self._head_deadline = None
        if self._awaiting_head() and not self.transport.is_closing():
            self.transport.close()


def server_config(
    app: ASGIApp,
    *,
    port: int,
    host: str = "0.0.0.0",  # noqa: S104 - the container's port is published to the load balancer
    limits: RequestLimits | None = None,
) -> uvicorn.Config:
    """uvicorn's configuration for ``app`` on ``host:port``, bounded by ``limits``."""
    limits = limits or RequestLimits()
    protocol = type(
        "BoundedH11Protocol", (BoundedH11Protocol,), {"header_timeout": limits.header_timeout}
    )
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        timeout_graceful_shutdown=20,
        http=protocol,
        timeout_keep_alive=limits.keep_alive,
        h11_max_incomplete_event_size=limits.max_header_bytes,
    )


def serve(config: AppConfig, limits: RequestLimits | None = None) -> None:
    """Serve the app on ``0.0.0.0:config.port`` until SIGTERM/SIGINT."""
    limits = limits or RequestLimits()
    app = create_app(config, limits=limits)
    uvicorn.Server(server_config(app, port=config.port, limits=limits)).run()
