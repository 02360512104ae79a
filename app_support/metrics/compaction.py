"""Folding the multiprocess files of dead workers into one archive file per metric type.

prometheus-client keeps a dead worker's counter and histogram files so aggregated counters never go
backwards; with workers recycled (gunicorn ``max_requests``, crashes, uvicorn restarts) those files
pile up and every scrape reads all of them. Here the values of dead pids are added into
``counter_archive.db`` / ``histogram_archive.db`` / ``summary_archive.db`` (prometheus-client's
own merge, without accumulating buckets, is what it offers for writing merged data back) and the
dead files are deleted, so the directory holds one file per live worker and type plus the archives.

Callers hold :func:`directory_lock`, which scrapes of this package also take, so no scrape reads
the archive and a dead file while a worker's values move from one to the other.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

__all__ = ["ARCHIVED_TYPES", "compact_dead_workers", "dead_pids", "directory_lock"]

ARCHIVED_TYPES = ("counter", "histogram", "summary")
_PID_FILE = re.compile(r"^(?P<type>[a-z]+)(?:_[a-z]+)?_(?P<pid>\d+)\.db$")
_LOCK_FILE = ".compaction.lock"


@contextmanager
def directory_lock(path: str) -> Iterator[None]:
    """An exclusive lock on the multiprocess directory ``path``, across processes."""
    fd = os.open(os.path.join(path, _LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def dead_pids(path: str) -> set[int]:
    """Pids with metric files in ``path`` that no longer run."""
    pids = {int(m["pid"]) for name in os.listdir(path) if (m := _PID_FILE.match(name))}
    return {pid for pid in pids if not psutil.pid_exists(pid)}


def _archive(path: Path, typ: str, dead_files: list[Path]) -> None:
    archive = path / f"{typ}_archive.db"
    sources = [str(f) for f in dead_files] + ([str(archive)] if archive.exists() else [])
    merged = MultiProcessCollector.merge(sources, accumulate=False)  # type: ignore[no-untyped-call]
    temporary = path / f"{typ}_archive.db.tmp"  # not *.db: scrapes never read a half-written file
    temporary.unlink(missing_ok=True)
    target = MmapedDict(str(temporary))  # type: ignore[no-untyped-call]
    try:
        for metric in merged:
            for sample in metric.samples:
                key = mmap_key(
                    metric.name,
                    sample.name,
                    list(sample.labels),
                    list(sample.labels.values()),
                    metric.documentation,
                )
                target.write_value(key, sample.value, 0.0)  # type: ignore[no-untyped-call]
    finally:
        target.close()  # type: ignore[no-untyped-call]
    os.replace(temporary, archive)
    for file in dead_files:
        file.unlink(missing_ok=True)


def compact_dead_workers(path: str) -> set[int]:
    """Drop the live gauges of dead pids and fold their counters, histograms and summaries into
    the archive files; returns those pids. Hold :func:`directory_lock` around the call.

    Raises ``OSError`` when the directory cannot be read or written.
    """
    dead = dead_pids(path)
    directory = Path(path)
    for pid in dead:
        mark_process_dead(pid, path)  # type: ignore[no-untyped-call]
    for typ in ARCHIVED_TYPES:
        files = [directory / f"{typ}_{pid}.db" for pid in sorted(dead)]
        files = [file for file in files if file.exists()]
        if files:
            _archive(directory, typ, files)
    return dead
