"""Fixtures of the dev-cluster drills (Redis Cluster mode): the deployed dev-cluster stack.

Run: scripts/up dev-cluster; pytest tests/drills/cluster -m cluster_drill. Their own marker and
conftest: tests/drills/conftest.py and ``-m drill`` are the dev stack's. The drills fail (never
skip) when the stack is not deployed, and each leaves the cluster converged for the next.
"""

from collections.abc import Iterator

import pytest

from tests.drills.cluster.cluster_ops import wait_cluster_converged
from tests.infra.deployed import REPO_ROOT, DeployedStack

STACK = "dev-cluster"
FIGURES_FILE = REPO_ROOT / "build" / "drills" / "figures.txt"


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


@pytest.fixture(scope="session")
def cluster_figures() -> Iterator[dict[str, str]]:
    """Measured figures, appended to build/drills/figures.txt (scripts/test-deploy shows it)."""
    measured: dict[str, str] = {}
    yield measured
    FIGURES_FILE.parent.mkdir(parents=True, exist_ok=True)
    with FIGURES_FILE.open("a") as out:
        for name, value in measured.items():
            out.write(f"{name}: {value}\n")
    print("\n".join(["", "cluster drill figures:", *(f"  {k}: {v}" for k, v in measured.items())]))
