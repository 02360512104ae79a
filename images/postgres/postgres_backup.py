#!/usr/bin/python3
"""postgres-backup: pgBackRest base backups on a schedule, one on demand, and their metrics.

    postgres-backup serve --stanza S --full-every SECONDS --diff-every SECONDS --port PORT
    postgres-backup run --stanza S [--type full|diff|incr] [--json]
    postgres-backup info --stanza S

``serve`` (the backup container's command) creates the stanza once PostgreSQL answers on the
shared socket, then takes a full backup when the repository has none or the newest full one is
``--full-every`` old, and a differential one when the newest backup of any type is
``--diff-every`` old (0: never). The schedule is read from the repository itself, so a restarted
container neither repeats nor skips a backup. It serves Prometheus metrics on ``--port``:
read from the repository at each scrape (newest backup: end time, size, stored size, duration;
backups kept) and from the run log every ``run`` and ``serve`` updates (runs by type and result).

``run`` takes one backup now (scripts/backup); a run waits for one already under way. Exit 0 and
a summary line on success; exit 1 with pgBackRest's own error otherwise.

Runs inside the kit's postgres image (python3, python3-prometheus-client, pgbackrest) as the
postgres user; pgbackrest reads /etc/pgbackrest/pgbackrest.conf (stacks/model/conf/pgbackrest.py).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["BackupSummary", "due_backup", "main", "record_run", "summarise"]

REPO_DIR = Path(os.environ.get("PGBACKREST_REPO1_PATH", "/var/lib/pgbackrest"))
RUN_LOG = "ha-stack-backup-runs.json"
LOCK_FILE = Path("/tmp/postgres-backup.lock")  # noqa: S108 (per container, like pgBackRest's own)
POLL_S = 15.0
RETRY_AFTER_FAILURE_S = 60.0
TYPES = ("full", "diff", "incr")


@dataclass(frozen=True)
class BackupSummary:
    """The repository's newest backup and how many it keeps."""

    label: str
    type: str
    started: float
    stopped: float
    size: int  # the database as restored (bytes)
    stored: int  # what this backup added to the repository, compressed (bytes)
    count: int
    last_full_stopped: float | None

    @property
    def duration(self) -> float:
        return self.stopped - self.started


def summarise(backups: Sequence[Mapping[str, Any]]) -> BackupSummary | None:
    """The newest backup of pgBackRest's ``info --output=json`` backup list (None: none)."""
    if not backups:
        return None
    newest = max(backups, key=lambda b: b["timestamp"]["stop"])
    fulls = [b["timestamp"]["stop"] for b in backups if b["type"] == "full"]
    return BackupSummary(
        label=newest["label"],
        type=newest["type"],
        started=float(newest["timestamp"]["start"]),
        stopped=float(newest["timestamp"]["stop"]),
        size=int(newest["info"]["size"]),
        stored=int(newest["info"]["repository"]["delta"]),
        count=len(backups),
        last_full_stopped=float(max(fulls)) if fulls else None,
    )


def due_backup(
    summary: BackupSummary | None, now: float, full_every: float, diff_every: float
) -> str | None:
    """The backup type due at ``now`` (``full``, ``diff``) or None. A full one when there is no
    full backup or the newest is ``full_every`` old; a differential one when the newest backup
    of any type is ``diff_every`` old (0: never)."""
    if summary is None or summary.last_full_stopped is None:
        return "full"
    if now - summary.last_full_stopped >= full_every:
        return "full"
    if diff_every and now - summary.stopped >= diff_every:
        return "diff"
    return None


def record_run(log: Mapping[str, Any], backup_type: str, ok: bool, now: float) -> dict[str, Any]:
    """The run log with one more run: counts by type and result, and the last failure's time."""
    updated: dict[str, Any] = json.loads(json.dumps(log)) if log else {}
    result = "success" if ok else "failure"
    counts = updated.setdefault("runs", {}).setdefault(backup_type, {})
    counts[result] = int(counts.get(result, 0)) + 1
    updated[f"last_{result}"] = now
    return updated


# -- I/O ---------------------------------------------------------------------------------------
def _log(message: str) -> None:
    print(f"postgres-backup: {message}", flush=True)


