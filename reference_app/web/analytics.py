"""GET /api/analytics/{name}: the signed-in user's aggregates, from the cache when fresh."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reference_app.aggregates import AGGREGATES
from reference_app.analytics import cached_aggregate
from reference_app.web.auth import current_user, services_of
from reference_app.web.responses import error

__all__ = ["analytics"]


async def analytics(request: Request) -> Response:
    """200 ``{"name", "cached", "data"}``; 401 without a session; 404 for an unknown name."""
    user = await current_user(request)
    if user is None:
        return error(401, "not_signed_in", "sign in first: POST /api/auth/sign-in")
    name = request.path_params["name"]
    if name not in AGGREGATES:
        known = ", ".join(AGGREGATES)
        return error(404, "unknown_aggregate", f"no aggregate {name!r}; one of {known}")
    services = services_of(request)
    data, cached = await cached_aggregate(services.cache, services.database, user.id, name)
    return JSONResponse({"name": name, "cached": cached, "data": data})
