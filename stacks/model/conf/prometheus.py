"""prometheus.yml: scrape the app's web replicas and workers, the exporters, Alertmanager and
Prometheus itself, and send alerts to the stack's Alertmanager.

Redis nodes and Sentinels are scraped through redis_exporter's multi-target endpoint
(``/scrape?target=redis://ip:port``), so every node is its own ``instance`` and alerts can follow
the master role from one node to another.
"""

from typing import Any, Final

import yaml

from stacks.model.conf import HEADER
from stacks.model.conf.alertmanager import ALERTMANAGER_PORT
from stacks.model.conf.pgbackrest import METRICS_PORT as BACKUP_METRICS_PORT
from stacks.model.layout import Layout, Placement

__all__ = ["METRICS_TOKEN_FILE", "render_prometheus_config"]

# Written by the prometheus image's entrypoint from METRICS_TOKEN (never committed).
METRICS_TOKEN_FILE: Final = "/prometheus/metrics_token"  # noqa: S105 (a path)


def _static(targets: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{"targets": [address], "labels": {"service": service}} for service, address in targets]


def _multi_target(job: str, exporter_ip: str, targets: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "job_name": job,
        "metrics_path": "/scrape",
        "static_configs": _static(targets),
        "relabel_configs": [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": ["__param_target"], "target_label": "instance"},
            {"target_label": "__address__", "replacement": f"{exporter_ip}:9121"},
        ],
    }


def _app_targets(layout: Layout, places: list[Placement]) -> dict[str, Any]:
    """Every web replica or worker: fixed addresses on docker; on swarm, where one service runs
    them all as tasks, every address ``tasks.<service>`` resolves to at scrape time."""
    if not layout.swarm or not places:
        return {"static_configs": _static([(p.service, f"{p.ip}:8000") for p in places])}
    return {
        "dns_sd_configs": [
            {"names": [f"tasks.{p.service}" for p in places], "type": "A", "port": 8000}
        ],
        "relabel_configs": [{"target_label": "service", "replacement": places[0].service}],
    }


def render_prometheus_config(
    layout: Layout, *, metrics_token_file: str = METRICS_TOKEN_FILE
) -> str:
    """The config for the stack ``layout`` places; tests pass a temporary ``metrics_token_file``
    to promtool."""
    settings = layout.settings
    # Workers serve /metrics on the same port: the import counters are recorded there.
    app_jobs: list[dict[str, Any]] = [
        {
            "job_name": job,
            "metrics_path": "/metrics",
            **_app_targets(layout, places),
        }
        for job, places in (("app", layout.web_replicas()), ("worker", layout.workers()))
    ]
    if settings.app.metrics_secured:
        for job in app_jobs:
            job["authorization"] = {"type": "Bearer", "credentials_file": metrics_token_file}
    jobs: list[dict[str, Any]] = [
        {"job_name": "prometheus", "static_configs": _static([("prometheus", "localhost:9090")])},
        *app_jobs,
        _multi_target(
            "redis",
            layout.one("redis-exporter").ip,
            [(p.service, f"redis://{p.ip}:6379") for p in layout.redis_nodes()],
        ),
    ]
    if layout.sentinels():
        jobs.append(
            _multi_target(
                "sentinel",
                layout.one("sentinel-exporter").ip,
                [(p.service, f"redis://{p.ip}:26379") for p in layout.sentinels()],
            )
        )
    postgres_exporter = layout.one("postgres-exporter")
    alertmanager = f"{layout.one('alertmanager').ip}:{ALERTMANAGER_PORT}"
    jobs += [
        {
            "job_name": "postgres",
            "static_configs": _static([("postgres", f"{postgres_exporter.ip}:9187")]),
        },
        # Base backups (postgres-backup serve): last success, size, duration, runs.
        {
            "job_name": "postgres-backup",
            "static_configs": _static(
                [("postgres-backup", f"{layout.one('postgres-backup').ip}:{BACKUP_METRICS_PORT}")]
            ),
        },
        {"job_name": "alertmanager", "static_configs": _static([("alertmanager", alertmanager)])},
    ]
    config = {
        "global": {
            "scrape_interval": settings.prometheus.scrape_interval,
            "evaluation_interval": settings.prometheus.scrape_interval,
            "external_labels": {"stack": settings.stack},
        },
        # Relative paths resolve against this file's directory: /etc/prometheus in the container.
        "rule_files": ["alerts.yml"],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": jobs,
    }
    return HEADER + yaml.safe_dump(config, sort_keys=False, width=100)
