"""gunicorn server hooks for multiprocess metrics.

Use them from a gunicorn config file (``gunicorn -c python:app_support.metrics.gunicorn_hooks``, or
``from app_support.metrics.gunicorn_hooks import child_exit, on_starting`` in your own config).
Both do nothing unless ``PROMETHEUS_MULTIPROC_DIR`` is set.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client.multiprocess import mark_process_dead

from app_support.metrics.multiprocess import clear_multiprocess_dir

__all__ = ["child_exit", "on_starting"]


def on_starting(server: Any) -> None:
    """In the master, before any worker forks: drop the files of the previous run."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        clear_multiprocess_dir()


def child_exit(server: Any, worker: Any) -> None:
    """In the master, when a worker exits: remove its live gauges (in-progress, build info)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
