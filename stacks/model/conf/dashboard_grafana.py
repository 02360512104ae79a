"""The dashboard for Grafana: a dashboard JSON and the provisioning files that load it.

For users who run Grafana next to a stack (none ships with it): copy ``configs/<stack>/grafana/``
into Grafana's provisioning directory (``/etc/grafana/provisioning``) and the dashboard JSON to
``DASHBOARDS_DIR``. Pure functions of the dashboard model; no Grafana is needed to render them.
"""

import json
from typing import Any, Final

import yaml

from stacks.model.conf import HEADER
from stacks.model.conf.dashboard import Panel, Row

__all__ = [
    "DASHBOARDS_DIR",
    "DATASOURCE_UID",
    "render_grafana_dashboard",
    "render_grafana_dashboard_provider",
    "render_grafana_datasource",
]

DATASOURCE_UID: Final = "ha-stack-prometheus"
DASHBOARDS_DIR: Final = "/var/lib/grafana/dashboards/ha-stack"
_PANEL_WIDTH: Final = 8  # three panels per line on Grafana's 24-column grid
_PANEL_HEIGHT: Final = 8
_DATASOURCE: Final = {"type": "prometheus", "uid": DATASOURCE_UID}


def _panel(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": panel.title,
        "datasource": _DATASOURCE,
        "gridPos": {"h": _PANEL_HEIGHT, "w": _PANEL_WIDTH, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}},
        "targets": [
            {
                "refId": chr(ord("A") + index),
                "datasource": _DATASOURCE,
                "expr": query.expr,
                "legendFormat": query.legend,
            }
            for index, query in enumerate(panel.queries)
        ],
    }


def render_grafana_dashboard(stack: str, rows: tuple[Row, ...]) -> str:
    """The dashboard JSON (Grafana schema 39): one collapsible row per model row."""
    panels: list[dict[str, Any]] = []
    y = 0
    next_id = 1
    for row in rows:
        panels.append(
            {
                "id": next_id,
                "type": "row",
                "title": row.title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                "panels": [],
            }
        )
        next_id += 1
        y += 1
        for index, panel in enumerate(row.panels):
            column, line = index % 3, index // 3
            panels.append(_panel(panel, next_id, column * _PANEL_WIDTH, y + line * _PANEL_HEIGHT))
            next_id += 1
        y += -(-len(row.panels) // 3) * _PANEL_HEIGHT
    dashboard = {
        "uid": f"ha-stack-{stack}",
        "title": f"ha-stack {stack}",
        "tags": ["ha-stack"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": []},
        "annotations": {"list": []},
        "panels": panels,
    }
    return json.dumps(dashboard, indent=2) + "\n"


def render_grafana_datasource(prometheus_url: str) -> str:
    """Datasource provisioning: the stack's Prometheus, under the UID the dashboard names."""
    config = {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "ha-stack Prometheus",
                "type": "prometheus",
                "uid": DATASOURCE_UID,
                "access": "proxy",
                "url": prometheus_url,
                "isDefault": True,
                "editable": False,
            }
        ],
    }
    return HEADER + yaml.safe_dump(config, sort_keys=False, width=100)


def render_grafana_dashboard_provider() -> str:
    """Dashboard provisioning: load every JSON file under DASHBOARDS_DIR into folder ha-stack."""
    config = {
        "apiVersion": 1,
        "providers": [
            {
                "name": "ha-stack",
                "folder": "ha-stack",
                "type": "file",
                "disableDeletion": True,
                "allowUiUpdates": False,
                "options": {"path": DASHBOARDS_DIR, "foldersFromFilesStructure": False},
            }
        ],
    }
    return HEADER + yaml.safe_dump(config, sort_keys=False, width=100)
