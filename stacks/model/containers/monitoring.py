"""Monitoring: Prometheus with its rendered config, alert rules and dashboard, the exporters it
scrapes, Alertmanager, and the alert-receiver that records the notifications it is sent.

Redis nodes and Sentinels are scraped through redis_exporter's multi-target endpoint; Sentinels
have their own password, so sentinel mode adds a second exporter that carries it.
"""

from stacks.model.conf.alertmanager import (
    ALERTMANAGER_PORT,
    RECEIVER_PORT,
    render_alertmanager_config,
)
from stacks.model.conf.alerts import render_alert_rules
from stacks.model.conf.dashboard import dashboard_rows
from stacks.model.conf.dashboard_console import (
    CONSOLE_FILE,
    CONSOLE_LIBRARIES,
    CONSOLE_TEMPLATES,
    render_console,
)
from stacks.model.conf.dashboard_grafana import (
    render_grafana_dashboard,
    render_grafana_dashboard_provider,
    render_grafana_datasource,
)
from stacks.model.conf.prometheus import render_prometheus_config
from stacks.model.containers.common import published, tcp_check
from stacks.model.endpoints import PROMETHEUS_PORT, REDIS_PORT, SENTINEL_PORT, postgres_dsn
from stacks.model.layout import Layout
from stacks.model.spec import ConfigFile, ContainerSpec, Healthcheck, VolumeMount

__all__ = ["monitoring_containers"]

_LOCAL_PROMETHEUS = f"http://127.0.0.1:{PROMETHEUS_PORT}"


def _dashboard_files(layout: Layout) -> dict[str, ConfigFile]:
    """The console template Prometheus serves, and the Grafana files for users who run Grafana.

    The Grafana files ride along in the Prometheus container (under /etc/prometheus/grafana, which
    Prometheus ignores) so both deployers deliver and scripts/render writes them with the rest.
    """
    settings = layout.settings
    rows = dashboard_rows(settings)
    prometheus_url = f"http://{layout.one('prometheus').ip}:{PROMETHEUS_PORT}"
    grafana = {
        "grafana/dashboards/ha-stack.json": render_grafana_dashboard(settings.stack, rows),
        "grafana/provisioning/datasources/ha-stack.yml": render_grafana_datasource(prometheus_url),
        "grafana/provisioning/dashboards/ha-stack.yml": render_grafana_dashboard_provider(),
    }
    files = {
        f"{CONSOLE_TEMPLATES}/{CONSOLE_FILE}": ConfigFile(
            f"prometheus/consoles/{CONSOLE_FILE}", render_console(settings.stack, rows)
        )
    }
    files.update(
        {f"/etc/prometheus/{source}": ConfigFile(source, text) for source, text in grafana.items()}
    )
    return files


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
            f"--web.console.templates={CONSOLE_TEMPLATES}",
            f"--web.console.libraries={CONSOLE_LIBRARIES}",
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
            **_dashboard_files(layout),
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


def _alertmanager(layout: Layout) -> ContainerSpec:
    return ContainerSpec(
        service="alertmanager",
        name=layout.container_name("alertmanager"),
        group="monitoring",
        image=layout.settings.images.name("alertmanager"),
        command=("alertmanager-entrypoint",),
        ip=layout.one("alertmanager").ip,
        user="prometheus",
        files={
            "/etc/alertmanager/alertmanager.yml": ConfigFile(
                "alertmanager/alertmanager.yml", render_alertmanager_config(layout)
            )
        },
        # A TCP check like the exporters': cheap on a loaded host (starting amtool every 5 s
        # timed out there); the infra suite checks the API itself.
        healthcheck=tcp_check(ALERTMANAGER_PORT),
    )


def _alert_receiver(layout: Layout) -> ContainerSpec:
    return ContainerSpec(
        service="alert-receiver",
        name=layout.container_name("alert-receiver"),
        group="monitoring",
        image=layout.settings.images.name("alert-receiver"),
        command=("alert-receiver",),
        ip=layout.one("alert-receiver").ip,
        user="nobody",
        env={"PORT": str(RECEIVER_PORT)},
        healthcheck=tcp_check(RECEIVER_PORT),
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
    """Prometheus, the alert-receiver and Alertmanager, the Redis exporter (and the Sentinel one),
    then the PostgreSQL exporter."""
    master = layout.redis_nodes()[0]
    specs = [
        _prometheus(layout),
        _alert_receiver(layout),
        _alertmanager(layout),
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
