"""What a check is (the callable contract) and what one run of it produced."""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Literal

from .sanitize import sanitize_error
from .status import Status, parse_status

__all__ = ["Check", "CheckFunc", "CheckResult", "Section", "result_from_mapping"]

CheckFunc = Callable[[], Mapping[str, object] | Awaitable[Mapping[str, object]]]
"""A sync or async callable with no arguments returning {"status": ..., <fields>}.

Raising means unhealthy."""

Section = Literal["services", "system"]
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$")


@dataclass(frozen=True, kw_only=True)
class Check:
    """A registered check: `name` is its place in the report ("queues.import" nests).

    `critical` checks decide readiness; a non-critical failure only degrades the report.
    `breaker` guards an external dependency with a circuit breaker. `transform` maps what `func`
    returned to the block (queue stats to a queue block, pool thresholds); raising is unhealthy.
    """

    name: str
    func: CheckFunc
    section: Section = "services"
    critical: bool = False
    breaker: bool = True
    timeout: float = 0.5
    transform: Callable[[Mapping[str, object]], Mapping[str, object]] | None = None
    is_async: bool = field(init=False)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(
                f"check name must be dotted identifiers, e.g. 'queues.import'; got {self.name!r}"
            )
        if not callable(self.func):
            raise TypeError(f"check {self.name!r}: func must be a callable with no arguments")
        if self.section not in ("services", "system"):
            raise ValueError(f"check {self.name!r}: section must be 'services' or 'system'")
        if not 0 < self.timeout <= 30:
            raise ValueError(f"check {self.name!r}: timeout must be in (0, 30] seconds, e.g. 0.5")
        call = getattr(self.func, "__call__", None)  # noqa: B004 - async callable objects
        is_async = inspect.iscoroutinefunction(self.func) or inspect.iscoroutinefunction(call)
        object.__setattr__(self, "is_async", is_async)


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    """One outcome of a check: its status, its block's other fields, and how it was obtained.

    `stale` marks a previous result served because the refresh missed the deadline; `circuit`
    is the dependency's breaker state when it has one.
    """

    status: Status
    fields: Mapping[str, object]
    latency_ms: float
    checked_at: datetime
    stale: bool = False
    circuit: str | None = None

    @property
    def error(self) -> str | None:
        value = self.fields.get("error")
        return None if value is None else str(value)

    @cached_property
    def block(self) -> Mapping[str, object]:
        """The report block: status first, the check's fields, latency, and the stale mark.

        Built once per result: a cached result answers many requests.
        """
        out: dict[str, object] = {"status": self.status.value, **self.fields}
        latency = out.get("latency")
        if isinstance(latency, bool) or not isinstance(latency, int | float):
            out["latency"] = round(self.latency_ms, 1)
        out.setdefault("error", None)
        if self.stale:
            out["stale"] = True
        if self.circuit is not None and self.circuit != "closed":
            out["circuit"] = self.circuit
        return out


def result_from_mapping(raw: object, *, latency_ms: float, checked_at: datetime) -> CheckResult:
    """The `CheckResult` for what a check returned; a malformed return value is unhealthy."""
    if not isinstance(raw, Mapping):
        return CheckResult(
            status=Status.UNHEALTHY,
            fields={"error": f"check returned {type(raw).__name__}, expected a mapping"},
            latency_ms=latency_ms,
            checked_at=checked_at,
        )
    fields = {str(k): v for k, v in raw.items() if k != "status"}
    try:
        status = parse_status(raw.get("status"))
    except ValueError as exc:
        status, fields["error"] = Status.UNHEALTHY, str(exc)
    if "error" in fields:
        fields["error"] = sanitize_error(fields["error"])
    return CheckResult(status=status, fields=fields, latency_ms=latency_ms, checked_at=checked_at)
