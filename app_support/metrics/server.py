"""The /metrics endpoint on a separate port, served from a daemon thread of the app's process.

The server spends a thread per connection, so a connection cannot keep one for long: it has
``connection_deadline`` seconds in all (request, then answer; a scrape takes milliseconds and
Prometheus gives up after its 10 s scrape timeout), however slowly it trickles its bytes, and at
most ``max_connections`` are served at once (more are closed at once: a scraper retries).
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, ClassVar
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client.exposition import ThreadingWSGIServer

from app_support.metrics.endpoint import MetricsEndpoint
from app_support.metrics.wsgi import MetricsWSGIApp

__all__ = ["CONNECTION_DEADLINE", "MAX_CONNECTIONS", "MetricsServer", "start_metrics_server"]

CONNECTION_DEADLINE = 15.0
MAX_CONNECTIONS = 16


class _DeadlineReader(io.RawIOBase):
    """A socket's bytes, every read waiting at most until one deadline for the whole connection
    (a per-read timeout alone would let a client trickle a byte per timeout forever)."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request did not arrive in time")
        self._sock.settimeout(remaining)  # also bounds the answer's writes that follow
        return self._sock.recv_into(buffer)


class _QuietHandler(WSGIRequestHandler):
    deadline: ClassVar[float] = CONNECTION_DEADLINE

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.deadline)
        self.rfile.close()  # the plain one setup() made: replaced by the bounded one
        reader = _DeadlineReader(self.connection, time.monotonic() + self.deadline)
        self.rfile = io.BufferedReader(reader)

    def handle(self) -> None:
        # A slow or vanished client is dropped quietly (the server would print a traceback).
        with contextlib.suppress(TimeoutError, ConnectionError):
            super().handle()

    def log_message(self, format: str, *args: object) -> None:
        """Scrapes every few seconds would flood the app's stderr."""


class _BoundedServer(ThreadingWSGIServer):
    max_connections: ClassVar[int] = MAX_CONNECTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._slots = threading.BoundedSemaphore(self.max_connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


@dataclass
class MetricsServer:
    """A running metrics server; ``port`` is the bound port (useful when asked for port 0)."""

    server: ThreadingWSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def close(self) -> None:
        """Stop serving and release the port."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_metrics_server(
    endpoint: MetricsEndpoint,
    *,
    port: int | None = None,
    host: str = "0.0.0.0",  # noqa: S104 - Prometheus scrapes from another container
    connection_deadline: float = CONNECTION_DEADLINE,
    max_connections: int = MAX_CONNECTIONS,
) -> MetricsServer:
    """Serve ``endpoint`` on ``host:port`` (default ``endpoint.settings.port``, i.e. METRICS_PORT),
    each connection closed after ``connection_deadline`` s, ``max_connections`` at once.

    Raises ``ValueError`` when no port is given or configured, or a bound is not positive;
    ``OSError`` when the port cannot be bound.
    """
    bind_port = endpoint.settings.port if port is None else port
    if bind_port is None:
        raise ValueError("port is required when METRICS_PORT is unset (example: port=9100)")
    if not 0 < connection_deadline < float("inf") or max_connections < 1:
        raise ValueError("connection_deadline > 0 s and max_connections >= 1, e.g. 15.0 and 16")
    handler = type("MetricsHandler", (_QuietHandler,), {"deadline": connection_deadline})
    bounded = type("MetricsHTTPServer", (_BoundedServer,), {"max_connections": max_connections})
    server: ThreadingWSGIServer = make_server(
        host, bind_port, MetricsWSGIApp(endpoint), bounded, handler
    )
    thread = threading.Thread(target=server.serve_forever, name="metrics-server", daemon=True)
    thread.start()
    return MetricsServer(server, thread)
