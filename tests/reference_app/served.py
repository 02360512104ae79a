"""The reference app served over a real TCP socket by the production server configuration.

:func:`served_app` builds the app like ``python -m reference_app web`` does (create_app + the
uvicorn configuration of reference_app.web.server) in this event loop, on a free loopback port,
so HTTP-level behaviour (body and header limits, timeouts, what the parser refuses) is tested as
deployed. ``ServedApp.client`` is an httpx client over TCP; :meth:`ServedApp.raw` opens a plain
socket for requests httpx will not send (partial headers, lying Content-Length, slow bodies).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import uvicorn
from prometheus_client import CollectorRegistry

from reference_app.config import AppConfig
from reference_app.users import create_user
from reference_app.web.app import create_app
from reference_app.web.limits import RequestLimits
from reference_app.web.server import server_config
from tests.reference_app.conftest import PASSWORD
from tests.servers.redis_nodes import free_port

__all__ = ["RawResponse", "ServedApp", "served_app"]

HOST = "127.0.0.1"


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class ServedApp:
    client: httpx.AsyncClient
    registry: CollectorRegistry
    database_url: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    async def add_user(self, username: str = "alice", password: str = PASSWORD) -> int:
        async with await psycopg.AsyncConnection.connect(self.database_url) as conn:
            return (await create_user(conn, username, password)).id

    async def sign_in(self, username: str = "alice", password: str = PASSWORD) -> httpx.Response:
        return await self.client.post(
            "/api/auth/sign-in", json={"username": username, "password": password}
        )

    async def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        async with await psycopg.AsyncConnection.connect(self.database_url) as conn:
            cursor = await conn.execute(sql.encode(), params)
            return [] if cursor.description is None else await cursor.fetchall()

    @contextlib.asynccontextmanager
    async def raw(self) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
        reader, writer = await asyncio.open_connection(HOST, self.port)
        try:
            yield reader, writer
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def read_response(reader: asyncio.StreamReader, *, within: float = 10.0) -> RawResponse:
    """One HTTP/1.1 response from ``reader`` (Content-Length bodies only); raises TimeoutError
    when it does not arrive ``within`` seconds, EOFError when the server closes first."""
    async with asyncio.timeout(within):
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return RawResponse(int(status_line.split()[1]), headers, body)


async def closed_by_server(reader: asyncio.StreamReader, *, within: float) -> bool:
    """True when the server closes the connection (EOF or reset) within ``within`` seconds."""
    try:
        async with asyncio.timeout(within):
            while await reader.read(65536):
                pass
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return True


@contextlib.asynccontextmanager
async def served_app(
    environ: dict[str, str],
    config: AppConfig | None = None,
    *,
    limits: RequestLimits | None = None,
) -> AsyncIterator[ServedApp]:
    registry = CollectorRegistry()
    app = create_app(config or AppConfig(), environ=environ, registry=registry, limits=limits)
    port = free_port()
    server = uvicorn.Server(server_config(app, host=HOST, port=port, limits=limits))
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(600):
            if server.started or serving.done():
                break
            await asyncio.sleep(0.05)
        if not server.started:
            if serving.done():
                serving.result()
            raise RuntimeError("the app did not start within 30 s")
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=30) as client:
            yield ServedApp(client, registry, environ["DATABASE_URL"], port)
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 60)
