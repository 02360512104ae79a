"""Fixtures of the Swarm host-loss drill: the prod-swarm stack on the scripts/swarm test cluster.

The drill fails (never skips) when the cluster or the stack is not up: scripts/test-swarm makes
both. Its tests carry no ``drill`` marker, so ``pytest tests/drills -m drill`` (the dev stack's
drills) leaves them out; run them with ``pytest tests/drills/swarm``. Figures go to the parent
conftest's ``figures`` fixture (build/drills/figures.txt).
"""

import pytest

from tests.drills.swarm.host_ops import wait_stack_converged
from tests.infra.swarm_cluster import SwarmCluster
from tests.infra.swarm_stack import SwarmStack


@pytest.fixture(scope="session")
def swarm_stack() -> SwarmStack:
    """The deployed stack, converged on all three nodes (bounded wait)."""
    stack = SwarmStack(SwarmCluster())
    wait_stack_converged(stack, timeout=300)
    return stack
