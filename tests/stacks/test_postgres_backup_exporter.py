"""The backup container's program (images/postgres/postgres_backup.py): the schedule, the run log
and the metrics, from pgBackRest's ``info --output=json`` as 2.45 prints it. No pgBackRest here:
the deploy drill (tests/drills/backup) runs the real one."""

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

SCRIPT = Path(__file__).resolve().parents[2] / "images" / "postgres" / "postgres_backup.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("postgres_backup", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["postgres_backup"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


backup = _load()


def _backup(label: str, kind: str, start: int, stop: int, size: int, delta: int) -> dict[str, Any]:
    return {
        "label": label,
        "type": kind,
        "timestamp": {"start": start, "stop": stop},
        "info": {"size": size, "delta": size, "repository": {"size": delta, "delta": delta}},
    }


FULL = _backup("20261201-100000F", "full", 1000, 1012, 30_000_000, 4_000_000)
DIFF = _backup("20261201-100000F_20261201-110000D", "diff", 4600, 4603, 30_100_000, 90_000)


def test_the_newest_backup_and_the_last_full_one() -> None:
    summary = backup.summarise([FULL, DIFF])
    assert (summary.label, summary.type, summary.stopped) == (DIFF["label"], "diff", 4603.0)
    assert (summary.size, summary.stored, summary.count) == (30_100_000, 90_000, 2)
    assert summary.duration == 3.0
    assert summary.last_full_stopped == 1012.0
    assert backup.summarise([]) is None


@pytest.mark.parametrize(
    ("backups", "now", "due"),
    [
        ([], 0, "full"),  # an empty repository: a full one at once
        ([DIFF], 5000, "full"),  # only a differential one (its full one expired)
        ([FULL], 1012 + 86400, "full"),
        ([FULL], 1012 + 3599, None),
        ([FULL], 1012 + 3600, "diff"),
        ([FULL, DIFF], 4603 + 3599, None),  # the diff counts from the newest backup
        ([FULL, DIFF], 4603 + 3600, "diff"),
    ],
)
def test_which_backup_is_due(backups: list[dict[str, Any]], now: int, due: str | None) -> None:
    assert backup.due_backup(backup.summarise(backups), now, 86400, 3600) == due


def test_no_differential_backups_when_their_interval_is_zero() -> None:
    assert backup.due_backup(backup.summarise([FULL]), 1012 + 86399, 86400, 0) is None


def test_the_run_log_counts_by_type_and_result() -> None:
    log = backup.record_run({}, "full", True, 10.0)
    log = backup.record_run(log, "full", False, 20.0)
    log = backup.record_run(log, "diff", True, 30.0)
    assert log == {
        "runs": {"full": {"success": 1, "failure": 1}, "diff": {"success": 1}},
        "last_success": 30.0,
        "last_failure": 20.0,
    }
    assert json.loads(json.dumps(log)) == log


def _scrape(monkeypatch: pytest.MonkeyPatch, info: Any, log: dict[str, Any]) -> str:
    def read_info(stanza: str) -> list[dict[str, Any]]:
        assert stanza == "prod"
        if isinstance(info, Exception):
            raise info
        return list(info)

    monkeypatch.setattr(backup, "read_info", read_info)
    monkeypatch.setattr(backup, "read_run_log", lambda: log)
    registry = CollectorRegistry()
    registry.register(backup.BackupCollector("prod"))
    return generate_latest(registry).decode()


def test_metrics_from_the_repository_and_the_run_log(monkeypatch: pytest.MonkeyPatch) -> None:
    log = backup.record_run(backup.record_run({}, "full", True, 1.0), "diff", False, 2.0)
    text = _scrape(monkeypatch, [FULL, DIFF], log)
    for line in (
        "postgres_backup_repository_up 1.0",
        "postgres_backup_last_success_timestamp_seconds 4603.0",
        "postgres_backup_last_duration_seconds 3.0",
        "postgres_backup_last_size_bytes 3.01e+07",
        "postgres_backup_last_stored_bytes 90000.0",
        "postgres_backup_backups 2.0",
        'postgres_backup_runs_total{result="success",type="full"} 1.0',
        'postgres_backup_runs_total{result="failure",type="full"} 0.0',
        'postgres_backup_runs_total{result="failure",type="diff"} 1.0',
    ):
        assert line in text.splitlines(), (line, text)


def test_an_unreadable_repository_is_a_metric_not_a_failed_scrape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = _scrape(monkeypatch, RuntimeError("pgbackrest info: stanza missing"), {})
    assert "postgres_backup_repository_up 0.0" in text.splitlines()
    assert "postgres_backup_last_success_timestamp_seconds" not in text
