"""Monitoring: Prometheus with its rendered config and alert rules, and the exporters it scrapes.

Redis nodes and Sentinels are scraped through redis_exporter's multi-target endpoint; Sentinels
have their own password, so sentinel mode adds a second exporter that carries it.
"""

from stacks.model.conf.alerts import render_alert_rules
from stacks.model.conf.prometheus import render_prometheus_config
from stacks.model.containers.common import published, tcp_check
from stacks.model.endpoints import PROMETHEUS_PORT, REDIS_PORT, SENTINEL_PORT, postgres_dsn
from stacks.model.layout import Layout
from stacks.model.spec import ConfigFile, ContainerSpec, Healthcheck, VolumeMount

__all__ = ["monitoring_containers"]

_LOCAL_PROMETHEUS = f"http://127.0.0.1:{PROMETHEUS_PORT}"


def _prometheus(layout: Layout) -> ContainerSpec:
    settings = layout.settings
    return ContainerSpec(
        service="prometheus",
        name=layout.container_name("prometheus"),
        group="monitoring",
        image=settings.images.name("prometheus"),
        command=(
            "prometheus-entrypoint",
            f"--storage.tsdb.retention.time={settings.prometheus.retention}",
        ),
        ip=layout.one("prometheus").ip,
        user="prometheus",
        secret_env={"METRICS_TOKEN": "${METRICS_TOKEN}"},
        ports=published(layout, "prometheus", settings.publish.prometheus_port, PROMETHEUS_PORT),
        volumes=(VolumeMount(layout.volume_name("prometheus"), "/prometheus"),),
        files={
            "/etc/prometheus/prometheus.yml": ConfigFile(
                "prometheus/prometheus.yml", render_prometheus_config(layout)
            ),
            "/etc/prometheus/alerts.yml": ConfigFile(
                "prometheus/alerts.yml", render_alert_rules(settings)
            ),
        },
        healthcheck=Healthcheck(
            argv=(
                "promtool",
                "query",
                "instant",
                f"http://127.0.0.1:{PROMETHEUS_PORT}",
                "vector(1)",
            )
        ),
    )


def _redis_exporter(layout: Layout, service: str, target: str, password: str) -> ContainerSpec:
    return ContainerSpec(
        service=service,
        name=layout.container_name(service),
        group="monitoring",
        image=layout.settings.images.name("redis-exporter"),
        command=("redis-exporter-entrypoint",),
        ip=layout.one(service).ip,
        user="nobody",
        env={"REDIS_ADDR": f"redis://{target}"},
        secret_env={"REDIS_PASSWORD": password},
        healthcheck=tcp_check(9121),
    )


def monitoring_containers(layout: Layout) -> list[ContainerSpec]:
    """Prometheus, the Redis exporter (and the Sentinel one), then the PostgreSQL exporter."""
    master = layout.redis_nodes()[0]
    specs = [
        _prometheus(layout),
        _redis_exporter(layout, "redis-exporter", f"{master.ip}:{REDIS_PORT}", "${REDIS_PASSWORD}"),
    ]
    sentinels = layout.sentinels()
    if sentinels:
        specs.append(
            _redis_exporter(
                layout,
                "sentinel-exporter",
                f"{sentinels[0].ip}:{SENTINEL_PORT}",
                "${REDIS_SENTINEL_PASSWORD}",
            )
        )
    specs.append(
        ContainerSpec(
            service="postgres-exporter",
            name=layout.container_name("postgres-exporter"),
            group="monitoring",
            image=layout.settings.images.name("postgres-exporter"),
            command=("postgres-exporter-entrypoint",),
            ip=layout.one("postgres-exporter").ip,
            user="nobody",
            secret_env={"DATA_SOURCE_NAME": postgres_dsn(layout, sslmode="disable")},
            healthcheck=tcp_check(9187),
            depends_on=("postgres",),
        )
    )
    return specs
