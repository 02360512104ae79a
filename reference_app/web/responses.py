"""The JSON error shape every endpoint answers with: ``{"error": code, "detail": message}``."""

from __future__ import annotations

from starlette.responses import JSONResponse

__all__ = ["error", "rate_limited", "with_retry_after"]


def error(status: int, code: str, detail: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail, **extra}, status_code=status)


def rate_limited(retry_after: float, what: str) -> JSONResponse:
    """429 with ``Retry-After`` in whole seconds (rounded up, at least 1)."""
    seconds = max(1, int(-(-retry_after // 1)))
    detail = f"too many {what}; retry in {seconds} s"
    return with_retry_after(error(429, "rate_limited", detail, retry_after=seconds), seconds)


def with_retry_after(response: JSONResponse, seconds: int) -> JSONResponse:
    """``response`` with the ``Retry-After`` header (whole seconds)."""
    response.headers["Retry-After"] = str(seconds)
    return response
