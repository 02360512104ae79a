"""The stack's dashboard, defined once: rows of panels, each a title, PromQL queries and a unit.

Two renderers turn it into files: ``dashboard_grafana`` (a Grafana dashboard JSON and the
provisioning files that load it) and ``dashboard_console`` (a Prometheus console template the
stack's own Prometheus serves at /consoles/ha-stack.html). Every query names only metrics the
stack really exports (app_support.metrics, redis_exporter, postgres_exporter, Prometheus and
Alertmanager); the infra suite runs each against the deployed stack and expects series.

Queries return series whenever their targets are up, with or without traffic: ratios of rates
fall back to ``vector(0)`` for the numerator, counts of firing alerts to 0.
"""

from dataclasses import dataclass
from typing import Final, Literal

from stacks.model.settings import StackSettings

__all__ = ["RATE_WINDOW", "Panel", "Query", "Row", "Unit", "dashboard_queries", "dashboard_rows"]

# Unit names are Grafana's; the console renderer maps them to its number formatters.
Unit = Literal["short", "percent", "percentunit", "bytes", "s", "reqps", "ops"]
# Four scrapes at prod's 15 s interval, twelve at dev's 5 s: rates exist from the first minute.
RATE_WINDOW: Final = "1m"
_QUANTILES: Final = (("p50", "0.5"), ("p95", "0.95"), ("p99", "0.99"))


@dataclass(frozen=True)
class Query:
    expr: str
    # Grafana's legendFormat: ``{{label}}`` placeholders (the console renderer converts them).
    legend: str


@dataclass(frozen=True)
class Panel:
    title: str
    unit: Unit
    queries: tuple[Query, ...]


@dataclass(frozen=True)
class Row:
    title: str
    panels: tuple[Panel, ...]


def _rate(metric: str, by: str = "") -> str:
    grouping = f" by ({by}) " if by else ""
    return f"sum{grouping}(rate({metric}[{RATE_WINDOW}]))"


def _quantiles(histogram: str, by: str, legend: str, matchers: str = "") -> tuple[Query, ...]:
    """p50/p95/p99 of a histogram's ``_bucket`` series grouped by ``by``."""
    return tuple(
        Query(
            f"histogram_quantile({q}, sum by (le, {by}) "
            f"(rate({histogram}_bucket{matchers}[{RATE_WINDOW}])))",
            f"{name} {legend}",
        )
        for name, q in _QUANTILES
    )


def _redis_row(settings: StackSettings) -> Row:
    master = 'redis_instance_info{job="redis",role="master"}'
    panels = [
        Panel(
            "Role per node (1 = master, 0 = replica)",
            "short",
            (
                Query(
                    f"max by (instance) ({master}) or "
                    'max by (instance) (0 * redis_instance_info{job="redis"})',
                    "{{instance}}",
                ),
            ),
        ),
        Panel(
            "Failovers: nodes that held the master role in the last hour, minus one",
            "short",
            (
                Query(
                    f"count(count by (instance) (count_over_time({master}[1h]))) - 1",
                    "failovers (1 h)",
                ),
            ),
        ),
        Panel(
            "Connected replicas and replication lag",
            "s",
            (
                Query(
                    'redis_connected_slaves{job="redis"} and on (instance) ' + master,
                    "replicas of {{instance}}",
                ),
                Query(
                    'max by (instance) (redis_connected_slave_lag_seconds{job="redis"})',
                    "lag seen by {{instance}}",
                ),
            ),
        ),
        Panel(
            "Memory used",
            "bytes",
            (Query('redis_memory_used_bytes{job="redis"}', "{{instance}}"),),
        ),
        Panel(
            "Commands per second",
            "ops",
            (
                Query(
                    _rate('redis_commands_processed_total{job="redis"}', "instance"), "{{instance}}"
                ),
            ),
        ),
        Panel(
            "Command latency: server mean and the app's p95 by command",
            "s",
            (
                Query(
                    _rate('redis_commands_duration_seconds_total{job="redis"}', "instance")
                    + " / "
                    + _rate('redis_commands_total{job="redis"}', "instance"),
                    "server mean {{instance}}",
                ),
                Query(
                    "histogram_quantile(0.95, sum by (le, command) "
                    f"(rate(redis_command_duration_seconds_bucket[{RATE_WINDOW}])))",
                    "app p95 {{command}}",
                ),
            ),
        ),
    ]
    if settings.redis.mode == "sentinel":
        panels.insert(
            3,
            Panel(
                "Sentinels that agree the master is up, and the quorum",
                "short",
                (
                    Query('min(redis_sentinel_master_ok_sentinels{job="sentinel"})', "agreeing"),
                    Query(f"vector({settings.redis.quorum})", "quorum"),
                    Query('count(redis_up{job="sentinel"} == 1)', "Sentinels up"),
                ),
            ),
        )
    return Row("Redis", tuple(panels))


