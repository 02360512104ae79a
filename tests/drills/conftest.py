"""Fixtures of the fault drills: the deployed dev stack and signed-in users of its app.

The drills fail (never skip) when the dev stack is not deployed: deploy it with scripts/up dev.
Each drill leaves the stack converged (every container healthy, Sentinels agreeing) for the next.
"""

from collections.abc import Iterator

import pytest

from tests.drills.app_client import AppClient
from tests.drills.stack_ops import add_user, wait_converged
from tests.infra.deployed import REPO_ROOT, DeployedStack

STACK = "dev"
FIGURES_FILE = REPO_ROOT / "build" / "drills" / "figures.txt"


@pytest.fixture(scope="session")
def dev() -> DeployedStack:
    stack = DeployedStack(STACK)
    stack.assert_deployed()
    wait_converged(stack)
    return stack


@pytest.fixture
def clients(dev: DeployedStack) -> Iterator[list[AppClient]]:
    """One signed-in client per web replica (same user), each on its replica's published port."""
    web = dev.services("app", command="web")
    username, password = add_user(dev, web[0])
    made = [AppClient(dev.published_port(s, 8000), username, password) for s in web]
    for client in made:
        client.sign_in()
    yield made
    for client in made:
        client.close()


@pytest.fixture(scope="session")
def figures() -> Iterator[dict[str, str]]:
    """Measured figures, printed at the end of the session and appended to build/drills/figures.txt
    (scripts/test-deploy shows that file)."""
    measured: dict[str, str] = {}
    yield measured
    FIGURES_FILE.parent.mkdir(parents=True, exist_ok=True)
    with FIGURES_FILE.open("a") as out:
        for name, value in measured.items():
            out.write(f"{name}: {value}\n")
    print("\n".join(["", "drill figures:", *(f"  {k}: {v}" for k, v in measured.items())]))
