"""Health endpoints under load: cached /api/health/detailed vs a trivial JSON endpoint, and
dependency calls per second under a probe storm. Real server, load generator in another process.

One Starlette app (`create_app`) runs under uvicorn in a child process (one worker, h11, no
access log): a trivial route /api/ping returning {"pong": true}, wrapped by app_support.health's
HealthMiddleware with the system checks (memory, CPU, disk) and a "database" dependency that
sleeps 2 ms and counts its calls (success TTL 1 s). /bench/calls returns that count.

0. In process: the same app called as an ASGI callable, microseconds per request of each path
   (interleaved rounds, median): the app's own cost, robust to the shared machine's load.
1. Throughput: wrk (1 thread, 50 connections) alternates between /api/ping, /api/health
   (liveness: the adapter's own trivial JSON) and /api/health/detailed, `--rounds` times each,
   `--seconds` per run; it prints the median requests/s per endpoint, and the ratios
   detailed / ping (the goal: >= 0.8) and detailed / liveness (the cost of the cached report)
   computed per round, then their median over rounds.
2. Probe storm: wrk with 500 connections on /api/health/detailed for `--storm-seconds`; the
   dependency call count before and after gives calls per second (goal: 1 per TTL = 1.0/s).

    .venv/bin/python benchmarks/health_endpoints.py [--seconds 2] [--rounds 7] [--storm-seconds 10]

Before/after, side by side: ``--compare-with DIR`` (DIR holding another app_support, e.g.
``git archive <commit> app_support | tar -x -C DIR``) runs part 0 only, in child processes
alternating between DIR's app_support and this tree's, ``--compare-runs`` times each, and prints
both medians and the ratio detailed / ping of each run.

Needs wrk (Debian package `wrk`, installed by scripts/install).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app_support.health import HealthService, HealthSettings
from app_support.health.asgi import HealthMiddleware

TTL = 1.0
ROOT = Path(__file__).resolve().parent.parent


class SlowDependency:
    """Stands in for a database round trip: 2 ms, counted."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> Mapping[str, object]:
        self.calls += 1
        await asyncio.sleep(0.002)
        return {
            "status": "healthy",
            "latency": 2,
            "pool": {"used": 1, "available": 9, "max": 10},
            "error": None,
        }


def create_app() -> HealthMiddleware:
    """The benchmarked app (uvicorn --factory)."""
    dependency = SlowDependency()
    service = HealthService(HealthSettings(success_ttl=TTL, failure_ttl=TTL))
    service.add_database_check(dependency)

    async def ping(request: Request) -> JSONResponse:
        return JSONResponse({"pong": True})

    async def calls(request: Request) -> JSONResponse:
        return JSONResponse({"calls": dependency.calls})

    routes = [Route("/api/ping", ping), Route("/bench/calls", calls)]
    return HealthMiddleware(Starlette(routes=routes), service=service)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback http
        body: dict[str, object] = json.loads(response.read())
        return body


def wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if server.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {server.returncode}")
        try:
            get_json(f"{base}/api/health/detailed")
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("uvicorn did not answer within 10 s")


def wrk(url: str, *, connections: int, threads: int, seconds: int) -> tuple[float, str]:
    """Requests per second reported by wrk and its socket-error line ("" when none).

    Raises when wrk saw non-2xx answers or printed no rate.
    """
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers from {url}:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    errors = re.search(r"Socket errors:.*", out)
    return float(match.group(1)), "" if errors is None else errors.group(0)


def calls(base: str) -> int:
    value = get_json(f"{base}/bench/calls")["calls"]
    assert isinstance(value, int)
    return value


async def in_process_us(paths: Mapping[str, str], requests: int, rounds: int) -> dict[str, float]:
    """Median microseconds per request of each path, the app called as an ASGI callable.

    No sockets and no HTTP parsing: the app's own cost, far less sensitive to the machine's other
    load than a wrk run. Paths are interleaved round by round; the collector is off while timing.
    """
    app = create_app()

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        return None

    def scope(path: str) -> dict[str, object]:
        return {"type": "http", "method": "GET", "path": path, "root_path": "", "headers": [],
                "query_string": b"", "scheme": "http", "server": ("127.0.0.1", 80),
                "http_version": "1.1", "asgi": {"version": "3.0"}}  # fmt: skip

    timings: dict[str, list[float]] = {name: [] for name in paths}
    for path in paths.values():
        await app(scope(path), receive, send)  # fills the health cache
    for _ in range(rounds):
        for name, path in paths.items():
            request = scope(path)
            gc.disable()
            started = time.perf_counter()
            for _ in range(requests):
                await app(dict(request), receive, send)
            elapsed = time.perf_counter() - started
            gc.enable()
            timings[name].append(elapsed / requests * 1e6)
    return {name: statistics.median(values) for name, values in timings.items()}


PATHS = {"ping": "/api/ping", "liveness": "/api/health", "detailed": "/api/health/detailed"}


