"""Fixtures of the testinfra suites: the deployed stack named by the test class's ``STACK``.

Every test fails (never skips) when the stack is not deployed; deploy it with scripts/up <stack>.
"""

import pytest

from stacks.model import ContainerSpec, stack_topology
from tests.infra.deployed import DeployedStack


def _stack_of(cls: type | None) -> str:
    stack = getattr(cls, "STACK", None)
    assert isinstance(stack, str), "infra test classes set STACK = 'dev' | 'prod'"
    return stack


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``container`` runs a test once per container of the stack's model, named by service."""
    if "container" in metafunc.fixturenames:
        stack = _stack_of(metafunc.cls)
        specs: list[ContainerSpec] = list(stack_topology(stack).containers)
        metafunc.parametrize("container", specs, ids=[spec.service for spec in specs])


@pytest.fixture(scope="class")
def deployed(request: pytest.FixtureRequest) -> DeployedStack:
    """The deployed stack; fails the test when any container of its model is not running."""
    stack = DeployedStack(_stack_of(request.cls))
    stack.assert_deployed()
    return stack
