"""The /metrics endpoint on a separate port, served from a daemon thread of the app's process."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client.exposition import ThreadingWSGIServer

from app_support.metrics.endpoint import MetricsEndpoint
from app_support.metrics.wsgi import MetricsWSGIApp

__all__ = ["MetricsServer", "start_metrics_server"]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Scrapes every few seconds would flood the app's stderr."""


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
) -> MetricsServer:
    """Serve ``endpoint`` on ``host:port`` (default ``endpoint.settings.port``, i.e. METRICS_PORT).

    Raises ``ValueError`` when no port is given or configured, ``OSError`` when it cannot be bound.
    """
    bind_port = endpoint.settings.port if port is None else port
    if bind_port is None:
        raise ValueError("port is required when METRICS_PORT is unset (example: port=9100)")
    server = make_server(
        host,
        bind_port,
        MetricsWSGIApp(endpoint),
        ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, name="metrics-server", daemon=True)
    thread.start()
    return MetricsServer(server, thread)
