"""The reference app's import throughput and its cached analytics endpoint, in one run.

Part 1 imports a generated 100,000-row sales CSV through the app: upload (read, validate every
row, store, enqueue) over the ASGI app in-process, then the worker's exactly-once transaction
(parse, COPY, flip the state). Side by side, the floor: the same parsed rows COPYed by plain
psycopg into an identical table in one transaction. Figures: rows/s of each phase, and the app's
end-to-end rate as a share of the floor.

Part 2 reads ``GET /api/analytics/<name>`` for a user holding those 100,000 rows, through the whole
middleware stack (health, metrics, session lookup in Redis), with ``--concurrency`` requests in
flight: cached (the aggregate comes from Redis) against uncached (the cache entry is dropped before
each request, so every request runs the SQL aggregate). The cached read is also timed as direct
ASGI calls, without httpx: the in-process client (URL and cookie-jar work, a failed ``import
sniffio`` per request in its ASGI transport) costs more CPU than the app itself, so only the direct
figure is the app's own cost. Part 3 repeats the cached read over TCP against ``python -m
reference_app web`` (uvicorn, one process) on the same 2-core machine.

Throwaway PostgreSQL 15 (fsync off, as in the tests) and standalone Redis servers are started on
free loopback ports.

    .venv/bin/python benchmarks/app_import.py [--rows 100000] [--rounds 3] [--seconds 3]
        [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app_support.health.asgi import ASGIApp
from reference_app.config import AppConfig
from reference_app.csv_format import parse_sales_csv
from reference_app.sample_data import sales_csv
from reference_app.services import open_services
from reference_app.users import create_user
from reference_app.web.app import create_app
from reference_app.worker import Worker
from tests.reference_app.lifespan import lifespan
from tests.servers.postgres_server import launch_postgres
from tests.servers.redis_nodes import free_port, start_standalone

PASSWORD = "benchmark-password"
SUMMARY = "/api/analytics/summary"


def copy_floor(url: str, data: bytes) -> float:
    """Seconds to parse and COPY the rows with plain psycopg, in one transaction."""
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TEMP TABLE floor (LIKE sales INCLUDING ALL)")
        start = time.perf_counter()
        rows = parse_sales_csv(data)
        with conn.cursor().copy(
            "COPY floor (import_id, line, user_id, sale_date, region, product, quantity,"
            " unit_price) FROM STDIN"
        ) as copy:
            for sale in rows:
                copy.write_row(
                    ("00000000-0000-0000-0000-000000000000", sale.line, 1, sale.date,
                     sale.region, sale.product, sale.quantity, sale.unit_price)
                )  # fmt: skip
        conn.commit()
        return time.perf_counter() - start


async def import_once(client: httpx.AsyncClient, data: bytes) -> tuple[float, float]:
    """(upload seconds, seconds from the 202 to the import reading completed)."""
    start = time.perf_counter()
    response = await client.post("/api/imports", files={"file": ("bench.csv", data, "text/csv")})
    accepted = time.perf_counter()
    if response.status_code != 202:
        raise RuntimeError(f"upload refused: {response.status_code} {response.text}")
    status_url = response.json()["status_url"]
    for _ in range(100_000):  # bounded: 20 ms polls, far beyond any sane import time
        body = (await client.get(status_url)).json()
        if body["state"] == "completed":
            return accepted - start, time.perf_counter() - accepted
        if body["state"] == "failed":
            raise RuntimeError(f"import failed: {body['reason']}")
        await asyncio.sleep(0.02)
    raise RuntimeError("import did not complete")


async def requests_per_second(
    request: Callable[[], Awaitable[None]], seconds: float, concurrency: int
) -> float:
    done = 0
    deadline = time.perf_counter() + seconds

    async def loop() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await request()
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return done / (time.perf_counter() - start)


async def fetch(client: httpx.AsyncClient, expect_cached: bool | None) -> None:
    response = await client.get(SUMMARY)
    body: dict[str, Any] = response.json()
    if response.status_code != 200 or (
        expect_cached is not None and body["cached"] is not expect_cached
    ):
        raise RuntimeError(f"unexpected answer: {response.status_code} {body}")


def direct_fetch(app: ASGIApp, cookie: str) -> Callable[[], Awaitable[None]]:
    """A cached read of SUMMARY as one ASGI call, as a server would make it (no HTTP client)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": SUMMARY,
        "raw_path": SUMMARY.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench"), (b"cookie", cookie.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("bench", 80),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def request() -> None:
        sent: list[Any] = []

        async def send(message: Any) -> None:
            sent.append(message)

        await app(dict(scope), receive, send)
        if sent[0]["status"] != 200 or json.loads(sent[1]["body"])["cached"] is not True:
            raise RuntimeError(f"unexpected answer: {sent}")

    return request


