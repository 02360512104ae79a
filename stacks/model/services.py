"""PostgreSQL, monitoring (Prometheus and exporters) and app containers."""

from stacks.model.layout import Layout, Placement
from stacks.model.spec import ConfigFile, ContainerSpec, Healthcheck, PortSpec, VolumeMount
from stacks.render.alerts import render_alert_rules
from stacks.render.prometheus import render_prometheus_config

__all__ = ["app_containers", "app_environment", "monitoring_containers", "postgres_container"]


def _published(layout: Layout, service: str, host_port: int, port: int) -> tuple[PortSpec, ...]:
    publish = layout.settings.publish
    if service not in publish.services:
        return ()
    return (PortSpec(publish.address, host_port, port),)


def _tcp_check(port: int) -> Healthcheck:
    # Exporter images carry no HTTP client; bash's /dev/tcp proves the port accepts connections.
    return Healthcheck(argv=("bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port}"))


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
        ports=_published(layout, "postgres", settings.publish.postgres_port, 5432),
        volumes=(VolumeMount(layout.volume_name("postgres"), "/var/lib/postgresql/data"),),
        healthcheck=Healthcheck(
            argv=("pg_isready", "-h", "127.0.0.1", "-p", "5432", "-U", pg.user, "-d", pg.database),
            start_period_s=20,
        ),
    )


def _database_url(layout: Layout) -> str:
    settings = layout.settings
    pg, app = settings.postgres, settings.app
    seconds = app.database_timeout_ms / 1000
    timeout = f"{seconds:g}"
    host = layout.one("postgres").ip
    return (
        f"postgresql://{pg.user}:${{POSTGRES_PASSWORD}}@{host}:5432/{pg.database}"
        f"?connection_limit={app.pool_size}&pool_timeout={timeout}"
    )


def monitoring_containers(layout: Layout) -> list[ContainerSpec]:
    settings = layout.settings
    images = settings.images
    prometheus = layout.one("prometheus")
    specs = [
        ContainerSpec(
            service="prometheus",
            name=layout.container_name("prometheus"),
            group="monitoring",
            image=images.name("prometheus"),
            command=(
                "prometheus-entrypoint",
                f"--storage.tsdb.retention.time={settings.prometheus.retention}",
            ),
            ip=prometheus.ip,
            user="prometheus",
            secret_env={"METRICS_TOKEN": "${METRICS_TOKEN}"},
            ports=_published(layout, "prometheus", settings.publish.prometheus_port, 9090),
            volumes=(VolumeMount(layout.volume_name("prometheus"), "/prometheus"),),
            files={
                "/etc/prometheus/prometheus.yml": ConfigFile(
                    "prometheus/prometheus.yml", render_prometheus_config(settings)
                ),
                "/etc/prometheus/alerts.yml": ConfigFile(
                    "prometheus/alerts.yml", render_alert_rules(settings)
                ),
            },
            healthcheck=Healthcheck(
                argv=("promtool", "query", "instant", "http://127.0.0.1:9090", "vector(1)")
            ),
        ),
    ]
    redis_nodes = layout.redis_nodes()
    exporters = [("redis-exporter", redis_nodes[0].ip, 6379, "${REDIS_PASSWORD}")]
    if layout.sentinels():
        # Sentinels have their own password, so they get their own exporter.
        exporters.append(
            ("sentinel-exporter", layout.sentinels()[0].ip, 26379, "${REDIS_SENTINEL_PASSWORD}")
        )
    for service, target_ip, target_port, password in exporters:
        specs.append(
            ContainerSpec(
                service=service,
                name=layout.container_name(service),
                group="monitoring",
                image=images.name("redis-exporter"),
                command=("redis-exporter-entrypoint",),
                ip=layout.one(service).ip,
                user="nobody",
                env={"REDIS_ADDR": f"redis://{target_ip}:{target_port}"},
                secret_env={"REDIS_PASSWORD": password},
                healthcheck=_tcp_check(9121),
            )
        )
    pg = settings.postgres
    dsn = (
        f"postgresql://{pg.user}:${{POSTGRES_PASSWORD}}@{layout.one('postgres').ip}:5432/"
        f"{pg.database}?sslmode=disable"
    )
    specs.append(
        ContainerSpec(
            service="postgres-exporter",
            name=layout.container_name("postgres-exporter"),
            group="monitoring",
            image=images.name("postgres-exporter"),
            command=("postgres-exporter-entrypoint",),
            ip=layout.one("postgres-exporter").ip,
            user="nobody",
            secret_env={"DATA_SOURCE_NAME": dsn},
            healthcheck=_tcp_check(9187),
            depends_on=("postgres",),
        )
    )
    return specs


