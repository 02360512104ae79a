"""The dashboard as a Prometheus console template, served by the stack's own Prometheus.

Prometheus expands ``/etc/prometheus/consoles/<name>.html`` (``--web.console.templates``) with the
console libraries Debian's prometheus package ships (``prom.lib``, ``menu.lib``:
``--web.console.libraries``); each panel is a ``PromConsole.Graph`` that queries the range API
from the browser. Nothing but Prometheus is needed: http://<prometheus>:9090/consoles/ha-stack.html.
"""

import html
import json
import re
from typing import Final

from stacks.model.conf.dashboard import Panel, Row, Unit

__all__ = ["CONSOLE_FILE", "CONSOLE_LIBRARIES", "CONSOLE_TEMPLATES", "render_console"]

CONSOLE_TEMPLATES: Final = "/etc/prometheus/consoles"
CONSOLE_FILE: Final = "ha-stack.html"
# Where Debian's prometheus package puts its console libraries (its /etc/prometheus/
# console_libraries holds only a README); the prometheus image keeps them though slim bases drop
# /usr/share/doc.
CONSOLE_LIBRARIES: Final = "/usr/share/doc/prometheus/examples/console_libraries"

# Unit -> (PromConsole number formatter, suffix of the values).
_FORMAT: Final[dict[Unit, tuple[str, str]]] = {
    "short": ("humanizeNoSmallPrefix", ""),
    "percent": ("humanizeNoSmallPrefix", "%"),
    "percentunit": ("humanizeNoSmallPrefix", ""),
    "bytes": ("humanize1024", "B"),
    "s": ("humanize", "s"),
    "reqps": ("humanizeNoSmallPrefix", "/s"),
    "ops": ("humanizeNoSmallPrefix", "/s"),
}
_GRAFANA_LABEL = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def _console_name(legend: str) -> str:
    """Grafana's ``{{label}}`` as the console library's ``[[ label ]]``."""
    return _GRAFANA_LABEL.sub(r"[[ \1 ]]", legend)


def _js(value: object) -> str:
    """A JavaScript literal that cannot end the <script> element or open a template action."""
    text = json.dumps(value).replace("</", "<\\/")
    # Go templates start an action at "{{" even inside a script: escape the braces for JS.
    return text.replace("{{", "{\\u007b").replace("}}", "}\\u007d")


def _graph(panel: Panel, node_id: str) -> str:
    formatter, suffix = _FORMAT[panel.unit]
    params = (
        f'node: document.querySelector("#{node_id}"), '
        f"expr: {_js([q.expr for q in panel.queries])}, "
        f"name: {_js([_console_name(q.legend) for q in panel.queries])}, "
        f"yAxisFormatter: PromConsole.NumberFormatter.{formatter}, "
        f"yHoverFormatter: PromConsole.NumberFormatter.{formatter}, "
        f"yUnits: {_js(suffix)}, yTitle: {_js(suffix)}, height: 160, duration: 30 * 60"
    )
    return (
        f'<div class="col-lg-4"><h4>{html.escape(panel.title)}</h4>'
        f'<div id="{node_id}"></div>\n'
        f"<script>new PromConsole.Graph({{{params}}});</script></div>"
    )


def render_console(stack: str, rows: tuple[Row, ...]) -> str:
    """The console template (Go template text) of the stack's dashboard."""
    parts = [
        "{{/* Rendered by scripts/render from the stack model; edit Pulumi.<stack>.yaml. */}}",
        '{{ template "head" . }}',
        '{{ template "prom_content_head" . }}',
        f"<h1>ha-stack {html.escape(stack)}</h1>",
    ]
    for row_index, row in enumerate(rows):
        parts.append(f"<h2>{html.escape(row.title)}</h2>")
        parts.append('<div class="row">')
        parts += [
            _graph(panel, f"panel-{row_index}-{index}") for index, panel in enumerate(row.panels)
        ]
        parts.append("</div>")
    parts += ['{{ template "prom_content_tail" . }}', '{{ template "tail" }}', ""]
    return "\n".join(parts)