async def over_tcp(environ: dict[str, str], seconds: float, concurrency: int) -> float:
    """Cached analytics requests/s against ``python -m reference_app web`` over TCP."""
    port = free_port()
    env = {**os.environ, **environ, "PORT": str(port)}
    with tempfile.TemporaryFile() as log:
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "reference_app", "web", env=env, stdout=log, stderr=log
        )
        try:
            base = f"http://127.0.0.1:{port}"
            limits = httpx.Limits(max_connections=concurrency)
            async with httpx.AsyncClient(base_url=base, limits=limits) as client:
                for _ in range(300):  # up to 30 s for start-up
                    try:
                        if (await client.get("/api/health/ready")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
                else:
                    log.seek(0)
                    raise RuntimeError(f"web did not start: {log.read().decode()}")
                await client.post(
                    "/api/auth/sign-in", json={"username": "bench", "password": PASSWORD}
                )
                await fetch(client, None)
                return await requests_per_second(lambda: fetch(client, True), seconds, concurrency)
        finally:
            server.terminate()
            await asyncio.wait_for(server.wait(), 30)


def _line(label: str, seconds: list[float], rows: int) -> str:
    best = min(seconds)
    spread = ", ".join(f"{value:.2f}" for value in seconds)
    return f"{label:<42}{best:6.2f} s  {rows / best:9.0f} rows/s   (rounds: {spread} s)"


async def run(rows: int, rounds: int, seconds: float, concurrency: int) -> None:
    postgres = launch_postgres()
    redis = start_standalone()
    uploads: list[float] = []
    imports: list[float] = []
    floors: list[float] = []
    try:
        environ = {**redis.environ, "DATABASE_URL": postgres.url}
        # Generous limits: the benchmark is one client hammering the API.
        config = AppConfig(upload_limit="1000/minute", sign_in_limit="1000/minute")
        app = create_app(config, environ=environ, registry=CollectorRegistry())
        transport = httpx.ASGITransport(app=app)
        async with (
            lifespan(app),
            open_services(
                config, role="worker", environ=environ, registry=CollectorRegistry()
            ) as services,
            httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
        ):
            async with services.database.connection() as conn:
                await create_user(conn, "bench", PASSWORD)
            await client.post("/api/auth/sign-in", json={"username": "bench", "password": PASSWORD})
            stop = asyncio.Event()
            worker = asyncio.create_task(Worker(services, reserve_wait=0.05).run(stop))
            for round_ in range(rounds):  # the app and the floor alternate
                data = sales_csv(rows, start=round_ * rows)
                upload_s, import_s = await import_once(client, data)
                uploads.append(upload_s)
                imports.append(import_s)
                floors.append(await asyncio.to_thread(copy_floor, postgres.url, data))

            async def uncached() -> None:
                await services.cache.invalidate_prefix("user:1:")
                await fetch(client, False)

            await fetch(client, None)
            cached_rps = await requests_per_second(
                lambda: fetch(client, True), seconds, concurrency
            )
            # One at a time, so no other request refills the cache between drop and read.
            cached_one = await requests_per_second(lambda: fetch(client, True), seconds, 1)
            session = f"{config.session_cookie}={client.cookies[config.session_cookie]}"
            direct = direct_fetch(app, session)
            direct_rps = await requests_per_second(direct, seconds, concurrency)
            direct_one = await requests_per_second(direct, seconds, 1)
            uncached_one = await requests_per_second(uncached, seconds, 1)
            stop.set()
            await worker
        tcp_rps = await over_tcp(environ, seconds, concurrency)
    finally:
        redis.close()
        postgres.teardown()

    totals = [upload + done for upload, done in zip(uploads, imports, strict=True)]
    print(f"CSV: {rows} rows, {len(sales_csv(rows)) / 1e6:.1f} MB; best of {rounds} rounds")
    print(_line("upload (read, validate, store, enqueue):", uploads, rows))
    print(_line("worker import (parse, COPY, commit):", imports, rows))
    print(_line("end to end (upload -> completed):", totals, rows))
    print(_line("floor: parse + plain psycopg COPY:", floors, rows))
    floor = min(floors)
    print(
        f"worker import / floor: {min(imports) / floor:.2f}x the time; "
        f"end to end / floor: {min(totals) / floor:.2f}x"
    )
    print(f"analytics {SUMMARY} over {rows * rounds} rows, {seconds:g} s each:")
    print(f"  cached, {concurrency} in flight, in-process ASGI:  {cached_rps:8.0f} req/s")
    print(f"  cached, {concurrency} in flight, TCP to uvicorn:   {tcp_rps:8.0f} req/s")
    print(f"  cached, 1 in flight, in-process ASGI:  {cached_one:8.0f} req/s")
    print(f"  cached, {concurrency} in flight, direct ASGI call, no httpx: {direct_rps:8.0f} req/s")
    print(f"  cached, 1 in flight, direct ASGI call, no httpx: {direct_one:8.0f} req/s")
    print(
        f"  httpx client share of the 1-in-flight time: {1 - cached_one / direct_one:.0%}"
        f" ({1e6 / cached_one:.0f} us vs {1e6 / direct_one:.0f} us per request)"
    )
    print(f"  uncached (SQL), 1 in flight, in-process: {uncached_one:6.0f} req/s")
    print(f"  cached / uncached, 1 in flight: {cached_one / uncached_one:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(run(args.rows, args.rounds, args.seconds, args.concurrency))


if __name__ == "__main__":
    main()
