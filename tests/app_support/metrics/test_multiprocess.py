"""Multiprocess mode with real worker processes sharing one PROMETHEUS_MULTIPROC_DIR."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry

from app_support.metrics import exposition_registry
from app_support.redis import RedisSettings, SyncJobQueue, create_client
from tests.app_support.metrics.scrape import value
from tests.servers.postgres_server import PostgresDatabase
from tests.servers.redis_nodes import RedisDeployment

ROOT = Path(__file__).resolve().parents[3]
START_TIMEOUT = 30.0
ROUNDS = 10
POOL_MAX_SIZE = 2


def record_in_another_process(directory: Path, code: str, *args: str) -> None:
    """Run ``code`` in a short-lived process writing metrics to ``directory``, and let it exit."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    program = "from prometheus_client import Counter, Gauge, Histogram\n" + code
    subprocess.run([sys.executable, "-c", program, *args], env=env, check=True, timeout=60)


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Gunicorn:
    process: subprocess.Popen[bytes]
    log: Path
    directory: Path
    queue: SyncJobQueue
    url: str = ""

    def worker_pids(self) -> list[int]:
        return [int(p) for p in re.findall(r"Booting worker with pid: (\d+)", self.log.read_text())]


@pytest.fixture
def gunicorn(
    tmp_path: Path, redis_standalone: RedisDeployment, postgres_database: PostgresDatabase
) -> Iterator[Gunicorn]:
    directory = tmp_path / "multiproc"
    directory.mkdir()
    # Counts left by a previous run: the server must start from a clean directory.
    record_in_another_process(
        directory,
        "Counter('http_requests_total', 'stale', ['method', 'route', 'status_code'])"
        ".labels('GET', '/work/{n}', '200').inc(1000)",
    )
    log = tmp_path / "gunicorn.log"
    namespace = f"metrics-multiprocess-{tmp_path.name}"
    redis_client = create_client(RedisSettings.from_env(redis_standalone.environ))
    queue = SyncJobQueue(redis_client, "import", namespace=namespace)
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "APP_ENV": "development",
        "APP_VERSION": "9.9.9",
        "QUEUE_NAMESPACE": namespace,
        **redis_standalone.environ,
        **postgres_database.environ,
        "DATABASE_CONNECTION_LIMIT": str(POOL_MAX_SIZE),
    }
    command = [
        sys.executable, "-m", "gunicorn",
        "--workers", "2",
        "--bind", "127.0.0.1:0",
        "--graceful-timeout", "2",
        "--config", "python:app_support.metrics.gunicorn_hooks",
        "tests.app_support.metrics.multiprocess_app:app",
    ]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=sink)
    server = Gunicorn(process, log, directory, queue)
    try:
        wait_for(lambda: "Listening at" in log.read_text() or process.poll() is not None, "bind")
        found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", log.read_text())
        assert found, log.read_text()
        server.url = found.group(1)
        wait_for(lambda: len(server.worker_pids()) >= 2, "two workers")
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        redis_client.close()


def serve_on_both_workers(url: str) -> set[int]:
    """Pairs of concurrent slow requests: each sync worker takes one request at a time."""
    pids: set[int] = set()
    with httpx.Client(timeout=30) as http, ThreadPoolExecutor(2) as pool:
        for round_ in range(ROUNDS):
            bodies = pool.map(lambda n: http.get(f"{url}/work/{n}").text, [round_, round_ + 100])
            pids.update(int(body) for body in bodies)
    return pids


