"""WSGI adapter: middleware recording HTTP metrics, and the /metrics endpoint as a WSGI app.

The clock stops when the server has taken the last chunk of the response iterable (or closes it),
so a streamed response is timed to its end. The route template is read when the app calls
``start_response``, after routing: by default Flask's matched ``url_rule`` (see
:mod:`app_support.metrics.routes`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any

from app_support.metrics.endpoint import MetricsEndpoint
from app_support.metrics.http import HttpMetrics
from app_support.metrics.routes import flask_route_template

__all__ = ["MetricsWSGIApp", "MetricsWSGIMiddleware", "WSGIApp"]

Environ = dict[str, Any]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

_REASONS = {200: "200 OK", 401: "401 Unauthorized", 405: "405 Method Not Allowed"}


class _TimedBody:
    """The app's response iterable; records the request once it is exhausted or closed."""

    def __init__(self, body: Iterable[bytes], finish: Callable[[], None]) -> None:
        self._body = body
        self._finish: Callable[[], None] | None = finish

    def __iter__(self) -> Iterator[bytes]:
        yield from self._body
        self._done()

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._done()

    def _done(self) -> None:
        finish, self._finish = self._finish, None
        if finish is not None:
            finish()


class MetricsWSGIMiddleware:
    """Records every request of ``app`` into ``metrics``, except its ``excluded_paths``.

    ``route_template`` maps the environ of a routed request to its template (None: nothing
    matched); it runs when the app calls ``start_response``.
    """

    def __init__(
        self,
        app: WSGIApp,
        *,
        metrics: HttpMetrics,
        route_template: Callable[[Environ], str | None] = flask_route_template,
    ) -> None:
        self.app = app
        self._metrics = metrics
        self._excluded = metrics.excluded_paths
        self._route_template = route_template

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") in self._excluded:
            return self.app(environ, start_response)
        metrics = self._metrics
        method = metrics.fold_method(environ["REQUEST_METHOD"])
        in_progress = metrics.in_progress(method)
        in_progress.inc()
        status = 500
        route: str | None = None
        start = time.perf_counter()

        def start_and_capture(
            status_line: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
        ) -> Callable[[bytes], object]:
            nonlocal status, route
            status = int(status_line[:3])
            # Now, while the framework still holds its request: Flask drops it from the environ
            # when its request context ends, before the body is sent.
            route = self._route_template(environ)
            return start_response(status_line, headers, exc_info)

        def finish() -> None:
            in_progress.dec()
            metrics.observe(method, route, status, time.perf_counter() - start)

        try:
            body = self.app(environ, start_and_capture)
        except BaseException:
            finish()
            raise
        return _TimedBody(body, finish)


class MetricsWSGIApp:
    """The /metrics endpoint as a WSGI app (e.g. under Werkzeug's ``DispatcherMiddleware``)."""

    def __init__(self, endpoint: MetricsEndpoint) -> None:
        self.endpoint = endpoint

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        response = self.endpoint.respond(
            environ["REQUEST_METHOD"],
            environ.get("HTTP_AUTHORIZATION"),
            environ.get("HTTP_ACCEPT"),
            environ.get("HTTP_ACCEPT_ENCODING"),
        )
        headers = [*response.headers, ("Content-Length", str(len(response.body)))]
        start_response(_REASONS.get(response.status, str(response.status)), headers)
        return [response.body]
