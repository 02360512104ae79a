"""Issue 13 item 10: slow clients are not held open forever, on the web service and on the
worker's metrics server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry

from app_support.metrics import MetricsEndpoint, MetricsSettings, start_metrics_server
from reference_app.web.limits import RequestLimits
from tests.reference_app.conftest import environ_for
from tests.reference_app.served import ServedApp, closed_by_server, read_response, served_app
from tests.servers.redis_nodes import RedisDeployment

LIMITS = RequestLimits(header_timeout=2.0, body_timeout=2.0, keep_alive=2)
SLACK = 5.0  # the shared 2-core machine can be slow; a connection held open stays open for good


@pytest.fixture
async def app(redis_standalone: RedisDeployment, database_url: str) -> AsyncIterator[ServedApp]:
    redis_standalone.flush()
    async with served_app(environ_for(redis_standalone, database_url), limits=LIMITS) as served:
        await served.add_user()
        yield served


async def test_a_connection_that_never_finishes_its_headers_is_closed(app: ServedApp) -> None:
    async with app.raw() as (reader, writer):
        writer.write(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")  # no blank line, ever
        await writer.drain()
        assert await closed_by_server(reader, within=LIMITS.header_timeout + SLACK)


async def test_headers_dribbled_a_byte_at_a_time_do_not_reset_the_deadline(
    app: ServedApp,
) -> None:
    async with app.raw() as (reader, writer):
        deadline = time.monotonic() + LIMITS.header_timeout + SLACK
        closed = False
        while time.monotonic() < deadline and not closed:
            try:
                writer.write(b"X")
                await writer.drain()
            except ConnectionError:
                closed = True
                break
            closed = await closed_by_server(reader, within=0.3)
        assert closed


async def test_an_idle_connection_is_closed(app: ServedApp) -> None:
    async with app.raw() as (reader, _writer):
        assert await closed_by_server(reader, within=LIMITS.keep_alive + SLACK)


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/api/auth/sign-in", "application/json"), ("/api/imports", "text/csv")],
    ids=["sign-in", "upload"],
)
async def test_a_body_that_stops_arriving_gets_408(
    app: ServedApp, path: str, content_type: str
) -> None:
    cookie = ""
    if path == "/api/imports":
        await app.sign_in()
        cookie = f"Cookie: session={app.client.cookies['session']}\r\n"
    async with app.raw() as (reader, writer):
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n{cookie}"
            "Content-Length: 1000\r\n\r\n".encode()
            + b"date,"  # then nothing more
        )
        await writer.drain()
        response = await read_response(reader, within=LIMITS.body_timeout + SLACK)
        assert response.status == 408
        assert json.loads(response.body)["error"] == "body_timeout"
        assert response.headers.get("connection") == "close"


async def test_a_completed_request_still_works(app: ServedApp) -> None:
    """The deadlines apply to slow clients only: normal keep-alive traffic goes through."""
    for _ in range(3):
        assert (await app.client.get("/api/health")).status_code == 200
        await asyncio.sleep(0.2)


def _metrics_threads() -> int:
    return sum(1 for thread in threading.enumerate() if thread.name.startswith("Thread-"))


def test_the_worker_metrics_server_drops_slow_and_idle_connections() -> None:
    endpoint = MetricsEndpoint(registry=CollectorRegistry(), settings=MetricsSettings.from_env({}))
    server = start_metrics_server(endpoint, port=0, host="127.0.0.1")
    before = threading.active_count()
    sockets: list[socket.socket] = []
    try:
        for i in range(50):
            sock = socket.create_connection(("127.0.0.1", server.port))
            if i % 2:
                sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # never finished
            sockets.append(sock)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and threading.active_count() > before + 2:
            time.sleep(0.2)
        assert threading.active_count() <= before + 2, threading.enumerate()
        for sock in sockets:
            sock.settimeout(5)
            with contextlib.suppress(ConnectionError):
                assert sock.recv(1) in (b"", b"H")  # closed (or a 4xx it wrote first)
        # And it still serves.
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as ok:
            ok.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
            assert ok.recv(12).startswith(b"HTTP/1.0 200")
    finally:
        for sock in sockets:
            sock.close()
        server.close()