def test_metrics_aggregate_across_gunicorn_workers(gunicorn: Gunicorn) -> None:
    for n in range(3):
        gunicorn.queue.enqueue({"file": f"{n}.csv"})
    served_by = serve_on_both_workers(gunicorn.url)
    assert len(served_by) == 2, "both workers should have served requests"

    scrape = httpx.get(f"{gunicorn.url}/metrics", timeout=30).text
    work = {"method": "GET", "route": "/work/{n}", "status_code": "200"}
    # Exactly this run's requests: the stale file's 1000 were cleared at start.
    assert value(scrape, "http_requests_total", **work) == 2 * ROUNDS
    assert value(scrape, "http_request_duration_seconds_count", **work) == 2 * ROUNDS
    assert value(scrape, "http_requests_in_progress", method="GET") == 0
    assert value(scrape, "build_info", version="9.9.9") == 1
    assert "pid=" not in "".join(line for line in scrape.splitlines() if "build_info" in line)
    # Read live from Redis and from the scraping worker's pool, not from multiprocess files.
    assert value(scrape, "queue_jobs", queue="import", state="waiting") == 3
    assert value(scrape, "queue_jobs", queue="import", state="failed") == 0
    assert value(scrape, "database_pool_connections_max", pool="default") == POOL_MAX_SIZE
    assert value(scrape, "database_pool_up", pool="default") == 1
    select = {"operation": "select", "table": "other"}
    assert value(scrape, "database_query_duration_seconds_count", **select) == 2 * ROUNDS
    for pid in served_by:
        memory = value(scrape, "process_resident_memory_bytes", pid=str(pid))
        assert memory is not None
        assert memory > 1_000_000


def test_a_dead_workers_live_gauges_go_and_its_counts_are_archived(gunicorn: Gunicorn) -> None:
    served_by = serve_on_both_workers(gunicorn.url)
    victim = min(served_by)
    os.kill(victim, signal.SIGKILL)

    def live_gauges_gone() -> bool:
        return not list(gunicorn.directory.glob(f"gauge_live*_{victim}.db"))

    wait_for(live_gauges_gone, "child_exit to remove the dead worker's live gauges")
    wait_for(lambda: len(gunicorn.worker_pids()) >= 3, "gunicorn to replace the worker")
    assert (gunicorn.directory / f"counter_{victim}.db").exists()

    scrape = httpx.get(f"{gunicorn.url}/metrics", timeout=30).text
    work = {"method": "GET", "route": "/work/{n}", "status_code": "200"}
    assert value(scrape, "http_requests_total", **work) == 2 * ROUNDS
    assert value(scrape, "http_request_duration_seconds_count", **work) == 2 * ROUNDS
    assert value(scrape, "process_resident_memory_bytes", pid=str(victim)) is None
    # The scrape folded the dead worker's files into the archives.
    assert not list(gunicorn.directory.glob(f"*_{victim}.db"))
    assert (gunicorn.directory / "counter_archive.db").exists()
    assert (gunicorn.directory / "histogram_archive.db").exists()


def test_scrape_folds_workers_that_died_without_a_hook(tmp_path: Path) -> None:
    """uvicorn --workers has no child_exit hook: the scrape itself cleans up after dead workers."""
    program = (
        "import sys\n"
        "Gauge('busy', 'in progress', multiprocess_mode='livesum').inc(5)\n"
        "Counter('done_total', 'done', ['kind']).labels('csv').inc(int(sys.argv[1]))\n"
        "Histogram('took_seconds', 'took', buckets=[1, 10]).observe(float(sys.argv[1]))\n"
    )
    record_in_another_process(tmp_path, program, "3")
    record_in_another_process(tmp_path, program, "4")
    assert len(list(tmp_path.glob("counter_*.db"))) == 2
    exposed = exposition_registry(CollectorRegistry(), str(tmp_path))

    for _ in range(2):  # the second scrape reads the archives alone
        assert value(exposed, "done_total", kind="csv") == 7
        assert value(exposed, "took_seconds_bucket", le="1.0") == 0
        assert value(exposed, "took_seconds_bucket", le="10.0") == 2
        assert value(exposed, "took_seconds_count") == 2
        assert value(exposed, "took_seconds_sum") == 7
        assert value(exposed, "busy") is None
        names = sorted(file.name for file in tmp_path.glob("*.db"))
        assert names == ["counter_archive.db", "histogram_archive.db"]

    record_in_another_process(tmp_path, program, "5")
    assert value(exposed, "done_total", kind="csv") == 12
    assert value(exposed, "took_seconds_count") == 3
