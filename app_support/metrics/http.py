"""The framework-free core of HTTP instrumentation, shared by the ASGI and WSGI middleware.

The hot path is one dict lookup per request: the label children of every
``(method, route, status_code)`` seen so far are cached, so the cost does not grow with the number
of routes. Label values are bounded whatever clients send: ``route`` is a route template or
:data:`UNMATCHED_ROUTE`, and methods outside :data:`KNOWN_METHODS` fold into :data:`OTHER_METHOD`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

__all__ = [
    "DEFAULT_EXCLUDED_PATHS",
    "DURATION_BUCKETS",
    "KNOWN_METHODS",
    "OTHER_METHOD",
    "UNMATCHED_ROUTE",
    "HttpMetrics",
    "template_from_rule",
]

KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}
)
# The OpenTelemetry HTTP semantic conventions' value for methods outside the standard set.
OTHER_METHOD = "_OTHER"
# Not a path (no leading slash), so it cannot collide with a route template.
UNMATCHED_ROUTE = "<unmatched>"
DEFAULT_EXCLUDED_PATHS = (
    "/metrics",
    "/api/health",
    "/api/health/ready",
    "/api/health/detailed",
    "/api/system/health",
)
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

_RULE_PARAMETER = re.compile(r"<(?:[^<>:]+:)?([^<>:]+)>")


@lru_cache(maxsize=1024)
def template_from_rule(rule: str) -> str:
    """A Werkzeug/Flask rule in the Starlette template syntax: ``/a/<int:id>`` -> ``/a/{id}``."""
    return _RULE_PARAMETER.sub(r"{\1}", rule)


class HttpMetrics:
    """``http_request_duration_seconds``, ``http_requests_total`` and ``http_requests_in_progress``.

    ``excluded_paths`` are raw request paths the middleware does not record (by default /metrics and
    the health endpoints). Raises ``ValueError`` (from prometheus-client) when ``registry`` already
    holds metrics of these names.
    """

    def __init__(
        self,
        *,
        registry: CollectorRegistry | None = REGISTRY,
        buckets: Sequence[float] = DURATION_BUCKETS,
        excluded_paths: Iterable[str] = DEFAULT_EXCLUDED_PATHS,
    ) -> None:
        self.excluded_paths = frozenset(excluded_paths)
        self._duration = Histogram(
            "http_request_duration_seconds",
            "Duration of HTTP requests in seconds, until the last byte of the response body",
            ["method", "route", "status_code"],
            registry=registry,
            buckets=buckets,
        )
        self._requests = Counter(
            "http_requests_total",
            "HTTP requests by method, route template and status code",
            ["method", "route", "status_code"],
            registry=registry,
        )
        self._in_progress = Gauge(
            "http_requests_in_progress",
            "HTTP requests being served",
            ["method"],
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._in_progress_children: dict[str, Gauge] = {
            method: self._in_progress.labels(method)
            for method in (*sorted(KNOWN_METHODS), OTHER_METHOD)
        }
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    @staticmethod
    def fold_method(method: str) -> str:
        """``method`` itself when it is a standard HTTP method, else :data:`OTHER_METHOD`."""
        return method if method in KNOWN_METHODS else OTHER_METHOD

    def in_progress(self, folded_method: str) -> Gauge:
        """The in-progress gauge child of a method already passed through :meth:`fold_method`."""
        return self._in_progress_children[folded_method]

    def observe(self, folded_method: str, route: str | None, status: int, seconds: float) -> None:
        """Record one finished request; ``route`` None means no route matched."""
        key = (folded_method, route or UNMATCHED_ROUTE, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self._duration.labels(key[0], key[1], str(status)),
                self._requests.labels(key[0], key[1], str(status)),
            )
        children[0].observe(seconds)
        children[1].inc()
