"""Backup drill: the job queues come back from an RDB copy after Redis lost everything.

With the workers stopped, imports are uploaded (their jobs wait in the queue); an RDB copy is
taken on a replica (scripts/redis-backup), every key is dropped (FLUSHALL on the master, which the
replicas follow: a full Redis loss), and the copy is restored key by key into the running
master (scripts/redis-backup --restore). Every queue key is back with the same content, and the
workers, started again, complete the jobs.

Run against the deployed prod stack (scripts/up prod): pytest tests/drills/backup -m backup_drill.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.drills.app_client import AppClient, sales_csv
from tests.drills.backup.conftest import run_script, wait_ready
from tests.drills.stack_ops import IMPORT_COMPLETION_TIMEOUT, imports_in_database
from tests.infra.deployed import DeployedStack, wait_for

pytestmark = [pytest.mark.backup_drill, pytest.mark.timeout(900)]

JOBS = 5
# Every key matching ARGV[1] with a digest of its content in a canonical order (hash fields and
# set members sorted): DUMP's bytes also carry the encoding, which differs between nodes holding
# the same value (a hash listpack's field order follows the writes that built it).
_DIGESTS = """
local function content(key)
  local kind = redis.call("TYPE", key)["ok"]
  local items
  if kind == "string" then items = {redis.call("GET", key)}
  elseif kind == "list" then items = redis.call("LRANGE", key, 0, -1)
  elseif kind == "zset" then items = redis.call("ZRANGE", key, 0, -1, "WITHSCORES")
  elseif kind == "set" then items = redis.call("SMEMBERS", key); table.sort(items)
  elseif kind == "hash" then
    local flat, pairs_ = redis.call("HGETALL", key), {}
    for i = 1, #flat, 2 do table.insert(pairs_, flat[i] .. "\\0" .. flat[i + 1]) end
    table.sort(pairs_)
    items = pairs_
  else return nil end
  return kind .. "\\0" .. table.concat(items, "\\0")
end
local out, cursor = {}, "0"
repeat
  local reply = redis.call("SCAN", cursor, "MATCH", ARGV[1], "COUNT", 1000)
  cursor = reply[1]
  for _, key in ipairs(reply[2]) do
    local value = content(key)
    if value then table.insert(out, key); table.insert(out, redis.sha1hex(value)) end
  end
until cursor == "0"
return out
"""


def _enqueue(client: AppClient, csv: bytes) -> str:
    """Upload until accepted (202); the import's id. A 503 (the app's Redis breaker open, e.g.
    just after the PostgreSQL drill restarted it) or 429 is retried after its Retry-After."""

    def accepted() -> str | None:
        reply = client.upload(csv)
        if reply.status_code in (429, 503):
            time.sleep(float(reply.headers.get("Retry-After", "1")))
            return None
        assert reply.status_code == 202, reply.text
        return str(reply.json()["import_id"])

    return wait_for("an upload accepted", accepted, timeout=120)


def _digests(prod: DeployedStack, service: str, pattern: str) -> dict[str, str]:
    lines = prod.redis_cli(service, "EVAL", _DIGESTS, "0", pattern).splitlines()
    return dict(zip(lines[0::2], lines[1::2], strict=True))


def test_queues_restored_key_by_key_from_a_replica_rdb(
    prod: DeployedStack, client: AppClient, figures: dict[str, str], tmp_path: Path
) -> None:
    workers = [prod.spec(s).name for s in prod.services("app", command="worker")]
    master = prod.redis_service_at(prod.master_address())
    prod.docker("stop", *workers)
    try:
        ids = [_enqueue(client, sales_csv(10, seed=500 + i)) for i in range(JOBS)]
        queued = _digests(prod, master, "queue:*")
        waiting = int(prod.redis_cli(master, "LLEN", "queue:{import}:waiting"))
        assert waiting >= JOBS, f"{waiting} jobs waiting, {JOBS} uploaded"
        total_before = int(prod.redis_cli(master, "DBSIZE"))

        backup = run_script("redis-backup", "prod", "--out", str(tmp_path))
        (dump,) = tmp_path.glob("redis-prod-*.rdb")

        prod.redis_cli(master, "FLUSHALL", "SYNC")
        assert _digests(prod, master, "queue:*") == {}

        restore = run_script("redis-backup", "prod", "--restore", str(dump))
        restored = _digests(prod, master, "queue:*")
        replica = next(s for s in prod.services("redis", command="server") if s != master)
        on_replica = wait_for(
            "the restored keys on a replica",
            lambda: ((d := _digests(prod, replica, "queue:*")) == queued and d) or None,
            timeout=60,
        )
        counts = re.search(r"restored (\d+) keys, kept (\d+).*?(\d+) expired", restore.stdout)
        assert counts, restore.stdout
        figures["redis backup (BGSAVE on a replica + copy, scripts/redis-backup)"] = (
            f"{backup.seconds:.1f} s, {dump.stat().st_size} bytes, {total_before} keys"
        )
        figures["redis restore key by key (scripts/redis-backup --restore)"] = (
            f"{restore.seconds:.1f} s; {counts[1]} keys restored, {counts[2]} kept,"
            f" {counts[3]} expired; queue keys identical after: {len(restored)} of {len(queued)}"
            f" ({waiting} jobs waiting)"
        )
        missing = sorted(set(queued) - set(restored))
        changed = sorted(k for k in queued if k in restored and restored[k] != queued[k])
        assert not missing, f"queue keys missing after the restore: {missing}"
        assert not changed, f"queue keys with other content after the restore: {changed}"
        assert on_replica == queued
    finally:
        prod.docker("start", *workers)

    # The restored jobs run: every import completes, each once.
    def completed() -> bool | None:
        rows = imports_in_database(prod, ids)
        return True if all(i in rows and rows[i].state == "completed" for i in ids) else None

    wait_for(f"{JOBS} restored jobs completed", completed, timeout=IMPORT_COMPLETION_TIMEOUT)
    rows = imports_in_database(prod, ids)
    assert all(rows[i].sales == 10 for i in ids), rows
    wait_ready(prod)
