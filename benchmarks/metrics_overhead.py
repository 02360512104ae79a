"""Added latency per request of HTTP metrics middleware, side by side in one run.

For 30 and 200 routes, the same Starlette app is built four times: uninstrumented, with
app_support.metrics' ``MetricsMiddleware``, with prometheus-fastapi-instrumentator and with
starlette_exporter (each on its own registry or prefix). Every variant is called in-process, as an
ASGI callable, in a tight loop inside one event loop: a prebuilt ``scope``, a ``receive`` that
returns the request body and a ``send`` that drops messages, so the figures contain the framework
and the middleware only (no sockets, no HTTP parsing). Requests hit a templated route in the last
tenth of the route table. Each batch of a variant runs right after a batch of the uninstrumented
app, with the garbage collector paused inside a batch; batches are timed in CPU time of the thread
(``time.thread_time``), so time the process spends descheduled by other load does not count.
"added" is the median over rounds of the difference of mean times per request (with quartiles;
the uninstrumented app against itself shows the noise floor), "x base" is (base + added) / base.

It also times ``MetricsMiddleware`` alone, over an app that does nothing but mark a route matched
(as Starlette's router does) and answer: small figures, so little noise.

    .venv/bin/python benchmarks/metrics_overhead.py [--requests 300] [--rounds 25]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_fastapi_instrumentator import Instrumentator
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette_exporter import PrometheusMiddleware as StarletteExporterMiddleware

from app_support.metrics import HttpMetrics, MetricsMiddleware

Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[Message]],
        Callable[[Message], Awaitable[None]],
    ],
    Awaitable[None],
]
ROUTE_COUNTS = (30, 200)
VARIANTS = ("uninstrumented", "app_support.metrics", "instrumentator", "starlette_exporter")


async def item(request: Request) -> Response:
    return PlainTextResponse("ok")


def routes(count: int) -> list[Route]:
    return [Route(f"/api/resource{i}/{{item_id}}", item) for i in range(count)]


def build(variant: str, count: int) -> ASGIApp:
    if variant == "uninstrumented":
        return Starlette(routes=routes(count))
    if variant == "app_support.metrics":
        metrics = HttpMetrics(registry=CollectorRegistry())
        return Starlette(
            routes=routes(count), middleware=[Middleware(MetricsMiddleware, metrics=metrics)]
        )
    if variant == "instrumentator":
        app = Starlette(routes=routes(count))
        Instrumentator(registry=CollectorRegistry()).instrument(app)
        return app
    if variant == "starlette_exporter":
        return Starlette(
            routes=routes(count),
            middleware=[Middleware(StarletteExporterMiddleware, prefix=f"bench{count}")],
        )
    raise ValueError(f"unknown variant {variant!r}")


def scope_for(count: int) -> dict[str, Any]:
    path = f"/api/resource{count - count // 10}/42"
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: Message) -> None:
    return None


async def batch(app: ASGIApp, scope: dict[str, Any], requests: int) -> float:
    """Mean seconds per request over ``requests`` calls."""
    gc.collect()
    gc.disable()
    try:
        start = time.thread_time()
        for _ in range(requests):
            await app(dict(scope), receive, send)
        return (time.thread_time() - start) / requests
    finally:
        gc.enable()


async def measure(count: int, requests: int, rounds: int) -> dict[str, list[float]]:
    """Per variant, its mean per request minus that of the baseline batch just before, per round.

    The "uninstrumented" entry compares the baseline with itself: the noise floor of the method.
    """
    apps = {variant: build(variant, count) for variant in VARIANTS}
    scope = scope_for(count)
    for app in apps.values():  # warm up: route caches, label children, lazy imports
        await batch(app, scope, 200)
    added: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    added["base"] = []
    for _ in range(rounds):
        # Paired: each variant right after its own baseline batch, so load from other processes
        # on a shared machine shifts both sides of a difference alike.
        for variant, app in apps.items():
            reference = await batch(apps["uninstrumented"], scope, requests)
            added["base"].append(reference)
            added[variant].append(await batch(app, scope, requests) - reference)
    return added


async def isolated(count: int, requests: int, rounds: int) -> list[float]:
    """MetricsMiddleware alone: over an app that only marks a route matched and answers, as
    Starlette's router and a response would, minus that app alone. Small, hence precise, figures.
    """
    table = routes(count)
    router = Starlette(routes=table).router
    matched = table[count - count // 10]

    async def answer(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        scope["router"] = router
        scope["route"] = matched
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    wrapped = MetricsMiddleware(answer, metrics=HttpMetrics(registry=CollectorRegistry()))
    scope = scope_for(count)
    await batch(wrapped, scope, 200)
    added = []
    for _ in range(rounds):
        reference = await batch(answer, scope, requests)
        added.append(await batch(wrapped, scope, requests) - reference)
    return added


def us(seconds: float) -> str:
    return f"{seconds * 1e6:+.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per batch")
    parser.add_argument("--rounds", type=int, default=25, help="paired batches per variant")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    samples = {
        count: asyncio.run(measure(count, args.requests, args.rounds)) for count in ROUTE_COUNTS
    }
    median = {c: {v: statistics.median(x) for v, x in samples[c].items()} for c in ROUTE_COUNTS}
    print(
        f"{args.requests} requests x {args.rounds} paired rounds per variant, CPU time of this "
        f"thread; load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    print("added microseconds per request: median [p25 .. p75] over rounds; x base = total/base")
    for count in ROUTE_COUNTS:
        print(f"-- {count} routes (uninstrumented request: {median[count]['base'] * 1e6:.1f} us)")
        for variant in VARIANTS:
            q1, _, q3 = statistics.quantiles(samples[count][variant], n=4)
            add, base = median[count][variant], median[count]["base"]
            label = "uninstrumented (noise)" if variant == "uninstrumented" else variant
            print(
                f"   {label:<24}{us(add):>9} [{us(q1)} .. {us(q3)}]"
                f"   x base {(base + add) / base:.2f}"
            )
    for count in ROUTE_COUNTS:
        alone = asyncio.run(isolated(count, 10 * args.requests, args.rounds))
        q1, mid, q3 = statistics.quantiles(alone, n=4)
        spread = f"[{us(q1)} .. {us(q3)}]"
        print(f"app_support.metrics middleware alone, {count} routes: {us(mid)} {spread}")
    for other in VARIANTS[2:]:
        ratios = ", ".join(
            f"{c} routes {median[c][other] / ours:.1f}x"
            if (ours := median[c]["app_support.metrics"]) > 0
            else f"{c} routes n/a (ours below the noise)"
            for c in ROUTE_COUNTS
        )
        print(f"added latency of {other} / app_support.metrics: {ratios}")


if __name__ == "__main__":
    main()
