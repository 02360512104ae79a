"""The HTTP face of a `HealthService`: routing, method check, detail hiding, content negotiation.

The service (registry, lifecycle, evaluation) knows nothing of HTTP; the ASGI and WSGI adapters
know nothing of health. This module sits between them and answers a path with a `HealthResponse`
(status, content type, body bytes) that an adapter only has to send.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .report import HEALTH_JSON, IETF_STATUS, PlanRenderer, compact_json, health_json_report
from .request import prefers_health_json
from .service import Evaluation, HealthService, View
from .status import http_status

__all__ = [
    "DETAILED_PATH",
    "HEALTH_PATHS",
    "LIVENESS_PATH",
    "READINESS_PATH",
    "SYSTEM_PATH",
    "HealthHTTP",
    "HealthResponse",
]

LIVENESS_PATH = "/api/health"
READINESS_PATH = "/api/health/ready"
DETAILED_PATH = "/api/health/detailed"
SYSTEM_PATH = "/api/system/health"
_VIEWS: dict[str, View] = {
    LIVENESS_PATH: "liveness",
    READINESS_PATH: "readiness",
    DETAILED_PATH: "detailed",
    SYSTEM_PATH: "system",
}
HEALTH_PATHS = frozenset(_VIEWS)


@dataclass(frozen=True)
class HealthResponse:
    """What an adapter sends: HTTP status, content type and body bytes."""

    status_code: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = field(default=(("cache-control", "no-store"),))


def _json(status_code: int, payload: Mapping[str, object], content_type: str) -> HealthResponse:
    return HealthResponse(status_code, content_type, compact_json(payload).encode())


class HealthHTTP:
    """Answers the four health paths for one service; build one per adapter."""

    def __init__(self, service: HealthService) -> None:
        self.service = service
        # One renderer per path: each keeps the JSON of the last results it encoded.
        self._renderers: dict[str, PlanRenderer] = {}

    @staticmethod
    def handles(path: str) -> bool:
        """Whether `path` is one of the four health endpoints (a trailing slash is accepted)."""
        return (path.rstrip("/") or "/") in HEALTH_PATHS

    async def respond(
        self,
        path: str,
        *,
        method: str = "GET",
        accept: str | None = None,
        authorization: str | None = None,
    ) -> HealthResponse | None:
        """The response for `path`, or None when `path` is not a health endpoint."""
        view = _VIEWS.get(path)
        if view is None:
            path = path.rstrip("/")
            view = _VIEWS.get(path)
            if view is None:
                return None
        if method not in ("GET", "HEAD"):
            return HealthResponse(
                405,
                "text/plain",
                b"Method Not Allowed",
                (("allow", "GET, HEAD"), ("cache-control", "no-store")),
            )
        # Decided before any check runs: an anonymous caller cannot learn from timing either.
        details = self.service.authorised(authorization)
        evaluation = await self.service.evaluate(view)
        return self._render(path, evaluation, details, prefers_health_json(accept))

    def _render(
        self, path: str, evaluation: Evaluation, details: bool, health_json: bool
    ) -> HealthResponse:
        status = evaluation.status
        code = http_status(status)
        if not details:
            short = IETF_STATUS[status] if health_json else status.value
            return _json(
                code, {"status": short}, HEALTH_JSON if health_json else "application/json"
            )
        now, uptime = datetime.now(UTC), self.service.uptime
        version = self.service.settings.version
        checks, results, extra = evaluation.checks, evaluation.results, evaluation.extra
        if health_json:
            payload = health_json_report(
                checks=checks, results=results, status=status, now=now, version=version,
                uptime=uptime,
            )  # fmt: skip
            payload.update(extra)
            return _json(code, payload, HEALTH_JSON)
        renderer = self._renderers.get(path)
        if renderer is None:
            renderer = self._renderers[path] = PlanRenderer()
        body = renderer.render(
            checks=checks, results=results, status=status, now=now, version=version,
            uptime=uptime, extra=extra,
        )  # fmt: skip
        return HealthResponse(code, "application/json", body)
