"""Peak memory (RSS) of the reference app's web process under hostile request bodies (issue 13).

Each scenario starts a fresh ``python -m reference_app web`` (uvicorn, one process, production
entry point) against throwaway PostgreSQL 15 and standalone Redis servers on loopback, signs in,
notes the process's resident set (``VmRSS``), sends the load, then reads the kernel's peak
resident set of the process (``VmHWM`` in /proc/<pid>/status, exact, no sampling) and the RSS
once the answers are in. Scenarios:

- ``sign-in-json``: POST /api/auth/sign-in with a ``--body-mb`` JSON body (a giant password),
  one request, then ``--parallel`` at once (item 2);
- ``sign-in-form``: the same as ``application/x-www-form-urlencoded`` (item 2);
- ``csv-header``: POST /api/imports of a ``--csv-mb`` text/csv body whose header has one-letter
  columns (5 million at 10 MB), one upload, then ``--csv-parallel`` at once (item 3); also the
  size of the 422 answer, of the longest ``imports.reason`` stored and of ``GET /api/imports``.

Sign-in bodies are sent over a plain socket while the answer is read, so a server that answers
before reading the body (413) is seen answering; the answers column gives the status codes.

    .venv/bin/python benchmarks/hostile_input.py [--body-mb 200] [--parallel 4] [--csv-mb 10]
        [--csv-parallel 6]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reference_app.users import create_user
from tests.servers.postgres_server import launch_postgres
from tests.servers.redis_nodes import free_port, start_standalone

PASSWORD = "benchmark-password"
MB = 1_000_000
Request = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


@dataclass
class Figures:
    scenario: str
    requests: int
    before_mb: float
    peak_mb: float
    after_mb: float
    outcome: str
    extra: str = ""


async def _start_web(environ: dict[str, str], log: Path) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    env = {**os.environ, **environ, "PORT": str(port)}
    with log.open("ab") as out:
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "reference_app", "web", env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(600):  # up to 60 s for start-up
            try:
                if (await client.get("/api/health/ready")).status_code == 200:
                    return server, base
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    server.kill()
    raise RuntimeError(f"web did not start: {log.read_text()}")  # noqa: ASYNC240 - failing anyway


async def _outcome(
    send: Callable[[], Awaitable[httpx.Response]],
) -> tuple[str, httpx.Response | None]:
    try:
        response = await send()
    except httpx.TransportError as exc:
        return type(exc).__name__, None
    return str(response.status_code), response


async def scenario(
    name: str,
    environ: dict[str, str],
    log: Path,
    *,
    parallel: int,
    sign_in_first: bool,
    request: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
    after: Callable[[httpx.AsyncClient], Awaitable[str]] | None = None,
) -> Figures:
    server, base = await _start_web(environ, log)
    try:
        timeout = httpx.Timeout(300.0)
        async with httpx.AsyncClient(base_url=base, timeout=timeout) as client:
            if sign_in_first:
                signed = await client.post(
                    "/api/auth/sign-in", json={"username": "bench", "password": PASSWORD}
                )
                if signed.status_code != 200:
                    raise RuntimeError(f"sign-in failed: {signed.status_code} {signed.text}")
            await asyncio.sleep(0.5)  # let start-up garbage settle
            before = _status_kb(server.pid, "VmRSS")
            results = await asyncio.gather(
                *(_outcome(lambda: request(client)) for _ in range(parallel))
            )
            await asyncio.sleep(0.5)
            peak = _status_kb(server.pid, "VmHWM")
            after_rss = _status_kb(server.pid, "VmRSS")
            outcomes = sorted({outcome for outcome, _ in results})
            extra = ""
            answered = [resp for _, resp in results if resp is not None]
            if answered:
                extra = f"answer {max(len(resp.content) for resp in answered)} B"
            if after is not None:
                extra = ", ".join(part for part in (extra, await after(client)) if part)
        return Figures(
            name, parallel, before / 1024, peak / 1024, after_rss / 1024, "/".join(outcomes), extra
        )
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 60)


async def streamed(client: httpx.AsyncClient, body: bytes, content_type: str) -> httpx.Response:
    """POST /api/auth/sign-in with ``body`` over a plain socket, writing it while reading the
    answer (httpx writes the whole body before it reads)."""
    url = httpx.URL(str(client.base_url))
    assert url.port is not None
    reader, writer = await asyncio.open_connection(url.host, url.port)
    head = (
        f"POST /api/auth/sign-in HTTP/1.1\r\nHost: {url.host}:{url.port}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()

    async def send() -> None:
        writer.write(head)
        view = memoryview(body)
        for start in range(0, len(body), 1 << 20):
            writer.write(view[start : start + (1 << 20)])
            await writer.drain()

    sending = asyncio.create_task(send())
    answer = b""
    try:
        while chunk := await reader.read(65536):  # the server closes after its answer
            answer += chunk
    except ConnectionResetError:
        pass  # a server that answers before the body is read may reset: keep what came
    finally:
        sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)
        writer.close()
    if not answer:
        raise httpx.ReadError("no answer")
    status_line, _, rest = answer.partition(b"\r\n")
    content = rest.partition(b"\r\n\r\n")[2]
    return httpx.Response(int(status_line.split()[1]), content=content)


def _json_body(size: int) -> bytes:
    prefix = b'{"username": "bench", "password": "'
    return prefix + b"x" * (size - len(prefix) - 2) + b'"}'


def _form_body(size: int) -> bytes:
    prefix = b"username=bench&password="
    return prefix + b"x" * (size - len(prefix))


def _header_csv(size: int) -> bytes:
    columns = size // 2
    return b",".join([b"a"] * columns) + b"\n"


async def run(args: argparse.Namespace) -> list[Figures]:
    postgres = launch_postgres()
    redis = start_standalone()
    figures: list[Figures] = []
    try:
        environ = {**redis.environ, "DATABASE_URL": postgres.url, "APP_ENV": "development"}
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "web.log"
            json_body = _json_body(args.body_mb * MB)
            form_body = _form_body(args.body_mb * MB)
            csv_body = _header_csv(args.csv_mb * MB)

            async def sign_in_json(client: httpx.AsyncClient) -> httpx.Response:
                return await streamed(client, json_body, "application/json")

            async def sign_in_form(client: httpx.AsyncClient) -> httpx.Response:
                return await streamed(client, form_body, "application/x-www-form-urlencoded")

            async def upload_csv(client: httpx.AsyncClient) -> httpx.Response:
                return await client.post(
                    "/api/imports", params={"filename": "wide.csv"}, content=csv_body,
                    headers={"content-type": "text/csv"},
                )  # fmt: skip

            async def stored(client: httpx.AsyncClient) -> str:
                listing = await client.get("/api/imports")
                async with await psycopg.AsyncConnection.connect(postgres.url) as conn:
                    cursor = await conn.execute(
                        "SELECT coalesce(max(length(reason)), 0) FROM imports"
                    )
                    row = await cursor.fetchone()
                    assert row is not None
                    await conn.execute("DELETE FROM imports")
                    await conn.commit()
                return f"longest reason {row[0]} chars, GET /api/imports {len(listing.content)} B"

            # The web process migrates the schema; create the user once it has.
            server, _ = await _start_web(environ, log)
            server.terminate()
            await server.wait()
            async with await psycopg.AsyncConnection.connect(postgres.url) as conn:
                await create_user(conn, "bench", PASSWORD)
                await conn.commit()

            runs: list[tuple[str, int, bool, Request, bool]] = [
                ("sign-in JSON", 1, False, sign_in_json, False),
                ("sign-in JSON", args.parallel, False, sign_in_json, False),
                ("sign-in form", 1, False, sign_in_form, False),
                ("CSV huge header", 1, True, upload_csv, True),
                ("CSV huge header", args.csv_parallel, True, upload_csv, True),
            ]  # fmt: skip
            for name, parallel, first, request, check_store in runs:
                await redis_flush(redis)
                result = await scenario(
                    name, environ, log, parallel=parallel, sign_in_first=first, request=request,
                    after=stored if check_store else None,
                )  # fmt: skip
                print(_row(result), flush=True)
                figures.append(result)
    finally:
        redis.close()
        postgres.teardown()
    return figures


async def redis_flush(redis: object) -> None:
    # The rate limits live in Redis: every scenario starts with fresh counters.
    flush = getattr(redis, "flush")  # noqa: B009 - RedisDeployment.flush, typed loosely here
    await asyncio.to_thread(flush)


def _row(f: Figures) -> str:
    return (
        f"| {f.scenario} | {f.requests} | {f.before_mb:.0f} | {f.peak_mb:.0f} | "
        f"{f.peak_mb - f.before_mb:+.0f} | {f.after_mb:.0f} | {f.outcome} | {f.extra} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--body-mb", type=int, default=200)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--csv-mb", type=int, default=10)
    parser.add_argument("--csv-parallel", type=int, default=6)
    args = parser.parse_args()
    print(
        f"sign-in bodies {args.body_mb} MB, CSV {args.csv_mb} MB "
        f"({args.csv_mb * MB // 2} one-letter columns)"
    )
    print("| scenario | requests at once | RSS before (MB) | peak RSS (MB) | peak - before | "
          "RSS after (MB) | answers | notes |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
