"""A circuit breaker per external dependency: stop probing a dependency that keeps failing."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["BreakerState", "CircuitBreaker"]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Closed until `failure_threshold` consecutive failures, then open for `reset_timeout` seconds.

    After the cool-down one probe is let through (half-open): a success closes the breaker, a
    failure opens it for another cool-down. Times are read from the caller (`now`) so the owner's
    clock drives every transition. Not thread-safe: the health runner uses it from one event loop.
    """

    def __init__(self, *, failure_threshold: int, reset_timeout: float) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1, e.g. 3; got {failure_threshold!r}")
        if reset_timeout <= 0:
            raise ValueError(f"reset_timeout must be > 0 seconds, e.g. 30; got {reset_timeout!r}")
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.failures = 0
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0

    @property
    def state(self) -> BreakerState:
        return self._state

    def allow(self, now: float) -> bool:
        """Whether a probe may run now; moves an open breaker to half-open after the cool-down."""
        if self._state is BreakerState.OPEN:
            if now - self._opened_at < self.reset_timeout:
                return False
            self._state = BreakerState.HALF_OPEN
        return True

    def record_success(self) -> None:
        self.failures = 0
        self._state = BreakerState.CLOSED

    def record_failure(self, now: float) -> None:
        self.failures += 1
        if self._state is BreakerState.HALF_OPEN or self.failures >= self.failure_threshold:
            self._state = BreakerState.OPEN
            self._opened_at = now
