"""The web service's HTTP server: uvicorn with the request bounds of :class:`RequestLimits`.

    serve(config)                      # what ``python -m reference_app web`` runs

Tests build the same server around their own app with :func:`server_config`.
"""

from __future__ import annotations

import uvicorn

from app_support.health.asgi import ASGIApp
from reference_app.config import AppConfig
from reference_app.web.app import create_app
from reference_app.web.limits import RequestLimits

__all__ = ["serve", "server_config"]


def server_config(
    app: ASGIApp,
    *,
    port: int,
    host: str = "0.0.0.0",  # noqa: S104 - the container's port is published to the load balancer
    limits: RequestLimits | None = None,
) -> uvicorn.Config:
    """uvicorn's configuration for ``app`` on ``host:port``."""
    del limits  # not enforced yet
    return uvicorn.Config(app, host=host, port=port, lifespan="on", timeout_graceful_shutdown=20)


def serve(config: AppConfig, limits: RequestLimits | None = None) -> None:
    """Serve the app on ``0.0.0.0:config.port`` until SIGTERM/SIGINT."""
    limits = limits or RequestLimits()
    app = create_app(config, limits=limits)
    uvicorn.Server(server_config(app, port=config.port, limits=limits)).run()
