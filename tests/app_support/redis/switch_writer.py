"""Writers that learn which node acknowledged each write, for switchover tests and benchmarks.

Each write is one plain command through the client (``EVAL``: SET the key, return the server's
``tcp_port``), so a test knows deterministically where every acknowledged write landed without
racing Sentinel's later conversion of the old master. Used by test_switch_follow.py and
benchmarks/redis_switchover.py.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

from redis.exceptions import RedisError

from app_support.redis import AsyncRedisClient, SyncRedisClient

__all__ = ["IDENTIFY", "AsyncWriter", "SyncWriter", "Write", "WriteLog"]

# SET KEYS[1] ARGV[1] and answer the port of the node that ran it (INFO is allowed in scripts).
IDENTIFY = (
    "redis.call('SET', KEYS[1], ARGV[1]) "
    "return string.match(redis.call('INFO', 'server'), 'tcp_port:(%d+)')"
)


@dataclass(frozen=True)
class Write:
    key: str
    started: float  # time.monotonic() before the call
    finished: float
    port: int | None  # the node that acknowledged it; None when the call raised


@dataclass
class WriteLog:
    writes: list[Write] = field(default_factory=list)

    @property
    def acknowledged(self) -> list[Write]:
        return [w for w in self.writes if w.port is not None]

    @property
    def failed(self) -> int:
        return sum(1 for w in self.writes if w.port is None)

    def started_after(self, moment: float) -> list[Write]:
        return [w for w in self.acknowledged if w.started > moment]

    def ports(self, writes: list[Write]) -> set[int]:
        return {w.port for w in writes if w.port is not None}

    def longest_gap(self, since: float) -> float:
        """Longest time without an acknowledgement from ``since`` to the last one."""
        times = sorted(w.finished for w in self.acknowledged if w.finished >= since)
        gaps = [b - a for a, b in zip([since, *times], times, strict=False)]
        return max(gaps, default=0.0)


class SyncWriter:
    """Writes ``prefix:n`` in a thread until ``stop()``; errors are recorded, not raised."""

    def __init__(self, client: SyncRedisClient, prefix: str = "w") -> None:
        self.client = client
        self.prefix = prefix
        self.log = WriteLog()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> SyncWriter:
        self._thread.start()
        return self

    def stop(self) -> WriteLog:
        self._stop.set()
        self._thread.join(30)
        return self.log

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            key = f"{self.prefix}:{n}"
            started = time.monotonic()
            port: int | None
            try:
                port = int(self.client.execute_command("EVAL", IDENTIFY, 1, key, n))
            except RedisError:
                port = None
                time.sleep(0.01)
            self.log.writes.append(Write(key, started, time.monotonic(), port))
            n += 1


class AsyncWriter:
    """``tasks`` concurrent writer tasks (one connection each) until ``stop()``."""

    def __init__(self, client: AsyncRedisClient, prefix: str = "w", tasks: int = 4) -> None:
        self.client = client
        self.prefix = prefix
        self.log = WriteLog()
        self._stopping = False
        self._count = tasks
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> AsyncWriter:
        self._tasks = [asyncio.create_task(self._run(i)) for i in range(self._count)]
        return self

    async def stop(self) -> WriteLog:
        self._stopping = True  # a flag: the tasks finish their write, never cancelled mid-call
        await asyncio.wait_for(asyncio.gather(*self._tasks), 30)
        return self.log

    async def _run(self, task: int) -> None:
        n = 0
        while not self._stopping:
            key = f"{self.prefix}:{task}:{n}"
            started = time.monotonic()
            port: int | None
            try:
                port = int(await self.client.execute_command("EVAL", IDENTIFY, 1, key, n))
            except RedisError:
                port = None
                await asyncio.sleep(0.01)
            self.log.writes.append(Write(key, started, time.monotonic(), port))
            n += 1
