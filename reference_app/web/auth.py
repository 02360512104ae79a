"""Sign-in, sign-out and the current user: sessions in Redis, referenced by an HttpOnly cookie."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app_support.redis.errors import WriteNotConfirmedError
from reference_app.services import Services
from reference_app.users import User, authenticate
from reference_app.web.body import BodyError, read_body, refuse_body, replayed
from reference_app.web.limits import RequestLimits
from reference_app.web.origin import is_cross_site
from reference_app.web.responses import error, rate_limited
from reference_app.web.unavailable import retry_after, unavailable

__all__ = [
    "client_id",
    "current_user",
    "limits_of",
    "me",
    "services_of",
    "sign_in",
    "sign_out",
]


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def client_id(request: Request) -> str:
    """The client's address as the server saw it (uvicorn rewrites it from X-Forwarded-For only
    for proxies in FORWARDED_ALLOW_IPS, so clients cannot pick their own rate-limit bucket)."""
    return request.client.host if request.client else "unknown"


async def current_user(request: Request) -> User | None:
    """The signed-in user of the request's session cookie, or None."""
    services = services_of(request)
    session_id = request.cookies.get(services.config.session_cookie)
    if not session_id:
        return None
    session = await services.sessions.get(session_id)
    if session is None:
        return None
    return User(id=int(session["user_id"]), username=str(session["username"]))


def limits_of(request: Request) -> RequestLimits:
    limits: RequestLimits = request.app.state.limits
    return limits


async def _credentials(request: Request, body: bytes) -> tuple[str, str] | None:
    data: Any
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(body)
        except ValueError:
            return None
    else:
        # Form fields of a body already read and bounded; a file part is not a credential.
        try:
            async with replayed(request, body).form(max_files=0, max_fields=10) as form:
                data = {name: value for name, value in form.items() if isinstance(value, str)}
        except (HTTPException, MultiPartException):
            return None
    if not isinstance(data, dict):
        return None
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        return None
    return username, password


async def sign_in(request: Request) -> Response:
    """POST {"username", "password"} (JSON or form) -> 200 and the session cookie.

    401 for wrong credentials, 400 for a malformed body, 429 (Retry-After) beyond the per-client
    limit: every attempt counts, so guessing passwords is throttled. 503 (Retry-After) when the
    session write is not confirmed by the replicas ``REDIS_WAIT_REPLICAS`` asks for. 403 when a
    browser says the request comes from another site (login CSRF, see origin.py). A body beyond
    ``RequestLimits.sign_in_bytes`` gets 413 before it is read (it still counts as an attempt),
    one that does not arrive within ``body_timeout`` 408.
    """
    services = services_of(request)
    decision = await services.sign_in_limiter.hit(client_id(request))
    if not decision.allowed:
        return rate_limited(decision.retry_after, "sign-in attempts")
    if is_cross_site(request):
        return error(403, "cross_site_request",
                     "sign-in is accepted from this site's own pages only (Origin)")  # fmt: skip
    limits = limits_of(request)
    try:
        body = await read_body(request, limit=limits.sign_in_bytes, deadline=limits.body_timeout)
    except BodyError as exc:
        return refuse_body(exc)
    credentials = await _credentials(request, body)
    if credentials is None:
        return error(400, "bad_request", 'send {"username": "...", "password": "..."}')
    async with services.database.connection() as conn:
        user = await authenticate(conn, *credentials)
    if user is None:
        return error(401, "invalid_credentials", "unknown user or wrong password")
    config = services.config
    try:
        session_id = await services.sessions.create({"user_id": user.id, "username": user.username})
    except WriteNotConfirmedError:
        # Not confirmed by a replica: the session could vanish in a failover, so no cookie.
        detail = "the session store could not confirm the session in time; sign in again"
        return unavailable(retry_after(services), "write_not_confirmed", detail)
    response = JSONResponse({"user": {"id": user.id, "username": user.username}})
    response.set_cookie(
        config.session_cookie,
        session_id,
        max_age=config.session_ttl,
        httponly=True,
        secure=config.secure_cookies,
        samesite="lax",
    )
    return response


async def sign_out(request: Request) -> Response:
    """POST -> 204; the session is destroyed in Redis and the cookie cleared (idempotent)."""
    services = services_of(request)
    session_id = request.cookies.get(services.config.session_cookie)
    if session_id:
        await services.sessions.destroy(session_id)
    response = Response(status_code=204)
    response.delete_cookie(
        services.config.session_cookie, httponly=True, secure=services.config.secure_cookies,
        samesite="lax",
    )  # fmt: skip
    return response


async def me(request: Request) -> Response:
    """GET -> the signed-in user, or 401."""
    user = await current_user(request)
    if user is None:
        return error(401, "not_signed_in", "sign in first: POST /api/auth/sign-in")
    return JSONResponse({"user": {"id": user.id, "username": user.username}})