def app_environment(layout: Layout) -> tuple[dict[str, str], dict[str, str]]:
    """Plain and secret environment of every app process (docs/architecture.md's table)."""
    settings = layout.settings
    redis, app = settings.redis, settings.app
    env = {
        "APP_ENV": app.env,
        "PORT": "8000",
        "REDIS_MODE": redis.mode,
        "REDIS_CLUSTER_ENABLED": "false" if redis.mode == "standalone" else "true",
        "DATABASE_CONNECTION_LIMIT": str(app.pool_size),
        "DATABASE_TIMEOUT": str(app.database_timeout_ms),
        "DATABASE_RETRY_ATTEMPTS": str(app.database_retry_attempts),
        # Job enqueue and session create wait for replicas (0 in standalone mode: none exist).
        "REDIS_WAIT_REPLICAS": str(redis.app_wait_replicas),
        "REDIS_WAIT_TIMEOUT": str(redis.wait_timeout_ms),
    }
    secret_env = {
        "REDIS_PASSWORD": "${REDIS_PASSWORD}",
        "DATABASE_URL": _database_url(layout),
        "METRICS_TOKEN": "${METRICS_TOKEN}",
    }
    nodes = layout.redis_nodes()
    if redis.mode == "standalone":
        env["REDIS_URL"] = f"redis://{nodes[0].ip}:6379/0"
    elif redis.mode == "sentinel":
        env["REDIS_SENTINEL_HOSTS"] = ",".join(f"{s.ip}:26379" for s in layout.sentinels())
        env["REDIS_MASTER_NAME"] = redis.master_name
        secret_env["REDIS_SENTINEL_PASSWORD"] = "${REDIS_SENTINEL_PASSWORD}"  # noqa: S105
    else:
        env["REDIS_CLUSTER_NODES"] = ",".join(f"{n.ip}:6379" for n in nodes)
    return env, secret_env


_WEB_HEALTHCHECK = Healthcheck(
    argv=(
        "python3",
        "-c",
        "import urllib.request; "
        "urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=2)",
    ),
    start_period_s=15,
)


def app_containers(layout: Layout, redis_services: tuple[str, ...]) -> list[ContainerSpec]:
    """Web replicas (``app-entrypoint web``) then workers (``app-entrypoint worker``)."""
    settings = layout.settings
    env, secret_env = app_environment(layout)

    def process(
        place: Placement,
        role: str,
        ports: tuple[PortSpec, ...] = (),
        healthcheck: Healthcheck | None = None,
    ) -> ContainerSpec:
        return ContainerSpec(
            service=place.service,
            name=layout.container_name(place.service),
            group="app",
            image=settings.images.name("app"),
            command=("app-entrypoint", role),
            ip=place.ip,
            user="app",
            env=env,
            secret_env=secret_env,
            ports=ports,
            healthcheck=healthcheck,
            depends_on=("postgres", *redis_services),
        )

    web = [
        process(
            place,
            "web",
            _published(layout, "app", settings.publish.app_port + i, 8000),
            _WEB_HEALTHCHECK,
        )
        for i, place in enumerate(layout.web_replicas())
    ]
    # Workers serve /metrics on 8000 too, but have no health endpoint: no health check.
    return web + [process(place, "worker") for place in layout.workers()]
