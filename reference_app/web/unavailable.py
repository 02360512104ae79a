"""503 answers for writes Redis could not make durable (issue 11), in the app's JSON error shape.

A session or a job that fewer replicas than ``REDIS_WAIT_REPLICAS`` confirmed in time
(WriteNotConfirmedError), or that the master refused (``NOREPLICAS``: WriteRefusedError, a
subclass), may vanish in a failover. The caller is told to retry instead of being told "done".
Sign-in and upload answer so themselves; :func:`not_confirmed` is the app-wide handler for any
other write (e.g. a rate limiter's counter while the master refuses writes for want of replicas).
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app_support.redis.errors import WriteNotConfirmedError
from reference_app.services import Services
from reference_app.web.responses import error, with_retry_after

__all__ = ["not_confirmed", "retry_after", "retry_after_of", "unavailable"]


def retry_after(services: Services) -> int:
    """Whole seconds to suggest: one Redis retry deadline (a failover fits in it), at least 1."""
    return max(1, math.ceil(services.redis_settings.retry_deadline))


def retry_after_of(state: Any) -> int:
    """:func:`retry_after` from the Starlette app's ``state``; 1 before its services are open."""
    services = getattr(state, "services", None)
    return 1 if services is None else retry_after(services)


def unavailable(seconds: int, code: str, detail: str, **extra: object) -> JSONResponse:
    """503 with ``Retry-After: seconds`` and ``retry_after`` in the body."""
    return with_retry_after(error(503, code, detail, retry_after=seconds, **extra), seconds)


async def not_confirmed(request: Request, exc: Exception) -> Response:
    """Starlette exception handler for WriteNotConfirmedError: 503 ``write_not_confirmed``."""
    if not isinstance(exc, WriteNotConfirmedError):
        raise exc
    services: Services = request.app.state.services
    detail = "Redis could not confirm a write in time; retry"
    return unavailable(retry_after(services), "write_not_confirmed", detail)
