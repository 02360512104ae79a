"""Helpers for the health tests: a clock the test moves and checks that count their calls."""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping

import pytest

from app_support.health import HealthHTTP, HealthResponse, HealthService, HealthSettings

_FACES: weakref.WeakKeyDictionary[HealthService, HealthHTTP] = weakref.WeakKeyDictionary()


async def respond(
    service: HealthService, path: str, **request: str | None
) -> HealthResponse | None:
    """`path` through the service's HTTP face (one face per service, as an adapter keeps one)."""
    face = _FACES.get(service)
    if face is None:
        face = _FACES[service] = HealthHTTP(service)
    return await face.respond(path, **request)  # type: ignore[arg-type]


class FakeClock:
    """A monotonic clock that only moves when the test says so (cache TTLs, breaker cool-downs)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CountingCheck:
    """An async check returning `result`, counting calls; `gate` (when set) holds every call."""

    def __init__(self, result: Mapping[str, object] | None = None) -> None:
        self.result: Mapping[str, object] = result or {"status": "healthy", "error": None}
        self.calls = 0
        self.delay = 0.0
        self.error: Exception | None = None

    async def __call__(self) -> Mapping[str, object]:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return self.result


class CountingSyncCheck:
    """A blocking check (runs in the health thread pool), counting calls across threads."""

    def __init__(self, result: Mapping[str, object] | None = None, *, delay: float = 0.0) -> None:
        self.result: Mapping[str, object] = result or {"status": "healthy", "error": None}
        self.delay = delay
        self.calls = 0
        self._lock = threading.Lock()
        self.release = threading.Event()
        self.release.set()

    def __call__(self) -> Mapping[str, object]:
        with self._lock:
            self.calls += 1
        self.release.wait(10)
        if self.delay:
            threading.Event().wait(self.delay)
        return self.result


def lifecycle(service: HealthService) -> str:
    """The service's lifecycle, read through a call so type checkers do not pin it."""
    return service.lifecycle.value


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_service(clock: FakeClock) -> Iterator[Callable[..., HealthService]]:
    """Builds a HealthService on the fake clock, without system checks unless asked."""
    services: list[HealthService] = []

    def make(*, system_checks: bool = False, **settings: object) -> HealthService:
        # Generous bounds: a loaded 2-core machine must not turn a slow thread hop into a
        # timeout. Tests about timeouts and deadlines set their own.
        settings.setdefault("deadline", 10)
        settings.setdefault("check_timeout", 10)
        service = HealthService(
            HealthSettings(**settings),  # type: ignore[arg-type]  # tests pass typed values
            system_checks=system_checks,
            clock=clock,
        )
        services.append(service)
        return service

    yield make
    for service in services:
        service.close()
