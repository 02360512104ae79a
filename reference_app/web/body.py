"""Reading a request body without trusting the client: a byte cap checked before the first byte
is read (``Content-Length``) and again while the body streams (chunked bodies declare nothing),
and one deadline for the whole body, so neither a huge nor a trickling body holds the process.

An answer refusing a body carries ``Connection: close``: uvicorn then closes the connection
instead of keeping it for a next request behind the unread rest of this one.
"""

from __future__ import annotations

import asyncio

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.types import Message

from reference_app.web.responses import error

__all__ = ["BodyError", "read_body", "refuse_body", "replayed"]


class BodyError(Exception):
    """The body was not read: ``status`` and ``code`` go into the answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def _too_large(limit: int) -> BodyError:
    return BodyError(413, "body_too_large", f"the body is larger than the limit of {limit} bytes")


async def read_body(request: Request, *, limit: int, deadline: float) -> bytes:
    """The whole body of ``request``, at most ``limit`` bytes, received within ``deadline`` s.

    Raises BodyError: 413 ``body_too_large`` (declared or counted), 408 ``body_timeout``, 400
    ``client_disconnected``.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(deadline):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                chunks.append(chunk)
    except TimeoutError:
        raise BodyError(
            408, "body_timeout", f"the body did not arrive within {deadline:g} s"
        ) from None
    except ClientDisconnect:
        raise BodyError(400, "client_disconnected", "the client went away") from None
    return b"".join(chunks)


def refuse_body(exc: BodyError, **extra: object) -> JSONResponse:
    """The JSON error answer for ``exc``, closing the connection."""
    response = error(exc.status, exc.code, str(exc), **extra)
    response.headers["Connection"] = "close"
    return response


def replayed(request: Request, body: bytes) -> Request:
    """A twin of ``request`` whose body is ``body`` (already read and bounded), for Starlette's
    form parsers."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)
