"""``python -m reference_app worker`` in a subprocess, for drills that signal or kill it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.servers.redis_nodes import free_port

__all__ = ["WorkerProcess"]


class WorkerProcess:
    """The worker with its output in ``log``; ``stop`` signals it and waits (bounded)."""

    def __init__(self, environ: dict[str, str], log: Path, *, lease: float) -> None:
        env = {**os.environ, **environ, "PORT": str(free_port())}
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "reference_app", "worker", "--job-lease", str(lease)],
                env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def signal(self, signum: int) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signum)

    def wait(self, timeout: float) -> tuple[int | None, float]:
        """(exit code or None when still running after ``timeout``, seconds waited)."""
        start = time.monotonic()
        try:
            code: int | None = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        return code, time.monotonic() - start

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")
