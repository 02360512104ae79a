"""testinfra suite of the deployed dev stack: scripts/up dev; pytest tests/infra/test_dev.py."""

import httpx
import psycopg
import pytest

from tests.infra.checks import StackChecks
from tests.infra.deployed import DeployedStack
from tests.infra.monitoring import MonitoringChecks

pytestmark = pytest.mark.infra


class TestDevStack(StackChecks, MonitoringChecks):
    STACK = "dev"

    def test_metrics_are_open_in_development(self, deployed: DeployedStack) -> None:
        for service in deployed.services("app", command="web"):
            port = deployed.published_port(service, 8000)
            reply = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
            assert reply.status_code == 200
            assert "http_request_duration_seconds" in reply.text

    def test_postgres_published_port_takes_the_stack_password(
        self, deployed: DeployedStack
    ) -> None:
        port = deployed.published_port("postgres", 5432)
        settings = deployed.settings.postgres
        with psycopg.connect(
            host="127.0.0.1",
            port=port,
            user=settings.user,
            dbname=settings.database,
            password=deployed.secrets["POSTGRES_PASSWORD"],
            connect_timeout=10,
        ) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (settings.user,)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(
                host="127.0.0.1", port=port, user=settings.user, dbname=settings.database,
                password="wrong-password", connect_timeout=10,
            )  # fmt: skip

    def test_prometheus_api_on_the_published_port_lists_the_rule_groups(
        self, deployed: DeployedStack
    ) -> None:
        port = deployed.published_port("prometheus", 9090)
        reply = httpx.get(f"http://127.0.0.1:{port}/api/v1/rules", timeout=10)
        reply.raise_for_status()
        groups = {group["name"] for group in reply.json()["data"]["groups"]}
        rendered = {group["name"] for group in deployed.prometheus_file("alerts.yml")["groups"]}
        assert groups == rendered
