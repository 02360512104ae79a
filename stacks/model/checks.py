"""Checks across settings, run once every value is valid on its own: the host ports the app
replicas publish, PostgreSQL's max_connections, and the subnet against the other stacks'."""

import ipaddress
from collections.abc import Mapping
from typing import Final

from stacks.model.errors import StackConfigError
from stacks.model.settings import StackSettings

__all__ = [
    "MAX_CONNECTIONS",
    "check_app_ports",
    "check_backup_schedule",
    "check_max_connections",
    "check_subnet_free",
]

MAX_HOST_PORT: Final = 65535
# PostgreSQL allocates shared memory per allowed connection; past this, a pool size or replica
# count is a typo, not a plan (put a connection pooler in front instead).
MAX_CONNECTIONS: Final = 10_000


def check_app_ports(settings: StackSettings) -> None:
    """Web replica ``i`` publishes on ``appHostPort + i``: the highest must be a port."""
    publish, replicas = settings.publish, settings.app.web_replicas
    highest = publish.app_port + replicas - 1
    if "app" in publish.services and highest > MAX_HOST_PORT:
        raise StackConfigError(
            "ha-stack:appHostPort",
            f"app replicas 0..{replicas - 1} would publish on ports {publish.app_port}..{highest},"
            f" past {MAX_HOST_PORT}",
            str(min(8000, MAX_HOST_PORT - replicas + 1)),
        )


def check_max_connections(settings: StackSettings) -> None:
    """PostgreSQL's max_connections (every app pool plus headroom) within MAX_CONNECTIONS."""
    app, headroom = settings.app, settings.postgres.headroom
    if settings.max_connections <= MAX_CONNECTIONS:
        return
    processes = app.web_replicas + app.workers
    fitting = max(1, (MAX_CONNECTIONS - headroom) // processes)
    raise StackConfigError(
        "ha-stack:databasePoolSize",
        f"PostgreSQL max_connections would be {settings.max_connections} = (appReplicas "
        f"{app.web_replicas} + appWorkers {app.workers}) x databasePoolSize {app.pool_size} + "
        f"postgresHeadroom {headroom}, above {MAX_CONNECTIONS}",
        str(min(fitting, app.pool_size)),
    )


def check_backup_schedule(settings: StackSettings) -> None:
    """Differential backups build on the last full one: taking them as often as or less often
    than full backups only costs space, so a schedule that does is a typo."""
    backup = settings.backup
    if backup.diff_every_s and backup.diff_every_s >= backup.full_every_s:
        raise StackConfigError(
            "ha-stack:postgresBackupDiffEvery",
            f"differential backups every {backup.diff_every_s} s are not more frequent than full"
            f" backups (postgresBackupFullEvery: every {backup.full_every_s} s)",
            "off",
        )


def _free_subnet(taken: list[ipaddress.IPv4Network]) -> str:
    for third in range(10, 256, 10):
        candidate = ipaddress.IPv4Network(f"172.28.{third}.0/24")
        if not any(candidate.overlaps(subnet) for subnet in taken):
            return str(candidate)
    return "192.168.77.0/24"  # every 172.28.x0.0/24 taken: an example all the same


def check_subnet_free(
    settings: StackSettings, other_subnets: Mapping[str, ipaddress.IPv4Network]
) -> None:
    """The stack's subnet overlaps no other stack's: Docker refuses a second network on it, and
    two stacks on one host would otherwise share addresses."""
    for other, subnet in sorted(other_subnets.items()):
        if other != settings.stack and settings.subnet.overlaps(subnet):
            raise StackConfigError(
                "ha-stack:subnet",
                f"{settings.subnet} overlaps stack {other}'s subnet {subnet} (Pulumi.{other}.yaml)",
                _free_subnet(list(other_subnets.values())),
            )
