"""WSGI adapter: the health endpoints in front of any WSGI app (Flask) or alone.

    flask_app.wsgi_app = HealthWSGIMiddleware(flask_app.wsgi_app, service=health)

The core is async; requests hand it to one background event loop (see `LoopThread`), so the
cache, single flight and breakers are shared by every worker thread of the process. WSGI has no
lifespan: `started=True` marks the service started when the middleware is built (pass False and
call `health.mark_started()` when your start-up is done); call `health.mark_draining()` from the
server's shutdown hook (gunicorn's `worker_int` / `on_exit`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .http import HealthHTTP
from .loop_thread import LoopThread
from .service import HealthService

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["HealthWSGIMiddleware"]

_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


class HealthWSGIMiddleware:
    """Answers the four health paths itself and passes everything else to `app` (404 alone)."""

    def __init__(
        self,
        app: WSGIApplication | None = None,
        *,
        service: HealthService,
        started: bool = True,
    ) -> None:
        self.app = app
        self.service = service
        self.http = HealthHTTP(service)
        self.loop = LoopThread()
        # The core answers within its deadline; the margin covers a busy machine.
        self._timeout = service.settings.deadline + 5.0
        if started:
            service.mark_started()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", "")) or "/"
        if not self.http.handles(path):
            return self._fallback(environ, start_response)
        method = str(environ.get("REQUEST_METHOD", "GET"))
        coro = self.http.respond(
            path,
            method=method,
            accept=environ.get("HTTP_ACCEPT"),
            authorization=environ.get("HTTP_AUTHORIZATION"),
        )
        response = self.loop.run(coro, timeout=self._timeout)
        if response is None:
            return self._fallback(environ, start_response)
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            *response.headers,
        ]
        reason = _REASONS.get(response.status_code, "")
        start_response(f"{response.status_code} {reason}", headers)
        return [b"" if method == "HEAD" else response.body]

    def _fallback(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self.app is not None:
            return self.app(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not Found"]

    def close(self) -> None:
        self.service.close()
        self.loop.stop()
