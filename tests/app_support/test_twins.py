"""Every sync/async twin offers the same public names with the same parameters.

The twins are kept in step by hand; this test is what notices when one grows a method, a keyword
or a default the other lacks. An async twin's I/O methods are coroutines (or async context
managers) where the sync twin's are plain, and the methods that only read memory stay plain in
both.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import pytest

from app_support.postgres import (
    AsyncDatabasePool,
    DatabasePool,
    async_database_health,
    database_health,
    open_async_pool,
    open_pool,
)
from app_support.redis import aclients, clients, failover, health, queue, ratelimit
from app_support.redis.factory import create_async_client, create_client

# redis-py names the async close ``aclose``; the client twins follow their base classes.
ACLOSE = {"close": "aclose"}
# (sync, async, names that are plain functions in both twins, names the async twin spells apart)
CLASSES: list[tuple[type, type, frozenset[str], dict[str, str]]] = [
    (DatabasePool, AsyncDatabasePool, frozenset({"usage", "get_stats", "pop_stats"}), {}),
    (queue.SyncJobQueue, queue.JobQueue, frozenset(), {}),
    (ratelimit.SyncRateLimiter, ratelimit.RateLimiter, frozenset(), {}),
    (clients.FailoverRedis, aclients.AsyncFailoverRedis, frozenset({"configure", "pipeline"}),
     ACLOSE),
    (clients.FailoverCluster, aclients.AsyncFailoverCluster,
     frozenset({"configure", "pipeline"}), ACLOSE),
]  # fmt: skip
FUNCTIONS: list[tuple[Callable[..., Any], Callable[..., Any]]] = [
    (open_pool, open_async_pool),
    (database_health, async_database_health),
    (health.redis_health_sync, health.redis_health),
    (create_client, create_async_client),
    (failover.run_sync, failover.run_async),
]
_AWAITABLE = re.compile(r"Awaitable\[([^\[\]]*)\]")
_FLAVOUR = re.compile(r"Async|Sync")


def _flavourless(annotation: str) -> str:
    """The annotation with its sync/async flavour taken out (AsyncRedisClient ~ SyncRedisClient)."""
    return _FLAVOUR.sub("", _AWAITABLE.sub(r"\1", annotation))


def _own_members(cls: type) -> dict[str, Any]:
    """Public attributes defined by app_support classes in ``cls``'s MRO (not redis-py's)."""
    members: dict[str, Any] = {}
    for klass in cls.__mro__:
        if klass.__module__.startswith("app_support"):
            for name, value in vars(klass).items():
                if not name.startswith("_"):
                    members.setdefault(name, value)
    return members


def _base_method(cls: type, name: str) -> Any:
    """``name`` as the first class outside app_support in ``cls``'s MRO defines it, or None."""
    for klass in cls.__mro__:
        if not klass.__module__.startswith("app_support") and name in vars(klass):
            return vars(klass)[name]
    return None


def _parameters(func: Callable[..., Any]) -> list[tuple[str, object, object, str]]:
    """(name, kind, default, annotation without its async flavour) of every parameter."""
    signature = inspect.signature(func)
    return [
        (p.name, p.kind, p.default, _flavourless(str(p.annotation)))
        for p in signature.parameters.values()
    ]


def _same_parameters(
    one: Callable[..., Any], other: Callable[..., Any], *, annotations: bool = True
) -> bool:
    """Same names, kinds and defaults; same annotations, where an ``Any`` (an untyped parameter,
    as redis-py's sync ``pipeline(shard_hint)``) matches whatever its twin says."""
    mine, theirs = _parameters(one), _parameters(other)
    return len(mine) == len(theirs) and all(
        a[:3] == b[:3] and (not annotations or a[3] == b[3] or "Any" in (a[3], b[3]))
        for a, b in zip(mine, theirs, strict=True)
    )


def _is_async(func: Any) -> bool:
    wrapped = getattr(func, "__wrapped__", func)  # asynccontextmanager keeps the generator here
    return inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(wrapped)


@pytest.mark.parametrize(
    ("sync", "async_", "plain", "renamed"), CLASSES, ids=lambda c: getattr(c, "__name__", "")
)
def test_classes_have_the_same_public_methods_and_parameters(
    sync: type, async_: type, plain: frozenset[str], renamed: dict[str, str]
) -> None:
    mine, theirs = _own_members(sync), _own_members(async_)
    assert sorted(renamed.get(name, name) for name in mine) == sorted(theirs)
    for name in mine:
        twin = renamed.get(name, name)
        one, other = mine[name], theirs[twin]
        if not callable(one):  # class attributes (hook, policy) only have to exist in both
            continue
        base_one, base_other = _base_method(sync, name), _base_method(async_, twin)
        if base_one is not None and base_other is not None:
            # An override of redis-py keeps redis-py's parameters (partly annotated there), which
            # differ between its sync and async clients (close() / aclose(close_connection_pool)).
            assert _same_parameters(one, base_one, annotations=False), name
            assert _same_parameters(other, base_other, annotations=False), twin
        else:
            assert _same_parameters(one, other), name
        assert not _is_async(one), name
        assert _is_async(other) is (name not in plain), name


@pytest.mark.parametrize(("sync", "async_"), FUNCTIONS, ids=lambda f: getattr(f, "__name__", ""))
def test_functions_take_the_same_parameters(
    sync: Callable[..., Any], async_: Callable[..., Any]
) -> None:
    assert _same_parameters(sync, async_)
    assert not _is_async(sync)
    assert _is_async(async_) is (async_ is not create_async_client)  # it builds, no I/O


def test_the_annotation_rule_is_not_too_lenient() -> None:
    def one(x: int) -> None: ...
    def two(x: str) -> None: ...

    assert not _same_parameters(one, two)
