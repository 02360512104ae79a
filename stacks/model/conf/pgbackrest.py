"""pgBackRest: the config shared by PostgreSQL (WAL archiving) and its backup container, and the
server settings that archive every WAL segment into the backup repository.

Why pgBackRest rather than pg_basebackup + an archive_command script: one tool takes full,
differential and incremental backups, archives and fetches WAL (``archive-push`` /
``archive-get``), expires old backups with the WAL they need (``repo1-retention-full``), checks
every file's checksum on backup and restore, and restores to a point in time in one command.
"""

from typing import Final

from stacks.model.conf import HEADER
from stacks.model.settings import StackSettings

__all__ = [
    "CONFIG_PATH",
    "DATA_DIR",
    "METRICS_PORT",
    "REPO_DIR",
    "SOCKET_DIR",
    "archive_arguments",
    "render_pgbackrest_config",
    "stanza",
]

# Paths inside both containers (the postgres image; the backup container runs the same image).
CONFIG_PATH: Final = "/etc/pgbackrest/pgbackrest.conf"
DATA_DIR: Final = "/var/lib/postgresql/data"
REPO_DIR: Final = "/var/lib/pgbackrest"
SOCKET_DIR: Final = "/var/run/postgresql"
# The backup container's Prometheus exporter (postgres-backup serve).
METRICS_PORT: Final = 9188


def stanza(settings: StackSettings) -> str:
    """The repository's stanza: one cluster per stack, named after the stack."""
    return settings.stack


def render_pgbackrest_config(settings: StackSettings) -> str:
    """pgbackrest.conf for ``settings``: the repository, retention and the cluster to back up.

    The backup container reads the data directory through the shared data volume and connects
    over the shared socket directory (pgBackRest reaches a local cluster only by socket).
    """
    lines = [
        "[global]",
        f"repo1-path={REPO_DIR}",
        # Full backups kept; differential ones and the WAL they need expire with their full one.
        "repo1-retention-full-type=count",
        f"repo1-retention-full={settings.backup.retention_full}",
        "compress-type=zst",
        # An immediate checkpoint: a backup starts at once instead of at the next timed one.
        "start-fast=y",
        "log-level-console=info",
        # The containers log to stdout; no log directory to keep writable.
        "log-level-file=off",
        "",
        f"[{stanza(settings)}]",
        f"pg1-path={DATA_DIR}",
        f"pg1-socket-path={SOCKET_DIR}",
        # initdb's superuser is the app's user (postgres-entrypoint): there is no "postgres" role.
        f"pg1-user={settings.postgres.user}",
        "",
        # PostgreSQL runs these once per WAL segment: only their warnings go to its log.
        "[global:archive-push]",
        "log-level-console=warn",
        "",
        "[global:archive-get]",
        "log-level-console=warn",
        "",
    ]
    return HEADER + "\n".join(lines)


def archive_arguments(settings: StackSettings) -> tuple[str, ...]:
    """``postgres -c`` arguments that archive every finished WAL segment into the repository.

    ``archive_timeout`` bounds how long committed work may sit in an unarchived segment: the
    most a lost data volume can take with it.
    """
    return (
        "-c", "wal_level=replica",
        "-c", "archive_mode=on",
        "-c", f"archive_command=pgbackrest --stanza={stanza(settings)} archive-push %p",
        "-c", f"archive_timeout={settings.backup.archive_timeout_s}s",
    )  # fmt: skip
