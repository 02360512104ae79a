"""Report bodies: the plan's "Enhanced Health Check Response" and the IETF application/health+json.

Pure functions of the check results: no I/O, no clock reads beyond the arguments.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from .check import Check, CheckResult
from .status import Status, worst

__all__ = [
    "HEALTH_JSON",
    "IETF_STATUS",
    "PlanRenderer",
    "compact_json",
    "health_json_report",
    "iso_timestamp",
    "overall_status",
    "plan_sections",
]

HEALTH_JSON = "application/health+json"
IETF_STATUS = {Status.HEALTHY: "pass", Status.DEGRADED: "warn", Status.UNHEALTHY: "fail"}


def iso_timestamp(moment: datetime) -> str:
    """ "2023-01-01T00:00:00.000Z": UTC, milliseconds, as in the plan."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def overall_status(checks: Sequence[Check], results: Mapping[str, CheckResult]) -> Status:
    """Worst critical status; a non-critical check can only make the whole degraded."""
    statuses = []
    for check in checks:
        status = results[check.name].status
        if not check.critical and status is Status.UNHEALTHY:
            status = Status.DEGRADED
        statuses.append(status)
    return worst(statuses)


def _nest(target: dict[str, object], dotted: str, block: object) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        child = target.setdefault(part, {})
        assert isinstance(child, dict)  # names are validated unique and non-overlapping
        target = child
    target[leaf] = block


def plan_sections(checks: Sequence[Check], results: Mapping[str, CheckResult]) -> dict[str, object]:
    """{services: {...}, system: {...}}, each present only when one of its checks was run."""
    sections: dict[str, object] = {}
    for name in ("services", "system"):
        section: dict[str, object] = {}
        for check in checks:
            if check.section == name:
                _nest(section, check.name, results[check.name].block)
        if section:
            sections[name] = section
    return sections


def compact_json(payload: Mapping[str, object]) -> str:
    return json.dumps(payload, separators=(",", ":"), default=str)


class PlanRenderer:
    """Bodies in the plan's format: {timestamp, status, version, uptime, services, system, ...}.

    The sections' JSON is kept while the results are the same objects (a cached result is), so a
    request served from cache only writes the few fields that change with time: the timestamp
    (its date and time to the second are kept too), the status and the uptime.
    """

    def __init__(self) -> None:
        self._results: tuple[CheckResult, ...] = ()
        self._results_map: Mapping[str, CheckResult] | None = None
        self._sections = ""
        self._version: tuple[str, str] = ("", '""')
        self._second: tuple[int, str] = (-1, "")

    def _timestamp(self, now: datetime) -> str:
        # iso_timestamp's text without its cost on every request: the part up to the second
        # is formatted once per second.
        if now.tzinfo is not UTC:
            return iso_timestamp(now)
        second = int(now.timestamp())
        if second != self._second[0]:
            self._second = (second, now.strftime("%Y-%m-%dT%H:%M:%S"))
        return f"{self._second[1]}.{now.microsecond // 1000:03d}Z"

    def _sections_json(self, checks: Sequence[Check], results: Mapping[str, CheckResult]) -> str:
        if results is self._results_map:
            return self._sections  # the runner's very mapping: the same result objects
        self._results_map = results
        current = tuple(results[check.name] for check in checks)
        same = len(current) == len(self._results) and all(
            a is b for a, b in zip(current, self._results, strict=True)
        )
        if not same:
            self._results, self._sections = (
                current,
                compact_json(plan_sections(checks, results))[1:-1],
            )
        return self._sections

    def render(
        self,
        *,
        checks: Sequence[Check],
        results: Mapping[str, CheckResult],
        status: Status,
        now: datetime,
        version: str,
        uptime: float,
        extra: Mapping[str, object] | None = None,
    ) -> bytes:
        if version != self._version[0]:
            self._version = (version, json.dumps(version))
        # The JSON of {timestamp, status, version, uptime}: none of these needs escaping but
        # the version, encoded once.
        head = '"timestamp":"%s","status":"%s","version":%s,"uptime":%d' % (  # noqa: UP031
            self._timestamp(now),
            status.value,
            self._version[1],
            int(uptime),
        )
        parts = [head, self._sections_json(checks, results)]
        if extra:
            parts.append(compact_json(extra)[1:-1])
        return ("{" + ",".join(part for part in parts if part) + "}").encode()


def _measurement(check: Check, block: Mapping[str, object]) -> tuple[str, object, str]:
    if check.section == "system":
        value = block.get("percentage", block.get("usage"))
        return "utilization", value, "percent"
    if "waiting" in block:
        return "backlog", block.get("waiting"), "jobs"
    return "responseTime", block.get("latency"), "ms"


def health_json_report(
    *,
    checks: Sequence[Check],
    results: Mapping[str, CheckResult],
    status: Status,
    now: datetime,
    version: str,
    uptime: float,
    service_id: str = "app",
) -> dict[str, object]:
    """The draft-inadarei-api-health-check body: pass/warn/fail and `checks` entries keyed
    "component:measurement" with observedValue, observedUnit and time."""
    entries: dict[str, object] = {
        "uptime": [
            {
                "componentType": "system",
                "observedValue": int(uptime),
                "observedUnit": "s",
                "status": "pass",
                "time": iso_timestamp(now),
            }
        ]
    }
    for check in checks:
        result = results[check.name]
        block = result.block
        measurement, value, unit = _measurement(check, block)
        entry: dict[str, object] = {
            "componentId": check.name,
            "componentType": "system" if check.section == "system" else "datastore",
            "observedValue": value,
            "observedUnit": unit,
            "status": IETF_STATUS[result.status],
            "time": iso_timestamp(result.checked_at),
        }
        if result.error:
            entry["output"] = result.error
        if result.stale:
            entry["stale"] = True
        entries[f"{check.name}:{measurement}"] = [entry]
    return {
        "status": IETF_STATUS[status],
        "version": version.split(".")[0],
        "releaseId": version,
        "serviceId": service_id,
        "checks": entries,
    }
