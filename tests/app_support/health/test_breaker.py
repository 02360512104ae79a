"""Circuit breaker transitions: closed -> open -> half-open -> closed or open again."""

from __future__ import annotations

import pytest

from app_support.health import CircuitBreaker


def test_opens_after_consecutive_failures_only() -> None:
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout=10)
    breaker.record_failure(0)
    breaker.record_failure(1)
    breaker.record_success()  # a success resets the count
    breaker.record_failure(2)
    breaker.record_failure(3)
    assert breaker.state.value == "closed"
    breaker.record_failure(4)
    assert breaker.state.value == "open"
    assert not breaker.allow(13.9)


def test_half_open_probe_closes_on_success() -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=10)
    breaker.record_failure(0)
    assert breaker.allow(10)
    assert breaker.state.value == "half_open"
    breaker.record_success()
    assert breaker.state.value == "closed"


def test_half_open_probe_reopens_on_failure_for_a_new_cool_down() -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=10)
    breaker.record_failure(0)
    breaker.record_failure(0)
    assert breaker.allow(10)
    breaker.record_failure(10)  # one failure is enough in half-open
    assert breaker.state.value == "open"
    assert not breaker.allow(19)
    assert breaker.allow(20)


def test_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker(failure_threshold=0, reset_timeout=1)
    with pytest.raises(ValueError, match="reset_timeout"):
        CircuitBreaker(failure_threshold=1, reset_timeout=0)
