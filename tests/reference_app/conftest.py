"""The reference app against real servers: a fresh database per test, Redis in every mode.

``app_environ`` is what the stacks would set (REDIS_* of the ``redis_any`` deployment plus
DATABASE_URL); :func:`running_app` runs the ASGI app's lifespan and gives an httpx client that
calls it in-process; :func:`running_worker` runs the worker in the same event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
from prometheus_client import CollectorRegistry

from reference_app.config import AppConfig
from reference_app.sample_data import sales_csv
from reference_app.services import Services, open_services
from reference_app.users import create_user
from reference_app.web.app import create_app
from reference_app.worker import Worker
from tests.reference_app.lifespan import lifespan
from tests.servers.postgres_server import PostgresServer
from tests.servers.redis_nodes import RedisDeployment

PASSWORD = "correct horse battery staple"
HEADER = "date,region,product,quantity,unit_price\n"

__all__ = [
    "HEADER",
    "PASSWORD",
    "RunningApp",
    "environ_for",
    "eventually",
    "running_app",
    "running_worker",
    "sales_csv",
]


@pytest.fixture
def database_url(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database(f"t_app_{uuid.uuid4().hex[:16]}")


def environ_for(redis: RedisDeployment, database_url: str) -> dict[str, str]:
    return {**redis.environ, "DATABASE_URL": database_url, "APP_ENV": "development"}


@pytest.fixture
def app_environ(redis_any: RedisDeployment, database_url: str) -> dict[str, str]:
    return environ_for(redis_any, database_url)


@dataclass
class RunningApp:
    client: httpx.AsyncClient
    registry: CollectorRegistry
    database_url: str

    async def add_user(self, username: str = "alice", password: str = PASSWORD) -> int:
        async with await psycopg.AsyncConnection.connect(self.database_url) as conn:
            return (await create_user(conn, username, password)).id

    async def sign_in(self, username: str = "alice", password: str = PASSWORD) -> httpx.Response:
        return await self.client.post(
            "/api/auth/sign-in", json={"username": username, "password": password}
        )

    async def import_state(self, import_id: str) -> dict[str, Any]:
        body: dict[str, Any] = (await self.client.get(f"/api/imports/{import_id}")).json()
        return body

    async def import_completed(self, import_id: str, *, within: float = 90.0) -> dict[str, Any]:
        """The import once completed and its job acknowledged (the worker commits, then acks)."""

        async def probe() -> dict[str, Any] | None:
            body = await self.import_state(import_id)
            job = body["job"] or {}
            return body if body["state"] == job.get("state") == "completed" else None

        done: dict[str, Any] = await eventually(
            probe, f"import {import_id} to complete", within=within
        )
        return done

    async def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        async with await psycopg.AsyncConnection.connect(self.database_url) as conn:
            cursor = await conn.execute(sql.encode(), params)
            return [] if cursor.description is None else await cursor.fetchall()


@contextlib.asynccontextmanager
async def running_app(
    environ: dict[str, str], config: AppConfig | None = None
) -> AsyncIterator[RunningApp]:
    registry = CollectorRegistry()
    app = create_app(config or AppConfig(), environ=environ, registry=registry)
    async with (
        lifespan(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://app.test"
        ) as client,
    ):
        yield RunningApp(client, registry, environ["DATABASE_URL"])


@contextlib.asynccontextmanager
async def running_worker(
    environ: dict[str, str], config: AppConfig | None = None
) -> AsyncIterator[Services]:
    stop = asyncio.Event()
    async with open_services(
        config or AppConfig(), role="worker", environ=environ, registry=CollectorRegistry()
    ) as services:
        task = asyncio.create_task(Worker(services, reserve_wait=0.2).run(stop))
        try:
            yield services
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)


async def eventually(
    probe: Callable[[], Awaitable[Any]], what: str, *, within: float = 60.0
) -> Any:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` after ``within`` s."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await probe()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.05)
