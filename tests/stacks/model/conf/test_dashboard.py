"""The dashboard model and its two renderings (Grafana JSON + provisioning, the console template),
as pure functions; promtool parses every panel query."""

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from stacks.model import stack_settings
from stacks.model.conf.dashboard import Panel, Query, Row, dashboard_queries, dashboard_rows
from stacks.model.conf.dashboard_console import render_console
from stacks.model.conf.dashboard_grafana import (
    DASHBOARDS_DIR,
    DATASOURCE_UID,
    render_grafana_dashboard,
    render_grafana_dashboard_provider,
    render_grafana_datasource,
)

PROMTOOL = "/usr/bin/promtool"
MODES = ["standalone", "sentinel", "cluster"]


def _rows(mode: str = "sentinel", stack: str = "dev") -> tuple[Row, ...]:
    return dashboard_rows(stack_settings(stack, {"ha-stack:redisMode": mode}))


def test_the_rows_are_the_issue_list() -> None:
    rows = _rows()
    assert [row.title for row in rows] == [
        "Redis", "App", "PostgreSQL and the pools", "Queues and imports",
        "Hosts and containers", "Alerting",
    ]  # fmt: skip
    titles = " | ".join(panel.title for row in rows for panel in row.panels)
    for topic in (
        "Role per node", "Failovers", "replication lag", "quorum", "Memory used",
        "Commands per second", "Command latency", "Requests per second by route", "Error rate",
        "p50 / p95 / p99 by route", "in progress", "used, available", "waiting",
        "Query latency p95 by operation and table", "waiting and active", "Job duration",
        "Imports finished", "Rows imported", "memory", "CPU",
    ):  # fmt: skip
        assert topic in titles, topic


def test_sentinel_panels_only_in_sentinel_mode() -> None:
    def has_quorum(mode: str) -> bool:
        return any("quorum" in title for title, _ in dashboard_queries(_rows(mode)))

    assert has_quorum("sentinel")
    assert not has_quorum("standalone")
    assert not has_quorum("cluster")


def test_panel_titles_are_unique_and_every_panel_has_queries() -> None:
    panels = [panel for row in _rows() for panel in row.panels]
    assert len({panel.title for panel in panels}) == len(panels)
    assert all(panel.queries for panel in panels)


@pytest.mark.parametrize("mode", MODES)
def test_promtool_parses_every_panel_query(mode: str, tmp_path: Path) -> None:
    # Each query as a recording rule: `promtool check rules` parses its PromQL, no server needed.
    rules = [
        {"record": f"ha_stack:panel_{index}", "expr": query.expr}
        for index, (_, query) in enumerate(dashboard_queries(_rows(mode)))
    ]
    path = tmp_path / "panels.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    checked = subprocess.run(
        [PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_grafana_dashboard_holds_every_query_on_a_grid_without_overlap() -> None:
    rows = _rows()
    dashboard = json.loads(render_grafana_dashboard("dev", rows))
    assert dashboard["uid"] == "ha-stack-dev"
    panels = dashboard["panels"]
    assert [p["title"] for p in panels if p["type"] == "row"] == [row.title for row in rows]
    graphs = [p for p in panels if p["type"] == "timeseries"]
    assert [(t["expr"], t["legendFormat"]) for p in graphs for t in p["targets"]] == [
        (q.expr, q.legend) for _, q in dashboard_queries(rows)
    ]
    assert len({p["id"] for p in panels}) == len(panels)
    assert all(t["datasource"]["uid"] == DATASOURCE_UID for p in graphs for t in p["targets"])
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
        area = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & area, panel["title"]
        cells |= area


def test_grafana_provisioning_points_at_the_stack_prometheus_and_the_dashboards() -> None:
    datasource = yaml.safe_load(render_grafana_datasource("http://172.28.10.50:9090"))
    (source,) = datasource["datasources"]
    assert (source["uid"], source["type"], source["url"]) == (
        DATASOURCE_UID, "prometheus", "http://172.28.10.50:9090",
    )  # fmt: skip
    provider = yaml.safe_load(render_grafana_dashboard_provider())
    (entry,) = provider["providers"]
    assert entry["type"] == "file"
    assert entry["options"]["path"] == DASHBOARDS_DIR


def test_console_template_graphs_every_query_with_console_legends() -> None:
    rows = _rows()
    page = render_console("dev", rows)
    assert page.startswith("{{/*")
    assert '{{ template "head" . }}' in page
    assert page.rstrip().endswith('{{ template "tail" }}')
    scripts = re.findall(r"new PromConsole\.Graph\(\{(.*?)\}\);</script>", page)
    assert len(scripts) == sum(len(row.panels) for row in rows)
    exprs = []
    for script in scripts:
        found = re.search(r"expr: (\[.*?\]), name", script)
        assert found
        exprs += json.loads(found[1])
    assert exprs == [q.expr for _, q in dashboard_queries(rows)]
    assert '"[[ instance ]]"' in page
    assert "{{instance}}" not in page
    # Every "{{" left opens a template action of the console libraries, never a query or legend.
    actions = re.findall(r"\{\{(.*?)\}\}", page)
    assert all(a.strip().startswith(("template", "/*")) for a in actions), actions


def test_console_escapes_what_would_end_a_script_or_open_a_template_action() -> None:
    row = Row("r", (Panel("t", "short", (Query('x{a="{{b}}"} </script>', "{{instance}}"),)),))
    page = render_console("dev", (row,))
    assert page.count("</script>") == 1
    assert "<\\/script>" in page
    assert "{{b}}" not in page
    assert "[[ instance ]]" in page
