"""Waiting on work that may ignore a cancellation: stop flags and bounded waits.

redis-py 8.1 on Python 3.11 swallows a cancellation that lands while a command is being written
(the ``asyncio.wait_for`` around its socket write drops a cancel that arrives as the write
completes, CPython gh-86296): the cancelled task carries on as if nothing happened. A loop
cancelled there loops forever, and whoever awaits it waits forever. So the worker never stops a
task by cancelling it and waiting:

- loops check a flag (an ``asyncio.Event``) between steps, and each step is bounded by its own
  timeouts (Redis socket timeout and retry deadline, ``DATABASE_TIMEOUT``);
- the owner waits for a task a bounded time (``asyncio.wait`` with a timeout, which never
  cancels), and a task still running then is *abandoned*: kept referenced and its outcome logged
  when it ends, but not waited for.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

__all__ = ["Abandoned", "finished_unless", "sleep_unless"]

log = logging.getLogger(__name__)


async def sleep_unless(flag: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` or until ``flag`` is set; True when it is set."""
    if flag.is_set():
        return True
    waiter = asyncio.ensure_future(flag.wait())
    try:
        await asyncio.wait({waiter}, timeout=seconds)
    finally:
        waiter.cancel()  # Event.wait honours cancellation: nothing of redis-py in it
    return flag.is_set()


async def finished_unless(task: asyncio.Future[Any], flag: asyncio.Event, *, then: float) -> bool:
    """Wait for ``task``; once ``flag`` is set give it at most ``then`` more seconds.

    True when the task is done. Never cancels ``task``.
    """
    if not task.done() and not flag.is_set():
        waiter = asyncio.ensure_future(flag.wait())
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
    if not task.done():
        await asyncio.wait({task}, timeout=then)
    return task.done()


class Abandoned:
    """Tasks nobody waits for any more: referenced until they end (an unreferenced task may be
    garbage-collected mid-flight), their failure logged rather than lost."""

    def __init__(self) -> None:
        self._tasks: dict[asyncio.Future[Any], str] = {}

    def add(self, task: asyncio.Future[Any], what: str) -> None:
        log.warning("not waiting any longer for %s; it ends on its own timeouts", what)
        self._tasks[task] = what
        task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Future[Any]) -> None:
        what = self._tasks.pop(task, "a task")
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.warning("abandoned %s ended with %r", what, error)

    def __len__(self) -> int:
        return len(self._tasks)
