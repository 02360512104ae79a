"""The drill's rule for which requests count (windows.py), without a stack."""

import pytest

from tests.drills.rollout.windows import Request, judge, replacement_windows

pytestmark = pytest.mark.rollout_drill

EVENTS = [
    {"at": 10.0, "service": "app-0", "kind": "replacing"},
    {"at": 20.0, "service": "app-0", "kind": "not-ready"},
    {"at": 20.0, "service": "app-0", "kind": "restoring"},
    {"at": 30.0, "service": "app-0", "kind": "restored"},
    {"at": 30.0, "service": "app-1", "kind": "replacing"},
]


def test_windows_run_from_replacing_to_ready_or_restored_and_an_open_one_to_the_end() -> None:
    assert replacement_windows(EVENTS, end=50.0) == {
        "app-0": [(10.0, 30.0)],
        "app-1": [(30.0, 50.0)],
    }


def test_only_requests_to_a_replica_outside_its_replacement_count() -> None:
    windows = replacement_windows(EVENTS, end=50.0)
    requests = [
        Request("app-0", 5.0, 6.0, ok=True),  # before: counts
        Request("app-0", 9.5, 10.5, ok=False),  # overlaps the start: skipped
        Request("app-0", 25.0, 25.1, ok=False),  # during: skipped
        Request("app-2", 25.0, 25.1, ok=False),  # another replica, during app-0's: counts
        Request("app-0", 31.0, 31.1, ok=True),  # after restore: counts
    ]
    verdict = judge(requests, windows)
    assert (verdict.serving_ok, verdict.skipped, verdict.skipped_failed) == (2, 2, 2)
    assert verdict.serving_failed == [requests[3]]
