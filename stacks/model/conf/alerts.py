"""Prometheus alert rules for the stack (promtool-checked in tests)."""

from typing import Any

import yaml

from stacks.model.conf import HEADER
from stacks.model.settings import StackSettings

__all__ = ["render_alert_rules"]


def _rule(name: str, expr: str, for_: str, severity: str, summary: str) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": name, "expr": expr}
    if for_:
        rule["for"] = for_
    rule["labels"] = {"severity": severity}
    rule["annotations"] = {"summary": summary}
    return rule


def _redis_rules(settings: StackSettings) -> list[dict[str, Any]]:
    master = 'redis_instance_info{job="redis",role="master"}'
    rules = [
        # A node last seen as master is unreachable; stays firing until it is back (as a replica).
        # A scrape of a killed node can also fail outright (the exporter's connect outlasts the
        # scrape timeout): then redis_up is absent and up is 0, which must not resolve the alert.
        _rule(
            "RedisMasterDown",
            f'(redis_up{{job="redis"}} == 0 or up{{job="redis"}} == 0) and on (instance) '
            f"last_over_time({master}[10m])",
            # Two evaluations on dev (one more on prod): one scrape timing out on a loaded host
            # is not a master down.
            "10s",
            "critical",
            "Redis master {{ $labels.instance }} is down",
        ),
        # More nodes held the master role over 10 minutes than hold it now: a failover happened.
        _rule(
            "RedisMasterChanged",
            f"count(count by (instance) (count_over_time({master}[10m]))) > count({master})",
            "",
            "warning",
            "The Redis master changed in the last 10 minutes",
        ),
        _rule(
            "RedisReplicaLag",
            'redis_master_link_up{job="redis"} == 0 or '
            'max by (instance) (redis_connected_slave_lag_seconds{job="redis"}) > 10',
            "1m",
            "warning",
            "Redis replication from {{ $labels.instance }} lags or is broken",
        ),
    ]
    if settings.redis.mode == "sentinel":
        quorum = settings.redis.quorum
        rules.append(
            _rule(
                "RedisSentinelNoQuorum",
                f'(count(redis_up{{job="sentinel"}} == 1) or vector(0)) < {quorum} or '
                f'min(redis_sentinel_master_ok_sentinels{{job="sentinel"}}) < {quorum}',
                "30s",
                "critical",
                f"Fewer than {quorum} Sentinels agree: no failover possible",
            )
        )
    if settings.redis.mode == "cluster":
        rules.append(
            _rule(
                "RedisClusterDown",
                'redis_cluster_state{job="redis"} == 0',
                "30s",
                "critical",
                "Redis cluster state is fail on {{ $labels.instance }}",
            )
        )
    return rules


def _backup_rules(settings: StackSettings) -> list[dict[str, Any]]:
    """The newest PostgreSQL base backup is too old, or the backup container cannot be scraped
    (images/postgres/postgres_backup.py exports the metrics)."""
    max_age = settings.backup.max_age_s
    return [
        _rule(
            "PostgresBackupTooOld",
            f'time() - postgres_backup_last_success_timestamp_seconds{{job="postgres-backup"}}'
            f" > {max_age} or absent(postgres_backup_last_success_timestamp_seconds"
            f'{{job="postgres-backup"}})',
            "10m",
            "critical",
            f"No PostgreSQL base backup completed in the last {max_age} s"
            " (scripts/backup takes one now)",
        ),
    ]


def _postgres_rules() -> list[dict[str, Any]]:
    return [
        _rule(
            "PostgresDown",
            'pg_up{job="postgres"} == 0 or up{job="postgres"} == 0',
            "30s",
            "critical",
            "PostgreSQL is down",
        ),
        _rule(
            "PostgresConnectionsNearMax",
            'sum(pg_stat_activity_count{job="postgres"}) > 0.8 * '
            'max(pg_settings_max_connections{job="postgres"})',
            "2m",
            "warning",
            "PostgreSQL connections above 80% of max_connections",
        ),
    ]


def _app_rules() -> list[dict[str, Any]]:
    requests = 'rate(http_request_duration_seconds_count{job="app"}[5m])'
    errors = 'rate(http_request_duration_seconds_count{job="app",status_code=~"5.."}[5m])'
    buckets = 'rate(http_request_duration_seconds_bucket{job="app"}[5m])'
    return [
        _rule(
            "AppDown",
            'up{job=~"app|worker"} == 0',
            "30s",
            "critical",
            "{{ $labels.service }} is down",
        ),
        _rule(
            "AppHighErrorRate",
            f"sum by (instance) ({errors}) / sum by (instance) ({requests}) > 0.05",
            "5m",
            "warning",
            "More than 5% of requests fail on {{ $labels.instance }}",
        ),
        _rule(
            "AppHighLatency",
            f"histogram_quantile(0.95, sum by (instance, le) ({buckets})) > 1",
            "5m",
            "warning",
            "p95 latency above 1 s on {{ $labels.instance }}",
        ),
    ]


def render_alert_rules(settings: StackSettings) -> str:
    groups = [
        {"name": "redis", "rules": _redis_rules(settings)},
        {"name": "postgres", "rules": _postgres_rules() + _backup_rules(settings)},
        {"name": "app", "rules": _app_rules()},
    ]
    return HEADER + yaml.safe_dump({"groups": groups}, sort_keys=False, width=100)
