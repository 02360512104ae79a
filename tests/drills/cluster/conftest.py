"""Fixtures of the dev-cluster drills (Redis Cluster mode): the deployed dev-cluster stack.

Run: scripts/up dev-cluster; pytest tests/drills/cluster -m cluster_drill. Their own marker and
conftest: tests/drills/conftest.py and ``-m drill`` are the dev stack's. The drills fail (never
skip) when the stack is not deployed, and each leaves the cluster converged for the next.
"""

import pytest

from tests.drills.cluster.cluster_ops import wait_cluster_converged
from tests.infra.deployed import DeployedStack

STACK = "dev-cluster"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "cluster_drill: fault drills against the deployed dev-cluster stack"
    )


@pytest.fixture(scope="session")
def cluster() -> DeployedStack:
    stack = DeployedStack(STACK)
    stack.assert_deployed()
    wait_cluster_converged(stack)
    return stack