def _app_row() -> Row:
    requests = 'http_requests_total{job="app"}'
    errors = 'http_requests_total{job="app",status_code=~"5.."}'
    return Row(
        "App",
        (
            Panel(
                "Requests per second by route",
                "reqps",
                (Query(_rate(requests, "route"), "{{route}}"),),
            ),
            Panel(
                "Error rate (5xx share of requests)",
                "percentunit",
                (Query(f"({_rate(errors)} or vector(0)) / {_rate(requests)}", "5xx share"),),
            ),
            Panel(
                "Latency p50 / p95 / p99 by route",
                "s",
                _quantiles("http_request_duration_seconds", "route", "{{route}}", '{job="app"}'),
            ),
            Panel(
                "Requests in progress",
                "short",
                (
                    Query(
                        'sum by (instance) (http_requests_in_progress{job="app"})', "{{instance}}"
                    ),
                ),
            ),
        ),
    )


def _postgres_row() -> Row:
    def pool(state: str) -> Query:
        return Query(f"sum by (job) (database_pool_connections_{state})", f"{state} ({{{{job}}}})")

    return Row(
        "PostgreSQL and the pools",
        (
            Panel(
                "Pool connections: used, available, max",
                "short",
                (pool("used"), pool("available"), pool("max")),
            ),
            Panel(
                "Requests waiting for a pooled connection",
                "short",
                (Query("sum by (job) (database_pool_requests_waiting)", "{{job}}"),),
            ),
            Panel(
                "Query latency p95 by operation and table",
                "s",
                (
                    Query(
                        "histogram_quantile(0.95, sum by (le, operation, table) "
                        f"(rate(database_query_duration_seconds_bucket[{RATE_WINDOW}])))",
                        "{{operation}} {{table}}",
                    ),
                ),
            ),
            Panel(
                "Server connections by state, and max_connections",
                "short",
                (
                    Query('sum by (state) (pg_stat_activity_count{job="postgres"})', "{{state}}"),
                    Query('max(pg_settings_max_connections{job="postgres"})', "max_connections"),
                ),
            ),
        ),
    )


def _queue_row() -> Row:
    return Row(
        "Queues and imports",
        (
            Panel(
                "Jobs waiting and active",
                "short",
                (
                    Query(
                        'max by (queue, state) (queue_jobs{state=~"waiting|active"})',
                        "{{queue}} {{state}}",
                    ),
                ),
            ),
            Panel(
                "Job duration p50 / p95 / p99 by queue",
                "s",
                _quantiles("queue_job_duration_seconds", "queue", "{{queue}}"),
            ),
            Panel(
                "Jobs processed per second by result",
                "ops",
                (
                    Query(
                        _rate("queue_jobs_processed_total", "queue, result"), "{{queue}} {{result}}"
                    ),
                ),
            ),
            Panel(
                "Imports finished (last hour) by result",
                "short",
                (Query("sum by (result) (increase(imports_total[1h]))", "{{result}}"),),
            ),
            Panel(
                "Rows imported per second", "ops", (Query(_rate("import_rows_total"), "rows/s"),)
            ),
        ),
    )


def _host_row() -> Row:
    return Row(
        "Hosts and containers",
        (
            Panel(
                "App containers: memory used and total",
                "bytes",
                (
                    Query("max by (instance) (system_memory_used_bytes)", "used {{instance}}"),
                    Query("max by (instance) (system_memory_total_bytes)", "total {{instance}}"),
                ),
            ),
            Panel(
                "App containers: CPU usage",
                "percent",
                (Query("max by (instance) (system_cpu_usage_percent)", "{{instance}}"),),
            ),
            Panel(
                "Service processes: resident memory",
                "bytes",
                (Query("sum by (job) (process_resident_memory_bytes)", "{{job}}"),),
            ),
            Panel(
                "Service processes: CPU (cores)",
                "short",
                (
                    Query(_rate("process_cpu_seconds_total", "job"), "{{job}}"),
                    Query(
                        _rate('redis_cpu_user_seconds_total{job="redis"}', "instance")
                        + " + "
                        + _rate('redis_cpu_sys_seconds_total{job="redis"}', "instance"),
                        "redis {{instance}}",
                    ),
                ),
            ),
        ),
    )


def _alerting_row() -> Row:
    return Row(
        "Alerting",
        (
            Panel(
                "Firing alerts",
                "short",
                (Query('sum(ALERTS{alertstate="firing"}) or vector(0)', "firing"),),
            ),
            Panel(
                "Notifications sent per second by integration",
                "ops",
                (
                    Query(
                        _rate("alertmanager_notifications_total", "integration"), "{{integration}}"
                    ),
                ),
            ),
        ),
    )


def dashboard_rows(settings: StackSettings) -> tuple[Row, ...]:
    """The dashboard of a stack with these settings (Sentinel panels only in sentinel mode)."""
    return (
        _redis_row(settings),
        _app_row(),
        _postgres_row(),
        _queue_row(),
        _host_row(),
        _alerting_row(),
    )


def dashboard_queries(rows: tuple[Row, ...]) -> list[tuple[str, Query]]:
    """Every query with its panel's title, in dashboard order."""
    return [(panel.title, query) for row in rows for panel in row.panels for query in panel.queries]
