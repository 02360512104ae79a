"""What the drills do to the deployed dev stack and how they read its state back.

Faults are Docker operations on the stack's containers (kill, start, restart); state is read inside
the containers (redis-cli, psql) through tests.infra.deployed.DeployedStack.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from tests.drills.app_client import ImportLoad
from tests.infra.checks import service_blocks
from tests.infra.deployed import DeployedStack, wait_for

__all__ = [
    "IMPORT_COMPLETION_TIMEOUT",
    "ImportRow",
    "add_user",
    "apps_healthy",
    "assert_imported_exactly_once",
    "imports_in_database",
    "kill",
    "redis_role",
    "sentinels_agree",
    "start",
    "wait_converged",
    "wait_new_master",
]


def add_user(stack: DeployedStack, service: str) -> tuple[str, str]:
    """Create an app user with the app's own command in a web container; (username, password)."""
    username, password = f"drill-{secrets.token_hex(4)}", secrets.token_hex(16)
    subprocess.run(
        ["docker", "exec", "-i", stack.spec(service).name, "app-entrypoint", "add-user", username],
        input=password,
        text=True,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return username, password


def kill(stack: DeployedStack, service: str) -> float:
    """SIGKILL the service's container; the monotonic time just before the kill."""
    killed_at = time.monotonic()
    stack.docker("kill", stack.spec(service).name)
    return killed_at


def start(stack: DeployedStack, service: str) -> None:
    stack.docker("start", stack.spec(service).name)


def redis_role(stack: DeployedStack, service: str) -> dict[str, str]:
    """INFO replication of a data node as a mapping (``role``, ``master_host``, ...)."""
    info = stack.redis_cli(service, "INFO", "replication")
    return dict(re.findall(r"^(\w+):(.*?)\r?$", info, re.MULTILINE))


def wait_new_master(
    stack: DeployedStack, old: str, sentinels: Iterable[str], timeout: float
) -> tuple[str, float]:
    """Poll the Sentinels until one reports a master other than ``old`` (``ip:port``); the new
    address and the monotonic time it was first seen. AssertionError after ``timeout``."""
    names = list(sentinels)

    def changed() -> tuple[str, float] | None:
        for sentinel in names:
            try:
                address = stack.master_address(sentinel)
            except AssertionError:  # a Sentinel being killed or restarted
                continue
            if address != old:
                return address, time.monotonic()
        return None

    return wait_for(f"a master other than {old}", changed, timeout=timeout, interval=0.1)


def apps_healthy(stack: DeployedStack) -> bool:
    """Every web replica's detailed health report says each dependency is healthy."""
    for service in stack.services("app", command="web"):
        report = stack.app_get(service, "/api/health/detailed", token=True).json()
        if set(service_blocks(report).values()) != {"healthy"}:
            return False
    return True


def sentinels_agree(stack: DeployedStack) -> bool:
    """Every Sentinel names the same master, and that master has every replica online."""
    masters = {stack.master_address(s) for s in stack.services("redis", command="sentinel")}
    if len(masters) != 1:
        return False
    role = redis_role(stack, stack.redis_service_at(masters.pop()))
    online = sum("state=online" in value for key, value in role.items() if key.startswith("slave"))
    return role.get("role") == "master" and online == stack.settings.redis.replicas


def wait_converged(stack: DeployedStack, timeout: float = 120, docker_health: bool = True) -> None:
    """Wait until the stack is whole again: every container running (and, with docker_health,
    healthy by its Docker check), all Sentinels agree, the master has every replica online and
    each app replica's dependencies are healthy.

    ``docker_health=False`` trusts what the app and Redis report instead of Docker's docker-exec
    checks, which time out on a loaded host without saying anything about the data path."""

    def converged() -> bool | None:
        for spec in stack.topology.containers:
            state = stack.inspect(spec.service)["State"]
            if not state["Running"]:
                return None
            if docker_health and state.get("Health", {}).get("Status", "healthy") != "healthy":
                return None
        if stack.settings.redis.mode == "sentinel" and not sentinels_agree(stack):
            return None
        return apps_healthy(stack) or None

    wait_for(f"stack {stack.name} converged", converged, timeout=timeout, interval=1)


_IMPORTS_QUERY = (
    "SELECT i.id, i.state, coalesce(i.row_count, -1), count(s.line) FROM imports i "
    "LEFT JOIN sales s ON s.import_id = i.id "
    "WHERE i.id = ANY(string_to_array(:'ids', ',')::uuid[]) GROUP BY i.id;"
)


@dataclass(frozen=True)
class ImportRow:
    state: str
    row_count: int | None
    sales: int


def imports_in_database(stack: DeployedStack, import_ids: Iterable[str]) -> dict[str, ImportRow]:
    """State, row_count and the number of sales rows of each import, read with psql."""
    ids = [str(uuid.UUID(i)) for i in import_ids]
    if not ids:
        return {}
    # psql interpolates :'ids' (as a quoted literal) in a script read from stdin, not in -c.
    out = stack.sh(
        "postgres",
        'echo %s | PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -U "$POSTGRES_USER" '
        '-d "$POSTGRES_DB" -v ON_ERROR_STOP=1 -At -F , -v ids=%s',
        _IMPORTS_QUERY,
        ",".join(ids),
    )
    rows = {}
    for line in out.splitlines():
        import_id, state, row_count, sales = line.split(",")
        rows[import_id] = ImportRow(
            state, None if row_count == "-1" else int(row_count), int(sales)
        )
    return rows


# The worker's sweep enqueues an import whose job a failover lost again within the job lease (30 s;
# reference_app/config.py); the rest is headroom for a loaded machine.
IMPORT_COMPLETION_TIMEOUT = 180


def assert_imported_exactly_once(dev: DeployedStack, load: ImportLoad) -> None:
    """Every accepted upload of the load ends completed, with exactly its rows in ``sales``."""
    expected = {o.import_id: o.rows for o in load.accepted if o.import_id}
    assert expected, "the load had no accepted upload"

    def all_done() -> bool | None:
        rows = imports_in_database(dev, expected)
        pending = [i for i in expected if i not in rows or rows[i].state != "completed"]
        return None if pending else True

    wait_for(f"{len(expected)} imports completed", all_done, timeout=IMPORT_COMPLETION_TIMEOUT)
    rows = imports_in_database(dev, expected)
    for import_id, count in expected.items():
        assert rows[import_id].row_count == count, (import_id, rows[import_id])
        assert rows[import_id].sales == count, (import_id, rows[import_id])
