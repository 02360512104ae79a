"""Backup drill: PostgreSQL lost with its data volume, restored to a point in time.

Imports are written through the app, a full backup is taken (scripts/backup), more imports are
written, the time is noted, more are written; then the postgres and postgres-backup containers
and the data volume are destroyed and scripts/restore brings the database back to the noted time:
every import committed before it is there, none after.

Run against the deployed prod stack (scripts/up prod): pytest tests/drills/backup -m backup_drill.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.drills.app_client import AppClient, sales_csv
from tests.drills.backup.conftest import run_script, wait_ready
from tests.drills.stack_ops import IMPORT_COMPLETION_TIMEOUT, imports_in_database
from tests.infra.deployed import DeployedStack, wait_for

pytestmark = [pytest.mark.backup_drill, pytest.mark.timeout(900)]

ROWS = 25


def _psql(prod: DeployedStack, sql: str) -> str:
    return prod.sh(
        "postgres",
        'PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"'
        " -XAtqc %s",
        sql,
    ).strip()


def _write(prod: DeployedStack, client: AppClient, count: int, seed: int) -> list[str]:
    """Upload ``count`` imports and wait until each is completed: committed with its rows."""
    ids = []
    for i in range(count):
        reply = client.upload(sales_csv(ROWS, seed=seed + i))
        assert reply.status_code == 202, reply.text
        ids.append(str(reply.json()["import_id"]))

    def completed() -> bool | None:
        rows = imports_in_database(prod, ids)
        done = [i for i in ids if i in rows and rows[i].state == "completed"]
        return True if len(done) == len(ids) else None

    wait_for(f"{count} imports completed", completed, timeout=IMPORT_COMPLETION_TIMEOUT)
    return ids


def test_point_in_time_restore_after_losing_the_data_volume(
    prod: DeployedStack, client: AppClient, figures: dict[str, str]
) -> None:
    before_backup = _write(prod, client, 3, seed=100)
    backup = run_script("backup", "prod", "--type", "full", "--json")
    taken = json.loads(backup.stdout.strip().splitlines()[-1])
    before_target = _write(prod, client, 3, seed=200)

    # The target: after every import above committed, before any below. The WAL file it lies in
    # must reach the repository (at most archive_timeout later) to be restorable.
    time.sleep(1)
    target, wal_file = _psql(
        prod,
        "select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        " || ' ' || pg_walfile_name(pg_current_wal_lsn())",
    ).split()
    noted = time.monotonic()
    time.sleep(1)
    after_target = _write(prod, client, 3, seed=300)
    wait_for(
        f"WAL file {wal_file} archived",
        lambda: (
            _psql(prod, "select coalesce(last_archived_wal, '') from pg_stat_archiver") >= wal_file
            or None
        ),
        timeout=prod.settings.backup.archive_timeout_s + 120,
    )
    archived_after = time.monotonic() - noted

    # The disaster: the database server and its disk are gone (the repository volume is not).
    postgres, backup_container = prod.spec("postgres").name, prod.spec("postgres-backup").name
    data_volume = next(m.volume for m in prod.spec("postgres").volumes if m.path.endswith("/data"))
    prod.docker("rm", "--force", postgres, backup_container)
    prod.docker("volume", "rm", data_volume)

    restore = run_script("restore", "prod", "--to", target)

    committed = before_backup + before_target
    rows = imports_in_database(prod, committed + after_target)
    lost = [i for i in committed if i not in rows or rows[i].state != "completed"]
    short = [i for i in committed if i in rows and rows[i].sales != ROWS]
    resurrected = [i for i in after_target if i in rows]
    figures["postgres backup (full, scripts/backup)"] = (
        f"{backup.seconds:.1f} s wall ({taken['seconds']:.1f} s pgbackrest), database"
        f" {taken['size'] / 1e6:.1f} MB, stored {taken['stored'] / 1e6:.2f} MB compressed"
    )
    figures["postgres PITR restore (container + data volume destroyed, scripts/restore --to)"] = (
        f"{restore.seconds:.1f} s to every app container healthy"
    )
    figures["postgres PITR: WAL holding the target archived after"] = (
        f"{archived_after:.1f} s (archive_timeout {prod.settings.backup.archive_timeout_s} s)"
    )
    figures["postgres PITR: imports committed before the target lost"] = (
        f"{len(lost)} of {len(committed)}; after the target present: "
        f"{len(resurrected)} of {len(after_target)}"
    )
    assert not lost, f"imports committed before {target} missing after the restore: {lost}"
    assert not short, f"imports with missing sales rows: {short}"
    assert not resurrected, f"imports committed after {target} present: {resurrected}"

    # The restored database takes writes through the app, and the backups go on: Prometheus
    # scrapes the backup container again.
    _write(prod, client, 1, seed=400)
    scraped = wait_for(
        "Prometheus scraping postgres-backup's last backup time",
        lambda: (
            prod.promql('postgres_backup_last_success_timestamp_seconds{job="postgres-backup"}')
            or None
        ),
        timeout=120,
        interval=2,
    )
    assert float(scraped[0]["value"][1]) >= time.time() - 3600
    wait_ready(prod)