def pgbackrest(stanza: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["pgbackrest", f"--stanza={stanza}", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def read_info(stanza: str) -> list[dict[str, Any]]:
    """The stanza's backups; RuntimeError with pgBackRest's message when info fails."""
    done = pgbackrest(stanza, "--output=json", "info")
    if done.returncode != 0:
        raise RuntimeError(f"pgbackrest info: {done.stderr.strip() or done.stdout.strip()}")
    stanzas: list[dict[str, Any]] = json.loads(done.stdout)
    return list(stanzas[0].get("backup", [])) if stanzas else []


def _run_log_path() -> Path:
    return REPO_DIR / RUN_LOG


def read_run_log() -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = json.loads(_run_log_path().read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return loaded


def _append_run(backup_type: str, ok: bool) -> None:
    path = _run_log_path()
    updated = record_run(read_run_log(), backup_type, ok, time.time())
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(updated))
    scratch.replace(path)


@contextlib.contextmanager
def _one_at_a_time() -> Iterator[None]:
    # pgBackRest refuses a second backup of a stanza at once; a run waits for the one under way.
    with LOCK_FILE.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def take_backup(stanza: str, backup_type: str) -> tuple[bool, float, str]:
    """One backup now: (ok, seconds taken, pgBackRest's output); recorded in the run log."""
    with _one_at_a_time():
        started = time.monotonic()
        done = pgbackrest(stanza, f"--type={backup_type}", "backup")
        took = time.monotonic() - started
        _append_run(backup_type, done.returncode == 0)
    return done.returncode == 0, took, (done.stdout + done.stderr).strip()


def _describe(summary: BackupSummary) -> str:
    return (
        f"{summary.type} backup {summary.label}: {summary.duration:.0f} s by pgBackRest's clock,"
        f" database {summary.size / 1e6:.1f} MB, stored {summary.stored / 1e6:.1f} MB;"
        f" {summary.count} backups kept"
    )


# -- metrics -----------------------------------------------------------------------------------
class BackupCollector:
    """Prometheus metrics read from the repository and the run log at each scrape."""

    def __init__(self, stanza: str) -> None:
        self.stanza = stanza

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        up = GaugeMetricFamily(
            "postgres_backup_repository_up", "1 when pgbackrest info reads the repository"
        )
        try:
            summary = summarise(read_info(self.stanza))
            up.add_metric([], 1)
        except (RuntimeError, ValueError, KeyError) as error:
            _log(f"metrics: {error}")
            summary = None
            up.add_metric([], 0)
        yield up
        if summary is not None:
            for name, help_text, value in (
                ("last_success_timestamp_seconds", "End of the newest backup (Unix time)",
                 summary.stopped),
                ("last_duration_seconds", "Duration of the newest backup", summary.duration),
                ("last_size_bytes", "Database size of the newest backup", summary.size),
                ("last_stored_bytes", "Bytes the newest backup added to the repository",
                 summary.stored),
                ("backups", "Backups kept in the repository", summary.count),
            ):  # fmt: skip
                gauge = GaugeMetricFamily(f"postgres_backup_{name}", help_text)
                gauge.add_metric([], value)
                yield gauge
        runs = CounterMetricFamily(
            "postgres_backup_runs",
            "Backups attempted, by type and result",
            labels=["type", "result"],
        )
        for backup_type, counts in sorted(read_run_log().get("runs", {}).items()):
            for result in ("success", "failure"):
                runs.add_metric([backup_type, result], int(counts.get(result, 0)))
        yield runs


# -- commands ----------------------------------------------------------------------------------
def _ensure_stanza(stanza: str) -> None:
    """Create the stanza (a no-op when it exists), retrying until PostgreSQL answers."""
    while True:
        done = pgbackrest(stanza, "stanza-create")
        if done.returncode == 0:
            _log(f"stanza {stanza} ready")
            return
        _log(f"stanza-create failed, retrying in 5 s: {done.stderr.strip() or done.stdout.strip()}")
        time.sleep(5)


def serve(stanza: str, full_every: float, diff_every: float, port: int) -> None:
    from prometheus_client import start_http_server
    from prometheus_client.core import REGISTRY

    REGISTRY.register(BackupCollector(stanza))
    start_http_server(port)
    _log(
        f"metrics on :{port}/metrics; full every {full_every:.0f} s, diff every {diff_every:.0f} s"
    )
    _ensure_stanza(stanza)
    while True:
        try:
            wanted = due_backup(summarise(read_info(stanza)), time.time(), full_every, diff_every)
        except RuntimeError as error:
            _log(str(error))
            wanted = None
        if wanted is None:
            time.sleep(POLL_S)
            continue
        _log(f"{wanted} backup due")
        ok, took, output = take_backup(stanza, wanted)
        if ok:
            _log(f"{wanted} backup done in {took:.1f} s")
        else:
            _log(f"{wanted} backup FAILED after {took:.1f} s, retrying in 60 s: {output[-2000:]}")
            time.sleep(RETRY_AFTER_FAILURE_S)


def run(stanza: str, backup_type: str, as_json: bool) -> int:
    ok, took, output = take_backup(stanza, backup_type)
    if not ok:
        print(f"postgres-backup: {backup_type} backup failed after {took:.1f} s:\n{output}",
              file=sys.stderr)  # fmt: skip
        return 1
    summary = summarise(read_info(stanza))
    assert summary is not None  # a backup just succeeded
    if as_json:
        print(json.dumps({"seconds": took, "label": summary.label, "type": summary.type,
                          "size": summary.size, "stored": summary.stored,
                          "backups": summary.count}))  # fmt: skip
    else:
        print(f"{_describe(summary)}; took {took:.1f} s")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="postgres-backup", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serving = commands.add_parser("serve", help="scheduled backups and their metrics")
    once = commands.add_parser("run", help="one backup now")
    info = commands.add_parser("info", help="the repository's backups (pgbackrest info)")
    for command in (serving, once, info):
        command.add_argument("--stanza", required=True)
    serving.add_argument("--full-every", type=float, required=True, help="seconds")
    serving.add_argument("--diff-every", type=float, required=True, help="seconds; 0: never")
    serving.add_argument("--port", type=int, required=True)
    once.add_argument("--type", choices=TYPES, default="full")
    once.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.stanza, args.full_every, args.diff_every, args.port)
        return 0
    if args.command == "run":
        return run(args.stanza, args.type, args.json)
    done = pgbackrest(args.stanza, "info")
    print(done.stdout.strip() or done.stderr.strip())
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
