"""Runs checks: concurrently, each under its own timeout, cached, single-flight, behind breakers.

All state lives on one event loop (the ASGI server's, or the WSGI adapter's background loop);
sync checks run in a small thread pool so they never block that loop.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from .breaker import BreakerState, CircuitBreaker
from .check import Check, CheckResult, result_from_mapping
from .sanitize import sanitize_error
from .settings import HealthSettings
from .status import Status

__all__ = ["CheckRunner"]


@dataclass
class _State:
    last: CheckResult | None = None
    expires_at: float = 0.0
    refresh: asyncio.Task[CheckResult] | None = None
    # A sync check that outlived its timeout keeps its thread; the next refresh waits for it
    # rather than piling up threads on a hung dependency.
    thread_call: Future[object] | None = None
    # A sync callable seen returning a coroutine (lambda: async_health(pool)) is then called on
    # the loop: creating a coroutine does not block, so the thread hop is wasted.
    returns_awaitable: bool = False
    breaker: CircuitBreaker | None = None


class CheckRunner:
    """Answers "what is the result of these checks now?" within `settings.deadline`.

    A fresh cached result is returned without any I/O. Otherwise one refresh per check is started
    (single flight: concurrent callers share it); callers wait for it until the deadline, after
    which they get the previous result marked stale (or an unhealthy "no result yet") while the
    refresh goes on. A check whose breaker is open is reported degraded without being called.

    While every result of a set of checks is fresh, `run` returns the very same mapping for the
    same `checks` tuple, so callers can reuse whatever they derived from it (the service its
    evaluation, the renderer its JSON) by identity. The mapping must not be modified.
    """

    def __init__(
        self, settings: HealthSettings, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._states: dict[str, _State] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._executor_pid = 0
        # id(checks) -> (checks, fresh until, results): the answer while nothing can change.
        self._fresh: dict[int, tuple[Sequence[Check], float, Mapping[str, CheckResult]]] = {}

    def state(self, check: Check) -> _State:
        state = self._states.get(check.name)
        if state is None:
            breaker = None
            if check.breaker:
                breaker = CircuitBreaker(
                    failure_threshold=self._settings.breaker_failures,
                    reset_timeout=self._settings.breaker_reset,
                )
            state = self._states[check.name] = _State(breaker=breaker)
        return state

    async def run(self, checks: Sequence[Check]) -> Mapping[str, CheckResult]:
        """The current result of every check, keyed by name, within the deadline."""
        now = self._clock()
        fresh = self._fresh.get(id(checks))
        if fresh is not None and fresh[0] is checks and now < fresh[1]:
            # The common case under load: no result can have changed since the last call (a
            # result only changes once it expires), so the same mapping is the answer.
            return fresh[2]
        results: dict[str, CheckResult] = {}
        pending: dict[str, asyncio.Task[CheckResult]] = {}
        for check in checks:
            ready = self._without_io(check, now)
            if ready is not None:
                results[check.name] = ready
            else:
                pending[check.name] = self._refresh_task(check)
        if pending:
            # asyncio.wait never cancels: a refresh that misses the deadline keeps running.
            done, _ = await asyncio.wait(pending.values(), timeout=self._settings.deadline)
            for check in checks:
                task = pending.get(check.name)
                if task is not None:
                    results[check.name] = task.result() if task in done else self._stale(check)
        self._keep(checks, results)
        return results

    def _keep(self, checks: Sequence[Check], results: Mapping[str, CheckResult]) -> None:
        """Remember `results` for `checks` until the first of them expires, when every one is
        the check's current result (not a stale one, nor an open circuit's built per call)."""
        fresh_until = float("inf")
        for check in checks:
            state = self._states[check.name]
            if results[check.name] is not state.last:
                return
            fresh_until = min(fresh_until, state.expires_at)
        if len(self._fresh) >= 8:  # a few views; or a caller building new tuples every time
            self._fresh.clear()
        self._fresh[id(checks)] = (checks, fresh_until, results)

    def close(self) -> None:
        """Stops the thread pool; a running sync check finishes in the background."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _without_io(self, check: Check, now: float) -> CheckResult | None:
        state = self.state(check)
        if state.last is not None and now < state.expires_at:
            return state.last
        if state.refresh is not None:
            return None
        if state.breaker is not None and not state.breaker.allow(now):
            return self._open_circuit(state)
        return None

    def _refresh_task(self, check: Check) -> asyncio.Task[CheckResult]:
        state = self.state(check)
        task = state.refresh
        # A task of another loop (a restarted server, a forked worker) will never finish here.
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            task = asyncio.create_task(self._refresh(check, state), name=f"health:{check.name}")
            state.refresh = task
        return task

    async def _refresh(self, check: Check, state: _State) -> CheckResult:
        try:
            return await self._probe(check, state)
        finally:
            if state.refresh is asyncio.current_task():  # also when cancelled at shutdown
                state.refresh = None

    async def _probe(self, check: Check, state: _State) -> CheckResult:
        checked_at = datetime.now(UTC)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(check.timeout):
                raw = await self._call(check, state)
            if check.transform is not None and isinstance(raw, Mapping):
                raw = check.transform(raw)
            result = result_from_mapping(
                raw, latency_ms=(time.perf_counter() - started) * 1000, checked_at=checked_at
            )
        except TimeoutError:
            result = self._failure(
                f"timed out after {check.timeout:g}s", started=started, checked_at=checked_at
            )
        except Exception as exc:
            result = self._failure(f"{type(exc).__name__}: {exc}", started, checked_at)
        now = self._clock()
        if state.breaker is not None:
            if result.status is Status.UNHEALTHY:
                state.breaker.record_failure(now)
            else:
                state.breaker.record_success()
            result = replace(result, circuit=state.breaker.state.value)
        ttl = self._settings.failure_ttl
        if result.status is not Status.UNHEALTHY:
            ttl = self._settings.success_ttl
        state.last, state.expires_at = result, now + ttl
        return result

    async def _call(self, check: Check, state: _State) -> object:
        if check.is_async or state.returns_awaitable:
            value: object = check.func()
        else:
            if state.thread_call is None or state.thread_call.done():
                state.thread_call = self._pool().submit(check.func)
            value = await asyncio.wrap_future(state.thread_call)
            state.returns_awaitable = inspect.isawaitable(value)
        if inspect.isawaitable(value):
            value = await value
        return value

    def _pool(self) -> ThreadPoolExecutor:
        # A forked worker (gunicorn --preload) inherits no threads: start a new pool there.
        if self._executor is None or self._executor_pid != os.getpid():
            self._executor = ThreadPoolExecutor(
                max_workers=self._settings.check_threads, thread_name_prefix="health-check"
            )
            self._executor_pid = os.getpid()
        return self._executor

    @staticmethod
    def _failure(message: str, started: float, checked_at: datetime) -> CheckResult:
        return CheckResult(
            status=Status.UNHEALTHY,
            fields={"error": sanitize_error(message)},
            latency_ms=(time.perf_counter() - started) * 1000,
            checked_at=checked_at,
        )

    def _stale(self, check: Check) -> CheckResult:
        last = self.state(check).last
        if last is not None:
            return replace(last, stale=True)
        return CheckResult(
            status=Status.UNHEALTHY,
            fields={"error": f"no result within the {self._settings.deadline:g}s deadline yet"},
            latency_ms=self._settings.deadline * 1000,
            checked_at=datetime.now(UTC),
            stale=True,
        )

    @staticmethod
    def _open_circuit(state: _State) -> CheckResult:
        # Degraded, not unhealthy: an open breaker must not pull every instance out of the
        # load balancer at once.
        last = state.last
        fields: Mapping[str, object] = {} if last is None else last.fields
        reason = "circuit breaker open: dependency not probed during the cool-down"
        if last is not None and last.error:
            reason = f"{reason}; last error: {last.error}"
        return CheckResult(
            status=Status.DEGRADED,
            fields={**fields, "error": sanitize_error(reason)},
            latency_ms=0.0 if last is None else last.latency_ms,
            checked_at=datetime.now(UTC) if last is None else last.checked_at,
            circuit=BreakerState.OPEN.value,
        )
