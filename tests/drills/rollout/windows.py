"""What "no request fails on the replicas still serving" means, as a pure function.

A rolling update takes one replica out at a time. A load balancer polling readiness stops
sending to it, so a client may skip the replica being replaced: from the moment the rollout
starts replacing it (``replacing``) until it is ready again (``ready``) or back on its old version
(``restored`` / ``not-restored``), requests to that replica do not count. Every other request,
to any replica at any time, must succeed. A request counts as "during" a window when the two
overlap at all (sent before the replacement began but answered after it, too).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Request", "Verdict", "judge", "replacement_windows"]

_OPENS = "replacing"
_CLOSES = ("ready", "restored", "not-restored")


@dataclass(frozen=True)
class Request:
    """One request of the load: to ``service``'s port, sent and answered (``time.time()``)."""

    service: str
    sent: float
    answered: float
    ok: bool
    status: int = 0  # the HTTP status; 0: no answer (refused, reset, timed out)


@dataclass(frozen=True)
class Verdict:
    serving_ok: int
    serving_failed: list[Request]
    skipped: int  # requests to a replica while it was being replaced (not counted)
    skipped_failed: int


def replacement_windows(
    events: Iterable[Mapping[str, object]], end: float
) -> dict[str, list[tuple[float, float]]]:
    """service -> [(start, end)] of each replacement in the rollout's events (JSON lines of
    scripts/rollout --events); a window still open at the end closes at ``end``."""
    windows: dict[str, list[tuple[float, float]]] = {}
    opened: dict[str, float] = {}
    for event in events:
        service, kind, at = str(event["service"]), event["kind"], float(str(event["at"]))
        if kind == _OPENS and service not in opened:
            opened[service] = at
        elif kind in _CLOSES and service in opened:
            windows.setdefault(service, []).append((opened.pop(service), at))
    for service, start in opened.items():
        windows.setdefault(service, []).append((start, end))
    return windows


def judge(requests: Sequence[Request], windows: Mapping[str, list[tuple[float, float]]]) -> Verdict:
    """Split the requests into those to replicas still serving and those skipped."""
    serving_ok, serving_failed, skipped, skipped_failed = 0, [], 0, 0
    for request in requests:
        during = any(
            request.sent <= end and request.answered >= start
            for start, end in windows.get(request.service, [])
        )
        if during:
            skipped += 1
            skipped_failed += not request.ok
        elif request.ok:
            serving_ok += 1
        else:
            serving_failed.append(request)
    return Verdict(serving_ok, serving_failed, skipped, skipped_failed)
