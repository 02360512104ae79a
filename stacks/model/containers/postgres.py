"""PostgreSQL and its backup container.

PostgreSQL's max_connections is sized for every app pool plus headroom, and it archives every WAL
segment into the pgBackRest repository volume. ``postgres-backup`` runs the same image: it takes
base backups on the stack's schedule and exports their metrics (images/postgres/postgres_backup.py).
It shares the data volume (pgBackRest copies the files) and the socket directory (pgBackRest
reaches a local cluster only by socket) with PostgreSQL, and the repository volume.
"""

from stacks.model.conf.pgbackrest import (
    CONFIG_PATH,
    DATA_DIR,
    METRICS_PORT,
    REPO_DIR,
    SOCKET_DIR,
    archive_arguments,
    render_pgbackrest_config,
    stanza,
)
from stacks.model.containers.common import published, tcp_check
from stacks.model.endpoints import POSTGRES_PORT
from stacks.model.layout import Layout
from stacks.model.spec import ConfigFile, ContainerSpec, Healthcheck, VolumeMount

__all__ = ["postgres_backup_container", "postgres_container"]


def _shared(layout: Layout) -> tuple[tuple[VolumeMount, ...], dict[str, ConfigFile]]:
    """The volumes and the pgbackrest.conf both containers mount."""
    prefix = layout.settings.prefix
    volumes = (
        VolumeMount(layout.volume_name("postgres"), DATA_DIR),
        VolumeMount(f"{prefix}-postgres-socket", SOCKET_DIR),
        VolumeMount(layout.volume_name("postgres-backup"), REPO_DIR),
    )
    conf = ConfigFile("pgbackrest/pgbackrest.conf", render_pgbackrest_config(layout.settings))
    return volumes, {CONFIG_PATH: conf}


def postgres_container(layout: Layout) -> ContainerSpec:
    settings = layout.settings
    pg = settings.postgres
    volumes, files = _shared(layout)
    return ContainerSpec(
        service="postgres",
        name=layout.container_name("postgres"),
        group="postgres",
        image=settings.images.name("postgres"),
        command=(
            "postgres-entrypoint",
            "-c",
            f"max_connections={settings.max_connections}",
            *archive_arguments(settings),
        ),
        ip=layout.one("postgres").ip,
        user="postgres",
        env={"POSTGRES_USER": pg.user, "POSTGRES_DB": pg.database},
        secret_env={"POSTGRES_PASSWORD": "${POSTGRES_PASSWORD}"},
        ports=published(layout, "postgres", settings.publish.postgres_port, POSTGRES_PORT),
        volumes=volumes,
        files=files,
        healthcheck=Healthcheck(
            argv=("pg_isready", "-h", "127.0.0.1", "-p", "5432", "-U", pg.user, "-d", pg.database),
            start_period_s=20,
        ),
    )


def postgres_backup_container(layout: Layout) -> ContainerSpec:
    """Base backups on the schedule (the first full one at once when the repository has none)
    and their metrics on :9188/metrics."""
    settings = layout.settings
    backup = settings.backup
    volumes, files = _shared(layout)
    return ContainerSpec(
        service="postgres-backup",
        name=layout.container_name("postgres-backup"),
        group="postgres",
        image=settings.images.name("postgres"),
        command=(
            "postgres-backup",
            "serve",
            f"--stanza={stanza(settings)}",
            f"--full-every={backup.full_every_s}",
            f"--diff-every={backup.diff_every_s}",
            f"--port={METRICS_PORT}",
        ),
        ip=layout.one("postgres-backup").ip,
        user="postgres",
        volumes=volumes,
        files=files,
        healthcheck=tcp_check(METRICS_PORT),
        depends_on=("postgres",),
    )
