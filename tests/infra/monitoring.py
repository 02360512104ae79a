"""Checks of a deployed stack's monitoring: every dashboard panel's PromQL returns series, the
console dashboard is served, Alertmanager and the alert-receiver are up and a notification goes
through them. Mixed into the suites' classes (test_dev.py, test_prod.py) next to StackChecks.

Reads go through the containers (promtool in Prometheus, python3 in the alert-receiver), so they
work for prod, which publishes neither Prometheus nor Alertmanager.
"""

import json
import time
from typing import Any

from stacks.model.conf.alertmanager import ALERTMANAGER_PORT, RECEIVER_PORT
from stacks.model.conf.dashboard import dashboard_queries, dashboard_rows
from stacks.model.conf.dashboard_console import CONSOLE_FILE
from tests.infra.deployed import DeployedStack, wait_for

__all__ = ["MonitoringChecks", "receiver_notifications"]

# Runs in the alert-receiver container (python3): GET argv[1], print the status then the body.
_GET = """\
import sys, urllib.error, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
        status, body = r.status, r.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
print(status)
print(body.decode())
"""


def _get_from_receiver(stack: DeployedStack, url: str) -> tuple[int, str]:
    out = stack.sh("alert-receiver", "python3 -c %s %s", _GET, url)
    status, _, body = out.partition("\n")
    return int(status), body


def receiver_notifications(stack: DeployedStack) -> list[dict[str, Any]]:
    """What the stack's alert-receiver recorded, oldest first (``received``, ``payload``)."""
    status, body = _get_from_receiver(stack, f"http://127.0.0.1:{RECEIVER_PORT}/notifications")
    assert status == 200, body
    notifications: list[dict[str, Any]] = json.loads(body)
    return notifications


def notified(
    stack: DeployedStack, alertname: str, status: str, since: float
) -> dict[str, Any] | None:
    """The first notification received after ``since`` (unix time) whose group carries
    ``alertname`` with ``status`` (``firing`` | ``resolved``), or None."""
    for entry in receiver_notifications(stack):
        payload = entry["payload"]
        if entry["received"] < since or payload.get("status") != status:
            continue
        names = {alert.get("labels", {}).get("alertname") for alert in payload.get("alerts", [])}
        if alertname in names:
            return entry
    return None


class MonitoringChecks:
    """The dashboard, Alertmanager and the alert-receiver of the stack the subclass names."""

    def test_every_dashboard_panel_query_returns_series(self, deployed: DeployedStack) -> None:
        # Requests on every web replica, so the request-rate and latency panels have series.
        for _ in range(5):
            for service in deployed.services("app", command="web"):
                deployed.app_get(service, "/api/imports")
                deployed.app_get(service, "/api/health/ready")
        queries = dashboard_queries(dashboard_rows(deployed.settings))
        pending = {query.expr: title for title, query in queries}

        def all_answered() -> bool | None:
            for expr in list(pending):
                if deployed.promql(expr):
                    del pending[expr]
            return True if not pending else None

        # Rates need two scrapes of the traffic's counters: a few scrape intervals at most.
        try:
            wait_for("every panel query returning series", all_answered, timeout=120, interval=5)
        except AssertionError:
            empty = "\n".join(f"  {title}: {expr}" for expr, title in pending.items())
            raise AssertionError(f"panel queries without series:\n{empty}") from None

    def test_prometheus_serves_the_console_dashboard(self, deployed: DeployedStack) -> None:
        url = f"http://{deployed.spec('prometheus').ip}:9090/consoles/{CONSOLE_FILE}"
        status, body = _get_from_receiver(deployed, url)
        assert status == 200, body[:2000]
        panels = sum(len(row.panels) for row in dashboard_rows(deployed.settings))
        assert body.count("new PromConsole.Graph(") == panels
        assert "prom_console.js" in body  # the console libraries were found and expanded

    def test_prometheus_sends_to_the_alertmanager(self, deployed: DeployedStack) -> None:
        address = f"{deployed.spec('alertmanager').ip}:{ALERTMANAGER_PORT}"
        found = deployed.promql("prometheus_notifications_alertmanagers_discovered")
        assert [float(s["value"][1]) for s in found] == [1.0]
        assert deployed.promql(f'up{{job="alertmanager",instance="{address}"}} == 1')
        errors = deployed.promql("sum(prometheus_notifications_errors_total)")
        assert [float(s["value"][1]) for s in errors] == [0.0]

    def test_alertmanager_and_receiver_are_healthy(self, deployed: DeployedStack) -> None:
        for service in ("alertmanager", "alert-receiver"):
            health = deployed.inspect(service)["State"]["Health"]["Status"]
            assert health == "healthy", f"{service}: {health}"
        status, body = _get_from_receiver(deployed, f"http://127.0.0.1:{RECEIVER_PORT}/healthz")
        assert (status, body.strip()) == (200, "ok")

    def test_an_alert_goes_through_alertmanager_to_the_receiver(
        self, deployed: DeployedStack
    ) -> None:
        """A probe alert posted to Alertmanager (critical: routed without group_wait) reaches the
        receiver: the same path Prometheus's alerts take from Alertmanager on."""
        since = time.time() - 1
        name = f"HaStackProbe{int(since)}"
        deployed.sh(
            "alertmanager",
            "amtool --alertmanager.url=http://127.0.0.1:%s alert add %s severity=critical "
            "instance=infra-suite --annotation=summary=%s",
            str(ALERTMANAGER_PORT),
            f"alertname={name}",
            "infra suite probe",
        )
        entry = wait_for(
            f"{name} notified to the alert-receiver",
            lambda: notified(deployed, name, "firing", since),
            timeout=60,
            interval=1,
        )
        assert entry["payload"]["receiver"] == "webhook"
