"""Pooled queries vs a new connection per request, and the pool's own overhead, in one run.

Part 1 runs one request handler (take a connection, run a one-row query, give it back) with two
connection sources: ``DatabasePool.connection()`` and ``psycopg.connect()`` with the same settings
(a new TCP connection, SCRAM authentication and backend start per request). Part 2 measures what
the pool adds per checkout: a ``SELECT 1`` on one held raw psycopg connection, against the same
query through a psycopg_pool ``ConnectionPool.connection()`` and through app_support's
``DatabasePool.connection()`` (socket poll, statistics, query timing with a hook). Batches of the
variants alternate, with the garbage collector paused inside a batch; figures are the best (lowest)
over the rounds of the mean time per request, the round least disturbed by other processes.

Without DATABASE_URL a throwaway PostgreSQL 15 server is started on a free loopback port.

    .venv/bin/python benchmarks/postgres_pool.py [--requests 200] [--rounds 7]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app_support.postgres import DatabasePool, DatabaseSettings
from tests.servers.postgres_server import launch_postgres

QUERY = "SELECT relname FROM pg_class WHERE oid = %s"
ConnectionSource = Callable[[], AbstractContextManager[psycopg.Connection[Any]]]


def handle_request(connection: ConnectionSource) -> None:
    """The same app code for every variant: one connection, one query."""
    with connection() as conn:
        conn.execute(QUERY, (1259,)).fetchone()


def mean_seconds(run: Callable[[], None], requests: int) -> float:
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(requests):
            run()
        return (time.perf_counter() - start) / requests
    finally:
        gc.enable()


def compare(
    variants: dict[str, Callable[[], None]], requests: dict[str, int], rounds: int
) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, run in variants.items():
            samples[name].append(mean_seconds(run, requests[name]))
    return {name: min(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per batch")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    server = None
    if "DATABASE_URL" in os.environ:
        environ: dict[str, str] = dict(os.environ)
    else:
        server = launch_postgres()
        environ = server.environ
    try:
        run(DatabaseSettings.from_env(environ, tables=["pg_class"]), args.requests, args.rounds)
    finally:
        if server is not None:
            server.teardown()


def run(settings: DatabaseSettings, requests: int, rounds: int) -> None:
    kwargs = settings.connection_kwargs()
    observed: list[float] = []

    def hook(operation: str, table: str, seconds: float, failed: bool) -> None:
        observed.append(seconds)

    @contextmanager
    def new_connection() -> Iterator[psycopg.Connection[Any]]:
        with psycopg.connect(settings.url, **kwargs) as conn:
            yield conn

    with (
        DatabasePool(settings, on_query=hook) as pool,
        ConnectionPool(settings.url, kwargs=kwargs, min_size=1, max_size=1) as plain_pool,
        psycopg.connect(settings.url, **kwargs) as held,
    ):
        plain_pool.wait()
        print(f"PostgreSQL {held.info.server_version}, pool max_size={settings.max_size}, "
              f"best of {rounds} rounds of per-request means")  # fmt: skip

        # Part 1: connect-per-request costs milliseconds, so it gets a tenth of the requests.
        part1 = compare(
            {"pooled": lambda: handle_request(pool.connection),
             "new connection": lambda: handle_request(new_connection)},
            {"pooled": requests * 10, "new connection": requests},
            rounds,
        )  # fmt: skip
        ratio = part1["new connection"] / part1["pooled"]
        print("\n1. request = checkout + one-row query + return")
        for name, seconds in part1.items():
            print(f"   {name:<16} {seconds * 1e6:9.1f} us/request  {1 / seconds:9.0f} requests/s")
        print(f"   pooled is {ratio:.1f}x faster (requests/s pooled / unpooled)")

        def raw() -> None:
            # The pool commits on return; the held connection does the same work.
            held.execute("SELECT 1").fetchone()
            held.commit()

        def psycopg_pool_checkout() -> None:
            with plain_pool.connection() as conn:
                conn.execute("SELECT 1").fetchone()

        def app_support_checkout() -> None:
            with pool.connection() as conn:
                conn.execute("SELECT 1").fetchone()

        part2 = compare(
            {"held connection": raw, "psycopg_pool": psycopg_pool_checkout,
             "app_support pool": app_support_checkout},
            dict.fromkeys(("held connection", "psycopg_pool", "app_support pool"), requests * 10),
            rounds,
        )  # fmt: skip
        base = part2["held connection"]
        print("\n2. SELECT 1 + commit, per request")
        for name, seconds in part2.items():
            added = (seconds - base) * 1e6
            print(
                f"   {name:<18} {seconds * 1e6:8.1f} us  (+{added:6.1f} us, {seconds / base:.2f}x)"
            )
        ours = (part2["app_support pool"] - part2["psycopg_pool"]) * 1e6
        print(f"   app_support adds {ours:.1f} us per checkout over psycopg_pool")
        assert observed, "the on_query hook saw no query"


if __name__ == "__main__":
    main()
