"""testinfra suite of the deployed prod stack: scripts/up prod; pytest tests/infra/test_prod.py."""

import httpx
import pytest

from tests.infra.checks import StackChecks
from tests.infra.deployed import DeployedStack
from tests.infra.monitoring import MonitoringChecks

pytestmark = pytest.mark.infra


class TestProdStack(StackChecks, MonitoringChecks):
    STACK = "prod"

    def test_metrics_refuse_a_request_without_the_token(self, deployed: DeployedStack) -> None:
        token = deployed.secrets["METRICS_TOKEN"]
        for service in deployed.services("app", command="web"):
            url = f"http://127.0.0.1:{deployed.published_port(service, 8000)}/metrics"
            assert httpx.get(url, timeout=10).status_code in (401, 403)
            wrong = httpx.get(url, headers={"Authorization": "Bearer not-the-token"}, timeout=10)
            assert wrong.status_code in (401, 403)
            right = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert right.status_code == 200
            assert "http_request_duration_seconds" in right.text

    def test_only_the_app_publishes_a_port(self, deployed: DeployedStack) -> None:
        publishing = set()
        for spec in deployed.topology.containers:
            ports = deployed.inspect(spec.service)["NetworkSettings"]["Ports"] or {}
            if any(bindings for bindings in ports.values()):
                publishing.add(spec.service)
        assert publishing == set(deployed.services("app", command="web"))
