"""prometheus-client multiprocess mode: several worker processes, one aggregated scrape.

With ``PROMETHEUS_MULTIPROC_DIR`` set (before prometheus_client is imported), every worker writes
its counters, histograms and gauges to mmap files in that directory, and whichever worker answers a
scrape merges them (``MultiProcessCollector``). Collectors that read a value at scrape time (queue
stats, pool usage, process resources) have no files: they are collected live from the app's
registry in the scraping worker, so they still work in this mode.

Files of dead workers: the ``live*`` gauge files are removed (``mark_process_dead``) by the
gunicorn ``child_exit`` hook in :mod:`app_support.metrics.gunicorn_hooks`; and at every scrape, for
every pid that no longer runs (servers without such a hook, like uvicorn ``--workers``), the live
gauges go and the counter, histogram and summary values are folded into one archive file per type
(:mod:`app_support.metrics.compaction`), so counters never go backwards and files do not pile up.
The directory is emptied when the server starts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from app_support.metrics.compaction import compact_dead_workers, directory_lock

__all__ = [
    "MultiProcessView",
    "clear_multiprocess_dir",
    "exposition_registry",
    "worker_pids",
]

_DB_FILE = re.compile(r"_(\d+)\.db$")


def worker_pids(path: str) -> set[int]:
    """The pids that have written metric files in ``path`` (live or dead)."""
    return {int(m.group(1)) for name in os.listdir(path) if (m := _DB_FILE.search(name))}


def clear_multiprocess_dir(path: str | None = None) -> int:
    """Delete the metric files left by a previous run; call it before any worker starts.

    ``path`` defaults to ``PROMETHEUS_MULTIPROC_DIR``. Returns the number of files removed; raises
    ``ValueError`` when neither names a directory.
    """
    directory = path or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory or not os.path.isdir(directory):
        raise ValueError(
            "PROMETHEUS_MULTIPROC_DIR must name an existing directory "
            f"(example: PROMETHEUS_MULTIPROC_DIR=/tmp/metrics), got {directory!r}"
        )
    removed = 0
    for file in Path(directory).glob("*.db"):
        file.unlink(missing_ok=True)
        removed += 1
    return removed


class MultiProcessView:
    """The files of all workers, merged, plus the app registry's scrape-time collectors.

    A family of the app registry whose name the files also hold is this worker's share of a
    file-backed metric, so it is dropped in favour of the merged one.
    """

    def __init__(self, registry: Collector, path: str) -> None:
        self._registry = registry
        self._path = path
        self._files = MultiProcessCollector(None, path)  # type: ignore[no-untyped-call]

    def collect(self) -> Iterable[Metric]:
        with directory_lock(self._path):
            compact_dead_workers(self._path)
            merged: list[Metric] = list(self._files.collect())  # type: ignore[no-untyped-call]
        names = {metric.name for metric in merged}
        yield from merged
        for metric in self._registry.collect():
            if metric.name not in names:
                yield metric


def exposition_registry(registry: Collector, multiprocess_dir: str | None) -> Collector:
    """What the /metrics endpoint renders: ``registry`` itself, or the multiprocess view of it."""
    if multiprocess_dir is None:
        return registry
    exposed = CollectorRegistry()
    exposed.register(MultiProcessView(registry, multiprocess_dir))
    return exposed