def compare(other: Path, runs: int, requests: int, rounds: int) -> None:
    """Part 0 for ``other``'s app_support and this tree's, alternating, each in a child process."""
    trees = {"before": other.resolve(), "after": ROOT}
    ratios: dict[str, list[float]] = {name: [] for name in trees}
    costs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for run in range(runs):
        for name, tree in trees.items():
            out = subprocess.run(
                [sys.executable, __file__, "--in-process-json", "--rounds", str(rounds),
                 "--in-process-requests", str(requests)],
                env={**os.environ, "PYTHONPATH": str(tree)},
                capture_output=True, text=True, check=True, timeout=600,
            ).stdout  # fmt: skip
            result = json.loads(out)
            if not result.pop("app_support").startswith(str(tree)):
                raise RuntimeError(f"the {name} run did not import app_support from {tree}")
            costs[name].append(result)
            ratios[name].append(result["ping"] / result["detailed"])
            figures = "  ".join(f"{path} {us:5.1f} us" for path, us in result.items())
            print(f"run {run + 1} {name:<6} {figures}  ratio {ratios[name][-1]:.2f}", flush=True)
    for name, tree in trees.items():
        medians = {path: statistics.median(c[path] for c in costs[name]) for path in PATHS}
        figures = "  ".join(f"{path} {us:5.1f} us" for path, us in medians.items())
        listed = " ".join(f"{r:.2f}" for r in ratios[name])
        print(f"{name:<6} ({tree}) medians {figures}; ratio detailed / ping median "
              f"{statistics.median(ratios[name]):.2f} (runs {listed})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--storm-seconds", type=int, default=10)
    parser.add_argument("--in-process-requests", type=int, default=3000)
    parser.add_argument("--compare-with", type=Path, metavar="DIR")
    parser.add_argument("--compare-runs", type=int, default=5)
    parser.add_argument("--in-process-json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.compare_with is not None:
        compare(args.compare_with, args.compare_runs, args.in_process_requests, args.rounds)
        return
    paths = PATHS
    if args.in_process_json:  # one side of --compare-with
        import app_support

        costs = asyncio.run(in_process_us(paths, args.in_process_requests, args.rounds))
        print(json.dumps({**costs, "app_support": app_support.__file__}))
        return
    labels = {
        "ping": "trivial Starlette route /api/ping",
        "liveness": "liveness /api/health (no checks)",
        "detailed": "cached /api/health/detailed",
    }
    costs = asyncio.run(in_process_us(paths, args.in_process_requests, args.rounds))
    print("in process (ASGI callable, no sockets):")
    for name, label in labels.items():
        print(f"  {label:<35} {costs[name]:7.1f} us/request")
    print(f"  req/s ratio detailed / ping       {costs['ping'] / costs['detailed']:7.2f}")
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install wrk (scripts/install installs it)")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "health_endpoints:create_app",
            "--app-dir",
            str(ROOT / "benchmarks"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            "--http",
            "h11",
            "--loop",
            "asyncio",
        ],
        cwd=ROOT,
    )
    try:
        wait_until_up(base, server)
        wrk(f"{base}/api/ping", connections=50, threads=1, seconds=1)  # warm-up
        rates: dict[str, list[float]] = {name: [] for name in paths}
        for _ in range(args.rounds):
            for name, path in paths.items():
                rps, _ = wrk(base + path, connections=50, threads=1, seconds=args.seconds)
                rates[name].append(rps)
        print("over HTTP (uvicorn, wrk):")
        for name, label in labels.items():
            runs = " ".join(f"{r:.0f}" for r in rates[name])
            print(f"  {label:<35} median {statistics.median(rates[name]):6.0f} req/s  runs {runs}")
        # Ratios per round (runs next to each other in time), then the median over rounds:
        # the machine's other load changes between rounds more than within one.
        for other in ("ping", "liveness"):
            ratios = [d / o for d, o in zip(rates["detailed"], rates[other], strict=True)]
            goal = "  (goal >= 0.80)" if other == "ping" else ""
            listed = " ".join(f"{r:.2f}" for r in ratios)
            print(
                f"  ratio detailed / {other:<16} median {statistics.median(ratios):.2f}"
                f"{goal}  rounds {listed}"
            )

        before, started = calls(base), time.monotonic()
        storm_rps, storm_errors = wrk(
            f"{base}/api/health/detailed", connections=500, threads=2, seconds=args.storm_seconds
        )
        elapsed, after = time.monotonic() - started, calls(base)
        per_second = (after - before) / elapsed
        print(
            f"probe storm, 500 clients: {storm_rps:.0f} req/s for {elapsed:.1f} s, "
            f"{after - before} dependency calls = {per_second:.2f}/s "
            f"(goal: 1 per TTL = {1 / TTL:.2f}/s) {storm_errors}"
        )
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


if __name__ == "__main__":
    main()
