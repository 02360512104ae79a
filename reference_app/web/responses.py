"""The JSON error shape every endpoint answers with: ``{"error": code, "detail": message}``."""

from __future__ import annotations

from starlette.responses import JSONResponse

__all__ = ["error", "rate_limited"]


def error(status: int, code: str, detail: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail, **extra}, status_code=status)


def rate_limited(retry_after: float, what: str) -> JSONResponse:
    """429 with ``Retry-After`` in whole seconds (rounded up, at least 1)."""
    seconds = max(1, int(-(-retry_after // 1)))
    response = error(429, "rate_limited", f"too many {what}; retry in {seconds} s",
                     retry_after=seconds)  # fmt: skip
    response.headers["Retry-After"] = str(seconds)
    return response
