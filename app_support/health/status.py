"""The three health states, how they combine and which HTTP status each one answers with."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

__all__ = ["Status", "http_status", "parse_status", "worst"]


class Status(StrEnum):
    """A check's or a report's state, ordered from best to worst."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


_BY_RANK = (Status.HEALTHY, Status.DEGRADED, Status.UNHEALTHY)
_RANK = {status: rank for rank, status in enumerate(_BY_RANK)}


def parse_status(value: object) -> Status:
    """The `Status` named by `value`.

    Raises `ValueError` when `value` is not one of "healthy", "degraded", "unhealthy".
    """
    if isinstance(value, Status):
        return value
    if isinstance(value, str):
        try:
            return Status(value.lower())
        except ValueError:
            pass
    raise ValueError(f"health status must be 'healthy', 'degraded' or 'unhealthy'; got {value!r}")


def worst(statuses: Iterable[Status]) -> Status:
    """The worst of `statuses`; healthy when there are none."""
    return _BY_RANK[max(map(_RANK.__getitem__, statuses), default=0)]


def http_status(status: Status) -> int:
    """200 for healthy and degraded (a degraded instance still serves), 503 for unhealthy."""
    return 503 if status is Status.UNHEALTHY else 200
