"""Shared fixtures for the stack tests: the mocked program per stack (run once per session)."""

from collections.abc import Callable

import pytest

from tests.stacks.mocked_program import FAKE_SECRETS, Declared, run_program

_cache: dict[tuple[str, str | None, bool], Declared] = {}


def declared_program(stack: str, mode: str | None = None, *, secrets: bool = True) -> Declared:
    """The mocked program of ``stack`` (optionally in another Redis mode), cached per session."""
    key = (stack, mode, secrets)
    if key not in _cache:
        overrides = {"ha-stack:redisMode": mode} if mode else None
        _cache[key] = run_program(stack, overrides, FAKE_SECRETS if secrets else None)
    return _cache[key]


@pytest.fixture
def program() -> Callable[..., Declared]:
    return declared_program
