"""The PostgreSQL container: max_connections sized for every app pool plus headroom."""

from stacks.model.containers.common import published
from stacks.model.endpoints import POSTGRES_PORT
from stacks.model.layout import Layout
from stacks.model.spec import ContainerSpec, Healthcheck, VolumeMount

__all__ = ["postgres_container"]


def postgres_container(layout: Layout) -> ContainerSpec:
    settings = layout.settings
    pg = settings.postgres
    place = layout.one("postgres")
    return ContainerSpec(
        service="postgres",
        name=layout.container_name("postgres"),
        group="postgres",
        image=settings.images.name("postgres"),
        command=("postgres-entrypoint", "-c", f"max_connections={settings.max_connections}"),
        ip=place.ip,
        user="postgres",
        env={"POSTGRES_USER": pg.user, "POSTGRES_DB": pg.database},
        secret_env={"POSTGRES_PASSWORD": "${POSTGRES_PASSWORD}"},
        ports=published(layout, "postgres", settings.publish.postgres_port, POSTGRES_PORT),
        volumes=(VolumeMount(layout.volume_name("postgres"), "/var/lib/postgresql/data"),),
        healthcheck=Healthcheck(
            argv=("pg_isready", "-h", "127.0.0.1", "-p", "5432", "-U", pg.user, "-d", pg.database),
            start_period_s=20,
        ),
    )
