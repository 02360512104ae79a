"""The database and Redis hooks, business counters, build info and process metrics."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from app_support.metrics import (
    ImportMetrics,
    database_query_observer,
    redis_command_observer,
    register_build_info,
    register_process_metrics,
)
from tests.app_support.metrics.scrape import label_sets, value


def test_database_hook_records_duration_and_errors_by_operation_and_table() -> None:
    registry = CollectorRegistry()
    on_query = database_query_observer(registry=registry)
    on_query("select", "imports", 0.004, False)
    on_query("select", "imports", 0.006, False)
    on_query("insert", "rows", 0.02, True)

    select = {"operation": "select", "table": "imports"}
    assert value(registry, "database_query_duration_seconds_count", **select) == 2
    assert value(registry, "database_query_duration_seconds_sum", **select) == pytest.approx(0.01)
    assert value(registry, "database_query_duration_seconds_bucket", le="0.005", **select) == 1
    # The error series exists at 0 from the first query, so error ratios work before any error.
    assert value(registry, "database_query_errors_total", **select) == 0
    insert = {"operation": "insert", "table": "rows"}
    assert value(registry, "database_query_duration_seconds_count", **insert) == 1
    assert value(registry, "database_query_errors_total", **insert) == 1


def test_redis_hook_records_duration_and_errors_by_command() -> None:
    registry = CollectorRegistry()
    on_command = redis_command_observer(registry=registry)
    on_command("GET", 0.0003, False)
    on_command("SET", 0.0004, True)
    assert value(registry, "redis_command_duration_seconds_count", command="GET") == 1
    assert value(registry, "redis_command_duration_seconds_count", command="SET") == 1
    assert value(registry, "redis_command_errors_total", command="SET") == 1
    assert value(registry, "redis_command_errors_total", command="GET") == 0
    assert label_sets(registry, "redis_command_errors_total") == {
        (("command", "GET"),),
        (("command", "SET"),),
    }


def test_import_counters_start_at_zero_and_count_results_and_rows() -> None:
    registry = CollectorRegistry()
    imports = ImportMetrics(registry=registry)
    assert value(registry, "imports_total", result="failure") == 0
    imports.record(success=True, rows=120)
    imports.record(success=True, rows=30)
    imports.record(success=False)
    assert value(registry, "imports_total", result="success") == 2
    assert value(registry, "imports_total", result="failure") == 1
    assert value(registry, "import_rows_total") == 150
    with pytest.raises(ValueError, match="rows"):
        imports.record(success=True, rows=-1)


def test_build_info_and_process_metrics() -> None:
    registry = CollectorRegistry()
    register_build_info("1.4.2", registry=registry)
    register_process_metrics(registry=registry)
    assert value(registry, "build_info", version="1.4.2") == 1
    memory = value(registry, "process_resident_memory_bytes")
    assert memory is not None
    assert memory > 1_000_000
    cpu = value(registry, "process_cpu_seconds_total")
    assert cpu is not None
    assert cpu > 0
    with pytest.raises(ValueError, match="version"):
        register_build_info("", registry=CollectorRegistry())
