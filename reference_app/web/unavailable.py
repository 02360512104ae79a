"""503 answers for writes Redis could not make durable (issue 11), in the app's JSON error shape.

A session or a job that fewer replicas than ``REDIS_WAIT_REPLICAS`` confirmed in time
(WriteNotConfirmedError), or that the master refused (``NOREPLICAS``: WriteRefusedError, a
subclass), may vanish in a failover. The caller is told to retry instead of being told "done".
Sign-in and upload answer so themselves; :func:`not_confirmed` is the app-wide handler for any
other write (e.g. a rate limiter's counter while the master refuses writes for want of replicas).
"""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app_support.redis.errors import WriteNotConfirmedError
from reference_app.services import Services
from reference_app.web.responses import error

__all__ = ["not_confirmed", "retry_after", "unavailable"]


def retry_after(services: Services) -> int:
    """Whole seconds to suggest: one Redis retry deadline (a failover fits in it), at least 1."""
    return max(1, math.ceil(services.redis_settings.retry_deadline))


def unavailable(seconds: int, code: str, detail: str, **extra: object) -> JSONResponse:
    """503 with ``Retry-After: seconds`` and ``retry_after`` in the body."""
    response = error(503, code, detail, retry_after=seconds, **extra)
    response.headers["Retry-After"] = str(seconds)
    return response


async def not_confirmed(request: Request, exc: Exception) -> Response:
    """Starlette exception handler for WriteNotConfirmedError: 503 ``write_not_confirmed``."""
    if not isinstance(exc, WriteNotConfirmedError):
        raise exc
    services: Services = request.app.state.services
    detail = "Redis could not confirm a write in time; retry"
    return unavailable(retry_after(services), "write_not_confirmed", detail)
